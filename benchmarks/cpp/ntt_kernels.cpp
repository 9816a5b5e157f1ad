// The NTT kernels alone, without the Python wrapper's copy and range check
// (which add 5 us at N = 8192): forward NTT of a 49-bit prime per SIMD path,
// the minimum over 200 rounds of 20 calls. Build against an existing build
// directory's engine objects, from the repository root:
//
//   g++ -O2 -std=c++17 -Icsrc -DSECURINFER_X86_KERNELS=1 benchmarks/cpp/ntt_kernels.cpp \
//       $(find build -path "*securinfer_engine.dir*" -name "*.o") -lpthread -o /tmp/ntt_kernels
//   /tmp/ntt_kernels
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>
#include "arith/primes.h"
#include "ntt/ntt_plan.h"
#include "simd/dispatch.h"
using namespace securinfer;
int main() {
  for (std::size_t n : {8192u, 16384u}) {
    auto primes = arith::generate_ntt_primes(49, n, 1);
    for (auto path : simd::available_paths()) {
      ntt::NttPlan plan(n, primes[0], path);
      std::vector<std::uint64_t> a(n);
      std::mt19937_64 rng(1);
      for (auto& x : a) x = rng() % primes[0];
      double best = 1e9;
      for (int r = 0; r < 200; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 20; ++i) plan.forward(a.data());
        auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::micro>(t1 - t0).count() / 20);
      }
      std::printf("N=%zu path=%s forward %.1f us\n", n, simd::path_name(path).c_str(), best);
    }
  }
}
