#include "arith/primes.h"

#include <algorithm>
#include <string>

#include "arith/modarith.h"
#include "util/errors.h"

namespace securinfer::arith {
namespace {

u64 mul_mod_plain(u64 a, u64 b, u64 n) { return static_cast<u64>(u128(a) * b % n); }

u64 pow_mod_plain(u64 base, u64 e, u64 n) {
  u64 r = 1 % n;
  base %= n;
  while (e) {
    if (e & 1) r = mul_mod_plain(r, base, n);
    base = mul_mod_plain(base, base, n);
    e >>= 1;
  }
  return r;
}

bool is_power_of_two(std::size_t n) { return n && !(n & (n - 1)); }

}  // namespace

bool is_prime(u64 n) {
  if (n < 2) return false;
  static const u64 small[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  for (u64 p : small) {
    if (n % p == 0) return n == p;
  }
  u64 d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  // These twelve bases are a proven deterministic set below 3.3e24 > 2^64.
  for (u64 a : small) {
    u64 x = pow_mod_plain(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; ++r) {
      x = mul_mod_plain(x, x, n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

std::vector<u64> generate_ntt_primes(int bits, std::size_t poly_degree, std::size_t count,
                                     const std::vector<u64>& exclude) {
  SECURINFER_CHECK(bits >= 10 && bits <= kMaxModulusBits, ParameterError,
                   "prime bit size must be between 10 and 60, got " + std::to_string(bits));
  SECURINFER_CHECK(is_power_of_two(poly_degree) && poly_degree >= 2 && poly_degree <= (std::size_t(1) << 17),
                   ParameterError, "poly_degree must be a power of two in [2, 2^17]");
  const u64 step = 2 * static_cast<u64>(poly_degree);
  const u64 lower = u64(1) << (bits - 1);
  // Largest value below 2^bits congruent to 1 mod step.
  u64 candidate = ((u64(1) << bits) - 1) / step * step + 1;
  if (candidate >= (u64(1) << bits)) candidate -= step;
  std::vector<u64> primes;
  while (primes.size() < count) {
    SECURINFER_CHECK(candidate > lower, ParameterError,
                     "not enough " + std::to_string(bits) + "-bit primes congruent to 1 mod " +
                         std::to_string(step));
    if (is_prime(candidate) && std::find(exclude.begin(), exclude.end(), candidate) == exclude.end()) {
      primes.push_back(candidate);
    }
    candidate -= step;
  }
  return primes;
}

u64 minimal_primitive_root(std::size_t two_n, u64 q) {
  SECURINFER_CHECK(is_power_of_two(two_n) && two_n >= 2, ParameterError, "root order must be a power of two");
  SECURINFER_CHECK(is_prime(q), ParameterError, "modulus " + std::to_string(q) + " is not prime");
  SECURINFER_CHECK((q - 1) % two_n == 0, ParameterError,
                   "modulus " + std::to_string(q) + " is not 1 mod " + std::to_string(two_n));
  const u64 cofactor = (q - 1) / two_n;
  u64 root = 0;
  for (u64 g = 2; g < q; ++g) {
    u64 x = pow_mod_plain(g, cofactor, q);
    // x has order dividing 2N; it is primitive iff x^N = -1.
    if (pow_mod_plain(x, two_n / 2, q) == q - 1) {
      root = x;
      break;
    }
  }
  SECURINFER_CHECK(root != 0, ParameterError, "no primitive root found");
  // The primitive 2N-th roots are root^k for odd k: take the smallest.
  const u64 root_sq = mul_mod_plain(root, root, q);
  u64 best = root, current = root;
  for (std::size_t k = 1; k < two_n / 2; ++k) {
    current = mul_mod_plain(current, root_sq, q);
    best = std::min(best, current);
  }
  return best;
}

}  // namespace securinfer::arith
