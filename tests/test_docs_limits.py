"""The bounds that docs/inputs.md and docs/measuring.md restate are the library's constants:
``sweetspot.io.MAX_*``, ``sweetspot.io.store.MAX_MANIFEST_BYTES`` and
``sweetspot.harness.sweep.SWEEP_LIMITS``."""

from __future__ import annotations

import math
import re

import pytest
from doctables import flat, page, table_rows

import sweetspot.io
from sweetspot.harness.sweep import SWEEP_LIMITS

INPUTS = page("inputs.md")
MEASURING = page("measuring.md")

UNITS = {"tokens": 1, "times": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)(?:\*\*(\d+))?(?: - (\d+))?")


def _number(text: str) -> float:
    """``10,000,000``, ``0.001``, ``2**53``, ``2**63 - 1`` as a number."""
    m = NUMBER.fullmatch(text.strip())
    assert m, text
    digits = m[1].replace(",", "")
    value: float = float(digits) if "." in digits else int(digits)  # 2**63 - 1 stays exact
    if m[2]:
        value = value ** int(m[2])
    return value - int(m[3] or 0)


def _numbers(text: str) -> list[float]:
    return [_number(m[0]) for m in NUMBER.finditer(text)]


def _size(text: str) -> int:
    """``1 MiB``, ``10,000,000 tokens``, ``100 times`` as a number (bytes for sizes)."""
    m = re.fullmatch(r"([\d,]+) (\w+)", text.strip())
    assert m and m[2] in UNITS, text
    return int(m[1].replace(",", "")) * UNITS[m[2]]


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    mod = __import__(module, fromlist=[name])
    return getattr(mod, name)


def test_the_readers_bounds_table_names_each_constant_with_its_value() -> None:
    rows = table_rows(INPUTS, "## Upper bounds")
    named = 0
    for what, bound, *_ in rows:
        m = re.fullmatch(r"(.+?) \(`(sweetspot\.[\w.]+)`\)", bound)
        if m is None:
            continue
        named += 1
        assert _size(m[1]) == _resolve(m[2]), f"{what}: {bound}"
    # every public MAX_* of sweetspot.io is in the table, and the store's manifest bound
    documented = set(re.findall(r"`(sweetspot\.io\.(?:store\.)?MAX_\w+)`", INPUTS))
    public = {f"sweetspot.io.{n}" for n in dir(sweetspot.io) if n.startswith("MAX_")}
    assert public | {"sweetspot.io.store.MAX_MANIFEST_BYTES"} <= documented
    assert named == len(documented)


def test_the_readers_bounds_without_a_public_constant() -> None:
    from sweetspot.harness.engines import fake
    from sweetspot.io import _files, _schema

    rows = {r[0]: r[1] for r in table_rows(INPUTS, "## Upper bounds")}
    ints = next(v for k, v in rows.items() if k.startswith("whole-number columns"))
    assert ints == f"below 2**{math.log2(_schema._MAX_EXACT_INT):.0f}"
    expansion = next(k for k in rows if k.startswith("expansion of a compressed file"))
    floor = re.search(r"beyond (\d+ \w+) of text", expansion)
    assert floor and _size(floor[1]) == _files._EXPANSION_FLOOR
    samples = re.search(r"keeps at most ([\d,]+) power samples per simulated window", flat(INPUTS))
    assert samples and _number(samples[1]) == fake._MAX_SAMPLES


def _flag_bounds() -> dict[str, tuple[str, float]]:
    """``SWEEP_LIMITS`` key -> (the cell, its upper bound) from the table of docs/inputs.md."""
    out = {}
    for arg, bound in table_rows(INPUTS, "The bounds of a sweep are"):
        flags = re.findall(r"`--([\w-]+)`", arg)
        if arg.startswith("grid points"):
            flags = ["points"]
        for part in bound.split(";"):  # "1,024; `--gpus` indices up to 1,023"
            inner = re.findall(r"`--([\w-]+)`", part)
            for flag in inner or flags:
                out[flag.replace("-", "_")] = (bound, max(_numbers(part)))
    return out


def test_the_sweep_bounds_table_is_sweep_limits() -> None:
    got = _flag_bounds()
    assert set(got) == set(SWEEP_LIMITS), "each bound of SWEEP_LIMITS is one row, and no more"
    for name, (cell, value) in got.items():
        assert value == SWEEP_LIMITS[name], f"{name}: {cell!r} != {SWEEP_LIMITS[name]}"
    assert got["n_in"][1] == sweetspot.io.MAX_TOKENS  # the readers' bound, shared


def test_the_sweep_bounds_table_names_real_options() -> None:
    from sweetspot.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    options = {o for a in sub.choices["measure"]._actions for o in a.option_strings}
    for arg, _ in table_rows(INPUTS, "The bounds of a sweep are"):
        for flag in re.findall(r"`(--[\w-]+)`", arg):
            assert flag in options, flag


@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("lengths up to {} tokens", SWEEP_LIMITS["n_in"]),
        ("at most {} requests per batch", SWEEP_LIMITS["requests"]),
        ("windows up to {} s", SWEEP_LIMITS["min_window_s"]),
        ("idle and cooldown up to {} s", SWEEP_LIMITS["idle_s"]),
        ("at most {} points", SWEEP_LIMITS["points"]),
        ("a line longer than {} MiB", sweetspot.io.MAX_LINE_BYTES / 2**20),
        ("a manifest larger than {} MiB", sweetspot.io.store.MAX_MANIFEST_BYTES / 2**20),
    ],
)
def test_measuring_restates_the_bounds(phrase: str, value: float) -> None:
    assert SWEEP_LIMITS["idle_s"] == SWEEP_LIMITS["cooldown_s"]  # one number for both
    assert phrase.format(f"{value:,.0f}") in flat(MEASURING)
