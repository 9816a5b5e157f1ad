// Checks of csrc/ring/csprng and csrc/ring/sampling below the Python API (run by .ci/cpp_checks.sh).
// RFC 8439 2.3.2 block vector; keystream layout against pyca/cryptography's ChaCha20 (16-byte IV =
// 64-bit counter || 64-bit stream); determinism; sampler statistics; small_to_rns against % arithmetic.
// Built and run with the portable engine sources by .ci/cpp_checks.sh.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include "ring/csprng.h"
#include "ring/sampling.h"
#include "arith/primes.h"
using namespace securinfer;
using namespace securinfer::ring;
static int fails = 0;
#define CHECK(c) do { if (!(c)) { std::printf("FAIL %s:%d %s\n", __FILE__, __LINE__, #c); ++fails; } } while (0)
static std::vector<uint8_t> hex(const char* s) { std::vector<uint8_t> v; for (size_t i = 0; s[i] && s[i+1]; i += 2) v.push_back((uint8_t)std::stoi(std::string(s+i, 2), nullptr, 16)); return v; }
int main() {
  // RFC 8439 2.3.2
  uint8_t key[32]; for (int i = 0; i < 32; ++i) key[i] = i;
  auto nonce = hex("000000090000004a00000000");
  uint8_t blk[64];
  detail::chacha20_block(key, 1, nonce.data(), blk);
  auto want = hex("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4ed2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
  CHECK(std::memcmp(blk, want.data(), 64) == 0);
  // Class layout: seed 00..1f, stream 7, 200 bytes, reference from pyca/cryptography ChaCha20
  // with 16-byte IV = counter(8 LE)=0 || stream(8 LE)=7.
  auto ref = hex("480f443fe9dbb832560a751a4ff29af7147f999fdb769ab661f0eb73b36ce7c8ed24fee9481eb65eba4b4df7f80b0121e0112217e9ca1500f74bcc2075659477f10f844822e87a8962364e33fc88109a329da241f1ed0905aa9a33e7e7e9d71c102d9619cae7f319b91841e854e47a1ad46727ee0977d824ff630ca0ef553406009ab73b27a1966ca6de60c731567666aa6672d0ed550ab77f307707dd520016c3bc18e1960c40f012aa44bde2f3f07167bbf6fdc8c5683e561bee8521ab5881186ce88690c5a3ab");
  Seed seed; for (int i = 0; i < 32; ++i) seed[i] = i;
  { ChaCha20Prng p(seed, 7); std::vector<uint8_t> b(200); p.fill(b.data(), 200); CHECK(std::memcmp(b.data(), ref.data(), 200) == 0); }
  // Odd-sized fills give the same stream as one big fill.
  { ChaCha20Prng p(seed, 7); std::vector<uint8_t> b(200); size_t pos = 0; size_t sizes[] = {1, 7, 3, 64, 0, 100, 25};
    for (size_t s : sizes) { p.fill(b.data() + pos, s); pos += s; } CHECK(pos == 200 && std::memcmp(b.data(), ref.data(), 200) == 0); }
  { ChaCha20Prng a(seed, 7), b(seed, 7); uint64_t x = a.next_u64(); uint64_t want64 = 0; for (int i = 7; i >= 0; --i) want64 = want64 << 8 | ref[i]; CHECK(x == want64); (void)b; }
  // Determinism over long runs, streams differ, seeds differ
  { ChaCha20Prng a(seed, 3), b(seed, 3), c(seed, 4); std::vector<uint8_t> x(100000), y(100000), z(100000);
    a.fill(x.data(), x.size()); b.fill(y.data(), 5); b.fill(y.data() + 5, y.size() - 5); c.fill(z.data(), z.size());
    CHECK(x == y); CHECK(x != z); size_t same = 0; for (size_t i = 0; i < x.size(); ++i) same += x[i] == z[i]; CHECK(same < 600); }
  { Seed s1 = random_seed(), s2 = random_seed(); CHECK(s1 != s2); }
  { ChaCha20Prng p(seed); double mn = 1, mx = 0, sum = 0; for (int i = 0; i < 1000000; ++i) { double d = p.next_unit_double(); mn = std::min(mn, d); mx = std::max(mx, d); sum += d; }
    CHECK(mn >= 0 && mx < 1); CHECK(std::fabs(sum / 1e6 - 0.5) < 0.002); }
  // Uniform mod
  const size_t n = 1 << 20;
  for (uint64_t q : {uint64_t(3), uint64_t(1) << 40, (uint64_t(1) << 61) + 1, uint64_t(0x3FFFFFFFFFFFFFFF), arith::generate_ntt_primes(60, 8192, 1)[0]}) {
    ChaCha20Prng p(seed, 1); std::vector<uint64_t> v(n); sample_uniform_mod(p, q, v.data(), n);
    long double mean = 0; bool ok = true; for (auto x : v) { ok &= x < q; mean += (long double)x; } mean /= n;
    double rel = (double)((mean - (q - 1) / 2.0L) / (long double)q);
    std::printf("uniform q=%llu mean rel err %.2e\n", (unsigned long long)q, rel); CHECK(ok); CHECK(std::fabs(rel) < 0.002);
    ChaCha20Prng p2(seed, 1); std::vector<uint64_t> w(n); sample_uniform_mod(p2, q, w.data(), n); CHECK(v == w);
  }
  { bool threw = false; ChaCha20Prng p(seed); uint64_t x; try { sample_uniform_mod(p, uint64_t(1) << 62, &x, 1); } catch (const ParameterError&) { threw = true; } CHECK(threw); }
  { ChaCha20Prng p(seed, 9); std::vector<uint64_t> v(300000); sample_uniform_mod(p, 3, v.data(), v.size()); size_t c[3] = {0,0,0}; for (auto x : v) c[x]++;
    for (int i = 0; i < 3; ++i) CHECK(std::fabs(c[i] / 300000.0 - 1.0 / 3) < 0.005); }
  // Ternary
  { ChaCha20Prng p(seed, 2); std::vector<int8_t> v(n); sample_ternary(p, v.data(), n); size_t c[3] = {0,0,0}; bool ok = true;
    for (auto x : v) { ok &= x >= -1 && x <= 1; c[x + 1]++; } CHECK(ok);
    std::printf("ternary freq %.4f %.4f %.4f\n", c[0] / double(n), c[1] / double(n), c[2] / double(n));
    for (int i = 0; i < 3; ++i) CHECK(std::fabs(c[i] / double(n) - 1.0 / 3) < 0.003); }
  // Gaussian
  { ChaCha20Prng p(seed, 5); const size_t m = 4 << 20; std::vector<int64_t> v(m); sample_gaussian(p, v.data(), m);
    double s = 0, s2 = 0; int64_t mx = 0; size_t hist[40] = {}; for (auto x : v) { s += x; s2 += double(x) * x; mx = std::max<int64_t>(mx, std::llabs(x)); if (std::llabs(x) < 20) hist[x + 20]++; }
    double mean = s / m, sd = std::sqrt(s2 / m - mean * mean);
    // rounding adds 1/12 variance
    std::printf("gaussian mean %.4f sd %.4f (expect sqrt(3.19^2+1/12)=%.4f) max|v| %lld\n", mean, sd, std::sqrt(3.19 * 3.19 + 1.0 / 12), (long long)mx);
    CHECK(std::fabs(mean) < 0.01); CHECK(std::fabs(sd - std::sqrt(3.19 * 3.19 + 1.0 / 12)) < 0.01); CHECK(mx <= 19);
    // per-value frequencies vs the exact rounded Gaussian
    double worst = 0; for (int a = -6; a <= 6; ++a) { double pr = 0.5 * (std::erfc((a - 0.5) / (3.19 * std::sqrt(2))) - std::erfc((a + 0.5) / (3.19 * std::sqrt(2))));
      double f = hist[a + 20] / double(m); worst = std::max(worst, std::fabs(f - pr) / std::sqrt(pr / m)); }
    std::printf("gaussian worst per-bin z-score (|v|<=6): %.2f\n", worst); CHECK(worst < 5);
    ChaCha20Prng p2(seed, 5); std::vector<int64_t> w(m); sample_gaussian(p2, w.data(), m); CHECK(v == w);
  }
  { ChaCha20Prng p(seed, 6); const size_t m = 1 << 20; std::vector<int64_t> v(m); sample_gaussian(p, v.data(), m, 100.0, 600.0);
    double s = 0, s2 = 0; int64_t mx = 0; for (auto x : v) { s += x; s2 += double(x) * x; mx = std::max<int64_t>(mx, std::llabs(x)); }
    double mean = s / m, sd = std::sqrt(s2 / m - mean * mean); std::printf("gaussian(sigma 100, Box-Muller) mean %.3f sd %.3f max %lld\n", mean, sd, (long long)mx);
    CHECK(std::fabs(mean) < 0.5); CHECK(std::fabs(sd - 100) < 0.5); CHECK(mx <= 600); }
  { bool threw = false; ChaCha20Prng p(seed); int64_t x; try { sample_gaussian(p, &x, 1, NAN); } catch (const ParameterError&) { threw = true; } CHECK(threw); }
  // small_to_rns
  { auto qs = arith::generate_ntt_primes(50, 1024, 3); std::vector<arith::Modulus> ms; for (auto q : qs) ms.emplace_back(q); ms.emplace_back(257);
    std::vector<int64_t> v = {0, 1, -1, 5, -5, INT64_MIN, INT64_MAX, 257, -257, -514, 12345678901234LL};
    std::vector<uint64_t> out(v.size() * ms.size()); small_to_rns(v.data(), v.size(), ms, out.data());
    for (size_t i = 0; i < ms.size(); ++i) for (size_t k = 0; k < v.size(); ++k) {
      __int128 q = ms[i].value(); __int128 r = ((__int128)v[k] % q + q) % q; CHECK(out[i * v.size() + k] == (uint64_t)r); }
    std::vector<int8_t> t = {-128, -1, 0, 1, 127}; std::vector<uint64_t> o2(t.size() * ms.size()); small_to_rns(t.data(), t.size(), ms, o2.data());
    for (size_t i = 0; i < ms.size(); ++i) for (size_t k = 0; k < t.size(); ++k) { int64_t q = ms[i].value(); CHECK(o2[i * t.size() + k] == (uint64_t)(((t[k] % q) + q) % q)); }
    // big, parallel path
    std::vector<int64_t> big(1 << 16); ChaCha20Prng p(seed); sample_gaussian(p, big.data(), big.size()); std::vector<uint64_t> o3(big.size() * ms.size());
    small_to_rns(big.data(), big.size(), ms, o3.data()); bool ok = true;
    for (size_t i = 0; i < ms.size(); ++i) for (size_t k = 0; k < big.size(); ++k) { int64_t q = ms[i].value(); ok &= o3[i * big.size() + k] == (uint64_t)(((big[k] % q) + q) % q); }
    CHECK(ok); }
  std::printf(fails ? "RNG/SAMPLING: %d FAILURES\n" : "RNG/SAMPLING: all passed\n", fails);
  return fails != 0;
}
