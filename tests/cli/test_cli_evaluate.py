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
    assert "The SweetSpot paper's Table 3 on these data: in-sample MAPE" in out
    assert "B1 J/token" in out and "Memory+FLOPs" in out and "Average" in out


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
    capsys.readouterr()
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "H100" in first and "TensorRT-LLM 0.21" in first  # the reference setup leads
    assert out.index("H100") < out.index("KV cache OFF: not a production serving")
    assert "coefficients as reported by the paper (not refitted by sweetspot)" in out
    assert main(["tables", "list"]) == 0
    assert "recommended" in capsys.readouterr().out


def test_report_and_plan_on_the_h100_reference(capsys, tmp_path) -> None:
    assert main(["report", "--model", "llama-3.1-8b", "--gpu", "h100", "--n-in", "64"]) == 0
    out = capsys.readouterr().out
    assert "Llama 3.1 (8B)" in out and "A100" not in out.split("####")[-1]
    assert "closed-form n_out* at n_in = 64: 290" in out
    assert main(["plan", "--params", "llama-3.1-8b", "--gpu", "h100", "--n-in", "1500"]) == 0
    assert "1500" in capsys.readouterr().out
    assert main(["report", "--gpu", "h100", "--plots", str(tmp_path)]) == 0
    written = {p.name for p in tmp_path.iterdir()}
    assert "sweetspot-paper-h100-efficiency-by-group.png" in written
    assert "sweetspot-paper-h100-normalised-heatmap.png" in written


def test_report_for_an_architecture_of_no_table(capsys, tmp_path) -> None:
    from pathlib import Path

    path = str(Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "qwen3-8b.json")
    assert main(["report", "--arch", path, "--n-in", "64,4096", "--plots", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== qwen3-8b (predicted: no measurement of it)" in out
    assert "leave-one-model-out MAPE 4.98 % mean" in out and "batch" in out
    assert {p.name for p in tmp_path.iterdir()} == {
        "qwen3-8b-serving-heatmap.png",
        "qwen3-8b-serving-efficiency.png",
    }
    assert main(["report", "--arch", "llama-3.1-8b", "--gpu", "l40s", "--n-in", "64"]) == 1
    assert "allow_other_gpu" in capsys.readouterr().err


def test_evaluate_needs_data_or_the_surfaces(capsys, tmp_path) -> None:
    assert main(["evaluate"]) == 1
    assert "--paper-surfaces" in capsys.readouterr().err
    assert main(["evaluate", "x.csv", "--paper-surfaces", str(tmp_path)]) == 1
    assert main(["evaluate", "--paper-surfaces", str(tmp_path)]) == 1
    assert "cannot read the paper's Table 5" in capsys.readouterr().err


def test_report_arch_reads_the_table_it_is_given(capsys, tmp_path) -> None:
    """``report --arch --table X`` takes the serving constants from X, not the shipped table
    (it used to print X's source details over the shipped constants)."""
    from sweetspot.tables import SERVING_SOURCE, read_table

    table = read_table()
    table["pooled"] = [p for p in table["pooled"] if p.get("source") != SERVING_SOURCE]
    path = tmp_path / "no-serving.json"
    path.write_text(json.dumps(table))
    assert main(["report", "--arch", "llama-3.1-8b", "--n-in", "64"]) == 0
    capsys.readouterr()
    assert main(["report", "--arch", "llama-3.1-8b", "--n-in", "64", "--table", str(path)]) == 1
    assert "no serving constants" in capsys.readouterr().err
