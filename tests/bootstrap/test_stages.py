"""Each bootstrapping stage against numpy (N = 2^12, insecure test parameters)."""

import numpy as np

from securinfer._core import bootstrap as _boot
from securinfer._core import ckks as _ckks

from .test_dft import bit_reversal, decoding_matrix


def encrypt_core(ctx, values, level):
    """A fresh encryption brought to `level` at that level's canonical scale."""
    ct = _ckks.encrypt(ctx._core, ctx._keys, np.asarray(values, dtype=complex))
    return ct if level == ctx.max_level else _boot.adjust_to(ct, level, ctx._core.level_scale(level))


def decrypt_core(ctx, ct):
    return _ckks.decrypt(ctx._keys, ct)


def test_mod_raise_keeps_the_message_modulo_q0(boot_ctx):
    # The raised ciphertext decrypts to t = Delta p + q0 I: its slots differ
    # from the message by q0 I's slots, which vanish modulo q0 coefficient-wise
    # (checked through CoeffsToSlots below); here: the level and the scale.
    core = boot_ctx._core
    ct = encrypt_core(boot_ctx, np.ones(4), 0)
    raised = _boot.mod_raise(ct, core.max_level, 1.0)
    assert raised.level == core.max_level and raised.scale == 1.0


def test_coeffs_to_slots_gives_the_coefficients_mod_q0(boot_ctx, boot_plan, rng):
    core = boot_ctx._core
    n, N = core.slots, core.poly_degree
    z = rng.uniform(-1, 1, n)
    ct = encrypt_core(boot_ctx, z, 0)
    delta, q0 = ct.scale, float(core.q_primes[0])
    w = decrypt_core(boot_ctx, boot_plan.coeffs_to_slots(boot_ctx._keys, ct))
    K = boot_plan.k_range
    u = 2 * (K + 1) * w  # (t_lo + i t_hi) / q0, bit-reversed
    p = np.linalg.solve(decoding_matrix(N, n), z)[bit_reversal(n)]
    for part, expected in ((u.real, p.real), (u.imag, p.imag)):
        integer = np.round(part)
        assert np.max(np.abs(integer)) <= K
        err = np.max(np.abs((part - integer) - delta * expected / q0))
        print("CoeffsToSlots error (units of q0):", err, "signal", np.max(np.abs(delta * expected / q0)))
        assert err < 2.0 ** -30


def test_eval_mod_is_the_modular_reduction(boot_ctx, boot_plan, rng):
    core = boot_ctx._core
    n, K = core.slots, boot_plan.k_range
    level = core.max_level - 3  # CoeffsToSlots' output level in the test plan
    integers = rng.integers(-K, K + 1, n)
    eps = rng.uniform(-2.0 ** -10, 2.0 ** -10, n)
    u = (integers + eps) / (K + 1)
    out = decrypt_core(boot_ctx, boot_plan.eval_mod(boot_ctx._keys, encrypt_core(boot_ctx, u, level))).real
    exact = np.sin(2 * np.pi * eps)  # the function EvalMod approximates, at t mod q0 = eps
    err = np.max(np.abs(out - exact))
    print("EvalMod error vs sin(2 pi (t mod q0)):", err, "bits", -np.log2(err))
    assert err < 2.0 ** -28
    # and sin(2 pi eps) / 2pi is eps (the reduction itself) up to the cubic term
    assert np.max(np.abs(out / (2 * np.pi) - eps)) < (2 * np.pi) ** 2 * 2.0 ** -30 / 6 + 2.0 ** -28


def test_slots_to_coeffs_is_the_scaled_special_fft(boot_ctx, boot_plan, rng):
    core = boot_ctx._core
    n, N = core.slots, core.poly_degree
    level = boot_plan._stc[0].level
    y = (rng.uniform(-1, 1, n) + 1j * rng.uniform(-1, 1, n)) * 1e-3
    out = decrypt_core(boot_ctx, boot_plan.slots_to_coeffs(boot_ctx._keys, encrypt_core(boot_ctx, y, level)))
    beta = float(core.q_primes[0]) / (2 * np.pi * core.level_scale(0))
    expected = beta * decoding_matrix(N, n) @ y[bit_reversal(n)]
    err = np.max(np.abs(out - expected)) / np.max(np.abs(expected))
    print("SlotsToCoeffs relative error:", err)
    # The output lands at a 2^40 scale: its own rounding noise bounds this.
    assert err < 2.0 ** -22


