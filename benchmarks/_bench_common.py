"""Helpers shared by the benchmark modules and conftest.py: the compared
parameter sets, securinfer and TenSEAL behind one small interface, group naming
and a loose result check."""

from __future__ import annotations

import numpy as np

import securinfer as si

try:  # TenSEAL is optional: its benchmarks are skipped without it.
    import tenseal as ts
    from tenseal import sealapi
except ImportError:  # pragma: no cover - depends on the environment
    ts = None
    sealapi = None

OURS = "securinfer"
TENSEAL = "tenseal"
LIBRARIES = [OURS, TENSEAL]

# The two parameter sets compared (TenSEAL's convention: first prime the base,
# last prime the special prime of key switching; securinfer reads them the same way).
CKKS_PARAMS = {
    8192: dict(poly_degree=8192, coeff_bits=[60, 40, 40, 60], scale_bits=40),
    16384: dict(poly_degree=16384, coeff_bits=[60] + [40] * 6 + [60], scale_bits=40),
}
THREADS = [1, 2]
# Rotation steps that get an exact key, besides the power-of-two ones, in both
# libraries: the 16-rotation benchmarks (and rotation by 1) use these.
EXTRA_ROTATION_STEPS = list(range(1, 17))


# --------------------------------------------------------------------------- helpers
def set_info(benchmark, *, group: str, library: str, **extra) -> None:
    """Names the benchmark's group (so --benchmark-group-by=group shows ours and
    TenSEAL's side by side) and records what report.py reads."""
    benchmark.group = group
    benchmark.extra_info["library"] = library
    for key, value in extra.items():
        benchmark.extra_info[key] = value


def assert_close(got, want, *, tol: float = 1e-2) -> None:
    """Loose check that decrypted values match numpy: a broken benchmark must
    fail, but CKKS noise is no concern here."""
    want = np.atleast_1d(np.asarray(want, dtype=np.float64))
    got = np.asarray(got, dtype=np.float64)[: want.size]
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=0, atol=tol * scale)


# --------------------------------------------------------------------------- CKKS backends
class OursBackend:
    """securinfer behind the small interface the CKKS benchmarks use."""

    library = OURS

    def __init__(self, n: int):
        self.n = n
        self.ctx = si.Context.create(**CKKS_PARAMS[n])
        # Power-of-two steps both ways plus conjugation: the key set SEAL's
        # create_galois_keys() makes (what TenSEAL's generate_galois_keys uses).
        self.ctx.generate_rotation_keys(conjugation=True)
        self.ctx.generate_rotation_keys(steps=EXTRA_ROTATION_STEPS)
        self._public = None
        self.slots = self.ctx.slots
        self.path = si.simd_info()["active"]

    @property
    def public_ctx(self):
        if self._public is None:
            self._public = self.ctx.public()
        return self._public

    def prepare(self, values: np.ndarray):
        return values

    def encrypt(self, values):
        return self.ctx.encrypt(values)

    def encrypt_public(self, values):
        return self.public_ctx.encrypt(values)

    def decrypt(self, ct) -> np.ndarray:
        return np.asarray(self.ctx.decrypt(ct))

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def mul(a, b):
        return a * b

    @staticmethod
    def mul_plain(a, p):
        return a * p

    @staticmethod
    def rotate(a, step):
        return a.rotate(step)

    @staticmethod
    def rotate_separate(a, steps):
        return [a.rotate(s) for s in steps]

    @staticmethod
    def rotate_hoisted(a, steps):
        return a.rotate_many(steps)

    @staticmethod
    def sum(a):
        return a.sum()

    @staticmethod
    def dot(a, b):
        return a.dot(b)


