"""Shared test data: grids of lengths with energies from known coefficients, measurement files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sweetspot.io import SCHEMA_REQUIRED

LEVELS = [64, 128, 256, 512, 1024, 2048, 4096]
THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])


def grid_frame(levels_in=LEVELS, levels_out=LEVELS) -> pd.DataFrame:
    """Every (n_in, n_out) pair of the levels, one row each."""
    ni, no = np.meshgrid(levels_in, levels_out, indexing="ij")
    return pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})


def with_energy(df: pd.DataFrame, energy: np.ndarray) -> pd.DataFrame:
    """A copy of ``df`` with an ``energy_j`` column."""
    out = df.copy()
    out["energy_j"] = energy
    return out


def write_csv(path, text: str, encoding: str = "utf-8") -> str:
    """Write ``text`` to ``path`` in ``encoding``; return the path as text."""
    path.write_bytes(text.encode(encoding))
    return str(path)


def assert_schema_frame(df: pd.DataFrame) -> None:
    """``df`` is a validated measurement frame: schema columns first, dtypes, provenance."""
    assert list(df.columns[:4]) == [*SCHEMA_REQUIRED, "n_requests"]
    for name in ("n_in", "n_out", "n_requests"):
        assert df[name].dtype == np.int64
    assert df["energy_j"].dtype == np.float64
    assert isinstance(df.attrs["source"], str)
    assert all(isinstance(n, str) for n in df.attrs["notes"])
