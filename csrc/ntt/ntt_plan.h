// NttPlan: the negacyclic NTT over Z_q[X]/(X^N + 1) for one (N, q), with its
// twiddles precomputed once and its kernel path chosen when built.
//
//   NttPlan plan(8192, q);          // picks the fastest valid path
//   plan.forward(data);             // data: N words in [0, q), in place
//   plan.inverse(data);
#pragma once
#include <cstddef>
#include <cstdint>

#include "ntt/ntt_tables.h"
#include "simd/dispatch.h"

namespace securinfer::ntt {

constexpr std::size_t kMinDegree = 2;
constexpr std::size_t kMaxDegree = std::size_t(1) << 17;

class NttPlan {
 public:
  // N a power of two in [2, 2^17]; q a prime below 2^60 with q = 1 mod 2N.
  // ParameterError otherwise.
  NttPlan(std::size_t n, std::uint64_t q);
  // Same, with an explicit kernel path (checked against the CPU and the prime).
  NttPlan(std::size_t n, std::uint64_t q, simd::SimdPath path);

  std::size_t degree() const { return tables_.n; }
  std::uint64_t modulus() const { return tables_.q; }
  simd::SimdPath path() const { return path_; }
  // True when the path's kernels on doubles (FMA, q < 2^50) run.
  bool on_doubles() const { return on_doubles_; }
  const NttTables& tables() const { return tables_; }

  void forward(std::uint64_t* data) const;
  void inverse(std::uint64_t* data) const;

 private:
  NttTables tables_;
  simd::SimdPath path_;
  bool on_doubles_;
};

}  // namespace securinfer::ntt
