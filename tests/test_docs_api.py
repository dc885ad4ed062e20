"""Signatures written in docs/api.md and README.md agree with the code."""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

import pytest
from doctables import page

import sweetspot as ss

API = page("api.md")


def _split_args(text: str) -> list[str]:
    """Top-level comma-separated pieces of an argument list (brackets and quotes respected)."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _documented_signatures() -> list[tuple[str, str]]:
    """(name, argument text) of every code span ``name(...)`` in the first cell of a table row
    of docs/api.md (where the page states signatures) whose name is a callable of
    ``sweetspot.__all__``."""
    out = []
    for line in API.splitlines():
        if not line.startswith("|"):
            continue
        first = line.strip().strip("|").split("|")[0]
        for span in re.findall(r"`([^`]+)`", first):
            m = re.fullmatch(r"([A-Za-z_]\w*)\((.*)\)", span.strip())
            if m and m[1] in ss.__all__ and callable(getattr(ss, m[1])):
                out.append((m[1], m[2]))
    return out


SIGNATURES = _documented_signatures()


def test_the_page_documents_signatures() -> None:
    names = {n for n, _ in SIGNATURES}
    assert {"fit", "read_measurements", "ServingConfig", "predict_energy"} <= names


@pytest.mark.parametrize(("name", "args"), SIGNATURES, ids=[n for n, _ in SIGNATURES])
def test_documented_signature_matches_the_code(name: str, args: str) -> None:
    """Each documented argument exists, on the documented side of ``*`` (a line without ``*``,
    such as a keyword-only dataclass's, says nothing about it), with the documented default."""
    params = inspect.signature(getattr(ss, name)).parameters
    pieces = _split_args(args)
    keyword_only = False
    for piece in pieces:
        if piece == "...":
            continue
        if piece == "*":
            keyword_only = True
            continue
        arg, _, default = (p.strip() for p in piece.partition("="))
        assert arg in params, f"{name}: the page documents {arg!r}; the code has {list(params)}"
        p = params[arg]
        if "*" in pieces:
            kw = p.kind is inspect.Parameter.KEYWORD_ONLY
            assert kw == keyword_only, f"{name}: {arg!r} is {p.kind.description} in the code"
        if not default or default == "...":
            continue
        documented: Any = ast.literal_eval(default)
        assert p.default is not inspect.Parameter.empty, f"{name}: {arg!r} has no default"
        same = p.default == documented and isinstance(p.default, bool) == isinstance(
            documented, bool
        )
        assert same, f"{name}({arg}=...): the page says {default}, the code {p.default!r}"


def test_readme_engines_of_measure_are_the_harness_engines() -> None:
    from sweetspot.harness.engines import ENGINES

    text = page("README.md")
    (braces,) = re.findall(r"`sweetspot measure --engine \{([^}]*)\}", text)
    assert tuple(braces.split(",")) == ENGINES
    # the sentence naming the optional measuring side names every real engine
    side = re.search(r"the measuring side \(([^)]*)\) is optional", " ".join(text.split()))
    assert side, "README: 'the measuring side (...) is optional'"
    names = {"tensorrt_llm": "TensorRT-LLM", "vllm": "vLLM", "transformers": "Transformers"}
    for engine in ENGINES:
        if engine != "fake":
            assert engine in names, f"a new engine {engine!r}: name it in README.md"
            assert names[engine] in side[1], engine
