"""Tests of sweetspot.io.trtllm_bench: trtllm-bench --report_json / --request_json files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sweetspot import read_measurements
from sweetspot.exceptions import MeasurementError
from sweetspot.io import read_trtllm_bench


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


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"performance": {"total_energy_j": "120"}}, r"must be a number of joules; got '120'"),
        ({"performance": {"total_energy_j": True}}, r"must be a number of joules; got True"),
        ({"performance": {"total_energy_j": [1]}}, r"must be a number of joules; got \[1\]"),
        (
            {
                "request_info": {
                    "num_requests": 3,
                    "avg_input_length": 512.0000000001,
                    "avg_output_length": 128,
                }
            },
            r"avg_input_length .* is 512\.0000000001, not a whole positive number",
        ),
        (
            {
                "request_info": {
                    "num_requests": "3",
                    "avg_input_length": 512,
                    "avg_output_length": 128,
                }
            },
            r"num_requests of .* must be a number; got '3'",
        ),
        ({"engine": {"model": {"a": 1}}}, r"engine\.model of .* must be a name"),
    ],
)
def test_report_fields_of_the_wrong_type(tmp_path, change, match) -> None:
    data = report(total_energy_j=150.0)
    for key, value in change.items():
        data[key] = {**data[key], **value} if key != "request_info" else value
    path = write(tmp_path / "r.json", data)
    with pytest.raises(MeasurementError, match=match):
        read_trtllm_bench(path)


def test_request_json_of_the_wrong_type(tmp_path) -> None:
    rep = write(tmp_path / "r.json", report(total_energy_j=150.0))
    entries = request_json()
    entries[1]["num_input_tokens"] = [512]  # unhashable: no TypeError
    with pytest.raises(MeasurementError, match=r"num_input_tokens of request 1 .* got \[512\]"):
        read_trtllm_bench(rep, write(tmp_path / "q.json", entries))
    entries[1]["num_input_tokens"] = "512"
    with pytest.raises(MeasurementError, match=r"num_input_tokens of request 1 .* got '512'"):
        read_trtllm_bench(rep, write(tmp_path / "q.json", entries))


def test_hostile_json_files(tmp_path, monkeypatch) -> None:
    path = tmp_path / "r.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(MeasurementError, match="nested too deeply"):
        read_trtllm_bench(path)
    path.write_text('{"performance": {"total_energy_j": NaN}}')
    with pytest.raises(MeasurementError, match="NaN is not valid JSON"):
        read_trtllm_bench(path)
    from sweetspot.io import _files

    write(path, report(total_energy_j=150.0))
    monkeypatch.setattr(_files, "MAX_JSON_BYTES", 100)
    with pytest.raises(MeasurementError, match=r"larger than .*MiB"):
        read_trtllm_bench(path)
    with pytest.raises(MeasurementError, match="report must be a path"):
        read_trtllm_bench(123)  # type: ignore[arg-type]


# ------------------------------------------------------------------ issue 15, finding 5

FIXTURES = Path(__file__).parent / "fixtures" / "trtllm_bench"


def test_finding_5_non_streaming_requests_give_no_ttft(tmp_path) -> None:
    """trtllm-bench without --streaming: first_token_timestamp -1, TTFT 0, TPOT ~39 s."""
    report_data = json.loads((FIXTURES / "report_not_streamed.json").read_text())
    assert "streaming_metrics" not in report_data
    # this report version has no energy: the test adds one (see fixtures/README.md)
    report_data["performance"]["total_energy_j"] = 2400.0
    rep = write(tmp_path / "report.json", report_data)
    df = read_trtllm_bench(rep, FIXTURES / "requests_not_streamed.json")
    row = df.iloc[0]
    assert (row.n_in, row.n_out, row.n_requests) == (512, 128, 4)
    assert not any(c.startswith(("ttft_", "tpot_")) for c in df.columns)
    assert row.e2e_p50_s == pytest.approx(4.15, abs=0.1)  # end to end is still measured
    assert any("not streamed" in n for n in df.attrs["notes"])
    assert row.gpu == "NVIDIA H100 80GB HBM3" and row["dtype"] == "bfloat16"
    # the real report as written is refused for want of an energy, with the reason
    with pytest.raises(MeasurementError, match="reports no energy"):
        read_trtllm_bench(FIXTURES / "report_not_streamed.json")


def test_streamed_requests_keep_their_ttft(tmp_path) -> None:
    entries = json.loads((FIXTURES / "requests_not_streamed.json").read_text())
    for e in entries:  # as a --streaming run records them
        e["first_token_timestamp"] = e["start_timestamp"] + 50_000_000
        e["time_to_first_token"] = 50_000_000
        e["intertoken_latency"] = (e["end_timestamp"] - e["first_token_timestamp"]) / 127
    report_data = json.loads((FIXTURES / "report_not_streamed.json").read_text())
    report_data["performance"]["total_energy_j"] = 2400.0
    df = read_trtllm_bench(
        write(tmp_path / "r.json", report_data), write(tmp_path / "q.json", entries)
    )
    assert df["ttft_p50_s"].iloc[0] == pytest.approx(0.05)
    assert df["tpot_p50_s"].iloc[0] < 0.1
