#include "ckks/bootstrap_evalmod.h"

#include <cmath>
#include <map>

#include "ckks/evaluator.h"
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

  Ciphertext evaluate(const std::vector<double>& c) {
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
    Ciphertext hi = multiply(keys_, evaluate(q), basis_.at(giant));
    return add(hi, evaluate(r));
  }

 private:
  // T_k from T_a T_b with a + b = k: T_k = 2 T_a T_b - T_{a-b}.
  Ciphertext chebyshev(std::size_t k) {
    const std::size_t a = (k + 1) / 2, b = k / 2;
    Ciphertext prod = multiply_scalar(multiply(keys_, basis_.at(a), basis_.at(b)), 2.0);
    if (a == b) return add_scalar(prod, -1.0);
    return sub(prod, basis_.at(a - b));
  }

  Ciphertext leaf(const std::vector<double>& c) {
    bool have = false;
    Ciphertext acc;
    for (std::size_t k = 1; k < c.size(); ++k) {
      if (c[k] == 0.0) continue;
      Ciphertext term = multiply_scalar(basis_.at(k), c[k]);
      acc = have ? add(acc, term) : term;
      have = true;
    }
    if (!have) acc = multiply_scalar(basis_.at(1), 0.0);
    return c[0] == 0.0 ? acc : add_scalar(acc, c[0]);
  }

  const KeySet& keys_;
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

Ciphertext eval_mod(const KeySet& keys, const Ciphertext& x, const std::vector<double>& coeffs,
                    std::size_t double_angles) {
  Ciphertext c = evaluate_chebyshev(keys, x, coeffs);
  for (std::size_t i = 0; i < double_angles; ++i) c = add_scalar(multiply_scalar(square(keys, c), 2.0), -1.0);
  return c;
}

}  // namespace securinfer::ckks
