"""The CKKS parameters of encrypted face matching in scores mode, and why
they are these.

Scoring a gallery is one product (probe coordinate times gallery column) and
a sum: depth 1, no rotation. The smallest 128-bit-secure ring for it is
N = 4096 (109 modulus bits), and the product runs at **level 0**, on one
wide prime, instead of at level 1 followed by a rescale:

* ``coeff_bits = [53, 56]``: one 53-bit prime q_0 and a 56-bit special prime
  for key switching (the encrypted gallery's relinearisation, the compact
  probe's rotations); 109 bits, the whole 128-bit budget;
* ``scale_bits = 25``: probe and templates are encoded at 2^25, and their
  product stays at level 0 on 2^50 (no prime is left to rescale by, none is
  needed): q_0 holds it with 3 bits to spare (``si.linalg.combine_plain`` and
  ``sum_of_products`` check it), ample for cosine scores in [-1, 1];
* 2,048 slots: one block of the gallery holds 2,048 templates.

Why level 0: a block's cost is its columns' words, read once per probe (a
million templates are gigabytes of encoded columns: the scan is bound by
memory bandwidth). One limb instead of the two of a level-1 product
(``[38, 30, 38]``, scale 2^30, the former ring) halves the words, the
products and the probe's upload. Measured score errors: about 2e-5 with the
128-ciphertext probe and 2.4e-4 with the compact probe (its rotations' key
switching noise on a 2^25 scale), against the 1e-3 the application needs
(docs/face.md). Galleries saved with the former ring keep it (a gallery
file carries its parameters) and score at level 1 as before.

Cost per template hardly depends on N (a block of N/2 templates costs
128 products of N-coefficient polynomials), so the small ring mainly shrinks
keys (a 0.2 MB relinearisation key) and the probe upload.

Example:
    >>> from securinfer.apps.face.params import FACE_PARAMETERS, EMBEDDING_SIZE
    >>> FACE_PARAMETERS["poly_degree"], sum(FACE_PARAMETERS["coeff_bits"]), EMBEDDING_SIZE
    (4096, 109, 128)
"""

from __future__ import annotations

EMBEDDING_SIZE = 128

FACE_PARAMETERS = dict(poly_degree=4096, coeff_bits=[53, 56], scale_bits=25, special_primes=1)
