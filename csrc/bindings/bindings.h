// One register_* function per area; module.cpp calls them all.
#pragma once
#include <pybind11/pybind11.h>

namespace securinfer::bindings {

void register_errors(pybind11::module_& m);
void register_system(pybind11::module_& m);
void register_kernels(pybind11::module_& m);
void register_ckks(pybind11::module_& m);
void register_io(pybind11::module_& m);
void register_linalg(pybind11::module_& m);
void register_bootstrap(pybind11::module_& m);

}  // namespace securinfer::bindings
