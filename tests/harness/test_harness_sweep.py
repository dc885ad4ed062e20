"""Sweeps with the fake engine: grid, order, rows, resume, knobs reset on failure."""

from __future__ import annotations

import json
import os
import signal

import pytest
from conftest import FAST

from sweetspot import fit, read_measurements
from sweetspot.exceptions import DeviceError, SimulatedDataWarning, SpecError, StoreError
from sweetspot.harness.engines.fake import SimulatedNode
from sweetspot.harness.sweep import (
    LocalExecutor,
    SweepSpec,
    build_rig,
    derive_seed,
    run_sweep,
    summarize_repeats,
)

GRID = {"model": "llama-3.1-8b", "engine": "fake", "n_in": (64, 256, 1024), "n_out": (64, 256)}


def spec(**kw) -> SweepSpec:
    return SweepSpec(**{**GRID, **FAST, **kw})


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def started(self, pending: int, done: int) -> None:
        self.events.append(("started", pending, done))

    def point_done(self, point, row) -> None:
        self.events.append(("point", point.key))

    def message(self, text: str) -> None:
        self.events.append(("message", text))


def test_six_points_read_and_fit(tmp_path) -> None:
    recorder = Recorder()
    report = run_sweep(spec(), tmp_path / "s", observer=recorder)
    assert (report.measured, report.skipped, report.total, report.simulated) == (6, 0, 6, True)
    assert recorder.events[0] == ("started", 6, 0)
    assert sum(e[0] == "point" for e in recorder.events) == 6
    assert any(e[0] == "message" and "idle baseline" in e[1] for e in recorder.events)
    with pytest.warns(SimulatedDataWarning, match="6 rows .* simulated"):
        data = read_measurements(tmp_path / "s")
    assert len(data) == 6
    assert data["simulated"].all()
    assert data.attrs["manifest"]["simulated"] is True
    assert sorted(zip(data["n_in"], data["n_out"], strict=True)) == [
        (i, o) for i in (64, 256, 1024) for o in (64, 256)
    ]
    assert (data["time_s"] >= 2.0).all()  # windows of at least min_window_s
    assert (data["n_requests"] % 10 == 0).all()
    assert (data["idle_power_w"] == 70.0).all()
    # raw energy, idle beside it, never subtracted
    assert (data["energy_j"] > data["idle_energy_j"]).all()
    assert data["energy_per_request_j"].tolist() == pytest.approx(
        (data["energy_j"] / data["n_requests"]).tolist()
    )
    for column in ("ttft_p50_s", "tbt_p99_s", "throughput_tok_s", "peak_power_w", "temperature_c"):
        assert data[column].notna().all(), column
    result = fit(data, "flops", architecture="llama-3.1-8b")
    assert result.mape < 10
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["sweep"]["identity"]["n_in"] == [64, 256, 1024]
    assert manifest["rigs"][0]["engine"]["engine"] == "fake"
    assert manifest["rigs"][0]["idle_baseline"]["power_w"] == 70.0
    assert manifest["rigs"][0]["devices"][0]["name"].endswith("(simulated)")
    assert manifest["provenance"]["host"]


def test_deterministic_and_resume_never_duplicates(tmp_path) -> None:
    run_sweep(spec(), tmp_path / "a")
    again = run_sweep(spec(), tmp_path / "a", resume=True)
    assert (again.measured, again.skipped, again.total) == (0, 6, 6)
    run_sweep(spec(), tmp_path / "b")
    rows_a = {r["point_key"]: r for r in map(json.loads, (tmp_path / "a" / "points.jsonl").open())}
    rows_b = {r["point_key"]: r for r in map(json.loads, (tmp_path / "b" / "points.jsonl").open())}
    assert rows_a.keys() == rows_b.keys()
    for key in rows_a:
        assert rows_a[key]["energy_j"] == rows_b[key]["energy_j"]
        assert rows_a[key]["time_s"] == rows_b[key]["time_s"]
    with pytest.raises(StoreError, match="pass --resume"):
        run_sweep(spec(), tmp_path / "a")
    with pytest.raises(StoreError, match="different sweep: n_out"):
        run_sweep(spec(n_out=(64,)), tmp_path / "a", resume=True)


