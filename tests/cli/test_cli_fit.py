"""The `sweetspot` command: fit, optimum, archs, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sweetspot as ss
from sweetspot.cli import main

THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])


@pytest.fixture()
def grid_csv(tmp_path):
    ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
    df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
    rng = np.random.default_rng(0)
    df["energy_j"] = ss.energy(THETA, df.n_in, df.n_out) * (1 + 0.01 * rng.standard_normal(len(df)))
    df["model"] = "Llama-2-7b-chat-hf"
    path = tmp_path / "grid.csv"
    df.to_csv(path, index=False)
    return path


def test_fit_prints_report(grid_csv, capsys) -> None:
    assert main(["fit", str(grid_csv), "--cv", "4"]) == 0
    out = capsys.readouterr().out
    assert "[[Fit statistics]]" in out and "MAPE" in out and "4-fold CV MAPE" in out


def test_fit_json_save_and_optimum(grid_csv, tmp_path, capsys) -> None:
    saved = tmp_path / "fit.json"
    assert main(["fit", str(grid_csv), "--json", "--save", str(saved)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["spec"]["name"] == "sweetspot" and len(rec["theta"]) == 6
    assert main(["optimum", str(saved), "--n-in", "64,1024", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    res = ss.FitResult.from_json(str(saved))
    np.testing.assert_allclose([r["n_out_opt"] for r in rows], ss.optimal_n_out(res, [64, 1024]))
    assert main(["optimum", str(saved), "--n-in", "64,1024"]) == 0
    assert "n_out*" in capsys.readouterr().out


def test_fit_physical_model_with_arch(grid_csv, capsys) -> None:
    assert main(["fit", str(grid_csv), "--model", "memory_flops", "--arch", "llama-2-7b"]) == 0
    out = capsys.readouterr().out
    assert "j_per_byte" in out and "J/FLOP" in out


def test_archs(capsys) -> None:
    assert main(["archs"]) == 0
    out = capsys.readouterr().out
    assert "Llama-2-7B" in out or "llama-2-7b" in out.lower()
    assert main(["archs", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) >= 22


def test_errors_are_one_line_without_traceback(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("n_in,n_out,energy_j\n64,0,12.0\n")
    assert main(["fit", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "n_out" in err and "Traceback" not in err
    assert main(["fit", str(tmp_path / "missing.csv")]) == 1
    assert main(["fit", str(bad), "--model", "sweetspot", "--per-pass"]) == 1
    err = capsys.readouterr().err
    assert "--per-pass" in err


def test_python_dash_m_is_the_same_command(grid_csv) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sweetspot", "fit", str(grid_csv), "--model", "linear"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[[Parameters]]" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "sweetspot", "fit", "/nonexistent.csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_fit_auto_picks_an_identifiable_model(tmp_path, capsys) -> None:
    # 3 n_in x 2 n_out levels: the six-term model is not identifiable, flops is
    ni, no = np.meshgrid([64, 256, 1024], [64, 256])
    df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel(), "model": "llama-3.1-8b"})
    df["energy_j"] = ss.energy(THETA, df.n_in, df.n_out)
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    assert main(["fit", str(path)]) == 0
    captured = capsys.readouterr()
    assert "auto chose flops[cache=on]" in captured.err
    assert "j_per_flop_prefill" in captured.out
    df.drop(columns="model").to_csv(path, index=False)
    assert main(["fit", str(path)]) == 0
    assert "auto chose linear" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["fit", str(path), "--model", "cubic"])


def test_fit_streams_a_parquet_directory(tmp_path, capsys) -> None:
    pytest.importorskip("pyarrow")
    ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
    df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
    df["energy_j"] = ss.energy(THETA, df.n_in, df.n_out)
    folder = tmp_path / "ds"
    folder.mkdir()
    df.iloc[:8].to_parquet(folder / "part-0.parquet")
    df.iloc[8:].to_parquet(folder / "part-1.parquet")
    assert main(["fit", str(folder), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(rec["theta"], THETA, rtol=1e-8)
    assert main(["fit", str(folder), "--cv", "5"]) == 1
    assert "not available for streamed" in capsys.readouterr().err
