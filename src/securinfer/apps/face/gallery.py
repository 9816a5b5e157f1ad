"""A gallery of plaintext face templates scored against an encrypted probe.

The server holds the templates (it enrolled them) and never sees the probe or
the scores: the client sends its embedding as ONE ciphertext (``probe="compact"``,
the default: :mod:`~securinfer.apps.face.compact_probe`, the server scores it by
baby-step giant-step, 15 + 7 rotations for one block, and needs the 7 power-of-two rotation keys)
or as 128 ciphertexts (``probe="columns"``: no rotation key, a 128 times larger
upload; see :mod:`~securinfer.apps.face.layout`); a gallery takes both forms.
The server returns one ciphertext per
block of ``slots`` templates, and the client decrypts it
(:mod:`~securinfer.apps.face.client`). What the ciphertext holds is ``reveal``:

* ``"match"`` (default): a bit-like value per template, 1 where the score
  reaches the threshold, thresholded and noised by the server
  (:mod:`~securinfer.apps.face.match`): the client learns which templates
  matched. Needs the deeper :data:`~securinfer.apps.face.match.MATCH_PARAMETERS`;
* ``"scores"``: **leaks the gallery**. The cosine similarity to every
  template; 128 queries with independent probes solve for every template
  (docs/face.md). Only for galleries the client may see anyway.

Each block's 128 columns are encoded once for the probe's parameters (the
first query, or :meth:`Gallery.prepare`) and kept up to ``max_encoded_bytes``;
blocks past that budget are encoded again at each query (slower, bounded memory).

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.apps import face
    >>> rng = np.random.default_rng(0)
    >>> templates = rng.normal(size=(5, 128))
    >>> gallery = face.Gallery(templates, labels=list("abcde"), reveal="scores")
    >>> ctx = face.create_context(gallery.describe())
    >>> scores = face.decrypt_scores(ctx, gallery.describe(), gallery(face.encrypt_probe(ctx, templates[3])))
    >>> [label for label, _ in face.top_k(scores, 1, gallery.labels)]
    ['d']
"""

from __future__ import annotations

import threading
from typing import List, Optional

import numpy as np

from ...errors import MissingKeyError, ParameterError, SerializationError
from ..._validation import require_int
from ...servable import register, store
from ...linalg import combine_plain, combine_plain_many
from .blocks import map_blocks
from .compact_blocks import CompactBlocks
from .compact_probe import baby_rotations, baby_step_keys, choose_baby_step
from .encoded_blocks import EncodedBlocks
from .gallery_client import GalleryClient
from .layout import as_labels, as_templates, block_columns, check_context, check_probe
from .match import MatchRule, MATCH_PARAMETERS
from .params import EMBEDDING_SIZE, FACE_PARAMETERS

REVEALS = ("match", "scores")
PROBE_FORMS = ("compact", "columns")


def _slots(parameters: dict) -> int:
    return parameters["poly_degree"] // 2


