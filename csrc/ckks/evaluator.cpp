#include "ckks/evaluator.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "ckks/encryption.h"
#include "ckks/key_switch.h"
#include "ckks/slot_layout.h"
#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {
namespace {

Ciphertext with_polys_like(const Ciphertext& a) {
  Ciphertext r;
  r.context = a.context;
  r.key_id = a.key_id;
  r.level = a.level;
  r.scale = a.scale;
  r.slots_used = a.slots_used;
  r.padding = a.padding;
  r.period = a.period;
  r.is_complex = a.is_complex;
  return r;
}

// `values` laid out as a ciphertext of a's state holds them: once, or tiled
// with a's replication period (zeros between length and period).
std::vector<Complex> as_laid_out(const Ciphertext& a, const Complex* values, std::size_t count) {
  require_same_length(a.slots_used, count, "ciphertext and plaintext vector");
  if (!tiles_values(a)) return std::vector<Complex>(values, values + count);
  std::vector<Complex> tiled(a.context->slots(), Complex(0, 0));
  for (std::size_t start = 0; start < tiled.size(); start += a.period)
    std::copy(values, values + count, tiled.begin() + start);
  return tiled;
}

// Copies of a and b at one level with the same scale.
std::pair<Ciphertext, Ciphertext> align(const Ciphertext& a, const Ciphertext& b) {
  check_compatible(a, b);
  if (a.level == b.level && same_scale(a.scale, b.scale)) return {a, b};
  if (a.level == b.level) {
    // Equal levels, different scales: spend a level on the first.
    SECURINFER_CHECK(a.level > 0, LevelError, "cannot align scales at level 0: out of multiplicative depth");
    return {adjust_to(a, a.level - 1, b.scale), drop_to_level(b, a.level - 1)};
  }
  if (a.level > b.level) return {adjust_to(a, b.level, b.scale), b};
  return {a, adjust_to(b, a.level, a.scale)};
}

template <class Op>
Ciphertext combine(const Ciphertext& a_in, const Ciphertext& b_in, Op op) {
  check_compatible(a_in, b_in);
  require_same_length(a_in.slots_used, b_in.slots_used, "ciphertexts");
  auto [a, b] = align(a_in, b_in);
  Ciphertext r = with_polys_like(a);
  set_layout_of_sum(r, a, b);
  const auto& primes = a.context->level_primes(a.level);
  const std::size_t size = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < size; ++i) {
    if (i >= a.size()) r.polys.push_back(b.polys[i]);  // (op is + or -, handled below)
    else if (i >= b.size()) r.polys.push_back(a.polys[i]);
    else {
      auto out = ring::RnsPoly::uninitialized(a.context->degree(), a.level + 1);
      op(out, a.polys[i], b.polys[i], primes);
      r.polys.push_back(std::move(out));
    }
  }
  return r;
}

// a times an integer given by its residues (scale unchanged).
Ciphertext times_integer(const Ciphertext& a, const std::vector<std::uint64_t>& residues) {
  const auto& primes = a.context->level_primes(a.level);
  Ciphertext r = with_polys_like(a);
  for (const auto& p : a.polys) {
    auto out = ring::RnsPoly::uninitialized(p.degree(), a.level + 1);
    ring::multiply_constant(out, p, residues.data(), primes);
    r.polys.push_back(std::move(out));
  }
  return r;
}

void check_level_for_product(const Ciphertext& a) {
  SECURINFER_CHECK(a.level > 0, LevelError,
                   "ciphertext is at level 0: out of multiplicative depth (use more coefficient primes)");
}

}  // namespace

bool same_scale(double a, double b) {
  // Within the encoding's own resolution (a relative step of 1/scale): the
  // mismatch is below the rounding every encoded value already carries.
  // adjust_to lands within 1/factor of its target, and its factor is about a
  // prime q: with 26-bit primes that is ~1.5e-8, which a fixed 1e-9 refused
  // (then every addition spent a level to align "different" scales).
  const double tolerance = std::max(1e-9, 4.0 / std::min(a, b));
  return std::fabs(a / b - 1.0) < tolerance;
}

void check_compatible(const Ciphertext& a, const Ciphertext& b) {
  require_same_parameters(*a.context, *b.context, "ciphertexts");
  SECURINFER_CHECK(a.key_id == b.key_id, ContextMismatchError, "ciphertexts were encrypted under different keys");
}

