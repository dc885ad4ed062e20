"""The `sweetspot` sub-commands evaluate, tables and report."""

from __future__ import annotations

import json

from test_evaluate import synthetic

from sweetspot.cli import main


def test_evaluate_cli_json(tmp_path, capsys) -> None:
    path = tmp_path / "grid.csv"
    synthetic(noise=0.02).to_csv(path, index=False)
    assert main(["evaluate", str(path), "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    keys = {"model", "n_gpus", "family", "mape", "cv_mape", "lomo_mape"}
    assert all(keys <= set(r) for r in recs)
    assert main(["evaluate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Summary over groups" in out


def test_report_runs_from_shipped_tables(capsys) -> None:
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert "n_out*" in out and "Llama-2-7b-chat-hf" in out
    assert (
        main(["report", "--model", "mistral", "--family", "sweetspot", "--n-in", "100,1000"]) == 0
    )
    out = capsys.readouterr().out
    assert "Mistral" in out and "Llama" not in out
    assert main(["report", "--model", "nothing-like-this"]) == 1
    assert main(["tables", "list"]) == 0
    assert "recommended" in capsys.readouterr().out
