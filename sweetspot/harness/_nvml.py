"""Lazy import of the NVML bindings and translation of NVML errors into library errors.

The ``pynvml`` module ships in the ``nvidia-ml-py`` package (NVIDIA's bindings; the
``pynvml`` package on PyPI is a thin wrapper around it). Error codes and the exception
classes (``NVMLError`` whose ``value`` is the ``nvmlReturn_t`` code, with one subclass per code
such as ``NVMLError_NoPermission``) follow ``pynvml.py`` of nvidia-ml-py 12.x/13.x.

References
----------
NVIDIA Management Library (NVML) API reference, "Error reporting" and "Device queries":
https://docs.nvidia.com/deploy/nvml-api/
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from ..exceptions import DependencyError, DeviceError

__all__ = ["NVML_INSTALL_HINT", "decode", "import_pynvml", "nvml_call", "nvml_error_code"]

NVML_INSTALL_HINT = 'pip install "sweetspot[nvml]"  (installs nvidia-ml-py, which provides pynvml)'

# nvmlReturn_t codes (nvml.h); the bindings expose the same numbers as NVML_ERROR_*.
NOT_SUPPORTED = 3
NO_PERMISSION = 4
DRIVER_NOT_LOADED = 9
LIBRARY_NOT_FOUND = 12
FUNCTION_NOT_FOUND = 13
GPU_IS_LOST = 15

_T = TypeVar("_T")


def import_pynvml() -> ModuleType:
    """Import ``pynvml`` lazily.

    Returns
    -------
    module
        The ``pynvml`` module (from ``nvidia-ml-py``, or a test double placed in
        ``sys.modules``).

    Raises
    ------
    DependencyError
        If the bindings are not installed; the message gives the install command.
    """
    try:
        return importlib.import_module("pynvml")
    except ImportError as exc:
        raise DependencyError(
            "measuring GPU energy needs the NVML Python bindings (module pynvml), which are "
            f"not installed; install them with: {NVML_INSTALL_HINT}"
        ) from exc


def decode(value: Any) -> str:
    """Return an NVML string as ``str`` (older bindings return ``bytes``)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def nvml_error_code(nvml: ModuleType, exc: BaseException) -> int | None:
    """The ``nvmlReturn_t`` code of an NVML exception, or None if ``exc`` is not one."""
    error_type = getattr(nvml, "NVMLError", None)
    if error_type is None or not isinstance(exc, error_type):
        return None
    value = getattr(exc, "value", None)
    return int(value) if isinstance(value, int) else None


def _fix_for(code: int | None, what: str) -> str:
    if code == NO_PERMISSION:
        return (
            f"{what} needs root or the CAP_SYS_ADMIN capability (NVML_ERROR_NO_PERMISSION). "
            "Run the sweep as root (e.g. sudo -E env PATH=$PATH sweetspot measure ...), or "
            "drop the --gpu-clock-mhz / --power-limit-w options to measure at the default "
            "clocks and power limit."
        )
    if code == NOT_SUPPORTED:
        return (
            f"{what} is not supported by this GPU or driver (NVML_ERROR_NOT_SUPPORTED). "
            "The total-energy counter needs a Volta or newer data-centre GPU; locked clocks "
            "and power limits need a supported data-centre GPU and a recent driver."
        )
    if code in (DRIVER_NOT_LOADED, LIBRARY_NOT_FOUND):
        return (
            "the NVIDIA driver is not loaded or libnvidia-ml.so was not found; check that "
            "`nvidia-smi` works on this machine (inside containers, run with --gpus all)."
        )
    if code == FUNCTION_NOT_FOUND:
        return (
            f"the installed driver does not provide the NVML function behind {what}; "
            "upgrade the NVIDIA driver."
        )
    if code == GPU_IS_LOST:
        return "the GPU fell off the bus (NVML_ERROR_GPU_IS_LOST); check `nvidia-smi` and dmesg."
    return "check `nvidia-smi` and the driver logs (dmesg)."


def nvml_call(nvml: ModuleType, what: str, fn: Callable[..., _T], *args: Any) -> _T:
    """Call an NVML binding and turn an ``NVMLError`` into a :class:`DeviceError`.

    Parameters
    ----------
    nvml : module
        The ``pynvml`` module.
    what : str
        What the call does, in words, for the message (``"reading the energy counter of GPU
        0"``).
    fn : callable
        The binding, e.g. ``nvml.nvmlDeviceGetTotalEnergyConsumption``.
    *args
        Its arguments.

    Raises
    ------
    DeviceError
        With the NVML error name and code, and how to fix it. The original exception is
        chained; ``DeviceError.nvml_code`` holds the ``nvmlReturn_t`` code.
    """
    try:
        return fn(*args)
    except Exception as exc:
        code = nvml_error_code(nvml, exc)
        if code is None:
            raise
        error = DeviceError(f"{what} failed: {exc} (NVML code {code}). {_fix_for(code, what)}")
        error.nvml_code = code  # type: ignore[attr-defined]
        raise error from exc
