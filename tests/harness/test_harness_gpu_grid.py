"""benchmarks/gpu_grid.py on the fakes (fake NVML, fake PyTorch and Transformers): the GPU
path itself runs only where a GPU is (docs/measuring.md)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from fakes import torch as fake_torch
from fakes import transformers as fake_transformers

from sweetspot import read_measurements

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_grid.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_grid", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_gpu_grid_quick_run_on_the_fakes(fake_nvml, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setitem(sys.modules, "transformers", fake_transformers)
    fake_torch.cuda.available = False
    grid = _load()
    out = tmp_path / "grid"
    assert grid.main(["--quick", "--allow-cpu", "--budget-s", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "GPU identity: NVML GPU-fake-0000" in printed
    assert "energy counter update period: 100" in printed or "update period" in printed
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["nvml_uuid"].startswith("GPU-fake")
    assert 0.05 < provenance["counter_update_s"] < 0.2
    assert provenance["complete"] is False  # the 4 s budget stopped it
    data = read_measurements(out / "llama-3.2-1b")
    assert len(data) >= 1 and (data["engine"] == "transformers").all()
    assert "sweetspot fit" in printed and "sweetspot evaluate" in printed
