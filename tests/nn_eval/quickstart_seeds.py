"""The docs/nn.md quick start over many fresh random MLPs (issue 12, case 5).

Each seed trains the quick start's MLP (tanh, ``precision_bits=24``) with
``random_state=seed``, compiles it, encrypts the 169 test records (each checked against
the calibrated input ranges), runs the encrypted model and decrypts. Per seed
it reports the agreement of the encrypted labels with the plaintext model's
(``model.predict``) and with the compiled plan run in plaintext
(``enc.simulate``: the same approximations; a difference there would be an
encryption failure, such as the overflow that once gave 0.50).

Run:  python -m tests.nn_eval.quickstart_seeds 100        (from the repository root)
      python -m tests.nn_eval.quickstart_seeds 100 --plaintext   (simulate only: fast)
      python -m tests.nn_eval.quickstart_seeds 100 --relu        (the ReLU variant of docs/nn.md,
                                                                 default precision)
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def data():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


QUICK_START = {"activation": "tanh", "precision_bits": 24}
RELU_VARIANT = {"activation": "relu", "precision_bits": 16}


def recipe(seed: int, X, y, encrypted: bool = True, activation: str = "tanh", precision_bits: int = 24) -> dict:
    """The quick start with ``random_state=seed``; agreements and facts of the plan."""
    import securinfer.nn as snn
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(8,), activation=activation, max_iter=2000,
                              random_state=seed).fit(X[:400], y[:400])
    enc = snn.compile(model, calibration=X[:400], precision_bits=precision_bits)
    test = enc.check(X[400:])                       # raises if a test record is outside the calibrated ranges
    plain = model.predict(X[400:])
    simulated = np.where(enc.simulate(test)[:, 0] > 0, 1, 0)
    node = next(n for n in enc.graph.nodes if n.op == "poly")
    hidden = X[400:] @ model.coefs_[0] + model.intercepts_[0]
    a, b = node.extra["bounded_on"]
    out = {"seed": seed, "degree": len(node.coeffs) - 1, "depth": enc.depth,
           "smallest_plan_logit": float(np.abs(enc.simulate(test)[:, 0]).min()),
           "hidden_in_bounded_range": bool(hidden.min() >= a and hidden.max() <= b),
           "simulated_vs_plaintext": float(np.mean(simulated == plain))}
    if encrypted:
        ctx = enc.create_context()
        logits = enc.decrypt(ctx, enc(enc.encrypt(ctx, X[400:])))
        labels = np.where(logits[:, 0] > 0, 1, 0)
        out["noise"] = float(np.abs(logits[:, 0] - enc.simulate(test)[:, 0]).max())
        out["encrypted_vs_plaintext"] = float(np.mean(labels == plain))
        out["encrypted_vs_simulated"] = float(np.mean(labels == simulated))
    return out


def main(argv) -> int:
    encrypted = "--plaintext" not in argv
    variant = RELU_VARIANT if "--relu" in argv else QUICK_START
    argv = [a for a in argv if not a.startswith("--")]
    count = int(argv[0]) if argv else 100
    X, y = data()
    rows = []
    start = time.perf_counter()
    for seed in range(count):
        row = recipe(seed, X, y, encrypted, **variant)
        rows.append(row)
        print(row, flush=True)
    key = "encrypted_vs_plaintext" if encrypted else "simulated_vs_plaintext"
    agree = np.array([r[key] for r in rows])
    print(f"{count} seeds in {time.perf_counter() - start:.0f} s: {key} min {agree.min():.3f}, "
          f"mean {agree.mean():.4f}, runs at 1.00: {int(np.sum(agree == 1.0))}, below 0.98: {int(np.sum(agree < 0.98))}")
    if encrypted:
        same = np.array([r["encrypted_vs_simulated"] for r in rows])
        print(f"encrypted labels equal the plaintext plan's in {int(np.sum(same == 1.0))}/{count} runs "
              f"(min {same.min():.3f})")
        print(f"largest noise on a logit {max(r['noise'] for r in rows):.2e}; smallest plan logit "
              f"{min(r['smallest_plan_logit'] for r in rows):.2e}")
    print(f"test records' hidden values inside the bounded range in "
          f"{sum(r['hidden_in_bounded_range'] for r in rows)}/{count} runs; degrees "
          f"{sorted(set(r['degree'] for r in rows))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
