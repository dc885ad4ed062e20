"""Energy sweeps over (n_in, n_out) and the knobs, into a crash-safe store.

A :class:`SweepSpec` describes the cartesian grid (input and output lengths, requests per
batch, max batch size, locked GPU clock, power limit, tensor parallelism, repeats) and the
method (warm-up runs, minimum window length, cooldown, idle-baseline length, seed). Each grid
cell and repeat is a :class:`SweepPoint`; :func:`run_sweep` measures the points that are not
yet in the store and appends each one as soon as it completes.

How one point is measured (:func:`measure_point`)
-------------------------------------------------
1. cooldown (``cooldown_s``) at the default knobs, so points start from similar temperatures;
2. knobs set (:func:`~sweetspot.harness.knobs.apply_knobs`), always reset afterwards;
3. ``warmup`` runs of the batch, outside the window;
4. a window: the batch of ``n_requests`` requests is run again and again until the window
   has lasted ``min_window_s`` (several seconds: the NVML counter updates every ~100 ms and
   the power sensor observes only part of the time); the row's ``n_requests`` is the total
   run inside the window;
5. device state read (temperature, clocks, throttle reasons).

Each point is stored under :attr:`SweepPoint.key`, which writes every knob exactly, so two
distinct points never share a key; a resume refuses a store holding points the grid does not
have. Every size of a sweep is bounded (:data:`SWEEP_LIMITS`, ``docs/inputs.md``).

The grid is shuffled with the seed so that thermal drift does not line up with an axis;
points sharing an engine configuration (``tp``, ``max_batch_size``) are kept together so the
model is loaded once per configuration, followed by an idle-baseline window.

The row of a point has the schema columns of DESIGN.md section 5 and the extra columns listed
in ``docs/measuring.md``; its ``energy_j`` is the raw energy of the window (the idle baseline
is in ``idle_power_w`` and ``idle_energy_j`` beside it, never subtracted).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import itertools
import json
import math
import os
import platform
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..exceptions import ArchitectureError, MeasurementError, SpecError, StoreError
from ..io import MAX_TOKENS
from .clock import Clock, RealClock
from .engines import ENGINE_BACKENDS, ENGINES, Engine, EngineConfig, check_tp
from .knobs import DeviceControl, Knobs, apply_knobs, terminate_on_signals
from .meter import EnergyMeter, IdleBaseline, Window, measure_idle, window_quality
from .store import MANIFEST, MeasurementStore

__all__ = [
    "SWEEP_LIMITS",
    "Executor",
    "LocalExecutor",
    "Rig",
    "SweepObserver",
    "SweepPoint",
    "SweepReport",
    "SweepSpec",
    "build_rig",
    "engine_gpus",
    "measure_point",
    "run_sweep",
    "summarize_repeats",
]


# Fields of SweepSpec that define the experiment: a store may only be resumed by a sweep with
# the same values (the others -- executor, devices, speed of the simulation -- may change).
_IDENTITY_FIELDS = (
    "model",
    "engine",
    "n_in",
    "n_out",
    "requests",
    "max_batch_size",
    "gpu_clock_mhz",
    "power_limit_w",
    "tp",
    "repeats",
    "warmup",
    "cooldown_s",
    "min_window_s",
    "idle_s",
    "seed",
    "model_path",
    "max_num_tokens",
    "dtype",
    "backend",
)


SWEEP_LIMITS: Mapping[str, float] = MappingProxyType(
    {
        "n_in": MAX_TOKENS,
        "n_out": MAX_TOKENS,
        "requests": 100_000,
        "max_batch_size": 1_000_000,
        "max_num_tokens": 100_000_000,
        "gpu_clock_mhz": 10_000,
        "power_limit_w": 10_000.0,
        "tp": 1024,
        "gpus": 1023,
        "repeats": 1000,
        "warmup": 1000,
        "cooldown_s": 3600.0,
        "min_window_s": 600.0,
        "idle_s": 3600.0,
        "sample_interval_s": 60.0,
        "fake_time_scale": 10.0,
        "seed": 2**63 - 1,
        "points": 100_000,
    }
)
"""Upper bounds of a :class:`SweepSpec` (inclusive; ``points`` is the number of grid points
times repeats). Lengths share :data:`sweetspot.io.MAX_TOKENS` with the readers; times are in
seconds. A value above its bound raises :class:`~sweetspot.exceptions.SpecError` before
anything is created or measured (see ``docs/inputs.md``)."""


def _real(value: Any) -> float | None:
    """``value`` as a finite float, or None (text, booleans, NaN, inf, 10**400, ...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _too_large(name: str, value: Any, what: str) -> SpecError:
    limit = SWEEP_LIMITS[name]
    bound = f"{int(limit):,}" if float(limit).is_integer() else f"{limit:,g}"
    return SpecError(
        f"{name} must be at most {bound}{what}; got {value!r}. sweetspot bounds every size "
        "of a sweep so that it ends in a known time and memory (SWEEP_LIMITS, docs/inputs.md); "
        "lower the value, or split the sweep."
    )


def _positive_ints(name: str, values: Sequence[Any], *, allow_none: bool = False) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise SpecError(f"{name} must be a non-empty sequence; got {values!r}.")
    out: list[Any] = []
    for v in values:
        if v is None and allow_none:
            out.append(None)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < 1:
            raise SpecError(f"{name} values must be positive integers; got {v!r} in {values!r}.")
        if int(v) > SWEEP_LIMITS[name]:
            raise _too_large(name, int(v), "")
        out.append(int(v))
    if len(set(out)) != len(out):
        raise SpecError(f"{name} lists a value twice: {values!r}. List each value once.")
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepSpec:
    """A measurement sweep: the grid and the method.

    Attributes
    ----------
    model : str
        Architecture preset or Hugging Face id (``"llama-3.1-8b"``); for ``tensorrt_llm`` it
        is also what ``LLM(model=...)`` loads unless ``model_path`` is given.
    engine : {"fake", "tensorrt_llm", "vllm", "transformers"}
        Inference engine. ``"fake"`` simulates (rows are labelled ``simulated``).
    n_in, n_out : tuple of int
        Prompt and output lengths [tokens].
    requests : tuple of int
        Requests per batch (submitted together, ``min(requests, max_batch_size)`` in flight).
    max_batch_size : tuple of int or None
        Engine batch limits (None: the engine default).
    gpu_clock_mhz : tuple of int or None
        Locked graphics clocks [MHz] (None: default boost).
    power_limit_w : tuple of float or None
        Power limits [W] (None: the current limit).
    tp : tuple of int
        Tensor-parallel sizes.
    repeats : int
        Repeats of every grid cell (separate points, ``repeat = 0 .. repeats - 1``).
    warmup : int
        Runs of the batch before each window (outside it).
    cooldown_s : float
        Idle time before each point [s].
    min_window_s : float
        Minimum length of a measurement window [s].
    idle_s : float
        Length of the idle-baseline window after each model load [s].
    seed : int
        Seed of the grid order, of the prompts and of the simulation noise.
    model_path : str or None
        Local checkpoint / engine directory for the real engine.
    max_num_tokens : int or None
        Engine token budget per iteration (None: engine default).
    dtype : str
        Weight dtype passed to the engine (``"auto"``).
    backend : str or None
        Engine backend: for ``tensorrt_llm``, ``"pytorch"`` (``tensorrt_llm.LLM``) or
        ``"tensorrt"`` (a prebuilt engine directory); None: chosen from ``model_path``.
    gpus : tuple of int or str, or None
        The GPUs the local executor runs the engine on, as CUDA sees them: positions among
        the devices visible to this process (``CUDA_VISIBLE_DEVICES``), or GPU / MIG UUIDs;
        default the first ``tp`` visible devices. They are resolved to NVML by UUID, so the
        meter and the knobs act on exactly those GPUs. (Fake engine: simulated indices.)
    prefill_window : bool
        Also measure each point's batches cut at their first token (``n_out = 1``) in a
        window of their own: the prefill energy, and by difference the decode energy.
    sample_interval_s : float
        Period of the instant-power timeline [s].
    fake_time_scale : float
        Wall seconds per simulated second of the fake engine (0: as fast as possible).

    Raises
    ------
    SpecError
        For an unknown engine, empty or non-positive grids, duplicated values, negative
        times, a negative seed, or any size above its bound in :data:`SWEEP_LIMITS` (lengths
        up to :data:`sweetspot.io.MAX_TOKENS`, requests, windows, GPUs, grid points).
    """

    model: str
    engine: str = "fake"
    n_in: tuple[int, ...]
    n_out: tuple[int, ...]
    requests: tuple[int, ...] = (10,)
    max_batch_size: tuple[int | None, ...] = (None,)
    gpu_clock_mhz: tuple[int | None, ...] = (None,)
    power_limit_w: tuple[float | None, ...] = (None,)
    tp: tuple[int, ...] = (1,)
    repeats: int = 1
    warmup: int = 1
    cooldown_s: float = 5.0
    min_window_s: float = 5.0
    idle_s: float = 30.0
    seed: int = 0
    model_path: str | None = None
    max_num_tokens: int | None = None
    dtype: str = "auto"
    backend: str | None = None
    gpus: tuple[int | str, ...] | None = None
    sample_interval_s: float = 0.02
    fake_time_scale: float = 0.0
    prefill_window: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise SpecError(f"model must be a non-empty string; got {self.model!r}.")
        if self.engine not in ENGINES:
            raise SpecError(
                f"engine must be one of {', '.join(repr(e) for e in ENGINES)}; got {self.engine!r}."
            )
        for name in ("n_in", "n_out", "requests", "tp"):
            object.__setattr__(self, name, _positive_ints(name, getattr(self, name)))
        for name in ("max_batch_size", "gpu_clock_mhz"):
            values = _positive_ints(name, getattr(self, name), allow_none=True)
            object.__setattr__(self, name, values)
        limits = self.power_limit_w
        if isinstance(limits, (str, bytes)) or not isinstance(limits, Sequence) or not limits:
            raise SpecError(f"power_limit_w must be a non-empty sequence; got {limits!r}.")
        clean: list[float | None] = []
        for v in limits:
            if v is not None and not (_real(v) or 0.0) > 0:
                raise SpecError(f"power_limit_w values must be positive watts; got {v!r}.")
            if v is not None and v > SWEEP_LIMITS["power_limit_w"]:
                raise _too_large("power_limit_w", v, " W")
            clean.append(None if v is None else float(v))
        if len(set(clean)) != len(clean):
            raise SpecError(f"power_limit_w lists a value twice: {limits!r}.")
        object.__setattr__(self, "power_limit_w", tuple(clean))
        for name in ("repeats",):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SpecError(f"{name} must be a positive integer; got {v!r}.")
            if v > SWEEP_LIMITS[name]:
                raise _too_large(name, v, "")
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise SpecError(f"warmup must be a non-negative integer; got {self.warmup!r}.")
        if self.warmup > SWEEP_LIMITS["warmup"]:
            raise _too_large("warmup", self.warmup, "")
        for name in ("cooldown_s", "sample_interval_s", "fake_time_scale"):
            v = getattr(self, name)
            if _real(v) is None or v < 0:
                raise SpecError(f"{name} must be a finite number >= 0; got {v!r}.")
            if v > SWEEP_LIMITS[name]:
                raise _too_large(name, v, " s" if name.endswith("_s") else "")
        if 0 < self.sample_interval_s < 0.001:
            raise SpecError(
                f"sample_interval_s must be 0 (no power timeline) or at least 0.001 s; got "
                f"{self.sample_interval_s!r} (NVML updates power every few milliseconds)."
            )
        for name in ("min_window_s", "idle_s"):
            v = getattr(self, name)
            if _real(v) is None or v <= 0:
                raise SpecError(f"{name} must be a positive number of seconds; got {v!r}.")
            if v > SWEEP_LIMITS[name]:
                raise _too_large(name, v, " s")
        if self.max_num_tokens is not None:
            v = self.max_num_tokens
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise SpecError(f"max_num_tokens must be a positive integer or None; got {v!r}.")
            if v > SWEEP_LIMITS["max_num_tokens"]:
                raise _too_large("max_num_tokens", v, " tokens")
        for name in ("model_path", "dtype"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, str):
                raise SpecError(f"{name} must be a string; got {type(v).__name__} {v!r}.")
        if self.backend is not None:
            allowed = tuple(ENGINE_BACKENDS.get(self.engine, {}))
            if self.backend not in allowed:
                choice = (
                    f"one of {', '.join(repr(a) for a in allowed)}"
                    if allowed
                    else "None (this engine has no backend choice)"
                )
                raise SpecError(
                    f"backend for the {self.engine} engine must be {choice}; got {self.backend!r}."
                )
        check_tp(self.engine, max(self.tp))
        if not isinstance(self.prefill_window, bool):
            raise SpecError(f"prefill_window must be True or False; got {self.prefill_window!r}.")
        if self.gpus is not None:
            if isinstance(self.gpus, (str, bytes)) or not isinstance(self.gpus, Sequence):
                raise SpecError(
                    f"gpus must be a sequence of device indices or UUIDs; got {self.gpus!r}."
                )
            if any(
                isinstance(g, bool) or not isinstance(g, (int, np.integer, str)) for g in self.gpus
            ):
                raise SpecError(
                    f"gpus must be whole device indices or GPU UUIDs; got {self.gpus!r}."
                )
            gpus = tuple(g if isinstance(g, str) else int(g) for g in self.gpus)
            numbers = [g for g in gpus if isinstance(g, int)]
            texts = [g for g in gpus if isinstance(g, str)]
            if not gpus or len(set(gpus)) != len(gpus) or (numbers and min(numbers) < 0):
                raise SpecError(f"gpus must be distinct device indices >= 0; got {self.gpus!r}.")
            if numbers and max(numbers) > SWEEP_LIMITS["gpus"]:
                raise _too_large("gpus", max(numbers), " (a device index)")
            bad = [g for g in texts if not g.upper().startswith(("GPU-", "MIG-"))]
            if bad or (texts and self.engine == "fake"):
                raise SpecError(
                    f"gpus must be whole device indices or GPU / MIG UUIDs (GPU-..., MIG-... "
                    f"from `nvidia-smi -L`; the fake engine takes indices only); got "
                    f"{self.gpus!r}."
                )
            if max(self.tp) > len(gpus):
                raise SpecError(
                    f"tp={max(self.tp)} needs {max(self.tp)} GPUs but --gpus lists {len(gpus)} "
                    f"({list(gpus)}); list more GPUs or lower --tp."
                )
            object.__setattr__(self, "gpus", gpus)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise SpecError(
                f"seed must be a non-negative integer (it seeds numpy's generator); got "
                f"{self.seed!r}. Use 0, 1, 2, ..."
            )
        if self.seed > SWEEP_LIMITS["seed"]:
            raise _too_large("seed", self.seed, "")
        size = (
            len(self.tp)
            * len(self.max_batch_size)
            * len(self.n_in)
            * len(self.n_out)
            * len(self.requests)
            * len(self.gpu_clock_mhz)
            * len(self.power_limit_w)
            * self.repeats
        )
        if size > SWEEP_LIMITS["points"]:
            raise SpecError(
                f"the sweep has {size:,} points (the product of the lengths of every list, times "
                f"the repeats), more than {SWEEP_LIMITS['points']:,.0f}; at several seconds "
                "each it would not end. Split it into several sweeps."
            )
        if self.engine == "fake":
            from ..architecture import get_architecture

            try:
                get_architecture(self.model)
            except ArchitectureError as exc:
                raise SpecError(f"the fake engine simulates a known architecture; {exc}") from None

    # -- grid ----------------------------------------------------------------------------
    def grid(self) -> list[SweepPoint]:
        """Every point of the grid, in canonical (unshuffled) order."""
        cells = itertools.product(
            self.tp,
            self.max_batch_size,
            self.n_in,
            self.n_out,
            self.requests,
            self.gpu_clock_mhz,
            self.power_limit_w,
            range(self.repeats),
        )
        return [
            SweepPoint(
                tp=tp,
                max_batch_size=mbs,
                n_in=ni,
                n_out=no,
                n_requests=nr,
                gpu_clock_mhz=clk,
                power_limit_w=pl,
                repeat=rep,
            )
            for tp, mbs, ni, no, nr, clk, pl, rep in cells
        ]

    def points(self) -> list[SweepPoint]:
        """The grid in measurement order: shuffled with ``seed``, engine configurations
        kept together (their order shuffled too)."""
        grid = self.grid()
        rng = np.random.default_rng(self.seed)
        shuffled = [grid[i] for i in rng.permutation(len(grid))]
        rank: dict[tuple[int, int | None], int] = {}
        for p in shuffled:
            rank.setdefault(p.engine_key, len(rank))
        return sorted(shuffled, key=lambda p: rank[p.engine_key])  # stable within a group

    def engine_config(self, point: SweepPoint) -> EngineConfig:
        """The engine configuration of a point."""
        return EngineConfig(
            model=self.model,
            model_path=self.model_path,
            tp=point.tp,
            max_batch_size=point.max_batch_size,
            max_num_tokens=self.max_num_tokens,
            dtype=self.dtype,
            backend=self.backend,
        )

    def identity(self) -> dict[str, Any]:
        """The fields a resumed sweep must share with the store (JSON-ready)."""
        return {name: _jsonable(getattr(self, name)) for name in _IDENTITY_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """All fields, JSON-ready."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepPoint:
    """One grid cell and repeat.

    Attributes
    ----------
    n_in, n_out : int
        Prompt and output lengths [tokens].
    n_requests : int
        Requests per batch.
    max_batch_size : int or None
        Engine batch limit (None: engine default).
    gpu_clock_mhz : int or None
        Locked graphics clock [MHz].
    power_limit_w : float or None
        Power limit [W].
    tp : int
        Tensor-parallel size.
    repeat : int
        Repeat index.
    """

    n_in: int
    n_out: int
    n_requests: int
    max_batch_size: int | None = None
    gpu_clock_mhz: int | None = None
    power_limit_w: float | None = None
    tp: int = 1
    repeat: int = 0

    @property
    def key(self) -> str:
        """Stable identifier of the point in a store: every knob written exactly, so two
        distinct points never share a key (``300.0001`` and ``300.0002`` W differ)."""
        pl = "default" if self.power_limit_w is None else _exact_number(self.power_limit_w)
        return (
            f"n_in={self.n_in}|n_out={self.n_out}|requests={self.n_requests}"
            f"|max_batch_size={self.max_batch_size or 'default'}"
            f"|gpu_clock_mhz={self.gpu_clock_mhz or 'default'}|power_limit_w={pl}"
            f"|tp={self.tp}|repeat={self.repeat}"
        )

    @property
    def engine_key(self) -> tuple[int, int | None]:
        """What needs an engine reload when it changes."""
        return (self.tp, self.max_batch_size)

    @property
    def knobs(self) -> Knobs:
        """The device knobs of the point."""
        return Knobs(gpu_clock_mhz=self.gpu_clock_mhz, power_limit_w=self.power_limit_w)

    @property
    def concurrency(self) -> int:
        """Requests in flight: ``min(n_requests, max_batch_size)``."""
        if self.max_batch_size is None:
            return self.n_requests
        return min(self.n_requests, self.max_batch_size)


def _exact_number(value: float) -> str:
    """The shortest text of ``value`` that reads back as the same float: ``"300"`` for 300.0
    (as keys written before were, with ``:g``), ``"300.0001"`` where ``:g`` would round."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def derive_seed(seed: int, *parts: Any) -> int:
    """A 63-bit seed from the sweep seed and labels (stable across processes and hosts)."""
    text = json.dumps([seed, *[str(p) for p in parts]])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


# --------------------------------------------------------------------------------- rigs


@dataclass(slots=True)
class Rig:
    """An engine with the meter, the knob controller and the clock of its GPUs.

    Attributes
    ----------
    engine : Engine
        The loaded (or loadable) engine.
    meter : EnergyMeter
        Meter of the engine's GPUs.
    control : DeviceControl or None
        Knob controller of the engine's GPUs.
    clock : Clock
        Time source shared by all of them.
    gpu_indices : tuple of int
        The engine's GPUs.
    idle : IdleBaseline or None
        Idle baseline, measured after the model was loaded.
    counter_update_s : float
        Update period of the energy counter, measured after the model was loaded [s].
    control_note : str
        Why ``control`` is None, for the error raised when knobs are asked for.
    """

    engine: Engine
    meter: EnergyMeter
    control: DeviceControl | None
    clock: Clock
    gpu_indices: tuple[int, ...]
    idle: IdleBaseline | None = None
    counter_update_s: float = math.nan
    control_note: str = ""

    def close(self) -> None:
        """Close the engine and the meter."""
        try:
            self.engine.close()
        finally:
            self.meter.close()


RigFactory = Callable[[SweepSpec, EngineConfig, Any], Rig]


def build_rig(
    spec: SweepSpec,
    config: EngineConfig,
    gpu_indices: Sequence[int | str] | None,
    *,
    fake_node: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Rig:
    """Build the rig of one engine configuration on the given GPUs.

    Parameters
    ----------
    spec : SweepSpec
        The sweep (engine name, sampling period, fake time scale).
    config : EngineConfig
        Engine configuration.
    gpu_indices : sequence of int or str, or None
        The engine's devices. Fake engine: simulated indices. Real engines: the devices as
        CUDA sees them (positions among the visible devices, or UUIDs; None: the first
        ``tp`` visible), resolved to NVML by UUID
        (:func:`~sweetspot.harness.devices.resolve_gpus`).
    fake_node : SimulatedNode, optional
        For ``engine="fake"``: the simulated GPUs to use (shared between the rigs of one
        sweep, so that their knob state persists like a real device's); a new node is made
        when omitted.
    environ : mapping, optional
        Environment holding ``CUDA_VISIBLE_DEVICES`` (``os.environ`` by default).

    Returns
    -------
    Rig
        An :class:`~sweetspot.harness.meter.NvmlMeter` and an
        :class:`~sweetspot.harness.knobs.NvmlControl` of exactly the engine's GPUs, and the
        engine (loaded later) with ``CUDA_VISIBLE_DEVICES`` set to those GPUs' UUIDs.

    Raises
    ------
    DependencyError
        If pynvml (real engines) is missing; the engine's library is imported on ``load``.
    DeviceError
        If the GPUs cannot be resolved or opened.
    """
    if spec.engine == "fake":
        from .engines.fake import FakeControl, FakeEngine, FakeMeter, SimulatedNode

        indices = tuple(int(i) for i in (gpu_indices or range(config.tp)))
        node = fake_node
        if node is None:
            node = SimulatedNode(max(indices) + 1, time_scale=spec.fake_time_scale)
        return Rig(
            engine=FakeEngine(config, node, indices),
            meter=FakeMeter(node, indices, sample_interval_s=max(spec.sample_interval_s, 0.1)),
            control=FakeControl(node, indices),
            clock=node.clock,
            gpu_indices=indices,
        )
    from .devices import engine_environment
    from .knobs import NvmlControl
    from .meter import NvmlMeter

    requested = None if gpu_indices is None else list(gpu_indices)
    meter = NvmlMeter(
        gpus=requested,
        n_gpus=config.tp,
        environ=environ,
        sample_interval_s=spec.sample_interval_s,
    )
    try:
        devices = meter.devices
        env = engine_environment(devices)
        engine = _real_engine(spec.engine, config, env, devices)
    except BaseException:
        meter.close()
        raise
    mig = [d.mig_uuid for d in devices if d.mig_uuid]
    control = None if mig else NvmlControl(meter.handles, meter.nvml, meter.gpu_indices)
    note = (
        f"the engine runs on the MIG instance(s) {', '.join(mig)}: clocks and power limits "
        "belong to the whole GPU, shared with the other instances, so sweetspot does not "
        "change them. Drop --gpu-clock-mhz / --power-limit-w, or run on whole GPUs."
        if mig
        else ""
    )
    return Rig(
        engine=engine,
        meter=meter,
        control=control,
        clock=RealClock(),
        gpu_indices=meter.gpu_indices,
        control_note=note,
    )


def _real_engine(name: str, config: EngineConfig, env: dict[str, str], devices: Any) -> Engine:
    if name == "tensorrt_llm":
        from .engines.tensorrt_llm import TensorRTLLMEngine

        return TensorRTLLMEngine(config, environ=env)
    if name == "vllm":
        from .engines.vllm import VllmEngine

        return VllmEngine(config, environ=env)
    if name == "transformers":
        from .engines.transformers import TransformersEngine

        return TransformersEngine(
            config, environ=env, expected_uuids=[d.mig_uuid or d.uuid for d in devices]
        )
    raise SpecError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}.")


def _local_factory(spec: SweepSpec) -> RigFactory:
    """The default rig factory of a local sweep: one simulated node for the whole sweep."""
    if spec.engine != "fake":
        return build_rig
    from .engines.fake import SimulatedNode

    gpus = spec.gpus or engine_gpus(spec, max(spec.tp))
    assert gpus is not None  # the fake engine always gets device indices
    node = SimulatedNode(max(int(g) for g in gpus) + 1, time_scale=spec.fake_time_scale)

    def factory(s: SweepSpec, config: EngineConfig, indices: Any) -> Rig:
        return build_rig(s, config, indices, fake_node=node)

    return factory


def engine_gpus(spec: SweepSpec, tp: int) -> tuple[int | str, ...] | None:
    """The devices the local executor gives an engine of ``tp`` GPUs: the first ``tp`` of
    ``spec.gpus``; None for a real engine without ``gpus`` (the first ``tp`` visible);
    ``0 .. tp - 1`` for the fake engine."""
    if spec.gpus:
        return tuple(spec.gpus[:tp])
    return tuple(range(tp)) if spec.engine == "fake" else None


def prepare_rig(rig: Rig, spec: SweepSpec) -> None:
    """Load the model, measure the idle baseline (model loaded, no requests) and the update
    period of the energy counter."""
    rig.engine.load()
    rig.idle = measure_idle(rig.meter, rig.clock, spec.idle_s)
    poll_s = min(1.0, max(0.35, spec.idle_s))
    rig.counter_update_s = float(rig.meter.counter_update_period_s(poll_s))


# -------------------------------------------------------------------------- one point


def _run_window(
    rig: Rig, point: SweepPoint, spec: SweepSpec, *, n_out: int | None = None, label: str = "window"
) -> tuple[Window, list[Any]]:
    key = point.key
    results: list[Any] = []
    rig.meter.start()
    stopped = False
    try:
        t0 = rig.clock.now()
        while True:
            results.append(
                rig.engine.run(
                    point.n_in,
                    point.n_out if n_out is None else n_out,
                    point.n_requests,
                    concurrency=point.concurrency,
                    seed=derive_seed(spec.seed, key, label, len(results)),
                )
            )
            if rig.clock.now() - t0 >= spec.min_window_s:
                break
        stopped = True
        window = rig.meter.stop()
    finally:
        if not stopped:
            rig.meter.stop()  # stop the sampler; the interrupted window is discarded
    return window, results


def measure_point(rig: Rig, point: SweepPoint, spec: SweepSpec) -> dict[str, Any]:
    """Measure one point on a prepared rig and return its row (see the module docstring).

    Parameters
    ----------
    rig : Rig
        Engine, meter, controller and clock; :func:`prepare_rig` must have run.
    point : SweepPoint
        What to measure.
    spec : SweepSpec
        Method parameters (cooldown, warm-up, window length, seed).

    Returns
    -------
    dict
        The row to store.

    Raises
    ------
    DeviceError, SpecError
        From the engine, the meter or the knobs; the knobs are reset in every case.
    """
    if rig.idle is None:
        prepare_rig(rig, spec)
    assert rig.idle is not None
    rig.clock.sleep(spec.cooldown_s)
    if rig.control is None and rig.control_note and not point.knobs.is_default:
        raise SpecError(rig.control_note)
    prefill: tuple[Window, list[Any]] | None = None
    with apply_knobs(rig.control, point.knobs):
        for w in range(spec.warmup):
            rig.engine.run(
                point.n_in,
                point.n_out,
                point.n_requests,
                concurrency=point.concurrency,
                seed=derive_seed(spec.seed, point.key, "warmup", w),
            )
        window, results = _run_window(rig, point, spec)
        states = rig.meter.read_states()
        if spec.prefill_window:
            # the same batches cut at their first token: a window around the prefill
            prefill = _run_window(rig, point, spec, n_out=1, label="prefill")
    row = _row(rig, point, spec, window, results, states)
    row.update(_phase_columns(rig, point, window, results, prefill))
    return row


def _phase_columns(
    rig: Rig,
    point: SweepPoint,
    window: Window,
    results: list[Any],
    prefill: tuple[Window, list[Any]] | None,
) -> dict[str, Any]:
    """Prefill and decode energy of a point, and the quality flags of its windows."""
    period = rig.counter_update_s if math.isfinite(rig.counter_update_s) else None
    flags = list(window_quality(window, counter_update_s=period))
    cols: dict[str, Any] = {"counter_update_s": rig.counter_update_s}
    n_total = len(results) * point.n_requests
    if prefill is not None:
        p_window, p_results = prefill
        p_requests = len(p_results) * point.n_requests
        per_request = p_window.energy_j / p_requests
        prefill_j = per_request * n_total
        cols.update(
            {
                "prefill_energy_j": prefill_j,
                "decode_energy_j": window.energy_j - prefill_j,
                "prefill_energy_per_request_j": per_request,
                "prefill_time_per_request_s": p_window.duration_s * point.concurrency / p_requests,
                "prefill_window_s": p_window.duration_s,
                "prefill_requests": p_requests,
            }
        )
        flags += [f"prefill_{f}" for f in window_quality(p_window, counter_update_s=period)]
        if prefill_j > window.energy_j:
            flags.append("prefill_exceeds_total")
    cols["quality_flags"] = ";".join(flags)
    cols["quality_ok"] = not flags
    return cols


def _row(
    rig: Rig,
    point: SweepPoint,
    spec: SweepSpec,
    window: Window,
    results: list[Any],
    states: Sequence[Any],
) -> dict[str, Any]:
    assert rig.idle is not None
    info = rig.meter.device_info()
    engine_info = rig.engine.info()
    n_total = len(results) * point.n_requests
    out_tokens = n_total * point.n_out
    duration = window.duration_s
    timings = [r for res in results for r in res.requests]
    row: dict[str, Any] = {
        "n_in": point.n_in,
        "n_out": point.n_out,
        "energy_j": window.energy_j,
        "n_requests": n_total,
        "time_s": duration,
        "idle_power_w": rig.idle.power_w,
        "model": spec.model,
        "gpu": info[0].name if info else "unknown",
        "n_gpus": rig.meter.n_gpus,
        "engine": rig.engine.name,
        "batch_size": point.concurrency,
        "tp": point.tp,
    }
    if point.gpu_clock_mhz is not None:
        row["gpu_clock_mhz"] = float(point.gpu_clock_mhz)
    row["power_limit_w"] = float(min(s.power_limit_w for s in states))
    row["dtype"] = spec.dtype
    row["repeat"] = point.repeat
    row["kv_cache"] = True
    row["simulated"] = bool(rig.engine.simulated or rig.meter.simulated)
    effective = engine_info.get("effective", {}) if isinstance(engine_info, Mapping) else {}
    row.update(
        {
            "point_key": point.key,
            "requests_per_batch": point.n_requests,
            "batches": len(results),
            "max_batch_size": point.max_batch_size or effective.get("max_batch_size"),
            "warmup_batches": spec.warmup,
            "energy_per_gpu_j": list(window.energy_per_gpu_j),
            "idle_energy_j": rig.idle.power_w * duration,
            "energy_per_request_j": window.energy_j / n_total,
            "j_per_output_token": window.energy_j / out_tokens,
            "output_tokens_per_j": out_tokens / window.energy_j if window.energy_j > 0 else None,
            "avg_power_w": window.avg_power_w,
            "peak_power_w": window.peak_power_w,
            "integrated_energy_j": window.integrated_energy_j,
            "energy_resolution_j": window.energy_resolution_j,
            "power_source": window.power_source,
            "throughput_tok_s": out_tokens / duration if duration > 0 else None,
            "request_throughput_req_s": n_total / duration if duration > 0 else None,
        }
    )
    for name, label in (("ttft_s", "ttft"), ("tbt_s", "tbt"), ("e2e_s", "e2e")):
        values = np.array([getattr(t, name) for t in timings], dtype=float)
        values = values[np.isfinite(values)]
        for q in (50, 90, 99):
            row[f"{label}_p{q}_s"] = float(np.percentile(values, q)) if values.size else None
    row.update(
        {
            "gpu_util_pct": window.gpu_util_pct,
            "mem_util_pct": window.mem_util_pct,
            "temperature_c": max(s.temperature_c for s in states),
            "sm_clock_mhz": float(np.mean([s.sm_clock_mhz for s in states])),
            "mem_clock_mhz": float(np.mean([s.mem_clock_mhz for s in states])),
            "throttle_reasons": int(
                np.bitwise_or.reduce([int(s.throttle_reasons) for s in states])
            ),
            "gpu_ids": list(rig.gpu_indices),
            "gpu_uuids": [d.uuid for d in info],
            "gpu_names": [d.name for d in info],
            "gpu_pci_bus_ids": [d.pci_bus_id for d in info],
            "gpu_mig_uuids": [d.mig_uuid for d in info],
            "measured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return row


# ------------------------------------------------------------------------------ sweeps


class SweepObserver(Protocol):
    """Receives progress events (the CLI shows a progress bar with them)."""

    def started(self, pending: int, done: int) -> None:
        """The sweep starts: ``pending`` points to measure, ``done`` already stored."""
        ...

    def point_done(self, point: SweepPoint, row: Mapping[str, Any]) -> None:
        """A point was measured and stored."""
        ...

    def message(self, text: str) -> None:
        """Something worth telling the user (engine loaded, idle baseline, store repaired)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepReport:
    """What a sweep did.

    Attributes
    ----------
    path : pathlib.Path
        The store.
    measured : int
        Points measured by this run.
    skipped : int
        Points already in the store (resume).
    total : int
        Points in the store now.
    simulated : bool
        True for the fake engine.
    notes : tuple of str
        What opening the store did.
    """

    path: Path
    measured: int
    skipped: int
    total: int
    simulated: bool
    notes: tuple[str, ...] = field(default_factory=tuple)


def _provenance(spec: SweepSpec) -> dict[str, Any]:
    from .._version import __version__

    return {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sweetspot_version": __version__,
        "pid": os.getpid(),
        "argv": list(sys.argv),
        "simulated": spec.engine == "fake",
    }


def record_rig(store: MeasurementStore, rig_info: Mapping[str, Any]) -> None:
    """Append the provenance of a loaded rig to the store's manifest."""
    rigs = list(store.manifest.get("rigs", []))
    rigs.append(dict(rig_info))
    store.update_manifest(rigs=rigs)


def rig_record(rig: Rig, config: EngineConfig) -> dict[str, Any]:
    """Provenance of a prepared rig: engine, devices, system, idle baseline."""
    assert rig.idle is not None
    return {
        "engine_config": config.to_dict(),
        "gpu_indices": list(rig.gpu_indices),
        "engine": dict(rig.engine.info()),
        "devices": [dataclasses.asdict(d) for d in rig.meter.device_info()],
        "system": rig.meter.system_info(),
        "idle_baseline": rig.idle.to_dict(),
        "counter_update_s": rig.counter_update_s,
        "recorded_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def run_sweep(
    spec: SweepSpec,
    out: str | os.PathLike[str],
    *,
    resume: bool = False,
    executor: Executor | None = None,
    observer: SweepObserver | None = None,
) -> SweepReport:
    """Measure every point of ``spec`` not yet in the store at ``out``.

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    out : str or os.PathLike
        Store directory (created if missing).
    resume : bool, default False
        Continue an existing store written by the same sweep (completed points are skipped;
        none is measured twice).
    executor : Executor, optional
        Where the points run: :class:`LocalExecutor` (the default: this process, one engine
        at a time) or :class:`sweetspot.harness.ray_executor.RayExecutor` (Ray tasks with
        ``tp`` GPUs each). Its optional dependencies are checked before a store is created.
    observer : SweepObserver, optional
        Progress events.

    Returns
    -------
    SweepReport

    Raises
    ------
    StoreError
        If the store exists without ``resume``, belongs to another sweep (its identity, or
        points whose keys the grid does not have), or is corrupted.
    DeviceError, DependencyError, SpecError
        From the engine, meter and knobs; every completed point is already stored.

    Notes
    -----
    The grid is built before the store is created, so a rejected sweep leaves nothing
    behind. A store this call created is removed again when the run fails before its first
    point (nothing was measured); a store holding a point is always kept.
    """
    if not isinstance(out, (str, os.PathLike)):
        raise SpecError(f"out must be a directory path (str or os.PathLike); got {out!r}.")
    if not isinstance(resume, bool):
        raise SpecError(f"resume must be True or False; got {resume!r}.")
    executor = LocalExecutor() if executor is None else executor
    if not isinstance(executor, Executor):
        raise SpecError(
            "executor must be a LocalExecutor() or a RayExecutor(...) "
            f"(sweetspot.harness.ray_executor); got {executor!r}."
        )
    executor.preflight(spec)
    points = spec.points()  # before anything is created: a rejected sweep leaves no store
    grid_keys = {p.key for p in points}
    root = Path(out)
    creates = not (root / MANIFEST).exists()
    new_directory = not root.exists()
    manifest = {
        "sweep": {"identity": spec.identity(), "spec": spec.to_dict()},
        "provenance": _provenance(spec),
        "simulated": spec.engine == "fake",
        "runs": [],
        "rigs": [],
    }
    store = MeasurementStore.open_for_sweep(out, manifest, resume=resume, identity=spec.identity())
    try:
        foreign = sorted(store.completed_keys() - grid_keys)
        if foreign:
            raise StoreError(
                f"the store {root} holds {len(foreign)} point(s) that this sweep's grid does not "
                f"have (e.g. {foreign[0]!r}): they were written with another grid, or by a "
                "sweetspot whose point keys were coarser. Resuming would mix two grids; resume "
                "with the arguments that wrote the store, or write this sweep to a new --out "
                "directory."
            )
        run_entry = {
            "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "executor": executor.name,
            "resume": resume,
            "pid": os.getpid(),
            "notes": list(store.notes),
        }
        store.update_manifest(runs=[*store.manifest.get("runs", []), run_entry])
        for note in store.notes:
            if observer is not None:
                observer.message(note)
        done = store.completed_keys()
        pending = [p for p in points if p.key not in done]
        if observer is not None:
            observer.started(len(pending), len(done))
        with terminate_on_signals():
            executor.run(spec, store, pending, observer)
        return SweepReport(
            path=Path(out),
            measured=len(store) - len(done),
            skipped=len(done),
            total=len(store),
            simulated=spec.engine == "fake",
            notes=tuple(store.notes),
        )
    except BaseException:
        if creates and len(store) == 0:
            # nothing measured: remove what this run created, so that the corrected command
            # is not refused with "already holds a measurement store"
            store.discard(remove_directory=new_directory)
        raise
    finally:
        store.close()


def _run_local(
    spec: SweepSpec,
    store: MeasurementStore,
    pending: Sequence[SweepPoint],
    factory: RigFactory,
    observer: SweepObserver | None,
) -> None:
    rig: Rig | None = None
    current: tuple[int, int | None] | None = None
    try:
        for point in pending:
            if rig is None or point.engine_key != current:
                if rig is not None:
                    rig.close()
                    rig = None
                config = spec.engine_config(point)
                gpus = engine_gpus(spec, point.tp)
                rig = factory(spec, config, gpus)
                current = point.engine_key
                prepare_rig(rig, spec)
                assert rig.idle is not None
                record_rig(store, rig_record(rig, config))
                if observer is not None:
                    observer.message(
                        f"loaded {spec.model} on GPU(s) {list(rig.gpu_indices)} (tp={point.tp}, "
                        f"max_batch_size={point.max_batch_size or 'default'}); idle baseline "
                        f"{rig.idle.power_w:.1f} W over {rig.idle.duration_s:.1f} s"
                    )
            row = measure_point(rig, point, spec)
            store.append(row)
            if observer is not None:
                observer.point_done(point, row)
    finally:
        if rig is not None:
            rig.close()


@runtime_checkable
class Executor(Protocol):
    """Where the points of a sweep are measured (:class:`LocalExecutor`, ``RayExecutor``)."""

    name: ClassVar[str]

    def preflight(self, spec: SweepSpec) -> None:
        """Fail on a missing optional dependency before a store is created."""

    def run(
        self,
        spec: SweepSpec,
        store: MeasurementStore,
        pending: Sequence[SweepPoint],
        observer: SweepObserver | None,
    ) -> None:
        """Measure ``pending`` and append each row to ``store`` as it completes."""


@dataclass(frozen=True, slots=True)
class LocalExecutor:
    """Measure the points in this process, one engine configuration at a time.

    Parameters
    ----------
    rig_factory : callable, optional
        ``(spec, engine_config, gpu_indices) -> Rig`` replacing :func:`build_rig` (for tests
        and custom engines).
    """

    rig_factory: RigFactory | None = None
    name: ClassVar[str] = "local"

    def preflight(self, spec: SweepSpec) -> None:
        """Import NVML and TensorRT-LLM now when the sweep will need them here."""
        if spec.engine == "tensorrt_llm" and self.rig_factory is None:
            from ._nvml import import_pynvml
            from .engines.tensorrt_llm import import_trtllm

            import_pynvml()
            import_trtllm("tensorrt_llm")

    def run(
        self,
        spec: SweepSpec,
        store: MeasurementStore,
        pending: Sequence[SweepPoint],
        observer: SweepObserver | None,
    ) -> None:
        """Measure ``pending`` in order, loading each engine configuration once."""
        _run_local(spec, store, pending, self.rig_factory or _local_factory(spec), observer)


# --------------------------------------------------------------------------- summaries

_CONFIG_COLUMNS = (
    "model",
    "gpu",
    "engine",
    "n_in",
    "n_out",
    "requests_per_batch",
    "max_batch_size",
    "gpu_clock_mhz",
    "power_limit_w",
    "tp",
)


def summarize_repeats(data: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and CV of the energy per request over the repeats.

    Parameters
    ----------
    data : pandas.DataFrame
        Rows of a store (``read_measurements(store_dir)``).

    Returns
    -------
    pandas.DataFrame
        One row per configuration (the columns of the grid present in ``data``) with
        ``repeats``, ``energy_per_request_j`` (mean) [J], ``std_j`` [J] (sample standard
        deviation, NaN for a single repeat) and ``cv_pct`` [%].
    """
    if not isinstance(data, pd.DataFrame) or not {"energy_j", "n_requests"} <= set(data.columns):
        raise MeasurementError(
            "summarize_repeats expects the rows of a store, a DataFrame with energy_j and "
            f"n_requests (read_measurements(store_dir)); got {type(data).__name__}"
            + (f" with columns {list(data.columns)[:10]}" if isinstance(data, pd.DataFrame) else "")
            + "."
        )
    frame = data.copy()
    frame["_e"] = frame["energy_j"] / frame["n_requests"]
    keys = [c for c in _CONFIG_COLUMNS if c in frame.columns]
    grouped = frame.groupby(keys, dropna=False, sort=True)["_e"]
    out = grouped.agg(repeats="count", energy_per_request_j="mean", std_j="std").reset_index()
    out["cv_pct"] = 100.0 * out["std_j"] / out["energy_per_request_j"]
    return out
