"""Streamed fits over Parquet (sweetspot.fitting): same answers as in memory, bounded memory."""

from __future__ import annotations

import os
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sweetspot as ss
from sweetspot.exceptions import (
    FitError,
    IllConditionedWarning,
    MeasurementError,
    NegativeCoefficientWarning,
    SpecError,
)
from sweetspot.fitting import _solver, _stream, cross_validate_parquet, fit_parquet, fold_of_rows
from sweetspot.io.parquet import parquet_rows, should_stream

pytest.importorskip("pyarrow")

THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])
RTOL = 1e-9


def noisy(n: int, seed: int = 0, theta: np.ndarray = THETA) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ni = rng.integers(16, 4097, n)
    no = rng.integers(16, 4097, n)
    e = ss.energy(theta, ni, no) * (1 + 0.03 * rng.standard_normal(n))
    return pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": e})


def write_parts(df: pd.DataFrame, root: Path, parts: int = 3, row_group: int = 500) -> Path:
    """Split df into `parts` files (row groups of `row_group`) under root; return root."""
    root.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate(np.array_split(np.arange(len(df)), parts)):
        df.iloc[chunk].to_parquet(root / f"part-{i}.parquet", row_group_size=row_group)
    return root


def assert_same_fit(a: ss.FitResult, b: ss.FitResult, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(b.coef, a.coef, rtol=rtol)
    np.testing.assert_allclose(b.stderrs, a.stderrs, rtol=1e-6)
    for name in ("mape", "max_ape", "rmse", "r2", "condition_number"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-7), name
    assert b.n_rows == a.n_rows
    assert b.n_in_range == a.n_in_range and b.n_out_range == a.n_out_range
    assert b.models == a.models
    assert b.batch_size == a.batch_size
    assert b.architectures == a.architectures
    assert b.param_names == a.param_names and b.spec == a.spec and b.loss == a.loss
    assert b.fit_warnings == a.fit_warnings


# ------------------------------------------------------------------ equivalence ---
@pytest.mark.parametrize("model", ["sweetspot", "linear", "wilkins"])
@pytest.mark.parametrize("loss", ["relative", "absolute"])
def test_free_models_match_in_memory_fit(tmp_path, model, loss) -> None:
    df = noisy(3000)
    root = write_parts(df, tmp_path / "ds")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeCoefficientWarning)
        want = ss.fit(df, model, loss=loss)
        got = fit_parquet(root, model, loss=loss, batch_rows=700)
    assert_same_fit(want, got)
    assert got.meta["source"] == str(root)


def test_single_file_equals_fit_of_the_same_file(tmp_path) -> None:
    df = noisy(2000, seed=3)
    df["n_requests"] = np.random.default_rng(3).integers(1, 9, len(df))
    df["energy_j"] *= df["n_requests"]
    df["gpu"] = "H100"
    path = tmp_path / "one.parquet"
    df.to_parquet(path, row_group_size=256)
    want = ss.fit(path)
    got = fit_parquet(path, batch_rows=300)
    assert_same_fit(want, got)
    assert dict(got.meta) == dict(want.meta)  # source and gpu, as in memory


def test_batch_size_does_not_change_the_answer(tmp_path) -> None:
    root = write_parts(noisy(2500, seed=5), tmp_path / "ds", parts=4, row_group=100)
    a = fit_parquet(root, batch_rows=37)  # batches smaller than a row group, and ragged
    b = fit_parquet(root, batch_rows=10_000)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-11)
    assert a.mape == pytest.approx(b.mape, rel=1e-12)


def test_units_column_map_and_requests(tmp_path) -> None:
    df = noisy(1500, seed=7)
    raw = pd.DataFrame(
        {
            "prompt_tokens": df.n_in,
            "N_OUT": df.n_out,
            "energy_kwh": df.energy_j * 4 / 3.6e6,
            "n_requests": 4,
            "batch_size": 8,
        }
    )
    root = write_parts(raw, tmp_path / "ds")
    want = ss.fit(ss.read_measurements(raw, column_map={"prompt_tokens": "n_in"}))
    got = fit_parquet(root, column_map={"prompt_tokens": "n_in"}, batch_rows=400)
    assert_same_fit(want, got)
    assert got.batch_size == 8.0


