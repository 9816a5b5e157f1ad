// Portable reference NTT: Harvey's butterflies with lazy reduction.
#include "arith/modarith.h"
#include "ntt/ntt_kernels.h"

namespace securinfer::ntt {

using arith::mul_shoup;
using arith::mul_shoup_lazy;

void forward_scalar(std::uint64_t* a, const NttTables& t) {
  const std::uint64_t q = t.q, two_q = 2 * q;
  const std::size_t n = t.n;
  // Values stay in [0, 4q) between stages (4q < 2^62 for q < 2^60).
  auto butterfly = [q, two_q](std::uint64_t& x, std::uint64_t& y, std::uint64_t w, std::uint64_t w_shoup) {
    std::uint64_t u = x;
    u = u >= two_q ? u - two_q : u;
    const std::uint64_t v = mul_shoup_lazy(y, w, w_shoup, q);
    x = u + v;
    y = u - v + two_q;
  };
  std::size_t m = 1, gap = n / 2;
  for (; gap >= 4; m <<= 1, gap >>= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint64_t w = t.root[m + i], w_shoup = t.root_shoup[m + i];
      std::uint64_t* __restrict x = a + 2 * i * gap;
      std::uint64_t* __restrict y = x + gap;
      for (std::size_t j = 0; j < gap; ++j) butterfly(x[j], y[j], w, w_shoup);
    }
  }
  // The last stages (distance 2, then 1) as flat loops: the per-group
  // overhead of the generic loop would cost as much as the butterflies.
  if (gap == 2) {
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint64_t w = t.root[m + i], w_shoup = t.root_shoup[m + i];
      std::uint64_t* x = a + 4 * i;
      butterfly(x[0], x[2], w, w_shoup);
      butterfly(x[1], x[3], w, w_shoup);
    }
    m <<= 1;
  }
  // Distance 1, with the final reduction to [0, q) fused in.
  for (std::size_t i = 0; i < m; ++i) {
    std::uint64_t* x = a + 2 * i;
    butterfly(x[0], x[1], t.root[m + i], t.root_shoup[m + i]);
    for (int k = 0; k < 2; ++k) {
      std::uint64_t u = x[k];
      u = u >= two_q ? u - two_q : u;
      x[k] = u >= q ? u - q : u;
    }
  }
}

void inverse_scalar(std::uint64_t* a, const NttTables& t) {
  const std::uint64_t q = t.q, two_q = 2 * q;
  const std::size_t n = t.n;
  // Values stay in [0, 2q) between stages.
  auto butterfly = [q, two_q](std::uint64_t& x, std::uint64_t& y, std::uint64_t w, std::uint64_t w_shoup) {
    const std::uint64_t u = x, v = y;
    const std::uint64_t s = u + v;
    x = s >= two_q ? s - two_q : s;
    y = mul_shoup_lazy(u - v + two_q, w, w_shoup, q);
  };
  std::size_t m = n / 2, gap = 1;
  if (n >= 4) {
    // Distance 1 as a flat loop.
    for (std::size_t i = 0; i < m; ++i) butterfly(a[2 * i], a[2 * i + 1], t.inv_root[m + i], t.inv_root_shoup[m + i]);
    m >>= 1;
    gap <<= 1;
  }
  for (; m >= 2; m >>= 1, gap <<= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint64_t w = t.inv_root[m + i], w_shoup = t.inv_root_shoup[m + i];
      std::uint64_t* __restrict x = a + 2 * i * gap;
      std::uint64_t* __restrict y = x + gap;
      for (std::size_t j = 0; j < gap; ++j) butterfly(x[j], y[j], w, w_shoup);
    }
  }
  // The last stage (m = 1) with the 1/n scaling folded in: even outputs take
  // n^-1, odd ones inv_root[1] n^-1.
  const std::uint64_t ni = t.n_inv, ni_shoup = t.n_inv_shoup;
  const std::uint64_t wi = t.inv_root1_n_inv, wi_shoup = t.inv_root1_n_inv_shoup;
  std::uint64_t* __restrict x = a;
  std::uint64_t* __restrict y = a + gap;
  for (std::size_t j = 0; j < gap; ++j) {
    const std::uint64_t u = x[j], v = y[j];
    x[j] = mul_shoup(u + v, ni, ni_shoup, q);
    y[j] = mul_shoup(u - v + two_q, wi, wi_shoup, q);
  }
}

}  // namespace securinfer::ntt
