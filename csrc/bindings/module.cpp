// The extension module securinfer._core. Users import `securinfer`, never this.
#include "bindings/bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "securinfer's C++ core (RNS-CKKS). Import securinfer instead.";
  securinfer::bindings::register_errors(m);
  securinfer::bindings::register_system(m);
  securinfer::bindings::register_kernels(m);
  securinfer::bindings::register_ckks(m);
  securinfer::bindings::register_io(m);
  securinfer::bindings::register_linalg(m);
  securinfer::bindings::register_bootstrap(m);
}
