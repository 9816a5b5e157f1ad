// Scalar modular arithmetic for primes below 2^60: the reference every SIMD
// kernel is checked against. Inputs are in [0, q) unless a function says
// otherwise.
#pragma once
#include <cstdint>

#include "util/errors.h"

namespace securinfer::arith {

using u64 = std::uint64_t;
using u128 = unsigned __int128;

constexpr int kMaxModulusBits = 60;

inline u64 hi64(u128 x) { return static_cast<u64>(x >> 64); }

// A modulus with its Barrett constant floor(2^128 / q), as two words.
class Modulus {
 public:
  Modulus() = default;
  explicit Modulus(u64 q) : value_(q) {
    SECURINFER_CHECK(q >= 2 && q < (u64(1) << kMaxModulusBits), ParameterError,
                     "modulus must be in [2, 2^60)");
    bits_ = 64 - __builtin_clzll(q);
    // floor(2^128 / q) computed as floor((2^128 - 1) / q), exact unless q | 2^128,
    // which a modulus >= 2 that is not a power of two never does; for powers of
    // two the result differs by at most one, which Barrett tolerates.
    u128 max = ~u128(0);
    u128 ratio = max / q;
    ratio_hi_ = hi64(ratio);
    ratio_lo_ = static_cast<u64>(ratio);
  }
  u64 value() const { return value_; }
  int bits() const { return bits_; }
  u64 ratio_hi() const { return ratio_hi_; }
  u64 ratio_lo() const { return ratio_lo_; }
  bool operator==(const Modulus& o) const { return value_ == o.value_; }

 private:
  u64 value_ = 0;
  int bits_ = 0;
  u64 ratio_hi_ = 0, ratio_lo_ = 0;
};

inline u64 add_mod(u64 a, u64 b, u64 q) {
  u64 s = a + b;
  return s >= q ? s - q : s;
}
inline u64 sub_mod(u64 a, u64 b, u64 q) { return a >= b ? a - b : a + q - b; }
inline u64 neg_mod(u64 a, u64 q) { return a == 0 ? 0 : q - a; }

// Barrett reduction of a 128-bit value x < q * 2^64 (any product of two values
// below 2^64 / ... is fine as long as x < 2^124, true for products of inputs < q).
inline u64 barrett_reduce_128(u128 x, const Modulus& m) {
  u64 x_lo = static_cast<u64>(x), x_hi = hi64(x);
  // Estimate floor(x * ratio / 2^128) with the top partial products.
  u128 lo_hi = u128(x_lo) * m.ratio_hi();
  u128 hi_lo = u128(x_hi) * m.ratio_lo();
  u128 lo_lo_hi = hi64(u128(x_lo) * m.ratio_lo());
  u128 mid = lo_lo_hi + static_cast<u64>(lo_hi) + static_cast<u64>(hi_lo);
  u64 carry = hi64(mid);
  u64 quotient = x_hi * m.ratio_hi() + hi64(lo_hi) + hi64(hi_lo) + carry;
  u64 r = x_lo - quotient * m.value();
  // The estimate is at most 2 below the true quotient.
  while (r >= m.value()) r -= m.value();
  return r;
}

// Barrett reduction of a single word.
inline u64 barrett_reduce_64(u64 x, const Modulus& m) {
  u64 quotient = hi64(u128(x) * m.ratio_hi());
  u64 r = x - quotient * m.value();
  return r >= m.value() ? r - m.value() : r;
}

inline u64 mul_mod(u64 a, u64 b, const Modulus& m) { return barrett_reduce_128(u128(a) * b, m); }

// Shoup: w' = floor(w * 2^64 / q), precomputed once for a constant w < q.
inline u64 shoup_precompute(u64 w, u64 q) { return static_cast<u64>((u128(w) << 64) / q); }

// x * w mod q in [0, 2q), for any x < 2^64 (lazy: no final correction).
inline u64 mul_shoup_lazy(u64 x, u64 w, u64 w_shoup, u64 q) {
  u64 quotient = hi64(u128(x) * w_shoup);
  return x * w - quotient * q;
}

// x * w mod q in [0, q).
inline u64 mul_shoup(u64 x, u64 w, u64 w_shoup, u64 q) {
  u64 r = mul_shoup_lazy(x, w, w_shoup, q);
  return r >= q ? r - q : r;
}

inline u64 pow_mod(u64 base, u64 exponent, const Modulus& m) {
  u64 result = 1 % m.value();
  base = barrett_reduce_64(base, m);
  while (exponent) {
    if (exponent & 1) result = mul_mod(result, base, m);
    base = mul_mod(base, base, m);
    exponent >>= 1;
  }
  return result;
}

// Inverse of a modulo q (q need not be prime). Throws ParameterError when a
// and q are not coprime.
inline u64 inv_mod(u64 a, u64 q) {
  SECURINFER_CHECK(q >= 2, ParameterError, "modulus must be at least 2");
  a %= q;
  // Extended Euclid on signed 128-bit values to avoid overflow.
  __int128 r0 = q, r1 = a, t0 = 0, t1 = 1;
  while (r1 != 0) {
    __int128 quotient = r0 / r1;
    __int128 r2 = r0 - quotient * r1;
    r0 = r1;
    r1 = r2;
    __int128 t2 = t0 - quotient * t1;
    t0 = t1;
    t1 = t2;
  }
  SECURINFER_CHECK(r0 == 1, ParameterError, "value is not invertible modulo q");
  if (t0 < 0) t0 += q;
  return static_cast<u64>(t0);
}

}  // namespace securinfer::arith
