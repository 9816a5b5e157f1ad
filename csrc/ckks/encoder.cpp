// CKKS encoder: half-size complex FFT over the slot roots, rounding into RNS,
// and the exact CRT lift back (see encoder.h for the math and contracts).
#include "ckks/encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "util/aligned_buffer.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ckks {
namespace {

using arith::Modulus;
using arith::u128;
using arith::u64;

constexpr long double kPi = 3.141592653589793238462643383279502884L;

std::size_t log2_exact(std::size_t n) {
  std::size_t r = 0;
  while ((std::size_t(1) << r) < n) ++r;
  return r;
}

std::uint32_t bit_reverse(std::uint32_t x, std::size_t bits) {
  std::uint32_t r = 0;
  for (std::size_t b = 0; b < bits; ++b, x >>= 1) r = (r << 1) | (x & 1);
  return r;
}

// Round to the nearest integer (ties to even). The 1.5 * 2^52 trick is exact in
// round-to-nearest mode for |x| < 2^51 and avoids a libm call per coefficient;
// larger magnitudes take nearbyint (at or above 2^52 every double is an integer).
// Don't build this file with -ffast-math: it would fold the trick away.
inline double round_to_integer(double x) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  if (std::fabs(x) < 0x1p51) return (x + kMagic) - kMagic;
  return std::nearbyint(x);
}

// |x| for an integer-valued double 0 <= x < 2^126, exactly, as hi * 2^64 + lo.
inline void split_magnitude(double x, u64& hi, u64& lo) {
  if (x < 0x1p64) {
    hi = 0;
    lo = static_cast<u64>(x);
    return;
  }
  double h = std::floor(x * 0x1p-64);  // exact: scaling by a power of two
  double l = x - h * 0x1p64;           // exact: the low part of a 53-bit mantissa
  hi = static_cast<u64>(h);
  lo = static_cast<u64>(l);
}

// (hi * 2^64 + lo) mod q, negated when neg; hi < 2^62.
inline u64 reduce_wide(u64 hi, u64 lo, bool neg, const Modulus& m) {
  u64 r = arith::barrett_reduce_128((u128(arith::barrett_reduce_64(hi, m)) << 64) | lo, m);
  return neg ? arith::neg_mod(r, m.value()) : r;
}

// Little-endian multiword unsigned integers of a fixed word count.
using Words = std::vector<u64>;

// acc = acc * q + d over w words (no overflow by construction).
inline void mul_add_word(u64* acc, std::size_t w, u64 q, u64 d) {
  u64 carry = d;
  for (std::size_t i = 0; i < w; ++i) {
    u128 t = u128(acc[i]) * q + carry;
    acc[i] = static_cast<u64>(t);
    carry = static_cast<u64>(t >> 64);
  }
}

inline bool greater(const u64* a, const u64* b, std::size_t w) {
  for (std::size_t i = w; i-- > 0;)
    if (a[i] != b[i]) return a[i] > b[i];
  return false;
}

// a = b - a (b >= a).
inline void reverse_subtract(u64* a, const u64* b, std::size_t w) {
  u64 borrow = 0;
  for (std::size_t i = 0; i < w; ++i) {
    u128 t = u128(b[i]) - a[i] - borrow;
    a[i] = static_cast<u64>(t);
    borrow = static_cast<u64>(t >> 64) & 1;
  }
}

// Correctly rounded double of a multiword magnitude: the top 128 bits, with
// any nonzero lower bits folded into the lowest bit as a sticky bit.
inline double words_to_double(const u64* a, std::size_t w) {
  std::size_t top = w;
  while (top > 0 && a[top - 1] == 0) --top;
  if (top <= 2) return static_cast<double>((u128(top == 2 ? a[1] : 0) << 64) | (top >= 1 ? a[0] : 0));
  std::size_t t = top - 1;  // index of the top nonzero word, >= 2
  int lz = __builtin_clzll(a[t]);
  u128 window = (u128(a[t]) << 64) | a[t - 1];
  u64 below = a[t - 2];
  if (lz) window = (window << lz) | (below >> (64 - lz));
  bool sticky = (lz ? (below << lz) : below) != 0;
  for (std::size_t i = 0; i + 2 < t && !sticky; ++i) sticky = a[i] != 0;
  if (sticky) window |= 1;
  return std::ldexp(static_cast<double>(window), static_cast<int>(64 * (t - 1)) - lz);
}

