"""Read the A100 energy grid of Wilkins et al. (2024) into the measurement schema.

The grid was measured with Hugging Face ``transformers`` and the KV cache disabled; see
:func:`read_wilkins` for how each column is mapped. ``read_measurements(path)`` detects the
format from the header (``Phase`` and ``GPU Energy (mJ)``), or reads it with
``format="wilkins"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import MeasurementError
from ._files import _delimiter, _read_csv, _source_path
from ._schema import (
    _as_float,
    _check_unique_columns,
    _Ctx,
    _fail,
    _list_columns,
    _plural,
    _previous_notes,
    _Rule,
    _unix_seconds,
    _validate,
)

__all__ = ["read_wilkins"]


def _looks_like_wilkins(columns: pd.Index) -> bool:
    names = {str(c).strip() for c in columns}
    return {"Phase", "GPU Energy (mJ)"} <= names


_WILKINS_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "Timestamp": "timestamp",
        "Phase": "prompt",
        "Runtime (s)": "time_s",
        "GPU Energy (mJ)": "energy_mj",
        "Number of Output Tokens": "n_out",
        "Number of Input Tokens": "n_in",
        "Model": "model",
        "Number of GPUs": "n_gpus",
    }
)
_WILKINS_TEXT = ("Model", "Phase")  # read as text, as written
_WILKINS_STARTUP = ("tokenizer", "model load")
_WILKINS_PHASE = r"^start-inference-([A-Za-z]+)-(\d+)$"
_WILKINS_CONSTANTS: Mapping[str, Any] = MappingProxyType(
    {
        "n_requests": 1,
        "batch_size": 1,
        "gpu": "A100-40GB",
        "engine": "hf-transformers",
        "dtype": "bfloat16",
        "kv_cache": False,
    }
)


def read_wilkins(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the A100 energy grid of Wilkins et al. (2024) into the measurement schema.

    Parameters
    ----------
    path : str or os.PathLike
        The ``all-stats-raw.csv`` file of the ``grantwilkins/energy-inference`` repository
        (``plots/independence-test/``), or a file with the same columns.

    Returns
    -------
    pandas.DataFrame
        One row per ``start-inference-<prompt>-<N>`` row, in file order: ``n_in`` <- ``Number
        of Input Tokens``; ``n_out`` <- ``Number of Output Tokens``; ``energy_j`` <- ``GPU Energy
        (mJ)`` / 1000 (summed over the GPUs used); ``time_s`` <- ``Runtime (s)``; ``model`` <-
        ``Model``; ``n_gpus`` <- ``Number of GPUs``; ``prompt`` <- the prompt letter of
        ``Phase`` (``"start-inference-A-8"`` -> ``"A"``); ``timestamp`` <- ``Timestamp`` (unix
        seconds, as UTC datetimes); and the constants ``n_requests = 1``, ``batch_size = 1``,
        ``gpu = "A100-40GB"``, ``engine = "hf-transformers"``, ``dtype = "bfloat16"``,
        ``kv_cache = False``. ``attrs["notes"]`` records all of this.

    Raises
    ------
    MeasurementError
        A required column is missing; a ``Phase`` is neither a measurement nor a start-up phase;
        the ``N`` of a phase disagrees with ``Number of Output Tokens``; or a value breaks the
        schema. The row numbers are 0-based data rows of the file.

    Notes
    -----
    - ``n_out`` is the *requested* ``max_new_tokens = N``; the runs set ``min_new_tokens =
      int(0.9 N)``, so the true output length lies in [0.9 N, N]. Only N is recorded.
    - The start-up rows (``Phase`` ``tokenizer`` and ``model load``) are not requests: they are
      skipped and counted in ``attrs["notes"]``. Any other ``Phase`` is an error.
    - ``Batch Size`` in the CSV is an argument of the ``transformers`` pipeline, not the real
      batch: one prompt was generated per call, so ``batch_size = 1``.
    - The runs used ``use_cache=False``: every decode step re-runs the whole prefix, so the
      energy has n_in n_out, n_out^2 and cubic terms, unlike a KV-cached engine.
    - The first cell of some groups (``A-8``) carries a cold-start overhead; it is kept.

    References
    ----------
    G. Wilkins, S. Keshav, R. Mortier, "Offline Energy-Optimal LLM Serving: Workload-Based
    Energy Models for LLM Inference on Heterogeneous Systems", 2024.
    """
    if isinstance(path, pd.DataFrame):  # as read_measurements(frame, format="wilkins")
        label = str(path.attrs.get("source", "DataFrame"))
        return _wilkins_frame(path, label, _previous_notes(path), None)
    file = _source_path(path, "wilkins")
    label = str(file)
    if file.is_dir():
        raise MeasurementError(
            f"{label} is a directory, but format='wilkins' reads a file; a directory is read as "
            "a measurement store with format='auto'."
        )
    raw = _read_csv(file, _delimiter(file), label, labels=_WILKINS_TEXT)
    return _wilkins_frame(raw, label, [], None)


