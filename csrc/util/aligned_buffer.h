// 64-byte-aligned storage, so SIMD kernels can use aligned loads and no buffer
// shares a cache line with another.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace securinfer {

constexpr std::size_t kBufferAlignment = 64;

// Large buffers (polynomials) come from a process-wide cache of freed blocks,
// so hot paths reuse memory instead of paying for fresh pages (mmap, page
// faults, kernel zeroing) on every operation.
void* allocate_aligned(std::size_t bytes);
void deallocate_aligned(void* p, std::size_t bytes) noexcept;

// TEST ONLY: calls visit(words, count) on every block the cache holds for
// reuse (freed memory), under its lock, so tests can check that no secret
// value survives in it. Never used by the library itself.
template <class Visit>
void testing_scan_freed_blocks(Visit&& visit);
void testing_scan_freed_blocks_impl(void (*visit)(const std::uint64_t*, std::size_t, void*), void* state);
// TEST ONLY: returns every cached block to the C allocator, so a test scans
// only what the operations it checks freed (and not the pool of earlier tests).
void testing_release_freed_blocks();
template <class Visit>
void testing_scan_freed_blocks(Visit&& visit) {
  testing_scan_freed_blocks_impl(
      [](const std::uint64_t* words, std::size_t count, void* state) { (*static_cast<Visit*>(state))(words, count); },
      &visit);
}

template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n == 0) return nullptr;
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(allocate_aligned(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_aligned(p, n * sizeof(T)); }
  // Default-initialise (no zeroing) on resize; explicit values still apply.
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }

  template <class U>
  bool operator==(const AlignedAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const AlignedAllocator<U>&) const noexcept { return false; }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

// Overwrites memory in a way the optimiser may not elide (for secret keys).
// memset at full speed, then an empty asm that may read the memory: the
// compiler must keep the stores (explicit_bzero's idiom). The volatile byte
// loop it replaces ran at a byte per cycle: 65 us for one decrypted
// polynomial of N = 8192 at three limbs.
inline void secure_wipe(void* data, std::size_t bytes) noexcept {
  if (bytes == 0) return;
#if defined(__GNUC__) || defined(__clang__)
  std::memset(data, 0, bytes);
  __asm__ __volatile__("" : : "r"(data) : "memory");
#else
  volatile unsigned char* p = static_cast<volatile unsigned char*>(data);
  while (bytes--) *p++ = 0;
#endif
}

}  // namespace securinfer