// The double of x (negative false) or of -(modulus - x) (negative true),
// x < 2^127. Branch-free on the sign, which is random in decoded data; the
// common magnitude below 2^64 converts in one instruction, larger ones through
// the correctly rounded 128-bit conversion.
inline double signed_to_double(u128 x, u128 modulus, bool negative) {
  const u128 mask = u128(0) - static_cast<u128>(negative);
  const u128 mag = (x & ~mask) | ((modulus - x) & mask);
  const u64 hi = static_cast<u64>(mag >> 64);
  const double v = hi == 0 ? static_cast<double>(static_cast<u64>(mag)) : static_cast<double>(mag);
  return negative ? -v : v;  // compiles to a sign-bit xor, not a branch
}

// Per-call CRT data for a list of primes (cheap: O(L^2) modular operations).
struct CrtPlan {
  const std::vector<Modulus>* primes = nullptr;
  std::size_t count = 0;
  // Garner: digit i = (r_i - sum_{j<i} d_j * p_mod[i][j]) * inv[i] mod q_i, with
  // p_mod[i][j] = (q_0 ... q_{j-1}) mod q_i and inv[i] = (q_0 ... q_{i-1})^-1 mod q_i;
  // then x = d_0 + q_0 (d_1 + q_1 (d_2 + ...)) in [0, Q).
  std::vector<u64> p_mod;  // count x count, row i uses j < i
  std::vector<u64> inv, inv_shoup;
  // Q and floor(Q / 2) as `words` little-endian words; fits128 when Q < 2^127.
  std::size_t words = 0;
  Words big_q, half_q;
  bool fits128 = false;
  u128 q128 = 0, half128 = 0;
  // Fast path for large Q: low = number of leading primes whose product
  // P_low is below 2^127. When the digits from `low` up are all 0 the value is
  // the low part x_low; when they are all q_i - 1 it is -(P_low - x_low).
  std::size_t low = 0;
  u128 p_low = 1;
};

CrtPlan make_crt_plan(const std::vector<Modulus>& primes) {
  CrtPlan p;
  p.primes = &primes;
  p.count = primes.size();
  p.p_mod.assign(p.count * p.count, 0);
  p.inv.resize(p.count);
  p.inv_shoup.resize(p.count);
  for (std::size_t i = 0; i < p.count; ++i) {
    const Modulus& m = primes[i];
    u64 prod = 1 % m.value();
    for (std::size_t j = 0; j < i; ++j) {
      p.p_mod[i * p.count + j] = prod;
      prod = arith::mul_mod(prod, arith::barrett_reduce_64(primes[j].value(), m), m);
    }
    SECURINFER_CHECK(i == 0 || std::gcd(prod, m.value()) == 1, ParameterError,
                     "decode: the primes must be pairwise coprime");
    p.inv[i] = arith::inv_mod(prod, m.value());
    p.inv_shoup[i] = arith::shoup_precompute(p.inv[i], m.value());
  }
  p.big_q.assign(p.count + 1, 0);
  p.big_q[0] = 1;
  for (const auto& m : primes) mul_add_word(p.big_q.data(), p.big_q.size(), m.value(), 0);
  p.words = p.big_q.size();
  while (p.words > 1 && p.big_q[p.words - 1] == 0) --p.words;
  p.big_q.resize(p.words);
  p.half_q = p.big_q;
  for (std::size_t i = 0; i < p.words; ++i)  // floor(Q / 2): shift right by one
    p.half_q[i] = (p.big_q[i] >> 1) | (i + 1 < p.words ? p.big_q[i + 1] << 63 : 0);
  if (p.words == 1 || (p.words == 2 && (p.big_q[1] >> 63) == 0)) {
    p.fits128 = true;
    p.q128 = (u128(p.words == 2 ? p.big_q[1] : 0) << 64) | p.big_q[0];
    p.half128 = p.q128 >> 1;
  }
  while (p.low < p.count && p.p_low <= ((u128(1) << 127) - 1) / primes[p.low].value()) p.p_low *= primes[p.low++].value();
  return p;
}

