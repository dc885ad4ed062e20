"""The closed-form sweet spot, boundary answers, and the numerical optima."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sweetspot as ss
from sweetspot import Architecture, ModelSpec
from sweetspot.exceptions import NoOptimumError, SpecError

THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])

pos = st.floats(min_value=1e-9, max_value=1e-3)
theta_st = st.tuples(
    pos, st.floats(0, 1e-3), st.floats(0, 1e-1), pos, st.floats(1e-3, 1e3), st.floats(0, 10)
)


def brute_force_integer(theta, n_in, hi=100_000):
    n = np.arange(1, hi + 1, dtype=float)
    e = ss.energy_per_token(theta, n_in, n)
    return int(n[np.argmin(e)])


@settings(max_examples=200, deadline=None)
@given(theta=theta_st, n_in=st.integers(1, 8192))
def test_closed_form_beats_integer_neighbours(theta, n_in) -> None:
    n_star = float(ss.optimal_n_out(theta, n_in))
    if n_star > 1e6:
        return  # beyond any real output length; the formula is still exact
    e = lambda n: float(ss.energy_per_token(theta, n_in, n))  # noqa: E731
    fl, ce = max(np.floor(n_star), 1.0), np.ceil(n_star)
    best = float(ss.optimal_n_out(theta, n_in, integer=True))
    assert best in (fl, ce)
    # the continuous optimum is at least as good as both integer neighbours
    e_star = float(ss.min_energy_per_token(theta, n_in))
    assert e_star <= e(fl) * (1 + 1e-12) and e_star <= e(ce) * (1 + 1e-12)
    # and the integer answer beats its own neighbours
    assert e(best) <= e(best + 1) * (1 + 1e-12)
    if best > 1:
        assert e(best) <= e(best - 1) * (1 + 1e-12)


def test_closed_form_matches_brute_force_and_formula() -> None:
    n_in = np.array([64, 256, 1024, 4096])
    n_star = ss.optimal_n_out(THETA, n_in)
    t1, t2, t3, t4, t5, t6 = THETA
    np.testing.assert_allclose(n_star, np.sqrt((t1 * n_in**2 + t3 * n_in + t5) / t4))
    e_min = ss.min_energy_per_token(THETA, n_in)
    np.testing.assert_allclose(
        e_min, 2 * np.sqrt(t4 * (t1 * n_in**2 + t3 * n_in + t5)) + t2 * n_in + t6
    )
    ints = ss.optimal_n_out(THETA, n_in, integer=True)
    for ni, best in zip(n_in, ints, strict=True):
        assert best == brute_force_integer(THETA, ni, hi=20_000)
    np.testing.assert_allclose(ss.tokens_per_joule(THETA, n_in, n_star), 1 / e_min)


def test_vectorised_shapes() -> None:
    n_in = np.array([[64, 128], [256, 512]])
    assert ss.optimal_n_out(THETA, n_in).shape == (2, 2)
    assert np.ndim(ss.optimal_n_out(THETA, 512)) == 0
    assert ss.energy_per_token(THETA, n_in[:, :1], np.array([64, 128, 256])).shape == (2, 3)


def test_no_interior_optimum_is_explicit() -> None:
    falling = THETA.copy()
    falling[3] = 0.0  # t4 = 0: energy per token keeps falling with n_out
    with pytest.raises(NoOptimumError, match="t4 = 0 <= 0") as info:
        ss.optimal_n_out(falling, [64, 128])
    assert info.value.boundary == "n_out -> inf"
    assert isinstance(info.value, ValueError)
    sp = ss.sweet_spot(falling, [64, 128], n_out_max=4096)
    np.testing.assert_array_equal(sp.n_out, [4096, 4096])
    assert not sp.interior.any()
    rising = np.array([0.0, 0.0, 0.0, 1e-4, -5.0, 0.3])  # t5 < 0: rises from n_out = 1
    with pytest.raises(NoOptimumError, match="keeps rising") as info:
        ss.optimal_n_out(rising, 64)
    assert info.value.boundary == "n_out -> 0"
    assert float(ss.optimal_n_out(rising, 64, n_out_max=1000)) == 1.0


def test_n_out_max_clamps_interior_optimum() -> None:
    n_star = float(ss.optimal_n_out(THETA, 4096))
    sp = ss.sweet_spot(THETA, 4096, n_out_max=n_star / 2)
    assert float(sp.n_out) == pytest.approx(n_star / 2)
    assert not bool(sp.interior)


def test_optimum_accepts_results_and_mappings() -> None:
    ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
    df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
    df["energy_j"] = ss.energy(THETA, df.n_in, df.n_out)
    res = ss.fit(df)
    np.testing.assert_allclose(ss.optimal_n_out(res, 512), ss.optimal_n_out(THETA, 512))
    mapping = dict(zip(["t1", "t2", "t3", "t4", "t5", "t6"], THETA, strict=True))
    np.testing.assert_allclose(ss.optimal_n_out(mapping, 512), ss.optimal_n_out(THETA, 512))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ([1, 2, 3], "exactly 6 numbers"),
        ({"t1": 1.0}, "missing"),
        ([np.nan, 0, 0, 1, 1, 1], "finite"),
        ("abc", "6 numbers"),
    ],
)
def test_bad_theta(params, match) -> None:
    with pytest.raises(SpecError, match=match):
        ss.optimal_n_out(params, 64)


@pytest.mark.parametrize("n_in", [0, -5, np.nan, np.inf, "64", True])
def test_bad_lengths(n_in) -> None:
    with pytest.raises(SpecError, match="n_in"):
        ss.optimal_n_out(THETA, n_in)


def test_total_token_optimum_matches_its_derivation() -> None:
    # d/dn [(n_in + n) / E] = 0  <=>  t4 n^2 + 2 t4 n_in n - C = 0,
    # C = (t1 - t2) n_in^2 + (t3 - t6) n_in + t5 (derived in docs/physics.md)
    theta = np.array([3e-6, 1e-6, 0.05, 5e-5, 40.0, 0.01])
    n_in = np.array([64.0, 256.0, 1024.0])
    t1, t2, t3, t4, t5, t6 = theta
    c = (t1 - t2) * n_in**2 + (t3 - t6) * n_in + t5
    expected = -n_in + np.sqrt(n_in**2 + c / t4)
    got = ss.optimal_n_out_total(theta, n_in, n_out_max=100_000)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_numeric_optimum_of_cache_off_model_matches_brute_force() -> None:
    arch = Architecture(
        name="small",
        n_layers=24,
        hidden_size=2048,
        n_heads=16,
        n_kv_heads=16,
        head_dim=128,
        ffn_size=5504,
        gated_mlp=True,
        vocab_size=32000,
    )
    spec = ModelSpec(name="flops", kv_cache=False, per_pass=True)
    ni, no = np.meshgrid([16, 128, 512, 2048], [8, 64, 256, 1024])
    df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
    X = spec.design(df.n_in.to_numpy(float), df.n_out.to_numpy(float), architecture=arch)
    df["energy_j"] = X @ np.array([0.5e-12, 2e-12, 0.05, 20.0])
    res = ss.fit(df, spec, architecture=arch)
    assert res.theta is None
    for n_in in (64, 1024):
        got = float(ss.optimal_n_out(res, n_in, integer=True))
        n = np.arange(1, 5000, dtype=float)
        e = res.predict(np.full_like(n, n_in), n, warn=False) / n
        assert got == n[np.argmin(e)]