def test_physical_pooled_fit_from_hive_directories(tmp_path) -> None:
    rng = np.random.default_rng(2)
    frames = []
    for name in ("llama-2-7b", "mistral-7b-v0.1"):
        arch = ss.get_architecture(name)
        ni, no = rng.integers(16, 4097, 1200), rng.integers(16, 4097, 1200)
        e = (1e-11 * ss.flops(arch, ni, no) + 20) * (1 + 0.02 * rng.standard_normal(1200))
        df = pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": e})
        write_parts(df, tmp_path / "ds" / f"model={name}", parts=2)
        frames.append(df.assign(model=name))
    full = pd.concat(frames, ignore_index=True)
    for model in ("flops", "memory_flops"):
        assert_same_fit(ss.fit(full, model), fit_parquet(tmp_path / "ds", model, batch_rows=500))
    cv_mem = ss.cross_validate(full, "flops", groups="model")
    cv = cross_validate_parquet(tmp_path / "ds", "flops", groups="model", batch_rows=500)
    assert cv.scheme == "leave-one-model-out"
    assert cv.fold_labels == cv_mem.fold_labels
    np.testing.assert_allclose(cv.fold_mape, cv_mem.fold_mape, rtol=1e-9)
    assert cv.mape == pytest.approx(cv_mem.mape, rel=1e-9)
    assert cv.max_ape == pytest.approx(cv_mem.max_ape, rel=1e-9)


def test_nonnegative_coefficients_held_at_the_bound(tmp_path) -> None:
    # a negative fixed energy per request: the unconstrained j_per_request comes out < 0
    arch = ss.get_architecture("llama-2-7b")
    rng = np.random.default_rng(11)
    ni, no = rng.integers(16, 4097, 2000), rng.integers(16, 4097, 2000)
    e = (1e-11 * ss.flops(arch, ni, no) - 3.0) * (1 + 0.01 * rng.standard_normal(2000))
    df = pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": e})
    root = write_parts(df, tmp_path / "ds")
    spec = ss.ModelSpec(name="memory_flops", split_phases=False)
    want = ss.fit(df, spec, architecture="llama-2-7b")
    got = fit_parquet(root, spec, architecture="llama-2-7b", batch_rows=300)
    assert min(want.values) == 0.0  # the bound is active: NNLS path
    np.testing.assert_allclose(got.coef, want.coef, rtol=1e-8, atol=0)
    assert np.isnan(got.stderrs).tolist() == np.isnan(want.stderrs).tolist()
    assert got.mape == pytest.approx(want.mape, rel=1e-8)


def test_cache_off_physical_model(tmp_path) -> None:
    arch = ss.get_architecture("llama-2-7b")
    rng = np.random.default_rng(4)
    ni, no = rng.integers(16, 1025, 1500), rng.integers(16, 1025, 1500)
    flops = ss.flops(arch, ni, no, kv_cache=False)
    df = pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": 2e-11 * flops + 5.0})
    df["energy_j"] *= 1 + 0.02 * rng.standard_normal(len(df))
    root = write_parts(df, tmp_path / "ds")
    want = ss.fit(df, "flops", architecture="llama-2-7b", kv_cache=False)
    got = fit_parquet(root, "flops", architecture="llama-2-7b", kv_cache=False, batch_rows=400)
    assert_same_fit(want, got)
    assert got.theta is None


def test_warnings_as_in_memory(tmp_path) -> None:
    # a linear model on curved data: negative intercept, same warning text
    df = noisy(800, seed=9)
    df["energy_j"] = 1e-4 * df.n_in * df.n_out + 0.001 * (1 + df.index % 3)
    root = write_parts(df, tmp_path / "ds")
    with pytest.warns(NegativeCoefficientWarning) as mem:
        want = ss.fit(df, "linear")
    with pytest.warns(NegativeCoefficientWarning) as streamed:
        got = fit_parquet(root, "linear", batch_rows=100)
    assert [str(w.message) for w in streamed] == [str(w.message) for w in mem]
    assert got.fit_warnings == want.fit_warnings


