"""A faithful fake of the ``pynvml`` module (nvidia-ml-py) for tests without a GPU.

It mirrors the subset of the real bindings the harness uses -- same function names,
argument order, units (mJ, mW, MHz) and error model (``NVMLError`` whose ``value`` is the
``nvmlReturn_t`` code, with one subclass per code such as ``NVMLError_NoPermission``) -- and
simulates devices behind it:

- the total-energy counter integrates the device's power over time and, like the real
  counter, only updates every 100 ms (it reports the energy at the last 100 ms tick) in whole
  millijoules; ``counter_bits=32`` makes it wrap like a 32-bit binding would, and
  :meth:`FakeDevice.reload_driver` resets it like a driver reload;
- instant power through ``nvmlDeviceGetFieldValues(h, [NVML_FI_DEV_POWER_INSTANT])`` and a
  1-second average through ``nvmlDeviceGetPowerUsage``;
- knobs that need privileges (``privileged=False`` gives ``NVML_ERROR_NO_PERMISSION``) and
  features that may be missing (``NVML_ERROR_NOT_SUPPORTED``).

Install it with ``monkeypatch.setitem(sys.modules, "pynvml", fakes.pynvml)`` and configure
the devices with :func:`fake_reset`. Time comes from :func:`time.monotonic` unless
:func:`fake_set_clock` installs another clock.

Written from the nvidia-ml-py 12/13 API (``pynvml.py``) and the NVML API reference; no code
was copied. The names and parameters of every function here, and the error semantics
(``NVMLError`` compares by ``value`` and is unhashable), are recorded from nvidia-ml-py
13.615.71 in ``tests/fakes/snapshots/pynvml.json`` and checked by
``tests/harness/test_harness_fakes.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar

# ---------------------------------------------------------------------------- constants

NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_ALREADY_INITIALIZED = 5
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_UNKNOWN = 999

NVML_TEMPERATURE_GPU = 0
NVML_CLOCK_GRAPHICS = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_FEATURE_DISABLED = 0
NVML_FEATURE_ENABLED = 1

NVML_FI_DEV_POWER_AVERAGE = 185
NVML_FI_DEV_POWER_INSTANT = 186

NVML_VALUE_TYPE_DOUBLE = 0
NVML_VALUE_TYPE_UNSIGNED_INT = 1
NVML_VALUE_TYPE_UNSIGNED_LONG = 2
NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3
NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4
NVML_VALUE_TYPE_SIGNED_INT = 5

nvmlClocksEventReasonGpuIdle = 0x1
nvmlClocksEventReasonApplicationsClocksSetting = 0x2
nvmlClocksEventReasonSwPowerCap = 0x4

_ERROR_STRINGS = {
    NVML_ERROR_UNINITIALIZED: "Uninitialized",
    NVML_ERROR_INVALID_ARGUMENT: "Invalid Argument",
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_NO_PERMISSION: "Insufficient Permissions",
    NVML_ERROR_ALREADY_INITIALIZED: "Already Initialized",
    NVML_ERROR_NOT_FOUND: "Not Found",
    NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
    NVML_ERROR_FUNCTION_NOT_FOUND: "Function Not Found",
    NVML_ERROR_GPU_IS_LOST: "GPU is lost",
    NVML_ERROR_UNKNOWN: "Unknown Error",
}


class NVMLError(Exception):
    """NVML failure; ``NVMLError(code)`` builds the subclass of that code, as the real one."""

    _value_class: ClassVar[dict[int, type[NVMLError]]] = {}

    def __new__(cls, value: int) -> NVMLError:
        if cls is NVMLError:
            cls = NVMLError._value_class.get(value, cls)
        obj = Exception.__new__(cls)
        obj.value = value  # type: ignore[attr-defined]
        return obj

    def __str__(self) -> str:
        return _ERROR_STRINGS.get(self.value, f"NVML Error with code {self.value}")

    # As in pynvml.py: __eq__ compares ``value`` (an AttributeError for an object without
    # one) and, __eq__ being defined without __hash__, the errors are unhashable.
    def __eq__(self, other: object) -> bool:
        return bool(self.value == other.value)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


def _error_class(code: int, name: str) -> type[NVMLError]:
    def new(cls: type[NVMLError]) -> NVMLError:
        return NVMLError.__new__(cls, code)

    cls = type(name, (NVMLError,), {"__new__": new})
    NVMLError._value_class[code] = cls
    return cls


NVMLError_Uninitialized = _error_class(NVML_ERROR_UNINITIALIZED, "NVMLError_Uninitialized")
NVMLError_InvalidArgument = _error_class(NVML_ERROR_INVALID_ARGUMENT, "NVMLError_InvalidArgument")
NVMLError_NotSupported = _error_class(NVML_ERROR_NOT_SUPPORTED, "NVMLError_NotSupported")
NVMLError_NoPermission = _error_class(NVML_ERROR_NO_PERMISSION, "NVMLError_NoPermission")
NVMLError_NotFound = _error_class(NVML_ERROR_NOT_FOUND, "NVMLError_NotFound")
NVMLError_DriverNotLoaded = _error_class(NVML_ERROR_DRIVER_NOT_LOADED, "NVMLError_DriverNotLoaded")
NVMLError_GpuIsLost = _error_class(NVML_ERROR_GPU_IS_LOST, "NVMLError_GpuIsLost")
NVMLError_Unknown = _error_class(NVML_ERROR_UNKNOWN, "NVMLError_Unknown")


# ---------------------------------------------------------------------------- devices

_TICK_S = 0.1


@dataclass
class FakeDevice:
    """State of one simulated GPU (tests change the attributes directly)."""

    index: int
    name: str = "NVIDIA H100 80GB HBM3"
    power_w: float = 100.0
    counter_offset_mj: int = 123_456_789
    counter_bits: int = 64
    supports_energy: bool = True
    supports_instant: bool = True
    supports_clock_lock: bool = True
    privileged: bool = True
    temperature_c: int = 45
    util_gpu: int = 0
    util_mem: int = 0
    default_limit_mw: int = 700_000
    limit_mw: int = 700_000
    min_limit_mw: int = 200_000
    max_limit_mw: int = 700_000
    memory_clocks: tuple[int, ...] = (2619,)
    graphics_clocks: tuple[int, ...] = tuple(range(1980, 209, -15))
    locked_clock: tuple[int, int] | None = None
    persistence: int = NVML_FEATURE_ENABLED
    uuid_text: str | None = None
    pci_bus: int | None = None
    mig_uuids: tuple[str, ...] = ()
    power_read_factor: float = 1.0
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    # power history: (time, energy [J] at that time, power [W] from then on)
    _history: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return self.uuid_text or f"GPU-fake-{self.index:04d}-0000-0000-000000000000"

    @property
    def pci_bus_id(self) -> str:
        """NVML's form of the PCI bus id (``domain:bus:device.function``, 8-digit domain)."""
        bus = self.pci_bus if self.pci_bus is not None else 0x18 + 0x10 * self.index
        return f"00000000:{bus:02X}:00.0"

    def _start(self, now: float) -> None:
        if not self._history:
            self._history.append((now, 0.0, self.power_w))

    def set_power(self, watts: float) -> None:
        """Change the power draw from now on (the counter integrates it)."""
        now = _clock()
        self._start(now)
        t, e, p = self._history[-1]
        self._history.append((now, e + p * (now - t), watts))
        self.power_w = watts

    def energy_j(self, at: float) -> float:
        """Energy drawn since the device appeared, at time ``at`` [J]."""
        self._start(at)
        if self.power_w != self._history[-1][2]:
            self.set_power(self.power_w)
        for t, e, p in reversed(self._history):
            if t <= at:
                return e + p * (at - t)
        return 0.0

    def counter_mj(self) -> int:
        """The counter as NVML reports it: energy at the last 100 ms tick, in mJ."""
        now = _clock()
        tick = math.floor(now / _TICK_S) * _TICK_S
        raw = self.counter_offset_mj + math.floor(self.energy_j(tick) * 1000.0)
        return raw % (1 << self.counter_bits)

    def reload_driver(self) -> None:
        """Simulate a driver reload: the counter restarts near zero."""
        now = _clock()
        self.counter_offset_mj = -math.floor(self.energy_j(now) * 1000.0)

    def power_average_w(self) -> float:
        """Mean power over the last second (what nvmlDeviceGetPowerUsage reports on H100)."""
        now = _clock()
        return (self.energy_j(now) - self.energy_j(now - 1.0)) / 1.0


