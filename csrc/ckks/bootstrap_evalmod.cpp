#include "ckks/bootstrap_evalmod.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "ckks/encryption.h"
#include "ckks/evaluator.h"
#include "ring/rns_ops.h"
#include "util/errors.h"

namespace securinfer::ckks {
namespace {

std::size_t ceil_log2(std::size_t v) {
  std::size_t b = 0;
  while ((std::size_t(1) << b) < v) ++b;
  return b;
}

// Baby steps T_1..T_{m-1} of size m (a power of two near sqrt(degree + 1)).
std::size_t baby_size(std::size_t degree) {
  const std::size_t lg = ceil_log2(degree + 1);
  return std::size_t(1) << std::max<std::size_t>(1, (lg + 1) / 2);
}

class ChebyshevEvaluator {
 public:
  ChebyshevEvaluator(const KeySet& keys, const Ciphertext& x, std::size_t degree) : keys_(keys) {
    m_ = baby_size(degree);
    basis_[1] = x;
    for (std::size_t k = 2; k <= m_; ++k) basis_[k] = chebyshev(k);
    for (std::size_t g = 2 * m_; g <= degree; g *= 2) basis_[g] = chebyshev(g);
  }

  // The series times a per-slot mask (nullptr: none). A mask goes into the
  // leaves only (m p = (m q) T_giant + m r): the same levels as without.
  Ciphertext evaluate(const std::vector<double>& c, const std::vector<std::complex<double>>* mask = nullptr) {
    mask_ = mask;
    return evaluate_series(c);
  }

 private:
  Ciphertext evaluate_series(const std::vector<double>& c) {
    const std::size_t degree = c.size() - 1;
    if (degree < m_) return leaf(c);
    std::size_t giant = m_;
    while (2 * giant <= degree) giant *= 2;
    // p = q T_giant + r (Chebyshev division, T_g T_j = (T_{g+j} + T_{g-j}) / 2).
    std::vector<double> q(c.begin() + giant, c.end()), r(c.begin(), c.begin() + giant);
    for (std::size_t j = 1; j < q.size(); ++j) {
      r[giant - j] -= c[giant + j];
      q[j] = 2 * c[giant + j];
    }
    Ciphertext hi = multiply(keys_, evaluate_series(q), basis_.at(giant));
    return add(hi, evaluate_series(r));
  }

  // T_k from T_a T_b with a + b = k: T_k = 2 T_a T_b - T_{a-b}.
  Ciphertext chebyshev(std::size_t k) {
    const std::size_t a = (k + 1) / 2, b = k / 2;
    Ciphertext prod = multiply_scalar(multiply(keys_, basis_.at(a), basis_.at(b)), 2.0);
    if (a == b) return add_scalar(prod, -1.0);
    return sub(prod, basis_.at(a - b));
  }

  // sum_k c_k T_k with one rescale: every T_k truncated to the lowest level
  // among them, times the integer round(c_k S / scale_k) (exact, no NTT), so
  // all terms share the scale S and add exactly; one rescale lands the sum on
  // the next level's canonical scale. (A rescale per term, and one more per
  // addition of terms at different levels, cost ~2 s of a 20 s bootstrap.)
  Ciphertext leaf(const std::vector<double>& c) {
    std::size_t low = 0;
    bool have = false;
    for (std::size_t k = 1; k < c.size(); ++k) {
      if (c[k] == 0.0) continue;
      low = have ? std::min(low, basis_.at(k).level) : basis_.at(k).level;
      have = true;
    }
    if (!have) {
      Ciphertext zero = multiply_scalar(basis_.at(1), 0.0);
      return c[0] == 0.0 ? zero : add_constant_term(zero, c[0]);
    }
    const Context& ctx = *basis_.at(1).context;
    SECURINFER_CHECK(low >= 1, LevelError, "not enough levels left for this Chebyshev series");
    const auto& primes = ctx.level_primes(low);
    const double target = ctx.level_scale(low - 1) * static_cast<double>(ctx.params().q_primes[low]);
    Ciphertext acc;
    have = false;
    for (std::size_t k = 1; k < c.size(); ++k) {
      if (c[k] == 0.0) continue;
      Ciphertext term = drop_to_level(basis_.at(k), low);
      if (mask_) {
        // c_k m encoded at target / scale_k: the product lands on target.
        std::vector<std::complex<double>> v(mask_->size());
        for (std::size_t s = 0; s < v.size(); ++s) v[s] = c[k] * (*mask_)[s];
        const Plaintext pt = encode(term.context, v.data(), v.size(), low, target / term.scale);
        for (auto& p : term.polys) ring::multiply(p, p, pt.poly, primes);
      } else {
        const long double factor = std::roundl(static_cast<long double>(c[k]) * target / term.scale);
        SECURINFER_CHECK(std::fabs(static_cast<double>(factor)) < 0x1p120, ParameterError,
                         "Chebyshev coefficient too large for this ciphertext's scale");
        const auto residues = residues_of(factor, primes);
        for (auto& p : term.polys) ring::multiply_constant(p, p, residues.data(), primes);
      }
      if (!have) {
        acc = std::move(term);
        have = true;
        continue;
      }
      SECURINFER_CHECK(term.polys.size() == acc.polys.size(), ParameterError, "ciphertext must be relinearised");
      for (std::size_t i = 0; i < acc.polys.size(); ++i)
        ring::add(acc.polys[i], acc.polys[i], term.polys[i], primes);
    }
    acc.scale = target;
    rescale_in_place(acc);
    return c[0] == 0.0 ? acc : add_constant_term(acc, c[0]);
  }