def test_ill_conditioned_warning(tmp_path) -> None:
    # n_in barely varies: t1, t3 and t5 are nearly collinear
    rng = np.random.default_rng(0)
    ni = 100_000 + rng.integers(0, 3, 600)
    no = rng.integers(16, 4097, 600)
    df = pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": ss.energy(THETA, ni, no)})
    root = write_parts(df, tmp_path / "ds")
    with pytest.warns(IllConditionedWarning):
        res = fit_parquet(root, batch_rows=100)
    assert res.condition_number > 1e10


def test_report_and_round_trip(tmp_path) -> None:
    root = write_parts(noisy(600), tmp_path / "ds")
    res = fit_parquet(root)
    assert "[[Fit statistics]]" in res.report()
    assert ss.FitResult.from_dict(res.to_dict()).to_dict() == res.to_dict()


# ---------------------------------------------------------------- cross-validation ---
def test_kfold_equals_in_memory_with_the_same_folds(tmp_path) -> None:
    df = noisy(2000, seed=1)
    root = write_parts(df, tmp_path / "ds", parts=3)
    folds = fold_of_rows(np.arange(len(df)), len(df), 5, seed=3)
    mem = ss.cross_validate(df, groups=folds)
    cv = cross_validate_parquet(root, k=5, seed=3, batch_rows=333)
    assert cv.fold_labels == tuple(f"fold {i}" for i in range(5))
    by_label = dict(zip(mem.fold_labels, mem.fold_mape, strict=True))
    np.testing.assert_allclose(cv.fold_mape, [by_label[str(i)] for i in range(5)], rtol=1e-9)
    assert cv.mape == pytest.approx(mem.mape, rel=1e-9)
    assert cv.max_ape == pytest.approx(mem.max_ape, rel=1e-9)
    assert cv.fold_rows.tolist() == [400] * 5
    assert cv.n_rows == 2000 and cv.scheme == "streamed k-fold (k=5, seed=3)"
    assert "MAPE" in repr(cv)


def test_grouped_cv_by_a_column(tmp_path) -> None:
    df = noisy(1200, seed=2)
    df["prompt"] = np.where(df.index % 3 == 0, "A", np.where(df.index % 3 == 1, "B", "C"))
    root = write_parts(df, tmp_path / "ds")
    mem = ss.cross_validate(df, groups="prompt")
    cv = cross_validate_parquet(root, groups="prompt", batch_rows=250)
    assert cv.fold_labels == mem.fold_labels and cv.scheme == "grouped by prompt"
    np.testing.assert_allclose(cv.fold_mape, mem.fold_mape, rtol=1e-9)


def test_cv_errors(tmp_path) -> None:
    df = noisy(30)
    root = write_parts(df, tmp_path / "ds", parts=1)
    with pytest.raises(SpecError, match="k must be an integer >= 2"):
        cross_validate_parquet(root, k=1)
    with pytest.raises(SpecError, match="k = 31 folds need at least 31 rows"):
        cross_validate_parquet(root, k=31)
    with pytest.raises(SpecError, match="seed must be a non-negative integer"):
        cross_validate_parquet(root, seed=-1)
    with pytest.raises(SpecError, match="groups must be a column name"):
        cross_validate_parquet(root, groups=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="not a column of the data"):
        cross_validate_parquet(root, groups="nope")
    df["g"] = "same"
    write_parts(df, tmp_path / "one", parts=1)
    with pytest.raises(SpecError, match=">= 2 groups"):
        cross_validate_parquet(tmp_path / "one", groups="g")
    # a fold whose training set lacks n_out levels: the error names the fold
    ni, no = np.meshgrid([64, 128, 256], [128, 256, 512])
    lv = pd.DataFrame(
        {"n_in": [64, 128, 256] * 3 + ni.ravel().tolist(), "n_out": [64] * 9 + no.ravel().tolist()}
    )
    lv["energy_j"] = ss.energy(THETA, lv.n_in, lv.n_out)
    lv["grp"] = ["a"] * 9 + ["b"] * 9
    write_parts(lv, tmp_path / "lv", parts=1)
    with pytest.raises(FitError, match=r"fold 'b' \(training on 9 rows\).*1 distinct n_out"):
        cross_validate_parquet(tmp_path / "lv", groups="grp")


