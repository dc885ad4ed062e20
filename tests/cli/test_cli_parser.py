"""The parser of the `sweetspot` command: its choice lists are the library's own."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from sweetspot import __version__, io
from sweetspot.cli import build_parser, main
from sweetspot.fitting import LOSSES
from sweetspot.harness.engines import ENGINES
from sweetspot.models import MODEL_NAMES
from sweetspot.optimum import N_IN_GRID
from sweetspot.plan import POLICIES

COMMANDS = [
    "fit",
    "optimum",
    "archs",
    "evaluate",
    "tables",
    "report",
    "plan",
    "workload",
    "measure",
]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _option(command: str, dest: str) -> argparse.Action:
    (action,) = [a for a in _commands(build_parser())[command]._actions if a.dest == dest]
    return action


def test_every_command_is_registered_in_order() -> None:
    assert list(_commands(build_parser())) == COMMANDS


def test_model_choices_are_the_library_models_and_auto() -> None:
    action = _option("fit", "model")
    assert list(action.choices or []) == ["auto", *MODEL_NAMES]
    assert action.default == "auto"


@pytest.mark.parametrize("command", ["fit", "evaluate"])
def test_loss_and_format_choices_are_the_library_lists(command: str) -> None:
    assert list(_option(command, "loss").choices or []) == list(LOSSES)
    formats = [f for f in io.FORMATS if f != "frame"]
    assert list(_option(command, "format").choices or []) == formats
    assert "frame" not in formats and "auto" in formats


@pytest.mark.parametrize("command", ["optimum", "report"])
def test_n_in_default_is_the_library_grid(command: str) -> None:
    assert list(_option(command, "n_in").default) == list(N_IN_GRID)


def test_policy_and_engine_choices_are_the_library_lists() -> None:
    assert list(_option("workload", "policy").choices or []) == list(POLICIES)
    assert list(_option("measure", "engine").choices or []) == list(ENGINES)


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: sweetspot") and all(c in out for c in COMMANDS)


def test_version_and_help_run_as_a_program() -> None:
    for args in (["--version"], ["--help"], ["plan", "--help"], ["measure", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-m", "sweetspot", *args], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr
        if args == ["--version"]:
            assert proc.stdout.strip() == f"sweetspot {__version__}"
        else:
            assert proc.stdout.startswith("usage: sweetspot")


def test_physical_option_flags_come_from_the_term_table() -> None:
    from sweetspot.counts import LOGITS
    from sweetspot.models import FLAGGED_TERMS, ModelSpec

    fit = _commands(build_parser())["fit"]
    flags = {s for a in fit._actions for s in a.option_strings}
    for term in FLAGGED_TERMS:
        assert term.flag in flags
        args = fit.parse_args(["x.csv", "--model", "flops", term.flag])
        assert getattr(args, str(term.option)) == term.when
        default = fit.parse_args(["x.csv"])
        assert getattr(default, str(term.option)) == getattr(ModelSpec(), str(term.option))
    assert list(_option("fit", "logits").choices or []) == list(LOGITS)
