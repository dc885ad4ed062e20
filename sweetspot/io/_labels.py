"""Request lengths from the names of windows or runs (Zeus, CodeCarbon).

Tools that only know the names you gave the windows are parsed for ``n_in=<int>``,
``n_out=<int>`` and optionally ``n_requests=<int>`` (``:`` also accepted), or for the named
groups of your own regular expression; lengths can also be given as constants.

Parsing is strict, because a length read wrongly is a silent change of the data:

- a key is a whole token: ``n_in`` preceded by a letter, digit or underscore
  (``my_n_in=5``) is not the key ``n_in``;
- a value is the whole token after ``=`` or ``:`` (letters, digits, ``_ . + -``) and must be
  digits only: ``n_out=1k``, ``n_in=512.7``, ``n_in=-5`` or ``n_in=5e2`` are errors, never
  ``1``, ``512`` or ``5``;
- a key given twice with different values (``n_in=512 ... n_in=256``) is an error;
- with your own pattern, each named group must capture digits only, not followed by a
  decimal part or a multiplier suffix (``k``, ``M``, ``G``, ``B``), and matches in several
  places must agree.

Every error quotes the name, its row and the source.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import MeasurementError

_NAMES = ("n_in", "n_out", "n_requests")
_DIGITS = re.compile(r"[0-9]+")  # ASCII digits only: not "２" or "٥"


def _key_regex(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){name}\s*[=:]\s*([\w.+\-]*)", re.IGNORECASE)


_KEY_PATTERNS = {name: _key_regex(name) for name in _NAMES}


def _where(column: str, text: str, row: int, source: str) -> str:
    shown = text if len(text) <= 120 else text[:100] + f"... ({len(text)} characters)"
    return f"the {column} {shown!r} (row {row} of {source})"


def _constant(name: str, value: Any) -> int | None:
    """A length given as a constant: a whole number (an integral float is accepted)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise MeasurementError(
            f"{name} must be a whole number of tokens (or None to read it from the names); "
            f"got {type(value).__name__} {value!r}."
        )
    if not math.isfinite(float(value)) or float(value) != math.floor(float(value)):
        raise MeasurementError(
            f"{name} must be a whole number of tokens; got {value!r}. Pass an integer."
        )
    return int(value)


def _check_value(name: str, value: str, where: str) -> int:
    if not value:
        raise MeasurementError(
            f"{name} has no value in {where}; write it as {name}=<digits>, e.g. {name}=512."
        )
    if not _DIGITS.fullmatch(value):
        raise MeasurementError(
            f"{name} must be a whole number of tokens written with digits only; got "
            f"{value!r} in {where}. Write it as digits (e.g. {name}=1024, not 1k, 1024.0 or "
            "1e3); sweetspot does not guess what it means."
        )
    number = int(value)
    if number < 1:
        raise MeasurementError(f"{name} must be a positive integer; got {number} in {where}.")
    return number


def _default_values(text: str, where: str) -> dict[str, int]:
    """``n_in=<int>`` etc. found in a name, each key once (or repeated with one value)."""
    found: dict[str, int] = {}
    for name, key_re in _KEY_PATTERNS.items():
        values = [_check_value(name, m.group(1), where) for m in key_re.finditer(text)]
        if len(set(values)) > 1:
            raise MeasurementError(
                f"{where} gives {name} {len(values)} times with different values "
                f"({', '.join(str(v) for v in values)}); it is ambiguous. Name each window "
                f"with each length once (e.g. {name}={values[0]})."
            )
        if values:
            found[name] = values[0]
    return found


# what makes a captured number part of a larger one: a digit, a sign ("=-5", not the
# separator of "prefill-1024"), a decimal part, an exponent, a multiplier suffix
_PREFIX = re.compile(r"(?:[0-9]|[0-9][.,]|(?:^|[^A-Za-z0-9])[+\-])$")
_SUFFIX = re.compile(r"(?:[.,][0-9]|[eE][+\-]?[0-9]|[kKmMgGbB](?![A-Za-z0-9]))")


def _pattern_values(regex: re.Pattern[str], text: str, where: str) -> dict[str, int]:
    """The named groups of every match of the user's pattern, which must agree."""
    found: dict[str, int] = {}
    for match in regex.finditer(text):
        for name in _NAMES:
            if name not in regex.groupindex or match.group(name) is None:
                continue
            raw = match.group(name)
            start, end = match.span(name)
            after, before = text[end:], text[:start]
            if _SUFFIX.match(after) or after[:1].isdigit() or _PREFIX.search(before):
                raise MeasurementError(
                    f"{name} in {where} is not a whole token: the pattern captured {raw!r} "
                    f"out of {text[max(0, start - 3) : end + 4]!r}. Write lengths as digits "
                    "only, and make the pattern capture the whole number."
                )
            value = _check_value(name, raw, where)
            if name in found and found[name] != value:
                raise MeasurementError(
                    f"the pattern matches {where} in several places with different {name} "
                    f"({found[name]} and {value}); it is ambiguous. Anchor the pattern, or "
                    "name each window with each length once."
                )
            found[name] = value
    return found


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
    fixed = {name: _constant(name, constants.get(name)) for name in _NAMES}
    regex: re.Pattern[str] | None = None
    if pattern is not None:
        if not isinstance(pattern, str):
            raise MeasurementError(
                f"the pattern must be a regular expression (str); got {type(pattern).__name__}."
            )
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise MeasurementError(
                f"the pattern {pattern!r} is not a valid regular expression ({exc})."
            ) from exc
        missing = {"n_in", "n_out"} - set(regex.groupindex)
        given = {k for k, v in fixed.items() if v is not None}
        if missing - given:
            raise MeasurementError(
                f"the pattern {pattern!r} must have named groups (?P<n_in>...) and "
                f"(?P<n_out>...) unless those lengths are given as constants; it lacks "
                f"{', '.join(sorted(missing - given))}."
            )
    out: dict[str, list[int]] = {name: [] for name in _NAMES}
    for row, label in enumerate(labels):
        text = (
            "" if label is None or (isinstance(label, float) and math.isnan(label)) else str(label)
        )
        where = _where(column, text, row, source)
        if all(fixed[n] is not None for n in _NAMES):
            found: dict[str, int] = {}
        elif regex is not None:
            found = _pattern_values(regex, text, where)
        else:
            found = _default_values(text, where)
        for name in _NAMES:
            constant = fixed[name]
            if constant is not None:
                out[name].append(constant)
            elif name in found:
                out[name].append(found[name])
            elif name == "n_requests":
                out[name].append(1)
            else:
                how = (
                    f"match the pattern {pattern!r}"
                    if regex is not None
                    else f"contain '{name}=<int>'"
                )
                raise MeasurementError(
                    f"cannot tell {name} of row {row} of {source}: {where} does "
                    f"not {how}. Name the windows with their lengths (e.g. {example}), pass a "
                    f"pattern with named groups, or pass {name}=<int> if every row has the "
                    "same value."
                )
    if all(fixed.get(n) is None for n in ("n_in", "n_out")):
        notes.append(
            f"n_in and n_out parsed from the {column} of each row"
            + (f" with the pattern {pattern!r}" if pattern else " ('n_in=<int>', 'n_out=<int>')")
        )
    if (
        fixed["n_requests"] is None
        and not any("n_requests" in str(x) for x in labels)
        and (regex is None)
    ):
        notes.append("no n_requests in the names: set to 1 (each window is one request)")
    return out, notes
