"""Every fenced example of README.md and docs/*.md runs, and prints what the page says it prints.

How the runner reads a page (write examples so that it can):

- ``python`` blocks run in order in one namespace per page.
- ``bash`` blocks: each command runs (``a && b`` are two commands); a ``sweetspot ...``
  command runs in-process and must exit 0, ``python -c`` / ``python script.py`` run as
  subprocesses; ``pip install`` and ``pytest`` are skipped (installing and testing is what CI
  itself does).
- ``console`` blocks: ``$ command`` lines run as in ``bash``; the lines after a command are its
  expected output, and each must appear in what the command prints (stdout and stderr), in
  order; a line ``...`` (any indentation) stands for lines left out. ``$ NAME=value`` sets a
  variable that later commands use as ``"$NAME"``.
- Other blocks (``diff``, plain text) are not run.
- A block whose opening fence is preceded by ``<!-- docs-test: skip (reason) -->`` is not run;
  the reason is required (e.g. it needs an NVIDIA GPU).
- Every page runs in a fresh folder that holds ``grid.csv`` (a 7 x 7 grid of one LLM, made
  here from the published H100 coefficients of Llama 3.1 8B with 2 % noise), the
  repository's ``docs/``, ``tests/`` and ``notebooks/``, and, when present, ``../shared``
  (the public data); a block that reads ``../shared`` is skipped when it is absent.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = ("python", "bash", "console")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->\s*$")


def _blocks(page: Path) -> list[tuple[int, str, str, str | None]]:
    """(line, language, body, skip reason) of each fenced block of a page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        skip = SKIP.search(prev)
        out.append((start + 1, lang, "\n".join(lines[start + 1 : j]), skip and skip["why"]))
        i = j + 1
    return out


def _grid_csv(path: Path) -> None:
    import sweetspot as ss

    res = ss.load_params("llama-3.1-8b", gpu="h100")
    levels = np.array([64, 128, 256, 512, 1024, 2048, 4096])
    ni, no = np.meshgrid(levels, levels, indexing="ij")
    e = ss.energy(res, ni.ravel(), no.ravel())
    noise = 1 + 0.02 * np.random.default_rng(0).standard_normal(e.size)
    pd.DataFrame(
        {"n_in": ni.ravel(), "n_out": no.ravel(), "energy_j": e * noise, "model": "llama-3.1-8b"}
    ).to_csv(path, index=False)


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    for name in ("docs", "tests", "notebooks"):  # what examples may read, as from the root
        (work / name).symlink_to(ROOT / name)
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED)
    _grid_csv(work / "grid.csv")
    return work


def _commands(text: str) -> list[str]:
    """Commands of a shell snippet: continuations joined, comments dropped, ``&&`` split."""
    joined = re.sub(r"\\\n\s*", " ", text)
    cmds = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            cmds += [c.strip() for c in line.split("&&") if c.strip()]
    return cmds


def _run(cmd: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run one documented command; its exit status and everything it printed."""
    from sweetspot.cli import main

    assign = re.fullmatch(r"([A-Za-z_]\w*)=(.*)", cmd)
    if assign:
        env[assign[1]] = shlex.split(assign[2])[0] if assign[2] else ""
        return 0, ""
    argv = shlex.split(cmd)
    for key, value in env.items():
        argv = [a.replace(f"${key}", value).replace(f"${{{key}}}", value) for a in argv]
    if argv[:1] == ["sweetspot"]:
        out, err = io.StringIO(), io.StringIO()
        here = os.getcwd()
        try:
            os.chdir(cwd)
            with (
                contextlib.redirect_stdout(out),
                contextlib.redirect_stderr(err),
                warnings.catch_warnings(),
            ):
                code = main(argv[1:])
        finally:
            os.chdir(here)
        return code, err.getvalue() + out.getvalue()
    if argv[:4] == ["python", "-m", "pip", "install"] or argv[:3] == ["python", "-m", "pytest"]:
        return 0, ""  # installing and running the suite are what CI does around this test
    if argv[:1] == ["python"]:
        proc = subprocess.run(
            [sys.executable, *argv[1:]],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return proc.returncode, proc.stderr + proc.stdout
    raise AssertionError(
        f"the docs runner does not know how to run {cmd!r}; use a sweetspot or python command, "
        "or mark the block <!-- docs-test: skip (reason) -->"
    )


def _expect(expected: list[str], printed: str, cmd: str) -> None:
    """Each expected line appears in the printed output, in order ("..." skips lines)."""
    got = [line.rstrip() for line in printed.splitlines()]
    pos = 0
    for want in expected:
        if want.strip() == "...":
            continue
        for k in range(pos, len(got)):
            if got[k].strip() == want.strip():
                pos = k + 1
                break
        else:
            raise AssertionError(
                f"`{cmd}` did not print the documented line\n    {want.strip()}\n"
                f"(after line {pos} of its output). It printed:\n" + "\n".join(got)
            )


def test_every_skip_says_why() -> None:
    for page in PAGES:
        for line, lang, _, why in _blocks(page):
            if why is not None:
                assert why.strip(), f"{page.name}:{line}"
                assert lang in RUN, f"{page.name}:{line}: a skip mark on a block never run"


def _runnable(page: Path) -> bool:
    """Whether a page has an example the runner runs (not every block marked skip)."""
    return any(lang in RUN and why is None for _, lang, _, why in _blocks(page))


RUNNABLE = [page for page in PAGES if _runnable(page)]


def test_runnable_pages_are_found() -> None:
    assert any(p.name == "README.md" for p in RUNNABLE)


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.name)
def test_page_examples_run(page: Path, workdir: Path) -> None:
    blocks = [b for b in _blocks(page) if b[1] in RUN]
    namespace: dict[str, object] = {"__name__": "__docs__"}
    env: dict[str, str] = {}
    ran = 0
    for line, lang, body, why in blocks:
        where = f"{page.name}:{line}"
        if why is not None:
            continue
        if "../shared" in body and not SHARED.is_dir():
            continue  # a fresh clone without the public data
        if lang == "python":
            here = os.getcwd()
            try:
                os.chdir(workdir)
                with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                    warnings.simplefilter("ignore")
                    exec(compile(body, where, "exec"), namespace)
            finally:
                os.chdir(here)
        elif lang == "bash":
            for cmd in _commands(body):
                code, printed = _run(cmd, env, workdir)
                assert code == 0, f"{where}: `{cmd}` exited {code}:\n{printed}"
        else:  # console
            cmd, expected = None, []
            steps: list[tuple[str, list[str]]] = []
            for text in body.splitlines():
                if text.startswith("$ "):
                    if cmd is not None:
                        steps.append((cmd, expected))
                    cmd, expected = text[2:], []
                elif cmd is not None and text.strip():
                    expected.append(text)
            if cmd is not None:
                steps.append((cmd, expected))
            for cmd, expected in steps:
                (one,) = _commands(cmd) or [""]
                code, printed = _run(one, env, workdir)
                if not any("error:" in e for e in expected):
                    assert code == 0, f"{where}: `{one}` exited {code}:\n{printed}"
                _expect(expected, printed, one)
        ran += 1
    if ran == 0:
        pytest.skip(f"every runnable example of {page.name} needs ../shared")