std::vector<std::uint64_t> residues_of(long double v, const ring::PrimeList& primes) {
  const bool negative = v < 0;
  long double mag = std::fabs(v);
  const long double two64 = 18446744073709551616.0L;
  const auto hi = static_cast<std::uint64_t>(std::floor(mag / two64));
  const auto lo = static_cast<std::uint64_t>(mag - static_cast<long double>(hi) * two64);
  std::vector<std::uint64_t> r;
  for (auto* p : primes) {
    const arith::Modulus& q = p->modulus;
    const std::uint64_t two64_mod = arith::barrett_reduce_128(arith::u128(1) << 64, q);
    std::uint64_t x = arith::add_mod(arith::mul_mod(arith::barrett_reduce_64(hi, q), two64_mod, q),
                                     arith::barrett_reduce_64(lo, q), q.value());
    r.push_back(negative ? arith::neg_mod(x, q.value()) : x);
  }
  return r;
}

// Drop to level + 1, multiply by round(target q_{level+1} / scale), rescale.
Ciphertext adjust_to(const Ciphertext& a, std::size_t level, double target) {
  Ciphertext r = drop_to_level(a, level + 1);
  const double q = static_cast<double>(a.context->params().q_primes[level + 1]);
  const long double factor = std::roundl(static_cast<long double>(target) * q / a.scale);
  // Scales come from our own pipeline or from validated bytes, but a crafted
  // scale could still ask for an absurd factor: refuse it rather than wrap.
  SECURINFER_CHECK(factor >= 1 && factor < 0x1p120L, ParameterError,
                   "cannot align these scales (factor out of range): inconsistent ciphertext scales");
  const auto& primes = a.context->level_primes(level + 1);
  const auto c = residues_of(factor, primes);
  for (auto& p : r.polys) ring::multiply_constant(p, p, c.data(), primes);
  r.scale = a.scale * static_cast<double>(factor);
  rescale_in_place(r);
  return r;
}

Ciphertext drop_to_level(const Ciphertext& a, std::size_t level) {
  SECURINFER_CHECK(level <= a.level, LevelError, "cannot raise a ciphertext's level");
  Ciphertext r = a;
  r.seed.reset();
  for (auto& p : r.polys) p.truncate(level + 1);
  r.level = level;
  return r;
}

Ciphertext lower_to_level(const Ciphertext& a, std::size_t level) {
  SECURINFER_CHECK(level <= a.level, LevelError, "cannot raise a ciphertext's level");
  const double target = a.context->level_scale(level);
  if (level == a.level || same_scale(a.scale, target)) return drop_to_level(a, level);
  return adjust_to(a, level, target);
}

void rescale_in_place(Ciphertext& a) {
  check_level_for_product(a);
  const Context& ctx = *a.context;
  const std::size_t l = a.level, n = ctx.degree();
  const auto& primes = ctx.level_primes(l);
  // The polynomials in parallel (inner loops then run inline).
  parallel_for(0, a.polys.size(), [&](std::size_t which) {
    ring::RnsPoly& poly = a.polys[which];
    // Last limb to coefficients, centred, then into every other prime's NTT.
    std::vector<std::uint64_t> last(poly.limb(l), poly.limb(l) + n);
    primes[l]->ntt.inverse(last.data());
    const std::uint64_t ql = primes[l]->value(), half = ql >> 1;
    parallel_for(0, l, [&](std::size_t i) {
      const auto* p = primes[i];
      const std::uint64_t qi = p->value();
      std::vector<std::uint64_t> t(n);
      const std::uint64_t ql_mod = arith::barrett_reduce_64(ql, p->modulus);
      for (std::size_t k = 0; k < n; ++k) {
        // Centre last[k] in (-ql/2, ql/2] so the division rounds to nearest.
        const std::uint64_t v = arith::barrett_reduce_64(last[k], p->modulus);
        t[k] = last[k] > half ? arith::sub_mod(v, ql_mod, qi) : v;
      }
      p->ntt.forward(t.data());
      const std::uint64_t w = ctx.q_last_inverse(l, i), ws = arith::shoup_precompute(w, qi);
      p->ops->sub(poly.limb(i), poly.limb(i), t.data(), n, p->modulus);
      p->ops->mul_scalar(poly.limb(i), poly.limb(i), w, ws, n, p->modulus);
    });
    poly.truncate(l);
  });
  a.scale /= static_cast<double>(ctx.params().q_primes[l]);
  a.level = l - 1;
  a.seed.reset();
}

