"""Numbers quoted in README.md and docs/ equal what the library computes from the shipped tables."""

from __future__ import annotations

import re

import pytest
from doctables import ROOT, flat, table_rows

from sweetspot.tables import read_table

TABLE3 = ROOT.parent / "shared" / "data" / "sweetspot-paper-h100" / "table3_mape.csv"


def test_readme_reference_table_is_the_shipped_h100_table() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = table_rows(text, "## The reference setup")
    fits = [f for f in read_table()["fits"] if f["source"] == "sweetspot-paper-h100"]
    assert len(rows) == len(fits) == 13
    for row, f in zip(rows, fits, strict=True):
        sp64, sp1k = f["sweet_spot"]["64"], f["sweet_spot"]["1024"]
        expected = [
            f["model"],
            f["size_family"],
            f"{sp64['n_out']:.0f}",
            f"{sp64['tokens_per_joule']:.1f}",
            f"{sp1k['n_out']:.0f}",
            f"{sp1k['tokens_per_joule']:.1f}",
            f"{f['mape']:.2f} %",
        ]
        assert row == expected


def test_readme_range_of_the_a100_sweet_spots() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lo, hi = (int(v) for v in re.search(r"sweet spots \((\d+) to (\d+) tokens", text).groups())
    vals = [
        sp["n_out"]
        for f in read_table()["fits"]
        if f["source"] == "wilkins-a100" and f["recommended"]
        for sp in f["sweet_spot"].values()
        if sp.get("n_out")
    ]
    assert (lo, hi) == (round(min(vals)), round(max(vals)))


def test_evaluation_doc_table3_rows_are_what_evaluate_prints(wilkins_csv) -> None:
    import warnings

    import sweetspot as ss
    from sweetspot.evaluate import evaluate, paper_comparison

    text = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    rows = {r[0]: r[1:] for r in table_rows(text, "## The paper's Table 3 on this grid")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.SweetspotWarning)
        comp = paper_comparison(evaluate(ss.read_measurements(wilkins_csv)))
    assert rows["Wilkins A100 grid, average of 7"] == [f"{v:.2f}" for v in comp.loc["Average"]]
    assert rows["Wilkins A100 grid, std"] == [f"{v:.2f}" for v in comp.loc["Std"]]


def test_evaluation_doc_paper_rows_are_table3_of_the_paper() -> None:
    """The paper's Average row and its population std (ddof=0, as SOURCE.md says the paper
    reports them), from the transcribed Table 3."""
    import pandas as pd

    from sweetspot.evaluate import PAPER_FAMILIES

    if not TABLE3.is_file():
        pytest.skip(f"shared data not found at {TABLE3} (fresh clone without ../shared)")
    t3 = pd.read_csv(TABLE3).set_index("model")
    text = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    heading = "## The paper's Table 3 on this grid"
    header = text[text.index(heading) :].split("\n| |", 1)[1].split("\n", 1)[0]
    assert [c.strip() for c in header.strip("|").split("|")] == list(PAPER_FAMILIES)
    assert len(t3.columns) == len(PAPER_FAMILIES)  # the CSV's columns are in the paper's order
    rows = {r[0]: r[1:] for r in table_rows(text, heading)}
    assert rows[f"paper, H100 average of {len(t3)}"] == [f"{v:.2f}" for v in t3.mean()]
    assert rows["paper, H100 std"] == [f"{v:.2f}" for v in t3.std(ddof=0)]


# ------------------------------------ docs/evaluation.md and README on the Wilkins grid ---
FAMILY_LABELS = {
    "`flops` cache-off + overhead + eager attention": "flops+overhead+eager",
    "`sweetspot` (free quadratic)": "sweetspot",
    "`flops` cache-off + overhead": "flops+overhead",
    "`memory_flops` cache-off": "memory_flops",
    "`flops` cache-off": "flops",
    "`wilkins`": "wilkins",
    "`linear`": "linear",
}


@pytest.fixture(scope="module")
def wilkins_table(wilkins_csv):
    import warnings

    import sweetspot as ss
    from sweetspot.evaluate import evaluate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.SweetspotWarning)
        return evaluate(ss.read_measurements(wilkins_csv))


