"""Importers: trtllm-bench report/request JSON, Zeus log CSV, CodeCarbon emissions.csv."""

from __future__ import annotations

import json

import pytest

from sweetspot import read_measurements
from sweetspot.exceptions import MeasurementError
from sweetspot.importers import read_codecarbon, read_trtllm_bench, read_zeus


def report(**performance) -> dict:
    """A --report_json of trtllm-bench (keys of ReportUtility.get_statistics_dict)."""
    return {
        "engine": {"model": "meta-llama/Llama-3.1-8B", "version": "1.2.0", "dtype": "bfloat16"},
        "machine": {"name": "NVIDIA H100 80GB HBM3", "memory.total": 79.1},
        "world_info": {
            "tp_size": 1,
            "pp_size": 1,
            "world_size": 1,
            "max_batch_size": 256,
            "max_num_tokens": 8192,
        },
        "request_info": {
            "num_requests": 3,
            "avg_num_concurrent_requests": 2.9,
            "avg_input_length": 512.0,
            "avg_output_length": 128.0,
        },
        "performance": {"total_latency_ms": 2500.0, "request_throughput_req_s": 1.2, **performance},
    }


def request_json(n=3, n_in=512, n_out=128) -> list[dict]:
    return [
        {
            "id": i,
            "num_input_tokens": n_in,
            "output_tokens": n_out,
            "time_to_first_token": 50_000_000 + i * 1_000_000,
            "intertoken_latency": 8_000_000,
            "end_to_end_latency": 1_100_000_000,
        }
        for i in range(n)
    ]


def write(path, obj):
    path.write_text(json.dumps(obj))
    return path


def test_trtllm_report_with_requests(tmp_path) -> None:
    rep = write(tmp_path / "report.json", report(total_energy_j=900.0))
    req = write(tmp_path / "requests.json", request_json())
    df = read_trtllm_bench(rep, req)
    row = df.iloc[0]
    assert (row.n_in, row.n_out, row.n_requests) == (512, 128, 3)
    assert row.energy_j == 900.0 and row.time_s == 2.5
    assert row.engine == "tensorrt_llm" and row.gpu == "NVIDIA H100 80GB HBM3"
    assert row.tp == 1 and row.n_gpus == 1 and row["dtype"] == "bfloat16"
    assert row.avg_power_w == 360.0
    assert row.ttft_p50_s == pytest.approx(0.051)
    assert row.e2e_p99_s == pytest.approx(1.1)
    assert any("performance.total_energy_j" in n for n in df.attrs["notes"])
    assert any("no idle baseline" in n for n in df.attrs["notes"])
    two = read_trtllm_bench([rep, rep])
    assert len(two) == 2
    via = read_measurements(rep, format="trtllm-bench")
    assert via["energy_j"].tolist() == [900.0]


def test_trtllm_energy_section_and_errors(tmp_path) -> None:
    rep = report()
    rep["energy"] = {"Total_Energy_J": 12.5}
    df = read_trtllm_bench(write(tmp_path / "a.json", rep))
    assert df["energy_j"].tolist() == [12.5]
    with pytest.raises(MeasurementError, match=r"reports no energy.*recent versions"):
        read_trtllm_bench(write(tmp_path / "b.json", report()))
    mixed = report(total_energy_j=1.0)
    mixed["request_info"]["avg_input_length"] = 511.3
    with pytest.raises(MeasurementError, match=r"avg_input_length .* 511\.3.*fixed-length"):
        read_trtllm_bench(write(tmp_path / "c.json", mixed))
    varied = request_json()
    varied[1]["num_input_tokens"] = 500
    with pytest.raises(MeasurementError, match=r"2 different num_input_tokens"):
        read_trtllm_bench(
            write(tmp_path / "d.json", report(total_energy_j=1.0)),
            write(tmp_path / "e.json", varied),
        )
    with pytest.raises(MeasurementError, match=r"has 2 requests but .* reports 3"):
        read_trtllm_bench(
            write(tmp_path / "f.json", report(total_energy_j=1.0)),
            write(tmp_path / "g.json", request_json(2)),
        )
    with pytest.raises(MeasurementError, match="looks like a --request_json"):
        read_trtllm_bench(write(tmp_path / "h.json", request_json()))
    with pytest.raises(MeasurementError, match="no 'request_info' section"):
        read_trtllm_bench(write(tmp_path / "i.json", {"performance": {}}))
    (tmp_path / "j.json").write_text("{nope")
    with pytest.raises(MeasurementError, match="not valid JSON"):
        read_trtllm_bench(tmp_path / "j.json")
    with pytest.raises(MeasurementError, match="one --request_json per --report_json"):
        read_trtllm_bench([tmp_path / "a.json"], [tmp_path / "e.json", tmp_path / "g.json"])
    with pytest.raises(MeasurementError, match="No such file"):
        read_trtllm_bench(tmp_path / "missing.json")
    with pytest.raises(MeasurementError, match="energy_j must be"):
        read_trtllm_bench(write(tmp_path / "k.json", report(total_energy_j=0.0)))


