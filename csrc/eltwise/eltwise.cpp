#include "eltwise/eltwise.h"

namespace securinfer::eltwise {

const EltwiseKernels& kernels_for(simd::SimdPath path) {
  switch (path) {
#if defined(SECURINFER_X86_KERNELS)
    case simd::SimdPath::avx2: return kernels_avx2;
    case simd::SimdPath::avx512: return kernels_avx512;
    case simd::SimdPath::ifma: return kernels_ifma;
#endif
    default: return kernels_scalar;
  }
}

}  // namespace securinfer::eltwise