class _Handle:
    """Opaque device handle (``c_nvmlDevice_t`` in the real bindings)."""

    def __init__(self, device: FakeDevice) -> None:
        self._device = device

    def __repr__(self) -> str:
        return f"<fake nvmlDevice_t {self._device.index}>"


class _MigHandle:
    """Handle of a MIG instance: most device queries on it are not supported."""

    def __init__(self, device: FakeDevice, uuid: str) -> None:
        self._parent = device
        self.uuid = uuid

    def __repr__(self) -> str:
        return f"<fake MIG nvmlDevice_t {self.uuid}>"


_STATE: dict[str, Any] = {"init": 0, "devices": [], "clock": time.monotonic}


def _clock() -> float:
    return float(_STATE["clock"]())


def fake_reset(n_gpus: int = 1, **device_kwargs: Any) -> list[FakeDevice]:
    """Replace the simulated devices (and uninitialise NVML); returns them."""
    _STATE["init"] = 0
    _STATE["devices"] = [FakeDevice(index=i, **device_kwargs) for i in range(n_gpus)]
    return list(_STATE["devices"])


def fake_devices() -> list[FakeDevice]:
    """The simulated devices."""
    return list(_STATE["devices"])


def fake_set_clock(clock: Callable[[], float]) -> None:
    """Use another time source (default :func:`time.monotonic`)."""
    _STATE["clock"] = clock


