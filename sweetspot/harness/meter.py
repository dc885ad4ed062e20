"""GPU energy meters: a protocol, the NVML total-energy-counter meter, and the idle baseline.

A meter measures *windows*: :meth:`EnergyMeter.start` opens one, :meth:`EnergyMeter.stop`
closes it and returns a :class:`Window` with the energy of every measured GPU [J], the
duration [s] and a timeline of instant-power samples. The authoritative energy is the
difference of NVML's total-energy counter at the window edges; the power samples are for
plots and cross-checks (their integral is recorded as ``integrated_energy_j``).

Implementations: :class:`NvmlMeter` (real GPUs, through ``pynvml``) and
:class:`~sweetspot.harness.engines.fake.FakeMeter` (the simulated GPU of the fake engine).

Notes
-----
Facts the meter relies on (NVML API reference, "Device queries"):

- ``nvmlDeviceGetTotalEnergyConsumption(handle)`` returns the energy in millijoules since
  the driver was last loaded (Volta and newer); it is updated about every 100 ms and resets
  when the driver reloads (persistence mode keeps the driver loaded).
- ``nvmlDeviceGetPowerUsage`` is in milliwatts but, on Ampere (except A100) and newer
  including H100, a 1-second average. Instant power is read with
  ``nvmlDeviceGetFieldValues(handle, [NVML_FI_DEV_POWER_INSTANT])`` (field 186, in mW).
- Yang, Adamek and Armour (SC24) found that the A100/H100 power sensors observe only about
  25 % of the runtime, so windows of several seconds and repetition matter.

To remove the up-to-100-ms quantisation at the edges, the meter (by default) waits for the
counter to tick before it opens a window and again after the work has ended, and takes the
window duration between those two ticks: energy and duration then cover the same interval.

References
----------
Z. Yang, K. Adamek, W. Armour, "Accurate and Convenient Energy Measurements for GPUs: A
Detailed Study of NVIDIA GPU's Built-In Power Sensor", SC24.
J.-W. Chung et al., "Zeus: Understanding and Optimizing GPU Energy Consumption of DNN
Training", NSDI 2023 (measurement windows over the NVML counter).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

from ..exceptions import DeviceError, SpecError
from ._nvml import decode, import_pynvml, nvml_call, nvml_error_code
from .clock import Clock, RealClock
from .devices import GpuDevice, _count, _device, _open, _Physical, _resolve

__all__ = [
    "MIN_COUNTER_UPDATES",
    "POWER_TOLERANCE",
    "DeviceInfo",
    "DeviceState",
    "EnergyMeter",
    "IdleBaseline",
    "NvmlMeter",
    "PowerSample",
    "Window",
    "measure_idle",
    "window_quality",
]

COUNTER_UPDATE_S = 0.1
"""Update period of the NVML total-energy counter [s] (about 100 ms, product dependent)."""

NVML_FI_DEV_POWER_INSTANT = 186
"""NVML field id of the instant power (``nvmlFieldValue_t``, in mW), used when the bindings
do not export the constant."""

POWER_TOLERANCE = 0.10
"""Largest relative difference between the counter energy and the integrated instant power
of a window before the point is flagged ``counter_power_mismatch`` (10 %)."""

MIN_COUNTER_UPDATES = 10
"""A window shorter than this many counter update periods is flagged ``short_window``: its
energy rests on a few counter steps (one update of quantisation at each edge)."""

# A counter step this large within one window cannot be a real measurement: the counter was
# reset (driver reload) or a binding truncated it (old nvidia-ml-py3 used a 32-bit c_uint).
_IMPOSSIBLE_POWER_W = 5000.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerSample:
    """One instant-power reading of every measured GPU.

    Attributes
    ----------
    t_s : float
        Time since the window opened [s].
    power_w : tuple of float
        Instant power of each measured GPU [W].
    """

    t_s: float
    power_w: tuple[float, ...]

    @property
    def total_w(self) -> float:
        """Sum over the measured GPUs [W]."""
        return float(sum(self.power_w))


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The energy of one measurement window.

    Attributes
    ----------
    duration_s : float
        Length of the window [s] (between the counter ticks that bound it).
    energy_per_gpu_j : tuple of float
        Counter difference of each measured GPU [J].
    samples : tuple of PowerSample
        Instant-power timeline (may be empty for very short windows).
    gpu_util_pct, mem_util_pct : float
        Mean GPU and memory-controller utilisation over the samples [%] (NaN if none).
    power_source : str
        What the samples read: ``"instant"`` (``NVML_FI_DEV_POWER_INSTANT``), ``"average"``
        (``nvmlDeviceGetPowerUsage``, a 1 s average on recent GPUs) or ``"simulated"``.
    counter_update_s : float
        Update period of the energy counter [s].
    aligned : bool
        True when both window edges were placed on counter updates.
    simulated : bool
        True when the numbers come from the simulated GPU of the fake engine.
    """

    duration_s: float
    energy_per_gpu_j: tuple[float, ...]
    samples: tuple[PowerSample, ...] = ()
    gpu_util_pct: float = math.nan
    mem_util_pct: float = math.nan
    power_source: str = "instant"
    counter_update_s: float = COUNTER_UPDATE_S
    aligned: bool = True
    simulated: bool = False

    @property
    def energy_j(self) -> float:
        """Energy of the window summed over the measured GPUs [J]."""
        return float(sum(self.energy_per_gpu_j))

    @property
    def avg_power_w(self) -> float:
        """Mean power, energy over duration [W]."""
        return self.energy_j / self.duration_s if self.duration_s > 0 else math.nan

    @property
    def peak_power_w(self) -> float:
        """Largest sampled total instant power [W] (NaN without samples)."""
        return max((s.total_w for s in self.samples), default=math.nan)

    @property
    def integrated_energy_j(self) -> float:
        """Trapezoidal integral of the sampled power over the window [J] (NaN if < 2 samples).

        A cross-check of the counter: the two disagree when the power sensor misses fast
        transients or when the samples are 1-second averages.
        """
        if len(self.samples) < 2:
            return math.nan
        total = 0.0
        for a, b in zip(self.samples[:-1], self.samples[1:], strict=True):
            total += 0.5 * (a.total_w + b.total_w) * (b.t_s - a.t_s)
        return total

    @property
    def energy_resolution_j(self) -> float:
        """Worst-case quantisation error of the counter difference [J].

        Two counter updates of mean power each when the edges are not aligned, else the mJ
        resolution of the counter per GPU.
        """
        if self.aligned:
            return 1e-3 * len(self.energy_per_gpu_j)
        return 2.0 * self.counter_update_s * self.avg_power_w


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceState:
    """Thermal and clock state of one GPU, read after a window.

    Attributes
    ----------
    index : int
        NVML device index.
    temperature_c : float
        GPU temperature [degC].
    sm_clock_mhz, mem_clock_mhz : float
        Current SM and memory clocks [MHz].
    throttle_reasons : int
        Bit mask of ``nvmlDeviceGetCurrentClocksEventReasons`` (0 when nothing limits the
        clocks; e.g. 0x4 software power cap, 0x20 software thermal slowdown).
    power_limit_w : float
        Enforced power limit [W].
    """

    index: int
    temperature_c: float
    sm_clock_mhz: float
    mem_clock_mhz: float
    throttle_reasons: int
    power_limit_w: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceInfo:
    """Provenance of one GPU.

    Attributes
    ----------
    index : int
        NVML device index.
    name, uuid : str
        Product name and UUID.
    persistence_mode : bool or None
        Whether persistence mode is on (None if unknown).
    default_power_limit_w, min_power_limit_w, max_power_limit_w : float
        Default power limit and its allowed range [W] (NaN if unknown).
    max_sm_clock_mhz : float
        Largest supported SM clock [MHz] (NaN if unknown).
    pci_bus_id : str
        PCI bus id as NVML writes it (empty if unknown).
    mig_uuid : str or None
        The MIG instance the engine runs on (the counter covers the whole GPU).
    """

    index: int
    name: str
    uuid: str
    persistence_mode: bool | None = None
    default_power_limit_w: float = math.nan
    min_power_limit_w: float = math.nan
    max_power_limit_w: float = math.nan
    max_sm_clock_mhz: float = math.nan
    pci_bus_id: str = ""
    mig_uuid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IdleBaseline:
    """Power of the measured GPUs with the model loaded and no requests.

    Reported beside the raw energy of every point, never subtracted from it.

    Attributes
    ----------
    power_w : float
        Mean idle power summed over the measured GPUs [W].
    power_per_gpu_w : tuple of float
        Mean idle power of each GPU [W].
    duration_s : float
        Length of the idle window [s].
    energy_j : float
        Energy of the idle window [J].
    simulated : bool
        True for the simulated GPU.
    """

    power_w: float
    power_per_gpu_w: tuple[float, ...]
    duration_s: float
    energy_j: float
    simulated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (for the store manifest)."""
        return {
            "power_w": self.power_w,
            "power_per_gpu_w": list(self.power_per_gpu_w),
            "duration_s": self.duration_s,
            "energy_j": self.energy_j,
            "simulated": self.simulated,
        }


@runtime_checkable
class EnergyMeter(Protocol):
    """What the sweep needs from an energy meter."""

    @property
    def n_gpus(self) -> int:
        """Number of GPUs measured."""
        ...

    @property
    def simulated(self) -> bool:
        """True when the meter reads a simulated device."""
        ...

    def start(self) -> None:
        """Open a window."""
        ...

    def stop(self) -> Window:
        """Close the window opened by :meth:`start` and return it."""
        ...

    def read_states(self) -> tuple[DeviceState, ...]:
        """Temperature, clocks, throttle reasons and power limit of each measured GPU."""
        ...

    def device_info(self) -> tuple[DeviceInfo, ...]:
        """Provenance of each measured GPU."""
        ...

    def counter_update_period_s(self, duration_s: float = 1.0) -> float:
        """Update period of the energy counter, from polling it for ``duration_s`` [s]
        (NaN when it changed too rarely to tell)."""
        ...

    def system_info(self) -> dict[str, Any]:
        """Driver, CUDA and binding versions."""
        ...

    def close(self) -> None:
        """Release the meter (stop threads, shut NVML down)."""
        ...


def measure_idle(meter: EnergyMeter, clock: Clock, duration_s: float) -> IdleBaseline:
    """Measure the idle power: a window with the model loaded and no requests.

    Parameters
    ----------
    meter : EnergyMeter
        The meter of the GPUs the model is loaded on.
    clock : Clock
        The clock to let the idle time pass with.
    duration_s : float
        Length of the idle window [s]; tens of seconds on a real GPU (the power sensor sees
        only part of the time, and idle power settles slowly after load).

    Returns
    -------
    IdleBaseline

    Raises
    ------
    SpecError
        If ``duration_s`` is not positive.
    DeviceError
        From the meter.
    """
    if not duration_s > 0:
        raise SpecError(
            f"duration_s must be positive (seconds); got {duration_s!r}. The idle baseline "
            "needs a window of a few seconds (e.g. --idle-s 10)."
        )
    meter.start()
    try:
        clock.sleep(duration_s)
    finally:
        window = meter.stop()
    per_gpu = tuple(e / window.duration_s for e in window.energy_per_gpu_j)
    return IdleBaseline(
        power_w=window.avg_power_w,
        power_per_gpu_w=per_gpu,
        duration_s=window.duration_s,
        energy_j=window.energy_j,
        simulated=meter.simulated,
    )


def _covered_energy_j(window: Window) -> float:
    """Integrated power over the whole window: the trapezoids between samples, and the first
    and last sample held to the window edges (NaN with fewer than 2 samples)."""
    samples = window.samples
    if len(samples) < 2:
        return math.nan
    inner = window.integrated_energy_j
    head = samples[0].total_w * max(samples[0].t_s, 0.0)
    tail = samples[-1].total_w * max(window.duration_s - samples[-1].t_s, 0.0)
    return inner + head + tail


def window_quality(
    window: Window,
    *,
    counter_update_s: float | None = None,
    tolerance: float = POWER_TOLERANCE,
    min_updates: int = MIN_COUNTER_UPDATES,
) -> tuple[str, ...]:
    """Quality flags of a window (empty when nothing is doubtful).

    Parameters
    ----------
    window : Window
        The measured window.
    counter_update_s : float, optional
        Update period of the energy counter [s] (measured on the GPU; default the window's).
    tolerance : float, default POWER_TOLERANCE
        Largest accepted relative difference between counter and integrated power.
    min_updates : int, default MIN_COUNTER_UPDATES
        Fewest counter updates a window should span.

    Returns
    -------
    tuple of str
        ``"short_window"`` when the window lasts less than ``min_updates`` counter
        updates; ``"counter_power_mismatch"`` when the counter energy and the integral of
        the sampled power (edges held) differ by more than ``tolerance``.

    Examples
    --------
    >>> w = Window(duration_s=0.5, energy_per_gpu_j=(50.0,))
    >>> window_quality(w)
    ('short_window',)
    """
    flags: list[str] = []
    period = window.counter_update_s if counter_update_s is None else counter_update_s
    if math.isfinite(period) and window.duration_s < min_updates * period:
        flags.append("short_window")
    covered = _covered_energy_j(window)
    mismatch = abs(covered - window.energy_j) > tolerance * window.energy_j
    if math.isfinite(covered) and window.energy_j > 0 and mismatch:
        flags.append("counter_power_mismatch")
    return tuple(flags)


# --------------------------------------------------------------------------------- NVML


@dataclass(slots=True)
class _Sampler:
    """Background thread reading instant power and utilisation at a fixed rate."""

    read: Any  # callable () -> (power tuple, gpu util, mem util)
    interval_s: float
    clock: Clock
    t0: float = 0.0
    samples: list[PowerSample] = field(default_factory=list)
    util: list[tuple[float, float]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, t0: float) -> None:
        self.t0 = t0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sweetspot-power", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                power, gpu_util, mem_util = self.read()
                self.samples.append(PowerSample(t_s=self.clock.now() - self.t0, power_w=power))
                self.util.append((gpu_util, mem_util))
            except Exception as exc:  # a failed sample must not kill the window
                self.errors.append(exc)
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class NvmlMeter:
    """Energy of NVIDIA GPUs from NVML's total-energy counter, with an instant-power timeline.

    Parameters
    ----------
    gpu_indices : sequence of int, optional
        NVML indices of the GPUs to measure (all of them by default). NVML indices ignore
        ``CUDA_VISIBLE_DEVICES``: to meter the GPUs an engine runs on, pass ``n_gpus``.
    gpus : sequence of int or str, optional
        With ``n_gpus``: the engine's devices as CUDA sees them -- positions among the
        devices visible to this process, or GPU / MIG UUIDs (default the first ``n_gpus``
        visible); resolved to NVML by UUID (:func:`~sweetspot.harness.devices.resolve_gpus`).
    n_gpus : int, optional
        Number of devices the engine runs on; switches to the resolution above.
    environ : mapping, optional
        Environment holding ``CUDA_VISIBLE_DEVICES`` (``os.environ`` by default).
    sample_interval_s : float, default 0.02
        Period of the background instant-power sampler [s] (50 Hz); 0 disables sampling.
    align : bool, default True
        Place both window edges on counter updates (see the module Notes).
    nvml : module, optional
        The NVML bindings; ``pynvml`` is imported lazily when omitted.
    clock : Clock, optional
        Time source (the host's monotonic clock by default).

    Raises
    ------
    DependencyError
        If ``pynvml`` (package ``nvidia-ml-py``) is not installed.
    DeviceError
        If NVML cannot start, a GPU index does not exist, or a GPU has no total-energy
        counter (pre-Volta, NVML_ERROR_NOT_SUPPORTED).

    Examples
    --------
    >>> meter = NvmlMeter([0])                  # doctest: +SKIP
    >>> meter.start(); run_requests(); w = meter.stop()   # doctest: +SKIP
    >>> w.energy_j, w.duration_s                # doctest: +SKIP
    (1834.2, 5.13)
    """

    simulated = False

    def __init__(
        self,
        gpu_indices: Sequence[int] | None = None,
        *,
        gpus: Sequence[int | str] | None = None,
        n_gpus: int | None = None,
        environ: Mapping[str, str] | None = None,
        sample_interval_s: float = 0.02,
        align: bool = True,
        nvml: ModuleType | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not sample_interval_s >= 0:
            raise SpecError(
                f"sample_interval_s must be >= 0 seconds (0 turns power sampling off); got "
                f"{sample_interval_s!r}."
            )
        self._nvml = nvml if nvml is not None else import_pynvml()
        self._clock: Clock = clock if clock is not None else RealClock()
        self._interval = float(sample_interval_s)
        self._align = bool(align)
        self._sampler: _Sampler | None = None
        self._start: tuple[float, list[int]] | None = None
        nv = self._nvml
        nvml_call(nv, "initialising NVML (nvmlInit)", nv.nvmlInit)
        self._initialised = True
        try:
            if n_gpus is not None:
                if gpu_indices is not None:
                    raise SpecError("pass either gpu_indices (NVML indices) or n_gpus, not both.")
                devices, opened = _resolve(nv, gpus, int(n_gpus), environ=environ)
                handle_of = {p.index: p.handle for p in opened}
                handles = [handle_of[d.nvml_index] for d in devices]
            else:
                chosen = self._by_nvml_index(gpu_indices)
                devices = tuple(_device(p) for p in chosen)
                handles = [p.handle for p in chosen]
        except BaseException:
            self.close()
            raise
        self.devices: tuple[GpuDevice, ...] = devices
        self.gpu_indices: tuple[int, ...] = tuple(d.nvml_index for d in devices)
        self._handles = handles  # opened while resolving the devices
        for index, handle in zip(self.gpu_indices, self._handles, strict=True):
            try:
                nvml_call(
                    nv,
                    f"reading the total-energy counter of GPU {index}",
                    nv.nvmlDeviceGetTotalEnergyConsumption,
                    handle,
                )
            except DeviceError:
                self.close()
                raise
        self._field = int(getattr(nv, "NVML_FI_DEV_POWER_INSTANT", NVML_FI_DEV_POWER_INSTANT))
        self.power_source = "instant" if self._instant_supported() else "average"

    # -- protocol ------------------------------------------------------------------------
    @property
    def n_gpus(self) -> int:
        """Number of GPUs measured."""
        return len(self._handles)

    def start(self) -> None:
        """Open a window (on a counter update when aligned) and start the power sampler.

        Raises
        ------
        DeviceError
            If a window is already open or the counter cannot be read.
        """
        if self._start is not None:
            raise DeviceError("a measurement window is already open; call stop() first.")
        t0, counters = self._edge()
        self._start = (t0, counters)
        if self._interval > 0:
            self._sampler = _Sampler(self._sample, self._interval, self._clock)
            self._sampler.start(t0)

    def stop(self) -> Window:
        """Close the window and return its energy.

        Raises
        ------
        DeviceError
            If no window is open, or a counter went backwards (driver reload / reset, or a
            32-bit binding wrapped) or jumped by more than any GPU can draw.
        """
        if self._start is None:
            raise DeviceError("no measurement window is open; call start() first.")
        t0, first = self._start
        self._start = None
        try:
            t1, last = self._edge()
        finally:
            sampler, self._sampler = self._sampler, None
            if sampler is not None:
                sampler.stop()
        duration = t1 - t0
        energies = []
        for index, a, b in zip(self.gpu_indices, first, last, strict=True):
            if b < a:
                raise DeviceError(
                    f"the total-energy counter of GPU {index} went backwards during the window "
                    f"(from {a} mJ to {b} mJ): the driver reloaded (the counter resets), or the "
                    "bindings truncate it to 32 bits and it wrapped. Enable persistence mode "
                    "(sudo nvidia-smi -pm 1), make sure nvidia-ml-py >= 12 (not nvidia-ml-py3) "
                    "is installed, and measure the point again (rerun with --resume)."
                )
            joules = (b - a) / 1000.0
            if duration > 0 and joules / duration > _IMPOSSIBLE_POWER_W:
                raise DeviceError(
                    f"the total-energy counter of GPU {index} jumped by {joules:.0f} J in "
                    f"{duration:.2f} s ({joules / duration:.0f} W, more than any GPU draws): it "
                    "was reset or wrapped during the window. Enable persistence mode and measure "
                    "the point again (rerun with --resume)."
                )
            energies.append(joules)
        samples: tuple[PowerSample, ...] = ()
        gpu_util = mem_util = math.nan
        if sampler is not None:
            samples = tuple(s for s in sampler.samples if s.t_s <= duration)
            if sampler.util:
                gpu_util = sum(u for u, _ in sampler.util) / len(sampler.util)
                mem_util = sum(m for _, m in sampler.util) / len(sampler.util)
        return Window(
            duration_s=duration,
            energy_per_gpu_j=tuple(energies),
            samples=samples,
            gpu_util_pct=gpu_util,
            mem_util_pct=mem_util,
            power_source=self.power_source,
            aligned=self._align,
        )

    def read_states(self) -> tuple[DeviceState, ...]:
        """Temperature, clocks, throttle reasons and power limit of each measured GPU.

        Raises
        ------
        DeviceError
            If NVML fails.
        """
        nv = self._nvml
        reasons_fn = getattr(nv, "nvmlDeviceGetCurrentClocksEventReasons", None) or getattr(
            nv, "nvmlDeviceGetCurrentClocksThrottleReasons", None
        )
        states = []
        for index, h in zip(self.gpu_indices, self._handles, strict=True):
            temp = nvml_call(
                nv,
                f"reading the temperature of GPU {index}",
                nv.nvmlDeviceGetTemperature,
                h,
                getattr(nv, "NVML_TEMPERATURE_GPU", 0),
            )
            sm = nvml_call(
                nv,
                f"reading the SM clock of GPU {index}",
                nv.nvmlDeviceGetClockInfo,
                h,
                getattr(nv, "NVML_CLOCK_SM", 1),
            )
            mem = nvml_call(
                nv,
                f"reading the memory clock of GPU {index}",
                nv.nvmlDeviceGetClockInfo,
                h,
                getattr(nv, "NVML_CLOCK_MEM", 2),
            )
            reasons = 0
            if reasons_fn is not None:
                reasons = int(
                    nvml_call(nv, f"reading the clock event reasons of GPU {index}", reasons_fn, h)
                )
            limit = nvml_call(
                nv,
                f"reading the power limit of GPU {index}",
                nv.nvmlDeviceGetEnforcedPowerLimit,
                h,
            )
            states.append(
                DeviceState(
                    index=index,
                    temperature_c=float(temp),
                    sm_clock_mhz=float(sm),
                    mem_clock_mhz=float(mem),
                    throttle_reasons=reasons,
                    power_limit_w=float(limit) / 1000.0,
                )
            )
        return tuple(states)

    def device_info(self) -> tuple[DeviceInfo, ...]:
        """Name, UUID, persistence mode, power-limit range and top clock of each GPU."""
        nv = self._nvml
        infos = []
        for device, h in zip(self.devices, self._handles, strict=True):
            index = device.nvml_index
            name, uuid = device.name, device.uuid
            persistence = self._optional(lambda h=h: nv.nvmlDeviceGetPersistenceMode(h))
            default = self._optional(lambda h=h: nv.nvmlDeviceGetPowerManagementDefaultLimit(h))
            limits = self._optional(lambda h=h: nv.nvmlDeviceGetPowerManagementLimitConstraints(h))
            top = self._optional(
                lambda h=h: nv.nvmlDeviceGetMaxClockInfo(h, getattr(nv, "NVML_CLOCK_SM", 1))
            )
            infos.append(
                DeviceInfo(
                    index=index,
                    name=name,
                    uuid=uuid,
                    persistence_mode=None if persistence is None else bool(persistence),
                    default_power_limit_w=math.nan if default is None else default / 1000.0,
                    min_power_limit_w=math.nan if limits is None else limits[0] / 1000.0,
                    max_power_limit_w=math.nan if limits is None else limits[1] / 1000.0,
                    max_sm_clock_mhz=math.nan if top is None else float(top),
                    pci_bus_id=device.pci_bus_id,
                    mig_uuid=device.mig_uuid,
                )
            )
        return tuple(infos)

    def system_info(self) -> dict[str, Any]:
        """Driver version, CUDA driver version and NVML version (None where unknown)."""
        nv = self._nvml
        driver = self._optional(nv.nvmlSystemGetDriverVersion)
        cuda = self._optional(nv.nvmlSystemGetCudaDriverVersion)
        version = self._optional(nv.nvmlSystemGetNVMLVersion)
        cuda_text = None
        if isinstance(cuda, int) and cuda > 0:
            cuda_text = f"{cuda // 1000}.{(cuda % 1000) // 10}"
        return {
            "driver_version": None if driver is None else decode(driver),
            "cuda_driver_version": cuda_text,
            "nvml_version": None if version is None else decode(version),
            "power_source": self.power_source,
        }

    def close(self) -> None:
        """Stop the sampler and shut NVML down (idempotent)."""
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None
        if getattr(self, "_initialised", False):
            self._initialised = False
            try:
                self._nvml.nvmlShutdown()
            except Exception as exc:
                if nvml_error_code(self._nvml, exc) is None:
                    raise

    def __enter__(self) -> NvmlMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------
    @property
    def handles(self) -> tuple[Any, ...]:
        """The NVML device handles (shared with the knob controller)."""
        return tuple(self._handles)

    @property
    def nvml(self) -> ModuleType:
        """The NVML bindings in use."""
        return self._nvml

    def _by_nvml_index(self, gpu_indices: Sequence[int] | None) -> list[_Physical]:
        """The GPUs at these NVML indices (all by default), opened, with their UUIDs."""
        nv = self._nvml
        count = _count(nv)
        indices = list(range(count)) if gpu_indices is None else [int(i) for i in gpu_indices]
        if not indices:
            raise DeviceError("no GPU to measure: NVML reports 0 devices on this machine.")
        bad = [i for i in indices if not 0 <= i < count]
        if bad:
            raise DeviceError(
                f"GPU index {bad[0]} does not exist: NVML reports {count} GPU(s), indices "
                f"0..{count - 1}. Pick indices from `nvidia-smi -L`."
            )
        return [_open(nv, i) for i in indices]

    def counter_update_period_s(self, duration_s: float = 1.0) -> float:
        """Measure the update period of the first GPU's energy counter [s].

        The counter is polled for ``duration_s`` and the median interval between its changes
        is returned (NaN when it changed fewer than 3 times: an idle GPU at a tiny power, or
        a window too short).
        """
        nv = self._nvml
        h = self._handles[0]
        t_end = self._clock.now() + duration_s
        last = nvml_call(
            nv, "reading the energy counter", nv.nvmlDeviceGetTotalEnergyConsumption, h
        )
        changes: list[float] = []
        poll = min(0.002, COUNTER_UPDATE_S / 20)
        while (now := self._clock.now()) < t_end:
            value = nv.nvmlDeviceGetTotalEnergyConsumption(h)
            if value != last:
                changes.append(now)
                last = value
            self._clock.sleep(poll)
        if len(changes) < 3:
            return math.nan
        gaps = sorted(b - a for a, b in itertools.pairwise(changes))
        return float(gaps[len(gaps) // 2])

    def _optional(self, fn: Any) -> Any:
        try:
            return fn()
        except Exception as exc:
            if nvml_error_code(self._nvml, exc) is None and not isinstance(exc, AttributeError):
                raise
            return None

    def _counters(self) -> list[int]:
        nv = self._nvml
        return [
            int(
                nvml_call(
                    nv,
                    f"reading the total-energy counter of GPU {index}",
                    nv.nvmlDeviceGetTotalEnergyConsumption,
                    h,
                )
            )
            for index, h in zip(self.gpu_indices, self._handles, strict=True)
        ]

    def _edge(self) -> tuple[float, list[int]]:
        """Read the counters at a window edge, after the next counter update if aligned."""
        counters = self._counters()
        if not self._align:
            return self._clock.now(), counters
        deadline = self._clock.now() + 10 * COUNTER_UPDATE_S
        poll = min(0.002, COUNTER_UPDATE_S / 20)
        while True:
            now = self._clock.now()
            current = self._counters()
            # The first GPU's update marks the edge; GPUs update independently, so with
            # several GPUs each keeps its own quantisation (the resolution is still ~mJ per
            # update period for the first and <= one update period of power for the others).
            if current[0] != counters[0] or now >= deadline:
                return now, current
            self._clock.sleep(poll)

    def _instant_supported(self) -> bool:
        nv = self._nvml
        fn = getattr(nv, "nvmlDeviceGetFieldValues", None)
        if fn is None:
            return False
        try:
            values = fn(self._handles[0], [self._field])
        except Exception as exc:
            if nvml_error_code(nv, exc) is None:
                raise
            return False
        return int(getattr(values[0], "nvmlReturn", 1)) == 0

    def _sample(self) -> tuple[tuple[float, ...], float, float]:
        nv = self._nvml
        powers = []
        gpu_util = mem_util = 0.0
        for h in self._handles:
            if self.power_source == "instant":
                value = nv.nvmlDeviceGetFieldValues(h, [self._field])[0]
                if int(value.nvmlReturn) != 0:
                    raise DeviceError(f"instant power read failed (NVML code {value.nvmlReturn})")
                powers.append(_field_number(value) / 1000.0)
            else:
                powers.append(nv.nvmlDeviceGetPowerUsage(h) / 1000.0)
            rates = nv.nvmlDeviceGetUtilizationRates(h)
            gpu_util += float(rates.gpu)
            mem_util += float(rates.memory)
        n = len(self._handles)
        return tuple(powers), gpu_util / n, mem_util / n


def _field_number(value: Any) -> float:
    """The number in an ``nvmlFieldValue_t`` according to its ``valueType``."""
    member = {0: "dVal", 1: "uiVal", 2: "ulVal", 3: "ullVal", 4: "sllVal", 5: "siVal", 6: "usVal"}
    name = member.get(int(getattr(value, "valueType", 1)), "uiVal")
    return float(getattr(value.value, name))
