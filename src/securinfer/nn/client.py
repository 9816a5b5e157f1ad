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
"""

from __future__ import annotations

import numpy as np

from ..context import Context
from ..errors import ParameterError
from ..server_parameters import context_for_server
from .packing import Layout

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

    def create_context(self) -> Context:
        """A secret-key context with the model's parameters and exactly the
        rotation keys it uses (none for the feature packing)."""
        # A description may come from a remote server: whitelisted, 128-bit checked, before any key.
        return context_for_server(self.context_parameters, rotations=self.rotations)

    def encrypt(self, ctx: Context, X) -> list:
        """Ciphertexts of a batch ``X`` (rows of ``features`` values, or images
        flattened row by row), laid out as the model expects."""
        return self.inputs.encrypt(ctx, X)

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
