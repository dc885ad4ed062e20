"""Device knobs: locked GPU clocks and power limits, set safely and always reset.

The literature's GPU-side knobs (Stojkovic et al. 2024: GPU frequency; Samsi et al. 2023:
power capping) are set through NVML and *always* restored: in a ``finally`` block, and on
SIGTERM (turned into :class:`SystemExit` so that the ``finally`` blocks run; SIGINT already
raises :class:`KeyboardInterrupt`). Valid values are read from the device, never hard-coded.
Only ``kill -9`` cannot be caught; reset a GPU by hand with ``sudo nvidia-smi -rgc`` (clocks)
and ``sudo nvidia-smi -pl <default W>`` (power limit), or rerun the sweep, which resets the
knobs after every point.

Notes
-----
NVML calls used (root or CAP_SYS_ADMIN, else ``NVML_ERROR_NO_PERMISSION``):
``nvmlDeviceSetGpuLockedClocks(h, min_mhz, max_mhz)`` / ``nvmlDeviceResetGpuLockedClocks(h)``;
``nvmlDeviceSetPowerManagementLimit(h, milliwatts)`` with the range from
``nvmlDeviceGetPowerManagementLimitConstraints`` and the default from
``nvmlDeviceGetPowerManagementDefaultLimit``; the supported clocks from
``nvmlDeviceGetSupportedMemoryClocks`` and ``nvmlDeviceGetSupportedGraphicsClocks(h, mem)``.
None of these settings survive a driver reload.

References
----------
NVML API reference, "Device commands": https://docs.nvidia.com/deploy/nvml-api/
J. Stojkovic et al., "Towards Greener LLMs: Bringing Energy-Efficiency to the Forefront of
LLM Inference", 2024. S. Samsi et al., "From Words to Watts", IEEE HPEC 2023.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any, Protocol, runtime_checkable

from ..exceptions import DeviceError, SpecError
from ._nvml import nvml_call

__all__ = [
    "DeviceControl",
    "Knobs",
    "NvmlControl",
    "apply_knobs",
    "terminate_on_signals",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Knobs:
    """GPU-side settings of one sweep point.

    Attributes
    ----------
    gpu_clock_mhz : int or None
        Lock the graphics (SM) clock to this value [MHz]; None keeps the default boost
        behaviour.
    power_limit_w : float or None
        Power limit [W]; None keeps the current limit.
    """

    gpu_clock_mhz: int | None = None
    power_limit_w: float | None = None

    @property
    def is_default(self) -> bool:
        """True when no knob is set."""
        return self.gpu_clock_mhz is None and self.power_limit_w is None


@runtime_checkable
class DeviceControl(Protocol):
    """Set and reset the knobs of the GPUs of one engine."""

    def supported_gpu_clocks_mhz(self) -> tuple[int, ...]:
        """Graphics clocks every controlled GPU supports [MHz], descending."""
        ...

    def power_limit_range_w(self) -> tuple[float, float]:
        """Smallest and largest power limit every controlled GPU accepts [W]."""
        ...

    def power_limit_w(self) -> tuple[float, ...]:
        """Current power limit of each controlled GPU [W]."""
        ...

    def set_gpu_clock(self, mhz: int) -> None:
        """Lock the graphics clock of every controlled GPU to ``mhz``."""
        ...

    def reset_gpu_clock(self) -> None:
        """Unlock the graphics clock of every controlled GPU."""
        ...

    def set_power_limit(self, watts: Sequence[float]) -> None:
        """Set the power limit of each controlled GPU [W]."""
        ...


def _check_knobs(control: DeviceControl, knobs: Knobs) -> None:
    if knobs.gpu_clock_mhz is not None:
        supported = control.supported_gpu_clocks_mhz()
        if int(knobs.gpu_clock_mhz) not in supported:
            near = sorted(supported, key=lambda c: abs(c - int(knobs.gpu_clock_mhz or 0)))[:3]
            raise SpecError(
                f"--gpu-clock-mhz {knobs.gpu_clock_mhz} is not a clock this GPU supports; the "
                f"nearest supported graphics clocks are {', '.join(map(str, sorted(near)))} MHz "
                f"(range {min(supported)}..{max(supported)} MHz, read from "
                "nvmlDeviceGetSupportedGraphicsClocks). Pick one of the supported values."
            )
    if knobs.power_limit_w is not None:
        low, high = control.power_limit_range_w()
        if not low <= float(knobs.power_limit_w) <= high:
            raise SpecError(
                f"--power-limit-w {knobs.power_limit_w:g} is outside the range this GPU "
                f"accepts, {low:g}..{high:g} W (nvmlDeviceGetPowerManagementLimitConstraints). "
                "Pick a limit inside the range."
            )


@contextlib.contextmanager
def apply_knobs(control: DeviceControl | None, knobs: Knobs) -> Iterator[None]:
    """Set the knobs for the duration of a ``with`` block, then always restore the device.

    Parameters
    ----------
    control : DeviceControl or None
        The GPUs' controller (None is allowed only when ``knobs`` sets nothing).
    knobs : Knobs
        What to set.

    Raises
    ------
    SpecError
        If a value is not supported by the device (the message lists valid values).
    DeviceError
        If the device refuses (e.g. no permission: the message says how to fix it).

    Notes
    -----
    The previous power limit is read first and restored afterwards; a locked clock is reset
    with ``nvmlDeviceResetGpuLockedClocks``. Restoration runs in ``finally`` (also on
    exceptions, :class:`KeyboardInterrupt` and the :class:`SystemExit` raised on SIGTERM
    inside :func:`terminate_on_signals`); every restore step is attempted even if one fails.
    A restore failure is raised after a successful block; after a failed block the original
    exception propagates, with the restore failure added as a note.
    """
    if knobs.is_default:
        yield
        return
    if control is None:
        raise SpecError(
            "GPU knobs were requested but no device controller is available for this engine."
        )
    _check_knobs(control, knobs)
    previous_limit: tuple[float, ...] | None = None
    clock_set = False
    failure: BaseException | None = None
    try:
        with terminate_on_signals():
            if knobs.power_limit_w is not None:
                previous_limit = control.power_limit_w()
                control.set_power_limit([float(knobs.power_limit_w)] * len(previous_limit))
            if knobs.gpu_clock_mhz is not None:
                clock_set = True  # a partly applied lock (some GPUs) must be reset too
                control.set_gpu_clock(int(knobs.gpu_clock_mhz))
            yield
    except BaseException as exc:
        failure = exc
        raise
    finally:
        errors: list[BaseException] = []
        if clock_set:
            try:
                control.reset_gpu_clock()
            except Exception as exc:
                errors.append(exc)
        if previous_limit is not None:
            try:
                control.set_power_limit(previous_limit)
            except Exception as exc:
                errors.append(exc)
        if errors and failure is None:
            raise errors[0]
        if errors and failure is not None and hasattr(failure, "add_note"):
            failure.add_note(f"restoring the GPU knobs also failed: {errors[0]}")


class _Terminated(SystemExit):
    """SIGTERM received: unwinds the stack so that ``finally`` blocks reset the device."""


@contextlib.contextmanager
def terminate_on_signals() -> Iterator[None]:
    """Turn SIGTERM into :class:`SystemExit` (exit code 143) inside the ``with`` block.

    Only the main thread can install signal handlers; elsewhere (Ray workers, threads) the
    block runs unchanged. A handler installed by someone else is left alone; ours is removed
    on exit. Nested uses are cheap.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None) and previous is not _raise_terminated:
        yield
        return
    installed = previous is not _raise_terminated
    if installed:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(128 + signum)


