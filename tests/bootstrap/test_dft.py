"""The special FFT factorisation (numpy only) and the homomorphic transforms
against it."""

import numpy as np
import pytest

from securinfer.bootstrapping import _group, special_fft_stages


def decoding_matrix(poly_degree, slots):
    m = 2 * poly_degree
    rot = np.array([pow(5, j, m) for j in range(slots)])
    k = np.arange(slots)
    return np.exp(1j * np.pi * ((rot[:, None] * k[None, :]) % m) / poly_degree)


def bit_reversal(n):
    bits = n.bit_length() - 1
    return np.array([int(format(i, f"0{bits}b")[::-1], 2) for i in range(n)])


def apply(diags, x):
    return sum(d * np.roll(x, -k) for k, d in diags.items())


@pytest.mark.parametrize("poly_degree", [16, 64, 1024])
@pytest.mark.parametrize("budget", [1, 2, 3])
def test_stages_compose_to_the_decoding_matrix(poly_degree, budget, rng):
    n = poly_degree // 2
    V, R = decoding_matrix(poly_degree, n), bit_reversal(n)
    c = rng.normal(size=n) + 1j * rng.normal(size=n)
    x = c[R]
    for g in _group(special_fft_stages(poly_degree, n, inverse=False), budget, n):
        x = apply(g, x)
    err = np.max(np.abs(x - V @ c))
    print("forward max error", err)
    assert err < 1e-10 * np.sqrt(n)
    # The inverse stages undo it (bit-reversed coefficients out).
    y = V @ c
    for g in _group(special_fft_stages(poly_degree, n, inverse=True), budget, n):
        y = apply(g, y)
    err = np.max(np.abs(y - c[R]))
    print("inverse max error", err)
    assert err < 1e-10


def test_group_diagonal_counts():
    # g merged radix-2 stages have 2^(g+1) - 1 diagonals; 2^g for the group
    # holding the stride n/2 stage (+n/2 and -n/2 are one rotation).
    n = 2048
    groups = _group(special_fft_stages(4096, n, inverse=True), 3, n)
    assert [len(g) for g in groups] == [2 ** 4, 2 ** 5 - 1, 2 ** 4 - 1]
