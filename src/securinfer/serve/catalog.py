"""The servables a server offers, checked once, with the body caps each implies.

Any object meeting the servable contract fits: ``obj(ciphertexts)``,
``obj.describe()`` (JSON, with ``name``, ``kind`` and ``context``: the
arguments of ``si.Context.create``), ``obj.required_rotations()``. From each
description the catalog derives the parameters (no keys), the largest
request body a run may send (``inputs["ciphertexts"]`` ciphertexts when the
description says how many, else ``default_max_inputs``) and, per parameter
set, the largest context a client may upload (public, relinearisation and
the Galois keys an honest client makes for these servables).

Example:
    >>> import numpy as np
    >>> from securinfer.serve import LinearModel
    >>> from securinfer.serve.catalog import Catalog
    >>> cat = Catalog([LinearModel(np.eye(4), context={"preset": "fast"}, name="id4")])
    >>> cat.names(), cat.max_inputs("id4")
    (['id4'], 1)
"""

from __future__ import annotations

import json
from typing import Dict, Iterable, List

from ..errors import ParameterError
from .. import ciphertext_batch
from .parameters import ParameterSet

__all__ = ["Catalog"]


class Catalog:
    """Servables by name, with their parameters and size caps."""

    def __init__(self, servables: Iterable, *, default_max_inputs: int = 64):
        self._servables: Dict[str, object] = {}
        self._descriptions: Dict[str, dict] = {}
        self._parameters: Dict[str, ParameterSet] = {}
        self._max_inputs: Dict[str, int] = {}
        rotations: Dict[bytes, set] = {}
        by_fingerprint: Dict[bytes, ParameterSet] = {}
        for obj in servables:
            for attribute in ("describe", "required_rotations"):
                if not callable(getattr(obj, attribute, None)):
                    raise ParameterError(f"{obj!r} is not a servable: it has no {attribute}()")
            if not callable(obj):
                raise ParameterError(f"{obj!r} is not a servable: it cannot be called on ciphertexts")
            description = obj.describe()
            try:  # what clients receive must be plain JSON
                description = json.loads(json.dumps(description))
            except (TypeError, ValueError) as error:
                raise ParameterError(f"{obj!r}.describe() is not JSON-serialisable: {error}") from None
            name = description.get("name")
            if not isinstance(name, str) or not name or "/" in name:
                raise ParameterError(f"{obj!r}.describe() needs a non-empty 'name' without '/'")
            if name in self._servables:
                raise ParameterError(f"two servables are named {name!r}")
            params = ParameterSet.from_description(description.get("context"))
            count = (description.get("inputs") or {}).get("ciphertexts")
            self._max_inputs[name] = count if isinstance(count, int) and count > 0 else default_max_inputs
            self._servables[name], self._descriptions[name], self._parameters[name] = obj, description, params
            by_fingerprint[params.fingerprint] = params
            rotations.setdefault(params.fingerprint, set()).update(int(r) for r in obj.required_rotations())
        self._context_caps = {fp: (p.parameters, p.context_bytes(p.max_galois_keys(rotations[fp])))
                              for fp, p in by_fingerprint.items()}

    def names(self) -> List[str]:
        return sorted(self._servables)

    def __contains__(self, name) -> bool:
        return name in self._servables

    def __len__(self) -> int:
        return len(self._servables)

    def servable(self, name: str):
        return self._servables[name]

    def describe(self, name: str) -> dict:
        return self._descriptions[name]

    def parameters(self, name: str) -> ParameterSet:
        return self._parameters[name]

    def max_inputs(self, name: str) -> int:
        return self._max_inputs[name]

    def max_run_body(self, name: str) -> int:
        """The largest request body ``POST /v1/run/{name}`` accepts."""
        count = self._max_inputs[name]
        return ciphertext_batch.overhead(count) + count * self._parameters[name].max_ciphertext_bytes()

    def context_caps(self) -> Dict[bytes, tuple]:
        """Per accepted parameter fingerprint: (the parameters, compared in
        full once loaded; the largest context upload they allow)."""
        return dict(self._context_caps)

    def max_context_body(self) -> int:
        return max((cap for _, cap in self._context_caps.values()), default=0)

    def compatible(self, context) -> List[str]:
        """The servables a context of these parameters can run (full comparison)."""
        return [n for n in self.names() if self._parameters[n].matches(context)]
