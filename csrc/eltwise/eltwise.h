// The element-wise kernel table of each instruction-set path. A prime's
// RnsPrime picks its table once (ring/rns_prime.h); callers pass inputs in
// [0, q) of the sizes they own, and the checks of user input live at the
// bindings (bindings/register_kernels.cpp), not in these hot loops.
//
//   const auto& k = eltwise::kernels_for(simd::SimdPath::avx2);
//   k.mul(out, a, b, n, modulus);              // out[i] = a[i] * b[i] mod q
#pragma once
#include "eltwise/eltwise_kernels.h"
#include "simd/dispatch.h"

namespace securinfer::eltwise {

// The kernel table for a path (already checked as available for q).
const EltwiseKernels& kernels_for(simd::SimdPath path);

}  // namespace securinfer::eltwise