def test_order_is_shuffled_by_seed_and_grouped_by_engine() -> None:
    s = spec(max_batch_size=(4, 8), repeats=2)
    points = s.points()
    assert len(points) == len(s.grid()) == 24
    assert {p.key for p in points} == {p.key for p in s.grid()}
    groups = [p.engine_key for p in points]
    assert groups == sorted(groups, key=groups.index)  # each engine configuration contiguous
    assert [p.key for p in points] != [p.key for p in s.grid()]
    assert [p.key for p in spec(seed=1, max_batch_size=(4, 8), repeats=2).points()] != [
        p.key for p in points
    ]
    assert derive_seed(0, "a") == derive_seed(0, "a") != derive_seed(1, "a")


def test_repeats_and_knobs_in_rows(tmp_path) -> None:
    s = spec(
        n_in=(128,),
        n_out=(64,),
        repeats=3,
        gpu_clock_mhz=(1410,),
        power_limit_w=(400.0,),
        max_batch_size=(4,),
    )
    run_sweep(s, tmp_path / "s")
    with pytest.warns(SimulatedDataWarning):
        data = read_measurements(tmp_path / "s")
    assert sorted(data["repeat"]) == [0, 1, 2]
    assert (data["gpu_clock_mhz"] == 1410).all()
    assert (data["power_limit_w"] == 400).all()
    assert (data["sm_clock_mhz"] == 1410).all()
    assert (data["batch_size"] == 4).all() and (data["max_batch_size"] == 4).all()
    summary = summarize_repeats(data)
    assert len(summary) == 1 and summary["repeats"].iloc[0] == 3
    assert 0 < summary["cv_pct"].iloc[0] < 5


class Boom(RuntimeError):
    pass


def _faulty_factory(node: SimulatedNode, fail_in_point: int, action):
    """Rigs whose engine runs ``action`` at the warm-up of the n-th point (knobs set)."""
    calls = {"n": 0}

    def factory(s, config, gpus):
        rig = build_rig(s, config, gpus, fake_node=node)
        run = rig.engine.run
        warmups = {derive_seed(s.seed, p.key, "warmup", 0) for p in s.grid()}

        def faulty(*args, **kwargs):
            calls["n"] += kwargs["seed"] in warmups
            if kwargs["seed"] in warmups and calls["n"] == fail_in_point:
                assert not node.gpus[0].is_reset  # the knobs are set during the point
                action()
            return run(*args, **kwargs)

        rig.engine.run = faulty  # type: ignore[method-assign]
        return rig

    return factory


def _raise():
    raise Boom("injected")


@pytest.mark.parametrize(
    ("action", "expected"),
    [(_raise, Boom), (lambda: os.kill(os.getpid(), signal.SIGTERM), SystemExit)],
    ids=["exception", "sigterm"],
)
def test_failure_during_a_point_leaves_the_device_reset(tmp_path, action, expected) -> None:
    node = SimulatedNode(1)
    s = spec(gpu_clock_mhz=(1200,), power_limit_w=(350.0,))
    factory = _faulty_factory(node, fail_in_point=3, action=action)
    with pytest.raises(expected):
        run_sweep(s, tmp_path / "s", executor=LocalExecutor(rig_factory=factory))
    assert node.gpus[0].is_reset
    assert ("set_gpu_clock", 1200) in node.gpus[0].calls
    assert node.gpus[0].calls[-2:] == [("reset_gpu_clock",), ("set_power_limit", 700.0)]
    lines = (tmp_path / "s" / "points.jsonl").read_text().splitlines()
    assert len(lines) == 2  # completed points are kept
    report = run_sweep(s, tmp_path / "s", resume=True)
    assert (report.measured, report.skipped, report.total) == (4, 2, 6)


