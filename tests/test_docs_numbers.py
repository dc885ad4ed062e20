"""Numbers quoted in README.md and docs/ equal what the library computes from the shipped tables."""

from __future__ import annotations

import re
from pathlib import Path

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
