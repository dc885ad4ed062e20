"""sweetspot: the energy of LLM inference over input and output length.

Fit analytical energy models ``E(n_in, n_out)`` to measurements, report how well they
predict (MAPE, cross-validated), and find the output length that maximises output tokens
per joule::

    import sweetspot as ss
    data = ss.read_measurements("grid.csv")
    res = ss.fit(data, model="sweetspot")
    ss.optimal_n_out(res, [256, 1024])

Names are imported on first use (PEP 562), so ``import sweetspot`` and the ``sweetspot``
command start without pandas, SciPy or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import attach
from ._version import __version__

#: Public name -> the module (under ``sweetspot``) that defines it, imported on first use.
_LAZY: dict[str, str] = {
    "Architecture": ".architecture",
    "ArchitectureError": ".exceptions",
    "CVResult": ".fitting",
    "DependencyError": ".exceptions",
    "DeviceError": ".exceptions",
    "ExtrapolationWarning": ".exceptions",
    "FitError": ".exceptions",
    "FitResult": ".result",
    "IllConditionedWarning": ".exceptions",
    "MeasurementError": ".exceptions",
    "ModelSpec": ".models",
    "NegativeCoefficientWarning": ".exceptions",
    "NoOptimumError": ".exceptions",
    "NonPhysicalWarning": ".exceptions",
    "SimulatedDataWarning": ".exceptions",
    "SpecError": ".exceptions",
    "StoreError": ".exceptions",
    "ServingConfig": ".serving",
    "SweetSpot": ".optimum",
    "SweetspotError": ".exceptions",
    "SweetspotWarning": ".exceptions",
    "TableError": ".exceptions",
    "count_terms": ".counts",
    "cross_validate": ".fitting",
    "cross_validate_parquet": ".fitting",
    "energy": ".optimum",
    "energy_per_token": ".optimum",
    "fit": ".fitting",
    "fit_parquet": ".fitting",
    "flops": ".counts",
    "get_architecture": ".architecture",
    "list_architectures": ".architecture",
    "list_params": ".tables",
    "load_params": ".tables",
    "load_pooled": ".tables",
    "max_input_tokens": ".plan",
    "memory_bytes": ".counts",
    "min_energy_per_token": ".optimum",
    "optimal_n_out": ".optimum",
    "optimal_n_out_total": ".optimum",
    "plan": ".plan",
    "policy_savings": ".plan",
    "predict_energy": ".tables",
    "read_measurements": ".io",
    "recommend_max_tokens": ".plan",
    "sweet_spot": ".optimum",
    "tokens_per_joule": ".optimum",
    "truncate_prompt": ".plan",
    "workload_energy": ".plan",
}

#: Modules reachable as attributes (``sweetspot.io``, ``sweetspot.tables``...) on first use.
_SUBMODULES: frozenset[str] = frozenset(
    {
        "architecture",
        "counts",
        "evaluate",
        "exceptions",
        "fitting",
        "io",
        "models",
        "optimum",
        "plan",
        "plot",
        "result",
        "serving",
        "tables",
    }
)

if TYPE_CHECKING:  # the same names, for type checkers and IDEs
    from . import plan
    from .architecture import Architecture, get_architecture, list_architectures
    from .counts import count_terms, flops, memory_bytes
    from .exceptions import (
        ArchitectureError,
        DependencyError,
        DeviceError,
        ExtrapolationWarning,
        FitError,
        IllConditionedWarning,
        MeasurementError,
        NegativeCoefficientWarning,
        NonPhysicalWarning,
        NoOptimumError,
        SimulatedDataWarning,
        SpecError,
        StoreError,
        SweetspotError,
        SweetspotWarning,
        TableError,
    )
    from .fitting import CVResult, cross_validate, cross_validate_parquet, fit, fit_parquet
    from .io import read_measurements
    from .models import ModelSpec
    from .optimum import (
        SweetSpot,
        energy,
        energy_per_token,
        min_energy_per_token,
        optimal_n_out,
        optimal_n_out_total,
        sweet_spot,
        tokens_per_joule,
    )
    from .plan import (
        max_input_tokens,
        policy_savings,
        recommend_max_tokens,
        truncate_prompt,
        workload_energy,
    )
    from .result import FitResult
    from .serving import ServingConfig
    from .tables import list_params, load_params, load_pooled, predict_energy

__all__ = [
    "Architecture",
    "ArchitectureError",
    "CVResult",
    "DependencyError",
    "DeviceError",
    "ExtrapolationWarning",
    "FitError",
    "FitResult",
    "IllConditionedWarning",
    "MeasurementError",
    "ModelSpec",
    "NegativeCoefficientWarning",
    "NoOptimumError",
    "NonPhysicalWarning",
    "ServingConfig",
    "SimulatedDataWarning",
    "SpecError",
    "StoreError",
    "SweetSpot",
    "SweetspotError",
    "SweetspotWarning",
    "TableError",
    "__version__",
    "count_terms",
    "cross_validate",
    "cross_validate_parquet",
    "energy",
    "energy_per_token",
    "fit",
    "fit_parquet",
    "flops",
    "get_architecture",
    "list_architectures",
    "list_params",
    "load_params",
    "load_pooled",
    "max_input_tokens",
    "memory_bytes",
    "min_energy_per_token",
    "optimal_n_out",
    "optimal_n_out_total",
    "plan",
    "policy_savings",
    "predict_energy",
    "read_measurements",
    "recommend_max_tokens",
    "sweet_spot",
    "tokens_per_joule",
    "truncate_prompt",
    "workload_energy",
]


__getattr__, __dir__ = attach(__name__, _LAZY, __all__, _SUBMODULES)
