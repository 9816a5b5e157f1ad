// Process-wide settings: SIMD paths and threads.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "simd/cpu_features.h"
#include "simd/dispatch.h"
#include "util/thread_pool.h"

namespace py = pybind11;

namespace securinfer::bindings {

void register_system(py::module_& m) {
  m.attr("__version__") = SECURINFER_VERSION;
  m.def(
      "simd_info",
      [] {
        const auto& f = simd::cpu_features();
        py::list detected;
        if (f.avx2) detected.append("avx2");
        if (f.avx512) detected.append("avx512");
        if (f.avx512_ifma) detected.append("ifma");
        py::list available;
        for (auto p : simd::available_paths()) available.append(simd::path_name(p));
        py::dict info;
        info["detected"] = detected;
        info["available"] = available;
        info["active"] = simd::path_name(simd::active_path());
        info["emulated"] = simd::kernels_emulated();
        return info;
      },
      "CPU SIMD features detected, kernel paths available and the active one.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
}

}  // namespace securinfer::bindings
