"""The ``sweetspot`` command (also ``python -m sweetspot``).

One private module per group of sub-commands, each adding its sub-commands with a
``register(subparsers)`` function; every sub-command sets ``func`` (taking the parsed
arguments, returning the exit code):

- :mod:`._fit`: ``fit``, ``optimum``, ``archs``;
- :mod:`._evaluate`: ``evaluate``, ``tables``, ``report``;
- :mod:`._plan`: ``plan``, ``workload``;
- :mod:`._measure`: ``measure`` (the harness).

Library errors become one line on stderr and exit code 1, never a traceback; warnings are
printed as one ``warning:`` line each on stderr. The command holds no library logic: it reads
the arguments, calls the library and prints; heavy imports wait inside the commands.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from .._version import __version__
from ..exceptions import SweetspotError
from . import _evaluate, _fit, _measure, _plan

__all__ = ["build_parser", "main"]

#: The modules of the sub-commands, in the order ``sweetspot --help`` lists them.
_COMMANDS = (_fit, _evaluate, _plan, _measure)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sweetspot`` command."""
    parser = argparse.ArgumentParser(
        prog="sweetspot",
        description="Energy of LLM inference: fit energy models over (n_in, n_out) and find "
        "the output length that maximises output tokens per joule.",
    )
    parser.add_argument("--version", action="version", version=f"sweetspot {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sweetspot`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2

    def _show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"warning: {category.__name__}: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show
            return int(args.func(args))
    except SweetspotError as exc:
        print(f"sweetspot {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sweetspot {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
