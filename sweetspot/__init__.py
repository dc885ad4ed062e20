"""sweetspot: the energy of LLM inference over input and output length.

Fit analytical energy models ``E(n_in, n_out)`` to measurements, report how well they
predict (MAPE, cross-validated), and find the output length that maximises output tokens
per joule::

    import sweetspot as ss
    data = ss.read_measurements("grid.csv")
    res = ss.fit(data, model="sweetspot")
    ss.optimal_n_out(res, [256, 1024])
"""

from __future__ import annotations

from . import plan
from ._version import __version__
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
from .tables import list_params, load_params, load_pooled

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
    "read_measurements",
    "recommend_max_tokens",
    "sweet_spot",
    "tokens_per_joule",
    "truncate_prompt",
    "workload_energy",
]