def fake_initialised() -> bool:
    """True while nvmlInit has been called more often than nvmlShutdown."""
    return _STATE["init"] > 0


def _check_init() -> None:
    if _STATE["init"] <= 0:
        raise NVMLError(NVML_ERROR_UNINITIALIZED)


def _dev(handle: Any) -> FakeDevice:
    _check_init()
    if isinstance(handle, _MigHandle):  # per-GPU queries (energy, power, clocks)
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    if not isinstance(handle, _Handle):
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    return handle._device


# ---------------------------------------------------------------------------- API


def nvmlInit() -> None:
    _STATE["init"] += 1


def nvmlShutdown() -> None:
    _check_init()
    _STATE["init"] -= 1


def nvmlSystemGetDriverVersion() -> str:
    _check_init()
    return "550.54.15"


def nvmlSystemGetCudaDriverVersion() -> int:
    _check_init()
    return 12040


def nvmlSystemGetNVMLVersion() -> str:
    _check_init()
    return "12.550.54.15"


def nvmlDeviceGetCount() -> int:
    _check_init()
    return len(_STATE["devices"])


def nvmlDeviceGetHandleByIndex(index: int) -> _Handle:
    _check_init()
    devices = _STATE["devices"]
    if not 0 <= int(index) < len(devices):
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    return _Handle(devices[int(index)])


def nvmlDeviceGetName(handle: Any) -> str:
    if isinstance(handle, _MigHandle):
        _check_init()
        return f"{handle._parent.name} MIG 1g.10gb"
    return _dev(handle).name


def nvmlDeviceGetUUID(handle: Any) -> str:
    if isinstance(handle, _MigHandle):
        _check_init()
        return handle.uuid
    return _dev(handle).uuid


def nvmlDeviceGetHandleByUUID(uuid: Any) -> Any:
    _check_init()
    text = uuid.decode() if isinstance(uuid, bytes) else str(uuid)
    for device in _STATE["devices"]:
        if device.uuid == text:
            return _Handle(device)
        if text in device.mig_uuids:
            return _MigHandle(device, text)
    raise NVMLError(NVML_ERROR_NOT_FOUND)


def nvmlDeviceGetPciInfo(handle: Any) -> SimpleNamespace:
    device = _dev(handle)
    bus = int(device.pci_bus_id.split(":")[1], 16)
    return SimpleNamespace(
        busIdLegacy=device.pci_bus_id[4:].encode(),
        domain=0,
        bus=bus,
        device=0,
        pciDeviceId=0x233010DE,
        pciSubSystemId=0x16C110DE,
        busId=device.pci_bus_id.encode(),
    )


def nvmlDeviceIsMigDeviceHandle(device: Any) -> SimpleNamespace:
    _check_init()
    # the real binding returns the c_uint itself, not its value
    return SimpleNamespace(value=1 if isinstance(device, _MigHandle) else 0)


def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(migDevice: Any) -> _Handle:
    _check_init()
    if not isinstance(migDevice, _MigHandle):
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    return _Handle(migDevice._parent)


def nvmlDeviceGetPersistenceMode(handle: Any) -> int:
    return _dev(handle).persistence


def nvmlDeviceGetTotalEnergyConsumption(handle: Any) -> int:
    device = _dev(handle)
    if not device.supports_energy:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return device.counter_mj()


def nvmlDeviceGetPowerUsage(handle: Any) -> int:
    return round(_dev(handle).power_average_w() * 1000)


