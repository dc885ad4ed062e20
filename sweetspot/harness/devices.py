"""Which GPU is which: the engine's devices resolved to NVML handles by UUID.

NVML enumerates every GPU of the machine, in PCI bus order, whatever
``CUDA_VISIBLE_DEVICES`` says; CUDA numbers only the visible ones, and the variable may hold
indices, UUIDs (``GPU-...``, a unique prefix is enough) or MIG instances (``MIG-...``). So
NVML index *k* is not CUDA device *k*. The harness resolves the devices an engine runs on to
the physical GPUs by UUID, meters and sets knobs on exactly those, and hands the engine
``CUDA_VISIBLE_DEVICES`` written as those UUIDs (:func:`engine_environment`), so the two
sides cannot disagree.

Rules (:func:`resolve_gpus`):

- the devices visible to this process are the entries of ``CUDA_VISIBLE_DEVICES`` (all GPUs
  when it is unset); an index entry is a CUDA ordinal over all GPUs, which is the NVML (PCI
  bus) order when ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` or when every GPU is the same model (CUDA's
  default "fastest first" order only differs between different models: then the index is
  ambiguous and refused);
- requested devices are positions in that visible list (``0`` = the first visible device,
  as CUDA numbers them inside the process) or UUIDs / MIG ids among the visible devices;
  by default the first ``tp`` visible devices;
- a MIG instance is metered on its parent GPU (the energy counter is per GPU, so the energy
  includes the other instances' work, and knobs would change them too: they are refused).

References
----------
CUDA C++ Programming Guide, "CUDA Environment Variables" (``CUDA_VISIBLE_DEVICES``,
``CUDA_DEVICE_ORDER``); NVML API reference, ``nvmlDeviceGetHandleByUUID``,
``nvmlDeviceGetPciInfo``, ``nvmlDeviceGetDeviceHandleFromMigDeviceHandle``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..exceptions import DeviceError, SpecError
from ._nvml import decode, nvml_call, nvml_error_code

__all__ = [
    "GpuDevice",
    "engine_environment",
    "parse_visible_devices",
    "resolve_gpus",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GpuDevice:
    """One GPU an engine runs on, as NVML sees it.

    Attributes
    ----------
    nvml_index : int
        NVML index of the physical GPU (the one metered and controlled).
    uuid : str
        UUID of the physical GPU (``GPU-...``).
    name : str
        Product name.
    pci_bus_id : str
        PCI bus id as NVML writes it (``00000000:3B:00.0``; empty if unknown).
    mig_uuid : str or None
        The MIG instance (``MIG-...``) the engine runs on, if any.
    """

    nvml_index: int
    uuid: str
    name: str
    pci_bus_id: str = ""
    mig_uuid: str | None = None

    @property
    def cuda_id(self) -> str:
        """The identifier to put in the engine's ``CUDA_VISIBLE_DEVICES``."""
        return self.mig_uuid or self.uuid

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "nvml_index": self.nvml_index,
            "uuid": self.uuid,
            "name": self.name,
            "pci_bus_id": self.pci_bus_id,
            "mig_uuid": self.mig_uuid,
        }


def parse_visible_devices(text: str | None) -> list[str] | None:
    """The entries of a ``CUDA_VISIBLE_DEVICES`` value (None when unset).

    Examples
    --------
    >>> parse_visible_devices("3, GPU-8f2a,MIG-1c3d")
    ['3', 'GPU-8f2a', 'MIG-1c3d']
    >>> parse_visible_devices(None) is None
    True
    """
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class _Physical:
    index: int
    handle: Any
    uuid: str
    name: str
    pci_bus_id: str


def _count(nv: ModuleType) -> int:
    return int(nvml_call(nv, "counting GPUs", nv.nvmlDeviceGetCount))


