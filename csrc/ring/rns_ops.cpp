#include "ring/rns_ops.h"

#include <string>

#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ring {
namespace {

void check_limbs(const RnsPoly& p, const PrimeList& primes) {
  SECURINFER_CHECK(p.limbs() >= primes.size(), ParameterError,
                   "polynomial has " + std::to_string(p.limbs()) + " limbs, " + std::to_string(primes.size()) +
                       " needed");
}

// Output polynomials take the shape of the input when they differ.
void shape_like(RnsPoly& out, const RnsPoly& a, const PrimeList& primes) {
  if (out.degree() != a.degree() || out.limbs() != primes.size()) out = RnsPoly::uninitialized(a.degree(), primes.size());
}

}  // namespace

void ntt_forward(RnsPoly& a, const PrimeList& primes) {
  check_limbs(a, primes);
  parallel_for(0, primes.size(), [&](std::size_t i) { primes[i]->ntt.forward(a.limb(i)); });
}

void ntt_inverse(RnsPoly& a, const PrimeList& primes) {
  check_limbs(a, primes);
  parallel_for(0, primes.size(), [&](std::size_t i) { primes[i]->ntt.inverse(a.limb(i)); });
}

void add(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes) {
  check_limbs(a, primes);
  check_limbs(b, primes);
  if (&out != &a && &out != &b) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    primes[i]->ops->add(out.limb(i), a.limb(i), b.limb(i), n, primes[i]->modulus);
  });
}

void sub(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes) {
  check_limbs(a, primes);
  check_limbs(b, primes);
  if (&out != &a && &out != &b) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    primes[i]->ops->sub(out.limb(i), a.limb(i), b.limb(i), n, primes[i]->modulus);
  });
}

void negate(RnsPoly& out, const RnsPoly& a, const PrimeList& primes) {
  check_limbs(a, primes);
  if (&out != &a) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    primes[i]->ops->negate(out.limb(i), a.limb(i), n, primes[i]->modulus);
  });
}

void multiply(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes) {
  check_limbs(a, primes);
  check_limbs(b, primes);
  if (&out != &a && &out != &b) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    primes[i]->ops->mul(out.limb(i), a.limb(i), b.limb(i), n, primes[i]->modulus);
  });
}

void multiply_add(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes) {
  check_limbs(a, primes);
  check_limbs(b, primes);
  check_limbs(out, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    primes[i]->ops->mul_add(out.limb(i), a.limb(i), b.limb(i), n, primes[i]->modulus);
  });
}

void multiply_constant(RnsPoly& out, const RnsPoly& a, const std::uint64_t* c, const PrimeList& primes) {
  check_limbs(a, primes);
  if (&out != &a) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    const std::uint64_t q = primes[i]->value();
    primes[i]->ops->mul_scalar(out.limb(i), a.limb(i), c[i], arith::shoup_precompute(c[i], q), n,
                               primes[i]->modulus);
  });
}

void add_constant(RnsPoly& out, const RnsPoly& a, const std::uint64_t* c, const PrimeList& primes) {
  check_limbs(a, primes);
  if (&out != &a) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    const std::uint64_t q = primes[i]->value();
    const std::uint64_t* src = a.limb(i);
    std::uint64_t* dst = out.limb(i);
    for (std::size_t k = 0; k < n; ++k) dst[k] = arith::add_mod(src[k], c[i], q);
  });
}

void permute(RnsPoly& out, const RnsPoly& a, const std::uint32_t* perm, const PrimeList& primes) {
  check_limbs(a, primes);
  SECURINFER_CHECK(&out != &a, ParameterError, "permute cannot run in place");
  shape_like(out, a, primes);
  const std::size_t n = a.degree();
  parallel_for(0, primes.size(), [&](std::size_t i) {
    const std::uint64_t* src = a.limb(i);
    std::uint64_t* dst = out.limb(i);
    for (std::size_t k = 0; k < n; ++k) dst[k] = src[perm[k]];
  });
}

}  // namespace securinfer::ring
