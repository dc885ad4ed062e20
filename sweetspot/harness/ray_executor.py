"""Run sweep points on Ray: one actor per engine configuration, holding its GPUs.

The driver (the process running ``sweetspot measure --executor ray``) groups the pending
points by engine configuration (``tp``, ``max_batch_size``). For each configuration it
reserves the GPUs in a placement group of one bundle ``{"GPU": tp, "CPU": 1}`` (one bundle
always lands on one node: the engine's GPUs are on one machine), starts one actor in it,
and the actor loads the engine once, measures the idle baseline and then the
configuration's points, one at a time; each row comes back to the driver, which appends it
to the store as soon as it arrives (resume semantics are those of the local executor). When
a configuration is done its actor is killed and the placement group removed, so a loaded
model never sits in a worker that Ray counts as free GPUs. Several configurations run at
once while the cluster has GPUs for them.

Inside the actor Ray sets ``CUDA_VISIBLE_DEVICES``; the actor resolves those devices to NVML
by UUID (:func:`~sweetspot.harness.devices.resolve_gpus`), so the meter and the knobs act
on the GPUs Ray gave it, whatever form the ids take (indices or UUID strings).

Failures are never retried silently (``max_restarts=0``, ``max_task_retries=0``): the first
failed point stops the sweep with the worker's error; worker output is shown on the
driver (``log_to_driver=True``). A ``tp`` larger than the GPUs of every node is refused
before anything is scheduled, and a placement group that cannot be placed within
``placement_timeout_s`` is an error, not an endless wait.

For the fake engine a local Ray instance is started with fake GPU resources
(``ray.init(num_gpus=N)``), so the same code path runs on a CPU-only machine;
``address="auto"`` (or ``ray://...``) joins an existing cluster instead.

Ray is an optional dependency: ``pip install "sweetspot[ray]"``.

References
----------
Ray documentation, "Actors", "Placement Groups" (``placement_group``, ``STRICT_PACK``,
``PlacementGroupSchedulingStrategy``), "Fault tolerance" (``max_restarts``,
``max_task_retries``) and "Accelerator support" (``num_gpus``, ``ray.get_gpu_ids``):
https://docs.ray.io/
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


def _import_ray() -> ModuleType:
    try:
        return importlib.import_module("ray")
    except ImportError as exc:
        raise DependencyError(
            f"--executor ray needs Ray, which is not installed; install it with: {RAY_INSTALL_HINT}"
        ) from exc


def _gpu_ids(ray: ModuleType, tp: int) -> tuple[str, ...]:
    """The accelerator ids Ray gave this worker, as text (indices or UUID strings).

    Raises
    ------
    DeviceError
        If Ray gave another number of GPUs than ``tp``.
    """
    ids = tuple(str(i) for i in ray.get_gpu_ids())
    if len(ids) != tp:
        raise DeviceError(
            f"Ray gave this worker {len(ids)} GPU(s) ({list(ids)}) but tp={tp} needs {tp}; "
            "check the cluster's GPU resources."
        )
    return ids


class EngineWorker:
    """The body of the Ray actor of one engine configuration (a plain class, so that it is
    usable and testable without Ray)."""

    def __init__(self, spec: SweepSpec, point: SweepPoint) -> None:
        ray = _import_ray()
        self.spec = spec
        self.config = spec.engine_config(point)
        self.ray_gpu_ids = _gpu_ids(ray, point.tp)
        # Ray set CUDA_VISIBLE_DEVICES for this worker: resolve those devices (None), or, for
        # the simulated GPUs of the fake engine, use the actor's own simulated node.
        gpus = tuple(range(point.tp)) if spec.engine == "fake" else None
        self.rig: Rig = build_rig(spec, self.config, gpus)
        try:
            prepare_rig(self.rig, spec)
        except BaseException:
            self.rig.close()
            raise
        record = rig_record(self.rig, self.config)
        record["ray_gpu_ids"] = list(self.ray_gpu_ids)
        self.record = record

    def rig_info(self) -> dict[str, Any]:
        """Provenance of the rig (engine, devices, idle baseline, Ray's GPU ids)."""
        return self.record

    def measure(self, point: SweepPoint) -> dict[str, Any]:
        """Measure one point of this configuration and return its row."""
        return measure_point(self.rig, point, self.spec)

    def close(self) -> None:
        """Close the engine and the meter."""
        self.rig.close()


def _node_gpus(ray: ModuleType) -> list[float]:
    """GPUs of each alive node of the cluster."""
    out = []
    for node in ray.nodes():
        if node.get("Alive", node.get("alive", True)):
            out.append(float(node.get("Resources", {}).get("GPU", 0)))
    return out


@dataclass
class _Config:
    key: tuple[int, int | None]
    points: list[SweepPoint]
    actor: Any = None
    group: Any = None
    ref: Any = None
    current: SweepPoint | None = None
    reported: bool = False


def _unwrap(exc: BaseException, what: str) -> BaseException:
    """The library error a Ray failure carries, else a DeviceError with the worker's text."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, SweetspotError):
        return cause
    inner = getattr(cause, "cause", None)
    if isinstance(inner, SweetspotError):
        return inner
    return DeviceError(f"{what} failed on its Ray worker (not retried): {cause or exc}")


def run_points_on_ray(
    spec: SweepSpec,
    store: MeasurementStore,
    pending: Sequence[SweepPoint],
    *,
    address: str | None = None,
    num_gpus: int | None = None,
    observer: SweepObserver | None = None,
    placement_timeout_s: float = 600.0,
) -> None:
    """Measure ``pending`` on Ray, one actor per engine configuration, appending each row
    to ``store`` as it arrives.

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    store : MeasurementStore
        The open store (written by this process only).
    pending : sequence of SweepPoint
        Points to measure; those of one engine configuration run in the given order.
    address : str, optional
        Existing cluster (``"auto"`` or ``"ray://host:10001"``); omitted: a local instance
        is started and shut down afterwards.
    num_gpus : int, optional
        GPUs declared to a local instance (default: detected; ``max(tp)`` for the fake
        engine, whose GPUs are simulated).
    observer : SweepObserver, optional
        Progress events.
    placement_timeout_s : float, default 600
        Longest wait for a configuration's GPUs to be reserved [s].

    Raises
    ------
    DependencyError
        If Ray is not installed.
    DeviceError
        If no node has ``tp`` GPUs, the GPUs cannot be reserved in time, or a point failed
        (its library error is re-raised as is); nothing is retried.
    """
    if not pending:
        return
    ray = _import_ray()
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            "log_to_driver": True,  # the workers' output (engine logs, tracebacks) is shown
        }
        if address:
            ray.init(address=address, **options)
        else:
            if num_gpus is None and spec.engine == "fake":
                num_gpus = max(spec.tp)
            ray.init(num_gpus=num_gpus, **options)
        started = True
    from ray.util.placement_group import placement_group, remove_placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    configs: dict[tuple[int, int | None], _Config] = {}
    for point in pending:
        configs.setdefault(point.engine_key, _Config(point.engine_key, [])).points.append(point)
    waiting = list(configs.values())
    active: list[_Config] = []  # started: only these hold an actor and a placement group

    def stop(config: _Config, *, close: bool = True) -> None:
        """Kill the actor (after closing its rig when ``close``) and free its GPUs."""
        if config.actor is not None:
            if close:
                with contextlib.suppress(Exception):
                    ray.get(config.actor.close.remote(), timeout=60)
            with contextlib.suppress(Exception):
                ray.kill(config.actor, no_restart=True)
            config.actor = None
        if config.group is not None:
            with contextlib.suppress(Exception):
                remove_placement_group(config.group)
            config.group = None

    try:
        nodes = _node_gpus(ray)
        largest = max(nodes, default=0.0)
        need = max(c.key[0] for c in waiting)
        if largest < need:
            where = address or "the local Ray instance"
            raise DeviceError(
                f"tp={need} needs {need} GPUs on one node, but the largest node of {where} has "
                f"{largest:g} ({len(nodes)} node(s), {sum(nodes):g} GPU(s) in all): an engine's "
                "GPUs must share a machine. Lower --tp, add a larger node, or (fake engine, "
                "local Ray) pass --ray-num-gpus."
            )
        total = sum(nodes)
        actor_cls = ray.remote(EngineWorker)

        def start(config: _Config) -> None:
            tp = config.key[0]
            group = placement_group([{"GPU": tp, "CPU": 1}], strategy="STRICT_PACK")
            config.group = group
            ready, _ = ray.wait([group.ready()], timeout=placement_timeout_s)
            if not ready:
                raise DeviceError(
                    f"Ray could not reserve {tp} GPU(s) on one node within "
                    f"{placement_timeout_s:g} s for tp={tp}, max_batch_size="
                    f"{config.key[1] or 'default'} (are other jobs holding the GPUs?); "
                    "nothing was retried."
                )
            strategy = PlacementGroupSchedulingStrategy(
                placement_group=group,
                placement_group_bundle_index=0,
                placement_group_capture_child_tasks=True,
            )
            config.actor = actor_cls.options(
                num_gpus=tp,
                num_cpus=1,
                max_restarts=0,
                max_task_retries=0,
                scheduling_strategy=strategy,
            ).remote(spec, config.points[0])
            next_point(config)

        def next_point(config: _Config) -> None:
            config.current = config.points.pop(0)
            config.ref = config.actor.measure.remote(config.current)

        while waiting or active:
            # start configurations while the cluster has GPUs for them
            in_use = sum(c.key[0] for c in active)
            while waiting and (not active or in_use + waiting[0].key[0] <= total):
                config = waiting.pop(0)
                active.append(config)
                in_use += config.key[0]
                start(config)
            refs = [c.ref for c in active]
            ready, _ = ray.wait(refs, num_returns=1)
            config = next(c for c in active if c.ref == ready[0])
            current = config.current
            assert current is not None
            point = current
            try:
                row = ray.get(ready[0])
            except Exception as exc:
                raise _unwrap(exc, f"measuring {point.key}") from exc
            if not config.reported:
                config.reported = True
                try:
                    record = ray.get(config.actor.rig_info.remote())
                except Exception as exc:
                    raise _unwrap(exc, "reading the rig provenance") from exc
                record_rig(store, record)
                if observer is not None:
                    observer.message(
                        f"Ray worker loaded {spec.model} on GPU(s) {record['gpu_indices']} "
                        f"(Ray ids {record.get('ray_gpu_ids')}); idle baseline "
                        f"{record['idle_baseline']['power_w']:.1f} W"
                    )
            store.append(row)
            if observer is not None:
                observer.point_done(point, row)
            if config.points:
                next_point(config)
            else:
                stop(config)
                active.remove(config)
    finally:
        for config in active:  # best effort while unwinding: no graceful close
            if config.ref is not None:
                with contextlib.suppress(Exception):
                    ray.cancel(config.ref, force=True)
            stop(config, close=False)
        if started:
            ray.shutdown()


@dataclass(frozen=True, slots=True)
class RayExecutor:
    """Measure the points on Ray, one actor per engine configuration, into the driver's
    store.

    Pass it to :func:`sweetspot.harness.sweep.run_sweep` as ``executor=RayExecutor(...)``.

    Parameters
    ----------
    address : str, optional
        Existing cluster (``"auto"`` or ``"ray://host:10001"``); omitted: a local instance is
        started and shut down afterwards.
    num_gpus : int, optional
        GPUs declared to a local instance (default: detected; ``max(tp)`` for the fake
        engine, whose GPUs are simulated).
    placement_timeout_s : float, default 600
        Longest wait for a configuration's GPUs [s].
    """

    address: str | None = None
    num_gpus: int | None = None
    placement_timeout_s: float = 600.0
    name: ClassVar[str] = "ray"

    def preflight(self, spec: SweepSpec) -> None:
        """Import Ray (and NVML for real engines) now, before a store is created."""
        _import_ray()
        if spec.engine != "fake":
            from ._nvml import import_pynvml

            import_pynvml()  # the workers import the engine where the GPUs are

    def run(
        self,
        spec: SweepSpec,
        store: MeasurementStore,
        pending: Sequence[SweepPoint],
        observer: SweepObserver | None,
    ) -> None:
        """Measure ``pending`` on Ray (see :func:`run_points_on_ray`)."""
        run_points_on_ray(
            spec,
            store,
            pending,
            address=self.address,
            num_gpus=self.num_gpus,
            observer=observer,
            placement_timeout_s=self.placement_timeout_s,
        )