// The usual case first: decrypted values far below q_0 / 2. The centred
// residue x' modulo q_0 is the value x when it agrees with every other
// residue: then x' = x modulo every prime, hence modulo Q, and both lie in
// (-Q/2, Q/2). One reduction per coefficient and prime, where Garner's digits
// take O(primes^2) products. False (nothing written that counts) when some
// coefficient of the block disagrees or a residue is unreduced: the exact
// lift below then decides, and reports the unreduced residue.
bool lift_from_first_prime(const CrtPlan& p, const u64* residues, std::size_t stride, std::size_t b0,
                           std::size_t m, double* out) {
  const auto& primes = *p.primes;
  const u64 q0 = primes[0].value(), half = q0 >> 1;
  const u64* r0 = residues + b0;
  bool agree = true;
  for (std::size_t k = 0; k < m; ++k) agree &= r0[k] < q0;
  for (std::size_t i = 1; i < p.count && agree; ++i) {
    const Modulus& mod = primes[i];
    const u64 qi = mod.value(), q0_mod = arith::barrett_reduce_64(q0, mod);
    const u64* ri = residues + i * stride + b0;
    for (std::size_t k = 0; k < m; ++k) {
      // x' mod q_i: r_0 mod q_i, less q_0 mod q_i where x' = r_0 - q_0.
      const u64 v = arith::barrett_reduce_64(r0[k], mod);
      const u64 want = r0[k] > half ? arith::sub_mod(v, q0_mod, qi) : v;
      if (want != ri[k]) return false;
    }
  }
  if (!agree) return false;
  for (std::size_t k = 0; k < m; ++k)
    out[b0 + k] = r0[k] > half ? -static_cast<double>(q0 - r0[k]) : static_cast<double>(r0[k]);
  return true;
}

// Centered lift of coefficients [begin, end) to doubles (not yet divided by
// scale). Column-major: each step runs over a block of coefficients with the
// prime's constants fixed, which keeps the loops tight.
void crt_lift(const CrtPlan& p, const u64* residues, std::size_t stride, std::size_t begin, std::size_t end,
              double* out) {
  const auto& primes = *p.primes;
  if (p.count == 1) {
    const u64 q = primes[0].value(), half = q >> 1;
    bool reduced = true;
    for (std::size_t k = begin; k < end; ++k) {
      const u64 r = residues[k];
      reduced &= r < q;
      out[k] = r > half ? -static_cast<double>(q - r) : static_cast<double>(r);
    }
    SECURINFER_CHECK(reduced, ParameterError, "decode: residue not reduced modulo its prime");
    return;
  }
  constexpr std::size_t kBlock = 128;
  const std::size_t count = p.count, words = p.words;
  std::vector<u64> digit(count * kBlock);  // digit[i * kBlock + k]
  std::vector<u128> sum(kBlock);
  std::vector<u64> acc(words * kBlock);    // acc[w * kBlock + k], little-endian words
  std::vector<u64> value(words);
  for (std::size_t b0 = begin; b0 < end; b0 += kBlock) {
    const std::size_t m = std::min(kBlock, end - b0);
    if (lift_from_first_prime(p, residues, stride, b0, m, out)) continue;
    // Garner digits: d_i = (r_i - sum_{j<i} d_j * p_mod[i][j]) * inv_i mod q_i.
    for (std::size_t i = 0; i < count; ++i) {
      const Modulus& mod = primes[i];
      const u64 qi = mod.value();
      const u64* r = residues + i * stride + b0;
      u64* di = &digit[i * kBlock];
      bool reduced = true;
      if (i == 0) {
        for (std::size_t k = 0; k < m; ++k) {
          reduced &= r[k] < qi;
          di[k] = r[k];
        }
        SECURINFER_CHECK(reduced, ParameterError, "decode: residue not reduced modulo its prime");
        continue;
      }
      std::fill(sum.begin(), sum.begin() + m, u128(0));
      for (std::size_t j = 0; j < i; ++j) {
        const u64 c = p.p_mod[i * count + j];
        const u64* dj = &digit[j * kBlock];
        for (std::size_t k = 0; k < m; ++k) sum[k] += u128(dj[k]) * c;
        // Terms are below 2^60 * q_i: reduce every 15 to stay in Barrett's range (2^64 * q_i).
        if (j % 15 == 14)
          for (std::size_t k = 0; k < m; ++k) sum[k] = arith::barrett_reduce_128(sum[k], mod);
      }
      const u64 inv = p.inv[i], inv_shoup = p.inv_shoup[i];
      for (std::size_t k = 0; k < m; ++k) {
        reduced &= r[k] < qi;
        const u64 diff = arith::sub_mod(r[k], arith::barrett_reduce_128(sum[k], mod), qi);
        di[k] = arith::mul_shoup(diff, inv, inv_shoup, qi);
      }
      SECURINFER_CHECK(reduced, ParameterError, "decode: residue not reduced modulo its prime");
    }
    if (p.fits128) {
      // x = d_0 + q_0 (d_1 + q_1 (...)) < Q < 2^127.
      for (std::size_t k = 0; k < m; ++k) {
        u128 x = digit[(count - 1) * kBlock + k];
        for (std::size_t i = count - 1; i-- > 0;) x = x * primes[i].value() + digit[i * kBlock + k];
        out[b0 + k] = signed_to_double(x, p.q128, x > p.half128);
      }
      continue;
    }
    // Usual case (decrypted values are far below Q): every coefficient of the
    // block has its high digits all zero or all maximal; u128 suffices.
    bool all_fast = true;
    for (std::size_t k = 0; k < m && all_fast; ++k) {
      bool zero = true, full = true;
      for (std::size_t i = p.low; i < count; ++i) {
        const u64 d = digit[i * kBlock + k];
        zero &= d == 0;
        full &= d == primes[i].value() - 1;
      }
      all_fast = zero || full;
    }
    if (all_fast) {
      const u64 top_max = primes[count - 1].value() - 1;
      for (std::size_t k = 0; k < m; ++k) {
        u128 x = digit[(p.low - 1) * kBlock + k];
        for (std::size_t i = p.low - 1; i-- > 0;) x = x * primes[i].value() + digit[i * kBlock + k];
        const bool negative = digit[(count - 1) * kBlock + k] == top_max;  // "all maximal"
        out[b0 + k] = signed_to_double(x, p.p_low, negative);
      }
      continue;
    }
    // Multiword Horner, word by word over the block; `live` words can be nonzero.
    std::fill(acc.begin(), acc.end(), 0);
    std::copy(&digit[(count - 1) * kBlock], &digit[(count - 1) * kBlock] + m, acc.begin());
    std::size_t live = 1;
    for (std::size_t i = count - 1; i-- > 0;) {
      const u64 qi = primes[i].value();
      u64* carry = &digit[i * kBlock];  // the digit enters as the first carry; consumed here
      for (std::size_t w = 0; w < live; ++w) {
        u64* aw = &acc[w * kBlock];
        for (std::size_t k = 0; k < m; ++k) {
          const u128 t = u128(aw[k]) * qi + carry[k];
          aw[k] = static_cast<u64>(t);
          carry[k] = static_cast<u64>(t >> 64);
        }
      }
      if (live < words) {
        std::copy(carry, carry + m, &acc[live * kBlock]);
        ++live;
      }
    }
    for (std::size_t k = 0; k < m; ++k) {
      for (std::size_t w = 0; w < words; ++w) value[w] = acc[w * kBlock + k];
      const bool negative = greater(value.data(), p.half_q.data(), words);
      if (negative) reverse_subtract(value.data(), p.big_q.data(), words);
      const double v = words_to_double(value.data(), words);
      out[b0 + k] = negative ? -v : v;
    }
  }
}

}  // namespace

