"""FitResult: prediction (also frame by frame), report, JSON round trip, tamper checks."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from archs import FALCON_7B, LLAMA2_7B, MISTRAL_7B
from grids import THETA, grid_frame, with_energy

import sweetspot as ss
from sweetspot import FitResult, ModelSpec
from sweetspot.exceptions import (
    ExtrapolationWarning,
    SpecError,
    TableError,
)

LLAMA, MISTRAL, FALCON = LLAMA2_7B, MISTRAL_7B, FALCON_7B


FREE_TRUE = {
    "sweetspot": np.array(THETA),
    "linear": np.array([25.0, 0.004, 0.3]),
    "wilkins": np.array([0.004, 0.3, 3e-5]),
}


def test_round_trip_is_exact(tmp_path) -> None:
    df = grid_frame().assign(model="llama")
    rng = np.random.default_rng(3)
    spec = ModelSpec(name="memory_flops", logits="all")
    X = spec.design(df.n_in.to_numpy(float), df.n_out.to_numpy(float), architecture=LLAMA)
    e = X @ np.array([0.3e-12, 1e-12, 2e-11, 9.0]) * (1 + 0.01 * rng.standard_normal(len(df)))
    res = ss.fit(with_energy(df, e), spec, architecture={"llama": LLAMA})
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    back = FitResult.from_dict(json.loads(text))
    assert back.to_dict() == d
    assert back.values == res.values
    np.testing.assert_array_equal(back.stderrs, res.stderrs)  # NaN where held at a bound
    assert back.architectures == res.architectures and back.spec == res.spec
    np.testing.assert_array_equal(back.theta, res.theta)
    path = tmp_path / "fit.json"
    res.to_json(str(path))
    assert FitResult.from_json(str(path)).to_dict() == d


def test_from_dict_rejects_tampered_input() -> None:
    df = grid_frame()
    res = ss.fit(with_energy(df, ss.energy(THETA, df.n_in, df.n_out)), "sweetspot")
    d = res.to_dict()
    with pytest.raises(TableError, match="format"):
        FitResult.from_dict({**d, "format": "pickle"})
    with pytest.raises(TableError, match="version"):
        FitResult.from_dict({**d, "version": 99})
    bad = {**d, "params": {"c0": 1.0}}
    with pytest.raises(TableError, match="do not match"):
        FitResult.from_dict(bad)
    trunc = {k: v for k, v in d.items() if k != "mape"}
    with pytest.raises(TableError, match="malformed or truncated"):
        FitResult.from_dict(trunc)
    with pytest.raises(TableError, match="not valid JSON"):
        FitResult.from_json(json.dumps(d)[:-20])


def test_report_sections_and_html() -> None:
    df = grid_frame()
    res = ss.fit(with_energy(df, ss.energy(THETA, df.n_in, df.n_out)), "sweetspot")
    text = res.report()
    for section in (
        "[[Model]]",
        "[[Data]]",
        "[[Fit statistics]]",
        "[[Parameters]]",
        "[[Sweet spot]]",
        "[[Warnings]]",
    ):
        assert section in text
    assert "t4" in text and "J/token^2" in text and "MAPE" in text
    assert "<table>" in res._repr_html_()
    assert "mape=" in repr(res)


def test_extrapolation_warns() -> None:
    df = grid_frame([64, 128, 256], [64, 128, 256])
    res = ss.fit(with_energy(df, ss.energy(THETA, df.n_in, df.n_out)), "sweetspot")
    with pytest.warns(ExtrapolationWarning, match="n_in"):
        res.predict(4096, 128)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res.predict(128, 128)
        res.predict(4096, 128, warn=False)


def test_predict_frame_uses_each_rows_model_and_batch_size() -> None:
    spec = ModelSpec(name="memory_flops")
    coef = np.array([0.4e-12, 1.1e-12, 30e-12, 8.0])
    frames = []
    for name, arch, batch in [("llama", LLAMA, 1), ("mistral", MISTRAL, 8), ("falcon", FALCON, 8)]:
        df = grid_frame([64, 512, 2048], [32, 256, 1024]).assign(model=name, batch_size=batch)
        X = spec.design(
            df.n_in.to_numpy(float), df.n_out.to_numpy(float), architecture=arch, batch_size=batch
        )
        frames.append(with_energy(df, X @ coef))
    data = pd.concat(frames, ignore_index=True)
    archs = {"llama": LLAMA, "mistral": MISTRAL, "falcon": FALCON}
    res = ss.fit(data, spec, architecture=archs)
    np.testing.assert_allclose(res.predict_frame(data), data.energy_j, rtol=1e-9)
    one = data[data.model == "mistral"]
    expected = res.predict(one.n_in, one.n_out, architecture=MISTRAL, batch_size=8, warn=False)
    np.testing.assert_array_equal(res.predict_frame(one), expected)
    with pytest.raises(SpecError, match="no 'model' column"):
        res.predict_frame(data.drop(columns="model"))


def test_predict_frame_of_a_free_model_is_predict() -> None:
    df = grid_frame()
    res = ss.fit(with_energy(df, ss.energy(THETA, df.n_in, df.n_out)), "sweetspot")
    np.testing.assert_array_equal(res.predict_frame(df), res.predict(df.n_in, df.n_out))
