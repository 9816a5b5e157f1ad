// RnsPoly: a polynomial of Z_Q[X]/(X^N + 1) in residue form, one limb (a
// residue polynomial of N words) per prime, stored limb after limb in one
// 64-byte-aligned buffer. Which prime a limb belongs to is the caller's
// business (see RnsPrime lists); the polynomial stores only words.
#pragma once
#include <cstddef>
#include <cstdint>

#include "util/aligned_buffer.h"

namespace securinfer::ring {

class RnsPoly {
 public:
  RnsPoly() = default;
  // A zero polynomial of `limbs` limbs of degree n.
  RnsPoly(std::size_t n, std::size_t limbs) : n_(n), limbs_(limbs), data_(n * limbs, 0) {}
  // Storage for a result every word of which the caller writes (no zeroing).
  static RnsPoly uninitialized(std::size_t n, std::size_t limbs) {
    RnsPoly p;
    p.n_ = n;
    p.limbs_ = limbs;
    p.data_.resize(n * limbs);  // default-initialised by AlignedAllocator
    return p;
  }

  std::size_t degree() const { return n_; }
  std::size_t limbs() const { return limbs_; }
  std::size_t words() const { return n_ * limbs_; }
  std::uint64_t* data() { return data_.data(); }
  const std::uint64_t* data() const { return data_.data(); }
  std::uint64_t* limb(std::size_t i) { return data_.data() + i * n_; }
  const std::uint64_t* limb(std::size_t i) const { return data_.data() + i * n_; }

  // Keeps the first `limbs` limbs (dropping primes from the top of a chain).
  void truncate(std::size_t limbs) {
    if (limbs < limbs_) {
      limbs_ = limbs;
      data_.resize(n_ * limbs);
    }
  }

  // Overwrites the words with zeros before the memory is released (keys).
  void wipe() { secure_wipe(data_.data(), data_.size() * sizeof(std::uint64_t)); }

 private:
  std::size_t n_ = 0;
  std::size_t limbs_ = 0;
  AlignedVector<std::uint64_t> data_;
};

}  // namespace securinfer::ring
