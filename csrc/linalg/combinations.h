// Linear combinations of many ciphertexts, each summed with one modular
// reduction per coefficient and rescaled once:
//
//   combine_scalars(xs, W, n_out)   y_j = sum_i W[j][i] x_i      (real scalar weights)
//   combine_plain(xs, columns)      y   = sum_i x_i (.) column_i (pre-encoded plaintexts)
//   combine_plain_many(xs, blocks)  y_b = combine_plain(xs, blocks[b]) for every b
//   sum_of_products(keys, as, bs)   y   = sum_i a_i * b_i        (relinearised once)
//
// Why: a layer or a gallery block written as many separate products pays a
// Barrett reduction and a rescale (two NTTs per limb) per term, and a
// relinearisation per ciphertext product. Here the 128-bit products are added
// exactly (eltwise dot/scalar_accumulate), so a combination of k terms costs
// about k multiply-adds per coefficient plus one rescale. No rotation is used:
// these are the building blocks of the rotation-free "one ciphertext per
// feature" layouts (a dense layer on a batch spread over the slots, a face
// gallery stored by columns).
//
// Inputs are aligned first: all to the lowest level among them, higher ones
// adjusted to the scale of the lowest (one level spent on those, as for an
// addition). combine_scalars takes inputs of different scales at that level
// (each weight is scaled to land every product on one scale); the other two
// need one scale per operand list. Every output is one level below that
// level, on the canonical scale for plaintext and scalar weights when the
// first input is canonical (like any plaintext product). combine_plain and
// sum_of_products also run at level 0 where q_0 holds the product of the
// scales (a ring made for it, such as the face gallery's): the output then
// stays at level 0 on that product, not rescaled.
#pragma once
#include <cstddef>
#include <vector>

#include "ckks/ciphertext.h"
#include "ckks/keys.h"

namespace securinfer::linalg {

// weights: n_out x xs.size() row-major, finite reals; zero weights skipped.
// Operands are passed by pointer: a gallery block or a layer's inputs are
// not copied.
using CiphertextRefs = std::vector<const ckks::Ciphertext*>;

std::vector<ckks::Ciphertext> combine_scalars(const CiphertextRefs& xs, const double* weights,
                                              std::size_t n_out);

// Plaintext vectors encoded once (NTT form) at one level, with the scale that
// brings a canonical-scale ciphertext of that level onto the canonical scale
// of the level below.
class EncodedColumns {
 public:
  // matrix: count x width row-major (width <= slots); at level 0, level 0's
  // scale (no rescale follows).
  EncodedColumns(const ckks::ContextPtr& context, const double* matrix, std::size_t count, std::size_t width,
                 std::size_t level);

  std::size_t count() const { return columns_.size(); }
  std::size_t width() const { return width_; }
  std::size_t level() const { return level_; }
  double scale() const { return scale_; }
  std::size_t byte_size() const;
  const ckks::ContextPtr& context() const { return context_; }
  const ring::RnsPoly& column(std::size_t i) const { return columns_[i]; }

 private:
  ckks::ContextPtr context_;
  std::size_t width_, level_;
  double scale_;
  std::vector<ring::RnsPoly> columns_;
};

// xs.size() == columns.count(); inputs above the columns' level are brought
// down to it (canonical scale), inputs below raise LevelError.
ckks::Ciphertext combine_plain(const CiphertextRefs& xs, const EncodedColumns& columns);
// The same for several column sets (a gallery's blocks) at one level, one
// result each: the ciphertexts are read once for all of them.
std::vector<ckks::Ciphertext> combine_plain_many(const CiphertextRefs& xs,
                                                 const std::vector<const EncodedColumns*>& blocks);

ckks::Ciphertext sum_of_products(const ckks::KeySet& keys, const CiphertextRefs& as, const CiphertextRefs& bs);
// The same for several lists of b's (an encrypted gallery's blocks), one
// result each, all at the lowest level among them: the a's are read once for
// all of them.
std::vector<ckks::Ciphertext> sum_of_products_many(const ckks::KeySet& keys, const CiphertextRefs& as,
                                                   const std::vector<CiphertextRefs>& blocks);

}  // namespace securinfer::linalg
