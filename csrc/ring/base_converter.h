// Fast base conversion (Bajard et al.; the ModUp/ModDown step of hybrid key
// switching): from residues x_i modulo the primes of a base B to residues
// modulo the primes of a base C of
//     sum_i [x_i * (B/b_i)^-1]_{b_i} * (B/b_i)  =  x + u * B,   0 <= u < |B|,
// i.e. x up to a small multiple of B, with no big-integer arithmetic.
#pragma once
#include <cstdint>
#include <vector>

#include "ring/rns_prime.h"
#include "util/aligned_buffer.h"

namespace securinfer::ring {

class BaseConverter {
 public:
  BaseConverter(PrimeList from, PrimeList to);

  const PrimeList& from() const { return from_; }
  const PrimeList& to() const { return to_; }

  // in: from().size() limbs of n words in coefficient form, reduced;
  // out: to().size() limbs of n words, reduced. in and out must not overlap.
  // Fast (approximate): the result is x + u B with 0 <= u < |B|.
  void convert(const std::uint64_t* in, std::uint64_t* out, std::size_t n) const;
  // Exact and centred: the result is x - B when x > B/2, else x, with
  // u = round(sum_i y_i / b_i) found in floating point (exact unless x lies
  // within about 2^-40 B of B/2, where either representative is harmless).
  // ModDown uses it so that dividing by P rounds without bias.
  void convert_centered(const std::uint64_t* in, std::uint64_t* out, std::size_t n) const;

  // The same in two steps, so that callers can spread the targets over
  // threads beside other work (key switching's decomposition):
  //   auto prepared = conv.prepare(in, n, /*centered=*/true);   // the per-source part
  //   conv.convert_to(prepared, j, out_limb_j);                 // one target, any order
  // `in` must outlive the prepared input. prepare runs on the calling thread.
  struct Prepared {
    const std::uint64_t* in = nullptr;
    std::size_t n = 0;
    bool centered = false;
    AlignedVector<std::uint64_t> y;      // [x_i (B/b_i)^-1]_{b_i} (more than one source prime)
    std::vector<std::uint8_t> multiple;  // round(sum_i y_i / b_i) (centred, more than one)
  };
  Prepared prepare(const std::uint64_t* in, std::size_t n, bool centered) const;
  void convert_to(const Prepared& x, std::size_t target, std::uint64_t* out) const;

 private:
  PrimeList from_, to_;
  std::vector<std::uint64_t> hat_inverse_, hat_inverse_shoup_;  // [(B/b_i)^-1]_{b_i}
  std::vector<std::uint64_t> hat_mod_to_, hat_mod_to_shoup_;     // [B/b_i]_{c_j}, row j
  std::vector<std::uint64_t> product_multiples_;                  // m [B]_{c_j}, m = 0..|B|, row j
  std::vector<double> inverse_from_;                              // 1 / b_i
  std::vector<bool> on_avx512_;                                   // per target: the AVX-512 Shoup loop applies
  std::vector<bool> on_doubles_;                                  // per target: FMA loops apply
  std::vector<bool> wide_on_avx2_;                                // per target: the AVX2 one-source Shoup loop
  bool sources_on_avx512_ = false;                                // the centring multiple on 8 lanes
  bool sources_on_avx2_ = false;                                  // ... on 4 lanes

  void convert_impl(const std::uint64_t* in, std::uint64_t* out, std::size_t n, bool centered) const;
  void compute_y(Prepared& x, std::size_t source) const;
  void compute_multiple(Prepared& x) const;
};

}  // namespace securinfer::ring
