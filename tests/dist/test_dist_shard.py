"""A worker's shard on its own (no cluster): same scores as face.Gallery, encoding budget, threads."""

import numpy as np

from securinfer.apps import face
from securinfer.apps.face.layout import as_templates
from securinfer.dist.shard import PlainShard


def test_shard_scores_like_the_gallery_on_threads_and_within_its_budget(face_ctx, templates):
    rows = as_templates(templates)
    gallery = face.Gallery(templates, threads=1, reveal="scores")
    probe = face.encrypt_probe(face_ctx, templates[10])
    want = [face_ctx.decrypt(c) for c in gallery(probe)]

    shard = PlainShard(rows, face.FACE_PARAMETERS, threads=2)
    shard.prepare(face_ctx.public())                     # three blocks encoded on two threads
    assert shard.encodings == 3 and shard.nbytes["encoded"] > 0
    got = [face_ctx.decrypt(c) for c in shard.score(probe)]
    assert shard.encodings == 3                          # the query reused them
    assert max(np.abs(g - w).max() for g, w in zip(got, want)) <= 1e-6

    one_block = shard.nbytes["encoded"] // 3
    budget = PlainShard(rows, face.FACE_PARAMETERS, max_encoded_bytes=one_block, threads=1)
    first = budget.score(probe)
    second = budget.score(probe)
    assert budget.nbytes["encoded"] == one_block         # only one block kept
    assert budget.encodings == 3 + 2                     # the other two encoded again
    for a, b, w in zip(first, second, want):
        assert np.abs(face_ctx.decrypt(a) - w).max() <= 1e-6 and np.abs(face_ctx.decrypt(b) - w).max() <= 1e-6