  Ciphertext add_constant_term(const Ciphertext& a, double c0) {
    if (!mask_) return add_scalar(a, c0);
    std::vector<std::complex<double>> v(mask_->size());
    for (std::size_t s = 0; s < v.size(); ++s) v[s] = c0 * (*mask_)[s];
    return add_values(a, v.data(), v.size());
  }

  const KeySet& keys_;
  const std::vector<std::complex<double>>* mask_ = nullptr;
  std::size_t m_;
  std::map<std::size_t, Ciphertext> basis_;
};

}  // namespace

std::size_t chebyshev_depth(std::size_t degree) { return ceil_log2(degree + 1) + 1; }

Ciphertext evaluate_chebyshev(const KeySet& keys, const Ciphertext& x_in, const std::vector<double>& coeffs) {
  SECURINFER_CHECK(coeffs.size() >= 2, ParameterError, "a Chebyshev series needs degree >= 1");
  for (double c : coeffs) SECURINFER_CHECK(std::isfinite(c), ParameterError, "coefficients must be finite");
  SECURINFER_CHECK(x_in.level >= chebyshev_depth(coeffs.size() - 1), LevelError,
                   "not enough levels left for this Chebyshev series");
  Ciphertext x = x_in;
  x.slots_used = x.context->slots();  // every slot is data here (constants go to all of them)
  ChebyshevEvaluator ev(keys, x, coeffs.size() - 1);
  return ev.evaluate(coeffs);
}

std::vector<Ciphertext> evaluate_chebyshev_masked(const KeySet& keys, const Ciphertext& x_in,
                                                  const std::vector<double>& coeffs,
                                                  const std::vector<std::vector<std::complex<double>>>& masks) {
  SECURINFER_CHECK(coeffs.size() >= 2, ParameterError, "a Chebyshev series needs degree >= 1");
  for (double c : coeffs) SECURINFER_CHECK(std::isfinite(c), ParameterError, "coefficients must be finite");
  SECURINFER_CHECK(x_in.level >= chebyshev_depth(coeffs.size() - 1), LevelError,
                   "not enough levels left for this Chebyshev series");
  Ciphertext x = x_in;
  x.slots_used = x.context->slots();
  for (const auto& m : masks) {
    SECURINFER_CHECK(m.size() == x.slots_used, ParameterError, "each mask needs one value per slot");
    for (const auto& v : m)
      SECURINFER_CHECK(std::isfinite(v.real()) && std::isfinite(v.imag()), ParameterError, "masks must be finite");
  }
  ChebyshevEvaluator ev(keys, x, coeffs.size() - 1);
  std::vector<Ciphertext> out;
  for (const auto& m : masks) {
    out.push_back(ev.evaluate(coeffs, &m));
    out.back().is_complex = true;
  }
  return out;
}

Ciphertext eval_mod(const KeySet& keys, const Ciphertext& x, const std::vector<double>& coeffs,
                    std::size_t double_angles) {
  Ciphertext c = evaluate_chebyshev(keys, x, coeffs);
  for (std::size_t i = 0; i < double_angles; ++i) c = add_scalar(multiply_scalar(square(keys, c), 2.0), -1.0);
  return c;
}

}  // namespace securinfer::ckks
