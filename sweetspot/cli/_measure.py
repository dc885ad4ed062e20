"""Sub-command ``measure`` of the ``sweetspot`` command (the harness, :mod:`sweetspot.harness`).

Example (no GPU needed; the numbers are simulated)::

    sweetspot measure --engine fake --model llama-3.1-8b --n-in 64,256,1024 --n-out 64,256 \\
        --requests 10 --out runs/fake
    sweetspot fit runs/fake
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from ..harness.engines import ENGINES
from ._args import EXECUTOR_CHOICES, float_list, int_list

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``measure`` to the ``sweetspot`` command."""
    p = subparsers.add_parser(
        "measure",
        help="measure an (n_in, n_out) energy grid on GPUs (or simulate one with --engine fake)",
        description="Measure the energy of exact-length requests over a grid of input and "
        "output lengths and knobs, appending each completed point to a crash-safe store "
        "(rerun with --resume after an interruption). `sweetspot fit OUT` fits the result. "
        "See docs/measuring.md.",
    )
    p.add_argument(
        "--model",
        required=True,
        help="architecture preset or Hugging Face id (e.g. llama-3.1-8b); the real engine "
        "loads it unless --model-path is given",
    )
    p.add_argument(
        "--engine",
        choices=list(ENGINES),
        default="tensorrt_llm",
        help="inference engine (default tensorrt_llm): tensorrt_llm, vllm (a process per "
        "engine configuration), transformers (random weights from a preset or a config.json "
        "when no weights are at hand); 'fake' simulates a GPU, no GPU needed",
    )
    p.add_argument(
        "--trtllm-backend",
        choices=["pytorch", "tensorrt"],
        default=None,
        help="TensorRT-LLM backend: pytorch (tensorrt_llm.LLM: HF ids and checkpoints) or "
        "tensorrt (a prebuilt engine directory); default: tensorrt for an engine directory "
        "given as --model-path, else pytorch",
    )
    p.add_argument("--n-in", type=int_list, required=True, help="input lengths, e.g. 64,256")
    p.add_argument("--n-out", type=int_list, required=True, help="output lengths, e.g. 64,256")
    p.add_argument(
        "--requests",
        type=int_list,
        default=[10],
        help="requests per batch, submitted together (default 10)",
    )
    p.add_argument("--max-batch-size", type=int_list, default=None, help="engine max batch sizes")
    p.add_argument(
        "--gpu-clock-mhz",
        type=int_list,
        default=None,
        help="locked graphics clocks [MHz] (needs root; valid values are read from the GPU)",
    )
    p.add_argument(
        "--power-limit-w",
        type=float_list,
        default=None,
        help="power limits [W] (needs root; the valid range is read from the GPU)",
    )
    p.add_argument("--tp", type=int_list, default=[1], help="tensor-parallel sizes (default 1)")
    p.add_argument(
        "--repeats", type=int, default=1, help="repeats of every grid cell (3-10 recommended)"
    )
    p.add_argument(
        "--warmup", type=int, default=1, help="warm-up batches before each window (default 1)"
    )
    p.add_argument(
        "--cooldown-s", type=float, default=5.0, help="idle seconds before each point (default 5)"
    )
    p.add_argument(
        "--min-window-s",
        type=float,
        default=5.0,
        help="minimum length of a measurement window [s] (default 5)",
    )
    p.add_argument(
        "--idle-s",
        type=float,
        default=30.0,
        help="length of the idle-baseline window after each model load [s] (default 30)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of order, prompts and noise")
    p.add_argument("--out", required=True, help="store directory (created if missing)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the store in --out: completed points are skipped, none is repeated",
    )
    p.add_argument(
        "--executor",
        choices=list(EXECUTOR_CHOICES),
        default="local",
        help="run points in this process, or as Ray tasks with --tp GPUs each",
    )
    p.add_argument(
        "--gpus",
        type=_gpu_list,
        default=None,
        help="the engine's GPUs for the local executor, as CUDA sees them: indices among the "
        "devices visible to this process (CUDA_VISIBLE_DEVICES) or GPU-/MIG- UUIDs from "
        "`nvidia-smi -L`, e.g. 0,1 (default: the first --tp visible GPUs); the meter and the "
        "knobs act on exactly these GPUs",
    )
    p.add_argument(
        "--no-prefill-window",
        action="store_true",
        help="skip the window of each point's batches cut at their first token (prefill "
        "energy; decode energy is the difference)",
    )
    p.add_argument("--model-path", default=None, help="local checkpoint or engine directory")
    p.add_argument(
        "--max-num-tokens", type=int, default=None, help="engine token budget per iteration"
    )
    p.add_argument("--dtype", default="auto", help="weight dtype passed to the engine")
    p.add_argument(
        "--sample-interval-s",
        type=float,
        default=0.02,
        help="period of the instant-power timeline [s] (default 0.02)",
    )
    p.add_argument("--ray-address", default=None, help="existing Ray cluster (e.g. auto)")
    p.add_argument(
        "--ray-num-gpus",
        type=int,
        default=None,
        help="GPUs to declare to a local Ray instance (fake engine: defaults to max --tp)",
    )
    p.add_argument(
        "--fake-time-scale",
        type=float,
        default=0.0,
        help="fake engine: wall seconds per simulated second (default 0, as fast as possible)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_measure)


def _gpu_list(text: str) -> list[int | str]:
    """``0,1`` or ``GPU-8f2a...,MIG-...``: indices as int, UUIDs as text."""
    out: list[int | str] = []
    for part in text.split(","):
        item = part.strip()
        if item.isdigit():
            out.append(int(item))
        elif item.upper().startswith(("GPU-", "MIG-")):
            out.append(item)
        else:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of GPU indices or GPU-/MIG- UUIDs; got {text!r}."
            )
    if not out:
        raise argparse.ArgumentTypeError("expected at least one GPU.")
    return out