ZEUS = (
    "start_time,window_name,elapsed_time,gpu0_energy,gpu1_energy\n"
    '1700000000.5,"n_in=512,n_out=128,n_requests=10",5.2,800.0,790.5\n'
    "1700000010.0,n_in=64;n_out=64,2.0,100.0,99.0\n"
)


def test_zeus_log(tmp_path) -> None:
    path = tmp_path / "zeus.csv"
    path.write_text(ZEUS)
    df = read_zeus(path)
    assert df[["n_in", "n_out", "n_requests"]].values.tolist() == [[512, 128, 10], [64, 64, 1]]
    assert df["energy_j"].tolist() == [1590.5, 199.0]
    assert df["time_s"].tolist() == [5.2, 2.0]
    assert (df["n_gpus"] == 2).all()
    assert str(df["timestamp"].iloc[0]) == "2023-11-14 22:13:20.500000+00:00"
    assert df["energy_per_gpu_j"].iloc[1] == [100.0, 99.0]
    fixed = read_zeus(path, n_in=32, n_out=16, n_requests=4)
    assert fixed[["n_in", "n_out", "n_requests"]].values.tolist() == [[32, 16, 4]] * 2
    custom = tmp_path / "custom.csv"
    custom.write_text(
        "start_time,window_name,elapsed_time,gpu0_energy\n1.0,prefill-1024-decode-256,3.0,500\n"
    )
    df = read_zeus(custom, window_pattern=r"prefill-(?P<n_in>\d+)-decode-(?P<n_out>\d+)")
    assert (df["n_in"].iloc[0], df["n_out"].iloc[0]) == (1024, 256)
    assert read_measurements(path, format="zeus")["energy_j"].sum() == pytest.approx(1789.5)


def test_zeus_errors(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("start_time,window_name,elapsed_time,gpu0_energy\n1.0,training,3.0,500\n")
    with pytest.raises(MeasurementError, match=r"cannot tell n_in of row 0.*'training'"):
        read_zeus(bad)
    with pytest.raises(MeasurementError, match="named groups"):
        read_zeus(bad, window_pattern=r"(\d+)")
    zero = tmp_path / "zero.csv"
    zero.write_text("start_time,window_name,elapsed_time,gpu0_energy\n1.0,n_in=1 n_out=1,3.0,0\n")
    with pytest.raises(MeasurementError, match="missing or not positive"):
        read_zeus(zero)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(MeasurementError, match="not a Zeus log"):
        read_zeus(other)
    # read as a plain CSV, a Zeus log gets a hint
    with pytest.raises(MeasurementError, match="format='zeus'"):
        read_measurements(bad)
    with pytest.raises(MeasurementError, match="column_map is not used"):
        read_measurements(bad, format="zeus", column_map={"a": "n_in"})
    with pytest.raises(MeasurementError, match="reads a file"):
        import pandas as pd

        read_measurements(pd.DataFrame({"n_in": [1]}), format="zeus")


CODECARBON = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
    "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,"
    "gpu_count,gpu_model,pue\n"
    "2025-10-09T11:25:18,n_in=256 n_out=64 n_requests=20,abc,def,116.1,0.0021,1.8e-05,42.5,"
    "310.2,20.0,0.00137,0.01,0.00064,0.01201,France,1,1 x NVIDIA H100 80GB HBM3,1.0\n"
)


def test_codecarbon(tmp_path) -> None:
    path = tmp_path / "emissions.csv"
    path.write_text(CODECARBON)
    df = read_codecarbon(path)
    row = df.iloc[0]
    assert (row.n_in, row.n_out, row.n_requests) == (256, 64, 20)
    assert row.energy_j == pytest.approx(36_000.0)
    assert row.time_s == 116.1 and row.n_gpus == 1
    assert row.gpu == "1 x NVIDIA H100 80GB HBM3"
    assert row.emissions == 0.0021  # other columns kept
    total = read_codecarbon(path, energy="total")
    assert total["energy_j"].iloc[0] == pytest.approx(0.01201 * 3.6e6)
    assert read_measurements(path, format="codecarbon")["energy_j"].iloc[0] == pytest.approx(36e3)
    with pytest.raises(MeasurementError, match="format='codecarbon'"):
        read_measurements(path)
    no_gpu = tmp_path / "nogpu.csv"
    no_gpu.write_text(CODECARBON.replace(",0.01,0.00064", ",0,0.00064"))
    with pytest.raises(MeasurementError, match=r"gpu_energy must be a positive.*energy='total'"):
        read_codecarbon(no_gpu)
    with pytest.raises(MeasurementError, match="energy must be"):
        read_codecarbon(path, energy="cpu")  # type: ignore[arg-type]
    with pytest.raises(MeasurementError, match=r"no 'task' column.*label_column="):
        read_codecarbon(path, label_column="task")
    fixed = read_codecarbon(path, label_column="task", n_in=1, n_out=2)
    assert (fixed["n_in"].iloc[0], fixed["n_out"].iloc[0], fixed["n_requests"].iloc[0]) == (1, 2, 1)
