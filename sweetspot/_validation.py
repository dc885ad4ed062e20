"""Boundary validation shared by the public functions (validate once, at the edge)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import SpecError

__all__ = ["MAX_LENGTH", "as_lengths", "check_choice"]


#: Longest token length any function evaluates a model at [tokens] (2**40, about 1.1e12):
#: far beyond any context window, and small enough that every count and energy stays finite.
MAX_LENGTH = float(2**40)


def as_lengths(
    value: ArrayLike, name: str, *, allow_zero: bool = False, integer: bool = True
) -> NDArray[np.float64]:
    """Return token lengths as a float64 array after checking they are positive integers.

    Floats with integral values (``64.0``) are accepted; ``64.5`` (unless
    ``integer=False``, for continuous model evaluation such as the sweet spot n_out*),
    NaN, inf, strings, booleans and non-positive values raise
    :class:`~sweetspot.exceptions.SpecError` (a ``ValueError``) naming the argument and
    the first offending element.
    """
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise SpecError(
            f"{name} must be a positive integer or an array of them; got {value!r} "
            f"(dtype {arr.dtype}). Pass token counts such as {name}=512 or [64, 128]."
        )
    out = arr.astype(np.float64)
    bad = (
        ~np.isfinite(out)
        | ((out != np.round(out)) if integer else False)
        | ((out < 0) if allow_zero else (out <= 0))
    )
    if not np.any(bad) and out.size and float(np.max(out)) > MAX_LENGTH:
        idx = np.unravel_index(int(np.argmax(out)), out.shape) if out.ndim else ()
        where = f" at index {tuple(int(i) for i in idx)}" if out.ndim else ""
        raise SpecError(
            f"{name} must be at most 2**40 tokens (about 1.1e12); got {arr[idx]!r}{where}. "
            "No request is that long, and counts of such lengths overflow."
        )
    if np.any(bad):
        idx = np.unravel_index(int(np.argmax(bad)), out.shape) if out.ndim else ()
        where = f" at index {tuple(int(i) for i in idx)}" if out.ndim else ""
        kind = "non-negative" if allow_zero else "positive"
        what = "whole token counts" if integer else "finite token lengths"
        raise SpecError(
            f"{name} must be {kind} {what}; got {arr[idx]!r}{where}. "
            f"Token lengths are counts of tokens, e.g. {name}=512."
        )
    return out


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``choices`` (case-sensitive) and return it."""
    if not isinstance(value, str) or value not in choices:
        raise SpecError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}."
        )
    return value
