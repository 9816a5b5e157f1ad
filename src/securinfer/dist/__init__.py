"""securinfer.dist: scale-out on Dask.

* :class:`ShardedGallery`: a face gallery cut into shards of whole blocks,
  each held by one worker with its encoded columns (or encrypted templates)
  across calls; an encrypted probe is sent once per worker and the score
  ciphertexts come back in block order, as from one
  :class:`securinfer.apps.face.Gallery`;
* :class:`BatchRunner` / :func:`map_groups`: a servable (``nn.EncryptedModel``,
  face galleries) copied to every worker once, many groups of ciphertexts
  spread across them, answers in order;
* :func:`audit_workers`: what contexts each worker holds (never a secret key).

Ciphertexts and contexts travel as securinfer's validated bytes; a worker
only ever receives public contexts (docs/dist.md).

Example (plain code: it needs a cluster)::

    from distributed import Client
    from securinfer import dist
    client = Client("tcp://scheduler:8786")
    gallery = dist.ShardedGallery.from_files(client, ["/data/shard0.npy", "/data/shard1.npy"])
    scores = gallery(probe_ciphertexts)
"""

from .audit import audit_workers
from .batch import BatchRunner, map_groups
from .sharded_gallery import ShardedGallery

__all__ = ["ShardedGallery", "BatchRunner", "map_groups", "audit_workers"]
