"""The numbers of docs/serving.md equal what the library computes (the tables, and the numbers
quoted in the text beside them)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sweetspot.evaluate import (
    evaluate_serving,
    figure_effects,
    paper_surfaces,
    paper_thetas,
    serving_families,
    serving_sweet_spots,
)
from sweetspot.serving import GPUS
from sweetspot.tables import load_pooled

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "serving.md").read_text(encoding="utf-8")
PAPER = ROOT.parent / "shared" / "data" / "sweetspot-paper-h100"


def _rows(heading: str) -> list[list[str]]:
    """The body rows of the first Markdown table after ``heading``."""
    section = PAGE[PAGE.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(c and set(c) <= {"-", ":"} for c in cells):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]


@pytest.fixture(scope="module")
def paper() -> Path:
    if not (PAPER / "table5_theta.csv").is_file():
        pytest.skip(f"shared data not found at {PAPER} (fresh clone without ../shared)")
    return PAPER


@pytest.fixture(scope="module")
def table(paper: Path) -> pd.DataFrame:
    return evaluate_serving(paper_surfaces(paper))


@pytest.fixture(scope="module")
def spots(paper: Path) -> pd.DataFrame:
    return serving_sweet_spots(paper_surfaces(paper), paper_thetas(paper))


def test_the_ladder_table(table: pd.DataFrame) -> None:
    rows = _rows("### The ladder of physics")
    names = [f.name for f in serving_families()]
    assert [r[0] for r in rows] == names
    for row, name in zip(rows, names, strict=True):
        t = table[table["family"] == name]
        assert row[2:] == [
            f"{t['mape'].mean():.2f}",
            f"{t['lomo_mape'].mean():.2f}",
            f"{t['lomo_mape'].max():.2f}",
        ]


def test_the_per_llm_table(table: pd.DataFrame, spots: pd.DataFrame) -> None:
    rows = _rows("### Per LLM (`serving`)")
    best = table[table["family"] == "serving"].set_index("model")
    ratio = spots.pivot(index="model", columns="n_in", values="ratio")
    assert [r[0] for r in rows] == list(best.index)
    for row in rows:
        m = row[0]
        assert row[1:] == [
            f"{best.loc[m, 'mape']:.2f}",
            f"{best.loc[m, 'lomo_mape']:.2f}",
            f"{best.loc[m, 'lomo_max_ape']:.2f}",
            *(f"{ratio.loc[m, n]:.2f}" for n in (64, 512, 4096)),
        ]


def test_numbers_quoted_in_the_text(table: pd.DataFrame, spots: pd.DataFrame) -> None:
    best = table[table["family"] == "serving"]
    mean, worst = best["lomo_mape"].mean(), best["lomo_mape"].max()
    assert f"its leave-one-model-out MAPE is\n{mean:.2f} % mean and {worst:.2f} %" in PAGE
    assert f"(0.{round((5.0 - mean) * 100):02d} points on the mean)" in PAGE
    kv_batch = table[table["family"] == "kv+batch"]["lomo_mape"].mean()
    assert f"its 5.8 % is {kv_batch:.2f} % here" in PAGE
    lo = spots.loc[spots["ratio"].idxmin()]
    hi = spots.loc[spots["ratio"].idxmax()]
    assert (lo["model"], lo["n_in"], hi["model"], hi["n_in"]) == (
        "Gemma 2 (9B)",
        64,
        "OPT (1.3B)",
        64,
    )
    assert f"Gemma 2\n9B at n_in = 64 ({lo['ratio']:.3f};" in PAGE
    assert f"OPT 1.3B at n_in = 64 ({hi['ratio']:.3f})" in PAGE
    assert lo["ratio"] >= 0.75 and hi["ratio"] <= 1.35
    assert "MAPE 4.98 % on the 13 LLMs" in PAGE and f"{mean:.2f}" == "4.98"
    static = table[table["family"] == "serving+static"]["lomo_mape"].mean()
    assert math.isclose(static, mean, rel_tol=1e-6)  # "adds nothing on these runs"


def test_the_constants_table_and_its_readings() -> None:
    res = load_pooled("H100")
    rows = {r[0]: r for r in _rows("## What the constants mean")}
    assert list(rows) == list(res.param_names)
    for name, row in rows.items():
        value = res.params[name]
        assert row[1] == (f"{value:.2e}" if value < 1e-3 else f"{value:.3g}")
        assert row[2] == res.units[res.param_names.index(name)]
    h100, pcie = GPUS["h100-sxm"], GPUS["h100-pcie"]
    p = res.params
    assert (
        f"buys {700 / p['j_per_flop_prefill'] / 1e12:.0f} TFLOP/s" in rows["j_per_flop_prefill"][3]
    )
    assert (
        f"{700 / p['j_per_flop_prefill'] / h100.peak_flops * 100:.0f} %"
        in rows["j_per_flop_prefill"][3]
    )
    assert f"{700 / p['j_per_flop_decode'] / 1e12:.0f} TFLOP/s" in rows["j_per_flop_decode"][3]
    assert f"{p['j_per_weight_byte'] * h100.bandwidth:.0f} W" in rows["j_per_weight_byte"][3]
    assert f"{p['j_per_kv_byte'] * h100.bandwidth:.0f} W" in rows["j_per_kv_byte"][3]
    step32 = p["j_per_layer_step"] * 32
    assert f"{step32:.2f} J per step" in rows["j_per_layer_step"][3]
    assert f"{step32 / 700 * 1e3:.1f} ms at 700 W" in rows["j_per_layer_step"][3]
    assert f"would mean {p['j_per_kv_byte'] * pcie.bandwidth:.0f} W" in PAGE
    assert f"per-request constant is {p['j_per_request']:.2f} J" in PAGE
    layers16 = p["j_per_layer_step"] * 16 / 64
    assert f"(0.0903 J x 16 layers / 64 = {layers16:.3f} J per token)" in PAGE


def test_the_figure_table(paper: Path) -> None:
    eff = figure_effects(load_pooled("H100"), folder=paper)
    rows = _rows("## The paper's Figure 1 and Figure 4, predicted")
    assert len(rows) == len(eff)
    for row, (_, e) in zip(rows, eff.iterrows(), strict=True):
        assert row[0] == str(e["figure"]) and row[1] == e["model"]
        assert row[4] == f"{e['paper']:.2f}" and row[5] == f"{e['predicted']:.2f}"
        assert row[6] == ("-" if math.isnan(e["table5"]) else f"{e['table5']:.2f}")
        setting = (
            f"{e['setting']} requests per run"
            if e["figure"] == 1
            else f"max_batch_size {e['setting']}"
        )
        assert row[3] == setting
    fig1 = eff[(eff["figure"] == 1) & (eff["setting"] == 10)]["predicted"]
    assert f"spans\n  {fig1.min():.2f}-{fig1.max():.2f} tokens/J" in PAGE
    low = eff[(eff["figure"] == 4) & (eff["setting"] == 256)]["predicted"].iloc[0]
    high = eff[(eff["figure"] == 4) & (eff["quantity"] == "at") & (eff["n_out"] == 4096)]
    assert f"{low:.2f} with 256 against {high['predicted'].iloc[0]:.2f} with 1024" in PAGE


def test_quoted_batch_sizes_of_the_concurrency_rule() -> None:
    import sweetspot as ss
    from sweetspot.serving import concurrency

    opt = float(concurrency(ss.get_architecture("OPT (6.7B)"), 8192))
    llama = float(concurrency(ss.get_architecture("Llama 3.1 (8B)"), 8192))
    assert f"decodes {opt:.0f} requests together at\n8192 tokens where Llama 3.1 8B" in PAGE
    assert f"(grouped-query, 128 KiB) decodes {llama:.0f}" in PAGE
