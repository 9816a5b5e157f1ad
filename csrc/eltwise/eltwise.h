// Checked entry points for the element-wise kernels: validate, then dispatch to
// the path chosen for the prime (or an explicit one, for tests and benchmarks).
//
//   eltwise::mul(out, a, b, n, Modulus(q));    // out[i] = a[i] * b[i] mod q
#pragma once
#include "eltwise/eltwise_kernels.h"
#include "simd/dispatch.h"

namespace securinfer::eltwise {

// The kernel table for a path (already checked as available for q).
const EltwiseKernels& kernels_for(simd::SimdPath path);
// The table of the fastest valid path for q.
inline const EltwiseKernels& kernels_for_modulus(const Modulus& q) {
  return kernels_for(simd::select_path(q.value()));
}

}  // namespace securinfer::eltwise
