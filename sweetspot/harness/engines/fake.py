"""The fake engine: a deterministic roofline simulation of LLM inference on simulated GPUs.

Every code path of the harness (meter windows, knobs, the store, resume, Ray) runs on a
CPU-only machine against it, and ``sweetspot measure --engine fake`` can be tried without a
GPU. **Its numbers are simulated, not measured**: every row it produces carries
``simulated = True`` and the store manifest says so.

The simulation
--------------
A :class:`SimulatedNode` holds ``n`` :class:`SimulatedGPU` of one :class:`GpuSpec` (H100 SXM
numbers by default) and a virtual clock in integer nanoseconds, so results do not depend on
when or where (local process or Ray worker) a point is simulated. Requests run in waves of
``b = min(concurrency, max_batch_size, KV-cache capacity)``; each wave is a prefill phase and
a decode phase, each timed by a roofline over the architecture counts of
:func:`sweetspot.count_terms`::

    t = max(F / (peak_flops * eta_f * s * tp), B / (bandwidth * eta_m * tp)) * c_tp
        + passes * step_overhead

with ``F``, ``B`` the phase's FLOPs and bytes (weights streamed once per pass and shared by
the wave, KV reads and writes), ``s = f / f_max`` the locked-clock ratio and ``c_tp`` a
tensor-parallel communication factor. Energy is static power over time plus dynamic energy
per FLOP and per byte::

    E = tp * (P_idle + P_busy * s * V(s)^2) * t + e_flop * V(s)^2 * F + e_byte * B,
    V(s) = 0.55 + 0.45 s

and when the resulting power exceeds the power limit the phase stretches until it does not
(power capping). Lower locked clocks lower the voltage ``V`` and so the energy per FLOP and
the busy power, but slow compute-bound phases down (memory-bound decode barely slows).
Multiplicative log-normal noise (1 % on time, 0.5 % on power) seeded per run makes repeats
differ like real measurements, reproducibly.

The constants are illustrative orders of magnitude (H100 SXM datasheet peak numbers; energy
per operation chosen to give 350-650 W under load), not a calibrated model of any GPU.

References
----------
S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model
for multicore architectures", CACM 52(4), 2009.
NVIDIA H100 Tensor Core GPU datasheet (SXM5: 989 TFLOP/s dense BF16, 3.35 TB/s, 700 W).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ...architecture import Architecture, get_architecture
from ...counts import count_terms
from ...exceptions import DeviceError, SpecError
from ..clock import SimClock
from ..meter import COUNTER_UPDATE_S, DeviceInfo, DeviceState, PowerSample, Window
from . import BatchResult, EngineConfig, RequestTiming, check_run_arguments

__all__ = [
    "FakeControl",
    "FakeEngine",
    "FakeMeter",
    "GpuSpec",
    "SimulatedGPU",
    "SimulatedNode",
]

_NS = 1_000_000_000
_TICK_NS = round(COUNTER_UPDATE_S * _NS)
_DEFAULT_MAX_BATCH_SIZE = 2048  # TensorRT-LLM 1.x LLM API default
_MAX_SAMPLES = 100_000  # power samples kept per simulated window


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuSpec:
    """Numbers of a simulated GPU (H100 SXM 80 GB by default).

    Attributes
    ----------
    name : str
        Product name reported by the simulated device.
    memory_bytes : float
        Device memory [B].
    peak_flops : float
        Dense BF16 tensor throughput at the top clock [FLOP/s].
    mem_bandwidth : float
        HBM bandwidth [B/s].
    flops_efficiency, bandwidth_efficiency : float
        Achieved fractions of the peaks.
    max_clock_mhz, min_clock_mhz, clock_step_mhz : int
        Supported graphics clocks: ``max, max - step, ..., >= min`` [MHz].
    mem_clock_mhz : int
        Memory clock [MHz].
    idle_power_w : float
        Power with the model loaded and nothing running [W].
    static_power_w : float
        Extra power while busy at the top clock that is not per FLOP or byte (clock tree,
        control, SRAM) [W]; it scales as ``f V^2``.
    energy_per_flop_j, energy_per_byte_j : float
        Dynamic energy per FLOP at the top clock and per byte of HBM traffic [J].
    default_power_limit_w, min_power_limit_w, max_power_limit_w : float
        Power-limit default and range [W].
    step_overhead_s : float
        Fixed time per forward pass (kernel launches, scheduling) [s].
    request_overhead_s : float
        Fixed time per request before its first token (tokenisation, scheduling) [s].
    tp_overhead : float
        Extra time per doubling of the tensor-parallel size (communication), as a fraction.
    """

    name: str = "NVIDIA H100 80GB HBM3 (simulated)"
    memory_bytes: float = 80e9
    peak_flops: float = 989e12
    mem_bandwidth: float = 3.35e12
    flops_efficiency: float = 0.6
    bandwidth_efficiency: float = 0.8
    max_clock_mhz: int = 1980
    min_clock_mhz: int = 210
    clock_step_mhz: int = 15
    mem_clock_mhz: int = 2619
    idle_power_w: float = 70.0
    static_power_w: float = 150.0
    energy_per_flop_j: float = 0.45e-12
    energy_per_byte_j: float = 60e-12
    default_power_limit_w: float = 700.0
    min_power_limit_w: float = 200.0
    max_power_limit_w: float = 700.0
    step_overhead_s: float = 0.4e-3
    request_overhead_s: float = 2e-3
    tp_overhead: float = 0.05

    def supported_clocks_mhz(self) -> tuple[int, ...]:
        """Supported graphics clocks, descending [MHz]."""
        return tuple(range(self.max_clock_mhz, self.min_clock_mhz - 1, -self.clock_step_mhz))


@dataclass(slots=True)
class SimulatedGPU:
    """Knob state of one simulated GPU (mutable, like a real device).

    Attributes
    ----------
    index : int
        Device index.
    spec : GpuSpec
        Its numbers.
    locked_clock_mhz : int or None
        Locked graphics clock (None: default boost).
    power_limit_w : float
        Current power limit [W].
    privileged : bool
        False simulates a process without root / CAP_SYS_ADMIN: knob changes are refused.
    calls : list of tuple
        Every knob call, in order (for tests and debugging).
    """

    index: int
    spec: GpuSpec
    locked_clock_mhz: int | None = None
    power_limit_w: float = 0.0
    privileged: bool = True
    capped: bool = False
    last_power_w: float = 0.0
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.power_limit_w == 0.0:
            self.power_limit_w = self.spec.default_power_limit_w

    @property
    def clock_ratio(self) -> float:
        """Graphics clock over the top clock."""
        if self.locked_clock_mhz is None:
            return 1.0
        return self.locked_clock_mhz / self.spec.max_clock_mhz

    @property
    def is_reset(self) -> bool:
        """True when no clock is locked and the power limit is the default."""
        return (
            self.locked_clock_mhz is None and self.power_limit_w == self.spec.default_power_limit_w
        )


class SimulatedNode:
    """Simulated GPUs sharing a virtual clock, with their power timeline.

    Parameters
    ----------
    n_gpus : int
        Number of GPUs.
    spec : GpuSpec, optional
        Their numbers.
    time_scale : float, default 0
        Wall seconds slept per simulated second (see :class:`~sweetspot.harness.clock.SimClock`).
    privileged : bool, default True
        False: knob changes fail as without root.
    """

    def __init__(
        self,
        n_gpus: int,
        spec: GpuSpec | None = None,
        *,
        time_scale: float = 0.0,
        privileged: bool = True,
    ) -> None:
        if n_gpus < 1:
            raise SpecError(f"n_gpus must be a whole number >= 1; got {n_gpus!r}.")
        self.spec = spec or GpuSpec()
        self.gpus = [
            SimulatedGPU(index=i, spec=self.spec, privileged=privileged) for i in range(n_gpus)
        ]
        self.clock = SimClock(on_advance=self.idle, time_scale=time_scale)
        self._now_ns = 0
        # Segments of constant power: start and end [ns], power per GPU [W], utilisation.
        self._t0: list[int] = []
        self._t1: list[int] = []
        self._power: list[tuple[float, ...]] = []
        self._util: list[tuple[float, float]] = []

    @property
    def now_ns(self) -> int:
        """Virtual time [ns]."""
        return self._now_ns

    def idle(self, seconds: float) -> None:
        """Let ``seconds`` of idle time pass on every GPU."""
        self._add(round(seconds * _NS), (self.spec.idle_power_w,) * len(self.gpus), (0.0, 0.0))

    def busy(self, duration_ns: int, power_w: Sequence[float], util: tuple[float, float]) -> None:
        """Append ``duration_ns`` of activity with the given power per GPU [W]."""
        self._add(duration_ns, tuple(float(p) for p in power_w), util)

    def _add(self, duration_ns: int, power: tuple[float, ...], util: tuple[float, float]) -> None:
        if duration_ns <= 0:
            return
        start = self._now_ns
        self._now_ns += duration_ns
        if self._power and self._power[-1] == power and self._util[-1] == util:
            self._t1[-1] = self._now_ns  # merge equal neighbours
        else:
            self._t0.append(start)
            self._t1.append(self._now_ns)
            self._power.append(power)
            self._util.append(util)
        self.clock.advance(duration_ns / _NS)

    def sleep_to_tick(self) -> None:
        """Idle until the next 100 ms counter update (like waiting for NVML's counter)."""
        remainder = self._now_ns % _TICK_NS
        if remainder:
            self._add(_TICK_NS - remainder, (self.spec.idle_power_w,) * len(self.gpus), (0.0, 0.0))

    def energy_j(self, gpu: int, start_ns: int, end_ns: int) -> float:
        """Energy of one GPU between two times [J] (exact integral of the timeline)."""
        total = 0.0
        k = bisect.bisect_right(self._t1, start_ns)
        for i in range(k, len(self._t0)):
            a, b = max(self._t0[i], start_ns), min(self._t1[i], end_ns)
            if a >= end_ns:
                break
            if b > a:
                total += self._power[i][gpu] * (b - a) / _NS
        return total

    def power_at(self, t_ns: int) -> tuple[tuple[float, ...], tuple[float, float]]:
        """Power per GPU and (GPU, memory) utilisation at a time."""
        i = bisect.bisect_right(self._t0, t_ns) - 1
        if i < 0 or t_ns >= self._t1[i]:
            return (self.spec.idle_power_w,) * len(self.gpus), (0.0, 0.0)
        return self._power[i], self._util[i]

    def forget_before(self, t_ns: int) -> None:
        """Drop the timeline before ``t_ns`` (it is never read again)."""
        k = bisect.bisect_right(self._t1, t_ns)
        if k:
            del self._t0[:k], self._t1[:k], self._power[:k], self._util[:k]


class FakeMeter:
    """Energy meter of simulated GPUs, with NVML's counter behaviour.

    Window edges are placed on the simulated 100 ms counter updates and the energy of each
    GPU is rounded down to whole millijoules, like differences of NVML's counter. Power
    samples are read from the simulated timeline at ``sample_interval_s``.

    Parameters
    ----------
    node : SimulatedNode
        The simulated GPUs.
    gpu_indices : sequence of int
        Which of them to measure.
    sample_interval_s : float, default 0.1
        Period of the power timeline [s] (0: no samples).
    """

    simulated = True

    def __init__(
        self, node: SimulatedNode, gpu_indices: Sequence[int], *, sample_interval_s: float = 0.1
    ) -> None:
        bad = [i for i in gpu_indices if not 0 <= i < len(node.gpus)]
        if bad or not gpu_indices:
            raise DeviceError(
                f"simulated GPU index {bad[0] if bad else '(none)'} does not exist; the "
                f"simulated node has {len(node.gpus)} GPU(s)."
            )
        self.node = node
        self.gpu_indices = tuple(int(i) for i in gpu_indices)
        self._interval_ns = round(sample_interval_s * _NS)
        self._start_ns: int | None = None

    @property
    def n_gpus(self) -> int:
        """Number of GPUs measured."""
        return len(self.gpu_indices)

    def start(self) -> None:
        """Open a window on the next counter update."""
        if self._start_ns is not None:
            raise DeviceError("a measurement window is already open; call stop() first.")
        self.node.sleep_to_tick()
        self._start_ns = self.node.now_ns

    def stop(self) -> Window:
        """Close the window on the next counter update and return its energy."""
        if self._start_ns is None:
            raise DeviceError("no measurement window is open; call start() first.")
        start, self._start_ns = self._start_ns, None
        self.node.sleep_to_tick()
        end = self.node.now_ns
        energies = tuple(
            math.floor(self.node.energy_j(g, start, end) * 1000.0) / 1000.0
            for g in self.gpu_indices
        )
        samples: list[PowerSample] = []
        utils: list[tuple[float, float]] = []
        if self._interval_ns > 0:
            # a long window keeps at most _MAX_SAMPLES samples (the period is stretched)
            step = max(self._interval_ns, -(-(end - start) // _MAX_SAMPLES))
            for t in range(start, end, step):
                power, util = self.node.power_at(t)
                samples.append(
                    PowerSample(
                        t_s=(t - start) / _NS, power_w=tuple(power[g] for g in self.gpu_indices)
                    )
                )
                utils.append(util)
        duration = (end - start) / _NS
        for g, e in zip(self.gpu_indices, energies, strict=True):
            self.node.gpus[g].last_power_w = e / duration if duration > 0 else 0.0
        self.node.forget_before(start)
        return Window(
            duration_s=duration,
            energy_per_gpu_j=energies,
            samples=tuple(samples),
            gpu_util_pct=float(np.mean([u for u, _ in utils])) if utils else math.nan,
            mem_util_pct=float(np.mean([m for _, m in utils])) if utils else math.nan,
            power_source="simulated",
            aligned=True,
            simulated=True,
        )

    def read_states(self) -> tuple[DeviceState, ...]:
        """Simulated temperature (from the last window's power), clocks and throttle state."""
        states = []
        for g in self.gpu_indices:
            gpu = self.node.gpus[g]
            spec = gpu.spec
            clock = gpu.locked_clock_mhz or spec.max_clock_mhz
            states.append(
                DeviceState(
                    index=g,
                    temperature_c=round(30.0 + 0.06 * gpu.last_power_w, 1),
                    sm_clock_mhz=float(clock),
                    mem_clock_mhz=float(spec.mem_clock_mhz),
                    throttle_reasons=0x4 if gpu.capped else 0,
                    power_limit_w=gpu.power_limit_w,
                )
            )
        return tuple(states)

    def device_info(self) -> tuple[DeviceInfo, ...]:
        """Simulated name and UUID, power-limit range and top clock."""
        spec = self.node.spec
        return tuple(
            DeviceInfo(
                index=g,
                name=spec.name,
                uuid=f"GPU-simulated-{g:04d}",
                persistence_mode=True,
                default_power_limit_w=spec.default_power_limit_w,
                min_power_limit_w=spec.min_power_limit_w,
                max_power_limit_w=spec.max_power_limit_w,
                max_sm_clock_mhz=float(spec.max_clock_mhz),
            )
            for g in self.gpu_indices
        )

    def counter_update_period_s(self, duration_s: float = 1.0) -> float:
        """The simulated counter's update period [s]."""
        return COUNTER_UPDATE_S

    def system_info(self) -> dict[str, Any]:
        """Labels the simulation (no driver, no CUDA)."""
        return {
            "driver_version": "simulated",
            "cuda_driver_version": "simulated",
            "nvml_version": "simulated",
            "power_source": "simulated",
        }

    def close(self) -> None:
        """Nothing to release."""


class FakeControl:
    """Knobs of simulated GPUs (same contract as :class:`~sweetspot.harness.knobs.NvmlControl`).

    Parameters
    ----------
    node : SimulatedNode
        The simulated GPUs.
    gpu_indices : sequence of int
        Which of them to control.
    """

    def __init__(self, node: SimulatedNode, gpu_indices: Sequence[int]) -> None:
        self.node = node
        self.gpu_indices = tuple(int(i) for i in gpu_indices)

    def _gpus(self, action: str) -> list[SimulatedGPU]:
        gpus = [self.node.gpus[i] for i in self.gpu_indices]
        for gpu in gpus:
            if not gpu.privileged:
                raise DeviceError(
                    f"{action} on simulated GPU {gpu.index} failed: Insufficient Permissions "
                    "(simulated NVML_ERROR_NO_PERMISSION). Changing GPU clocks or power limits "
                    "needs root or the CAP_SYS_ADMIN capability: run the sweep as root (e.g. "
                    "sudo -E env PATH=$PATH sweetspot measure ...), or drop the "
                    "--gpu-clock-mhz / --power-limit-w options."
                )
        return gpus

    def supported_gpu_clocks_mhz(self) -> tuple[int, ...]:
        """Supported graphics clocks, descending [MHz]."""
        return self.node.spec.supported_clocks_mhz()

    def power_limit_range_w(self) -> tuple[float, float]:
        """Power-limit range [W]."""
        return self.node.spec.min_power_limit_w, self.node.spec.max_power_limit_w

    def power_limit_w(self) -> tuple[float, ...]:
        """Current power limits [W]."""
        return tuple(self.node.gpus[i].power_limit_w for i in self.gpu_indices)

    def set_gpu_clock(self, mhz: int) -> None:
        """Lock the graphics clocks."""
        for gpu in self._gpus(f"locking the graphics clock to {mhz} MHz"):
            gpu.locked_clock_mhz = int(mhz)
            gpu.calls.append(("set_gpu_clock", int(mhz)))

    def reset_gpu_clock(self) -> None:
        """Unlock the graphics clocks."""
        for gpu in self._gpus("resetting the locked clocks"):
            gpu.locked_clock_mhz = None
            gpu.calls.append(("reset_gpu_clock",))

    def set_power_limit(self, watts: Sequence[float]) -> None:
        """Set the power limits [W]."""
        for gpu, w in zip(self._gpus("setting the power limit"), watts, strict=True):
            gpu.power_limit_w = float(w)
            gpu.calls.append(("set_power_limit", float(w)))


@dataclass(frozen=True, slots=True)
class _Phase:
    time_s: float
    power_per_gpu_w: float
    capped: bool
    mem_util: float


class FakeEngine:
    """Simulated inference engine (see the module docstring for the model).

    Parameters
    ----------
    config : EngineConfig
        Model (an architecture preset or Hugging Face id known to
        :func:`sweetspot.get_architecture`), tensor parallelism and batch limits.
    node : SimulatedNode
        The simulated GPUs; the engine uses ``gpu_indices`` of them.
    gpu_indices : sequence of int, optional
        Which GPUs the engine runs on (default ``0 .. tp - 1``).
    architecture : Architecture, optional
        Use this architecture instead of looking ``config.model`` up.
    noise : bool, default True
        Add the seeded measurement-like noise.

    Raises
    ------
    ArchitectureError
        If the model is unknown.
    DeviceError
        If ``gpu_indices`` does not match ``tp`` or the weights do not fit in memory.
    """

    name = "fake"
    simulated = True

    def __init__(
        self,
        config: EngineConfig,
        node: SimulatedNode,
        gpu_indices: Sequence[int] | None = None,
        *,
        architecture: Architecture | None = None,
        noise: bool = True,
    ) -> None:
        self.config = config
        self.node = node
        self.gpu_indices = tuple(range(config.tp) if gpu_indices is None else gpu_indices)
        if len(self.gpu_indices) != config.tp:
            raise DeviceError(
                f"tensor parallelism {config.tp} needs {config.tp} GPU(s); got "
                f"{len(self.gpu_indices)} ({list(self.gpu_indices)})."
            )
        self.arch = architecture or get_architecture(config.model)
        self.noise = noise
        self.max_batch_size = config.max_batch_size or _DEFAULT_MAX_BATCH_SIZE
        self._loaded = False

    def load(self) -> None:
        """Check that the weights fit (the simulated load takes no time)."""
        spec = self.node.spec
        weights = self.arch.n_params * self.arch.weight_bytes / self.config.tp
        if weights > 0.9 * spec.memory_bytes:
            raise DeviceError(
                f"{self.arch.name} needs {weights / 1e9:.1f} GB of weights per GPU at tp="
                f"{self.config.tp}, more than 90 % of the {spec.memory_bytes / 1e9:.0f} GB of "
                f"the simulated {spec.name}. Use a larger --tp."
            )
        self._loaded = True

    def info(self) -> Mapping[str, Any]:
        """Provenance of the simulation."""
        from ..._version import __version__

        return {
            "engine": "fake",
            "version": __version__,
            "simulated": True,
            "architecture": self.arch.name,
            "config": self.config.to_dict(),
            "effective": {"max_batch_size": self.max_batch_size, "kv_cache_block_reuse": False},
            "gpu_spec": asdict(self.node.spec),
            "noise": self.noise,
        }

    def close(self) -> None:
        """Nothing to release."""
        self._loaded = False

    # -- the model -----------------------------------------------------------------------
    def _kv_capacity(self, n_in: int, n_out: int) -> int:
        spec = self.node.spec
        weights = self.arch.n_params * self.arch.weight_bytes
        free = 0.9 * spec.memory_bytes * self.config.tp - weights
        per_request = self.arch.kv_bytes_per_token * (n_in + n_out)
        return max(1, int(free // per_request))

    def _phase(self, flops: float, nbytes: float, passes: int, rng: np.random.Generator) -> _Phase:
        spec = self.node.spec
        tp = self.config.tp
        gpus = [self.node.gpus[i] for i in self.gpu_indices]
        s = min(g.clock_ratio for g in gpus)
        limit = min(g.power_limit_w for g in gpus)
        volt = 0.55 + 0.45 * s  # voltage roughly follows frequency above a floor
        comm = 1.0 + spec.tp_overhead * math.log2(tp) if tp > 1 else 1.0
        t_compute = flops / (spec.peak_flops * spec.flops_efficiency * s * tp)
        t_memory = nbytes / (spec.mem_bandwidth * spec.bandwidth_efficiency * tp)
        t = max(t_compute, t_memory) * comm + passes * spec.step_overhead_s
        if t <= 0:
            return _Phase(time_s=0.0, power_per_gpu_w=spec.idle_power_w, capped=False, mem_util=0)
        dynamic = spec.energy_per_flop_j * volt**2 * flops + spec.energy_per_byte_j * nbytes
        static = spec.idle_power_w + spec.static_power_w * s * volt**2
        if self.noise:
            t *= math.exp(rng.normal(0.0, 0.01))
            dynamic *= math.exp(rng.normal(0.0, 0.005))
        power = static + dynamic / (tp * t)
        capped = power > limit
        if capped:
            t = dynamic / (tp * (limit - static)) if limit > static else t * power / limit
            power = limit
        mem_util = min(100.0, 100.0 * t_memory / t)
        return _Phase(time_s=t, power_per_gpu_w=power, capped=capped, mem_util=mem_util)

    def run(
        self, n_in: int, n_out: int, n_requests: int, *, concurrency: int, seed: int
    ) -> BatchResult:
        """Simulate ``n_requests`` requests in waves and advance the simulated clock.

        Parameters
        ----------
        n_in, n_out : int
            Exact lengths [tokens].
        n_requests : int
            Requests to run.
        concurrency : int
            Most requests in flight.
        seed : int
            Seed of the noise.

        Returns
        -------
        BatchResult
            Simulated timings.
        """
        if not self._loaded:
            self.load()
        check_run_arguments(n_in, n_out, n_requests, concurrency)
        rng = np.random.default_rng(seed)
        width = min(concurrency, self.max_batch_size, self._kv_capacity(n_in, n_out))
        requests: list[RequestTiming] = []
        elapsed = 0.0
        done = 0
        n_power = len(self.node.gpus)
        idle = self.node.spec.idle_power_w
        counts: dict[int, Any] = {}  # the waves of a batch share their size: count once
        while done < n_requests:
            b = min(width, n_requests - done)
            c = counts.get(b)
            if c is None:
                c = counts[b] = count_terms(self.arch, n_in, n_out, batch_size=b)
            weights = float(c.weight_bytes) * b
            kv_prompt = float(c.kv_write_bytes) * b * n_in / (n_in + n_out - 1)
            pre = self._phase(b * float(c.prefill_flops), weights / n_out + kv_prompt, 1, rng)
            dec_bytes = (
                weights * (n_out - 1) / n_out
                + b * float(c.kv_read_bytes + c.kv_write_bytes)
                - kv_prompt
            )
            dec = self._phase(b * float(c.decode_flops), dec_bytes, n_out - 1, rng)
            for phase in (pre, dec):
                if phase.time_s <= 0:
                    continue
                power = [idle] * n_power
                for g in self.gpu_indices:
                    power[g] = phase.power_per_gpu_w
                    self.node.gpus[g].capped = phase.capped
                self.node.busy(round(phase.time_s * _NS), power, (100.0, phase.mem_util))
            ttft = self.node.spec.request_overhead_s + pre.time_s
            tbt = dec.time_s / (n_out - 1) if n_out > 1 else math.nan
            e2e = ttft + dec.time_s
            requests.extend(
                RequestTiming(n_in=n_in, n_out=n_out, ttft_s=ttft, tbt_s=tbt, e2e_s=e2e)
                for _ in range(b)
            )
            elapsed += pre.time_s + dec.time_s
            done += b
        return BatchResult(requests=tuple(requests), wall_s=elapsed)
