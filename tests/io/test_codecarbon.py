"""Tests of sweetspot.io.codecarbon: CodeCarbon's emissions.csv."""

from __future__ import annotations

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