CkksEncoder::CkksEncoder(std::size_t poly_degree) : n_(poly_degree) {
  SECURINFER_CHECK(poly_degree >= 4 && poly_degree <= (std::size_t(1) << 17) &&
                       (poly_degree & (poly_degree - 1)) == 0,
                   ParameterError, "CkksEncoder: poly_degree must be a power of two in [4, 2^17]");
  const std::size_t slots = n_ / 2;
  const std::size_t log_slots = log2_exact(slots);
  // Twiddles in long double so each is within an ulp of the true root.
  tw_re_.assign(slots, 0.0);
  tw_im_.assign(slots, 0.0);
  for (std::size_t h = 1; h < slots; h <<= 1)
    for (std::size_t k = 0; k < h; ++k) {
      long double angle = kPi * static_cast<long double>(k) / static_cast<long double>(h);
      tw_re_[h + k] = static_cast<double>(std::cos(angle));
      tw_im_[h + k] = static_cast<double>(std::sin(angle));
    }
  twist_re_.resize(slots);
  twist_im_.resize(slots);
  for (std::size_t k = 0; k < slots; ++k) {
    long double angle = kPi * static_cast<long double>(k) / static_cast<long double>(n_);
    twist_re_[k] = static_cast<double>(std::cos(angle));
    twist_im_[k] = static_cast<double>(std::sin(angle));
  }
  // Slot j is the root zeta^(5^j mod 2N) = zeta^(1 + 4t): DFT index t.
  slot_pos_.resize(slots);
  const std::size_t two_n = 2 * n_;
  std::size_t e = 1;
  for (std::size_t j = 0; j < slots; ++j) {
    slot_pos_[j] = bit_reverse(static_cast<std::uint32_t>((e - 1) / 4), log_slots);
    e = (e * 5) % two_n;
  }
}