@given(
    n=st.integers(2, 5000),
    k=st.integers(2, 12),
    seed=st.integers(0, 2**32),
)
@settings(max_examples=40, deadline=None)
def test_folds_are_a_balanced_permutation(n, k, seed) -> None:
    k = min(k, n)
    f = fold_of_rows(np.arange(n), n, k, seed)
    sizes = [len(c) for c in np.array_split(np.arange(n), k)]
    assert np.bincount(f, minlength=k).tolist() == sizes
    pos = _stream._permute(np.arange(n, dtype=np.uint64), n, seed)
    assert np.array_equal(np.sort(pos), np.arange(n, dtype=np.uint64))


def test_folds_depend_on_the_seed_and_validate() -> None:
    a = fold_of_rows(np.arange(1000), 1000, 5, 0)
    b = fold_of_rows(np.arange(1000), 1000, 5, 1)
    assert not np.array_equal(a, b)
    assert np.array_equal(a[10:20], fold_of_rows(np.arange(10, 20), 1000, 5, 0))
    with pytest.raises(SpecError, match="row_ids must be integers"):
        fold_of_rows([1000], 1000, 5)
    with pytest.raises(SpecError, match="row_ids must be integers"):
        fold_of_rows([0.5], 1000, 5)


# ------------------------------------------------------------------------ errors ---
def test_bad_cell_names_the_file_and_the_row_in_it(tmp_path) -> None:
    df = noisy(900)
    df.loc[700, "energy_j"] = -1.0  # file part-2 holds rows 600..899: row 100 of it
    root = write_parts(df, tmp_path / "ds", parts=3, row_group=64)
    with pytest.raises(MeasurementError, match=r"energy_j must be a positive.*row 100 of .*part-2"):
        fit_parquet(root, batch_rows=50)


def test_mape_loss_is_refused(tmp_path) -> None:
    root = write_parts(noisy(100), tmp_path / "ds", parts=1)
    with pytest.raises(SpecError, match="loss='mape' is not supported for streamed fits"):
        fit_parquet(root, loss="mape")
    with pytest.raises(SpecError, match="loss must be one of"):
        fit_parquet(root, loss="huber")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="batch_rows must be a positive integer"):
        fit_parquet(root, batch_rows=0)


def test_dataset_errors(tmp_path) -> None:
    with pytest.raises(MeasurementError, match="No such file") as info:
        fit_parquet(tmp_path / "missing")
    assert isinstance(info.value, FileNotFoundError)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeasurementError, match="holds no Parquet files"):
        fit_parquet(tmp_path / "empty")
    root = write_parts(noisy(50), tmp_path / "mixed", parts=1)
    (root / "README.txt").write_text("notes")
    (root / "_SUCCESS").write_text("")  # writers' bookkeeping is skipped
    with pytest.raises(MeasurementError, match=r"not Parquet: 'README.txt'"):
        fit_parquet(root)
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "points.jsonl").write_text("{}\n")
    with pytest.raises(MeasurementError, match="measurement store"):
        fit_parquet(tmp_path / "store")
    csv = tmp_path / "a.csv"
    noisy(10).to_csv(csv, index=False)
    with pytest.raises(MeasurementError, match="not a Parquet file"):
        fit_parquet(csv)
    with pytest.raises(MeasurementError, match="path"):
        fit_parquet(noisy(10))  # type: ignore[arg-type]


