"""The servable contract (:mod:`~securinfer.servable.protocol`), the one
registry of servable kinds (:mod:`~securinfer.servable.registry`) and their
one file format (:mod:`~securinfer.servable.store`): what ``securinfer
serve`` and ``securinfer.dist`` rely on, and what ``securinfer.nn`` and
``securinfer.apps`` provide.

Example:
    >>> from securinfer import servable
    >>> servable.kinds()
    ['encrypted-gallery', 'gallery', 'linear', 'model']
"""

from . import registry, store
from .protocol import REQUIRED_DESCRIPTION_KEYS, Servable, ServableClient, check_servable
from .registry import client_for, from_bytes, kinds, load, register, servable_class, to_bytes

__all__ = ["Servable", "ServableClient", "check_servable", "REQUIRED_DESCRIPTION_KEYS", "register", "kinds",
           "servable_class", "load", "client_for", "to_bytes", "from_bytes", "registry", "store"]