namespace {

// One radix-2 stage of half-size h on every block. Forward (DIF):
// (a, b) -> (a + b, (a - b) w); inverse (DIT): (a, b) -> (a + b conj(w), a - b conj(w)).
// The h = 1 stage has w = 1 and is done separately: a length-1 inner loop
// costs more in loop overhead than in arithmetic.
template <bool kForward>
inline void fft_stage(double* __restrict re, double* __restrict im, const double* __restrict wr,
                      const double* __restrict wi, std::size_t slots, std::size_t h) {
  for (std::size_t start = 0; start < slots; start += 2 * h) {
    double* __restrict ar = re + start;
    double* __restrict ai = im + start;
    double* __restrict br = ar + h;
    double* __restrict bi = ai + h;
    for (std::size_t k = 0; k < h; ++k) {
      const double xr = ar[k], xi = ai[k], yr = br[k], yi = bi[k];
      if (kForward) {
        const double dr = xr - yr, di = xi - yi;
        ar[k] = xr + yr;
        ai[k] = xi + yi;
        br[k] = dr * wr[k] - di * wi[k];
        bi[k] = dr * wi[k] + di * wr[k];
      } else {
        const double tr = yr * wr[k] + yi * wi[k], ti = yi * wr[k] - yr * wi[k];
        ar[k] = xr + tr;
        ai[k] = xi + ti;
        br[k] = xr - tr;
        bi[k] = xi - ti;
      }
    }
  }
}

inline void fft_pairs(double* __restrict re, double* __restrict im, std::size_t slots) {
  for (std::size_t k = 0; k < slots; k += 2) {
    const double xr = re[k], xi = im[k], yr = re[k + 1], yi = im[k + 1];
    re[k] = xr + yr;
    im[k] = xi + yi;
    re[k + 1] = xr - yr;
    im[k + 1] = xi - yi;
  }
}

}  // namespace

void CkksEncoder::fft_forward(double* re, double* im) const {
  const std::size_t slots = n_ / 2;
  for (std::size_t h = slots / 2; h >= 2; h >>= 1) fft_stage<true>(re, im, &tw_re_[h], &tw_im_[h], slots, h);
  fft_pairs(re, im, slots);
}

void CkksEncoder::fft_inverse(double* re, double* im) const {
  const std::size_t slots = n_ / 2;
  fft_pairs(re, im, slots);
  for (std::size_t h = 2; h < slots; h <<= 1) fft_stage<false>(re, im, &tw_re_[h], &tw_im_[h], slots, h);
}