def test_no_permission_is_reported_before_any_point(tmp_path) -> None:
    node = SimulatedNode(1, privileged=False)

    def factory(s, config, gpus):
        return build_rig(s, config, gpus, fake_node=node)

    with pytest.raises(DeviceError, match="CAP_SYS_ADMIN"):
        run_sweep(
            spec(power_limit_w=(300.0,)),
            tmp_path / "s",
            executor=LocalExecutor(rig_factory=factory),
        )
    assert node.gpus[0].is_reset


def test_spec_validation() -> None:
    with pytest.raises(SpecError, match="engine must be one of"):
        spec(engine="sglang")
    with pytest.raises(SpecError, match="n_in values must be positive integers"):
        spec(n_in=(0, 64))
    with pytest.raises(SpecError, match="lists a value twice"):
        spec(n_out=(64, 64))
    with pytest.raises(SpecError, match="power_limit_w values must be positive"):
        spec(power_limit_w=(-1.0,))
    with pytest.raises(SpecError, match="min_window_s must be a positive"):
        spec(min_window_s=0)
    with pytest.raises(SpecError, match="repeats must be a positive"):
        spec(repeats=0)
    with pytest.raises(SpecError, match="tp=2 needs 2 GPUs"):
        spec(tp=(2,), gpus=(0,))
    with pytest.raises(SpecError, match="known architecture"):
        spec(model="my-private-model")
    with pytest.raises(SpecError, match="executor"):
        run_sweep(spec(), "unused", executor="slurm")  # type: ignore[arg-type]


# ----------------------------------------------------------------- hostile inputs (issue 14)


def test_point_keys_write_every_knob_exactly() -> None:
    from sweetspot.harness.sweep import SweepPoint

    def key(watts):
        return SweepPoint(n_in=1, n_out=1, n_requests=1, power_limit_w=watts).key

    assert key(300.0001) != key(300.0002)
    assert "power_limit_w=300.0001|" in key(300.0001)
    # values that :g wrote exactly keep their key (stores written before still resume)
    assert "power_limit_w=300|" in key(300.0)
    assert "power_limit_w=450.5|" in key(450.5)
    assert "power_limit_w=default|" in key(None)
    assert key(0.1 + 0.2) != key(0.3)


def test_a_sweep_over_close_power_limits_keeps_every_point(tmp_path) -> None:
    s = spec(n_in=(64,), n_out=(64,), power_limit_w=(300.0001, 300.0002))
    report = run_sweep(s, tmp_path / "s")
    assert report.total == 2
    rows = [json.loads(x) for x in (tmp_path / "s" / "points.jsonl").read_text().splitlines()]
    assert {r["point_key"].split("|")[5] for r in rows} == {
        "power_limit_w=300.0001",
        "power_limit_w=300.0002",
    }


