"""Tests of the ``sweetspot plan`` and ``sweetspot workload`` sub-commands."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sweetspot as ss
from sweetspot import plan
from sweetspot.cli import main

THETA = np.array([1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2])


def _fit(theta: np.ndarray = THETA, *, n_max: int = 8192) -> ss.FitResult:
    levels = [16, 64, 256, 1024, 4096, n_max]
    ni, no = np.meshgrid(levels, levels)
    e = ss.energy(theta, ni.ravel(), no.ravel())
    data = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel(), "energy_j": e})
    data["model"] = "toy-llm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative coefficients on purpose in some tests
        return ss.fit(data)


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fits") / "toy.json"
    _fit().to_json(str(path))
    return path


@pytest.fixture(scope="module")
def group_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file like `sweetspot fit --group model --save` writes: {group: fit dict}."""
    path = tmp_path_factory.mktemp("fits") / "groups.json"
    other = _fit(np.array([0.0, 0.0, 0.0, 1e-3, 4.0, 0.1]))
    path.write_text(json.dumps({"toy-llm": _fit().to_dict(), "flat": other.to_dict()}))
    return path


@pytest.fixture()
def trace_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "mix.csv"
    pd.DataFrame(
        {"n_in": rng.integers(16, 4000, 300), "n_out": rng.integers(16, 2000, 300)}
    ).to_csv(path, index=False)
    return path


def _err_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    err = [e for e in err if not e.startswith("warning:")]
    assert len(err) == 1, err
    return err[0]


