// What the CPU and the operating system support, read once per process.
#pragma once

namespace securinfer::simd {

struct CpuFeatures {
  bool avx2 = false;        // AVX2 + BMI2 + FMA, with OS support for YMM state
  bool avx512 = false;      // AVX-512 F/DQ/VL/BW, with OS support for ZMM state
  bool avx512_ifma = false; // AVX-512 IFMA52 on top of avx512
};

// The features of this CPU (cpuid + xgetbv on x86-64; none elsewhere).
const CpuFeatures& cpu_features();

}  // namespace securinfer::simd
