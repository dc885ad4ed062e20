"""The bounds of the readers and the formats of read_measurements: constants only, so that
``import sweetspot.io`` (and the command's argument parser) loads no pandas.

Documented in ``docs/inputs.md``; re-exported by :mod:`sweetspot.io`.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "FORMATS",
    "MAX_EXPANSION",
    "MAX_JSON_BYTES",
    "MAX_LINE_BYTES",
    "MAX_PARQUET_BYTES",
    "MAX_STREAM_BYTES",
    "MAX_TOKENS",
    "Format",
]

Format = Literal["auto", "csv", "parquet", "wilkins", "frame", "trtllm-bench", "zeus", "codecarbon"]

FORMATS: tuple[str, ...] = get_args(Format)
"""The ``format=`` choices of :func:`~sweetspot.io.read_measurements`, in order. ``"frame"``
reads a DataFrame; the others read files (``"auto"`` also a store directory)."""

MAX_TOKENS = 10_000_000
"""Longest request length accepted in ``n_in`` and ``n_out`` [tokens] (ten million: beyond
the context window of any model), so that counts and optima stay finite and exact."""

MAX_LINE_BYTES = 1 << 20
"""Longest line a measurement file or a store's log may hold [bytes]; a row is a few dozen
bytes, a point a few kB."""

MAX_STREAM_BYTES = 1 << 30
"""Most bytes a compressed file or a pipe may hold once decompressed [bytes] (1 GiB)."""

MAX_EXPANSION = 100
"""Largest decompressed / compressed size ratio, beyond 64 MiB of decompressed text."""

MAX_JSON_BYTES = 64 << 20
"""Largest JSON file read whole [bytes] (64 MiB): trtllm-bench reports and request logs."""

MAX_PARQUET_BYTES = 4 << 30
"""Largest uncompressed Parquet data read into memory at once [bytes] (4 GiB, per the
footer)."""
