"""Tests of sweetspot.io.wilkins: the A100 grid of Wilkins et al. (2024).

Synthetic files in the Wilkins layout are written to tmp_path. The real grid is read at run
time through the fixture of conftest.py (skips without ../shared/data) and never copied here.
Its reference figures come from ../shared/data/wilkins-grid/SOURCE.md (in-sample MAPE of the
six-term quadratic with relative least squares, per (model, GPU count) group); they are the
golden results the last tests check against, with their provenance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from grids import assert_schema_frame, write_csv

import sweetspot as ss
from sweetspot.exceptions import MeasurementError
from sweetspot.io import read_measurements, read_wilkins

WILKINS_HEADER = (
    "Timestamp,Phase,Runtime (s),GPU Energy (mJ),Number of Output Tokens,Number of Input Tokens,"
    "Iteration,Model,Number of GPUs,Prompt,Total Number of Tokens,Batch Size,System\n"
)


def wilkins_file(tmp_path, rows: list[str], name: str = "w.csv") -> str:
    """A synthetic file in the Wilkins layout (made-up values)."""
    return write_csv(tmp_path / name, WILKINS_HEADER + "".join(r + "\n" for r in rows))


STARTUP = [
    "1700000000,tokenizer,0.5,1000,32,0,0,toy-1b,1,startup,0,32,lab",
    "1700000001,model load,9.0,90000,32,0,0,toy-1b,1,startup,0,32,lab",
]
CELLS = [
    "1700000010,start-inference-A-8,0.2,30000,8,8,8,toy-1b,1,Hi,16,32,lab",
    "1700000011,start-inference-A-16,0.4,61000,16,8,16,toy-1b,1,Hi,24,32,lab",
    "1700000012,start-inference-B-8,0.3,45500,8,16,8,toy-1b,1,Hello,24,32,lab",
]


def test_wilkins_synthetic(tmp_path) -> None:
    path = wilkins_file(tmp_path, STARTUP + CELLS)
    df = read_measurements(path)  # detected from the header
    assert_schema_frame(df)
    pd.testing.assert_frame_equal(df, read_wilkins(path))
    assert df["energy_j"].tolist() == [30.0, 61.0, 45.5]
    assert df["n_in"].tolist() == [8, 8, 16]
    assert df["n_out"].tolist() == [8, 16, 8]
    assert df["prompt"].tolist() == ["A", "A", "B"]
    assert (df["batch_size"] == 1).all() and (df["n_requests"] == 1).all()
    assert (df["kv_cache"] == False).all()  # noqa: E712
    assert set(df["gpu"]) == {"A100-40GB"} and set(df["engine"]) == {"hf-transformers"}
    assert set(df["dtype"]) == {"bfloat16"}
    assert df["timestamp"].iloc[0] == pd.Timestamp(1700000010, unit="s", tz="UTC")
    notes = " | ".join(df.attrs["notes"])
    assert "detected the Wilkins" in notes
    assert "skipped 2 start-up rows (Phase 'tokenizer': 1, 'model load': 1)" in notes
    assert "[0.9 N, N]" in notes and "'Batch Size' is a pipeline argument" in notes
    assert "'GPU Energy (mJ)' [mJ] to energy_j" in notes
    assert "Iteration" not in df.columns


def test_wilkins_frame_input(tmp_path) -> None:
    path = wilkins_file(tmp_path, CELLS)
    raw = pd.read_csv(path)
    df = read_measurements(raw, format="wilkins")
    assert len(df) == 3
    assert not any("start-up" in n for n in df.attrs["notes"])


def test_wilkins_unknown_phase_is_an_error(tmp_path) -> None:
    rows = [*STARTUP, CELLS[0], "1700000020,warmup,0.1,100,8,8,8,toy-1b,1,Hi,16,32,lab"]
    with pytest.raises(MeasurementError, match=r"Phase must be .*'warmup' in row 3 .*1 bad row"):
        read_wilkins(wilkins_file(tmp_path, rows))


def test_wilkins_malformed_phase(tmp_path) -> None:
    rows = [*STARTUP, "1700000020,start-inference-A,0.1,100,8,8,8,toy-1b,1,Hi,16,32,lab"]
    with pytest.raises(MeasurementError, match=r"Phase .*'start-inference-A' in row 2"):
        read_wilkins(wilkins_file(tmp_path, rows))


def test_wilkins_row_numbers_are_file_rows(tmp_path) -> None:
    bad = "1700000013,start-inference-B-16,0.3,,16,16,16,toy-1b,1,Hello,24,32,lab"
    path = wilkins_file(tmp_path, [*STARTUP, *CELLS, bad])
    with pytest.raises(MeasurementError, match=r"energy_mj \(column 'GPU Energy \(mJ\)'\).*row 5 "):
        read_wilkins(path)


def test_wilkins_requested_n_must_match_phase(tmp_path) -> None:
    rows = [*STARTUP, "1700000010,start-inference-A-8,0.2,30000,16,8,8,toy-1b,1,Hi,16,32,lab"]
    with pytest.raises(MeasurementError, match=r"'Number of Output Tokens' must equal.*row 2"):
        read_wilkins(wilkins_file(tmp_path, rows))


def test_wilkins_structural_errors(tmp_path) -> None:
    with pytest.raises(MeasurementError, match="only start-up rows"):
        read_wilkins(wilkins_file(tmp_path, STARTUP))
    path = write_csv(tmp_path / "x.csv", "Phase,GPU Energy (mJ)\nstart-inference-A-8,1\n")
    with pytest.raises(MeasurementError, match=r"missing the Wilkins et al. column.*'Timestamp'"):
        read_measurements(path)
    with pytest.raises(MeasurementError, match="column_map is not used with format='wilkins'"):
        read_measurements(wilkins_file(tmp_path, CELLS), column_map={"Model": "model"})
    with pytest.raises(MeasurementError, match=r"look like the Wilkins et al. grid"):
        read_measurements(wilkins_file(tmp_path, CELLS), format="csv")
    with pytest.raises(MeasurementError, match="no data rows"):
        read_wilkins(wilkins_file(tmp_path, []))


def test_wilkins_real_grid(wilkins_csv) -> None:
    raw = pd.read_csv(wilkins_csv)
    measured = raw["Phase"].str.startswith("start-inference-")
    df = read_wilkins(wilkins_csv)
    assert_schema_frame(df)
    assert len(df) == int(measured.sum()) == 566
    n_startup = int((~measured).sum())
    assert n_startup == 12
    assert any(f"skipped {n_startup} start-up rows" in n for n in df.attrs["notes"])
    np.testing.assert_allclose(df["energy_j"], raw.loc[measured, "GPU Energy (mJ)"] / 1000)
    np.testing.assert_array_equal(df["n_in"], raw.loc[measured, "Number of Input Tokens"])
    # SOURCE.md: 7 (model, GPU count) groups of a 9 x 9 grid, Llama-2-70b missing one cell
    sizes = df.groupby(["model", "n_gpus"]).size().to_dict()
    assert sizes == {
        ("Llama-2-7b-chat-hf", 1): 81,
        ("Llama-2-13b-chat-hf", 1): 81,
        ("Llama-2-70b-chat-hf", 4): 80,
        ("Mistral-7B-v0.1", 1): 81,
        ("Mixtral-8x7B-v0.1", 3): 81,
        ("falcon-7b", 1): 81,
        ("falcon-40b", 3): 81,
    }
    lengths = sorted(set(df["n_in"]))
    assert lengths == sorted(set(df["n_out"])) == [8 * 2**k for k in range(9)]
    assert sorted(set(df["prompt"])) == list("ABCDEFGHI")
    full = {(i, o) for i in lengths for o in lengths}
    llama70 = df[df["model"] == "Llama-2-70b-chat-hf"]
    missing = full - set(zip(llama70["n_in"], llama70["n_out"], strict=True))
    assert missing == {(512, 2048)}  # prompt G, N = 2048
    assert not df.duplicated(["model", "n_gpus", "n_in", "n_out"]).any()
    assert df["energy_j"].min() > 25 and df["energy_j"].max() < 2.3e6  # about 30 J .. 2.2 MJ


# --------------------------------------------------------------------------- the real grid, fitted

# SOURCE.md "Reference figures": group -> (quadratic MAPE %, linear MAPE %)
SOURCE_MD = {
    ("Llama-2-7b-chat-hf", 1): (5.46, 45.21),
    ("Llama-2-13b-chat-hf", 1): (6.23, 47.27),
    ("Llama-2-70b-chat-hf", 4): (6.21, 42.90),
    ("Mistral-7B-v0.1", 1): (4.59, 45.38),
    ("Mixtral-8x7B-v0.1", 3): (5.26, 28.10),
    ("falcon-7b", 1): (10.77, 48.30),
    ("falcon-40b", 3): (6.69, 44.83),
}
FAMILIES = ["linear", "wilkins", "sweetspot"]


@pytest.fixture(scope="module")
def groups(wilkins_csv):
    data = ss.read_measurements(wilkins_csv, format="wilkins")
    return {key: g for key, g in data.groupby(["model", "n_gpus"])}


def test_wilkins_table(groups, capsys) -> None:
    assert set(groups) == set(SOURCE_MD)
    rows = []
    for key, g in sorted(groups.items()):
        for family in FAMILIES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ss.SweetspotWarning)
                res = ss.fit(g, family)
                cv = ss.cross_validate(g, family, k=5, seed=0)
            rows.append((key, family, res.mape, cv.mape))
    with capsys.disabled():
        print("\nWilkins A100 grid: in-sample and 5-fold CV MAPE [%] (relative loss)")
        print(f"{'model':<22}{'gpus':>5}  {'family':<10}{'in-sample':>10}{'5-fold CV':>11}")
        for (model, gpus), family, m, c in rows:
            print(f"{model:<22}{gpus:>5}  {family:<10}{m:>10.2f}{c:>11.2f}")
    by = {(k, f): (m, c) for k, f, m, c in rows}
    for key, (quad_ref, lin_ref) in SOURCE_MD.items():
        quad, _ = by[(key, "sweetspot")]
        lin, _ = by[(key, "linear")]
        assert abs(quad - quad_ref) <= 0.5, (key, quad, quad_ref)
        assert abs(lin - lin_ref) <= 0.5, (key, lin, lin_ref)
        assert lin >= 3 * quad, (key, lin, quad)
    cv_quad = [by[(k, "sweetspot")][1] for k in SOURCE_MD]
    # SOURCE.md: 5-fold CV (default_rng(0)) of the quadratic gives 4.9 % .. 11.7 %, 7.0 % mean
    assert min(cv_quad) == pytest.approx(4.9, abs=0.1)
    assert max(cv_quad) == pytest.approx(11.7, abs=0.1)
    assert np.mean(cv_quad) == pytest.approx(7.0, abs=0.1)


def test_wilkins_knowing_the_cache_is_off_matters(groups) -> None:
    # The data was taken with use_cache=False (SOURCE.md): a physical model that recomputes
    # the prefix at every step must predict it far better than one that assumes a cache.
    # The rows record kv_cache=False, so pricing them with a cache means dropping that column
    # (sweetspot refuses a spec that contradicts it).
    for key, g in sorted(groups.items()):
        with pytest.raises(ss.SpecError, match="kv_cache column"):
            ss.cross_validate(g, ss.ModelSpec(name="memory_flops", per_pass=True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ss.SweetspotWarning)
            on = ss.cross_validate(
                g.drop(columns="kv_cache"), ss.ModelSpec(name="memory_flops", per_pass=True)
            )
            off = ss.cross_validate(
                g, ss.ModelSpec(name="memory_flops", kv_cache=False, per_pass=True)
            )
        assert off.mape < on.mape / 2, (key, off.mape, on.mape)


def test_wilkins_hostile_cells(tmp_path) -> None:
    labels = [c.replace("toy-1b", m) for c, m in zip(CELLS, ["1.1", "1.10", "007"], strict=True)]
    df = read_measurements(wilkins_file(tmp_path, labels))
    assert df["model"].tolist() == ["1.1", "1.10", "007"]  # labels as written
    huge = CELLS[0].replace("start-inference-A-8", "start-inference-A-" + "9" * 30)
    with pytest.raises(MeasurementError, match=r"must equal the N of Phase"):
        read_wilkins(wilkins_file(tmp_path, [huge]))
    late = CELLS[0].replace("1700000010", "1e300")
    with pytest.raises(MeasurementError, match=r"timestamp .*unix seconds between the years"):
        read_wilkins(wilkins_file(tmp_path, [late]))
