"""Recognition accuracy of compact gallery templates (int8, int4, ternary)
against float templates, on the LFW faces scikit-image ships: TAR at fixed
FAR, probes in float (the client's side is unchanged).

Genuine pairs: each of the 400 same-person copies (mirror, brighter, darker,
crop) against its original's template; impostor pairs: every copy and every
original against every other person's template (49,500 pairs). A FAR of
1e-3 is 49 impostor pairs above the threshold. Accuracy only (numpy), no
encryption: a compact template changes what the server multiplies, not the
decision rule. These copies are easy (TAR is 1 at both FARs for every
encoding), so the table also gives the gap between the lowest genuine and
the highest impostor score, and the share of decisions at the match mode's
threshold that equal the float templates' ones.

    python benchmarks/face_quantised_accuracy.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def quantise(templates: np.ndarray, kind: str) -> np.ndarray:
    """Templates as the server would hold them (then renormalised)."""
    t = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    if kind == "float32":
        q = t
    elif kind in ("int8", "int4"):
        levels = 127 if kind == "int8" else 7
        scale = np.abs(t).max(axis=1, keepdims=True) / levels
        q = np.round(t / scale) * scale
    elif kind == "ternary":
        # IDFace-style: keep the sign of the coordinates larger than a per-template cut, zero the rest.
        cut = 0.6745 * np.std(t, axis=1, keepdims=True)          # about half the coordinates kept
        q = np.sign(t) * (np.abs(t) > cut)
    else:
        raise ValueError(kind)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def tar_at_far(genuine, impostor, far):
    threshold = np.quantile(impostor, 1 - far, method="higher")
    return float(np.mean(genuine > threshold)), float(threshold)


def main():
    from tests.apps._face_data import lfw_embeddings, lfw_variant_embeddings

    base = lfw_embeddings().astype(np.float64)
    copies = lfw_variant_embeddings(100).astype(np.float64)                 # (100, 4, 128)
    probes = np.concatenate([base[:, None, :], copies], axis=1)             # (100, 5, 128)
    probes /= np.linalg.norm(probes, axis=2, keepdims=True)
    others = ~np.eye(len(base), dtype=bool)
    print(f"{'templates':10s} {'TAR@FAR=1e-2':>13s} {'TAR@FAR=1e-3':>13s} {'bits/coord':>10s} "
          f"{'min genuine':>11s} {'max impostor':>12s} {'agree w/ float @0.6694':>22s}")
    reference = None
    for kind, bits in (("float32", 32), ("int8", 8), ("int4", 4), ("ternary", 1.58)):
        gallery = quantise(base, kind)
        scores = np.einsum("pvd,qd->pvq", probes, gallery)                  # probe person p, copy v, template q
        genuine = scores[:, 1:, :][np.arange(100), :, np.arange(100)].ravel()
        impostor = scores.transpose(0, 2, 1)[others].ravel()
        row = [tar_at_far(genuine, impostor, far)[0] for far in (1e-2, 1e-3)]
        decisions = scores >= 0.6694                       # the match mode's default threshold
        reference = decisions if reference is None else reference
        print(f"{kind:10s} {row[0]:13.4f} {row[1]:13.4f} {bits:10} {genuine.min():11.4f} {impostor.max():12.4f} "
              f"{np.mean(decisions == reference):22.5f}")


if __name__ == "__main__":
    main()
