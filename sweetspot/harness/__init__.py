"""The measurement harness: energy meters, engines, knobs, sweeps and a resumable store.

``sweetspot measure`` (a command of :mod:`sweetspot.cli`) turns a model into an
(n_in, n_out) energy grid; this package is its library side:

- :mod:`~sweetspot.harness.meter` -- :class:`EnergyMeter` protocol, :class:`NvmlMeter` (NVML
  total-energy counter, instant-power timeline), :func:`measure_idle`;
- :mod:`~sweetspot.harness.engines` -- the engine protocol, the TensorRT-LLM driver and the
  deterministic fake engine with its simulated GPUs;
- :mod:`~sweetspot.harness.knobs` -- locked clocks and power limits, always reset;
- :mod:`~sweetspot.harness.sweep` -- :class:`SweepSpec`, :func:`run_sweep`, the local executor;
- :mod:`~sweetspot.harness.store` -- the crash-safe store read by
  :func:`sweetspot.read_measurements`;
- :mod:`~sweetspot.harness.ray_executor` -- :class:`RayExecutor`: the points as Ray tasks.

Optional dependencies (``pynvml``, ``tensorrt_llm``, ``ray``) are imported lazily; the fake
engine needs none of them. See ``docs/measuring.md``.
"""

from __future__ import annotations

from .clock import Clock, RealClock, SimClock
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
    "measure_idle",
    "measure_point",
    "run_sweep",
    "summarize_repeats",
    "terminate_on_signals",
]
