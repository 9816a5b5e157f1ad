// Precomputed twiddle factors for one (N, q): what every NTT kernel reads.
#pragma once
#include <cstddef>
#include <cstdint>

#include "util/aligned_buffer.h"

namespace securinfer::ntt {

struct NttTables {
  std::size_t n = 0;       // ring degree, a power of two
  int log_n = 0;
  std::uint64_t q = 0;     // the prime, q = 1 mod 2n
  std::uint64_t psi = 0;   // primitive 2n-th root of unity used

  // Forward (Cooley-Tukey) twiddles: root[k] = psi^bitrev(k) for k in [0, n);
  // stage m (m = 1, 2, 4, ..., n/2) group i uses root[m + i].
  AlignedVector<std::uint64_t> root, root_shoup;
  // Inverse (Gentleman-Sande) twiddles: inv_root[k] = psi^-bitrev(k); stage m
  // (m = n/2, ..., 2, 1) group i uses inv_root[m + i].
  AlignedVector<std::uint64_t> inv_root, inv_root_shoup;
  std::uint64_t n_inv = 0, n_inv_shoup = 0;
  // inv_root[1] * n_inv mod q with its Shoup factor: the SIMD inverses fold the
  // 1/n scaling into their last stage (m = 1), whose odd outputs take this
  // product as twiddle and whose even outputs take n_inv.
  std::uint64_t inv_root1_n_inv = 0, inv_root1_n_inv_shoup = 0;

  // Shoup factors with 52-bit words, floor(w * 2^52 / q), for the IFMA path
  // (filled only when q < 2^50).
  AlignedVector<std::uint64_t> root_shoup52, inv_root_shoup52;
  std::uint64_t n_inv_shoup52 = 0, inv_root1_n_inv_shoup52 = 0;

  // root and inv_root as doubles (exact below 2^53), for the FMA kernels on
  // doubles (filled only when q < 2^50).
  AlignedVector<double> root_f64, inv_root_f64;
};

}  // namespace securinfer::ntt
