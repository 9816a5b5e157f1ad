// The x86 intrinsics every SIMD kernel file includes (instead of <immintrin.h>).
//
// Normally this is <immintrin.h>, and each kernel file is compiled with its own
// instruction-set flags (see CMakeLists.txt). In the emulation build
// (SECURINFER_EMULATED_UNIT, set only on the AVX-512 and IFMA files, which are
// then compiled with -mavx2 only) the _mm512_* names come from SIMDe instead,
// so those kernels can be tested bit for bit on any AVX2 machine. SIMDe 0.7.4
// lacks a few intrinsics; portable definitions of those follow, written per
// lane from Intel's pseudo-code.
//
// Every helper defined here or in a kernel file must have internal linkage
// (static, or an unnamed namespace): the same inline function compiled with
// -mavx512f in one file and without it in another would otherwise be merged by
// the linker, and the scalar path could end up running AVX-512 code.
#pragma once

#if !defined(SECURINFER_EMULATED_UNIT)

#include <immintrin.h>

// GCC 12's AVX-512 headers start some intrinsics from _mm512_undefined_*(),
// which -Wmaybe-uninitialized reports wherever they are inlined (GCC PR 105593,
// fixed in GCC 13). Silenced for the rest of the kernel file.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#else  // SIMDe emulation of AVX-512 F/DQ/VL/BW and IFMA

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <cstdint>

namespace securinfer::simd::emulated {

using u64 = std::uint64_t;
constexpr u64 kMask52 = (u64(1) << 52) - 1;

// dst[i] = a[i] + low 52 bits of (b[i] & 2^52-1) * (c[i] & 2^52-1)
static inline __m512i madd52lo(__m512i a, __m512i b, __m512i c) {
  alignas(64) u64 av[8], bv[8], cv[8];
  _mm512_store_si512(reinterpret_cast<void*>(av), a);
  _mm512_store_si512(reinterpret_cast<void*>(bv), b);
  _mm512_store_si512(reinterpret_cast<void*>(cv), c);
  for (int i = 0; i < 8; ++i) {
    const unsigned __int128 t = static_cast<unsigned __int128>(bv[i] & kMask52) * (cv[i] & kMask52);
    av[i] += static_cast<u64>(t) & kMask52;
  }
  return _mm512_load_si512(reinterpret_cast<const void*>(av));
}

// dst[i] = a[i] + bits 52..103 of (b[i] & 2^52-1) * (c[i] & 2^52-1)
static inline __m512i madd52hi(__m512i a, __m512i b, __m512i c) {
  alignas(64) u64 av[8], bv[8], cv[8];
  _mm512_store_si512(reinterpret_cast<void*>(av), a);
  _mm512_store_si512(reinterpret_cast<void*>(bv), b);
  _mm512_store_si512(reinterpret_cast<void*>(cv), c);
  for (int i = 0; i < 8; ++i) {
    const unsigned __int128 t = static_cast<unsigned __int128>(bv[i] & kMask52) * (cv[i] & kMask52);
    av[i] += static_cast<u64>(t >> 52);
  }
  return _mm512_load_si512(reinterpret_cast<const void*>(av));
}

// AVX512DQ's _mm512_broadcast_i64x2 is the same bits as AVX512F's i32x4 form.
static inline __m512i broadcast_i64x2(__m128i a) { return _mm512_broadcast_i32x4(a); }

}  // namespace securinfer::simd::emulated

#define _mm512_madd52lo_epu64(a, b, c) ::securinfer::simd::emulated::madd52lo((a), (b), (c))
#define _mm512_madd52hi_epu64(a, b, c) ::securinfer::simd::emulated::madd52hi((a), (b), (c))
#define _mm512_broadcast_i64x2(a) ::securinfer::simd::emulated::broadcast_i64x2((a))

#endif  // SECURINFER_EMULATED_UNIT
