"""`sweetspot measure`: the Done-when sweep, SIGKILL half way then --resume, one-line errors."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweetspot import read_measurements
from sweetspot.cli import main
from sweetspot.exceptions import SimulatedDataWarning

ROOT = Path(__file__).resolve().parents[2]
DONE_WHEN = [
    "measure",
    "--engine",
    "fake",
    "--model",
    "llama-3.1-8b",
    "--n-in",
    "64,256,1024",
    "--n-out",
    "64,256",
    "--requests",
    "10",
]


def keys(out: Path) -> list[str]:
    return [json.loads(line)["point_key"] for line in (out / "points.jsonl").open()]


def test_done_when_sweep_writes_six_points_that_fit(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main([*DONE_WHEN, "--out", str(out), "--quiet"]) == 0
    stdout = capsys.readouterr().out
    assert "measured 6 point(s), 0 already stored; 6 point(s)" in stdout
    assert "SIMULATED" in stdout
    assert f"sweetspot fit {out}" in stdout
    assert len(set(keys(out))) == 6
    # the six-term model needs 3 n_out levels; models identifiable on this grid fit it
    assert main(["fit", str(out), "--model", "flops", "--arch", "llama-3.1-8b", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["mape"] < 10
    assert "SimulatedDataWarning" in captured.err
    assert main(["fit", str(out), "--model", "linear"]) == 0
    assert main([*DONE_WHEN, "--out", str(out), "--quiet", "--resume"]) == 0
    assert "measured 0 point(s), 6 already stored" in capsys.readouterr().out


def test_repeats_summary_and_store_refusal(tmp_path, capsys) -> None:
    out = tmp_path / "rep"
    args = [
        *DONE_WHEN[:5],
        "--n-in",
        "128",
        "--n-out",
        "64",
        "--repeats",
        "3",
        "--idle-s",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    assert "CV" in capsys.readouterr().out
    assert main(args) == 1
    assert "already holds a measurement store; pass --resume" in capsys.readouterr().err


def test_errors_are_one_line(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    args = ["measure", "--engine", "tensorrt_llm", "--model", "llama-3.1-8b", "--quiet"]
    assert main([*args, "--n-in", "64", "--n-out", "64", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("sweetspot measure: error: measuring GPU energy needs the NVML")
    assert 'pip install "sweetspot[nvml]"' in err[0]
    assert not (tmp_path / "x").exists()  # nothing created before the dependency check
    with pytest.raises(SystemExit):
        main([*args, "--n-in", "6x", "--n-out", "1", "--out", "y"])
    assert "comma-separated list of whole numbers" in capsys.readouterr().err


def test_sigkill_half_way_then_resume_ends_with_exactly_six_points(tmp_path) -> None:
    out = tmp_path / "killed"
    slow = [
        *DONE_WHEN,
        "--out",
        str(out),
        "--quiet",
        "--idle-s",
        "2",
        "--cooldown-s",
        "2",
        "--min-window-s",
        "2",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sweetspot", *slow, "--fake-time-scale", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        points = out / "points.jsonl"
        while time.monotonic() < deadline:
            if points.exists() and points.read_bytes().count(b"\n") >= 2:
                break
            if proc.poll() is not None:
                pytest.fail(f"measure ended early: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = keys(out)
    assert 2 <= len(done_before) < 6
    with pytest.warns(SimulatedDataWarning):
        assert len(read_measurements(out)) == len(done_before)  # a killed store reads fine
    rerun = subprocess.run(
        [sys.executable, "-m", "sweetspot", *slow, "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(done_before)} already stored" in rerun.stdout
    final = keys(out)
    assert len(final) == 6 and len(set(final)) == 6
    assert final[: len(done_before)] == done_before


FAST = ["--idle-s", "1", "--cooldown-s", "1", "--min-window-s", "1", "--quiet"]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--seed", "-1"], r"seed must be a non-negative integer"),
        (["--n-in", "1000000000"], r"n_in must be at most 10,000,000"),
        (["--requests", "10000000"], r"requests must be at most 100,000"),
        (["--idle-s", "1e9"], r"idle_s must be at most 3,600 s"),
        (["--min-window-s", "1e9"], r"min_window_s must be at most 600 s"),
        (["--power-limit-w", "inf"], r"power_limit_w values must be positive watts"),
        (["--gpus", "1000000000"], r"gpus must be at most 1,023"),
        (["--max-num-tokens", "-3"], r"max_num_tokens must be a positive integer"),
        (["--model", "llama-2-70b"], r"Use a larger --tp"),
        (["--power-limit-w", "100"], r"outside the range"),
    ],
)
def test_rejected_arguments_leave_no_store(tmp_path, capsys, extra, match) -> None:
    out = tmp_path / "run"
    args = [*DONE_WHEN[:5], "--n-in", "64", "--n-out", "64", *FAST, "--out", str(out)]
    assert main([*args, *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sweetspot measure: error: "), err
    assert re.search(match, err[0]), err[0]
    assert not out.exists()
    # the corrected command is not blocked by a half-made store
    assert main(args) == 0
    assert len(keys(out)) == 1


def test_close_power_limits_are_two_points(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    args = [*DONE_WHEN[:5], "--n-in", "64", "--n-out", "64", *FAST, "--out", str(out)]
    assert main([*args, "--power-limit-w", "300.0001,300.0002"]) == 0
    assert "measured 2 point(s)" in capsys.readouterr().out
    assert len(set(keys(out))) == 2


def test_a_chain_of_kills_then_resume_loses_and_duplicates_nothing(tmp_path) -> None:
    # kill -9 as soon as each run has stored one more point, three times, then finish
    out = tmp_path / "chain"
    slow = [
        *DONE_WHEN[:5],
        "--n-in",
        "64,256",
        "--n-out",
        "64,256",
        "--out",
        str(out),
        "--quiet",
        "--idle-s",
        "1",
        "--cooldown-s",
        "2",
        "--min-window-s",
        "2",
        "--fake-time-scale",
        "0.05",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    points = out / "points.jsonl"
    history: list[list[str]] = []
    for run in range(3):
        before = len(keys(out)) if points.exists() else 0
        command = [sys.executable, "-m", "sweetspot", *slow, *(["--resume"] if run else [])]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if points.exists() and points.read_bytes().count(b"\n") > before:
                    break
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        history.append(keys(out))
    done = keys(out)
    assert len(done) == len(set(done)) >= 3
    for earlier, later in itertools.pairwise(history):
        assert later[: len(earlier)] == earlier  # a completed point is never lost
    rerun = subprocess.run(
        [sys.executable, "-m", "sweetspot", *slow, "--resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    final = keys(out)
    assert len(final) == 4 and len(set(final)) == 4 and final[: len(done)] == done


def test_measure_engine_flags(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    base = [*DONE_WHEN[:5], "--n-in", "64", "--n-out", "64", *FAST]
    assert main([*base, "--out", str(out), "--no-prefill-window"]) == 0
    row = json.loads((out / "points.jsonl").read_text().splitlines()[0])
    assert "prefill_energy_j" not in row and "quality_flags" in row
    capsys.readouterr()
    for extra, match in (
        (["--gpus", "GPU-8f2a"], r"fake engine takes indices only"),
        (["--trtllm-backend", "tensorrt"], r"backend for the fake engine must be None"),
    ):
        assert main([*base, "--out", str(tmp_path / "x"), *extra]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and re.search(match, err[0]), err
    with pytest.raises(SystemExit):
        main([*base, "--out", str(tmp_path / "y"), "--gpus", "first"])
    assert "GPU indices or GPU-/MIG- UUIDs" in capsys.readouterr().err
