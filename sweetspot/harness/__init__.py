"""The measurement harness: energy meters, engines, knobs, sweeps and a resumable store.

``sweetspot measure`` (a command of :mod:`sweetspot.cli`) turns a model into an
(n_in, n_out) energy grid; this package is its library side:

- :mod:`~sweetspot.harness.devices` -- the engine's GPUs (``CUDA_VISIBLE_DEVICES``, UUIDs,
  MIG) resolved to NVML devices: :func:`resolve_gpus`;
- :mod:`~sweetspot.harness.meter` -- :class:`EnergyMeter` protocol, :class:`NvmlMeter` (NVML
  total-energy counter, instant-power timeline), :func:`measure_idle`, :func:`window_quality`;
- :mod:`~sweetspot.harness.engines` -- the engine protocol, the TensorRT-LLM, vLLM and
  Transformers drivers and the deterministic fake engine with its simulated GPUs;
- :mod:`~sweetspot.harness.knobs` -- locked clocks and power limits, always reset;
- :mod:`~sweetspot.harness.sweep` -- :class:`SweepSpec`, :func:`run_sweep`, the local executor;
- :mod:`~sweetspot.harness.store` -- the crash-safe store read by
  :func:`sweetspot.read_measurements`;
- :mod:`~sweetspot.harness.ray_executor` -- :class:`RayExecutor`: the points as Ray tasks.

Optional dependencies (``pynvml``, ``tensorrt_llm``, ``vllm``, ``torch``/``transformers``,
``ray``) are imported lazily; the fake
engine needs none of them. See ``docs/measuring.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:
    from .clock import Clock, RealClock, SimClock
    from .devices import GpuDevice, engine_environment, resolve_gpus
    from .engines import BatchResult, Engine, EngineConfig, RequestTiming
    from .knobs import DeviceControl, Knobs, NvmlControl, apply_knobs, terminate_on_signals
    from .meter import (
        DeviceInfo,
        DeviceState,
        EnergyMeter,
        IdleBaseline,
        NvmlMeter,
        PowerSample,
        Window,
        measure_idle,
        window_quality,
    )
    from .store import MeasurementStore
    from .sweep import (
        Executor,
        LocalExecutor,
        Rig,
        SweepObserver,
        SweepPoint,
        SweepReport,
        SweepSpec,
        build_rig,
        measure_point,
        run_sweep,
        summarize_repeats,
    )

__all__ = [
    "BatchResult",
    "Clock",
    "DeviceControl",
    "DeviceInfo",
    "DeviceState",
    "EnergyMeter",
    "Engine",
    "EngineConfig",
    "Executor",
    "GpuDevice",
    "IdleBaseline",
    "Knobs",
    "LocalExecutor",
    "MeasurementStore",
    "NvmlControl",
    "NvmlMeter",
    "PowerSample",
    "RealClock",
    "RequestTiming",
    "Rig",
    "SimClock",
    "SweepObserver",
    "SweepPoint",
    "SweepReport",
    "SweepSpec",
    "Window",
    "apply_knobs",
    "build_rig",
    "engine_environment",
    "measure_idle",
    "measure_point",
    "resolve_gpus",
    "run_sweep",
    "summarize_repeats",
    "terminate_on_signals",
    "window_quality",
]

# Loaded on first use: the sweep and the store load pandas, and the command's argument parser
# (which reads ENGINES from .engines) must not.
_LAZY = {
    "Clock": ".clock",
    "RealClock": ".clock",
    "SimClock": ".clock",
    "GpuDevice": ".devices",
    "engine_environment": ".devices",
    "resolve_gpus": ".devices",
    "BatchResult": ".engines",
    "Engine": ".engines",
    "EngineConfig": ".engines",
    "RequestTiming": ".engines",
    "DeviceControl": ".knobs",
    "Knobs": ".knobs",
    "NvmlControl": ".knobs",
    "apply_knobs": ".knobs",
    "terminate_on_signals": ".knobs",
    "DeviceInfo": ".meter",
    "DeviceState": ".meter",
    "EnergyMeter": ".meter",
    "IdleBaseline": ".meter",
    "NvmlMeter": ".meter",
    "PowerSample": ".meter",
    "Window": ".meter",
    "measure_idle": ".meter",
    "window_quality": ".meter",
    "MeasurementStore": ".store",
    "Executor": ".sweep",
    "LocalExecutor": ".sweep",
    "Rig": ".sweep",
    "SweepObserver": ".sweep",
    "SweepPoint": ".sweep",
    "SweepReport": ".sweep",
    "SweepSpec": ".sweep",
    "build_rig": ".sweep",
    "measure_point": ".sweep",
    "run_sweep": ".sweep",
    "summarize_repeats": ".sweep",
}


__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
