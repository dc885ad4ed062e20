"""`--executor ray` on a local Ray instance with fake GPU resources gives the same points."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import FAST

from sweetspot.exceptions import DependencyError
from sweetspot.harness.ray_executor import RayExecutor
from sweetspot.harness.sweep import SweepSpec, run_sweep

GRID = {"model": "llama-3.1-8b", "engine": "fake", "n_in": (64, 256, 1024), "n_out": (64, 256)}


def rows(path) -> dict[str, dict]:
    return {r["point_key"]: r for r in map(json.loads, open(path / "points.jsonl"))}


def test_ray_executor_gives_the_same_six_points(tmp_path) -> None:
    pytest.importorskip("ray")
    spec = SweepSpec(**GRID, **FAST)
    run_sweep(spec, tmp_path / "local")
    report = run_sweep(spec, tmp_path / "ray", executor=RayExecutor(num_gpus=2))
    assert (report.measured, report.total) == (6, 6)
    local, remote = rows(tmp_path / "local"), rows(tmp_path / "ray")
    assert local.keys() == remote.keys()
    for key, row in local.items():
        for column in ("energy_j", "time_s", "n_requests", "idle_power_w", "ttft_p50_s"):
            assert remote[key][column] == row[column], (key, column)
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["runs"][0]["executor"] == "ray"
    assert manifest["rigs"]  # each worker's engine load and idle baseline are recorded
    again = run_sweep(spec, tmp_path / "ray", executor=RayExecutor(num_gpus=2), resume=True)
    assert (again.measured, again.skipped) == (0, 6)


def test_missing_ray_is_a_dependency_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(DependencyError, match=r"sweetspot\[ray\]"):
        run_sweep(SweepSpec(**GRID, **FAST), tmp_path / "s", executor=RayExecutor())
    assert not (tmp_path / "s").exists()
