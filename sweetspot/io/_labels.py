"""Request lengths from the names of windows or runs (Zeus, CodeCarbon).

Tools that only know the names you gave the windows are parsed for ``n_in=<int>``,
``n_out=<int>`` and optionally ``n_requests=<int>`` (``:`` also accepted), or for the named
groups of your own regular expression; lengths can also be given as constants.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import MeasurementError


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
