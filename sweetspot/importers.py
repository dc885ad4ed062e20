"""Readers for the energy logs of other tools, mapped onto the measurement schema.

- :func:`read_trtllm_bench` -- ``trtllm-bench ... throughput --report_json F
  [--request_json G]`` (TensorRT-LLM): one row per benchmark run;
- :func:`read_zeus` -- the log CSV of Zeus' ``ZeusMonitor(log_file=...)``: one row per
  measurement window;
- :func:`read_codecarbon` -- CodeCarbon's ``emissions.csv``: one row per tracked run or task.

These tools do not know the request lengths of a window in the way sweetspot's store does:
trtllm-bench reports averages (exact only for a fixed-length dataset, which the per-request
JSON confirms), and Zeus and CodeCarbon only know the names you gave the windows. Those names
are parsed for ``n_in=<int>``, ``n_out=<int>`` and optionally ``n_requests=<int>`` (or your own
regular expression), or you pass the lengths as constants. Anything missing or ambiguous is a
:class:`~sweetspot.exceptions.MeasurementError` saying which field, where, and how to fix it;
nothing is dropped silently. ``read_measurements(path, format="trtllm-bench" | "zeus" |
"codecarbon")`` dispatches here with the default options.

References
----------
TensorRT-LLM, ``tensorrt_llm/bench/dataclasses/reporting.py`` (``ReportUtility.
get_statistics_dict``: ``engine``, ``world_info``, ``request_info``, ``performance``,
``streaming_metrics``; per-request records with ``num_input_tokens``, ``output_tokens`` and
nanosecond timings) and pull request #11397 (whole-run GPU energy from the NVML counter).
Zeus, ``zeus/monitor/energy.py``: log header ``start_time,window_name,elapsed_time,
gpu<i>_energy`` (seconds, joules). CodeCarbon, output ``emissions.csv``: ``duration`` [s],
``gpu_energy``, ``cpu_energy``, ``ram_energy``, ``energy_consumed`` [kWh], ``gpu_model``,
``gpu_count``, ``project_name``, ``task_name`` (task mode).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .exceptions import MeasurementError
from .io import _check_unique_columns, _list_columns, _missing_file, _read_csv, _validate

__all__ = ["read_codecarbon", "read_trtllm_bench", "read_zeus"]

_J_PER_KWH = 3_600_000.0

# Keys under which trtllm-bench versions report the whole-run energy, in joules. The energy
# report arrived in 2026 (PR #11397); its key names are matched case-insensitively in the
# "performance" section, an "energy" section, or the top level.
_TRTLLM_ENERGY_KEYS = (
    "total_energy_j",
    "total_gpu_energy_j",
    "gpu_energy_j",
    "energy_j",
    "total_energy_joules",
    "total_energy",
)


# --------------------------------------------------------------------------- shared


def _as_path(path: str | os.PathLike[str], reader: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise MeasurementError(
            f"{reader} expects a path (str or os.PathLike); got {type(path).__name__}."
        )
    file = Path(path)
    if not file.exists():
        raise _missing_file(str(file))
    if file.is_dir():
        raise MeasurementError(f"{file} is a directory; {reader} reads one file. Pass the file.")
    return file


def _key_regex(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){name}\s*[=:]\s*(\d+)", re.IGNORECASE)


_KEY_PATTERNS = {name: _key_regex(name) for name in ("n_in", "n_out", "n_requests")}


def _lengths_from_labels(
    labels: Sequence[Any],
    *,
    pattern: str | None,
    constants: Mapping[str, int | None],
    source: str,
    column: str,
    example: str,
) -> tuple[dict[str, list[int]], list[str]]:
    """n_in, n_out (and n_requests) of each row, from constants or from the row's label."""
    notes: list[str] = []
    regex = re.compile(pattern) if pattern is not None else None
    if regex is not None:
        missing = {"n_in", "n_out"} - set(regex.groupindex)
        fixed = {k for k, v in constants.items() if v is not None}
        if missing - fixed:
            raise MeasurementError(
                f"the pattern {pattern!r} must have named groups (?P<n_in>...) and "
                f"(?P<n_out>...) unless those lengths are given as constants; it lacks "
                f"{', '.join(sorted(missing - fixed))}."
            )
    out: dict[str, list[int]] = {"n_in": [], "n_out": [], "n_requests": []}
    for row, label in enumerate(labels):
        text = (
            "" if label is None or (isinstance(label, float) and math.isnan(label)) else str(label)
        )
        found: dict[str, str] = {}
        if regex is not None:
            match = regex.search(text)
            if match:
                found = {k: v for k, v in match.groupdict().items() if v is not None}
        else:
            for name, key_re in _KEY_PATTERNS.items():
                hit = key_re.search(text)
                if hit:
                    found[name] = hit.group(1)
        for name in ("n_in", "n_out", "n_requests"):
            constant = constants.get(name)
            if constant is not None:
                out[name].append(int(constant))
                continue
            if name in found:
                value = int(found[name])
                if value < 1:
                    raise MeasurementError(
                        f"{name} must be a positive integer; got {value} in {column} {text!r} "
                        f"(row {row} of {source})."
                    )
                out[name].append(value)
            elif name == "n_requests":
                out[name].append(1)
            else:
                how = (
                    f"match the pattern {pattern!r}"
                    if regex is not None
                    else f"contain '{name}=<int>'"
                )
                raise MeasurementError(
                    f"cannot tell {name} of row {row} of {source}: its {column} {text!r} does "
                    f"not {how}. Name the windows with their lengths (e.g. {example}), pass a "
                    f"pattern with named groups, or pass {name}=<int> if every row has the "
                    "same value."
                )
    if all(constants.get(n) is None for n in ("n_in", "n_out")):
        notes.append(
            f"n_in and n_out parsed from the {column} of each row"
            + (f" with the pattern {pattern!r}" if pattern else " ('n_in=<int>', 'n_out=<int>')")
        )
    if (
        constants.get("n_requests") is None
        and not any("n_requests" in str(x) for x in labels)
        and regex is None
    ):
        notes.append("no n_requests in the names: set to 1 (each window is one request)")
    return out, notes


