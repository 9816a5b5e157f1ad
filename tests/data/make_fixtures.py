"""Writes the format fixtures in this folder. Run only when the format version
changes (then keep the old files and add new ones): tests load every version.

    python tests/data/make_fixtures.py
"""

import pathlib

import numpy as np

import securinfer as si

HERE = pathlib.Path(__file__).parent

ctx = si.Context.create(poly_degree=4096, coeff_bits=[38, 30, 40], scale_bits=30)
values = np.linspace(-1, 1, 16)
fresh = ctx.encrypt(values)
(HERE / "context_v1_secret.bin").write_bytes(ctx.serialize(secret_key=True))
(HERE / "ciphertext_v1_fresh.bin").write_bytes(fresh.serialize())
(HERE / "ciphertext_v1_product.bin").write_bytes((fresh * fresh).serialize())
np.save(HERE / "values_v1.npy", values)
