"""Tests of sweetspot.io.codecarbon: CodeCarbon's emissions.csv."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweetspot import read_measurements
from sweetspot.exceptions import MeasurementError
from sweetspot.io import read_codecarbon

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
    assert row.time_s == 116.1 and "n_gpus" not in df.columns and row.gpu_count == 1
    assert row.gpu == "NVIDIA H100 80GB HBM3"
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


def test_codecarbon_text_columns_and_strict_numbers(tmp_path) -> None:
    path = tmp_path / "emissions.csv"
    header = "timestamp,project_name,run_id,duration,gpu_energy,gpu_count,python_version\n"
    path.write_text(header + "2025-01-01T00:00:00,n_in=8 n_out=4,007,10.0,0.001,1,3.10\n")
    df = read_codecarbon(path)
    assert df["python_version"].tolist() == ["3.10"] and df["run_id"].tolist() == ["007"]
    path.write_text(header + "2025-01-01T00:00:00,n_in=8 n_out=4,a,10.0,0.001,1.5,3.10\n")
    with pytest.raises(MeasurementError, match=r"n_gpus must be a positive whole number.*1\.5"):
        read_codecarbon(path)
    path.write_text(header + "2025-01-01T00:00:00,n_in=8 n_out=4,a,10.0,True,1,3.10\n")
    with pytest.raises(MeasurementError, match=r"gpu_energy .*Booleans"):
        read_codecarbon(path)
    path.write_text(header + "yesterday,n_in=8 n_out=4,a,10.0,0.001,1,3.10\n")
    with pytest.raises(MeasurementError, match=r"timestamp must be an ISO 8601 date.*'yesterday'"):
        read_codecarbon(path)
    path.write_text(header + "2025-01-01T00:00:00,n_in=8 n_out=1k,a,10.0,0.001,1,3.10\n")
    with pytest.raises(MeasurementError, match=r"n_out .*'1k' in the project_name"):
        read_codecarbon(path)
    path.write_text(header + "2025-01-01T00:00:00,n_in=8 n_out=4,a,10.0,0.001,N/A,3.10\n")
    kept = read_codecarbon(path)  # a GPU count that is not a number stays as it is
    assert "n_gpus" not in kept.columns and kept["gpu_count"].tolist() == ["N/A"]


# ------------------------------------------------------------------ issue 15, finding 6

FIXTURE = Path(__file__).parent / "fixtures" / "codecarbon" / "emissions.csv"


def test_finding_6_pue_gpu_model_and_gpu_count_of_real_files() -> None:
    df = read_codecarbon(FIXTURE)
    # gpu_energy 0.012 kWh was written with pue 1.2: the GPU drew 0.01 kWh
    assert df["energy_j"].iloc[0] == pytest.approx(0.01 * 3.6e6)
    assert df["energy_j"].iloc[1] == pytest.approx(0.025 * 3.6e6)
    assert (df["gpu"] == "NVIDIA H100 80GB HBM3").all()  # not "8 x NVIDIA H100 ..."
    assert "n_gpus" not in df.columns  # gpu_count counts every GPU of the machine
    assert (df["gpu_count"] == 8).all() and (df["gpu_model"] == "8 x NVIDIA H100 80GB HBM3").all()
    assert df[["n_in", "n_out", "n_requests"]].values.tolist() == [[512, 128, 40], [2048, 128, 40]]
    assert any("divided by pue" in n for n in df.attrs["notes"])
    tracked = read_codecarbon(FIXTURE, n_gpus=1)
    assert (tracked["n_gpus"] == 1).all()
    total = read_codecarbon(FIXTURE, energy="total")
    assert total["energy_j"].iloc[0] == pytest.approx(0.014412 * 3.6e6)  # facility view, as written
    with pytest.raises(MeasurementError, match="n_gpus must be a positive whole number"):
        read_codecarbon(FIXTURE, n_gpus=0)


def test_codecarbon_mixed_gpu_models_and_bad_pue(tmp_path) -> None:
    text = FIXTURE.read_text().replace(
        "8 x NVIDIA H100 80GB HBM3", "4 x NVIDIA A1002 x NVIDIA H100"
    )
    path = tmp_path / "emissions.csv"
    path.write_text(text)
    df = read_codecarbon(path)
    assert "gpu" not in df.columns and any("several GPU models" in n for n in df.attrs["notes"])
    path.write_text(FIXTURE.read_text().replace(",1.2,0.0", ",0.5,0.0"))
    with pytest.raises(MeasurementError, match="pue must be a number >= 1"):
        read_codecarbon(path)
