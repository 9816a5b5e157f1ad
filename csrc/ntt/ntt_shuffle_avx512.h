// The in-register shuffles of the 8-lane NTT kernels (ntt_avx512.cpp,
// ntt_ifma.cpp) for the stages whose butterfly distance (4, 2, 1) is below the
// vector width. A 16-word chunk sits in two vectors; before each such stage
// they are perfectly shuffled (forward) or unshuffled (inverse), after which
// lane i of X and of Y is a butterfly pair and the chunk's twiddles are a
// broadcast load of the table:
//   distance 4: X = [0 8 1 9 2 10 3 11],   twiddles [t0 t1 t0 t1 ...]   (pair)
//   distance 2: X = [0 4 8 12 1 5 9 13],   twiddles [t0 t1 t2 t3 t0 ..] (quad)
//   distance 1: X = [0 2 4 ... 14],        twiddles [t0 ... t7]         (load)
// (element numbers within the chunk; Y holds each partner). A fourth shuffle
// restores the natural order. Include only from AVX-512 kernel files.
#pragma once
#include <cstdint>

#include "simd/intrinsics.h"

namespace securinfer::simd::avx512 {

static inline __m512i index(long long i0, long long i1, long long i2, long long i3, long long i4, long long i5,
                            long long i6, long long i7) {
  return _mm512_set_epi64(i7, i6, i5, i4, i3, i2, i1, i0);
}

// Perfect shuffle of (a, b): lo = [a0 b0 a1 b1 a2 b2 a3 b3], hi = [a4 b4 ... a7 b7].
static inline void interleave(__m512i a, __m512i b, __m512i& lo, __m512i& hi) {
  lo = _mm512_permutex2var_epi64(a, index(0, 8, 1, 9, 2, 10, 3, 11), b);
  hi = _mm512_permutex2var_epi64(a, index(4, 12, 5, 13, 6, 14, 7, 15), b);
}

// Inverse shuffle: even = [a0 a2 a4 a6 b0 b2 b4 b6], odd = [a1 a3 ... b7].
static inline void deinterleave(__m512i a, __m512i b, __m512i& even, __m512i& odd) {
  even = _mm512_permutex2var_epi64(a, index(0, 2, 4, 6, 8, 10, 12, 14), b);
  odd = _mm512_permutex2var_epi64(a, index(1, 3, 5, 7, 9, 11, 13, 15), b);
}

// [p0 p1 p0 p1 p0 p1 p0 p1]
static inline __m512i load_pair_x4(const std::uint64_t* p) {
  return _mm512_broadcast_i64x2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// [p0 p1 p2 p3 p0 p1 p2 p3]
static inline __m512i load_quad_x2(const std::uint64_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

}  // namespace securinfer::simd::avx512