def test_transform_encoded_at_each_use_gives_the_same_result(boot_ctx, rng):
    from securinfer.bootstrapping import _group, special_fft_stages

    core = boot_ctx._core
    n = core.slots
    group = _group(special_fft_stages(2 * n, n, inverse=False), 3, n)[1]
    level = core.max_level
    kept = _boot.ComplexTransform(core, group, level, 0, True)
    lazy = _boot.ComplexTransform(core, group, level, 0, False)
    assert lazy.byte_size < kept.byte_size / 5
    x = encrypt_core(boot_ctx, rng.uniform(-1, 1, n), level)
    a = decrypt_core(boot_ctx, kept.apply(boot_ctx._keys, x))
    b = decrypt_core(boot_ctx, lazy.apply(boot_ctx._keys, x))
    assert np.max(np.abs(a - b)) < 1e-9


def test_transform_words_do_not_depend_on_the_thread_count(boot_ctx, rng):
    """The giant steps are made and summed a thread's worth at a time; the
    sums run in giant order, so one thread and two give the same words."""
    import securinfer as si
    from securinfer._core import io as _io
    from securinfer.bootstrapping import _group, special_fft_stages

    core = boot_ctx._core
    n = core.slots
    group = _group(special_fft_stages(2 * n, n, inverse=False), 3, n)[1]
    transform = _boot.ComplexTransform(core, group, core.max_level, 0, False)
    x = encrypt_core(boot_ctx, rng.uniform(-1, 1, n), core.max_level)
    before = si.get_num_threads()
    try:
        words = []
        for threads in (1, 2, 3):
            si.set_num_threads(threads)
            words.append(_io.save_ciphertext(transform.apply(boot_ctx._keys, x)))
    finally:
        si.set_num_threads(before)
    assert words[0] == words[1] == words[2]


def test_masked_chebyshev_series_is_the_series_times_each_mask(boot_ctx, rng):
    # sum_k c_k T_k(x) times per-slot complex masks, from one basis, at the
    # levels of the unmasked series: against numpy's Chebyshev values.
    core = boot_ctx._core
    n = core.slots
    x = rng.uniform(-1, 1, n)
    coeffs = [0.25, 1.125, -0.5, 1.0 / 24.0]
    masks = [rng.uniform(-1, 1, n) + 1j * rng.uniform(-1, 1, n), (np.arange(n) % 2).astype(complex)]
    ct = encrypt_core(boot_ctx, x, 5)
    plain = _boot.evaluate_chebyshev(boot_ctx._keys, ct, coeffs)
    outs = _boot.evaluate_chebyshev_masked(boot_ctx._keys, ct, coeffs, [list(m) for m in masks])
    exact = np.polynomial.chebyshev.chebval(x, coeffs)
    for out, mask in zip(outs, masks):
        assert out.level == plain.level and abs(out.scale / plain.scale - 1) < 1e-9
        err = np.max(np.abs(decrypt_core(boot_ctx, out) - mask * exact))
        assert err < 2.0 ** -25, err


def test_masked_series_refuses_bad_masks_with_clear_errors(boot_ctx):
    # The binding takes masks from Python: a short, long or non-finite mask,
    # or a ciphertext without the series' levels, is a securinfer error, not
    # a read past a buffer or a silently wrong product.
    import pytest

    import securinfer as si

    n = boot_ctx._core.slots
    ct = encrypt_core(boot_ctx, np.zeros(4), 5)
    coeffs = [0.0, 1.125, 0.0, 1.0 / 24.0]
    for mask in ([1.0] * (n - 1), [1.0] * (n + 1), [float("nan")] + [1.0] * (n - 1)):
        with pytest.raises(si.ParameterError):
            _boot.evaluate_chebyshev_masked(boot_ctx._keys, ct, coeffs, [mask])
    with pytest.raises(si.LevelError):
        _boot.evaluate_chebyshev_masked(boot_ctx._keys, encrypt_core(boot_ctx, np.zeros(4), 1), coeffs, [[1.0] * n])