def _csv_frame(file: Path) -> pd.DataFrame:
    raw = _read_csv(file, "\t" if file.suffix.lower() == ".tsv" else ",", str(file))
    _check_unique_columns(raw.columns, str(file))
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


# --------------------------------------------------------------------------- trtllm-bench


def _load_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise MeasurementError(f"{file} is not UTF-8 text ({exc.reason}).") from exc
    except json.JSONDecodeError as exc:
        raise MeasurementError(
            f"{file} is not valid JSON ({exc.msg} at line {exc.lineno}); expected the file "
            "written by trtllm-bench --report_json / --request_json."
        ) from exc


def _find_energy(report: Mapping[str, Any]) -> tuple[float, str] | None:
    sections: list[tuple[str, Any]] = [
        ("performance", report.get("performance")),
        ("energy", report.get("energy")),
        ("", report),
    ]
    for prefix, section in sections:
        if not isinstance(section, Mapping):
            continue
        lowered = {str(k).casefold(): k for k in section}
        for key in _TRTLLM_ENERGY_KEYS:
            if key in lowered:
                value = section[lowered[key]]
                where = f"{prefix}.{lowered[key]}" if prefix else str(lowered[key])
                return value, where
    return None


def _section(report: Mapping[str, Any], name: str, file: Path) -> Mapping[str, Any]:
    section = report.get(name)
    if not isinstance(section, Mapping):
        raise MeasurementError(
            f"{file} has no {name!r} section; found {_list_columns(list(report))}. Expected the "
            "--report_json file of `trtllm-bench ... throughput` (keys engine, world_info, "
            "request_info, performance)."
        )
    return section


