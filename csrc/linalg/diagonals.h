// From a plaintext matrix and an input layout to the generalised diagonals of
// the slot-wise linear map x -> x @ W (pure arithmetic on doubles, no crypto).
//
// A linear map on the slots is y = sum_k D_k * rot(x, k) (rot = left rotation
// over all slots, * slot-wise); D_k is the k-th diagonal. A DiagonalSet holds
// the non-zero D_k (k in [0, slots)) plus how the input must be replicated
// first.
//
//   auto set = vector_matrix_diagonals(W.data(), 3, 2, 4096);   // x (3) @ W (3 x 2)
//   // set.diagonals: k -> 4096 slot values; set.period == 3, set.copies == 2
//
// Layouts:
// - One vector (vector_matrix_diagonals): x in slots [0, rows). x is first
//   replicated with period p = rows (copies so that every read index
//   i + k < cols + rows - 1 stays inside the copies), then
//   y[i] = sum_{k < rows} W[(i + k) mod rows, i] x_rep[i + k].
//   Only `rows` diagonals, whatever cols is (a 1 x n matrix is one product).
//   If the copies do not fit (rows + cols - 1 > slots) the period becomes the
//   whole slot vector (x wraps by itself, no replication) and up to `slots`
//   diagonals are used: correct, slower.
// - Batched (batched_vector_matrix_diagonals): `batch` vectors, vector b in
//   slots [b stride, b stride + rows), result b in [b stride, b stride + cols).
//   No room to replicate, so both directions are kept: k in (-cols, rows)
//   (mod slots), rows + cols - 1 diagonals, each serving every vector.
#pragma once
#include <cstddef>
#include <map>
#include <vector>

namespace securinfer::linalg {

struct DiagonalSet {
  std::size_t slots = 0;
  std::size_t rows = 0, cols = 0;
  // Replication of the input before the product: `copies` copies of the first
  // `period` slots, copy c shifted right by c * period. copies == 1: none.
  std::size_t period = 0, copies = 1;
  // Slots holding the result (zeros elsewhere).
  std::size_t output_slots = 0;
  // Batched sets: each block of `block_stride` slots maps to its own output
  // block (0: not batched). Blocks of zeros map to blocks of zeros.
  std::size_t block_stride = 0;
  // k (left rotation, in [0, slots)) -> slots values.
  std::map<std::size_t, std::vector<double>> diagonals;
};

// x (rows values) @ W (rows x cols, row-major). ParameterError when rows or
// cols exceed the slots or are zero.
DiagonalSet vector_matrix_diagonals(const double* w, std::size_t rows, std::size_t cols, std::size_t slots);

// `batch` vectors at `stride` slots apart, each times W. stride >= max(rows,
// cols) and batch * stride <= slots, else ParameterError.
DiagonalSet batched_vector_matrix_diagonals(const double* w, std::size_t rows, std::size_t cols, std::size_t slots,
                                            std::size_t batch, std::size_t stride);

// The replication as rotations, in order: acc += rot(source, step), source
// the running accumulator (from_input false) or the original input (true).
// Double-and-add on `copies`: at most 2 log2(copies) rotations, and never
// more copies than asked (extra copies would wrap around the slots).
struct ReplicationStep {
  bool from_input;
  long long step;  // negative: right rotation
};
std::vector<ReplicationStep> replication_steps(std::size_t period, std::size_t copies);

}  // namespace securinfer::linalg
