#!/usr/bin/env python3
"""Markdown tables from a pytest-benchmark JSON file, for benchmarks/RESULTS.md.

    pytest benchmarks --benchmark-json=out.json
    python benchmarks/report.py out.json > tables.md

CKKS: one table per ring degree and thread count; a row per operation with
the median in milliseconds for securinfer and TenSEAL and the ratio
TenSEAL / securinfer (above 1: securinfer is faster). Where securinfer has
several variants of one operation (hoisted and separate rotations), each gets
a row against TenSEAL's one entry.

Kernels: one table per operation and prime size; a row per N with each
path's median in microseconds and its speed-up over the scalar path, and for
the NTT the estimated wrapper overhead (numpy copy + range check) at that N.

Only the standard library is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import OrderedDict

PATH_ORDER = ["scalar", "avx2", "avx512", "ifma"]


def _median(bench) -> float:
    return float(bench["stats"]["median"])


def _fmt(value, digits=3) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}g}" if value < 1 else f"{value:.2f}"


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ckks_tables(benches) -> list:
    # (N, chain, threads) -> op -> {"securinfer": {variant: median}, "tenseal": {variant: median}};
    # one table per chain, so a preset's rows meet TenSEAL on the same chain.
    sections: "OrderedDict" = OrderedDict()
    for b in benches:
        info = b.get("extra_info", {})
        key = (int(info["N"]), tuple(info.get("coeff_bits") or ()), int(info.get("threads", 1)))
        ops = sections.setdefault(key, OrderedDict())
        entry = ops.setdefault(info.get("op", b.get("group")), {"securinfer": OrderedDict(), "tenseal": OrderedDict()})
        entry.setdefault(info.get("library", "securinfer"), OrderedDict())[info.get("variant", "")] = _median(b)

    out = []
    for (n, chain, threads), ops in sorted(sections.items(), key=lambda kv: (kv[0][0], kv[0][2], -len(kv[0][1]))):
        rows = []
        for op, entry in ops.items():
            theirs = entry.get("tenseal") or {}
            their = next(iter(theirs.values())) if theirs else None
            their_label = next(iter(theirs)) if theirs else ""
            ours = entry.get("securinfer") or {"": None}
            for variant, mine in ours.items():
                label = f"{op} — {variant}" if variant else op
                if their_label and their_label != variant:
                    label += f" (TenSEAL: {their_label})"
                ratio = f"{their / mine:.2f}×" if (their and mine) else "—"
                rows.append([label, _fmt(mine and mine * 1e3), _fmt(their and their * 1e3), ratio])
        title = f"### CKKS N={n}, coeff_bits {list(chain)}, {threads} thread{'s' if threads != 1 else ''}"
        out.append(title + "\n\n" + _table(["operation", "securinfer (ms)", "TenSEAL (ms)", "TenSEAL / securinfer"], rows))
    return out


def kernel_tables(benches) -> list:
    overhead = {}
    groups: "OrderedDict" = OrderedDict()  # (op, bits) -> N -> path -> median
    for b in benches:
        info = b.get("extra_info", {})
        if info.get("op") == "copy+range check":
            overhead[int(info["N"])] = _median(b)
            continue
        key = (info["op"], int(info["bits"]))
        groups.setdefault(key, OrderedDict()).setdefault(int(info["N"]), {})[info["path"]] = _median(b)

    out = []
    for (op, bits), by_n in groups.items():
        paths = [p for p in PATH_ORDER if any(p in row for row in by_n.values())]
        header = ["N"]
        for p in paths:
            header.append(f"{p} (µs)")
            if p != "scalar":
                header.append(f"{p} speed-up")
        with_overhead = op.startswith("ntt") and overhead
        if with_overhead:
            header.append("copy+check est. (µs)")
        rows = []
        for n in sorted(by_n):
            row = [str(n)]
            base = by_n[n].get("scalar")
            for p in paths:
                t = by_n[n].get(p)
                row.append(_fmt(t and t * 1e6))
                if p != "scalar":
                    row.append(f"{base / t:.2f}×" if (base and t) else "—")
            if with_overhead:
                row.append(_fmt(overhead.get(n) and overhead[n] * 1e6))
            rows.append(row)
        out.append(f"### {op}, {bits}-bit prime\n\n" + _table(header, rows))
    return out


def machine_line(data) -> str:
    m = data.get("machine_info", {})
    cpu = m.get("cpu", {})
    brand = cpu.get("brand_raw") or cpu.get("brand") or m.get("processor") or "?"
    commit = data.get("commit_info", {})
    rev = commit.get("id", "?")[:10]
    dirty = " (dirty)" if commit.get("dirty") else ""
    return (f"_Machine: {brand}, {cpu.get('count', '?')} logical CPUs, Python {m.get('python_version', '?')}; "
            f"commit {rev}{dirty}; {data.get('datetime', '')}. Medians of pytest-benchmark rounds._")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file", help="output of pytest --benchmark-json=FILE")
    args = parser.parse_args(argv)
    with open(args.json_file, encoding="utf-8") as f:
        data = json.load(f)
    benches = data.get("benchmarks", [])
    ckks = [b for b in benches if b.get("extra_info", {}).get("kind") == "ckks"]
    kern = [b for b in benches if b.get("extra_info", {}).get("kind") == "kernel"]
    other = [b for b in benches if b not in ckks and b not in kern]
    if not benches:
        print("no benchmarks in this file", file=sys.stderr)
        return 1
    parts = [machine_line(data)]
    if ckks:
        parts += ["## CKKS scheme: securinfer vs TenSEAL 0.3.18"] + ckks_tables(ckks)
    if kern:
        parts += ["## Kernels (one RNS limb, Python-facing calls; speed-up over the scalar path)"] + kernel_tables(kern)
    if other:
        rows = [[b.get("group") or "", b["name"], _fmt(_median(b) * 1e3)] for b in other]
        parts += ["## Other", _table(["group", "benchmark", "median (ms)"], rows)]
    print("\n\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
