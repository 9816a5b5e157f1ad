// Which kernel path runs: the best one the CPU offers, capped by the
// SECURINFER_SIMD environment variable, and chosen per prime (IFMA only holds
// primes below 2^50).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace securinfer::simd {

// Ordered from the most portable to the fastest.
enum class SimdPath : int { scalar = 0, avx2 = 1, avx512 = 2, ifma = 3 };

constexpr std::uint64_t kIfmaModulusBound = std::uint64_t(1) << 50;
// Primes below this run the avx2 and avx512 paths' kernels on doubles (exact
// products from FMA); larger ones the 64-bit integer kernels.
constexpr std::uint64_t kFmaModulusBound = std::uint64_t(1) << 50;

std::string path_name(SimdPath path);
// Parses "scalar" | "avx2" | "avx512" | "ifma"; ParameterError otherwise.
SimdPath parse_path(const std::string& name);

// Paths this build can run on this CPU (the scalar one always).
std::vector<SimdPath> available_paths();
bool path_available(SimdPath path);
// True when the AVX-512 and IFMA kernels are SIMDe emulations (a test build).
bool kernels_emulated();

// The highest path in use: the best available, or SECURINFER_SIMD when set.
// Read once; a forced path that is not available throws ParameterError.
SimdPath active_path();

// The fastest path for a prime under the active cap.
SimdPath select_path(std::uint64_t modulus);
// The given path, after checking that it is available, not above the active
// cap, and valid for the prime
// (ParameterError otherwise). Tests and benchmarks call kernels through this.
SimdPath checked_path(SimdPath requested, std::uint64_t modulus);
// True when `path` runs its FMA-on-doubles kernels for this prime (avx2 and
// avx512, q < 2^50): the faster choice wherever it is valid.
bool uses_fma_doubles(SimdPath path, std::uint64_t modulus);

}  // namespace securinfer::simd
