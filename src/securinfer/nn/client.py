"""The client side of an encrypted model, from its description alone.

A remote client receives ``EncryptedModel.describe()`` (a JSON dict), makes
the matching context with exactly the evaluation keys the server needs,
encrypts a batch, sends the ciphertexts with ``ctx.public()``, and decrypts
the answer. Nothing here needs the model's weights.

Example (plain code; ``server_model`` runs elsewhere)::

    client = securinfer.nn.Client(description)
    ctx = client.create_context()
    cts = client.encrypt(ctx, X)                   # X: batch x features
    out = server_model(cts)                        # on the server, with ctx.public()
    scores = client.decrypt(ctx, out)              # batch x outputs

Every record is checked before encryption against the input ranges the
model was calibrated on (``description["inputs"]["ranges"]``, see
:mod:`securinfer.nn.ranges`): by default a record outside them raises
:class:`~securinfer.nn.OutOfRangeError` naming the record and the feature;
``out_of_range="clip"`` clips it, ``"ignore"`` encrypts it as is. A
description without ranges (``None``: the model was compiled without
calibration rows) checks nothing; one from before ranges were recorded
(no ``ranges`` key) warns once that it cannot check.
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from ..context import Context
from ..errors import ParameterError
from ..server_parameters import check_key_budget, context_for_server
from .packing import Layout
from .ranges import InputRanges

__all__ = ["Client"]


class Client:
    """Encryption and decryption for a model described by ``description``."""

    def __init__(self, description: dict):
        if not isinstance(description, dict) or description.get("kind") != "model":
            raise ParameterError("expected the dict of EncryptedModel.describe() (kind 'model')")
        try:
            self.context_parameters = dict(description["context"])
            self.rotations = [int(s) for s in description["rotations"]]
            self.inputs = Layout.from_dict(description["inputs"])
            self.outputs = Layout.from_dict(description["outputs"])
            self.classes = description["outputs"].get("classes")
            self.rule = description["outputs"].get("rule")
        except (KeyError, TypeError, ValueError) as e:
            raise ParameterError(f"incomplete model description: {e}") from None
        self.name = str(description.get("name", "model"))
        self.bootstraps = int(description.get("bootstraps", 0) or 0)
        self.input_ranges = self._ranges(description["inputs"])

    def _ranges(self, inputs: dict):
        if "ranges" not in inputs:
            warnings.warn(f"the description of model {self.name!r} carries no input ranges (made by an older "
                          "securinfer): records cannot be checked against the calibrated ranges, and one far "
                          "outside them can spoil the other records of its batch", UserWarning, stacklevel=3)
            return None
        if inputs["ranges"] is None:
            return None
        ranges = InputRanges.from_dict(inputs["ranges"])
        if ranges.features != self.inputs.features:
            raise ParameterError(f"input ranges for {ranges.features} features; the model takes "
                                 f"{self.inputs.features}")
        return ranges

    def create_context(self, max_key_bytes: Optional[int] = None) -> Context:
        """A secret-key context with the model's parameters and exactly the
        rotation keys it uses (none for the feature packing), and the
        bootstrapping keys of a plan that bootstraps.

        A description may come from a remote server, so the parameters pass
        the whitelist and the 128-bit check before any key exists, and all
        the keys it asks for, bootstrapping keys included, are held to
        ``max_key_bytes`` (default ``ALLOWED["key_bytes"]``, 4 GiB): a client
        that expects a bootstrapped plan raises it itself (its keys are 5.6
        GiB with ``preset="bootstrap"``), before any key is made."""
        # A description may come from a remote server: whitelisted, 128-bit checked, before any key.
        ctx = context_for_server(self.context_parameters, rotations=self.rotations, max_key_bytes=max_key_bytes)
        if self.bootstraps:   # a plan deeper than its chain: the compiler placed bootstraps
            from ..bootstrapping import required_galois_elements

            # Its keys too are the server's request: within the same budget before any is made
            # (and the key back from encapsulation; some rotations may coincide: an upper bound).
            boot = len(set(required_galois_elements(ctx))) + 1
            check_key_budget(ctx, boot + len(set(self.rotations)), max_key_bytes)
            ctx.generate_bootstrapping_keys()
        return ctx

    def check(self, X, out_of_range: str = "raise") -> np.ndarray:
        """The batch ``X`` (batch x features) as :meth:`encrypt` encrypts it:
        each record checked against the calibrated input ranges, then
        ``out_of_range="raise"`` raises :class:`~securinfer.nn.OutOfRangeError`
        (record and feature named), ``"clip"`` clips, ``"ignore"`` keeps it.

        Example:
            >>> import numpy as np, securinfer.nn as snn
            >>> from sklearn.neural_network import MLPRegressor
            >>> X = np.random.default_rng(0).normal(size=(50, 2))
            >>> net = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0).fit(X, X[:, 0])
            >>> client = snn.Client(snn.compile(net, calibration=X).describe())
            >>> client.check([[0.1, 0.2]]).shape
            (1, 2)
            >>> try:
            ...     client.check([[0.1, 0.2], [0.3, 90.0]])
            ... except snn.OutOfRangeError as e:
            ...     print(e.record, e.feature)
            1 1
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        elif X.ndim > 2:
            X = X.reshape(X.shape[0], -1)
        if X.ndim != 2 or X.shape[1] != self.inputs.features or X.shape[0] < 1:
            raise ParameterError(f"expected a batch of inputs with {self.inputs.features} values each, "
                                 f"got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ParameterError("inputs must be finite")
        if self.input_ranges is None:
            if out_of_range not in ("raise", "clip", "ignore"):
                raise ParameterError(f"out_of_range must be 'raise', 'clip' or 'ignore', got {out_of_range!r}")
            return X
        return self.input_ranges.check(X, out_of_range)

    def encrypt(self, ctx: Context, X, out_of_range: str = "raise") -> list:
        """Ciphertexts of a batch ``X`` (rows of ``features`` values, or images
        flattened row by row), laid out as the model expects, after
        :meth:`check` (``out_of_range``: ``"raise"``, ``"clip"`` or ``"ignore"``)."""
        return self.inputs.encrypt(ctx, self.check(X, out_of_range))

    def decrypt(self, ctx: Context, cts) -> np.ndarray:
        """The outputs as a numpy array (batch x outputs)."""
        return self.outputs.decrypt(ctx, cts)

    def predict(self, ctx: Context, cts) -> np.ndarray:
        """Class labels from a classifier's decrypted outputs (its decision
        function: sign for two classes, argmax otherwise; 0.5 for probabilities)."""
        scores = self.decrypt(ctx, cts)
        if self.rule is None:
            return scores.argmax(axis=1)
        if self.rule == "argmax":
            index = scores.argmax(axis=1)
        else:
            index = (scores[:, 0] > (0.5 if self.rule == "threshold" else 0.0)).astype(int)
        return np.asarray(self.classes)[index] if self.classes is not None else index