Ciphertext add(const Ciphertext& a, const Ciphertext& b) { return combine(a, b, ring::add); }

Ciphertext sub(const Ciphertext& a, const Ciphertext& b) {
  Ciphertext r = combine(a, b, ring::sub);
  // Polynomials b had beyond a's were copied, not negated.
  const auto& primes = r.context->level_primes(r.level);
  for (std::size_t i = a.size(); i < b.size(); ++i) ring::negate(r.polys[i], r.polys[i], primes);
  return r;
}

Ciphertext negate(const Ciphertext& a) {
  Ciphertext r = with_polys_like(a);
  const auto& primes = a.context->level_primes(a.level);
  for (const auto& p : a.polys) {
    auto out = ring::RnsPoly::uninitialized(p.degree(), a.level + 1);
    ring::negate(out, p, primes);
    r.polys.push_back(std::move(out));
  }
  return r;
}

Ciphertext add_values(const Ciphertext& a, const Complex* values, std::size_t count) {
  const auto laid_out = as_laid_out(a, values, count);
  Plaintext p = encode(a.context, laid_out.data(), laid_out.size(), a.level, a.scale);
  Ciphertext r = a;
  r.seed.reset();
  if (a.padding == Padding::replicated && !tiles_values(a)) {
    // Values added once over repeating ones: past the length, no pattern is known.
    r.padding = Padding::undefined;
    r.period = 0;
  }
  ring::add(r.polys[0], r.polys[0], p.poly, a.context->level_primes(a.level));
  return r;
}

Ciphertext sub_values(const Ciphertext& a, const Complex* values, std::size_t count, bool reversed) {
  Ciphertext r = reversed ? negate(a) : a;
  std::vector<Complex> v(values, values + count);
  if (!reversed)
    for (auto& x : v) x = -x;
  return add_values(r, v.data(), count);
}

double product_scale_for(const Ciphertext& a) {
  check_level_for_product(a);
  const Context& ctx = *a.context;
  return ctx.level_scale(a.level - 1) * static_cast<double>(ctx.params().q_primes[a.level]) / a.scale;
}

Ciphertext multiply_plain(const Ciphertext& a, const Plaintext& p) {
  check_level_for_product(a);
  require_same_parameters(*p.context, *a.context, "plaintext and ciphertext");
  SECURINFER_CHECK(p.level == a.level, LevelError, "plaintext and ciphertext levels differ");
  Ciphertext r = with_polys_like(a);
  const auto& primes = a.context->level_primes(a.level);
  for (const auto& c : a.polys) {
    auto out = ring::RnsPoly::uninitialized(c.degree(), a.level + 1);
    ring::multiply(out, c, p.poly, primes);
    r.polys.push_back(std::move(out));
  }
  r.scale = a.scale * p.scale;
  // Whatever the plaintext holds past a's length decides the padding: the
  // caller, who encoded it, states it (undefined until then).
  r.padding = Padding::undefined;
  r.period = 0;
  rescale_in_place(r);
  return r;
}

Ciphertext multiply_values(const Ciphertext& a, const Complex* values, std::size_t count) {
  require_same_length(a.slots_used, count, "ciphertext and plaintext vector");
  Plaintext p = encode(a.context, values, count, a.level, product_scale_for(a));
  Ciphertext r = multiply_plain(a, p);
  r.padding = Padding::zeros;  // the plaintext is zero past `count`
  return r;
}

Ciphertext add_scalar(const Ciphertext& a, Complex c) {
  SECURINFER_CHECK(std::isfinite(c.real()) && std::isfinite(c.imag()), ParameterError, "scalar must be finite");
  const bool everywhere = a.padding == Padding::replicated && !tiles_values(a);  // keeps the repetition
  if (c.imag() != 0.0 || (a.slots_used < a.context->slots() && !everywhere)) {
    // Only the vector's own slots (and their replicas): the padding keeps its state.
    std::vector<Complex> v(a.slots_used, c);
    Ciphertext r = add_values(a, v.data(), v.size());
    r.is_complex = a.is_complex || c.imag() != 0.0;
    return r;
  }
  const long double scaled = std::roundl(static_cast<long double>(c.real()) * a.scale);
  SECURINFER_CHECK(std::fabs(static_cast<double>(scaled)) < 0x1p120, ParameterError,
                   "scalar too large for this ciphertext's scale");
  const auto& primes = a.context->level_primes(a.level);
  const auto residues = residues_of(scaled, primes);
  Ciphertext r = a;
  r.seed.reset();
  ring::add_constant(r.polys[0], r.polys[0], residues.data(), primes);
  return r;
}

