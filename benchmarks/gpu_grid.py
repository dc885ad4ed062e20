"""Measure a real energy grid on one NVIDIA GPU with the Transformers engine, no downloads.

Models with **random weights** are built from sweetspot's architecture presets (Llama-3.2-1B
and Qwen2-1.5B shapes by default): to first order the energy of a forward pass does not
depend on the weight values, so no weights are needed. The script

1. checks the GPU identity mapping: the GPU the meter resolves from CUDA_VISIBLE_DEVICES (by
   UUID, through NVML) must be the one PyTorch runs on (``torch.cuda.get_device_properties``);
2. measures the update period of the NVML energy counter;
3. sweeps n_in x n_out (64..4096) x batch (1 and a batch of concurrent requests) for each
   model, with the prefill window, into one store under ``--out``;
4. fits the store per model with ``sweetspot fit`` and evaluates it with
   ``sweetspot evaluate`` (the store is what those commands read).

It finishes in at most ``--budget-s`` seconds (480 by default; ``--quick``: a 1-minute smoke
run on one model and a small grid); a sweep stopped by the budget keeps its points, and
``--resume`` continues it.

Usage (on a machine with an NVIDIA GPU, PyTorch, Transformers and nvidia-ml-py)::

    python benchmarks/gpu_grid.py --out data/measured/gpu_grid
    python benchmarks/gpu_grid.py --quick --out /tmp/smoke

``--allow-cpu`` runs the same path where PyTorch sees no GPU (tests use it with fake NVML);
its numbers are not GPU measurements.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

FULL = {
    "models": ("llama-3.2-1b", "qwen2-1.5b"),
    "n_in": (64, 512, 4096),
    "n_out": (64, 128, 256),
    "requests": (1, 16),
    "min_window_s": 1.0,
    "cooldown_s": 0.5,
    "idle_s": 3.0,
    "budget_s": 480.0,
}
QUICK = {
    "models": ("llama-3.2-1b",),
    "n_in": (64, 256, 512),
    "n_out": (32, 64, 96),
    "requests": (1, 8),
    "min_window_s": 0.5,
    "cooldown_s": 0.2,
    "idle_s": 1.0,
    "budget_s": 60.0,
}


class BudgetExceeded(Exception):
    """The time budget ran out; the points measured so far are stored."""


class _Progress:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = 0

    def started(self, pending: int, done: int) -> None:
        print(f"  {pending} point(s) to measure, {done} already stored", flush=True)

    def point_done(self, point: Any, row: Any) -> None:
        self.done += 1
        flags = row.get("quality_flags") or "ok"
        print(
            f"  n_in={point.n_in:5d} n_out={point.n_out:5d} batch={point.n_requests:3d}: "
            f"{row['energy_per_request_j']:.4g} J/request, prefill "
            f"{row.get('prefill_energy_per_request_j', math.nan):.4g} J, "
            f"{row['avg_power_w']:.0f} W [{flags}]",
            flush=True,
        )
        if time.monotonic() > self.deadline:
            raise BudgetExceeded

    def message(self, text: str) -> None:
        print(f"  {text}", flush=True)


def check_identity(allow_cpu: bool) -> dict[str, Any]:
    """The metered GPU (NVML, by UUID) and the GPU PyTorch uses must be the same."""
    import torch

    from sweetspot.harness.meter import NvmlMeter

    with NvmlMeter(n_gpus=1, sample_interval_s=0.0) as meter:
        device = meter.devices[0]
        period = meter.counter_update_period_s(2.0)
        system = meter.system_info()
    cuda_uuid = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        raw = str(getattr(props, "uuid", ""))
        cuda_uuid = raw if raw.upper().startswith(("GPU-", "MIG-")) else f"GPU-{raw}"
        same = cuda_uuid.lower() == (device.mig_uuid or device.uuid).lower()
        print(
            f"GPU identity: NVML {device.uuid} ({device.name}), CUDA {cuda_uuid}: "
            f"{'same GPU' if same else 'MISMATCH'}"
        )
        if not same:
            raise SystemExit("the metered GPU is not the one PyTorch uses; set CUDA_DEVICE_ORDER")
    elif not allow_cpu:
        raise SystemExit("PyTorch sees no CUDA GPU; run on a GPU machine (or --allow-cpu)")
    else:
        print(f"GPU identity: NVML {device.uuid}; PyTorch runs on the CPU (--allow-cpu)")
    print(f"energy counter update period: {period * 1000:.1f} ms")
    return {
        "nvml_uuid": device.uuid,
        "cuda_uuid": cuda_uuid,
        "gpu": device.name,
        "pci_bus_id": device.pci_bus_id,
        "counter_update_s": period,
        **system,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="store directory (created)")
    parser.add_argument("--quick", action="store_true", help="a 1-minute smoke run")
    parser.add_argument("--models", default=None, help="presets, comma-separated")
    parser.add_argument("--budget-s", type=float, default=None, help="time budget [s]")
    parser.add_argument("--resume", action="store_true", help="continue an existing store")
    parser.add_argument("--allow-cpu", action="store_true", help="run where no GPU is seen")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    if args.models:
        plan["models"] = tuple(m.strip() for m in args.models.split(",") if m.strip())
    budget = float(args.budget_s or plan["budget_s"])
    t_start = time.monotonic()
    deadline = t_start + budget

    import torch
    import transformers

    from sweetspot.harness.sweep import SweepSpec, run_sweep

    identity = check_identity(args.allow_cpu)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stored: list[str] = []
    stopped = False
    for model in plan["models"]:
        store = out / model
        print(f"{model}: sweeping into {store}", flush=True)
        spec = SweepSpec(
            model=model,
            engine="transformers",
            n_in=plan["n_in"],
            n_out=plan["n_out"],
            requests=plan["requests"],
            warmup=1,
            cooldown_s=plan["cooldown_s"],
            min_window_s=plan["min_window_s"],
            idle_s=plan["idle_s"],
            seed=args.seed,
            sample_interval_s=0.02,
        )
        resume = args.resume or (store / "manifest.json").exists()
        try:
            run_sweep(spec, store, resume=resume, observer=_Progress(deadline))
        except BudgetExceeded:
            print(f"  time budget of {budget:.0f} s reached: rerun with --resume to finish")
            stopped = True
        if (store / "points.jsonl").exists():
            stored.append(str(store))
        if stopped:
            break
    provenance = {
        "script": "benchmarks/gpu_grid.py",
        "measured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "plan": {k: list(v) if isinstance(v, tuple) else v for k, v in plan.items()},
        "complete": not stopped,
        "wall_s": round(time.monotonic() - t_start, 1),
        **identity,
    }
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    from sweetspot.cli import main as sweetspot

    for store in stored:
        print(f"sweetspot fit {store}", flush=True)
        sweetspot(["fit", store])
        print(f"sweetspot evaluate {store}", flush=True)
        sweetspot(["evaluate", store, "--k", "3"])
    print(f"done in {time.monotonic() - t_start:.0f} s; stores: {', '.join(stored)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