void CkksEncoder::encode(const std::complex<double>* values, std::size_t count, double scale,
                         const std::vector<Modulus>& primes, std::uint64_t* out) const {
  const std::size_t slots = n_ / 2;
  SECURINFER_CHECK(count <= slots, ParameterError, "encode: more values than slots");
  SECURINFER_CHECK(std::isfinite(scale) && scale > 0, ParameterError, "encode: scale must be finite and > 0");
  SECURINFER_CHECK(!primes.empty(), ParameterError, "encode: at least one prime is needed");
  SECURINFER_CHECK(count == 0 || values != nullptr, ParameterError, "encode: values is null");

  AlignedVector<double> re(slots, 0.0), im(slots, 0.0);
  bool finite = true;
  for (std::size_t j = 0; j < count; ++j) {
    const double vr = values[j].real(), vi = values[j].imag();
    finite &= std::isfinite(vr) & std::isfinite(vi);
    re[slot_pos_[j]] = vr;
    im[slot_pos_[j]] = vi;
  }
  SECURINFER_CHECK(finite, ParameterError, "encode: values contain NaN or infinity");
  fft_inverse(re.data(), im.data());

  // c_k = y_k zeta^(-k) / slots; p_k = Re c_k, p_{k + slots} = Im c_k; round scale * p.
  const double factor = scale / static_cast<double>(slots);
  bool in_range = true;
  double max_abs = 0;
  for (std::size_t k = 0; k < slots; ++k) {
    const double yr = re[k], yi = im[k], tr = twist_re_[k], ti = twist_im_[k];
    const double lo = round_to_integer((yr * tr + yi * ti) * factor);
    const double hi = round_to_integer((yi * tr - yr * ti) * factor);
    re[k] = lo;
    im[k] = hi;
    const double a = std::max(std::fabs(lo), std::fabs(hi));
    in_range &= a < 0x1p126;  // false for NaN and infinity too
    max_abs = std::max(max_abs, a);
  }
  // Bound: |m_k| < min(Q / 2, 2^126), i.e. 2 |m_k| < Q when Q < 2^127.
  u128 q = 1;
  bool q_small = true;
  for (const auto& m : primes) {
    if (q > ((u128(1) << 127) - 1) / m.value()) {
      q_small = false;
      break;
    }
    q *= m.value();
  }
  if (in_range && q_small) {
    u64 hi, lo;
    split_magnitude(max_abs, hi, lo);
    in_range = ((u128(hi) << 64) | lo) * 2 < q;
  }
  SECURINFER_CHECK(in_range, ParameterError, "encode: values too large for this scale and modulus");

  const bool narrow = max_abs < 0x1p63;
  auto limb = [&](std::size_t i) {
    const Modulus& m = primes[i];
    std::uint64_t* dst = out + i * n_;
    for (std::size_t half = 0; half < 2; ++half) {
      const double* src = half == 0 ? re.data() : im.data();
      std::uint64_t* d = dst + half * slots;
      if (narrow) {
        for (std::size_t k = 0; k < slots; ++k) {
          const std::int64_t x = static_cast<std::int64_t>(src[k]);
          const u64 neg = 0 - (static_cast<u64>(x) >> 63);
          const u64 r = arith::barrett_reduce_64((static_cast<u64>(x) ^ neg) - neg, m);
          d[k] = neg ? arith::neg_mod(r, m.value()) : r;
        }
      } else {
        for (std::size_t k = 0; k < slots; ++k) {
          u64 hi, lo;
          split_magnitude(std::fabs(src[k]), hi, lo);
          d[k] = reduce_wide(hi, lo, src[k] < 0, m);
        }
      }
    }
  };
  if (primes.size() > 1 && n_ * primes.size() >= (std::size_t(1) << 17))
    parallel_for(0, primes.size(), limb);
  else
    for (std::size_t i = 0; i < primes.size(); ++i) limb(i);
}

void CkksEncoder::decode(const std::uint64_t* residues, const std::vector<Modulus>& primes, double scale,
                         std::complex<double>* out) const {
  const std::size_t slots = n_ / 2;
  SECURINFER_CHECK(std::isfinite(scale) && scale > 0, ParameterError, "decode: scale must be finite and > 0");
  SECURINFER_CHECK(!primes.empty(), ParameterError, "decode: at least one prime is needed");
  const CrtPlan plan = make_crt_plan(primes);

  AlignedVector<double> coef(n_);
  // Exact CRT is the expensive part with many primes: split coefficients in chunks.
  constexpr std::size_t kChunk = 2048;
  const std::size_t chunks = (n_ + kChunk - 1) / kChunk;
  auto lift_chunk = [&](std::size_t c) {
    crt_lift(plan, residues, n_, c * kChunk, std::min(n_, (c + 1) * kChunk), coef.data());
  };
  if (chunks > 1 && n_ * primes.size() >= (std::size_t(1) << 15))
    parallel_for(0, chunks, lift_chunk);
  else
    for (std::size_t c = 0; c < chunks; ++c) lift_chunk(c);

  AlignedVector<double> re(slots), im(slots);
  const double inv_scale = 1.0 / scale;
  for (std::size_t k = 0; k < slots; ++k) {
    const double pr = coef[k] * inv_scale, pi = coef[k + slots] * inv_scale;
    re[k] = pr * twist_re_[k] - pi * twist_im_[k];
    im[k] = pr * twist_im_[k] + pi * twist_re_[k];
  }
  fft_forward(re.data(), im.data());
  for (std::size_t j = 0; j < slots; ++j) out[j] = std::complex<double>(re[slot_pos_[j]], im[slot_pos_[j]]);
  // Decoding is the last step of decryption: m + e (not to be known beyond its
  // result) must not stay in freed blocks.
  secure_wipe(coef.data(), coef.size() * sizeof(double));
  secure_wipe(re.data(), re.size() * sizeof(double));
  secure_wipe(im.data(), im.size() * sizeof(double));
}

}  // namespace securinfer::ckks