def _wilkins_frame(
    raw: pd.DataFrame, label: str, notes: list[str], column_map: Mapping[str, str] | None
) -> pd.DataFrame:
    if column_map:
        raise MeasurementError(
            "column_map is not used with format='wilkins': the Wilkins reader maps its own "
            "columns. Read the file with format='csv' to map columns yourself."
        )
    _check_unique_columns(raw.columns, label)
    by_name = {str(c).strip(): c for c in raw.columns}
    missing = [name for name in _WILKINS_COLUMNS if name not in by_name]
    if missing:
        raise MeasurementError(
            f"{label} is missing the Wilkins et al. column(s) "
            f"{', '.join(repr(m) for m in missing)}; found columns {_list_columns(raw.columns)}. "
            "Use format='csv' for a file in the sweetspot schema."
        )
    if len(raw) == 0:
        raise MeasurementError(f"{label} has no data rows (0 rows); expected the Wilkins grid.")
    all_rows = _Ctx(label)
    phase_raw = raw[by_name["Phase"]]
    phase_fix = (
        "Measurement rows have Phase 'start-inference-<prompt>-<max_new_tokens>'; start-up rows "
        f"have {' or '.join(repr(s) for s in _WILKINS_STARTUP)}. Correct or remove the row."
    )
    phase_expected = "'start-inference-<prompt letter>-<N>' or a start-up phase"
    missing_phase = phase_raw.isna().to_numpy(dtype=bool)
    if missing_phase.any():
        _fail(all_rows, "Phase", missing_phase, phase_raw, phase_expected, phase_fix)
    phase = phase_raw.astype(str).str.strip()
    inference = phase.str.startswith("start-inference-").to_numpy(dtype=bool)
    startup_kind = phase.str.casefold()
    startup = startup_kind.isin(_WILKINS_STARTUP).to_numpy(dtype=bool)
    other = ~inference & ~startup
    if other.any():
        _fail(all_rows, "Phase", other, phase_raw, phase_expected, phase_fix)
    rows = np.flatnonzero(inference)
    if len(rows) == 0:
        raise MeasurementError(
            f"{label} has only start-up rows ({len(raw)}) and no 'start-inference-...' "
            "measurement rows."
        )
    parsed = phase.iloc[rows].str.extract(_WILKINS_PHASE)
    bad_phase = parsed[0].isna().to_numpy(dtype=bool)
    if bad_phase.any():
        _fail(
            _Ctx(label, rows), "Phase", bad_phase, phase_raw.iloc[rows], phase_expected, phase_fix
        )
    if startup.any():
        counts = startup_kind[startup].value_counts()
        detail = ", ".join(f"{kind!r}: {int(counts.get(kind, 0))}" for kind in _WILKINS_STARTUP)
        notes.append(
            f"skipped {_plural(int(startup.sum()), 'start-up row')} (Phase {detail}): "
            "tokenizer and model loading, not requests"
        )
    sub = raw.iloc[rows]
    ctx = _Ctx(label, rows, origins={"timestamp": by_name["Timestamp"]})
    seconds = _as_float(sub[by_name["Timestamp"]], "timestamp", _Rule("float"), ctx)
    mapped = pd.DataFrame(
        {
            "n_in": sub[by_name["Number of Input Tokens"]].to_numpy(),
            "n_out": sub[by_name["Number of Output Tokens"]].to_numpy(),
            "energy_mj": sub[by_name["GPU Energy (mJ)"]].to_numpy(),
            "time_s": sub[by_name["Runtime (s)"]].to_numpy(),
            "model": sub[by_name["Model"]].to_numpy(),
            "n_gpus": sub[by_name["Number of GPUs"]].to_numpy(),
            "prompt": parsed[0].to_numpy(),
            **{name: np.full(len(rows), value) for name, value in _WILKINS_CONSTANTS.items()},
            "timestamp": _unix_seconds(pd.Series(seconds), "timestamp", ctx).array,
        }
    )
    origins = {
        target: str(by_name[name])
        for name, target in _WILKINS_COLUMNS.items()
        if target not in ("prompt", "timestamp")
    }
    notes.extend(
        [
            "n_out is the requested max_new_tokens N (min_new_tokens = int(0.9 N)): the true "
            "output length lies in [0.9 N, N]",
            "batch_size set to 1: the CSV's 'Batch Size' is a pipeline argument, one prompt was "
            "generated per call",
            "set n_requests=1, gpu='A100-40GB', engine='hf-transformers', dtype='bfloat16', "
            "kv_cache=False (use_cache=False: every decode step re-runs the prefix)",
            "prompt is the letter in Phase ('start-inference-A-8' -> 'A'); timestamp is "
            "Timestamp (unix seconds) as UTC",
        ]
    )
    out = _validate(mapped, source=label, notes=notes, rows=rows, origins=origins)
    requested = [int(n) for n in parsed[1]]  # Python ints: an N of 30 digits must not overflow
    mismatch = np.array(
        [int(a) != b for a, b in zip(out["n_out"].tolist(), requested, strict=True)], dtype=bool
    )
    if mismatch.any():
        pos = int(np.flatnonzero(mismatch)[0])
        raise MeasurementError(
            f"'Number of Output Tokens' must equal the N of Phase "
            f"'start-inference-<prompt>-N'; got {int(out['n_out'].iloc[pos])} with Phase "
            f"{phase.iloc[rows[pos]]!r} in row {int(rows[pos])} of {label} "
            f"({_plural(int(mismatch.sum()), 'bad row')} in total). Correct the row."
        )
    return out
