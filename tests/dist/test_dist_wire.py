"""What travels to workers: packed ciphertexts and public contexts only (no cluster needed)."""

import numpy as np
import pytest

import securinfer as si
from securinfer.dist import tasks
from securinfer.dist.shard import build_shard
from securinfer.ciphertext_batch import pack, unpack
from securinfer.dist.wire import context_key, load_public, probe_context, public_bytes
from securinfer.dist.worker_cache import WorkerState


@pytest.fixture(scope="module")
def ctx():
    ctx = si.Context.create(preset="fast")
    ctx.generate_rotation_keys(steps=[1, 2, 4])
    return ctx


def test_pack_round_trip_keeps_values_and_state(ctx):
    x = ctx.encrypt(np.arange(5.0))
    z = ctx.encrypt(np.array([1 + 2j, 3.0]))
    s = x.sum()                                          # partial sums past slot 0: undefined padding
    server = load_public(public_bytes(ctx))
    back = unpack(pack([x, z, s]), server)
    for before, after in zip([x, z, s], back):
        assert after.context is server and after.level == before.level and after.size == before.size
        assert (after.is_complex, after.padding) == (before.is_complex, before.padding)
        np.testing.assert_array_equal(ctx.decrypt(after), ctx.decrypt(before))


def test_corrupt_blobs_raise_serialization_errors(ctx):
    blob = pack([ctx.encrypt([1.0])])
    for bad in (b"", blob[:20], blob[:-1], blob + b"x", b"\xff" * 8 + blob[8:]):
        with pytest.raises(si.SerializationError):
            unpack(bad, ctx)
    with pytest.raises(si.SerializationError):
        unpack("text", ctx)


def test_sizes_whose_int64_sum_wraps_are_refused(ctx):
    """Three positive int64 sizes whose sum wraps around 2^64 to exactly the
    payload's length: refused (each item's size is checked against what is
    left before anything is sliced)."""
    body = ctx.encrypt([1.0]).serialize() + ctx.encrypt([2.0]).serialize()
    sizes = [(1 << 63) - 1, (1 << 63) - 1, len(body) + 2]
    assert sum(sizes) % (1 << 64) == len(body)
    head = pack([ctx.encrypt([1.0])])[:8] + (3).to_bytes(4, "little")
    forged = head + b"".join(size.to_bytes(8, "little") for size in sizes[:1]) + body
    with pytest.raises(si.SerializationError, match="truncated"):
        unpack(forged, ctx)


def test_only_public_contexts_travel(ctx):
    assert ctx.has_secret_key
    server = load_public(public_bytes(ctx))
    assert not server.has_secret_key and context_key(server) == context_key(ctx)
    assert server.rotation_steps == ctx.rotation_steps               # evaluation keys do travel
    with pytest.raises(si.SecurityError):
        load_public(ctx.serialize(secret_key=True))
    with pytest.raises(si.SerializationError):
        load_public(b"junk")
    with pytest.raises(si.ParameterError):
        public_bytes("not a context")


def test_worker_state_checks_the_context_it_is_sent(ctx):
    state = WorkerState()
    with pytest.raises(si.SerializationError, match="not received"):
        state.context(context_key(ctx), None)
    other = si.Context.create(preset="fast")
    with pytest.raises(si.SerializationError, match="do not match"):
        state.context(context_key(ctx), public_bytes(other))
    server = state.context(context_key(ctx), public_bytes(ctx))
    assert state.context(context_key(ctx), None) is server and not server.has_secret_key


def test_probe_context_and_shard_and_servable_checks(ctx):
    with pytest.raises(si.ContextMismatchError):
        probe_context([ctx.encrypt([1.0]), si.Context.create(preset="fast").encrypt([1.0])])
    with pytest.raises(si.ParameterError):
        build_shard("pickle", b"", None)
    with pytest.raises(si.ParameterError):
        build_shard("npy", "x.npy", None)
    with pytest.raises(si.SerializationError):
        build_shard("npy", "/nonexistent/x.npy", {"poly_degree": 4096})
    with pytest.raises(si.ParameterError, match="unknown servable kind"):
        tasks.run_servable("id", "os.system", b"", 1, context_key(ctx), public_bytes(ctx), pack([]))


def test_a_context_claiming_another_clients_key_id_gets_its_own_worker_entry(ctx):
    """A context's key id is what its bytes claim: anyone can write another
    client's key id into their own keys. Workers key and verify contexts by
    the digest of their public bytes, so such a context neither receives the
    victim's cached context nor poisons the victim's later tasks."""
    import struct

    victim = ctx
    other = si.Context.create(preset="fast")
    data = public_bytes(other)
    forged_bytes = data.replace(struct.pack("<Q", other.key_id), struct.pack("<Q", victim.key_id))
    forged = load_public(forged_bytes)
    assert forged.key_id == victim.key_id and forged.same_parameters(victim)   # the claim loads
    assert context_key(forged) != context_key(victim)

    for first, second in ((victim, forged), (forged, victim)):
        worker = WorkerState()
        a = worker.context(context_key(first), public_bytes(first))
        b = worker.context(context_key(second), public_bytes(second))
        assert a is not b
        x = victim.encrypt(np.arange(4.0))
        on_victims = unpack(pack([x]), worker.context(context_key(victim), None))[0]
        np.testing.assert_allclose(victim.decrypt(on_victims * on_victims)[:4], [0, 1, 4, 9], atol=1e-3)


def test_context_bytes_must_match_the_digest_the_task_names(ctx):
    other = si.Context.create(preset="fast")
    with pytest.raises(si.SerializationError, match="do not match"):
        WorkerState().context(context_key(ctx), public_bytes(other))


def test_the_context_key_follows_keys_added_later():
    c = si.Context.create(preset="fast")
    before = context_key(c)
    c.generate_rotation_keys(steps=[3])
    after = context_key(c)
    assert before != after and after == context_key(c, public_bytes(c))