def _open(nv: ModuleType, i: int) -> _Physical:
    """The GPU at NVML index ``i``: its handle, UUID, name and PCI bus id ("" if unknown)."""
    h = nvml_call(nv, f"opening GPU {i}", nv.nvmlDeviceGetHandleByIndex, i)
    uuid = decode(nvml_call(nv, f"reading the UUID of GPU {i}", nv.nvmlDeviceGetUUID, h))
    name = decode(nvml_call(nv, f"reading the name of GPU {i}", nv.nvmlDeviceGetName, h))
    pci = ""
    fn = getattr(nv, "nvmlDeviceGetPciInfo", None)
    if fn is not None:
        try:
            pci = decode(fn(h).busId)
        except Exception as exc:
            if nvml_error_code(nv, exc) is None and not isinstance(exc, AttributeError):
                raise
    return _Physical(i, h, uuid, name, pci)


def _physical(nv: ModuleType) -> list[_Physical]:
    return [_open(nv, i) for i in range(_count(nv))]


def _device(p: _Physical, mig: str | None = None) -> GpuDevice:
    return GpuDevice(
        nvml_index=p.index, uuid=p.uuid, name=p.name, pci_bus_id=p.pci_bus_id, mig_uuid=mig
    )


def _by_uuid(nv: ModuleType, gpus: list[_Physical], token: str, where: str) -> GpuDevice:
    if token.upper().startswith("MIG-"):
        try:
            handle = nv.nvmlDeviceGetHandleByUUID(token)
            parent = nv.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(handle)
            parent_uuid = decode(nv.nvmlDeviceGetUUID(parent))
        except Exception as exc:
            if nvml_error_code(nv, exc) is None and not isinstance(exc, AttributeError):
                raise
            raise DeviceError(
                f"{where} names the MIG instance {token!r}, which NVML does not know "
                f"({exc}); list the MIG devices with `nvidia-smi -L` and use one of their "
                "MIG-... ids."
            ) from None
        for p in gpus:
            if p.uuid == parent_uuid:
                return _device(p, token)
        raise DeviceError(f"the parent GPU {parent_uuid} of {token!r} is not among NVML's GPUs.")
    matches = [p for p in gpus if p.uuid.lower().startswith(token.lower())]
    if len(matches) != 1:
        known = ", ".join(p.uuid for p in gpus) or "none"
        what = "matches no GPU" if not matches else f"matches {len(matches)} GPUs"
        raise DeviceError(
            f"{where} names the GPU {token!r}, which {what} (NVML's GPUs: {known}); give a "
            "UUID (or a unique prefix of one) from `nvidia-smi -L`."
        )
    return _device(matches[0])


def _visible(nv: ModuleType, gpus: list[_Physical], environ: Mapping[str, str]) -> list[GpuDevice]:
    tokens = parse_visible_devices(environ.get("CUDA_VISIBLE_DEVICES"))
    if tokens is None:
        return [_device(p) for p in gpus]
    where = f"CUDA_VISIBLE_DEVICES={environ.get('CUDA_VISIBLE_DEVICES')!r}"
    order = environ.get("CUDA_DEVICE_ORDER", "FASTEST_FIRST").upper()
    by_pci = sorted(gpus, key=lambda p: (p.pci_bus_id.lower(), p.index))
    out: list[GpuDevice] = []
    for token in tokens:
        if token.lstrip("-").isdigit():
            k = int(token)
            if k < 0:
                break  # CUDA stops at the first invalid entry (-1 hides every GPU after it)
            if not k < len(gpus):
                raise DeviceError(
                    f"{where} lists device {k}, but NVML reports {len(gpus)} GPU(s) "
                    f"(0..{len(gpus) - 1}); CUDA would ignore it and every entry after it."
                )
            if order != "PCI_BUS_ID" and len({p.name for p in gpus}) > 1:
                raise DeviceError(
                    f"{where} lists device indices, but this machine mixes GPU models "
                    f"({', '.join(sorted({p.name for p in gpus}))}) and CUDA numbers them "
                    "fastest first, not in NVML's PCI bus order, so index "
                    f"{k} cannot be matched to a GPU for sure. Set CUDA_DEVICE_ORDER=PCI_BUS_ID "
                    "or write the GPUs' UUIDs (nvidia-smi -L) in CUDA_VISIBLE_DEVICES."
                )
            out.append(_device(by_pci[k]))
        else:
            out.append(_by_uuid(nv, gpus, token, where))
    return out


