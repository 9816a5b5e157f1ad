"""The CKKS parameters of encrypted face matching, and why they are these.

Scoring a gallery is one product (probe coordinate times gallery column) and
a sum: depth 1, no rotation. The smallest 128-bit-secure ring that holds a
depth-1 chain is N = 4096 (N = 2048 allows 54 modulus bits, less than three
20-bit primes), so:

* ``coeff_bits = [38, 30, 38]``: a 38-bit base prime (decrypted values stay
  below 2^(38-30-1) = 128; scores lie in [-1, 1]), one 30-bit prime consumed
  by the rescale after the product, a 38-bit special prime for the
  relinearisation of the encrypted gallery's ciphertext products;
  106 bits, within the 109 the standard allows at N = 4096;
* ``scale_bits = 30``: scores come back with errors near 1e-5, well within
  the 1e-3 the application needs;
* 2,048 slots: one block of the gallery holds 2,048 templates.

Cost per template hardly depends on N (a block of N/2 templates costs
128 products of N-coefficient polynomials), so the small ring mainly shrinks
keys (no Galois key at all; a 0.4 MB relinearisation key) and the probe upload.

Example:
    >>> from securinfer.apps.face.params import FACE_PARAMETERS, EMBEDDING_SIZE
    >>> FACE_PARAMETERS["poly_degree"], EMBEDDING_SIZE
    (4096, 128)
"""

from __future__ import annotations

EMBEDDING_SIZE = 128

FACE_PARAMETERS = dict(poly_degree=4096, coeff_bits=[38, 30, 38], scale_bits=30, special_primes=1)
