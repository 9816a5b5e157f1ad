"""securinfer.nn: trained PyTorch and scikit-learn models as encrypted inference plans.

``compile`` turns a model into an :class:`EncryptedModel`; the client makes
a context and encrypts, the server runs the model on ciphertexts with only
the public context, the client decrypts. torch is optional: it is imported
only when a torch model is compiled.

Example:
    >>> import numpy as np, securinfer.nn as snn
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(30, 2)); y = X @ [3.0, -1.0]
    >>> enc = snn.compile(LinearRegression().fit(X, y))
    >>> ctx = enc.create_context()
    >>> server_out = enc(enc.encrypt(ctx.public(), X[:3]))   # public key: a server can encrypt too
    >>> bool(np.allclose(enc.decrypt(ctx, server_out).ravel(), y[:3], atol=1e-3))
    True
"""

from .errors import OutOfRangeError, UnsupportedModelError
from .graph import Graph
from .model import EncryptedModel
from .client import Client
from .compiler import compile
from .he_friendly import he_friendly  # the function; its module stays importable as securinfer.nn.he_friendly

__all__ = ["compile", "he_friendly", "EncryptedModel", "Client", "Graph", "UnsupportedModelError", "OutOfRangeError"]
