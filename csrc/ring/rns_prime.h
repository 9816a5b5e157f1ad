// One prime of an RNS chain with everything the ring layer needs for it: the
// Barrett constants, its NTT plan and its element-wise kernel table (both on
// the fastest path valid for the prime, fixed when built).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "arith/modarith.h"
#include "eltwise/eltwise.h"
#include "ntt/ntt_plan.h"

namespace securinfer::ring {

struct RnsPrime {
  RnsPrime(std::size_t n, std::uint64_t q)
      : modulus(q), ntt(n, q), ops(&eltwise::kernels_for(ntt.path())) {}
  RnsPrime(std::size_t n, std::uint64_t q, simd::SimdPath path)
      : modulus(q), ntt(n, q, path), ops(&eltwise::kernels_for(ntt.path())) {}

  arith::Modulus modulus;
  ntt::NttPlan ntt;
  const eltwise::EltwiseKernels* ops;
  std::uint64_t value() const { return modulus.value(); }
};

// The primes of a polynomial, limb by limb.
using PrimeList = std::vector<const RnsPrime*>;

}  // namespace securinfer::ring