# ----------------------------------------------------------------------------- plan ---
def test_plan_text(fit_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--params", str(fit_file), "--n-in", "1500"]) == 0
    out = capsys.readouterr().out
    k = plan.recommend_max_tokens(THETA, 1500)
    assert "toy-llm" in out and f"recommended max_tokens   {k}" in out
    assert "budget" not in out


def test_plan_json_with_budget(fit_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["plan", "--params", str(fit_file), "--n-in", "512,6000", "--budget-j", "400", "--json"]
    )
    assert code == 0
    recs = json.loads(capsys.readouterr().out)
    assert [r["n_in"] for r in recs] == [512, 6000]
    res = ss.FitResult.from_json(str(fit_file))
    for r in recs:
        k = plan.recommend_max_tokens(res, r["n_in"])
        assert r["max_tokens"] == r["n_out"] == k
        assert r["max_input_tokens"] == plan.max_input_tokens(res, k, budget_j=400.0)
        assert r["truncate_to"] == min(r["n_in"], r["max_input_tokens"])
        assert r["within_budget"] == (r["energy_j"] <= 400.0)
        assert r["energy_after_j"] <= 400.0
    assert recs[0]["within_budget"] and not recs[1]["within_budget"]


def test_plan_text_budget_and_slack(fit_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "--params", str(fit_file), "--n-in", "6000", "--max-j-per-token", "0.5"]
    assert main([*args, "--n-out", "64", "--slack", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "(slack 10 %)" in out and "energy at n_out = 64" in out
    assert "truncate the prompt to" in out and "OVER" in out


def test_plan_group_file(group_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--params", f"{group_file}#flat", "--n-in", "100"]) == 0
    assert "recommended max_tokens   63" in capsys.readouterr().out
    assert main(["plan", "--params", str(group_file), "--n-in", "100"]) == 1
    line = _err_line(capsys)
    assert "holds 2 fits (toy-llm, flat)" in line and "#toy-llm" in line
    assert main(["plan", "--params", f"{group_file}#nope", "--n-in", "100"]) == 1
    assert "has no fit named 'nope'" in _err_line(capsys)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--budget-j", "0.5"], "no prompt length keeps a request"),
        (["--budget-j", "-3"], "budget_j must be a positive, finite energy"),
        (["--n-min", "100", "--n-max", "10"], "n_max must be at least n_min"),
        (["--slack", "-1"], "slack must be a non-negative fraction"),
        (["--n-out", "0"], "--n-out must be a positive whole number"),
    ],
)
def test_plan_errors_are_one_line(
    fit_file: Path, capsys: pytest.CaptureFixture[str], extra: list[str], match: str
) -> None:
    assert main(["plan", "--params", str(fit_file), "--n-in", "1500", *extra]) == 1
    line = _err_line(capsys)
    assert line.startswith("sweetspot plan: error: ") and match in line


def test_plan_no_interior_optimum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "falling.json"
    _fit(np.array([0.0, 1e-6, 1e-3, -1e-6, 4.0, 0.5])).to_json(str(path))
    assert main(["plan", "--params", str(path), "--n-in", "100"]) == 1
    assert "Pass --n-max N" in _err_line(capsys)  # the flag, not the Python keyword
    assert main(["plan", "--params", str(path), "--n-in", "100", "--n-max", "512"]) == 0
    assert "recommended max_tokens   512" in capsys.readouterr().out


def test_params_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--params", "nowhere/fit.json", "--n-in", "100"]) == 1
    assert "saved fit 'nowhere/fit.json' not found" in _err_line(capsys)


def test_params_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"spec": ')
    assert main(["plan", "--params", str(path), "--n-in", "100"]) == 1
    assert "sweetspot plan: error:" in _err_line(capsys)


def test_params_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    # not a file: looked up in the published tables (or a clear error without them)
    assert main(["plan", "--params", "no-such-llm-xyz", "--n-in", "100"]) == 1
    assert _err_line(capsys).startswith("sweetspot plan: error: ")


def test_published_table(capsys: pytest.CaptureFixture[str]) -> None:
    tables = pytest.importorskip("sweetspot.tables")
    res = tables.load_params(model="llama-2-7b")
    assert isinstance(res, ss.FitResult)
    got = plan.recommend_max_tokens(res, [512, 1500], n_max=4096)
    assert got.dtype == np.int64 and np.all((got >= 1) & (got <= 4096))
    code = main(["plan", "--params", "llama-2-7b", "--n-in", "512,1500", "--n-max", "4096"])
    assert code == 0
    assert "recommended max_tokens" in capsys.readouterr().out


# ------------------------------------------------------------------------- workload ---
def test_workload_csv(fit_file: Path, trace_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workload", "--params", str(fit_file), "--trace", str(trace_csv)]) == 0
    out = capsys.readouterr().out
    for key in ("energy per request, mean", "p50", "p99", "total saving", "requests changed"):
        assert key in out
    assert "capping shortens what users receive" in out


def test_workload_json_matches_library(
    fit_file: Path, trace_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["workload", "--params", str(fit_file), "--trace", str(trace_csv), "--json"]
    assert main([*args, "--policy", "both", "--budget-j", "60"]) == 0
    d = json.loads(capsys.readouterr().out)
    mix = pd.read_csv(trace_csv)
    res = ss.FitResult.from_json(str(fit_file))
    sav = plan.policy_savings(res, mix.n_in, mix.n_out, policy="both", budget_j=60.0)
    assert d["policy"] == "both" and d["trace"] == "mix.csv"
    assert d["saving_j"] == pytest.approx(sav.saving_j)
    assert d["fraction_changed"] == pytest.approx(sav.fraction_changed)
    assert d["before"]["p99_j"] == pytest.approx(sav.before.p99_j)
    assert d["n_truncated"] == int(sav.truncated.sum())


def test_workload_plot(
    fit_file: Path, trace_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_png = tmp_path / "w.png"
    args = ["workload", "--params", str(fit_file), "--trace", str(trace_csv)]
    assert main([*args, "--plot", str(out_png)]) == 0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure: {out_png}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "extra", "match"),
    [
        ("a,b\n1,2\n", [], "has no column(s) n_in, n_out"),
        ("n_in,n_out\n", [], "has no requests"),
        ("n_in,n_out\n10,5\n0,4\n", [], "n_in must be a whole number >= 1"),
        ("n_in,n_out\n10,5\n7,x\n", [], "got 'x' in row 1"),
        ("n_in,n_out\n10,5\n", ["--policy", "truncate"], "truncates prompts to a budget"),
        ("n_in,n_out\n10,5\n", ["--budget-j", "5"], "policy='cap'"),
    ],
)
def test_workload_errors(
    fit_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    extra: list[str],
    match: str,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["workload", "--params", str(fit_file), "--trace", str(path), *extra]) == 1
    line = _err_line(capsys)
    assert line.startswith("sweetspot workload: error: ") and match in line


def test_workload_missing_trace(fit_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workload", "--params", str(fit_file), "--trace", "nope.csv"]) == 1
    assert "trace file 'nope.csv' not found" in _err_line(capsys)


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["code", "conv"])
def test_workload_azure(
    azure_dir: Path, fit_file: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    trace = azure_dir / f"AzureLLMInferenceTrace_{name}.csv"
    t0 = time.perf_counter()
    assert main(["workload", "--params", str(fit_file), "--trace", str(trace), "--json"]) == 0
    elapsed = time.perf_counter() - t0
    d = json.loads(capsys.readouterr().out)
    assert d["before"]["n_requests"] == {"code": 8819, "conv": 19366}[name]
    assert d["after"]["total_j"] <= d["before"]["total_j"]
    # the issue asks for < 2 s end to end on the 19k trace; in-process it is far less, and a
    # loose bound keeps slow CI machines from flaking
    assert elapsed < 5.0


# -- --arch: any architecture from the published pooled serving constants ----------------
QWEN3 = str(Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "qwen3-8b.json")


def test_plan_for_a_config_json_of_no_table(capsys: pytest.CaptureFixture[str]) -> None:
    # the command, on a fresh clone (shipped tables and fixture only)
    assert main(["plan", "--arch", QWEN3, "--gpu", "h100-sxm"]) == 0
    out = capsys.readouterr().out
    assert "for qwen3-8b predicted from its architecture alone" in out
    assert out.count("n_in = ") == 7  # the default input lengths 64 .. 4096
    assert "requests in flight" in out and "held-out check" in out
    assert main(["plan", "--arch", QWEN3, "--gpu", "h100-sxm", "--n-in", "1500", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    bound = ss.tables.serving_model(QWEN3)
    assert rec["energy_j"] == pytest.approx(float(bound.predict(1500, rec["n_out"])), rel=1e-12)
    assert rec["batch_size"] == float(bound.batch_sizes(1500, rec["n_out"]))
    assert 64 < rec["n_out_opt"] < 8192 - 1500


def test_plan_arch_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "--arch", QWEN3, "--n-in", "64", "--json"]
    assert main([*args, "--max-batch-size", "64"]) == 0
    small = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    big = json.loads(capsys.readouterr().out)
    assert small["batch_size"] == 64 and big["batch_size"] == 1000
    assert small["energy_per_token_j"] > big["energy_per_token_j"]
    assert main([*args, "--requests", "10"]) == 0
    assert json.loads(capsys.readouterr().out)["batch_size"] == 10
    assert main([*args, "--budget-j", "50"]) == 0
    assert "max_input_tokens" in json.loads(capsys.readouterr().out)


def test_plan_arch_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--n-in", "100"]) == 1
    assert "exactly one of --params" in _err_line(capsys)
    assert main(["plan", "--arch", QWEN3, "--params", "llama-2-7b", "--n-in", "100"]) == 1
    assert "exactly one of --params" in _err_line(capsys)
    assert main(["plan", "--arch", QWEN3, "--gpu", "a100-80gb", "--n-in", "100"]) == 1
    assert "--allow-other-gpu" in _err_line(capsys)
    assert main(["plan", "--arch", "no/such/config.json", "--n-in", "100"]) == 1
    assert "cannot read the config file" in _err_line(capsys)
    assert main(["plan", "--arch", QWEN3, "--gpu", "tpu", "--n-in", "100"]) == 1
    assert "unknown GPU 'tpu'" in _err_line(capsys)


def test_plan_arch_on_another_gpu_warns(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "--arch", QWEN3, "--gpu", "a100-80gb", "--n-in", "100", "--allow-other-gpu"]
    assert main(args) == 0
    cap = capsys.readouterr()
    assert "warning: ExtrapolationWarning: extrapolating to another GPU" in cap.err
    assert "GPU a100-80gb (EXTRAPOLATED: constants fitted on h100-sxm)" in cap.out


def test_workload_for_an_architecture(trace_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workload", "--arch", "llama-3.1-8b", "--trace", str(trace_csv), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["before"]["total_j"] > 0
