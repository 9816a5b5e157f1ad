// Samplers (see sampling.h for the exact stream-consumption contract).
#include "ring/sampling.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/aligned_buffer.h"
#include "util/errors.h"
#include "util/thread_pool.h"

namespace securinfer::ring {
namespace {

using arith::u64;

// Words are defined as little-endian byte groups of the keystream.
inline void words_from_keystream(u64* w, std::size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (std::size_t k = 0; k < n; ++k) w[k] = __builtin_bswap64(w[k]);
#else
  (void)w;
  (void)n;
#endif
}

void fill_words(ChaCha20Prng& prng, u64* w, std::size_t n) {
  prng.fill(reinterpret_cast<std::uint8_t*>(w), n * sizeof(u64));
  words_from_keystream(w, n);
}

// Cumulative table of the magnitude |v| of the rounded, tail-cut Gaussian:
// magnitude = #{a : u >= threshold[a]} for u uniform in [0, 2^63).
constexpr std::size_t kMaxTable = 64;
struct MagnitudeTable {
  u64 threshold[kMaxTable];
  std::size_t size = 0;  // number of thresholds = largest magnitude
};

MagnitudeTable build_table(double sigma, double max_deviation, std::size_t largest) {
  MagnitudeTable t;
  t.size = largest;
  const long double s = static_cast<long double>(sigma) * std::sqrt(2.0L);
  const long double tail_cut = std::erfc(static_cast<long double>(max_deviation) / s);  // P(|x| > M)
  const long double mass = 1.0L - tail_cut;
  for (std::size_t a = 0; a < largest; ++a) {
    // P(|v| > a | |x| <= M) from erfc differences: accurate in the far tail.
    long double tail = (std::erfc((a + 0.5L) / s) - tail_cut) / mass;
    long double scaled = std::nearbyint(tail * 0x1p63L);
    scaled = std::min(std::max(scaled, 0.0L), 0x1p63L);
    t.threshold[a] = (u64(1) << 63) - static_cast<u64>(scaled);
  }
  return t;
}

void gaussian_table(ChaCha20Prng& prng, const MagnitudeTable& t, std::int64_t* out, std::size_t n) {
  constexpr std::size_t kChunk = 256;
  u64 words[kChunk], mag[kChunk];
  for (std::size_t done = 0; done < n; done += kChunk) {
    std::size_t m = std::min(kChunk, n - done);
    fill_words(prng, words, m);
    for (std::size_t k = 0; k < m; ++k) mag[k] = 0;
    // Full branch-free scan: u >= T iff the sign bit of u - T is clear (both are
    // in [0, 2^63], so the difference cannot wrap). Threshold-outer order so the
    // inner loop vectorises with plain 64-bit adds and shifts.
    for (std::size_t a = 0; a < t.size; ++a) {
      const u64 threshold = t.threshold[a];
      for (std::size_t k = 0; k < m; ++k) mag[k] += 1 - (((words[k] >> 1) - threshold) >> 63);
    }
    for (std::size_t k = 0; k < m; ++k) {
      u64 sign = words[k] & 1;
      out[done + k] = static_cast<std::int64_t>((mag[k] ^ (0 - sign)) + sign);  // conditional negation
    }
  }
  secure_wipe(words, sizeof(words));
  secure_wipe(mag, sizeof(mag));
}

void gaussian_box_muller(ChaCha20Prng& prng, double sigma, double max_deviation, std::int64_t* out,
                         std::size_t n) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  std::size_t done = 0;
  while (done < n) {
    double u1 = prng.next_unit_double(), u2 = prng.next_unit_double();
    double r = sigma * std::sqrt(-2.0 * std::log1p(-u1));  // 1 - u1 in (0, 1]
    double pair[2] = {r * std::cos(kTwoPi * u2), r * std::sin(kTwoPi * u2)};
    for (double x : pair)
      if (done < n && std::fabs(x) <= max_deviation) out[done++] = static_cast<std::int64_t>(std::nearbyint(x));
  }
}

// v mod q for any signed v, without branching on v.
inline u64 reduce_signed(std::int64_t v, const arith::Modulus& m) {
  u64 neg = 0 - (static_cast<u64>(v) >> 63);            // all ones when v < 0
  u64 mag = (static_cast<u64>(v) ^ neg) - neg;          // |v|, also right for INT64_MIN
  u64 r = arith::barrett_reduce_64(mag, m);
  u64 flip = neg & (0 - static_cast<u64>(r != 0));      // negate only nonzero residues
  return r ^ ((r ^ (m.value() - r)) & flip);
}

template <class T>
void small_to_rns_impl(const T* v, std::size_t n, const std::vector<arith::Modulus>& primes, u64* out) {
  SECURINFER_CHECK(!primes.empty(), ParameterError, "small_to_rns needs at least one prime");
  // Fast path when every |v| < every q (the usual case): v mod q = v + (q if v < 0).
  u64 min_q = primes[0].value();
  for (const auto& m : primes) min_q = std::min(min_q, m.value());
  u64 max_mag = 0;
  for (std::size_t k = 0; k < n; ++k) {
    std::int64_t x = static_cast<std::int64_t>(v[k]);
    u64 neg = 0 - (static_cast<u64>(x) >> 63);
    max_mag = std::max(max_mag, (static_cast<u64>(x) ^ neg) - neg);
  }
  const bool small = max_mag < min_q;
  auto limb = [&](std::size_t i) {
    const arith::Modulus& m = primes[i];
    const u64 q = m.value();
    u64* dst = out + i * n;
    if (small) {
      for (std::size_t k = 0; k < n; ++k) {
        std::int64_t x = static_cast<std::int64_t>(v[k]);
        dst[k] = static_cast<u64>(x) + (q & (0 - (static_cast<u64>(x) >> 63)));
      }
    } else {
      for (std::size_t k = 0; k < n; ++k) dst[k] = reduce_signed(static_cast<std::int64_t>(v[k]), m);
    }
  };
  // Threads only pay off once there is real work per limb (a pool hand-off
  // costs tens of microseconds on a busy machine).
  if (primes.size() > 1 && n * primes.size() >= (std::size_t(1) << 17))
    parallel_for(0, primes.size(), limb);
  else
    for (std::size_t i = 0; i < primes.size(); ++i) limb(i);
}

}  // namespace

