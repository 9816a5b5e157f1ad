#include "linalg/diagonals.h"

#include <string>

#include "util/errors.h"

namespace securinfer::linalg {
namespace {

void check_shape(std::size_t rows, std::size_t cols, std::size_t slots) {
  SECURINFER_CHECK(rows >= 1 && cols >= 1, ParameterError, "matrix must have at least one row and one column");
  SECURINFER_CHECK(rows <= slots && cols <= slots, ParameterError,
                   "a " + std::to_string(rows) + " x " + std::to_string(cols) + " matrix does not fit the " +
                       std::to_string(slots) + " slots of this context (rows and cols must be <= slots; "
                       "split larger matrices into blocks)");
}

// Drops diagonals that are exactly zero (they cost a product each otherwise).
void drop_zero(DiagonalSet& set) {
  for (auto it = set.diagonals.begin(); it != set.diagonals.end();) {
    bool zero = true;
    for (double v : it->second) zero = zero && v == 0.0;
    it = zero ? set.diagonals.erase(it) : std::next(it);
  }
}

}  // namespace

DiagonalSet vector_matrix_diagonals(const double* w, std::size_t rows, std::size_t cols, std::size_t slots) {
  check_shape(rows, cols, slots);
  DiagonalSet set;
  set.slots = slots;
  set.rows = rows;
  set.cols = cols;
  set.output_slots = cols;
  // Reads reach index cols - 1 + rows - 1: the copies must cover it, and all
  // of them must fit in the slots (a last copy wrapping round would add a
  // shifted copy onto slot 0: 5 x 508 at 512 slots needs 103 copies = 515).
  const std::size_t copies = (rows + cols - 1 + rows - 1) / rows;
  if (copies * rows <= slots) {
    set.period = rows;
    set.copies = copies;
  } else {
    set.period = slots;  // x is its own periodic extension over all slots
    set.copies = 1;
  }
  const std::size_t p = set.period;
  for (std::size_t k = 0; k < p; ++k) {
    std::vector<double> d(slots, 0.0);
    for (std::size_t i = 0; i < cols; ++i) {
      const std::size_t r = (i + k) % p;
      if (r < rows) d[i] = w[r * cols + i];
    }
    set.diagonals.emplace(k, std::move(d));
  }
  drop_zero(set);
  return set;
}

DiagonalSet batched_vector_matrix_diagonals(const double* w, std::size_t rows, std::size_t cols, std::size_t slots,
                                            std::size_t batch, std::size_t stride) {
  check_shape(rows, cols, slots);
  SECURINFER_CHECK(batch >= 1, ParameterError, "batch must be >= 1");
  SECURINFER_CHECK(stride >= rows && stride >= cols, ParameterError,
                   "stride " + std::to_string(stride) + " is smaller than the matrix (" + std::to_string(rows) +
                       " x " + std::to_string(cols) + ")");
  SECURINFER_CHECK(batch * stride <= slots, ParameterError,
                   std::to_string(batch) + " vectors at stride " + std::to_string(stride) + " do not fit " +
                       std::to_string(slots) + " slots");
  DiagonalSet set;
  set.slots = slots;
  set.rows = rows;
  set.cols = cols;
  set.period = slots;
  set.copies = 1;
  set.output_slots = (batch - 1) * stride + cols;
  set.block_stride = stride;
  // Output slot b*stride + i reads input slot b*stride + r: k = r - i.
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t i = 0; i < cols; ++i) {
      const double v = w[r * cols + i];
      if (v == 0.0) continue;
      const long long diff = static_cast<long long>(r) - static_cast<long long>(i);
      const std::size_t k = static_cast<std::size_t>(diff < 0 ? diff + static_cast<long long>(slots) : diff);
      auto& d = set.diagonals[k];
      if (d.empty()) d.assign(slots, 0.0);
      for (std::size_t b = 0; b < batch; ++b) d[b * stride + i] = v;
    }
  }
  return set;
}

std::vector<ReplicationStep> replication_steps(std::size_t period, std::size_t copies) {
  std::vector<ReplicationStep> steps;
  if (copies <= 1) return steps;
  int top = 63 - __builtin_clzll(copies);
  std::size_t have = 1;
  for (int bit = top - 1; bit >= 0; --bit) {
    steps.push_back({false, -static_cast<long long>(have * period)});
    have *= 2;
    if ((copies >> bit) & 1) {
      steps.push_back({true, -static_cast<long long>(have * period)});
      have += 1;
    }
  }
  return steps;
}

}  // namespace securinfer::linalg
