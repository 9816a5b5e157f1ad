#!/usr/bin/env bash
# The C++ checks below the Python API (tests/cpp): each built against the
# portable engine sources (scalar kernels) and run; a failure exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
sources=()
for f in csrc/*/*.cpp; do
  case "$f" in csrc/bindings/*|*_avx2.cpp|*_avx512.cpp|*_ifma.cpp) continue ;; esac
  sources+=("$f")
done
for test in tests/cpp/test_*.cpp; do
  name=$(basename "$test" .cpp)
  g++ -std=c++17 -O2 -Icsrc "$test" "${sources[@]}" -lpthread -o "$out/$name"
  "$out/$name"
done
rm -rf "$out"
