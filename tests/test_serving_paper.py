"""The issue's targets on the SweetSpot paper's 13 H100 surfaces (skipped without ../shared).

- ``evaluate`` reports pooled in-sample and leave-one-model-out MAPE per LLM;
- the documented family (``serving``) predicts a left-out LLM with mean <= 5 % and worst LLM
  <= 10 %, with one set of options for all 13;
- its n_out* at n_in = 64, 512 and 4096 lies within 0.75-1.35 of each LLM's own Table 5 value;
- the published constants are the ones this evaluation fits.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sweetspot as ss
from sweetspot.cli import main
from sweetspot.evaluate import (
    BEST_SERVING_FAMILY,
    PAPER_FIGURE_QUOTES,
    Family,
    evaluate_serving,
    figure_effects,
    figure_serving,
    paper_surfaces,
    paper_thetas,
    serving_families,
    serving_sweet_spots,
)
from sweetspot.exceptions import SpecError, TableError
from sweetspot.serving import concurrency
from sweetspot.tables import SERVING_SOURCE, read_table

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT.parent / "shared" / "data" / "sweetspot-paper-h100"


@pytest.fixture(scope="module")
def folder() -> Path:
    if not (PAPER / "table5_theta.csv").is_file():
        pytest.skip(f"shared data not found at {PAPER} (fresh clone without ../shared)")
    return PAPER


@pytest.fixture(scope="module")
def surfaces(folder: Path) -> pd.DataFrame:
    return paper_surfaces(folder)


@pytest.fixture(scope="module")
def table(surfaces: pd.DataFrame) -> pd.DataFrame:
    return evaluate_serving(surfaces)


def test_the_surfaces_are_table5_with_the_batch_of_the_rule(
    folder: Path, surfaces: pd.DataFrame
) -> None:
    thetas = paper_thetas(folder)
    assert len(thetas) == 13 and len(surfaces) == 13 * 49
    for name, t in thetas.items():
        rows = surfaces[surfaces["model"] == name]
        ni, no = rows["n_in"].to_numpy(float), rows["n_out"].to_numpy(float)
        np.testing.assert_allclose(rows["energy_j"], ss.energy(t, ni, no), rtol=1e-12)
        rule = concurrency(ss.get_architecture(name), ni + no)
        np.testing.assert_array_equal(rows["batch_size"].to_numpy(float), rule)
    assert surfaces["batch_size"].min() >= 13 and surfaces["batch_size"].max() == 1000


def test_evaluate_reports_pooled_and_leave_one_model_out_mape(table: pd.DataFrame) -> None:
    assert list(table.columns) == [
        "family", "label", "model", "n_rows", "mape", "max_ape", "lomo_mape", "lomo_max_ape",
    ]  # fmt: skip
    assert set(table["family"]) == {f.name for f in serving_families()}
    assert (table.groupby("family")["model"].nunique() == 13).all()
    assert np.all(np.isfinite(table[["mape", "max_ape", "lomo_mape", "lomo_max_ape"]]))
    means = table.groupby("family", sort=False)["lomo_mape"].mean()
    # the ladder of the issue: 42 % -> 7.6 % -> 5.8 % -> 5.0 %
    assert means["memory_flops@b1"] > 40
    assert means["memory_flops@b1"] > means["kv@b1"] > means["kv+batch"] > means["serving"]


def test_the_documented_family_meets_the_targets(table: pd.DataFrame) -> None:
    best = table[table["family"] == BEST_SERVING_FAMILY]
    assert best["label"].nunique() == 1  # one set of options for all 13 LLMs
    assert best["lomo_mape"].mean() <= 5.0
    assert best["lomo_mape"].max() <= 10.0


def test_its_sweet_spots_match_each_llms_own(folder: Path, surfaces: pd.DataFrame) -> None:
    spots = serving_sweet_spots(surfaces, paper_thetas(folder))
    assert len(spots) == 13 * 3 and set(spots["n_in"]) == {64, 512, 4096}
    assert spots["ratio"].between(0.75, 1.35).all(), spots.sort_values("ratio")
    # the table value at 64 is the paper's own closed-form estimate
    at64 = spots[spots["n_in"] == 64].set_index("model")["n_out_table"]
    est = pd.read_csv(folder / "table5_theta.csv").set_index("model")
    np.testing.assert_allclose(
        at64.round(), est.loc[at64.index, "estimated_sweet_spot_n_out_at_64"], atol=1
    )


def test_the_published_constants_are_this_evaluation(table: pd.DataFrame) -> None:
    pooled = [p for p in read_table()["pooled"] if p["source"] == SERVING_SOURCE]
    assert [p["family"] for p in pooled] == [f.name for f in serving_families()]
    assert [p["recommended"] for p in pooled] == [f.name == "serving" for f in serving_families()]
    for p in pooled:
        t = table[table["family"] == p["family"]].set_index("model")
        for m, v in p["lomo_mape"].items():
            assert math.isclose(v, t.loc[m, "lomo_mape"], rel_tol=1e-6)
    best = next(p for p in pooled if p["recommended"])
    ratios = [r for d in best["sweet_spot_ratio"].values() for r in d.values()]
    assert len(ratios) == 39 and min(ratios) >= 0.75 and max(ratios) <= 1.35


def test_figure_effects_go_the_papers_way(folder: Path) -> None:
    eff = figure_effects(ss.load_pooled("H100"), folder=folder)
    assert len(eff) == len(PAPER_FIGURE_QUOTES)
    fig1 = eff[eff["figure"] == 1].set_index(["setting", "quantity"])["predicted"]
    assert fig1[(10, "max")] < fig1[(1000, "max")] / 5  # few requests: far less efficient
    fig4 = eff[eff["figure"] == 4]
    peak64 = fig4[fig4["quantity"] == "peak"]["predicted"].iloc[0]
    at256 = fig4[(fig4["setting"] == 1024) & (fig4["n_out"] == 256)]["predicted"].iloc[0]
    assert peak64 < at256  # a small max_batch_size lowers the peak
    with pytest.raises(SpecError, match="figure must be 1 or 4"):
        figure_serving(2, 10)


def test_families_at_batch_one_ignore_the_rows_batch(surfaces: pd.DataFrame) -> None:
    fam = Family(name="one", spec=ss.ModelSpec(name="memory_flops"), batch="one")
    a = evaluate_serving(surfaces, families=[fam])
    b = evaluate_serving(surfaces.assign(batch_size=1), families=[fam])
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(SpecError, match="no batch_size column"):
        evaluate_serving(surfaces.drop(columns="batch_size"), families=serving_families()[2:3])


def test_paper_thetas_errors(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="cannot read the paper's Table 5"):
        paper_thetas(tmp_path)
    (tmp_path / "table5_theta.csv").write_text("model,theta0\nx,1\n")
    with pytest.raises(TableError, match="is not the paper's Table 5"):
        paper_thetas(tmp_path)


def test_evaluate_command_on_the_surfaces(folder: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["evaluate", "--paper-surfaces", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "leave-one-model-out" in out and "Per LLM, family 'serving'" in out
    assert "Gemma 2 (9B)" in out and "n_out* ratio @4096" in out
    assert main(["evaluate", "--paper-surfaces", str(folder), "--json"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert len(doc["mape"]) == 13 * 5 and len(doc["sweet_spots"]) == 39


def test_serving_figures(folder: Path, tmp_path: Path) -> None:
    from sweetspot.plot import save_serving_figures

    written = save_serving_figures(tmp_path, folder=folder)
    assert [p.name for p in written] == [
        "paper-figure1-requests.png",
        "paper-figure4-batch.png",
        "lomo-parity.png",
    ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
