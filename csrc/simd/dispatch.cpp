#include "simd/dispatch.h"

#include <cstdlib>

#include "simd/cpu_features.h"
#include "util/errors.h"

namespace securinfer::simd {
namespace {

SimdPath best_available() {
  auto paths = available_paths();
  return paths.back();
}

SimdPath read_active_path() {
  const char* forced = std::getenv("SECURINFER_SIMD");
  if (forced == nullptr || *forced == '\0') return best_available();
  SimdPath path = parse_path(forced);
  if (!path_available(path)) {
    throw ParameterError("SECURINFER_SIMD=" + std::string(forced) +
                         " asks for a kernel path this CPU or build lacks; available: " + [] {
                           std::string s;
                           for (auto p : available_paths()) s += (s.empty() ? "" : ", ") + path_name(p);
                           return s;
                         }());
  }
  return path;
}

}  // namespace

std::string path_name(SimdPath path) {
  switch (path) {
    case SimdPath::scalar: return "scalar";
    case SimdPath::avx2: return "avx2";
    case SimdPath::avx512: return "avx512";
    case SimdPath::ifma: return "ifma";
  }
  return "unknown";
}

SimdPath parse_path(const std::string& name) {
  if (name == "scalar") return SimdPath::scalar;
  if (name == "avx2") return SimdPath::avx2;
  if (name == "avx512") return SimdPath::avx512;
  if (name == "ifma") return SimdPath::ifma;
  throw ParameterError("unknown SIMD path '" + name + "'; expected scalar, avx2, avx512 or ifma");
}

bool kernels_emulated() {
#if defined(SECURINFER_SIMD_EMULATION)
  return true;
#else
  return false;
#endif
}

std::vector<SimdPath> available_paths() {
  std::vector<SimdPath> paths{SimdPath::scalar};
#if defined(SECURINFER_X86_KERNELS)
  const CpuFeatures& f = cpu_features();
  if (f.avx2) paths.push_back(SimdPath::avx2);
  // An emulation build runs the AVX-512 kernels through SIMDe on any AVX2 CPU.
  if (f.avx512 || (kernels_emulated() && f.avx2)) paths.push_back(SimdPath::avx512);
  if (f.avx512_ifma || (kernels_emulated() && f.avx2)) paths.push_back(SimdPath::ifma);
#endif
  return paths;
}

bool path_available(SimdPath path) {
  for (auto p : available_paths())
    if (p == path) return true;
  return false;
}

SimdPath active_path() {
  static const SimdPath path = read_active_path();
  return path;
}

SimdPath select_path(std::uint64_t modulus) {
  SimdPath cap = active_path();
  if (cap == SimdPath::ifma && modulus >= kIfmaModulusBound) return SimdPath::avx512;
  return cap;
}

SimdPath checked_path(SimdPath requested, std::uint64_t modulus) {
  SECURINFER_CHECK(path_available(requested), ParameterError,
                   "SIMD path '" + path_name(requested) + "' is not available on this CPU or build");
  SECURINFER_CHECK(static_cast<int>(requested) <= static_cast<int>(active_path()), ParameterError,
                   "SIMD path '" + path_name(requested) + "' is above the cap SECURINFER_SIMD=" +
                       path_name(active_path()));
  SECURINFER_CHECK(requested != SimdPath::ifma || modulus < kIfmaModulusBound, ParameterError,
                   "the ifma path needs a modulus below 2^50");
  return requested;
}

bool uses_fma_doubles(SimdPath path, std::uint64_t modulus) {
  return modulus < kFmaModulusBound && (path == SimdPath::avx2 || path == SimdPath::avx512);
}

}  // namespace securinfer::simd
