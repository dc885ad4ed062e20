"""What the sub-commands share: argparse types, and choice lists taken from the library.

The choice lists are the library's own constants, so a model, loss or format added to the
library is offered by the command the day it is added.
"""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Callable

from ..counts import LOGITS
from ..io import FORMATS
from ..models import MODEL_NAMES
from ..optimum import N_IN_GRID
from ..plan import POLICIES
from ..result import LOSSES

__all__ = [
    "EXECUTOR_CHOICES",
    "FORMAT_CHOICES",
    "LOGITS_CHOICES",
    "LOSS_CHOICES",
    "MODEL_CHOICES",
    "N_IN_DEFAULT",
    "POLICY_CHOICES",
    "flags_named",
    "float_list",
    "int_list",
]

#: ``--model`` of ``fit``: the library's models, and ``auto`` (see sweetspot.evaluate.choose_model).
MODEL_CHOICES: tuple[str, ...] = ("auto", *MODEL_NAMES)
#: ``--loss``: the fitting losses.
LOSS_CHOICES: tuple[str, ...] = LOSSES
#: ``--format`` of the commands that read measurement files ("frame" is not a file format).
FORMAT_CHOICES: tuple[str, ...] = tuple(f for f in FORMATS if f != "frame")
#: ``--n-in`` default of ``optimum`` and ``report``: the library's tabulation grid [tokens].
N_IN_DEFAULT: tuple[int, ...] = N_IN_GRID
#: ``--policy`` of ``workload``.
POLICY_CHOICES: tuple[str, ...] = POLICIES
#: ``--logits`` of ``fit`` (ModelSpec.logits).
LOGITS_CHOICES: tuple[str, ...] = LOGITS
#: ``--executor`` of ``measure``: LocalExecutor or RayExecutor (sweetspot.harness).
EXECUTOR_CHOICES: tuple[str, ...] = ("local", "ray")


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated whole numbers (``64,256,1024``)."""
    try:
        vals = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of whole numbers such as 64,256,1024; got {text!r}"
        ) from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one whole number")
    return vals


def float_list(text: str) -> list[float]:
    """argparse type: comma-separated numbers (``300,450.5``)."""
    try:
        vals = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of numbers such as 300,450,700; got {text!r}"
        ) from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one number")
    return vals


#: How library messages spell a fix in Python, and how the command spells it.
_PYTHON_TO_FLAGS: tuple[tuple[str, str], ...] = (
    (r"\bn_max=\.\.\.", "--n-max N"),
    (r"\bn_out_max=\.\.\.", "--n-out-max N"),
    (r"\bbudget_j=\.\.\.", "--budget-j J"),
    (r"\bmax_j_per_token=\.\.\.", "--max-j-per-token J"),
    (r"\bslack=0\b", "--slack 0"),
    (r"data\[data\.model == name\]", "--group model"),
)


def flags_named(
    command: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Decorate a command: the Python spellings of a fix in library errors (``n_max=...``)
    become the command's flags (``--n-max N``), so a command's messages name its flags."""
    from ..exceptions import SweetspotError

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except SweetspotError as exc:
            text = str(exc)
            for pattern, flag in _PYTHON_TO_FLAGS:
                text = re.sub(pattern, flag, text)
            if text != str(exc):
                exc.args = (text, *exc.args[1:])
            raise

    return run
