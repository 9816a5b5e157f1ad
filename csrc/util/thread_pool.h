// A small persistent thread pool for data-parallel loops (RNS limbs, independent
// ciphertexts). One pool per process; its size is set by set_num_threads.
#pragma once
#include <cstddef>
#include <functional>

namespace securinfer {

// Number of threads parallel_for may use (the caller included). Default: the
// available cores.
int get_num_threads();
// Sets the thread count; n >= 1. Throws ParameterError otherwise.
void set_num_threads(int n);

// Runs body(i) for i in [begin, end), split over the pool. The caller works too
// and the call returns when every index is done. Nested calls, and calls made
// while another thread is using the pool, run inline on the calling thread, so
// any thread may call it at any time. The first exception thrown by body is
// rethrown to the caller after all work has stopped.
void parallel_for(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& body);

}  // namespace securinfer