def resolve_gpus(
    nvml: ModuleType,
    requested: Sequence[int | str] | None,
    count: int,
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[GpuDevice, ...]:
    """Resolve the devices an engine runs on to physical GPUs (NVML must be initialised).

    Parameters
    ----------
    nvml : module
        The ``pynvml`` bindings, after ``nvmlInit``.
    requested : sequence of int or str, optional
        Positions in the list of devices visible to this process (``0`` is the first one
        CUDA sees), or GPU UUIDs / MIG ids; None: the first ``count`` visible devices.
    count : int
        Devices the engine needs (its tensor-parallel size).
    environ : mapping, optional
        Environment to read ``CUDA_VISIBLE_DEVICES`` and ``CUDA_DEVICE_ORDER`` from
        (``os.environ`` by default).

    Returns
    -------
    tuple of GpuDevice
        ``count`` devices, in the order the engine numbers them.

    Raises
    ------
    DeviceError
        An entry that matches no GPU, an ambiguous index, fewer visible devices than
        needed, or one physical GPU listed twice.
    """
    return _resolve(nvml, requested, count, environ=environ)[0]


def _resolve(
    nvml: ModuleType,
    requested: Sequence[int | str] | None,
    count: int,
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[tuple[GpuDevice, ...], list[_Physical]]:
    """:func:`resolve_gpus`, and every physical GPU it opened (with its NVML handle)."""
    env = os.environ if environ is None else environ
    gpus = _physical(nvml)
    if not gpus:
        raise DeviceError("no GPU to measure: NVML reports 0 devices on this machine.")
    visible = _visible(nvml, gpus, env)
    shown = env.get("CUDA_VISIBLE_DEVICES")
    seen = f" (CUDA_VISIBLE_DEVICES={shown!r})" if shown is not None else ""
    if requested is None:
        if len(visible) < count:
            raise DeviceError(
                f"the engine needs {count} GPU(s) but this process sees {len(visible)}{seen}; "
                "lower --tp or make more GPUs visible."
            )
        chosen = visible[:count]
    else:
        chosen = []
        for item in requested:
            if isinstance(item, bool):
                raise SpecError(f"a GPU is an index or a UUID; got {item!r}.")
            if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
                k = int(item)
                if not 0 <= k < len(visible):
                    raise DeviceError(
                        f"GPU {k} does not exist: this process sees {len(visible)} GPU(s)"
                        f"{seen}, numbered 0..{len(visible) - 1} as CUDA numbers them. Pick "
                        "one of those, or give a UUID from `nvidia-smi -L`."
                    )
                chosen.append(visible[k])
                continue
            device = _by_uuid(nvml, gpus, str(item), f"--gpus {item}")
            if shown is not None and device.cuda_id not in {v.cuda_id for v in visible}:
                raise DeviceError(
                    f"--gpus {item} is not visible to this process{seen}; the engine could "
                    "not use it. Add it to CUDA_VISIBLE_DEVICES or pick a visible GPU."
                )
            chosen.append(device)
        if len(chosen) < count:
            raise DeviceError(
                f"the engine needs {count} GPU(s) (tp={count}) but --gpus lists "
                f"{len(chosen)}; list more GPUs or lower --tp."
            )
        chosen = chosen[:count]
    physical = [d.nvml_index for d in chosen]
    if len(set(physical)) != len(physical):
        raise DeviceError(
            "two of the engine's devices are on the same physical GPU ("
            + ", ".join(d.cuda_id for d in chosen)
            + "); its energy counter cannot be split between them. Give each engine "
            "device its own GPU."
        )
    return tuple(chosen), gpus


def engine_environment(devices: Sequence[GpuDevice]) -> dict[str, str]:
    """``CUDA_VISIBLE_DEVICES`` (UUIDs) and ``CUDA_DEVICE_ORDER`` for the engine's process.

    Examples
    --------
    >>> engine_environment([GpuDevice(nvml_index=3, uuid="GPU-ab", name="H100")])
    {'CUDA_VISIBLE_DEVICES': 'GPU-ab', 'CUDA_DEVICE_ORDER': 'PCI_BUS_ID'}
    """
    return {
        "CUDA_VISIBLE_DEVICES": ",".join(d.cuda_id for d in devices),
        "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
    }