class TensealBackend:
    """TenSEAL 0.3.18 behind the same interface. Rotations go through
    tenseal.sealapi (SEAL's Evaluator.rotate_vector on the vector's ciphertext):
    TenSEAL's own API has no rotation."""

    library = TENSEAL

    def __init__(self, n: int, threads: int, *, symmetric: bool = False, rotations: bool = True):
        self.n = n
        p = CKKS_PARAMS[n]
        kwargs = dict(coeff_mod_bit_sizes=p["coeff_bits"], n_threads=threads)
        if symmetric:
            kwargs["encryption_type"] = ts.ENCRYPTION_TYPE.SYMMETRIC
        self.ctx = ts.context(ts.SCHEME_TYPE.CKKS, n, **kwargs)
        self.ctx.global_scale = 2.0 ** p["scale_bits"]
        self.slots = n // 2
        self.path = "seal"
        self._seal = self.ctx.seal_context().data
        self._decryptor = sealapi.Decryptor(self._seal, self.ctx.secret_key().data)
        self._encoder = sealapi.CKKSEncoder(self._seal)
        self._evaluator = sealapi.Evaluator(self._seal)
        self._rot_keys = None
        if rotations:
            self.ctx.generate_galois_keys()
            # Exact keys for steps 1..16 (SEAL would otherwise compose them),
            # in a separate GaloisKeys object made from the context's secret key.
            tool = self._seal.key_context_data().galois_tool()
            elts = sorted(set(tool.get_elts_from_steps(EXTRA_ROTATION_STEPS)))
            keygen = sealapi.KeyGenerator(self._seal, self.ctx.secret_key().data)
            self._rot_keys = sealapi.GaloisKeys()
            keygen.create_galois_keys(elts, self._rot_keys)

    def prepare(self, values: np.ndarray):
        # TenSEAL takes Python lists; the conversion is done before timing.
        return values.tolist()

    def encrypt(self, values):
        return ts.ckks_vector(self.ctx, values)

    encrypt_public = encrypt  # the context's encryption type decides

    def decrypt(self, v) -> np.ndarray:
        if isinstance(v, sealapi.Ciphertext):  # a rotation result
            plain = sealapi.Plaintext()
            self._decryptor.decrypt(v, plain)
            return np.asarray(self._encoder.decode_double(plain))
        return np.asarray(v.decrypt())

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def mul(a, b):
        return a * b

    @staticmethod
    def mul_plain(a, p):
        return a * p

    def rotate(self, v, step):
        out = sealapi.Ciphertext(self._seal)
        self._evaluator.rotate_vector(v.ciphertext()[0], step, self._rot_keys, out)
        return out

    def rotate_separate(self, v, steps):
        ct = v.ciphertext()[0]
        outs = []
        for s in steps:
            out = sealapi.Ciphertext(self._seal)
            self._evaluator.rotate_vector(ct, s, self._rot_keys, out)
            outs.append(out)
        return outs

    @staticmethod
    def sum(a):
        return a.sum()

    @staticmethod
    def dot(a, b):
        return a.dot(b)


class BackendCache:
    """Backends for one ring degree, made on first use (key generation is the
    slow part) and dropped when the module-scoped ``ckks_n`` moves on, so the
    N=8192 keys are freed before the N=16384 ones are made."""

    def __init__(self, n: int):
        self.n = n
        self._cache = {}

    def get(self, library: str, threads: int, *, symmetric: bool = False):
        if library == OURS:
            key = (OURS,)  # one key set; the thread count is process-wide
            make = lambda: OursBackend(self.n)  # noqa: E731
        else:
            key = (TENSEAL, threads, symmetric)
            # The secret-key (symmetric) TenSEAL context is only for encryption:
            # no Galois keys.
            make = lambda: TensealBackend(self.n, threads, symmetric=symmetric, rotations=not symmetric)  # noqa: E731
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def clear(self):
        self._cache.clear()


def ckks_group(n: int, threads: int, op: str) -> str:
    return f"ckks N={n} t={threads}: {op}"


def ckks_info(benchmark, be, threads: int, op: str, variant: str = "") -> None:
    set_info(benchmark, group=ckks_group(be.n, threads, op), library=be.library, kind="ckks", op=op,
             variant=variant, N=be.n, coeff_bits=CKKS_PARAMS[be.n]["coeff_bits"], threads=threads, path=be.path)
