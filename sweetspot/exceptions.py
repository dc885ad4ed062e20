"""Errors and warnings raised by sweetspot.

Every error subclasses :class:`SweetspotError` *and* the builtin a caller would
naturally catch, so ``except ValueError`` keeps working::

    SweetspotError (Exception)
    ├── MeasurementError (ValueError)    bad measurement rows, columns or files
    ├── ArchitectureError (ValueError)   unknown preset, malformed config.json dict
    ├── SpecError (ValueError)           bad argument: unknown model family, loss, option
    ├── NoOptimumError (ValueError)      no interior energy-per-token optimum exists
    ├── TableError (ValueError)          malformed or tampered parameter table / saved fit
    ├── FitError (RuntimeError)          the fit cannot be computed (too few rows, rank deficient)
    ├── DeviceError (RuntimeError)       GPU / NVML / engine failure in the harness
    ├── StoreError (OSError)             measurement store cannot be read or written safely
    └── DependencyError (ImportError)    an optional extra is not installed

    SweetspotWarning (UserWarning)
    ├── IllConditionedWarning            design matrix is badly conditioned
    ├── ExtrapolationWarning             prediction outside the fitted n_in / n_out range
    ├── NegativeCoefficientWarning       a free coefficient came out significantly negative
    ├── NonPhysicalWarning               predicted energy <= 0 somewhere in the fitted range,
    │                                    or a model that cannot describe the data's engine
    └── SimulatedDataWarning             data comes from the fake (simulated) engine

Messages say what was wrong, what was expected, what was received and how to
fix it, e.g. ``n_out must be a positive integer; got 0 in row 17.``
"""

from __future__ import annotations

__all__ = [
    "ArchitectureError",
    "DependencyError",
    "DeviceError",
    "ExtrapolationWarning",
    "FitError",
    "IllConditionedWarning",
    "MeasurementError",
    "NegativeCoefficientWarning",
    "NoOptimumError",
    "NonPhysicalWarning",
    "SimulatedDataWarning",
    "SpecError",
    "StoreError",
    "SweetspotError",
    "SweetspotWarning",
    "TableError",
]


class SweetspotError(Exception):
    """Base class of every error raised by sweetspot."""


class MeasurementError(SweetspotError, ValueError):
    """Measurement data does not follow the schema (DESIGN.md section 5)."""


class ArchitectureError(SweetspotError, ValueError):
    """Unknown architecture preset or malformed Hugging Face config dict."""


class SpecError(SweetspotError, ValueError):
    """An argument names an unknown model family, loss or option."""


class NoOptimumError(SweetspotError, ValueError):
    """Energy per output token has no interior minimum for these parameters.

    Attributes
    ----------
    boundary : str
        ``"n_out -> inf"`` when energy per token keeps falling with n_out (t4 <= 0),
        ``"n_out -> 0"`` when it keeps rising (non-positive fixed part).
    """

    def __init__(self, message: str, *, boundary: str = "") -> None:
        super().__init__(message)
        self.boundary = boundary


class TableError(SweetspotError, ValueError):
    """A parameter table or saved fit is malformed, truncated or of an unknown version."""


class FitError(SweetspotError, RuntimeError):
    """The fit cannot be computed (too few rows, rank-deficient design, solver failure)."""


class DeviceError(SweetspotError, RuntimeError):
    """The GPU, NVML or the inference engine failed or refused an operation."""


class StoreError(SweetspotError, OSError):
    """The measurement store cannot be read or written safely."""


class DependencyError(SweetspotError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class SweetspotWarning(UserWarning):
    """Base class of sweetspot warnings: the result is usable but doubtful."""


class IllConditionedWarning(SweetspotWarning):
    """The (scaled) design matrix has a large condition number."""


class ExtrapolationWarning(SweetspotWarning):
    """A prediction was requested outside the fitted n_in / n_out range."""


class NegativeCoefficientWarning(SweetspotWarning):
    """A free coefficient is negative, so the model may predict negative energy somewhere."""


class NonPhysicalWarning(SweetspotWarning):
    """The fitted model predicts a non-positive energy somewhere in its fitted range, or
    cannot describe the engine the data says it comes from (a quadratic on cache-off data, a
    free polynomial over several batch sizes): its answers there are not physical."""


class SimulatedDataWarning(SweetspotWarning):
    """The data comes from the simulated (fake) engine, not from a GPU."""
