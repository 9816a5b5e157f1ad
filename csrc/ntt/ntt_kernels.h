// The NTT kernels, one per instruction set. Contract shared by all paths:
//   forward: input in [0, q), output in [0, q), in place, bit-reversed order
//            (the standard negacyclic NTT: output k = a(psi^(2 bitrev(k) + 1))).
//   inverse: input in [0, q), output in [0, q), in place; undoes forward,
//            including the 1/n factor.
// Every path returns exactly the scalar path's words.
#pragma once
#include <cstdint>

#include "ntt/ntt_tables.h"

namespace securinfer::ntt {

void forward_scalar(std::uint64_t* a, const NttTables& t);
void inverse_scalar(std::uint64_t* a, const NttTables& t);

#if defined(SECURINFER_X86_KERNELS)
void forward_avx2(std::uint64_t* a, const NttTables& t);
void inverse_avx2(std::uint64_t* a, const NttTables& t);
// On doubles with FMA, q < 2^50 only (tables' *_f64 filled).
void forward_fma_avx2(std::uint64_t* a, const NttTables& t);
void inverse_fma_avx2(std::uint64_t* a, const NttTables& t);
void forward_avx512(std::uint64_t* a, const NttTables& t);
void inverse_avx512(std::uint64_t* a, const NttTables& t);
void forward_fma_avx512(std::uint64_t* a, const NttTables& t);  // q < 2^50
void inverse_fma_avx512(std::uint64_t* a, const NttTables& t);  // q < 2^50
// q < 2^50 only.
void forward_ifma(std::uint64_t* a, const NttTables& t);
void inverse_ifma(std::uint64_t* a, const NttTables& t);
#endif

}  // namespace securinfer::ntt
