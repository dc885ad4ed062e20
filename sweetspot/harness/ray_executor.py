"""Run sweep points as Ray tasks, one engine's GPUs each, into one store.

The driver (the process running ``sweetspot measure --executor ray``) submits every pending
point as a task requesting ``num_gpus = tp``; Ray places it on a worker whose
``CUDA_VISIBLE_DEVICES`` holds the assigned GPUs (their ids, from ``ray.get_gpu_ids()``, are
the NVML indices the meter and knobs use). Tasks return their row, and the driver appends
each row to the store as soon as it arrives, so resume semantics are those of the local
executor: a completed point is stored once, a point in flight at a crash is measured again.

Workers keep their loaded engine between tasks (``max_calls=0``: Ray's default for GPU tasks
is to restart the worker after every task, which would reload the model per point), and
measure an idle baseline after each load. For the fake engine a local Ray instance is
started with fake GPU resources (``ray.init(num_gpus=N)``), so the same code path runs on a
CPU-only machine.

Ray is an optional dependency: ``pip install "sweetspot[ray]"``.

References
----------
Ray documentation, "Accelerator support" (``num_gpus``, ``ray.get_gpu_ids``) and
``ray.remote`` (``max_calls``): https://docs.ray.io/
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from ..exceptions import DependencyError, DeviceError, SweetspotError
from .store import MeasurementStore
from .sweep import (
    Rig,
    SweepObserver,
    SweepPoint,
    SweepSpec,
    build_rig,
    measure_point,
    prepare_rig,
    record_rig,
    rig_record,
)

__all__ = ["RayExecutor", "run_points_on_ray"]

RAY_INSTALL_HINT = 'pip install "sweetspot[ray]"'

# Rigs loaded in this worker process, by (engine config, GPU ids).
_WORKER_RIGS: dict[tuple[Any, tuple[int, ...]], Rig] = {}


def _import_ray() -> ModuleType:
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise DependencyError(
            f"--executor ray needs Ray, which is not installed; install it with: {RAY_INSTALL_HINT}"
        ) from exc


def _gpu_ids(ray: ModuleType, tp: int) -> tuple[int, ...]:
    ids = tuple(int(float(i)) for i in ray.get_gpu_ids())
    if len(ids) != tp:
        raise DeviceError(
            f"Ray gave this task {len(ids)} GPU(s) ({list(ids)}) but tp={tp} needs {tp}; "
            "check the cluster's GPU resources."
        )
    return ids


def measure_on_worker(spec: SweepSpec, point: SweepPoint) -> dict[str, Any]:
    """Measure one point inside a Ray worker (the body of the Ray task).

    Returns
    -------
    dict
        ``{"row": row, "rig": provenance of a rig loaded by this task, or None}``.
    """
    ray = _import_ray()
    ids = _gpu_ids(ray, point.tp)
    config = spec.engine_config(point)
    key = (config, ids)
    rig = _WORKER_RIGS.get(key)
    record = None
    if rig is None:
        for other in list(_WORKER_RIGS):  # one engine per worker: free the GPUs first
            _WORKER_RIGS.pop(other).close()
        rig = build_rig(spec, config, ids)
        prepare_rig(rig, spec)
        _WORKER_RIGS[key] = rig
        record = rig_record(rig, config)
    return {"row": measure_point(rig, point, spec), "rig": record}


def run_points_on_ray(
    spec: SweepSpec,
    store: MeasurementStore,
    pending: Sequence[SweepPoint],
    *,
    address: str | None = None,
    num_gpus: int | None = None,
    observer: SweepObserver | None = None,
) -> None:
    """Measure ``pending`` as Ray tasks and append each row to ``store`` as it completes.

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    store : MeasurementStore
        The open store (written by this process only).
    pending : sequence of SweepPoint
        Points to measure, in submission order.
    address : str, optional
        Existing cluster (``"auto"`` or ``"ray://host:10001"``); omitted: a local instance
        is started and shut down afterwards.
    num_gpus : int, optional
        GPUs declared to a local instance (default: detected; ``max(tp)`` for the fake
        engine, whose GPUs are simulated).

    Raises
    ------
    DependencyError
        If Ray is not installed.
    DeviceError
        If the cluster has fewer GPUs than ``max(tp)``, or a task failed (its library error
        is re-raised as is).
    """
    if not pending:
        return
    ray = _import_ray()
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            "log_to_driver": False,
        }
        if address:
            ray.init(address=address, **options)
        else:
            if num_gpus is None and spec.engine == "fake":
                num_gpus = max(spec.tp)
            ray.init(num_gpus=num_gpus, **options)
        started = True
    refs: dict[Any, SweepPoint] = {}
    try:
        available = float(ray.cluster_resources().get("GPU", 0))
        if available < max(spec.tp):
            raise DeviceError(
                f"the Ray cluster has {available:g} GPU(s) but tp={max(spec.tp)} needs "
                f"{max(spec.tp)} per task; add GPUs, lower --tp, or (fake engine, local Ray) "
                "pass --ray-num-gpus."
            )
        task = ray.remote(max_calls=0)(measure_on_worker)
        for point in pending:
            refs[task.options(num_gpus=point.tp).remote(spec, point)] = point
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            ref = ready[0]
            point = refs.pop(ref)
            try:
                result = ray.get(ref)
            except Exception as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, SweetspotError):
                    raise cause from None
                raise DeviceError(
                    f"the Ray task measuring {point.key} failed: {cause or exc}"
                ) from exc
            if result["rig"] is not None:
                record_rig(store, result["rig"])
                if observer is not None:
                    idle = result["rig"]["idle_baseline"]["power_w"]
                    observer.message(
                        f"Ray worker loaded {spec.model} on GPU(s) "
                        f"{result['rig']['gpu_indices']}; idle baseline {idle:.1f} W"
                    )
            store.append(result["row"])
            if observer is not None:
                observer.point_done(point, result["row"])
    finally:
        for ref in refs:
            with contextlib.suppress(Exception):  # best effort while unwinding
                ray.cancel(ref)
        if started:
            ray.shutdown()


@dataclass(frozen=True, slots=True)
class RayExecutor:
    """Measure the points as Ray tasks, ``tp`` GPUs each, into the driver's store.

    Pass it to :func:`sweetspot.harness.sweep.run_sweep` as ``executor=RayExecutor(...)``.

    Parameters
    ----------
    address : str, optional
        Existing cluster (``"auto"`` or ``"ray://host:10001"``); omitted: a local instance is
        started and shut down afterwards.
    num_gpus : int, optional
        GPUs declared to a local instance (default: detected; ``max(tp)`` for the fake
        engine, whose GPUs are simulated).
    """

    address: str | None = None
    num_gpus: int | None = None
    name: ClassVar[str] = "ray"

    def preflight(self, spec: SweepSpec) -> None:
        """Import Ray (and NVML for TensorRT-LLM) now, before a store is created."""
        _import_ray()
        if spec.engine == "tensorrt_llm":
            from ._nvml import import_pynvml

            import_pynvml()  # the workers import TensorRT-LLM where the GPUs are

    def run(
        self,
        spec: SweepSpec,
        store: MeasurementStore,
        pending: Sequence[SweepPoint],
        observer: SweepObserver | None,
    ) -> None:
        """Measure ``pending`` on Ray (see :func:`run_points_on_ray`)."""
        run_points_on_ray(
            spec, store, pending, address=self.address, num_gpus=self.num_gpus, observer=observer
        )
