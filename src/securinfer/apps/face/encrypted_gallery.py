"""A gallery whose templates the enrolling client encrypted: the server sees
neither the probe nor the templates nor the scores.

The client enrolls with :meth:`EncryptedGallery.enroll` (its secret context
encrypts each block's 128 columns; the gallery keeps them under the public
context only), saves the gallery and hands the file to the server, which
loads it and scores probes encrypted under the same keys: 128 ciphertext
products per block, relinearised and rescaled once
(``si.linalg.sum_of_products``).

A loaded gallery keeps the ciphertext bytes until the first probe (or
:meth:`EncryptedGallery.bind`) gives it the context to validate them against.

Example:
    >>> import numpy as np, securinfer as si
    >>> from securinfer.apps import face
    >>> rng = np.random.default_rng(1)
    >>> templates = rng.normal(size=(4, 128))
    >>> ctx = face.create_context()
    >>> gallery = face.EncryptedGallery.enroll(ctx, templates, labels=["ann", "bob", "cy", "dee"])
    >>> scores = face.decrypt_scores(ctx, gallery.describe(), gallery(face.encrypt_probe(ctx, templates[1])))
    >>> face.top_k(scores, 1, gallery.labels)[0][0]
    'bob'

``reveal="match"`` (:mod:`~securinfer.apps.face.match`): the enrolling client
encrypts the templates in the match ring, scaled by the match rule, and the
server thresholds the encrypted scores as for a plaintext gallery, so a
client that queries learns which templates matched, not their scores. The
probe is one ciphertext by default (``probe="compact"``: the templates are
encrypted as baby-step giant-step diagonals for the baby step B their block
count calls for, fixed at enrolment; the client's context needs the rotation
keys of ``describe()["rotations"]``) or 128 (``probe="columns"``). The rule
(threshold, margin, answer noise, norm check) is fixed at enrolment too: it
is folded into the ciphertexts. A block holds 128 ciphertexts at the rule's
level: 1.4 GB per 16,384 templates in
:data:`~securinfer.apps.face.match.MATCH_PARAMETERS` (20 levels at N = 32768),
against 25 MB per 2,048 in the scores ring.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ...errors import ContextMismatchError, LevelError, MissingKeyError, ParameterError, SerializationError
from ...servable import register, store
from ...linalg import sum_of_products, sum_of_products_many
from .blocks import map_blocks
from .compact_probe import BABY_STEPS, baby_rotations, baby_step_keys, choose_baby_step, giant_diagonals, giant_sum
from .gallery_client import GalleryClient
from .layout import as_labels, as_templates, block_columns, check_context, check_probe
from .match import MATCH_PARAMETERS, MatchRule
from .params import EMBEDDING_SIZE, FACE_PARAMETERS

REVEALS = ("scores", "match")
PROBE_FORMS = ("compact", "columns")
_RULE_FIELDS = ("threshold", "margin", "answer_noise", "norm_check")


@register
class EncryptedGallery:
    """Encrypted templates, scored against encrypted probes (server side).

    Made by :meth:`enroll` (client side) or :meth:`load` (server side)."""

    kind = "encrypted-gallery"
    client = GalleryClient

    def __init__(self, *, name: str, parameters: dict, labels: List[str], blocks=None, serialized=None,
                 threads: Optional[int] = None, rule: Optional[MatchRule] = None, probe: str = "columns",
                 baby: Optional[int] = None, _private: bool = False):
        if not _private:
            raise ParameterError("use EncryptedGallery.enroll(context, templates) or EncryptedGallery.load(path)")
        self.name = name
        self.parameters = dict(parameters)
        self.threads = threads
        self.rule = rule                      # the match rule (reveal="match"), None for scores
        self.probe = probe                    # "compact" (match only) or "columns"
        self.baby = baby                      # the compact probe's baby step, fixed at enrolment
        self._labels = list(labels)
        self._blocks = blocks                 # list of blocks, each a list of 128 Ciphertext
        self._serialized = serialized         # (bytes array, offsets) until bound to a context

    # ------------------------------------------------------------------ enrollment (client side)
    @classmethod
    def enroll(cls, context, templates, labels=None, *, name: str = "face-gallery",
               threads: Optional[int] = None, reveal: str = "scores", probe: Optional[str] = None,
               threshold: Optional[float] = None, margin: Optional[float] = None,
               answer_noise: Optional[float] = None, norm_check: Optional[bool] = None,
               parameters: Optional[dict] = None, baby_step: Optional[int] = None) -> "EncryptedGallery":
        """Encrypt ``templates`` ((n, 128), normalised here) with ``context``
        (the client's, with its secret key). The gallery holds them under
        ``context.public()``: it carries no secret key.

        ``reveal="scores"`` (default): the context has ``parameters`` (default
        :data:`FACE_PARAMETERS`) and the querying client decrypts every score
        (it leaks the gallery to a client that is not its owner: docs/face.md). ``reveal="match"``:
        the context has ``parameters`` (default :data:`MATCH_PARAMETERS`; make
        it with ``face.create_context(reveal="match")``), ``threshold``,
        ``margin``, ``answer_noise`` and ``norm_check`` are the
        :class:`~securinfer.apps.face.match.MatchRule`, and ``probe`` is
        ``"compact"`` (default) or ``"columns"``. ``baby_step``: the compact
        probe's B (default: the best for this many blocks,
        :func:`~securinfer.apps.face.compact_probe.choose_baby_step`; 128 for a
        gallery sharded or grown to 54 blocks and more)."""
        if reveal not in REVEALS:
            raise ParameterError(f"reveal must be one of {REVEALS}, got {reveal!r}")
        given = {k: v for k, v in zip(_RULE_FIELDS, (threshold, margin, answer_noise, norm_check)) if v is not None}
        if reveal == "scores":
            if given or probe not in (None, "columns") or baby_step is not None:
                raise ParameterError("the match rule, probe and baby step apply to reveal='match' only")
            rule, probe = None, "columns"
            parameters = dict(FACE_PARAMETERS if parameters is None else parameters)
        else:
            probe = "compact" if probe is None else probe
            if probe not in PROBE_FORMS:
                raise ParameterError(f"probe must be one of {PROBE_FORMS}, got {probe!r}")
            rule = MatchRule(**given)
            parameters = dict(MATCH_PARAMETERS if parameters is None else parameters)
        check_context(context, parameters)
        if not context.has_secret_key:
            raise ParameterError("enrolment encrypts with the client's secret key: pass the client's context")
        arr = as_templates(templates)
        labels = as_labels(labels, len(arr))
        columns = block_columns(arr, context.slots)
        baby = level = None
        if rule is not None:
            if context.max_level < rule.levels:
                raise LevelError(f"the match rule needs {rule.levels} levels; this context has {context.max_level}")
            level = rule.levels               # the products run there: the smallest ciphertexts that serve
            columns = columns * np.float32(rule.column_scale())
            if probe == "compact":
                baby = choose_baby_step(len(columns)) if baby_step is None else baby_step
                if isinstance(baby, bool) or baby not in BABY_STEPS:
                    raise ParameterError(f"baby_step must be one of {BABY_STEPS}, got {baby!r}")
            elif baby_step is not None:
                raise ParameterError("baby_step applies to the compact probe only")
        public = context.public()

        def rows(b):
            if baby is None:
                return columns[b]
            return np.concatenate([giant_diagonals(columns[b], context.slots, baby, g)
                                   for g in range(EMBEDDING_SIZE // baby)])

        def encrypt(row):
            ct = context.encrypt(row.astype(np.float64))
            return public.adopt(ct if level is None or ct.level == level else ct.drop_to_level(level))

        blocks = map_blocks(lambda b: [encrypt(row) for row in rows(b)], columns.shape[0], threads)
        return cls(name=name, parameters=parameters, labels=labels, blocks=blocks, threads=threads, rule=rule,
                   probe=probe, baby=baby, _private=True)

    @property
    def reveal(self) -> str:
        return "scores" if self.rule is None else "match"

    def select(self, labels) -> "EncryptedGallery":
        """The gallery of the blocks holding templates with these labels, for
        1:1 verification. A block cannot be cut without rotations, so the
        other templates of those blocks come along (in its ``labels``):
        decide with :func:`~securinfer.apps.face.client.verify`."""
        wanted = {labels} if isinstance(labels, str) else {str(x) for x in labels}
        chosen = sorted({i // self.slots for i, label in enumerate(self._labels) if label in wanted})
        if not chosen:
            raise ParameterError(f"no template has label(s) {sorted(wanted)}")
        if self._blocks is None:
            raise ParameterError("bind the gallery to a context first (bind(context) or a first query)")
        sub_labels = [label for b in chosen for label in self._labels[b * self.slots:(b + 1) * self.slots]]
        return EncryptedGallery(name=self.name, parameters=self.parameters, labels=sub_labels,
                                blocks=[self._blocks[b] for b in chosen], threads=self.threads, rule=self.rule,
                                probe=self.probe, baby=self.baby, _private=True)

    # ------------------------------------------------------------------ facts
    def __len__(self) -> int:
        return len(self._labels)

    @property
    def slots(self) -> int:
        return self.parameters["poly_degree"] // 2

    @property
    def blocks(self) -> int:
        return -(-len(self) // self.slots)

    @property
    def labels(self) -> List[str]:
        return list(self._labels)

    @property
    def nbytes(self) -> dict:
        """Memory held by the ciphertexts (in memory, or as bytes before binding)."""
        if self._blocks is not None:
            return {"ciphertexts": int(sum(c.nbytes for block in self._blocks for c in block))}
        return {"serialized": int(self._serialized[0].nbytes)}

    def __repr__(self) -> str:
        return f"<securinfer.apps.face.EncryptedGallery {self.name!r} templates={len(self)} blocks={self.blocks}>"

    # ------------------------------------------------------------------ server computation
    def bind(self, context) -> None:
        """Load the saved ciphertexts under ``context`` (the enrolling client's
        public context); ``ContextMismatchError`` if they belong to other keys."""
        from ...ciphertext import Ciphertext

        check_context(context, self.parameters)
        if self._blocks is not None:
            if self._blocks[0][0].key_id != context.key_id:
                raise ContextMismatchError("the gallery was encrypted under other keys than the probe")
            return
        data, offsets = self._serialized

        def load_block(b):
            first = b * EMBEDDING_SIZE
            return [Ciphertext.load(data[offsets[i]:offsets[i + 1]].tobytes(), context)
                    for i in range(first, first + EMBEDDING_SIZE)]

        blocks = map_blocks(load_block, self.blocks, self.threads)
        if self.rule is not None and any(c.level < self.rule.levels or c.size != self.slots
                                         for block in blocks for c in block):
            raise SerializationError(f"a match gallery's ciphertexts fill all {self.slots} slots at level "
                                     f"{self.rule.levels} or above; this file's do not")
        self._blocks = blocks
        self._serialized = None

    def __call__(self, probe_cts) -> list:
        """One ciphertext per block; slot j of ciphertext b is about template
        ``b * slots + j``: its cosine similarity with the probe
        (``reveal="scores"``, one level consumed) or whether it matched
        (``reveal="match"``, bit-like, noised: :mod:`~securinfer.apps.face.match`).
        ``probe_cts``: the probe in the gallery's form (``describe()["inputs"]``)."""
        compact = check_probe(probe_cts, self.parameters, compact_ok=self.probe == "compact")
        if compact != (self.probe == "compact"):
            raise ParameterError("this gallery was enrolled for the compact probe: "
                                 "face.encrypt_probe(context, embedding, compact=True)")
        self.bind(probe_cts[0].context)
        if self.rule is not None:
            return self._match(probe_cts, compact)
        # ``threads`` groups of consecutive blocks, each in one core call: the
        # probe's 128 ciphertexts are read from memory once per group.
        groups = max(1, min(self.threads or 1, self.blocks))
        bounds = [self.blocks * g // groups for g in range(groups + 1)]
        parts = map_blocks(lambda g: sum_of_products_many(probe_cts, self._blocks[bounds[g]:bounds[g + 1]]),
                           groups, groups)
        return [y for part in parts for y in part]

    def _match(self, probe_cts, compact: bool) -> list:
        """The match answers: the real probe's products with each block (the
        rule's scale is in the ciphertexts), then the rule's step and noise,
        as :class:`~securinfer.apps.face.gallery.Gallery` does with plaintext columns."""
        rule = self.rule
        context = probe_cts[0].context
        if compact and not set(baby_step_keys(self.baby)) <= set(context.rotation_steps):
            raise MissingKeyError(f"this gallery's compact probe needs rotation keys for steps "
                                  f"{baby_step_keys(self.baby)} (describe()['rotations']); "
                                  f"the probe's context has {context.rotation_steps}")
        probe_cts, _ = rule.prepare_probe(probe_cts)
        if not compact:
            extra = rule.columns_extra(probe_cts)
            return map_blocks(lambda b: rule.answer(sum_of_products(probe_cts, self._blocks[b]) + extra),
                              self.blocks, self.threads)
        expanded = self._expand(probe_cts[0])
        return map_blocks(lambda b: self._answer_block(b, *expanded), self.blocks, self.threads)

    def _expand(self, real_probe_ct):
        """Per probe, for the compact form: ``(babies, add, extra)``, its baby
        rotations and the rule's terms (:meth:`MatchRule.compact_terms`)."""
        babies = baby_rotations(real_probe_ct, self.baby)
        return (babies, *self.rule.compact_terms(babies))

    def _answer_block(self, b: int, babies, add, extra):
        """Block ``b``'s answer to the expanded compact probe: per giant step
        one relinearised sum of ciphertext products, then the giant rotations,
        the step and the noise."""
        baby, cts = len(babies), self._blocks[b]
        partials = [sum_of_products(babies, cts[g * baby:(g + 1) * baby]) for g in range(EMBEDDING_SIZE // baby)]
        if add is not None:
            partials = [p + add for p in partials]
        return self.rule.answer(giant_sum(partials, baby) + extra)

    # ------------------------------------------------------------------ servable contract
    def required_rotations(self) -> List[int]:
        """The compact probe's rotation keys (its baby step's); none for the
        128-ciphertext probe (scoring then uses only the relinearisation key)."""
        return baby_step_keys(self.baby) if self.probe == "compact" else []

    def describe(self) -> dict:
        from .describe import description

        return description(self.name, self.parameters, len(self), encrypted_templates=True,
                           match=None if self.rule is None else self.rule.as_dict(), probe=self.probe,
                           rotations=self.required_rotations())

    def _meta(self) -> dict:
        meta = {"name": self.name, "parameters": self.parameters, "labels": self._labels}
        if self.rule is not None:
            meta.update(rule=dict({"reveal": "match"}, **{k: getattr(self.rule, k) for k in _RULE_FIELDS}),
                        probe=self.probe, baby=self.baby)
        return meta

    def save(self, target) -> None:
        """Ciphertext bytes, labels and parameters to one file of the
        servable store (a path or a binary file; no keys, no pickle)."""
        if self._blocks is None:
            data, offsets = self._serialized
        else:
            parts = [c.serialize() for block in self._blocks for c in block]
            offsets = np.zeros(len(parts) + 1, dtype=np.int64)
            offsets[1:] = np.cumsum([len(p) for p in parts])
            data = np.frombuffer(b"".join(parts), dtype=np.uint8)
        store.write(target, self.kind, self._meta(), ciphertexts=data, offsets=offsets)

    @classmethod
    def load(cls, source, context=None, *, threads: Optional[int] = None) -> "EncryptedGallery":
        """A gallery from :meth:`save`'s file; its ciphertexts are validated
        against ``context`` now, or against the first probe's context."""
        from .describe import check_saved

        meta, arrays = store.read_any(source)
        check_saved(meta, cls.kind, arrays, ["ciphertexts", "offsets"])
        data, offsets = arrays["ciphertexts"], arrays["offsets"]
        slots = meta["parameters"]["poly_degree"] // 2
        expected = -(-len(meta["labels"]) // slots) * EMBEDDING_SIZE + 1
        if (data.dtype != np.uint8 or data.ndim != 1 or offsets.dtype != np.int64 or offsets.shape != (expected,)
                or offsets[0] != 0 or offsets[-1] != data.size or np.any(np.diff(offsets) <= 0)):
            raise SerializationError("saved gallery ciphertexts do not match its labels")
        rule, probe, baby = _saved_rule(meta)
        gallery = cls(name=meta["name"], parameters=meta["parameters"], labels=[str(x) for x in meta["labels"]],
                      serialized=(data, offsets), threads=threads, rule=rule, probe=probe, baby=baby, _private=True)
        if context is not None:
            gallery.bind(context)
        return gallery


def _saved_rule(meta: dict):
    """``(rule, probe, baby)`` from a saved header (files of the scores mode have none)."""
    if "rule" not in meta:
        if {"probe", "baby"} & set(meta):
            raise SerializationError("saved encrypted gallery has a probe form but no match rule")
        return None, "columns", None
    rule, probe, baby = meta["rule"], meta.get("probe"), meta.get("baby")
    if not isinstance(rule, dict) or set(rule) != {"reveal", *_RULE_FIELDS} or rule["reveal"] != "match":
        raise SerializationError("saved encrypted gallery's match rule is malformed")
    if probe not in PROBE_FORMS or (probe == "compact") != (baby is not None) or \
            (baby is not None and (isinstance(baby, bool) or baby not in BABY_STEPS)):
        raise SerializationError("saved encrypted gallery's probe form or baby step is malformed")
    try:
        return MatchRule(**{k: rule[k] for k in _RULE_FIELDS}), probe, baby
    except ParameterError as exc:
        raise SerializationError(f"saved encrypted gallery's match rule is invalid: {exc}") from None