def _num(cell: str) -> str:
    return cell.replace("*", "").replace("%", "").strip()


def test_evaluation_doc_per_family_table(wilkins_table) -> None:
    from sweetspot.evaluate import summarise

    text = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    summ = summarise(wilkins_table).set_index("family")
    for row in table_rows(text, "## Per family"):
        fam = summ.loc[FAMILY_LABELS[row[0]]]
        got = [
            fam["mape_mean"],
            fam["cv_mape_mean"],
            fam["cv_mape_max"],
            fam["lopo_mape_mean"],
            fam["lono_mape_mean"],
        ]
        assert [_num(c) for c in row[1:]] == [f"{v:.2f}" for v in got], row[0]


def test_evaluation_doc_leave_one_model_out(wilkins_table) -> None:
    text = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    t = wilkins_table[wilkins_table["family"] == "flops+overhead+eager"].set_index("model")
    for model, cell in table_rows(text, "## Leave one model out"):
        assert _num(cell) == f"{t.loc[model, 'lomo_mape']:.2f}", model


def test_readme_results_table(wilkins_table) -> None:
    from sweetspot.evaluate import summarise

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    summ = summarise(wilkins_table).set_index("family")
    for label, insample, cv in table_rows(text, "## Results on measured data"):
        fam = summ.loc[FAMILY_LABELS.get(label, label.strip("`"))]
        assert _num(insample) == f"{fam['mape_mean']:.1f}"
        mean, worst = (_num(c) for c in cv.split("/"))
        assert (mean, worst) == (f"{fam['cv_mape_mean']:.1f}", f"{fam['cv_mape_max']:.1f}")
    t = wilkins_table
    lomo = t[(t["family"] == "flops+overhead+eager") & (t["n_gpus"] == 1)]["lomo_mape"]
    assert f"within {lomo.min():.1f}-{lomo.max():.1f} % MAPE" in " ".join(text.split())


def test_evaluation_doc_noise_floor_table(wilkins_csv) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs" / "scripts" / "wilkins_diagnostics.py"),
            str(wilkins_csv),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    section = ("\n" + proc.stdout).split("\n1. ", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    printed = {line.split("  ")[0].strip(): line.split()[-5:] for line in section}
    text = (ROOT / "docs" / "evaluation.md").read_text(encoding="utf-8")
    for row in table_rows(text, "## Where the floor is"):
        group = row[0]
        key = "mean" if group == "mean" else group
        got = printed[key]
        # the doc's columns: cubic9, cubic10, best physical, quadratic (no 1st cell is in the text)
        assert [row[1], row[2], row[3], row[4]] == [got[0], got[1], got[2], got[4]], group


# ------------------------------------------------ docs/planning.md on the Azure traces ---
def test_planning_doc_numbers_of_the_azure_traces(azure_dir) -> None:
    import sweetspot as ss
    from sweetspot.io import read_azure_trace

    text = flat((ROOT / "docs" / "planning.md").read_text(encoding="utf-8"))
    code = read_azure_trace(azure_dir / "AzureLLMInferenceTrace_code.csv")
    conv = read_azure_trace(azure_dir / "AzureLLMInferenceTrace_conv.csv")
    assert f"{len(code):,} requests of a coding service and {len(conv):,} of a conversation" in text
    med_conv, med_code = conv["n_out"].median(), code["n_out"].median()
    assert f"(conversation: median {med_conv:.0f} output tokens; code: median {med_code:.0f})" in (
        text
    )
    res = ss.load_params("llama-3.1-8b", gpu="h100")
    lo = res.n_out_range[0]  # the fitted grid's shortest output
    short = (code["n_out"] < lo).mean() * 100
    assert f"({short:.0f} % have fewer than {lo:.0f} output tokens)" in text
    sp = ss.optimal_n_out(res, [256, 4096])
    assert f"({sp[0]:.0f} tokens at n_in = 256, {sp[1]:.0f} at 4096 for this LLM)" in text
