#include "util/thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SECURINFER_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define SECURINFER_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define SECURINFER_CPU_RELAX() ((void)0)
#endif

#include "util/errors.h"

namespace securinfer {
namespace {

thread_local bool tls_inside_parallel_region = false;

// Workers spin this many pauses (tens of microseconds) waiting for the next
// job before they sleep: the core issues many short parallel loops (one per
// polynomial operation), and a condition-variable wake-up costs more than the
// work of one of them.
constexpr int kSpinIterations = 4000;

class ThreadPool {
 public:
  ThreadPool() : target_threads_(default_threads()) {}

  static int default_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
  }

  int threads() const { return target_threads_.load(); }

  void set_threads(int n) {
    std::lock_guard<std::mutex> use(use_mutex_);
    stop_workers();
    target_threads_ = n;
  }

  void run(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& body) {
    if (end <= begin) return;
    std::unique_lock<std::mutex> use(use_mutex_, std::try_to_lock);
    if (tls_inside_parallel_region || !use.owns_lock() || target_threads_ <= 1 || end - begin == 1) {
      for (std::size_t i = begin; i < end; ++i) body(i);
      return;
    }
    ensure_workers();
    body_ = &body;
    next_.store(begin, std::memory_order_relaxed);
    end_ = end;
    error_ = nullptr;
    active_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);  // publishes the job
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);  // wakes workers that went to sleep
    }
    wake_.notify_all();
    work_on_job();
    while (active_workers_.load(std::memory_order_acquire) != 0) SECURINFER_CPU_RELAX();
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void ensure_workers() {
    const std::size_t wanted = static_cast<std::size_t>(target_threads_) - 1;
    if (workers_.size() == wanted) return;
    stop_workers();
    stopping_ = false;
    // Each worker starts from the generation current now, so it cannot miss
    // the job run() is about to publish.
    const std::uint64_t current = generation_.load();
    for (std::size_t i = 0; i < wanted; ++i) workers_.emplace_back([this, current] { worker_loop(current); });
  }

  void stop_workers() {
    stopping_ = true;
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void work_on_job() {
    tls_inside_parallel_region = true;
    for (;;) {
      const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= end_) break;
      try {
        (*body_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(end_);  // stop handing out work
      }
    }
    tls_inside_parallel_region = false;
  }

  void worker_loop(std::uint64_t seen) {
    for (;;) {
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && !stopping_) {
        if (++spins < kSpinIterations) {
          SECURINFER_CPU_RELAX();
          continue;
        }
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen || stopping_; });
      }
      if (stopping_) return;
      seen = generation_.load(std::memory_order_acquire);
      work_on_job();
      active_workers_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::atomic<int> target_threads_;
  std::mutex use_mutex_;  // one parallel region at a time
  std::mutex sleep_mutex_, error_mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  const std::function<void(std::size_t)>* body_ = nullptr;
  std::atomic<std::size_t> next_{0};
  std::size_t end_ = 0;
  std::atomic<int> active_workers_{0};
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
};

ThreadPool& pool() {
  // Leaked on purpose: joining threads during interpreter shutdown can deadlock.
  static ThreadPool* instance = new ThreadPool();
  return *instance;
}

}  // namespace

int get_num_threads() { return pool().threads(); }

void set_num_threads(int n) {
  SECURINFER_CHECK(n >= 1 && n <= 1024, ParameterError, "number of threads must be between 1 and 1024");
  pool().set_threads(n);
}

void parallel_for(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& body) {
  pool().run(begin, end, body);
}

}  // namespace securinfer