def test_resume_refuses_a_store_written_with_another_grid(tmp_path) -> None:
    s = spec(n_in=(64,), n_out=(64,), power_limit_w=(300.0001,))
    run_sweep(s, tmp_path / "s")
    log = tmp_path / "s" / "points.jsonl"
    content = log.read_text().replace("power_limit_w=300.0001", "power_limit_w=300")
    log.write_text(content)  # as written by a sweetspot whose keys rounded to 6 digits
    with pytest.raises(StoreError, match=r"1 point\(s\) that this sweep's grid does not have"):
        run_sweep(s, tmp_path / "s", resume=True)
    assert log.read_text() == content  # nothing measured, nothing changed


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("n_in", (10_000_001,), r"n_in must be at most 10,000,000; got 10000001"),
        ("n_out", (2**40,), r"n_out must be at most 10,000,000"),
        ("requests", (10**7,), r"requests must be at most 100,000"),
        ("max_batch_size", (10**7,), r"max_batch_size must be at most 1,000,000"),
        ("gpu_clock_mhz", (10**6,), r"gpu_clock_mhz must be at most 10,000"),
        ("power_limit_w", (1e6,), r"power_limit_w must be at most 10,000 W"),
        ("power_limit_w", (float("inf"),), r"power_limit_w values must be positive watts"),
        ("power_limit_w", (10**400,), r"power_limit_w values must be positive watts"),
        ("tp", (2048,), r"tp must be at most 1,024"),
        ("gpus", (10**9,), r"gpus must be at most 1,023"),
        ("gpus", ("0",), r"gpus must be whole device indices"),
        ("repeats", 10**6, r"repeats must be at most 1,000"),
        ("warmup", 10**6, r"warmup must be at most 1,000"),
        ("cooldown_s", 1e9, r"cooldown_s must be at most 3,600 s"),
        ("cooldown_s", 10**400, r"cooldown_s must be a finite number"),
        ("idle_s", 1e9, r"idle_s must be at most 3,600 s"),
        ("min_window_s", 1e9, r"min_window_s must be at most 600 s"),
        ("min_window_s", float("nan"), r"min_window_s must be a positive number"),
        ("sample_interval_s", 1e-9, r"sample_interval_s must be 0 .* or at least 0.001 s"),
        ("fake_time_scale", 1e9, r"fake_time_scale must be at most 10"),
        ("seed", -1, r"seed must be a non-negative integer"),
        ("seed", 2**64, r"seed must be at most"),
        ("max_num_tokens", -3, r"max_num_tokens must be a positive integer"),
        ("max_num_tokens", 10**12, r"max_num_tokens must be at most 100,000,000 tokens"),
        ("dtype", 16, r"dtype must be a string"),
        ("n_in", tuple(range(1, 1001)), r"1,000,000 points .* more than 100,000"),
    ],
)
def test_spec_bounds(field, value, match) -> None:
    kw = {field: value}
    if field == "n_in" and len(value) > 1:
        kw["n_out"] = tuple(range(1, 1001))
    with pytest.raises(SpecError, match=match):
        spec(**kw)


def test_a_rejected_sweep_leaves_no_store(tmp_path) -> None:
    # rejected before anything is created
    with pytest.raises(SpecError):
        run_sweep(spec(seed=-1), tmp_path / "a")
    assert not (tmp_path / "a").exists()
    # rejected by the engine or the GPU before the first point: what was created is removed
    with pytest.raises(DeviceError, match="Use a larger --tp"):
        run_sweep(spec(model="llama-2-70b"), tmp_path / "b")
    assert not (tmp_path / "b").exists()
    (tmp_path / "c").mkdir()
    with pytest.raises(SpecError, match="outside the range"):
        run_sweep(spec(power_limit_w=(100.0,)), tmp_path / "c")
    assert (tmp_path / "c").is_dir() and not list((tmp_path / "c").iterdir())  # kept, empty
    report = run_sweep(spec(power_limit_w=(300.0,)), tmp_path / "c")  # the corrected command
    assert report.total == 6


def test_a_store_with_points_is_kept_when_a_later_point_fails(tmp_path) -> None:
    node = SimulatedNode(1)
    factory = _faulty_factory(node, fail_in_point=2, action=_raise)
    with pytest.raises(Boom):
        run_sweep(
            spec(gpu_clock_mhz=(1200,)),
            tmp_path / "s",
            executor=LocalExecutor(rig_factory=factory),
        )
    assert len((tmp_path / "s" / "points.jsonl").read_text().splitlines()) == 1
    assert (tmp_path / "s" / "manifest.json").is_file()


def test_a_resumed_empty_store_is_not_removed(tmp_path) -> None:
    from sweetspot.harness.store import MeasurementStore

    s = spec()
    MeasurementStore.open_for_sweep(
        tmp_path / "s",
        {"sweep": {"identity": s.identity()}},
        resume=False,
        identity=s.identity(),
    ).close()

    def no_gpu(s, config, gpus):
        raise DeviceError("no GPU")

    with pytest.raises(DeviceError, match="no GPU"):
        run_sweep(s, tmp_path / "s", resume=True, executor=LocalExecutor(rig_factory=no_gpu))
    assert (tmp_path / "s" / "manifest.json").is_file()  # not created by this run: kept
