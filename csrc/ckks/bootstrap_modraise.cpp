#include "ckks/bootstrap_modraise.h"

#include <vector>

#include "ring/rns_ops.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {

Ciphertext mod_raise(const Ciphertext& a, std::size_t level, double scale) {
  SECURINFER_CHECK(a.level == 0, LevelError, "mod_raise takes a ciphertext at level 0");
  SECURINFER_CHECK(a.size() == 2, ParameterError, "ciphertext must be relinearised");
  const Context& ctx = *a.context;
  SECURINFER_CHECK(level >= 1 && level <= ctx.max_level(), LevelError, "mod_raise target level out of range");
  const std::size_t n = ctx.degree();
  const auto& primes = ctx.level_primes(level);
  const std::uint64_t q0 = primes[0]->value(), half = q0 >> 1;
  Ciphertext r = a;
  r.seed.reset();
  r.level = level;
  r.scale = scale;
  for (std::size_t which = 0; which < 2; ++which) {
    std::vector<std::uint64_t> coeffs(a.polys[which].limb(0), a.polys[which].limb(0) + n);
    primes[0]->ntt.inverse(coeffs.data());
    auto out = ring::RnsPoly::uninitialized(n, level + 1);
    parallel_for(0, level + 1, [&](std::size_t i) {
      const auto* p = primes[i];
      const std::uint64_t qi = p->value();
      std::uint64_t* dst = out.limb(i);
      if (i == 0) {
        std::copy(coeffs.begin(), coeffs.end(), dst);
      } else {
        const std::uint64_t q0_mod = arith::barrett_reduce_64(q0, p->modulus);
        for (std::size_t k = 0; k < n; ++k) {
          // Centred lift: values above q0/2 stand for value - q0.
          const std::uint64_t v = arith::barrett_reduce_64(coeffs[k], p->modulus);
          dst[k] = coeffs[k] > half ? arith::sub_mod(v, q0_mod, qi) : v;
        }
      }
      p->ntt.forward(dst);
    });
    r.polys[which] = std::move(out);
  }
  return r;
}

Ciphertext multiply_by_i(const Ciphertext& a, bool negative) {
  const Context& ctx = *a.context;
  const std::size_t n = ctx.degree();
  const auto& primes = ctx.level_primes(a.level);
  ring::RnsPoly mono(n, a.level + 1);
  for (std::size_t i = 0; i <= a.level; ++i) {
    mono.limb(i)[n / 2] = negative ? primes[i]->value() - 1 : 1;
    primes[i]->ntt.forward(mono.limb(i));
  }
  Ciphertext r = a;
  r.seed.reset();
  for (auto& p : r.polys) ring::multiply(p, p, mono, primes);
  return r;
}

}  // namespace securinfer::ckks
