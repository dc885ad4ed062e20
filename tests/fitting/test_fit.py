"""fit(), FitResult and cross_validate() on data generated from known coefficients."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from archs import FALCON_7B, LLAMA2_7B, MISTRAL_7B
from grids import LEVELS, THETA, grid_frame, with_energy
from hypothesis import given, settings
from hypothesis import strategies as st

import sweetspot as ss
from sweetspot import FitResult, ModelSpec
from sweetspot.exceptions import (
    FitError,
    MeasurementError,
    NegativeCoefficientWarning,
    SpecError,
)

LLAMA, MISTRAL, FALCON = LLAMA2_7B, MISTRAL_7B, FALCON_7B


FREE_TRUE = {
    "sweetspot": np.array(THETA),
    "linear": np.array([25.0, 0.004, 0.3]),
    "wilkins": np.array([0.004, 0.3, 3e-5]),
}


@pytest.mark.parametrize("loss", ["relative", "absolute", "mape"])
@pytest.mark.parametrize("model", ["sweetspot", "linear", "wilkins"])
def test_free_models_recover_noiseless_coefficients(model: str, loss: str) -> None:
    df = grid_frame()
    coef = FREE_TRUE[model]
    X = ModelSpec(name=model).design(df.n_in.to_numpy(float), df.n_out.to_numpy(float))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ss.fit(with_energy(df, X @ coef), model, loss=loss)
    rtol = 1e-8 if loss != "mape" else 1e-6  # the LP is solved to HiGHS' tolerance
    np.testing.assert_allclose(res.coef, coef, rtol=rtol)
    assert res.mape < 1e-5
    assert res.params == dict(zip(res.param_names, res.values, strict=True))


@pytest.mark.parametrize("kv_cache", [True, False])
@pytest.mark.parametrize(
    "spec_kw",
    [
        {"name": "flops"},
        {"name": "flops", "split_phases": False},
        {"name": "memory_flops"},
        {"name": "memory_flops", "logits": "all", "per_pass": True},
        {"name": "flops", "eager_attention": True, "per_pass": True, "split_phases": False},
    ],
)
def test_physical_models_recover_noiseless_coefficients(spec_kw: dict, kv_cache: bool) -> None:
    spec = ModelSpec(kv_cache=kv_cache, **spec_kw)
    df = grid_frame([64, 256, 1024, 2048], [16, 64, 256, 1024])
    X = spec.design(df.n_in.to_numpy(float), df.n_out.to_numpy(float), architecture=LLAMA)
    truth = {
        "j_per_flop_prefill": 0.4e-12,
        "j_per_flop_decode": 1.1e-12,
        "j_per_flop": 0.6e-12,
        "j_per_byte": 25e-12,
        "j_per_layer_pass": 6e-4,
        "j_per_score": 2e-10,
        "j_per_request": 12.0,
    }
    coef = np.array([truth[n] for n in spec.param_names])
    res = ss.fit(with_energy(df, X @ coef), spec, architecture=LLAMA)
    np.testing.assert_allclose(res.coef, coef, rtol=1e-8)
    assert all(v >= 0 for v in res.values)
    assert res.units[-1] == "J"
    if kv_cache:
        # the physical model reduces to theta, which predicts the same energies
        assert res.theta is not None
        np.testing.assert_allclose(ss.energy(res.theta, df.n_in, df.n_out), X @ coef, rtol=1e-9)
    else:
        assert res.theta is None


def test_physical_coefficients_are_non_negative() -> None:
    # energy that *decreases* with prefill FLOPs cannot be explained with J/FLOP >= 0
    df = grid_frame()
    spec = ModelSpec(name="flops")
    X = spec.design(df.n_in.to_numpy(float), df.n_out.to_numpy(float), architecture=LLAMA)
    e = X @ np.array([0.0, 1e-12, 500.0]) - 1e-14 * X[:, 0]
    res = ss.fit(with_energy(df, e), "flops", architecture=LLAMA)
    assert min(res.values) >= 0.0
    assert res.values[0] == 0.0
    assert math.isnan(res.stderrs[0])  # held at its bound: no symmetric error bar


def test_pooled_fit_predicts_unmeasured_architecture_exactly() -> None:
    spec = ModelSpec(name="memory_flops")
    coef = np.array([0.4e-12, 1.1e-12, 30e-12, 8.0])
    frames = []
    for name, arch in [("llama", LLAMA), ("mistral", MISTRAL), ("falcon", FALCON)]:
        df = grid_frame([64, 512, 2048], [32, 256, 1024])
        X = spec.design(df.n_in.to_numpy(float), df.n_out.to_numpy(float), architecture=arch)
        frames.append(with_energy(df, X @ coef).assign(model=name))
    data = pd.concat(frames, ignore_index=True)
    archs = {"llama": LLAMA, "mistral": MISTRAL, "falcon": FALCON}
    res = ss.fit(data, spec, architecture=archs)
    assert res.is_pooled and res.theta is None
    np.testing.assert_allclose(res.coef, coef, rtol=1e-8)
    # leave-one-model-out: the held-out model is predicted from the others' constants
    cv = ss.cross_validate(data, spec, groups="model", architecture=archs)
    assert cv.scheme == "leave-one-model-out"
    assert cv.mape < 1e-6
    with pytest.raises(SpecError, match="pooled"):
        res.predict(100, 100)
    theta = res.theta_for(MISTRAL)
    assert theta is not None and theta.shape == (6,)


def test_relative_loss_stderr_matches_sampling_spread() -> None:
    rng = np.random.default_rng(1)
    df = grid_frame()
    e0 = ss.energy(THETA, df.n_in, df.n_out)
    fits, ses = [], []
    for _ in range(200):
        e = e0 * (1 + 0.03 * rng.standard_normal(e0.size))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NegativeCoefficientWarning)
            r = ss.fit(with_energy(df, e), "sweetspot")
        fits.append(r.coef)
        ses.append(r.stderrs)
    spread = np.std(fits, axis=0, ddof=1)
    reported = np.mean(ses, axis=0)
    np.testing.assert_allclose(reported, spread, rtol=0.25)


def test_fit_statistics() -> None:
    df = grid_frame()
    rng = np.random.default_rng(2)
    e = ss.energy(THETA, df.n_in, df.n_out) * (1 + 0.02 * rng.standard_normal(len(df)))
    res = ss.fit(with_energy(df, e), "sweetspot")
    pred = res.predict(df.n_in, df.n_out)
    ape = np.abs(pred - e) / e * 100
    assert res.mape == pytest.approx(ape.mean())
    assert res.max_ape == pytest.approx(ape.max())
    assert res.rmse == pytest.approx(np.sqrt(np.mean((pred - e) ** 2)))
    assert 0.99 < res.r2 <= 1
    assert res.n_in_range == (64.0, 4096.0) and res.n_out_range == (64.0, 4096.0)
    assert 1 <= res.condition_number < 1e6


def test_n_requests_divides_window_energy() -> None:
    df = grid_frame()
    e = ss.energy(THETA, df.n_in, df.n_out)
    res = ss.fit(with_energy(df, e * 10).assign(n_requests=10), "sweetspot")
    np.testing.assert_allclose(res.theta, THETA, rtol=1e-8)


def test_negative_free_coefficient_warns() -> None:
    df = grid_frame()
    theta = THETA.copy()
    theta[2] = -1e-3
    with pytest.warns(NegativeCoefficientWarning, match="t3"):
        res = ss.fit(with_energy(df, ss.energy(theta, df.n_in, df.n_out)), "sweetspot")
    assert any("negative" in w for w in res.fit_warnings)


def test_fit_errors() -> None:
    df = grid_frame()
    e = ss.energy(THETA, df.n_in, df.n_out)
    good = with_energy(df, e)
    with pytest.raises(FitError, match="only 5 row"):
        ss.fit(good.head(5), "sweetspot")
    one_level = with_energy(grid_frame(LEVELS, [128]), ss.energy(THETA, LEVELS, 128))
    with pytest.raises(FitError, match=r"rank deficient.*1 distinct n_out"):
        ss.fit(one_level, "sweetspot")
    with pytest.raises(SpecError, match="model must be one of"):
        ss.fit(good, "cubic")
    with pytest.raises(SpecError, match="loss must be one of"):
        ss.fit(good, "sweetspot", loss="huber")
    with pytest.raises(SpecError, match="needs the LLM's architecture"):
        ss.fit(good, "flops")
    with pytest.raises(SpecError, match="takes no architecture"):
        ss.fit(good, "sweetspot", architecture="llama-2-7b")
    with pytest.raises(SpecError, match="kv_cache=False applies to the physical"):
        ss.fit(good, "sweetspot", kv_cache=False)
    two = pd.concat([good.assign(model="a"), good.assign(model="b")])
    with pytest.raises(SpecError, match="holds 2 models"):
        ss.fit(two, "sweetspot")
    with pytest.raises(SpecError, match="no entry"):
        ss.fit(two, "flops", architecture={"a": LLAMA})
    with pytest.raises(SpecError, match="one architecture"):
        ss.fit(two, "flops", architecture=LLAMA)
    bad = good.copy()
    bad.loc[3, "energy_j"] = -1.0
    with pytest.raises(MeasurementError, match="energy_j"):
        ss.fit(bad, "sweetspot")


def test_cross_validate_kfold_predicts_every_row_once() -> None:
    df = grid_frame()
    rng = np.random.default_rng(4)
    e = ss.energy(THETA, df.n_in, df.n_out) * (1 + 0.02 * rng.standard_normal(len(df)))
    data = with_energy(df, e)
    cv = ss.cross_validate(data, "sweetspot", k=5, seed=0)
    assert cv.fold_mape.shape == (5,)
    assert cv.predicted_j.shape == (len(df),)
    # every row's prediction equals that of a fit that did not see it
    perm = np.random.default_rng(0).permutation(len(df))
    fold0 = np.sort(np.array_split(perm, 5)[0])
    train = data.drop(index=fold0)
    ref = ss.fit(train, "sweetspot").predict(df.n_in[fold0], df.n_out[fold0], warn=False)
    np.testing.assert_allclose(cv.predicted_j[fold0], ref, rtol=1e-10)
    assert cv.mape == pytest.approx(cv.ape.mean())
    in_sample = ss.fit(data, "sweetspot").mape
    assert cv.mape > in_sample  # held-out error exceeds the in-sample error


def test_cross_validate_grouped() -> None:
    df = grid_frame()
    data = with_energy(df, ss.energy(THETA, df.n_in, df.n_out))
    cv = ss.cross_validate(data, "sweetspot", groups="n_out")
    assert cv.fold_labels == tuple(str(v) for v in LEVELS)
    assert cv.mape < 1e-6  # noiseless quadratic data extrapolates exactly
    with pytest.raises(SpecError, match="not a column"):
        ss.cross_validate(data, "sweetspot", groups="prompt")
    with pytest.raises(SpecError, match="k must be an integer >= 2"):
        ss.cross_validate(data, "sweetspot", k=1)
    with pytest.raises(SpecError, match="one label per row"):
        ss.cross_validate(data, "sweetspot", groups=[1, 2, 3])
    small = with_energy(grid_frame([64, 128, 256], [64, 128, 256]), 1.0)
    small["energy_j"] = ss.energy(THETA, small.n_in, small.n_out)
    with pytest.raises(FitError, match="fold"):
        ss.cross_validate(small, "sweetspot", groups="n_out")


# -- properties ---------------------------------------------------------------------------

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False)
thetas = st.lists(st.floats(-1e-2, 1e-2, allow_nan=False), min_size=6, max_size=6)


@settings(max_examples=100, deadline=None)
@given(t1=thetas, t2=thetas, a=finite, b=finite)
def test_energy_is_linear_in_theta(t1, t2, a, b) -> None:
    ni = np.array([1, 64, 700, 4096])
    no = np.array([5, 1, 3000, 128])
    combo = a * np.array(t1) + b * np.array(t2)
    lhs = ss.energy(combo, ni, no)
    rhs = a * ss.energy(t1, ni, no) + b * ss.energy(t2, ni, no)
    scale = np.abs(a) * np.abs(ss.energy(np.abs(t1), ni, no)) + np.abs(b) * np.abs(
        ss.energy(np.abs(t2), ni, no)
    )
    np.testing.assert_allclose(lhs, rhs, atol=1e-12 * (1 + scale.max()))


@settings(max_examples=40, deadline=None)
@given(
    theta=st.tuples(
        st.floats(1e-8, 1e-4),
        st.floats(1e-8, 1e-3),
        st.floats(1e-4, 1e-1),
        st.floats(1e-8, 1e-4),
        st.floats(1e-1, 1e2),
        st.floats(1e-3, 1.0),
    ),
    noise=st.floats(0.0, 0.05),
    seed=st.integers(0, 2**16),
)
def test_fit_and_round_trip_properties(theta, noise, seed) -> None:
    df = grid_frame()
    rng = np.random.default_rng(seed)
    e = ss.energy(theta, df.n_in, df.n_out) * np.exp(noise * rng.standard_normal(len(df)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.SweetspotWarning)
        res = ss.fit(with_energy(df, e), "sweetspot")
    if noise == 0.0:
        np.testing.assert_allclose(res.theta, theta, rtol=1e-7)
    back = FitResult.from_dict(json.loads(json.dumps(res.to_dict(), allow_nan=False)))
    assert back.values == res.values
    np.testing.assert_array_equal(back.theta, res.theta)
    np.testing.assert_array_equal(back.predict(df.n_in, df.n_out), res.predict(df.n_in, df.n_out))


def test_fit_data_is_the_frame_validated_once() -> None:
    from sweetspot.fitting import FitData

    df = with_energy(grid_frame(), ss.energy(THETA, grid_frame().n_in, grid_frame().n_out))
    d = FitData.from_frame(ss.read_measurements(df))
    assert d.n_rows == len(df) and d.models == [""]
    np.testing.assert_array_equal(ss.fit(d).values, ss.fit(df).values)
    np.testing.assert_array_equal(
        ss.cross_validate(d, k=3).predicted_j, ss.cross_validate(df, k=3).predicted_j
    )
    bare = FitData(n_in=d.n_in, n_out=d.n_out, energy_j=d.energy_j, batch_size=d.batch_size)
    with pytest.raises(SpecError, match="groups='n_out' is not a column"):
        ss.cross_validate(bare, groups="n_out")
    with pytest.raises(MeasurementError, match=r"energy_j must be finite and > 0 J.*row 2"):
        FitData(
            n_in=d.n_in[:3],
            n_out=d.n_out[:3],
            energy_j=np.array([1.0, 2.0, -1.0]),
            batch_size=np.ones(3),
        )
    with pytest.raises(MeasurementError, match="n_out must be a 1-D array"):
        FitData(n_in=d.n_in, n_out=d.n_out[:2], energy_j=d.energy_j, batch_size=d.batch_size)