def test_truncated_file(tmp_path) -> None:
    root = write_parts(noisy(300), tmp_path / "ds", parts=2)
    data = (root / "part-1.parquet").read_bytes()
    (root / "part-1.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(MeasurementError, match=r"part-1.parquet cannot be read as Parquet"):
        fit_parquet(root)


def test_files_with_different_columns(tmp_path) -> None:
    root = write_parts(noisy(300), tmp_path / "ds", parts=2)
    extra = noisy(100).assign(n_requests=2)
    extra.to_parquet(root / "part-9.parquet")
    # n_requests missing from the first files: their rows have a missing value
    with pytest.raises(MeasurementError, match=r"n_requests.*missing.*row 0 of .*part-0"):
        fit_parquet(root)


def test_partition_clashing_with_a_column(tmp_path) -> None:
    df = noisy(100).assign(model="x")
    write_parts(df, tmp_path / "ds" / "model=x", parts=1)
    with pytest.raises(MeasurementError, match=r"both a column .* and a directory partition"):
        fit_parquet(tmp_path / "ds", "flops")


def test_fit_errors(tmp_path) -> None:
    write_parts(noisy(4), tmp_path / "few", parts=1)
    with pytest.raises(FitError, match="has 6 coefficients but the data has only 4"):
        fit_parquet(tmp_path / "few")
    lv = pd.DataFrame({"n_in": [64, 128] * 10, "n_out": [64, 128, 256, 512, 1024] * 4})
    lv["energy_j"] = ss.energy(THETA, lv.n_in, lv.n_out)
    write_parts(lv, tmp_path / "lv", parts=2, row_group=5)
    with pytest.raises(FitError, match="2 distinct n_in and 5 distinct n_out"):
        fit_parquet(tmp_path / "lv", batch_rows=3)
    empty = noisy(0)
    (tmp_path / "zero").mkdir()
    empty.to_parquet(tmp_path / "zero" / "a.parquet")
    with pytest.raises(MeasurementError, match="has no data rows"):
        fit_parquet(tmp_path / "zero")
    with pytest.raises(SpecError, match="free polynomial"):
        fit_parquet(tmp_path / "lv", architecture="llama-2-7b")


def test_file_changed_between_passes(tmp_path, monkeypatch) -> None:
    root = write_parts(noisy(300), tmp_path / "ds", parts=1)
    solve = _solver.solve

    def touch_then_solve(*args, **kwargs):
        st_ = os.stat(root / "part-0.parquet")
        os.utime(root / "part-0.parquet", ns=(st_.st_atime_ns, st_.st_mtime_ns + 10**9))
        return solve(*args, **kwargs)

    monkeypatch.setattr(_solver, "solve", touch_then_solve)
    with pytest.raises(MeasurementError, match="changed while it was being read"):
        fit_parquet(root)


# ---------------------------------------------------------------- helpers, memory ---
def test_should_stream_and_rows(tmp_path) -> None:
    root = write_parts(noisy(120), tmp_path / "ds", parts=2)
    assert parquet_rows(root) == 120
    assert should_stream(root)
    assert should_stream(root / "part-0.parquet", min_rows=10)
    assert not should_stream(root / "part-0.parquet")  # small: read it in memory
    assert not should_stream(noisy(5))
    assert not should_stream(tmp_path / "missing.parquet")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "points.jsonl").write_text("{}\n")
    assert not should_stream(tmp_path / "store")


def test_memory_does_not_grow_with_rows(tmp_path) -> None:
    # numpy/pandas allocations (tracemalloc) of a streamed fit: one batch, whatever the rows
    peaks = []
    for n in (40_000, 160_000):
        root = write_parts(noisy(n, seed=n), tmp_path / f"ds{n}", parts=4, row_group=10_000)
        fit_parquet(root, batch_rows=10_000)  # warm caches and imports
        tracemalloc.start()
        fit_parquet(root, batch_rows=10_000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.3 * peaks[0]


@pytest.mark.parametrize("scale", [1e300, 1e-300])
@pytest.mark.parametrize("loss", ["relative", "absolute"])
def test_energies_of_any_magnitude(tmp_path, scale, loss) -> None:
    # least squares is scale-equivariant: E * s gives coefficients * s, the same MAPE
    df = noisy(500, seed=8)
    big = df.assign(energy_j=df.energy_j * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeCoefficientWarning)
        warnings.simplefilter("error", RuntimeWarning)  # no overflow / underflow
        ref = fit_parquet(write_parts(df, tmp_path / "ref", parts=1), loss=loss)
        res = fit_parquet(write_parts(big, tmp_path / "big", parts=2), loss=loss, batch_rows=90)
    np.testing.assert_allclose(res.coef / scale, ref.coef, rtol=1e-9)
    assert res.mape == pytest.approx(ref.mape, rel=1e-9)
    assert res.rmse / scale == pytest.approx(ref.rmse, rel=1e-9)
    assert res.r2 == pytest.approx(ref.r2, rel=1e-9)