def _exact(value: Any, name: str, file: Path, why: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MeasurementError(f"{name} of {file} must be a number; got {value!r}.")
    if abs(value - round(value)) > 1e-9 or round(value) < 1:
        raise MeasurementError(
            f"{name} of {file} is {value!r}, not a whole positive number of tokens: {why}"
        )
    return round(value)


def _percentiles_s(values_ns: Iterable[Any]) -> dict[int, float]:
    arr = np.array([float(v) for v in values_ns if isinstance(v, (int, float))], dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return {}
    return {q: float(np.percentile(arr, q)) * 1e-9 for q in (50, 90, 99)}


def read_trtllm_bench(
    report: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    requests: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
) -> pd.DataFrame:
    """Read ``trtllm-bench ... throughput --report_json`` files: one row per benchmark run.

    Parameters
    ----------
    report : path or sequence of paths
        ``--report_json`` file(s).
    requests : path or sequence of paths, optional
        The matching ``--request_json`` file(s) (same order). They confirm that every request
        had the same input and output length (required for an exact row) and give TTFT,
        time-per-output-token and end-to-end percentiles.

    Returns
    -------
    pandas.DataFrame
        Validated rows: ``n_in``, ``n_out`` [tokens per request], ``energy_j`` [J, the whole
        run], ``n_requests``, ``time_s`` (``performance.total_latency_ms`` / 1000), ``model``,
        ``engine = "tensorrt_llm"``, ``tp`` and ``n_gpus`` (``world_info``), ``dtype`` when
        reported, ``gpu`` when the report has a ``machine`` section; extra columns
        ``max_batch_size``, ``max_num_tokens``, ``engine_version``, ``avg_power_w``
        (energy / time), and ``ttft_p50_s`` ... ``e2e_p99_s`` from the request JSON.

    Raises
    ------
    MeasurementError
        Missing file or section; no energy in the report (trtllm-bench writes it only in
        recent versions, with pynvml installed); average lengths that are not whole numbers
        without a request JSON; requests of different lengths; counts that disagree between
        the two files.

    Notes
    -----
    trtllm-bench's energy is the NVML counter differenced over the whole benchmark (ramp-up
    and tail included, all GPUs of the world summed), with no idle baseline and no
    per-request split. It is a valid window for the schema (``energy_j`` over
    ``n_requests``), but a coarse one compared with ``sweetspot measure``.
    """
    reports = [report] if isinstance(report, (str, os.PathLike)) else list(report)
    if requests is None:
        request_files: list[Any] = [None] * len(reports)
    else:
        request_files = [requests] if isinstance(requests, (str, os.PathLike)) else list(requests)
        if len(request_files) != len(reports):
            raise MeasurementError(
                f"got {len(reports)} report file(s) but {len(request_files)} request file(s); "
                "pass one --request_json per --report_json, in the same order."
            )
    if not reports:
        raise MeasurementError("read_trtllm_bench needs at least one report file.")
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for path, req_path in zip(reports, request_files, strict=True):
        file = _as_path(path, "read_trtllm_bench")
        data = _load_json(file)
        if isinstance(data, list):
            raise MeasurementError(
                f"{file} is a list of {len(data)} entries: it looks like a --request_json file "
                "(per-request records, no energy). Pass the --report_json file as the report, "
                "and this one as requests=."
            )
        if not isinstance(data, Mapping):
            raise MeasurementError(f"{file} is a JSON {type(data).__name__}, not a report.")
        info = _section(data, "request_info", file)
        perf = _section(data, "performance", file)
        world: Mapping[str, Any] = data.get("world_info") or {}
        engine: Mapping[str, Any] = data.get("engine") or {}
        if not isinstance(world, Mapping) or not isinstance(engine, Mapping):
            raise MeasurementError(
                f"{file}: 'world_info' and 'engine' must be JSON objects; the file is not a "
                "trtllm-bench report."
            )
        found = _find_energy(data)
        if found is None:
            raise MeasurementError(
                f"{file} reports no energy (looked for {', '.join(_TRTLLM_ENERGY_KEYS)} in "
                f"'performance', 'energy' and the top level; performance has "
                f"{_list_columns(list(perf))}). trtllm-bench writes whole-run GPU energy only "
                "in recent versions with pynvml installed; rerun with such a version, or "
                "measure the grid with `sweetspot measure`."
            )
        energy, energy_key = found
        n_requests = _exact(
            info.get("num_requests"), "request_info.num_requests", file, "a request count."
        )
        row: dict[str, Any]
        timing: dict[str, float] = {}
        if req_path is not None:
            req_file = _as_path(req_path, "read_trtllm_bench")
            entries = _load_json(req_file)
            if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
                raise MeasurementError(
                    f"{req_file} is not a --request_json file (expected a list of per-request "
                    "objects)."
                )
            if len(entries) != n_requests:
                raise MeasurementError(
                    f"{req_file} has {len(entries)} requests but {file} reports "
                    f"{n_requests}; pass the request JSON written by the same run."
                )
            lengths = {}
            for name, keys in (
                ("n_in", ("num_input_tokens",)),
                ("n_out", ("output_tokens", "num_total_output_tokens")),
            ):
                key = next((k for k in keys if all(k in e for e in entries)), None)
                if key is None:
                    raise MeasurementError(
                        f"{req_file} lacks {' / '.join(keys)} in some requests; cannot check "
                        f"{name}."
                    )
                values = sorted({e[key] for e in entries})
                if len(values) != 1:
                    raise MeasurementError(
                        f"the requests of {req_file} have {len(values)} different {key} values "
                        f"({values[:5]}{'...' if len(values) > 5 else ''}); one row of the "
                        "schema needs one (n_in, n_out). Benchmark fixed-length datasets (e.g. "
                        "prepare_dataset token-norm-dist with --input-stdev 0 --output-stdev 0)."
                    )
                lengths[name] = _exact(values[0], f"{key} in {req_file}", req_file, "")
            n_in, n_out = lengths["n_in"], lengths["n_out"]
            for label, key in (("ttft", "time_to_first_token"), ("tpot", "intertoken_latency")):
                for q, v in _percentiles_s(e.get(key) for e in entries).items():
                    timing[f"{label}_p{q}_s"] = v
            for q, v in _percentiles_s(e.get("end_to_end_latency") for e in entries).items():
                timing[f"e2e_p{q}_s"] = v
        else:
            why = (
                "the dataset mixed lengths, and one schema row needs the exact (n_in, n_out). "
                "Benchmark a fixed-length dataset and pass its --request_json as requests=."
            )
            n_in = _exact(info.get("avg_input_length"), "request_info.avg_input_length", file, why)
            n_out = _exact(
                info.get("avg_output_length"), "request_info.avg_output_length", file, why
            )
        latency_ms = perf.get("total_latency_ms")
        row = {
            "n_in": n_in,
            "n_out": n_out,
            "energy_j": energy,
            "n_requests": n_requests,
        }
        if isinstance(latency_ms, (int, float)) and not isinstance(latency_ms, bool):
            row["time_s"] = latency_ms / 1000.0
        if engine.get("model"):
            row["model"] = str(engine["model"])
        machine = data.get("machine")
        if isinstance(machine, Mapping) and machine.get("name"):
            row["gpu"] = str(machine["name"])
        if isinstance(world.get("world_size"), int):
            row["n_gpus"] = world["world_size"]
        row["engine"] = "tensorrt_llm"
        if isinstance(world.get("tp_size"), int):
            row["tp"] = world["tp_size"]
        if engine.get("dtype"):
            row["dtype"] = str(engine["dtype"])
        row["max_batch_size"] = world.get("max_batch_size")
        row["max_num_tokens"] = world.get("max_num_tokens")
        row["engine_version"] = engine.get("version")
        if "time_s" in row and isinstance(energy, (int, float)) and row["time_s"] > 0:
            row["avg_power_w"] = float(energy) / row["time_s"]
        row.update(timing)
        row["report_file"] = str(file)
        rows.append(row)
        notes.append(f"{file.name}: energy_j <- {energy_key} [J]")
    notes.append(
        "trtllm-bench energy covers the whole run (ramp-up and tail included, GPUs summed); "
        "no idle baseline was subtracted"
    )
    label = str(reports[0]) if len(reports) == 1 else f"{len(reports)} trtllm-bench reports"
    frame = pd.DataFrame(rows)
    return _validate(frame, source=label, notes=notes)


# --------------------------------------------------------------------------- Zeus


def read_zeus(
    path: str | os.PathLike[str],
    *,
    window_pattern: str | None = None,
    n_in: int | None = None,
    n_out: int | None = None,
    n_requests: int | None = None,
) -> pd.DataFrame:
    """Read the log CSV of Zeus' ``ZeusMonitor(log_file=...)``: one row per window.

    Parameters
    ----------
    path : str or os.PathLike
        The log file (header ``start_time,window_name,elapsed_time,gpu<i>_energy,...``).
    window_pattern : str, optional
        Regular expression with named groups ``n_in``, ``n_out`` (and optionally
        ``n_requests``) searched in each ``window_name``. By default the names are searched
        for ``n_in=<int>``, ``n_out=<int>`` and ``n_requests=<int>`` (``:`` also accepted),
        as written by ``monitor.begin_window("n_in=512,n_out=128,n_requests=10")``.
    n_in, n_out, n_requests : int, optional
        Constants for every row instead of parsing them (``n_requests`` defaults to 1).

    Returns
    -------
    pandas.DataFrame
        Validated rows: ``n_in``, ``n_out``, ``energy_j`` (sum of the ``gpu<i>_energy``
        columns [J]), ``n_requests``, ``time_s`` (``elapsed_time``), ``n_gpus`` (number of
        GPU columns); extra columns ``window_name``, ``timestamp`` (``start_time`` as UTC),
        ``energy_per_gpu_j`` and any other column of the log (e.g. CPU energy), unchanged.

    Raises
    ------
    MeasurementError
        Missing file or Zeus columns, a window whose name gives no lengths, or an energy
        that is missing or not positive (Zeus logs 0 for GPUs it could not measure).
    """
    file = _as_path(path, "read_zeus")
    raw = _csv_frame(file)
    label = str(file)
    required = ("start_time", "window_name", "elapsed_time")
    missing = [c for c in required if c not in raw.columns]
    gpu_cols = [c for c in raw.columns if re.fullmatch(r"gpu\d+_energy", c)]
    if missing or not gpu_cols:
        raise MeasurementError(
            f"{label} is not a Zeus log: it lacks "
            f"{', '.join(repr(m) for m in missing) or 'any gpu<i>_energy column'}; found "
            f"columns {_list_columns(raw.columns)}. Expected the header written by "
            "ZeusMonitor(log_file=...): start_time,window_name,elapsed_time,gpu0_energy,..."
        )
    if len(raw) == 0:
        raise MeasurementError(f"{label} has no windows (header only).")
    lengths, notes = _lengths_from_labels(
        raw["window_name"].tolist(),
        pattern=window_pattern,
        constants={"n_in": n_in, "n_out": n_out, "n_requests": n_requests},
        source=label,
        column="window_name",
        example="monitor.begin_window('n_in=512,n_out=128,n_requests=10')",
    )
    per_gpu = raw[gpu_cols].apply(pd.to_numeric, errors="coerce")
    bad = per_gpu.isna().any(axis=1).to_numpy() | (per_gpu <= 0).any(axis=1).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise MeasurementError(
            f"the GPU energy of window {raw['window_name'].iloc[row]!r} (row {row} of {label}) "
            f"is missing or not positive ({per_gpu.iloc[row].to_dict()}); Zeus logs 0 J for a "
            "GPU it could not measure. Remove that window or measure it again "
            "(sweetspot never drops rows silently)."
        )
    frame = pd.DataFrame(
        {
            "n_in": lengths["n_in"],
            "n_out": lengths["n_out"],
            "energy_j": per_gpu.sum(axis=1).to_numpy(),
            "n_requests": lengths["n_requests"],
            "time_s": raw["elapsed_time"].to_numpy(),
            "n_gpus": len(gpu_cols),
            "window_name": raw["window_name"].astype(str).to_numpy(),
            "timestamp": pd.to_datetime(
                pd.to_numeric(raw["start_time"], errors="coerce"), unit="s", utc=True
            ),
            "energy_per_gpu_j": per_gpu.to_numpy().tolist(),
        }
    )
    used = {*required, *gpu_cols}
    for column in raw.columns:
        if column not in used and column not in frame.columns:
            frame[column] = raw[column].to_numpy()
    notes.append(
        f"energy_j = {' + '.join(gpu_cols)} [J, Zeus]; time_s <- elapsed_time; timestamp <- "
        "start_time (unix seconds, UTC)"
    )
    return _validate(frame, source=label, notes=notes)


# --------------------------------------------------------------------------- CodeCarbon


def read_codecarbon(
    path: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    pattern: str | None = None,
    n_in: int | None = None,
    n_out: int | None = None,
    n_requests: int | None = None,
    energy: Literal["gpu", "total"] = "gpu",
) -> pd.DataFrame:
    """Read CodeCarbon's ``emissions.csv``: one row per tracked run (or task).

    Parameters
    ----------
    path : str or os.PathLike
        The ``emissions.csv`` file.
    label_column : str, optional
        Column naming each run, parsed for ``n_in=<int>``, ``n_out=<int>``,
        ``n_requests=<int>`` (default ``task_name`` when present, else ``project_name``).
    pattern : str, optional
        Regular expression with named groups ``n_in``, ``n_out`` (and ``n_requests``) to
        parse the labels instead.
    n_in, n_out, n_requests : int, optional
        Constants for every row instead of parsing them.
    energy : {"gpu", "total"}, default "gpu"
        ``gpu_energy`` (the GPU only, comparable with NVML-based tools) or
        ``energy_consumed`` (CPU + GPU + RAM, times the PUE CodeCarbon applied).

    Returns
    -------
    pandas.DataFrame
        Validated rows: ``n_in``, ``n_out``, ``energy_j`` (kWh x 3.6e6), ``n_requests``,
        ``time_s`` (``duration``), ``gpu`` (``gpu_model``) and ``n_gpus`` (``gpu_count``) when
        present; the other CodeCarbon columns (emissions, power, CPU and RAM energy, ...)
        follow unchanged, ``timestamp`` parsed.

    Raises
    ------
    MeasurementError
        Missing file or columns, unknown ``energy``, labels that give no lengths, or an energy
        that is missing or zero (``gpu_energy`` is 0 when CodeCarbon found no GPU: use
        ``energy="total"`` or a GPU meter).

    Notes
    -----
    CodeCarbon samples power at its ``measure_power_secs`` interval (15 s by default), so runs
    shorter than a few intervals are poorly resolved; prefer long runs, or ``sweetspot
    measure`` for (n_in, n_out) grids.
    """
    if energy not in ("gpu", "total"):
        raise MeasurementError(f"energy must be 'gpu' or 'total'; got {energy!r}.")
    file = _as_path(path, "read_codecarbon")
    raw = _csv_frame(file)
    label = str(file)
    column = "gpu_energy" if energy == "gpu" else "energy_consumed"
    missing = [c for c in ("duration", column) if c not in raw.columns]
    if missing:
        raise MeasurementError(
            f"{label} is not a CodeCarbon emissions.csv with {column}: it lacks "
            f"{', '.join(repr(m) for m in missing)}; found columns {_list_columns(raw.columns)}."
        )
    if len(raw) == 0:
        raise MeasurementError(f"{label} has no runs (header only).")
    if label_column is None:
        label_column = next(
            (c for c in ("task_name", "project_name") if c in raw.columns), "project_name"
        )
    fixed = n_in is not None and n_out is not None
    if label_column not in raw.columns and not fixed:
        raise MeasurementError(
            f"{label} has no {label_column!r} column to read the lengths from; found "
            f"{_list_columns(raw.columns)}. Pass label_column=, or n_in= and n_out=."
        )
    labels = raw[label_column].tolist() if label_column in raw.columns else [""] * len(raw)
    lengths, notes = _lengths_from_labels(
        labels,
        pattern=pattern,
        constants={"n_in": n_in, "n_out": n_out, "n_requests": n_requests},
        source=label,
        column=label_column,
        example="EmissionsTracker(project_name='n_in=512,n_out=128,n_requests=10')",
    )
    kwh = pd.to_numeric(raw[column], errors="coerce")
    bad = (kwh.isna() | (kwh <= 0)).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        hint = (
            " gpu_energy is 0 when CodeCarbon found no GPU; use energy='total' or a GPU meter."
            if energy == "gpu"
            else ""
        )
        raise MeasurementError(
            f"{column} must be a positive energy [kWh]; got {raw[column].iloc[row]!r} in row "
            f"{row} of {label} ({int(bad.sum())} bad row(s) in total).{hint}"
        )
    frame = pd.DataFrame(
        {
            "n_in": lengths["n_in"],
            "n_out": lengths["n_out"],
            "energy_j": kwh.to_numpy() * _J_PER_KWH,
            "n_requests": lengths["n_requests"],
            "time_s": raw["duration"].to_numpy(),
        }
    )
    if "gpu_model" in raw.columns and raw["gpu_model"].notna().all():
        frame["gpu"] = raw["gpu_model"].astype(str).to_numpy()
    if "gpu_count" in raw.columns and pd.to_numeric(raw["gpu_count"], errors="coerce").ge(1).all():
        frame["n_gpus"] = pd.to_numeric(raw["gpu_count"]).astype(np.int64).to_numpy()
    used = {"duration", column, "gpu_model", "gpu_count"}
    for name in raw.columns:
        if name not in used and name not in frame.columns:
            frame[name] = raw[name].to_numpy()
    if "timestamp" in frame.columns:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], errors="coerce", format="ISO8601")
    notes.append(f"energy_j = {column} [kWh] * 3.6e6; time_s <- duration [s]")
    return _validate(frame, source=label, notes=notes)