@register
class Gallery:
    """Plaintext templates, scored against encrypted probes (server side).

    ``templates``: (n, 128) embeddings (normalised here); ``labels``: n names
    (default "0", "1", ...); ``reveal``: ``"match"`` (default) or ``"scores"``
    (leaks the gallery, see the module docstring); ``threshold``, ``margin``,
    ``answer_noise``, ``norm_check``: the match rule (:class:`~securinfer.apps.face.match.MatchRule`;
    ``norm_check=True``, the default, defeats the probe-scaling attack at one level);
    ``probe``: the probe form the gallery asks for, ``"compact"`` (default: one
    ciphertext, rotation keys) or ``"columns"`` (128 ciphertexts, no rotation key); both are accepted
    (``reveal="match"`` thresholds the probe's real part: the conjugation key, one key switch per ciphertext);
    ``threads``: threads over blocks (default 1: the core's threads split each block);
    ``max_encoded_bytes``: memory for encoded columns (default: no limit).
    """

    kind = "gallery"
    client = GalleryClient

    def __init__(self, templates=None, labels=None, *, name: str = "face-gallery", reveal: str = "match",
                 threshold: Optional[float] = None, margin: Optional[float] = None,
                 answer_noise: Optional[float] = None, norm_check: Optional[bool] = None,
                 threads: Optional[int] = None,
                 max_encoded_bytes: Optional[int] = None, parameters: Optional[dict] = None,
                 probe: str = "compact"):
        if reveal not in REVEALS:
            raise ParameterError(f"reveal must be one of {REVEALS}, got {reveal!r}")
        if probe not in PROBE_FORMS:
            raise ParameterError(f"probe must be one of {PROBE_FORMS}, got {probe!r}")
        self.probe = probe
        self.name = str(name)
        self.reveal = reveal
        rule = {k: v for k, v in dict(threshold=threshold, margin=margin, answer_noise=answer_noise,
                                     norm_check=norm_check).items()
                if v is not None}
        if reveal == "scores" and rule:
            raise ParameterError(f"{sorted(rule)} apply to reveal='match' only")
        self.rule = MatchRule(**rule) if reveal == "match" else None
        default = MATCH_PARAMETERS if reveal == "match" else FACE_PARAMETERS
        self.parameters = dict(default if parameters is None else parameters)
        # Checked here: a str or float only failed at the first query (TypeError in map_blocks).
        self.threads = None if threads is None else require_int(threads, "threads", minimum=1)
        if max_encoded_bytes is not None:
            max_encoded_bytes = require_int(max_encoded_bytes, "max_encoded_bytes", minimum=0)
        self._labels: List[str] = []
        # The templates, stored only in block layout: (blocks, 128, slots), zero-padded.
        self._columns = np.zeros((0, EMBEDDING_SIZE, self.slots), dtype=np.float32)
        self._encoded = EncodedBlocks(self._scaled_columns, max_encoded_bytes)
        # The same blocks as giant-step diagonals, for the compact probe (each form encoded at its first use).
        self._encoded_diagonals = CompactBlocks(self._scaled_columns, self.slots, max_encoded_bytes)
        self._lock = threading.Lock()      # enrolment replaces the columns under it
        if templates is not None:
            self.add(templates, labels)

    # ------------------------------------------------------------------ enrollment
    def add(self, templates, labels=None) -> None:
        """Enroll more templates (appended after the current ones)."""
        new = as_templates(templates)
        labels = as_labels(labels, len(new))
        # The whole read-modify-write under the lock: two enrolments that both read the
        # old last block would each write it back without the other's templates.
        with self._lock:
            first_changed = len(self) // self.slots
            kept = self._rows(first_changed * self.slots, len(self))     # the partly filled last block
            tail = block_columns(np.concatenate([kept, new]), self.slots)
            self._columns = np.concatenate([self._columns[:first_changed], tail])
            self._labels += labels
            self._encoded.forget_from(first_changed)      # the changed blocks' encodings are stale
            self._encoded_diagonals.forget_from(first_changed)

    def select(self, labels, *, merge: bool = False) -> "Gallery":
        """The gallery of the templates with these labels (1:1 verification
        is identification against the claimed identity's templates).
        ``merge=True``: one template per label, the normalised mean of its
        templates, so a 1:1 answer in match mode is one bit-like value."""
        wanted = {labels} if isinstance(labels, str) else {str(x) for x in labels}
        keep = [i for i, label in enumerate(self._labels) if label in wanted]
        if not keep:
            raise ParameterError(f"no template has label(s) {sorted(wanted)}")
        if merge:
            names = sorted({self._labels[i] for i in keep})
            rows = self.templates
            means = [rows[[i for i in keep if self._labels[i] == n]].astype(np.float64).mean(axis=0) for n in names]
            return Gallery(np.array(means), names, name=self.name, threads=self.threads,
                           max_encoded_bytes=self.max_encoded_bytes, parameters=self.parameters, probe=self.probe,
                           **self._rule_kwargs())
        return Gallery(self.templates[keep], [self._labels[i] for i in keep], name=self.name,
                       threads=self.threads, max_encoded_bytes=self.max_encoded_bytes, parameters=self.parameters,
                       probe=self.probe,
                       **self._rule_kwargs())

    def _rule_kwargs(self) -> dict:
        if self.rule is None:
            return {"reveal": "scores"}
        return {"reveal": "match", "threshold": self.rule.threshold, "margin": self.rule.margin,
                "answer_noise": self.rule.answer_noise, "norm_check": self.rule.norm_check}

    # ------------------------------------------------------------------ facts
    def __len__(self) -> int:
        return len(self._labels)

    @property
    def slots(self) -> int:
        """Templates per block."""
        return _slots(self.parameters)

    @property
    def blocks(self) -> int:
        return self._columns.shape[0]

    @property
    def labels(self) -> List[str]:
        return list(self._labels)

    @property
    def templates(self) -> np.ndarray:
        """(n, 128) float32 unit vectors (a copy)."""
        return self._rows(0, len(self))

    def _rows(self, start: int, stop: int) -> np.ndarray:
        """Templates start..stop-1 as (rows, 128), from the block layout."""
        first, last = start // self.slots, -(-stop // self.slots)
        rows = self._columns[first:last].transpose(0, 2, 1).reshape(-1, EMBEDDING_SIZE)
        return np.ascontiguousarray(rows[start - first * self.slots: stop - first * self.slots])

    @property
    def max_encoded_bytes(self) -> Optional[int]:
        """The memory budget of the encoded columns (None: no limit)."""
        return self._encoded.max_encoded_bytes

    @max_encoded_bytes.setter
    def max_encoded_bytes(self, value: Optional[int]) -> None:
        value = None if value is None else require_int(value, "max_encoded_bytes", minimum=0)
        self._encoded.max_encoded_bytes = value
        self._encoded_diagonals.max_encoded_bytes = value

    @property
    def nbytes(self) -> dict:
        """Memory held: the templates (float32, block layout) and the encoded columns."""
        return {"templates": int(self._columns.nbytes),
                "encoded": int(self._encoded.nbytes + self._encoded_diagonals.nbytes)}

    def __repr__(self) -> str:
        return f"<securinfer.apps.face.Gallery {self.name!r} templates={len(self)} blocks={self.blocks}>"

    # ------------------------------------------------------------------ server computation
    def prepare(self, context, level: Optional[int] = None, probe: Optional[str] = None) -> None:
        """Encode every block for ``context``'s parameters now (a public
        context suffices), within ``max_encoded_bytes``, for the ``probe``
        form (default: the gallery's)."""
        check_context(context, self.parameters)
        level = context.max_level if level is None else level
        if (probe or self.probe) == "compact":
            try:         # the B a probe of this context will use
                baby = choose_baby_step(max(self.blocks, 1), context.rotation_steps)
            except MissingKeyError:
                baby = choose_baby_step(max(self.blocks, 1))
            map_blocks(lambda b: self._encoded_diagonals.prepare(context, level, baby, b), self.blocks, self.threads)
        else:
            map_blocks(lambda b: self._encoded.get(context, level, b), self.blocks, self.threads)

    def _scaled_columns(self, b: int) -> np.ndarray:
        """Block ``b``'s columns, scaled by the match rule's threshold map."""
        return self._columns[b] if self.rule is None else self._columns[b] * self.rule.column_scale()

    def __call__(self, probe_cts) -> list:
        """One ciphertext per block; slot j of ciphertext b is about template
        ``b * slots + j``: whether it matched (``reveal="match"``, bit-like,
        noised) or its cosine similarity (``reveal="scores"``, one level).
        ``probe_cts``: the compact probe (a list of one ciphertext) or the
        128-ciphertext one."""
        compact = check_probe(probe_cts, self.parameters, compact_ok=True)
        if not len(self):
            raise ParameterError("the gallery is empty")
        context = probe_cts[0].context
        # The compact probe's B: the best the probe's keys allow (MissingKeyError if none).
        baby = choose_baby_step(self.blocks, context.rotation_steps) if compact else None
        if self.rule is not None:     # 2 Re(p): a complex probe cheats the norm check
            probe_cts, level = self.rule.prepare_probe(probe_cts)
        else:
            level = min(c.level for c in probe_cts)
        # The columns are encoded at the level the products run at.
        if compact:      # baby rotations once per probe, giant ones per block (compact_probe.py)
            return self._score_compact(probe_cts[0], context, level, baby)
        if self.rule is None:
            return self._scores(probe_cts, context, level)
        extra = self.rule.columns_extra(probe_cts)        # n - 1 once per probe, or the threshold's constant
        return map_blocks(lambda b: self.rule.answer(combine_plain(probe_cts, self._encoded.get(context, level, b))
                                                     + extra), self.blocks, self.threads)

    def _scores(self, probe_cts, context, level: int) -> list:
        """Every block's scores, ``threads`` groups of consecutive blocks each
        scored in one core call (combine_plain_many): the probe's 128
        ciphertexts are read from memory once per group, not once per block."""
        encoded = [self._encoded.get(context, level, b) for b in range(self.blocks)]
        groups = max(1, min(self.threads or 1, self.blocks))
        bounds = [self.blocks * g // groups for g in range(groups + 1)]
        parts = map_blocks(lambda g: combine_plain_many(probe_cts, encoded[bounds[g]:bounds[g + 1]]), groups, groups)
        return [y for part in parts for y in part]

    def _score_compact(self, probe_ct, context, level: int, baby: int) -> list:
        """The compact probe by baby-step giant-step. With the norm check, the
        squares of the baby rotations join every giant step's partial product,
        so the giant steps also sum the probe's squares over its 128 coordinates
        (4 n, no rotation of its own); -4 then makes it 4 (n - 1), as :meth:`MatchRule.norm_term`."""
        babies = baby_rotations(probe_ct, baby)
        rule = self.rule
        squares, extra = rule.compact_terms(babies) if rule is not None else (None, None)

        def product(b):
            return self._encoded_diagonals.score(babies, context, level, b, add=squares)

        if rule is None:
            return map_blocks(product, self.blocks, self.threads)
        return map_blocks(lambda b: rule.answer(product(b) + extra), self.blocks, self.threads)

    # ------------------------------------------------------------------ servable contract
    def required_rotations(self) -> List[int]:
        """The compact probe's keys (``probe="compact"``): those of the baby
        step its block count calls for (1, 2, 4, 8, 16 up to 3 blocks, 49,152 templates
        at N = 32768); none for ``"columns"``."""
        return baby_step_keys(choose_baby_step(max(self.blocks, 1))) if self.probe == "compact" else []

    def describe(self) -> dict:
        from .describe import description

        return description(self.name, self.parameters, len(self), encrypted_templates=False,
                           match=None if self.rule is None else self.rule.as_dict(), probe=self.probe,
                           rotations=self.required_rotations())

    def save(self, target) -> None:
        """Templates, labels, parameters and the match rule to one file of
        the servable store (a path or a binary file; no pickle)."""
        store.write(target, self.kind, {"name": self.name, "parameters": self.parameters,
                                        "labels": self._labels, "rule": self._rule_kwargs(),
                                        "probe": self.probe}, templates=self.templates)

    @classmethod
    def load(cls, source, *, threads: Optional[int] = None, max_encoded_bytes: Optional[int] = None) -> "Gallery":
        """A gallery from :meth:`save`'s file (a path or a binary file;
        validated, safe on untrusted files)."""
        from .describe import check_saved

        # The caller's settings first: their errors are not the file's (the rule's are, below).
        threads = None if threads is None else require_int(threads, "threads", minimum=1)
        if max_encoded_bytes is not None:
            max_encoded_bytes = require_int(max_encoded_bytes, "max_encoded_bytes", minimum=0)
        meta, arrays = store.read_any(source)
        check_saved(meta, cls.kind, arrays, ["templates"])
        templates = arrays["templates"]
        if templates.dtype != np.float32 or templates.ndim != 2 or len(templates) != len(meta["labels"]):
            raise SerializationError("saved templates must be a 2-D float32 array, one row per label")
        rule = meta.get("rule", {"reveal": "scores"})      # files from before the match mode held scores galleries
        if isinstance(rule, dict) and rule.get("reveal") == "match":
            rule = dict({"norm_check": False}, **rule)      # files from before the norm check
        allowed = {"reveal", "threshold", "margin", "answer_noise", "norm_check"}
        if not isinstance(rule, dict) or not set(rule) <= allowed:
            raise SerializationError("saved gallery's match rule is malformed")
        try:
            gallery = cls(name=meta["name"], threads=threads, max_encoded_bytes=max_encoded_bytes,
                          parameters=meta["parameters"], probe=meta.get("probe", "compact"), **rule)
        except (ParameterError, TypeError) as exc:
            raise SerializationError(f"saved gallery's match rule is invalid: {exc}") from None
        if len(templates):
            try:
                gallery.add(templates, meta["labels"])
            except ParameterError as exc:
                raise SerializationError(f"saved templates are invalid: {exc}") from None
        return gallery