class _RichObserver:
    """Progress bar with ETA and messages on stderr (rich)."""

    def __init__(self, quiet: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True, quiet=quiet)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
            disable=quiet,
        )
        self.task: Any = None

    def __enter__(self) -> _RichObserver:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def started(self, pending: int, done: int) -> None:
        if done:
            self.console.print(f"resuming: {done} point(s) already stored, {pending} to measure")
        self.task = self.progress.add_task("measuring", total=pending)

    def point_done(self, point: Any, row: Mapping[str, Any]) -> None:
        label = (
            f"n_in={point.n_in} n_out={point.n_out}: "
            f"{row['energy_per_request_j']:.3g} J/request, {row['avg_power_w']:.0f} W"
        )
        if row.get("simulated"):
            label += " (simulated)"
        self.progress.update(self.task, advance=1, description=label)

    def message(self, text: str) -> None:
        self.console.print(text)


def _cmd_measure(args: argparse.Namespace) -> int:
    from ..harness.ray_executor import RayExecutor
    from ..harness.sweep import Executor, LocalExecutor, SweepSpec, run_sweep

    spec = SweepSpec(
        model=args.model,
        engine=args.engine,
        n_in=tuple(args.n_in),
        n_out=tuple(args.n_out),
        requests=tuple(args.requests),
        max_batch_size=tuple(args.max_batch_size) if args.max_batch_size else (None,),
        gpu_clock_mhz=tuple(args.gpu_clock_mhz) if args.gpu_clock_mhz else (None,),
        power_limit_w=tuple(args.power_limit_w) if args.power_limit_w else (None,),
        tp=tuple(args.tp),
        repeats=args.repeats,
        warmup=args.warmup,
        cooldown_s=args.cooldown_s,
        min_window_s=args.min_window_s,
        idle_s=args.idle_s,
        seed=args.seed,
        model_path=args.model_path,
        max_num_tokens=args.max_num_tokens,
        dtype=args.dtype,
        backend=args.trtllm_backend,
        gpus=tuple(args.gpus) if args.gpus else None,
        sample_interval_s=args.sample_interval_s,
        fake_time_scale=args.fake_time_scale,
        prefill_window=not args.no_prefill_window,
    )
    executor: Executor = (
        RayExecutor(address=args.ray_address, num_gpus=args.ray_num_gpus)
        if args.executor == "ray"
        else LocalExecutor()
    )
    with _RichObserver(args.quiet) as observer:
        report = run_sweep(spec, args.out, resume=args.resume, executor=executor, observer=observer)
    out = sys.stdout
    print(
        f"measured {report.measured} point(s), {report.skipped} already stored; "
        f"{report.total} point(s) in {report.path}",
        file=out,
    )
    if report.simulated:
        print(
            "note: these numbers are SIMULATED by the fake engine, not measured on a GPU",
            file=out,
        )
    if args.repeats > 1 and report.total:
        _print_repeats(str(report.path))
    print(f"fit them with: sweetspot fit {report.path}", file=out)
    return 0


def _print_repeats(path: str) -> None:
    import warnings

    from ..harness.sweep import summarize_repeats
    from ..io import read_measurements

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = summarize_repeats(read_measurements(path))
    print("energy per request over the repeats (mean, std, CV):")
    for rec in summary.to_dict("records"):
        print(
            f"  n_in={rec['n_in']:>6} n_out={rec['n_out']:>6}  {rec['energy_per_request_j']:.4g} J"
            f" +- {rec['std_j']:.2g} J  CV {rec['cv_pct']:.2f} %  ({rec['repeats']} repeats)"
        )