Ciphertext multiply_scalar(const Ciphertext& a, Complex c) {
  SECURINFER_CHECK(std::isfinite(c.real()) && std::isfinite(c.imag()), ParameterError, "scalar must be finite");
  const auto& primes = a.context->level_primes(a.level);
  const double re = c.real();
  if (c.imag() == 0.0 && re == std::round(re) && std::fabs(re) < 0x1p30) {
    // An integer: multiply the residues, no scale change and no level used.
    return times_integer(a, residues_of(re, primes));
  }
  if (c.imag() != 0.0) {
    // Every slot times c: the padding keeps its state (zeros, replicas or debris).
    std::vector<Complex> w(a.context->slots(), c);
    Plaintext p = encode(a.context, w.data(), w.size(), a.level, product_scale_for(a));
    Ciphertext r = multiply_plain(a, p);
    r.padding = a.padding;
    r.period = a.period;
    r.is_complex = true;
    return r;
  }
  const double s = product_scale_for(a);
  const long double scaled = std::roundl(static_cast<long double>(re) * s);
  SECURINFER_CHECK(std::fabs(static_cast<double>(scaled)) < 0x1p120, ParameterError,
                   "scalar too large for this ciphertext's scale");
  Ciphertext r = times_integer(a, residues_of(scaled, primes));
  r.scale = a.scale * s;
  rescale_in_place(r);
  return r;
}

Ciphertext multiply(const KeySet& keys, const Ciphertext& a_in, const Ciphertext& b_in) {
  check_compatible(a_in, b_in);
  keys.require_usable_with(*a_in.context, a_in.key_id);
  require_same_length(a_in.slots_used, b_in.slots_used, "ciphertexts");
  SECURINFER_CHECK(a_in.size() == 2 && b_in.size() == 2, ParameterError, "operands must be relinearised");
  // Same level and scale: the higher operand is brought down onto the lower
  // one's scale (not merely dropped), so products of canonical operands stay
  // canonical and later additions need no extra level to align scales.
  const std::size_t level = std::min(a_in.level, b_in.level);
  // References, not copies: an operand already at the level is read in place.
  Ciphertext a_adjusted, b_adjusted;
  if (a_in.level != level) a_adjusted = adjust_to(a_in, level, b_in.scale);
  if (b_in.level != level) b_adjusted = adjust_to(b_in, level, a_in.scale);
  const Ciphertext& a = a_in.level == level ? a_in : a_adjusted;
  const Ciphertext& b = b_in.level == level ? b_in : b_adjusted;
  check_level_for_product(a);
  const auto& primes = a.context->level_primes(level);
  const std::size_t n = a.context->degree();
  Ciphertext r = with_polys_like(a);
  set_layout_of_product(r, a, b);
  auto d0 = ring::RnsPoly::uninitialized(n, level + 1), d1 = ring::RnsPoly::uninitialized(n, level + 1),
       d2 = ring::RnsPoly::uninitialized(n, level + 1);
  ring::tensor_product(d0, d1, d2, a.polys[0], a.polys[1], b.polys[0], b.polys[1], primes);
  // Relinearise and rescale in one step (one division by P q_level).
  auto digits = decompose(*a.context, d2, level);
  ring::RnsPoly c0, c1;
  apply_switch_key_rescale(*a.context, digits, level, keys.relin_key(), d0, d1, c0, c1);
  r.polys.push_back(std::move(c0));
  r.polys.push_back(std::move(c1));
  r.scale = a.scale * b.scale / static_cast<double>(a.context->params().q_primes[level]);
  r.level = level - 1;
  return r;
}

Ciphertext square(const KeySet& keys, const Ciphertext& a) { return multiply(keys, a, a); }

}  // namespace securinfer::ckks