void sample_uniform_mod(ChaCha20Prng& prng, std::uint64_t q, std::uint64_t* out, std::size_t n) {
  SECURINFER_CHECK(q >= 2 && q < (u64(1) << 62), ParameterError, "sample_uniform_mod: q must be in [2, 2^62)");
  const u64 mask = (~u64(0)) >> __builtin_clzll(q - 1);  // smallest 2^b - 1 >= q - 1
  fill_words(prng, out, n);
  for (std::size_t k = 0; k < n; ++k) {
    u64 w = out[k] & mask;
    while (w >= q) w = prng.next_u64() & mask;
    out[k] = w;
  }
}

void sample_ternary(ChaCha20Prng& prng, std::int8_t* out, std::size_t n) {
  auto* bytes = reinterpret_cast<std::uint8_t*>(out);
  prng.fill(bytes, n);
  for (std::size_t k = 0; k < n; ++k) {
    std::uint8_t b = bytes[k];
    while (b == 255) prng.fill(&b, 1);  // 255 = 3 * 85: keep [0, 255) so % 3 is exact
    out[k] = static_cast<std::int8_t>(b % 3) - 1;
  }
}

void sample_gaussian(ChaCha20Prng& prng, std::int64_t* out, std::size_t n, double sigma, double max_deviation) {
  SECURINFER_CHECK(std::isfinite(sigma) && sigma > 0, ParameterError, "sample_gaussian: sigma must be finite and > 0");
  SECURINFER_CHECK(std::isfinite(max_deviation) && max_deviation > 0 && max_deviation < 0x1p52, ParameterError,
                   "sample_gaussian: max_deviation must be in (0, 2^52)");
  // Largest magnitude a whose rounding bin [a - 1/2, a + 1/2) meets [0, M].
  double largest = std::ceil(max_deviation + 0.5) - 1;
  if (largest <= static_cast<double>(kMaxTable)) {
    // The default distribution's table is built once (erfc in long double costs microseconds).
    static const MagnitudeTable kDefault = build_table(kErrorSigma, 6 * kErrorSigma, 19);
    if (sigma == kErrorSigma && max_deviation == 6 * kErrorSigma) {
      gaussian_table(prng, kDefault, out, n);
    } else {
      gaussian_table(prng, build_table(sigma, max_deviation, static_cast<std::size_t>(largest)), out, n);
    }
  } else {
    gaussian_box_muller(prng, sigma, max_deviation, out, n);
  }
}

void small_to_rns(const std::int8_t* v, std::size_t n, const std::vector<arith::Modulus>& primes,
                  std::uint64_t* out) {
  small_to_rns_impl(v, n, primes, out);
}

void small_to_rns(const std::int64_t* v, std::size_t n, const std::vector<arith::Modulus>& primes,
                  std::uint64_t* out) {
  small_to_rns_impl(v, n, primes, out);
}

}  // namespace securinfer::ring