def nvmlDeviceGetFieldValues(handle: Any, fieldIds: list[int]) -> list[SimpleNamespace]:
    device = _dev(handle)
    values = []
    for field_id in fieldIds:
        value = SimpleNamespace(dVal=0.0, uiVal=0, ulVal=0, ullVal=0, sllVal=0, siVal=0, usVal=0)
        ret = NVML_SUCCESS
        if field_id == NVML_FI_DEV_POWER_INSTANT and device.supports_instant:
            value.uiVal = round(device.power_w * device.power_read_factor * 1000)
        elif field_id == NVML_FI_DEV_POWER_AVERAGE:
            value.uiVal = round(device.power_average_w() * 1000)
        else:
            ret = NVML_ERROR_NOT_SUPPORTED
        values.append(
            SimpleNamespace(
                fieldId=field_id,
                scopeId=0,
                timestamp=int(_clock() * 1e6),
                latencyUsec=0,
                valueType=NVML_VALUE_TYPE_UNSIGNED_INT,
                nvmlReturn=ret,
                value=value,
            )
        )
    return values


def nvmlDeviceGetUtilizationRates(handle: Any) -> SimpleNamespace:
    device = _dev(handle)
    return SimpleNamespace(gpu=device.util_gpu, memory=device.util_mem)


def nvmlDeviceGetTemperature(handle: Any, sensor: int) -> int:
    device = _dev(handle)
    if sensor != NVML_TEMPERATURE_GPU:
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    return device.temperature_c


def nvmlDeviceGetClockInfo(handle: Any, type: int) -> int:
    device = _dev(handle)
    if type == NVML_CLOCK_MEM:
        return device.memory_clocks[0]
    if type in (NVML_CLOCK_SM, NVML_CLOCK_GRAPHICS):
        return device.locked_clock[1] if device.locked_clock else device.graphics_clocks[0]
    raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)


def nvmlDeviceGetMaxClockInfo(handle: Any, type: int) -> int:
    device = _dev(handle)
    if type == NVML_CLOCK_MEM:
        return max(device.memory_clocks)
    return max(device.graphics_clocks)


def nvmlDeviceGetCurrentClocksEventReasons(handle: Any) -> int:
    device = _dev(handle)
    reasons = 0
    if device.locked_clock:
        reasons |= nvmlClocksEventReasonApplicationsClocksSetting
    if device.power_w >= device.limit_mw / 1000:
        reasons |= nvmlClocksEventReasonSwPowerCap
    return reasons


def nvmlDeviceGetEnforcedPowerLimit(handle: Any) -> int:
    return _dev(handle).limit_mw


def nvmlDeviceGetPowerManagementLimit(handle: Any) -> int:
    return _dev(handle).limit_mw


def nvmlDeviceGetPowerManagementDefaultLimit(handle: Any) -> int:
    return _dev(handle).default_limit_mw


def nvmlDeviceGetPowerManagementLimitConstraints(handle: Any) -> list[int]:
    device = _dev(handle)
    return [device.min_limit_mw, device.max_limit_mw]


def nvmlDeviceSetPowerManagementLimit(handle: Any, limit: int) -> None:
    device = _dev(handle)
    if not device.privileged:
        raise NVMLError(NVML_ERROR_NO_PERMISSION)
    if not device.min_limit_mw <= int(limit) <= device.max_limit_mw:
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    device.limit_mw = int(limit)
    device.calls.append(("set_power_limit_mw", int(limit)))


def nvmlDeviceGetSupportedMemoryClocks(handle: Any) -> list[int]:
    return list(_dev(handle).memory_clocks)


def nvmlDeviceGetSupportedGraphicsClocks(handle: Any, memoryClockMHz: int) -> list[int]:
    device = _dev(handle)
    if int(memoryClockMHz) not in device.memory_clocks:
        raise NVMLError(NVML_ERROR_NOT_FOUND)
    return list(device.graphics_clocks)


def nvmlDeviceSetGpuLockedClocks(handle: Any, minGpuClockMHz: int, maxGpuClockMHz: int) -> None:
    device = _dev(handle)
    if not device.supports_clock_lock:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    if not device.privileged:
        raise NVMLError(NVML_ERROR_NO_PERMISSION)
    device.locked_clock = (int(minGpuClockMHz), int(maxGpuClockMHz))
    device.calls.append(("set_locked_clocks", int(minGpuClockMHz), int(maxGpuClockMHz)))


def nvmlDeviceResetGpuLockedClocks(handle: Any) -> None:
    device = _dev(handle)
    if not device.supports_clock_lock:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    if not device.privileged:
        raise NVMLError(NVML_ERROR_NO_PERMISSION)
    device.locked_clock = None
    device.calls.append(("reset_locked_clocks",))
