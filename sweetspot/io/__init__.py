"""Read energy measurements into the sweetspot schema, and map foreign formats onto it.

The measurement schema (DESIGN.md section 5) has one row per measured window:

============  ========  =====================================================
column        dtype     meaning
============  ========  =====================================================
n_in          int64     input (prompt) tokens per request, >= 1
n_out         int64     output (generated) tokens per request, >= 1
energy_j      float64   total energy of the window [J], > 0 and finite
n_requests    int64     requests in the window, >= 1 (1 when absent);
                        energy per request is ``energy_j / n_requests``
============  ========  =====================================================

and the optional columns of :data:`SCHEMA_OPTIONAL` (``time_s``, ``idle_power_w``, ``model``,
``gpu``, ...). Units are in the names. Other columns are kept as they are, after the schema
columns.

Every reader validates once, at the boundary, and returns a fresh frame whose
``attrs["source"]`` names where the data came from and whose ``attrs["notes"]`` lists, in plain
words, everything the reader did to the data (renamed columns, unit conversions, skipped
start-up rows, defaults). Nothing is dropped or converted silently: a bad cell raises
:class:`~sweetspot.exceptions.MeasurementError` naming the column, the first offending row
(0-based, header excluded), the number of bad rows, what was expected and how to fix it.

One module per format, in the manner of pvlib's ``iotools``; the readers are re-exported here:

=====================================  ====================================================
:mod:`~sweetspot.io.measurements`      :func:`read_measurements`: CSV, TSV, Parquet, a frame
                                       or a store directory; picks the format
                                       (:data:`FORMATS`) and validates
:mod:`~sweetspot.io.wilkins`           :func:`read_wilkins`: the A100 energy grid of Wilkins
                                       et al. (2024), ``transformers`` without KV cache
:mod:`~sweetspot.io.azure`             :func:`read_azure_trace`: the Azure LLM inference
                                       traces (2023), request mixes without energy
:mod:`~sweetspot.io.request_mix`       :func:`read_request_mix`: the (n_in, n_out) of each
                                       request of a workload (Azure trace or CSV)
:mod:`~sweetspot.io.trtllm_bench`      :func:`read_trtllm_bench`: ``trtllm-bench
                                       --report_json`` (TensorRT-LLM)
:mod:`~sweetspot.io.zeus`              :func:`read_zeus`: Zeus ``ZeusMonitor`` log CSV
:mod:`~sweetspot.io.codecarbon`        :func:`read_codecarbon`: CodeCarbon ``emissions.csv``
:mod:`~sweetspot.io.store`             the measurement-store format written by ``sweetspot
                                       measure``: manifest, points and the rules of its one
                                       reader
:mod:`~sweetspot.io.parquet`           Parquet datasets read batch by batch
                                       (:class:`~sweetspot.io.parquet.ParquetDataset`)
=====================================  ====================================================

:func:`validate_measurements` checks a frame against the schema (every reader ends in it).

Labels (``model``, ``gpu``, ``engine``, ``dtype``, ``prompt`` and columns named like
identifiers) are read from text files as text, exactly as written; lengths must be whole
numbers from 1 to :data:`MAX_TOKENS`; the bounds on lines, streams, JSON and Parquet
(:data:`MAX_LINE_BYTES`, :data:`MAX_STREAM_BYTES`, :data:`MAX_EXPANSION`,
:data:`MAX_JSON_BYTES`, :data:`MAX_PARQUET_BYTES`) are listed in ``docs/inputs.md`` with
what each reader refuses and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach
from ._limits import (
    FORMATS,
    MAX_EXPANSION,
    MAX_JSON_BYTES,
    MAX_LINE_BYTES,
    MAX_PARQUET_BYTES,
    MAX_STREAM_BYTES,
    MAX_TOKENS,
)

if TYPE_CHECKING:
    from ._schema import SCHEMA_OPTIONAL, SCHEMA_REQUIRED, validate_measurements
    from .azure import read_azure_trace
    from .codecarbon import read_codecarbon
    from .measurements import read_measurements
    from .request_mix import read_request_mix
    from .trtllm_bench import read_trtllm_bench
    from .wilkins import read_wilkins
    from .zeus import read_zeus

__all__ = [
    "FORMATS",
    "MAX_EXPANSION",
    "MAX_JSON_BYTES",
    "MAX_LINE_BYTES",
    "MAX_PARQUET_BYTES",
    "MAX_STREAM_BYTES",
    "MAX_TOKENS",
    "SCHEMA_OPTIONAL",
    "SCHEMA_REQUIRED",
    "read_azure_trace",
    "read_codecarbon",
    "read_measurements",
    "read_request_mix",
    "read_trtllm_bench",
    "read_wilkins",
    "read_zeus",
    "validate_measurements",
]

# The readers load pandas: they are imported on first use, so that the constants above (and
# the command's argument parser, which offers FORMATS) load none of it.
_LAZY = {
    "SCHEMA_OPTIONAL": "._schema",
    "SCHEMA_REQUIRED": "._schema",
    "validate_measurements": "._schema",
    "read_azure_trace": ".azure",
    "read_codecarbon": ".codecarbon",
    "read_measurements": ".measurements",
    "read_request_mix": ".request_mix",
    "read_trtllm_bench": ".trtllm_bench",
    "read_wilkins": ".wilkins",
    "read_zeus": ".zeus",
}


__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
