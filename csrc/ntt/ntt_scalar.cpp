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
  for (std::size_t m = 1, gap = n / 2; m < n; m <<= 1, gap >>= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint64_t w = t.root[m + i], w_shoup = t.root_shoup[m + i];
      std::uint64_t* x = a + 2 * i * gap;
      std::uint64_t* y = x + gap;
      for (std::size_t j = 0; j < gap; ++j) {
        std::uint64_t u = x[j];
        u = u >= two_q ? u - two_q : u;
        const std::uint64_t v = mul_shoup_lazy(y[j], w, w_shoup, q);
        x[j] = u + v;
        y[j] = u - v + two_q;
      }
    }
  }
  for (std::size_t j = 0; j < n; ++j) {
    std::uint64_t u = a[j];
    u = u >= two_q ? u - two_q : u;
    a[j] = u >= q ? u - q : u;
  }
}

void inverse_scalar(std::uint64_t* a, const NttTables& t) {
  const std::uint64_t q = t.q, two_q = 2 * q;
  const std::size_t n = t.n;
  // Values stay in [0, 2q) between stages.
  for (std::size_t m = n / 2, gap = 1; m >= 1; m >>= 1, gap <<= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint64_t w = t.inv_root[m + i], w_shoup = t.inv_root_shoup[m + i];
      std::uint64_t* x = a + 2 * i * gap;
      std::uint64_t* y = x + gap;
      for (std::size_t j = 0; j < gap; ++j) {
        const std::uint64_t u = x[j], v = y[j];
        std::uint64_t s = u + v;
        x[j] = s >= two_q ? s - two_q : s;
        y[j] = mul_shoup_lazy(u - v + two_q, w, w_shoup, q);
      }
    }
  }
  for (std::size_t j = 0; j < n; ++j) a[j] = mul_shoup(a[j], t.n_inv, t.n_inv_shoup, q);
}

}  // namespace securinfer::ntt
