"""A ciphertext's slot state crosses process boundaries intact: a sum()
result and complex values sent to a Dask worker and computed on there come
back with numpy's answer, and the undefined padding is still refused."""

import pickle

import numpy as np
import pytest

import securinfer as si
from securinfer import ciphertext_batch
from securinfer.dist import wire


def _on_worker(context_bytes, blob):
    """Runs in a worker process: load, compute, send back."""
    import securinfer as si_worker
    from securinfer import ciphertext_batch as worker_wire

    ctx = si_worker.Context.load(context_bytes)
    s, x, z = worker_wire.unpack(blob, ctx)
    return worker_wire.pack([s, x + s, z * 2, s * x])


def test_state_survives_a_worker_round_trip(client):
    ctx = si.Context.create(preset="fast")
    ctx.generate_rotation_keys()
    v, zv = np.array([1.0, 2.0, 3.0]), np.array([1 + 2j, -1j])
    x, z = ctx.encrypt(v), ctx.encrypt(zv)
    blob = ciphertext_batch.pack([x.sum(), x, z])
    answer = client.submit(_on_worker, wire.public_bytes(ctx), blob, pure=False).result(timeout=120)
    s, shifted, zz, scaled = ciphertext_batch.unpack(answer, ctx)
    assert (s.size, s.padding) == (1, "undefined")
    assert np.allclose(ctx.decrypt(s), [6.0], atol=1e-4)
    assert np.allclose(ctx.decrypt(shifted), v + 6, atol=1e-4)
    assert np.allclose(ctx.decrypt(scaled), 6 * v, atol=1e-4)
    assert zz.is_complex and np.allclose(ctx.decrypt(zz), 2 * zv, atol=1e-4)
    with pytest.raises(si.ParameterError, match="undefined"):
        s.rotate(1)
    # pickle keeps it too (the worker-side unpickle needs the context loaded there).
    back = pickle.loads(pickle.dumps(s))
    assert back.padding == "undefined" and np.allclose(ctx.decrypt(back), [6.0], atol=1e-4)
