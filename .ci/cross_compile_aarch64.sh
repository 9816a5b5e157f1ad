#!/usr/bin/env bash
# Compiles every C++ source an aarch64 build uses (all but the x86 kernel files)
# with Debian's aarch64 cross compiler: the scalar path must build there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  apt-get update -qq && apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
fi
python -c "import pybind11" 2>/dev/null || python -m pip install -q pybind11
PYINC=$(python -c "import sysconfig; print(sysconfig.get_paths()['include'])")
PBINC=$(python -c "import pybind11; print(pybind11.get_include())")
out=$(mktemp -d)
count=0
for f in csrc/*/*.cpp; do
  case "$f" in *_avx2.cpp|*_avx512.cpp|*_ifma.cpp) continue ;; esac
  if [[ "$f" == csrc/bindings/* ]]; then
    # Python's headers here are x86-64's; syntax is what matters for bindings.
    aarch64-linux-gnu-g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -Icsrc -I"$PYINC" -I"$PBINC" \
      -DSECURINFER_VERSION='"ci"' "$f"
  else
    aarch64-linux-gnu-g++ -std=c++17 -O2 -Wall -Wextra -Werror -Icsrc -c "$f" -o "$out/$(basename "$f").o"
  fi
  count=$((count + 1))
done
echo "aarch64: $count sources compiled (scalar path)"
