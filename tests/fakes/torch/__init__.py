"""A minimal fake of ``torch`` for the Transformers engine's tests on machines without it.

Only what :mod:`sweetspot.harness.engines.transformers` calls: ``tensor``, ``ones_like``,
``no_grad``, ``manual_seed``, the dtypes, and ``torch.cuda`` (no GPU unless a test sets
``cuda.available``). Tensors are numpy arrays behind a ``Tensor`` with ``shape``, ``to`` and
``cpu``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

__version__ = "2.13.0+fake"

long = "torch.int64"
float32 = "torch.float32"
float16 = "torch.float16"
bfloat16 = "torch.bfloat16"


class Tensor:
    def __init__(self, data: Any, device: str = "cpu") -> None:
        self.data = np.asarray(data)
        self.device = device

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def to(self, device: Any) -> Tensor:
        return Tensor(self.data, str(device))

    def cpu(self) -> Tensor:
        return Tensor(self.data, "cpu")

    def tolist(self) -> Any:
        return self.data.tolist()

    def __getitem__(self, item: Any) -> Tensor:
        return Tensor(self.data[item], self.device)


def tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    return Tensor(np.asarray(data, dtype=np.int64), str(device or "cpu"))


def ones_like(t: Tensor) -> Tensor:
    return Tensor(np.ones_like(t.data), t.device)


def manual_seed(seed: int) -> None:
    STATE["seed"] = seed


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    yield


STATE: dict[str, Any] = {"seed": None}


class _Cuda:
    available = False
    initialized = False
    uuids: tuple[str, ...] = ()
    synchronized = 0

    def is_available(self) -> bool:
        return self.available

    def is_initialized(self) -> bool:
        return self.initialized

    def device_count(self) -> int:
        return len(self.uuids) if self.available else 0

    def get_device_properties(self, i: int) -> SimpleNamespace:
        # torch reports the UUID without the GPU- prefix
        return SimpleNamespace(
            name="NVIDIA H100 80GB HBM3", uuid=self.uuids[i].removeprefix("GPU-")
        )

    def synchronize(self) -> None:
        self.synchronized += 1

    def empty_cache(self) -> None:
        pass


cuda = _Cuda()
