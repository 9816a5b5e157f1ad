#include "util/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "util/errors.h"

namespace securinfer {
namespace {

thread_local bool tls_inside_parallel_region = false;

class ThreadPool {
 public:
  ThreadPool() : target_threads_(default_threads()) {}
  ~ThreadPool() { stop_workers(); }

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
    std::size_t count = end - begin;
    std::unique_lock<std::mutex> use(use_mutex_, std::try_to_lock);
    if (tls_inside_parallel_region || !use.owns_lock() || target_threads_ <= 1 || count == 1) {
      for (std::size_t i = begin; i < end; ++i) body(i);
      return;
    }
    ensure_workers();
    {
      std::lock_guard<std::mutex> lock(job_mutex_);
      body_ = &body;
      next_ = begin;
      end_ = end;
      error_ = nullptr;
      busy_workers_ = workers_.size();
      ++generation_;
    }
    job_ready_.notify_all();
    work_on_job();
    std::unique_lock<std::mutex> lock(job_mutex_);
    job_done_.wait(lock, [&] { return busy_workers_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void ensure_workers() {
    std::size_t wanted = static_cast<std::size_t>(target_threads_) - 1;
    if (workers_.size() == wanted) return;
    stop_workers();
    stopping_ = false;
    // A new worker must start from the generation current now: reading it in
    // the thread itself races with run()'s ++generation_ and can miss the job
    // (run() then waits forever for busy_workers_ to reach zero).
    const std::uint64_t current = generation_;
    for (std::size_t i = 0; i < wanted; ++i) workers_.emplace_back([this, current] { worker_loop(current); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(job_mutex_);
      stopping_ = true;
    }
    job_ready_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void work_on_job() {
    tls_inside_parallel_region = true;
    for (;;) {
      std::size_t i = next_.fetch_add(1);
      if (i >= end_) break;
      try {
        (*body_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(job_mutex_);
        if (!error_) error_ = std::current_exception();
        next_ = end_;  // stop handing out work
      }
    }
    tls_inside_parallel_region = false;
  }

  void worker_loop(std::uint64_t seen) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(job_mutex_);
        job_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      work_on_job();
      {
        std::lock_guard<std::mutex> lock(job_mutex_);
        if (--busy_workers_ == 0) job_done_.notify_one();
      }
    }
  }

  std::atomic<int> target_threads_;
  std::mutex use_mutex_;  // one parallel region at a time
  std::mutex job_mutex_;
  std::condition_variable job_ready_, job_done_;
  std::vector<std::thread> workers_;
  const std::function<void(std::size_t)>* body_ = nullptr;
  std::atomic<std::size_t> next_{0};
  std::size_t end_ = 0;
  std::size_t busy_workers_ = 0;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
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
