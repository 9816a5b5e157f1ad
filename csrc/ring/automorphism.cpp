#include "ring/automorphism.h"

#include "util/errors.h"

namespace securinfer::ring {
namespace {

std::size_t bit_reverse(std::size_t x, int bits) {
  std::size_t r = 0;
  for (int i = 0; i < bits; ++i) r |= ((x >> i) & 1) << (bits - 1 - i);
  return r;
}

}  // namespace

std::vector<std::uint32_t> galois_permutation(std::size_t n, std::uint64_t g) {
  SECURINFER_CHECK(g % 2 == 1 && g < 2 * n, ParameterError, "Galois element must be odd and below 2N");
  const int log_n = __builtin_ctzll(n);
  const std::uint64_t mask = 2 * n - 1;
  std::vector<std::uint32_t> perm(n);
  // NTT slot k holds the value at psi^(2 bitrev(k) + 1); the automorphism
  // moves the value at psi^(e g) to the slot of psi^e.
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint64_t e = 2 * bit_reverse(k, log_n) + 1;
    const std::uint64_t target = (e * g) & mask;
    perm[k] = static_cast<std::uint32_t>(bit_reverse((target - 1) / 2, log_n));
  }
  return perm;
}

std::uint64_t rotation_galois_element(std::size_t n, long long step) {
  const long long slots = static_cast<long long>(n / 2);
  long long r = step % slots;
  if (r < 0) r += slots;
  const std::uint64_t mask = 2 * n - 1;
  std::uint64_t g = 1;
  for (long long i = 0; i < r; ++i) g = (g * 5) & mask;
  return g;
}

}  // namespace securinfer::ring
