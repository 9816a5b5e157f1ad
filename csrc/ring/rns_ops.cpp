#include "ring/rns_ops.h"

#include <algorithm>
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

// body(i, begin, end) over every limb i, each cut into pieces when there are
// few limbs: with 3 limbs on 2 threads a per-limb split leaves one thread idle
// a third of the time. Pieces keep at least 2048 coefficients (multiples of 8,
// so the vector loops have no tails but the last).
template <typename Body>
void for_each_piece(std::size_t limbs, std::size_t n, const Body& body, std::size_t passes = 1) {
  // Below this many words (times the passes the body makes over them) an
  // element-wise pass takes a few microseconds: a parallel region's hand-over
  // costs more than the second thread saves.
  constexpr std::size_t kSerialWords = std::size_t(1) << 15;
  if (limbs * n * passes < kSerialWords) {
    for (std::size_t i = 0; i < limbs; ++i) body(i, 0, n);
    return;
  }
  const std::size_t threads = static_cast<std::size_t>(get_num_threads());
  std::size_t pieces = 1;
  if (threads > 1 && limbs % threads != 0) {
    pieces = std::max<std::size_t>(1, std::min(4 * threads / limbs + 1, n / 2048));
  }
  const std::size_t step = ((n + pieces - 1) / pieces + 7) / 8 * 8;
  parallel_for(0, limbs * pieces, [&](std::size_t task) {
    const std::size_t i = task / pieces, begin = (task % pieces) * step;
    if (begin < n) body(i, begin, std::min(n, begin + step));
  });
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
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t k, std::size_t end) {
    primes[i]->ops->add(out.limb(i) + k, a.limb(i) + k, b.limb(i) + k, end - k, primes[i]->modulus);
  });
}

void sub(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes) {
  check_limbs(a, primes);
  check_limbs(b, primes);
  if (&out != &a && &out != &b) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t k, std::size_t end) {
    primes[i]->ops->sub(out.limb(i) + k, a.limb(i) + k, b.limb(i) + k, end - k, primes[i]->modulus);
  });
}

void negate(RnsPoly& out, const RnsPoly& a, const PrimeList& primes) {
  check_limbs(a, primes);
  if (&out != &a) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t k, std::size_t end) {
    primes[i]->ops->negate(out.limb(i) + k, a.limb(i) + k, end - k, primes[i]->modulus);
  });
}

void multiply(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes) {
  check_limbs(a, primes);
  check_limbs(b, primes);
  if (&out != &a && &out != &b) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t k, std::size_t end) {
    primes[i]->ops->mul(out.limb(i) + k, a.limb(i) + k, b.limb(i) + k, end - k, primes[i]->modulus);
  });
}

void multiply_add(RnsPoly& out, const RnsPoly& a, const RnsPoly& b, const PrimeList& primes) {
  check_limbs(a, primes);
  check_limbs(b, primes);
  check_limbs(out, primes);
  const std::size_t n = a.degree();
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t k, std::size_t end) {
    primes[i]->ops->mul_add(out.limb(i) + k, a.limb(i) + k, b.limb(i) + k, end - k, primes[i]->modulus);
  });
}

void tensor_product(RnsPoly& d0, RnsPoly& d1, RnsPoly& d2, const RnsPoly& a0, const RnsPoly& a1, const RnsPoly& b0,
                    const RnsPoly& b1, const PrimeList& primes) {
  for (const RnsPoly* p : {&a0, &a1, &b0, &b1}) check_limbs(*p, primes);
  for (RnsPoly* d : {&d0, &d1, &d2}) shape_like(*d, a0, primes);
  const std::size_t n = a0.degree();
  // One parallel region for the four products, each piece finished by one
  // thread: the pieces of a limb stay in that thread's cache.
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t k, std::size_t end) {
    const auto& ops = *primes[i]->ops;
    const auto& q = primes[i]->modulus;
    const std::size_t len = end - k;
    ops.mul(d0.limb(i) + k, a0.limb(i) + k, b0.limb(i) + k, len, q);
    ops.mul(d1.limb(i) + k, a0.limb(i) + k, b1.limb(i) + k, len, q);
    ops.mul_add(d1.limb(i) + k, a1.limb(i) + k, b0.limb(i) + k, len, q);
    ops.mul(d2.limb(i) + k, a1.limb(i) + k, b1.limb(i) + k, len, q);
  }, /*passes=*/4);
}

void multiply_constant(RnsPoly& out, const RnsPoly& a, const std::uint64_t* c, const PrimeList& primes) {
  check_limbs(a, primes);
  if (&out != &a) shape_like(out, a, primes);
  const std::size_t n = a.degree();
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t k, std::size_t end) {
    const std::uint64_t q = primes[i]->value();
    primes[i]->ops->mul_scalar(out.limb(i) + k, a.limb(i) + k, c[i], arith::shoup_precompute(c[i], q), end - k,
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
  for_each_piece(primes.size(), n, [&](std::size_t i, std::size_t begin, std::size_t end) {
    const std::uint64_t* src = a.limb(i);
    std::uint64_t* dst = out.limb(i);
    for (std::size_t k = begin; k < end; ++k) dst[k] = src[perm[k]];
  }, /*passes=*/4);  // a gather: about four adds' worth per word
}

}  // namespace securinfer::ring
