"""The ``sweetspot`` command (also ``python -m sweetspot``).

One private module per group of sub-commands, each adding its sub-commands with a
``register(subparsers)`` function; every sub-command sets ``func`` (taking the parsed
arguments, returning the exit code):

- :mod:`._fit`: ``fit``, ``optimum``, ``archs``;
- :mod:`._evaluate`: ``evaluate``, ``tables``, ``report``;
- :mod:`._plan`: ``plan``, ``workload``;
- :mod:`._measure`: ``measure`` (the harness).

Errors become one line on stderr and a non-zero exit code, never a traceback:

- a library error (:class:`~sweetspot.exceptions.SweetspotError`) or an operating-system
  error (a file that cannot be read or written, a full disk, a read-only folder): the
  message, exit code 1;
- running out of memory: exit code 1, with a hint;
- anything else is a bug in sweetspot: ``internal error (<type>: <message>)``, exit code 70
  (``EX_SOFTWARE``); set ``SWEETSPOT_DEBUG=1`` to see the traceback instead.

Warnings are printed as one ``warning:`` line each on stderr. The command holds no library
logic: it reads the arguments, calls the library and prints; heavy imports wait inside the
commands.
"""

from __future__ import annotations

import argparse
import os
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


#: Exit code of an internal error (a bug), as sysexits.h's EX_SOFTWARE.
EXIT_INTERNAL = 70


def _one_line(text: object) -> str:
    """A message on one line: line breaks and runs of spaces become single spaces."""
    return " ".join(str(text).split())


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f": {exc.filename!r}" if exc.filename is not None else ""
    if exc.filename2 is not None:
        where += f" -> {exc.filename2!r}"
    return (
        f"{reason}{where} ({type(exc).__name__}). Check that the path exists, that its folder "
        "is writable (or the file readable), and that the disk is not full; or choose "
        "another path."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sweetspot`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2

    def _show(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        print(f"warning: {category.__name__}: {_one_line(message)}", file=sys.stderr)

    def _error(text: str) -> None:
        print(f"sweetspot {args.command}: error: {_one_line(text)}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show
            return int(args.func(args))
    except SweetspotError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        print(f"sweetspot {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        _error(_os_message(exc))
        return 1
    except MemoryError:
        _error(
            "out of memory. The input is larger than this machine can hold: read a smaller "
            "part of it, or stream Parquet data (sweetspot.fit_parquet)."
        )
        return 1
    except Exception as exc:
        if os.environ.get("SWEETSPOT_DEBUG"):
            raise
        _error(
            f"internal error ({type(exc).__name__}: {_one_line(exc)[:300]}); this is a bug in "
            "sweetspot. Please report it with the command line (set SWEETSPOT_DEBUG=1 to see "
            "the traceback)."
        )
        return EXIT_INTERNAL
