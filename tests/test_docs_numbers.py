"""Numbers quoted in README.md and docs/ equal what the library computes from the shipped tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sweetspot.tables import read_table

ROOT = Path(__file__).resolve().parents[1]


def _rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first Markdown table after ``heading``."""
    section = text[text.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(c and set(c) <= {"-", ":"} for c in cells):  # not the |---| line
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def test_readme_reference_table_is_the_shipped_h100_table() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = _rows(text, "## The reference setup")
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
    rows = {r[0]: r[1:] for r in _rows(text, "## The paper's Table 3 on this grid")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.SweetspotWarning)
        comp = paper_comparison(evaluate(ss.read_measurements(wilkins_csv)))
    assert rows["Wilkins A100 grid, average of 7"] == [f"{v:.2f}" for v in comp.loc["Average"]]
    assert rows["Wilkins A100 grid, std"] == [f"{v:.2f}" for v in comp.loc["Std"]]
    assert rows["paper, H100 average of 13"] == [
        "130.45",
        "130.49",
        "106.25",
        "31.40",
        "2.27",
        "1.79",
    ]


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
    for row in _rows(text, "## Per family"):
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
    for model, cell in _rows(text, "## Leave one model out"):
        assert _num(cell) == f"{t.loc[model, 'lomo_mape']:.2f}", model


def test_readme_results_table(wilkins_table) -> None:
    from sweetspot.evaluate import summarise

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    summ = summarise(wilkins_table).set_index("family")
    for label, insample, cv in _rows(text, "## Results on measured data"):
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
    for row in _rows(text, "## Where the floor is"):
        group = row[0]
        key = "mean" if group == "mean" else group
        got = printed[key]
        # the doc's columns: cubic9, cubic10, best physical, quadratic (no 1st cell is in the text)
        assert [row[1], row[2], row[3], row[4]] == [got[0], got[1], got[2], got[4]], group
