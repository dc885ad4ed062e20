"""Read ``trtllm-bench ... throughput --report_json`` files (TensorRT-LLM): one row per run.

trtllm-bench reports average request lengths, exact only for a fixed-length dataset, which
the per-request JSON (``--request_json``) confirms. Anything missing or ambiguous is a
:class:`~sweetspot.exceptions.MeasurementError` saying which field, where, and how to fix it.
``read_measurements(path, format="trtllm-bench")`` reads one report with the default options.

trtllm-bench runs without ``--streaming`` by default; its per-request records then hold no
first-token time (``first_token_timestamp = -1``, so ``time_to_first_token`` is 0 and
``intertoken_latency`` is meaningless): TTFT and time per output token are left out for such
runs rather than reported as measured.

References
----------
TensorRT-LLM (NVIDIA/TensorRT-LLM): ``tensorrt_llm/bench/dataclasses/reporting.py``
(commit 0249976575050d2c624a5f285683c66de311a3b7, ``ReportUtility.get_statistics_dict``:
``engine``, ``machine``, ``world_info``, ``request_info``, ``performance``,
``streaming_metrics`` when streamed; ``get_request_info``: one ``RequestRecord`` per request,
``tokens`` replaced by ``output`` and ``output_tokens``), ``tensorrt_llm/bench/dataclasses/
statistics.py`` (commit 77d7fe1eb2d89753ae33a0745d1083c133064f92, ``RequestRecord``),
``tensorrt_llm/bench/benchmark/throughput.py`` (commit
000a01de66f0eab4ab05640711f0253f50f5209c: ``--streaming`` off by default, the report written
with ``json.dumps(..., indent=4)``, the request file with ``json.dumps(...)``) and pull
request #11397 (whole-run GPU energy from the NVML counter). The fixtures in
``tests/io/fixtures/trtllm_bench/`` are in that exact format.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import MeasurementError
from ._files import _as_path, _read_json
from ._schema import _list_columns, _validate

__all__ = ["read_trtllm_bench"]

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


def _load_json(file: Path) -> Any:
    return _read_json(
        file,
        str(file),
        what="the JSON written by trtllm-bench --report_json / --request_json",
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    """A whole, positive number of tokens or requests: an int, or a float with no fraction."""
    if not _is_number(value) or not math.isfinite(value):
        raise MeasurementError(f"{name} of {file} must be a number; got {_brief(value)}.")
    if value != math.floor(value) or value < 1:
        raise MeasurementError(
            f"{name} of {file} is {value!r}, not a whole positive number of tokens: {why}"
        )
    return int(value)


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + f"... ({len(text)} characters)"


def _percentiles_s(values_ns: Iterable[Any]) -> dict[int, float]:
    arr = np.array([float(v) for v in values_ns if _is_number(v)], dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return {}
    return {q: float(np.percentile(arr, q)) * 1e-9 for q in (50, 90, 99)}


def _streamed(entries: list[Mapping[str, Any]]) -> bool:
    """True when every request recorded its first token (a ``--streaming`` run).

    Without streaming, trtllm-bench's ``RequestRecord`` keeps ``first_token_timestamp = -1``
    and its computed ``time_to_first_token`` is 0 (``intertoken_latency`` then divides the
    end timestamp itself): those are not measurements.
    """
    if any("first_token_timestamp" in e for e in entries):
        stamps = [e.get("first_token_timestamp") for e in entries]
        return all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in stamps
        )
    values = [e.get("time_to_first_token") for e in entries]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return any(v > 0 for v in numbers)


def _paths(value: Any, name: str) -> list[Any]:
    if isinstance(value, (str, os.PathLike)):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise MeasurementError(
        f"{name} must be a path (str or os.PathLike) or a list of paths; got "
        f"{type(value).__name__}."
    )


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
    reports = _paths(report, "report")
    if requests is None:
        request_files: list[Any] = [None] * len(reports)
    else:
        request_files = _paths(requests, "requests")
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
        if not _is_number(energy):
            raise MeasurementError(
                f"{energy_key} of {file} must be a number of joules; got {_brief(energy)}. "
                "Check the report (trtllm-bench writes a JSON number)."
            )
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
                for i, e in enumerate(entries):
                    if not _is_number(e[key]) or not math.isfinite(e[key]):
                        raise MeasurementError(
                            f"{key} of request {i} in {req_file} must be a number of tokens; "
                            f"got {_brief(e[key])}."
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
            if _streamed(entries):
                for label, key in (
                    ("ttft", "time_to_first_token"),
                    ("tpot", "intertoken_latency"),
                ):
                    for q, v in _percentiles_s(e.get(key) for e in entries).items():
                        timing[f"{label}_p{q}_s"] = v
            else:
                notes.append(
                    f"{req_file.name}: the requests were not streamed (trtllm-bench runs "
                    "without --streaming by default), so no first-token time was recorded "
                    "(first_token_timestamp -1, time_to_first_token 0): TTFT and time per "
                    "output token are left out, not reported as 0; rerun with --streaming"
                )
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
            if not isinstance(engine["model"], (str, int, float)):
                raise MeasurementError(
                    f"engine.model of {file} must be a name; got {_brief(engine['model'])}."
                )
            row["model"] = str(engine["model"])
        machine = data.get("machine")
        if (
            isinstance(machine, Mapping)
            and isinstance(machine.get("name"), str)
            and machine["name"]
        ):
            row["gpu"] = machine["name"]
        if _is_number(world.get("world_size")):
            row["n_gpus"] = world["world_size"]
        row["engine"] = "tensorrt_llm"
        if _is_number(world.get("tp_size")):
            row["tp"] = world["tp_size"]
        if isinstance(engine.get("dtype"), str) and engine["dtype"]:
            row["dtype"] = engine["dtype"]
        row["max_batch_size"] = world.get("max_batch_size")
        row["max_num_tokens"] = world.get("max_num_tokens")
        row["engine_version"] = engine.get("version")
        if "time_s" in row and row["time_s"] > 0:
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
