#include "util/aligned_buffer.h"

#include <map>
#include <mutex>
#include <vector>

namespace securinfer {
namespace {

// Blocks below this size go straight to the C allocator (its own free lists
// already serve them well).
constexpr std::size_t kCachedMinimum = 32 * 1024;
// Upper bound on memory kept for reuse.
constexpr std::size_t kCacheCapacity = std::size_t(512) << 20;

std::size_t rounded(std::size_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

class BlockCache {
 public:
  void* take(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_ -= bytes;
    return p;
  }
  bool give(void* p, std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + bytes > kCacheCapacity) return false;
    free_[bytes].push_back(p);
    cached_ += bytes;
    return true;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [bytes, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_ = 0;
  }
  void scan(void (*visit)(const std::uint64_t*, std::size_t, void*), void* state) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [bytes, blocks] : free_)
      for (void* p : blocks) visit(static_cast<const std::uint64_t*>(p), bytes / sizeof(std::uint64_t), state);
  }

 private:
  std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_ = 0;
};

BlockCache& cache() {
  static BlockCache* instance = new BlockCache();  // never destroyed: used until exit
  return *instance;
}

}  // namespace

void* allocate_aligned(std::size_t bytes) {
  const std::size_t size = rounded(bytes);
  if (size >= kCachedMinimum) {
    if (void* p = cache().take(size)) return p;
  }
  void* p = std::aligned_alloc(kBufferAlignment, size);
  if (!p) throw std::bad_alloc();
  return p;
}

void testing_scan_freed_blocks_impl(void (*visit)(const std::uint64_t*, std::size_t, void*), void* state) {
  cache().scan(visit, state);
}

void testing_release_freed_blocks() { cache().release(); }

void deallocate_aligned(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  const std::size_t size = rounded(bytes);
  if (size >= kCachedMinimum && cache().give(p, size)) return;
  std::free(p);
}

}  // namespace securinfer