class NvmlControl:
    """Knobs of NVIDIA GPUs through NVML.

    Parameters
    ----------
    handles : sequence
        NVML device handles (e.g. :attr:`NvmlMeter.handles`).
    nvml : module
        The ``pynvml`` bindings.
    indices : sequence of int, optional
        The devices' indices, for messages.
    """

    def __init__(
        self, handles: Sequence[Any], nvml: ModuleType, indices: Sequence[int] | None = None
    ) -> None:
        self._handles = list(handles)
        self._nvml = nvml
        self._indices = list(indices) if indices is not None else list(range(len(handles)))

    def supported_gpu_clocks_mhz(self) -> tuple[int, ...]:
        """Graphics clocks supported by every GPU at its highest memory clock [MHz]."""
        nv = self._nvml
        common: set[int] | None = None
        for i, h in zip(self._indices, self._handles, strict=True):
            mems = nvml_call(
                nv,
                f"reading the supported memory clocks of GPU {i}",
                nv.nvmlDeviceGetSupportedMemoryClocks,
                h,
            )
            clocks = nvml_call(
                nv,
                f"reading the supported graphics clocks of GPU {i}",
                nv.nvmlDeviceGetSupportedGraphicsClocks,
                h,
                max(mems),
            )
            found = {int(c) for c in clocks}
            common = found if common is None else common & found
        return tuple(sorted(common or (), reverse=True))

    def power_limit_range_w(self) -> tuple[float, float]:
        """The intersection of the GPUs' power-limit constraints [W]."""
        nv = self._nvml
        lows, highs = [], []
        for i, h in zip(self._indices, self._handles, strict=True):
            low, high = nvml_call(
                nv,
                f"reading the power-limit range of GPU {i}",
                nv.nvmlDeviceGetPowerManagementLimitConstraints,
                h,
            )
            lows.append(low / 1000.0)
            highs.append(high / 1000.0)
        return max(lows), min(highs)

    def power_limit_w(self) -> tuple[float, ...]:
        """Current power-management limit of each GPU [W]."""
        nv = self._nvml
        return tuple(
            nvml_call(
                nv, f"reading the power limit of GPU {i}", nv.nvmlDeviceGetPowerManagementLimit, h
            )
            / 1000.0
            for i, h in zip(self._indices, self._handles, strict=True)
        )

    def set_gpu_clock(self, mhz: int) -> None:
        """Lock min and max graphics clock to ``mhz`` on every GPU."""
        nv = self._nvml
        for i, h in zip(self._indices, self._handles, strict=True):
            nvml_call(
                nv,
                f"locking the graphics clock of GPU {i} to {mhz} MHz",
                nv.nvmlDeviceSetGpuLockedClocks,
                h,
                int(mhz),
                int(mhz),
            )

    def reset_gpu_clock(self) -> None:
        """Unlock the graphics clocks of every GPU (each is attempted)."""
        nv = self._nvml
        errors: list[DeviceError] = []
        for i, h in zip(self._indices, self._handles, strict=True):
            try:
                nvml_call(
                    nv,
                    f"resetting the locked clocks of GPU {i}",
                    nv.nvmlDeviceResetGpuLockedClocks,
                    h,
                )
            except DeviceError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def set_power_limit(self, watts: Sequence[float]) -> None:
        """Set the power limit of each GPU [W] (NVML takes milliwatts)."""
        nv = self._nvml
        if len(watts) != len(self._handles):
            raise SpecError(
                f"expected one power limit per GPU ({len(self._handles)}); got {len(watts)}. "
                "Pass a value for each GPU the rig controls."
            )
        errors: list[DeviceError] = []
        for i, h, w in zip(self._indices, self._handles, watts, strict=True):
            try:
                nvml_call(
                    nv,
                    f"setting the power limit of GPU {i} to {w:g} W",
                    nv.nvmlDeviceSetPowerManagementLimit,
                    h,
                    round(w * 1000),
                )
            except DeviceError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
