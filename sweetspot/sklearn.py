"""A scikit-learn regressor for the energy models: :class:`EnergyRegressor`.

``X`` holds one request per row with two columns, ``(n_in, n_out)`` [tokens], and ``y`` the
energy of one request [J]. The estimator follows the scikit-learn contract (``fit`` returns
``self``, fitted state in trailing-underscore attributes, hyper-parameters stored unchanged,
validation at ``fit`` / ``predict``), so it works in ``cross_val_score``, ``GridSearchCV``
(e.g. over ``model``) and pipelines. The fit itself is :func:`sweetspot.fit`'s: the same
solver, losses and statistics; :attr:`EnergyRegressor.result_` is the
:class:`~sweetspot.FitResult`.

Token lengths must be finite and positive, as in the measurement schema; non-integer lengths
are accepted (per-request means over a measured window need not be whole numbers, and
:meth:`FitResult.predict` accepts them too). Energies must be finite and positive (the
default relative loss divides by them).

``score`` is the coefficient of determination R^2 (scikit-learn's default for regressors);
``scoring="neg_mean_absolute_percentage_error"`` gives the MAPE the literature reports.

Examples
--------
>>> import numpy as np, sweetspot as ss
>>> from sweetspot.sklearn import EnergyRegressor
>>> ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
>>> X = np.column_stack([ni.ravel(), no.ravel()])
>>> y = ss.energy([1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2], X[:, 0], X[:, 1])
>>> est = EnergyRegressor().fit(X, y)
>>> bool(np.allclose(est.predict(X), y))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._validation import check_choice
from .fitting import LOSSES, ArchitectureArg, FitData, Loss, fit
from .models import as_spec
from .result import FitResult

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def validate_data(estimator: Any, /, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


__all__ = ["EXPECTED_FAILED_CHECKS", "EnergyRegressor"]


class EnergyRegressor(RegressorMixin, BaseEstimator):
    """Energy of one LLM request from its input and output length, as a scikit-learn regressor.

    Parameters
    ----------
    model : str or ModelSpec
        A family of :data:`sweetspot.models.MODEL_NAMES` (``"sweetspot"``, ``"linear"``,
        ``"wilkins"``, ``"per_token"``, ..., ``"flops"``, ``"memory_flops"``) or a spec,
        as in :func:`sweetspot.fit`.
    loss : {"relative", "absolute", "mape"}
        Fitting loss, as in :func:`sweetspot.fit` (``"relative"``: least squares on
        relative errors).
    architecture : str or Architecture, optional
        Physical models (``"flops"``, ``"memory_flops"``): the measured LLM, e.g.
        ``"llama-2-7b"``. Must be None for the free models.
    kv_cache : bool
        Physical models: whether the engine keeps a KV cache.

    Attributes
    ----------
    result_ : FitResult
        The fit: coefficients with standard errors, MAPE, report, theta, sweet spot.
    coef_ : ndarray of shape (n_params,)
        Coefficients in the model's design order (``result_.param_names``).
    n_features_in_ : int
        Always 2.
    feature_names_in_ : ndarray of str
        Column names when ``X`` was a DataFrame with string column names.

    Notes
    -----
    ``X`` is validated once per call: two columns ``(n_in, n_out)``, finite, ``> 0``;
    ``y`` finite and ``> 0``. A DataFrame's columns are taken in order (name them ``n_in``
    and ``n_out`` for readability; names are not used to reorder them).
    """

    def __init__(
        self,
        model: Any = "sweetspot",
        loss: Loss = "relative",
        architecture: ArchitectureArg = None,
        kv_cache: bool = True,
    ) -> None:
        self.model = model
        self.loss = loss
        self.architecture = architecture
        self.kv_cache = kv_cache

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # token lengths: negative values are refused
        tags.target_tags.positive_only = True  # energies: y > 0
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        return tags

    # -- validation ---------------------------------------------------------------------
    def _lengths(self, X: Any) -> NDArray[np.float64]:
        X = np.asarray(X, dtype=np.float64)
        negative = X < 0
        if np.any(negative):
            row, col = (int(i) for i in np.argwhere(negative)[0])
            name = ("n_in", "n_out")[col] if col < 2 else f"column {col}"
            raise ValueError(
                f"Negative values in data passed to {type(self).__name__}: {name} = "
                f"{float(X[row, col])!r} in row {row}; token lengths must be >= 0."
            )
        if X.shape[1] != 2:
            raise ValueError(
                f"X must have exactly 2 columns (n_in, n_out) [tokens per request]; got "
                f"{X.shape[1]} feature(s). Pass X = data[['n_in', 'n_out']]."
            )
        zero = X == 0
        if np.any(zero):
            row, col = (int(i) for i in np.argwhere(zero)[0])
            raise ValueError(
                f"{('n_in', 'n_out')[col]} must be a positive token length; got 0 in row {row} "
                f"({int(zero.any(axis=1).sum())} row(s) with a zero length). A request has at "
                "least one input and one output token."
            )
        return X

    # -- estimator API ------------------------------------------------------------------
    def fit(self, X: ArrayLike, y: ArrayLike) -> EnergyRegressor:
        """Fit the energy model to requests ``X`` = (n_in, n_out) and energies ``y`` [J].

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad ``X`` or ``y`` (shape, NaN/inf, negative lengths, non-positive energy), an
            unknown model or loss (:class:`~sweetspot.SpecError`), or too few or
            degenerate rows (:class:`~sweetspot.FitError`, also a RuntimeError).
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        X = self._lengths(X)
        y = np.asarray(y, dtype=np.float64)
        bad = ~(y > 0)
        if np.any(bad):
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                "y must hold the positive energy of each request [J]; got "
                f"{float(y[row])!r} in row {row} ({int(bad.sum())} bad row(s))."
            )
        check_choice(self.loss, "loss", LOSSES)
        spec = as_spec(self.model, kv_cache=self.kv_cache)
        data = FitData(
            n_in=np.ascontiguousarray(X[:, 0]),
            n_out=np.ascontiguousarray(X[:, 1]),
            energy_j=y,
            batch_size=np.ones(y.size),
        )
        self.result_: FitResult = fit(data, spec, architecture=self.architecture, loss=self.loss)
        self.coef_ = self.result_.coef
        return self

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Predicted energy of one request [J] for each row of ``X`` = (n_in, n_out)."""
        check_is_fitted(self, "result_")
        X = self._lengths(validate_data(self, X, reset=False, dtype=np.float64))
        return self.result_.predict(X[:, 0], X[:, 1], warn=False)


_FEATURES = (
    "generic data with {} features; X must be exactly the two columns (n_in, n_out) "
    "[tokens], so the estimator refuses it (the same property is tested on two-column data "
    "in tests/test_sklearn.py)"
)
_ZERO = (
    "data shifted to start at 0 (positive_only tag: X - X.min()), and a zero token length "
    "is invalid (DESIGN.md section 5); tested on positive lengths in tests/test_sklearn.py"
)

#: scikit-learn's generic checks that cannot pass, and why; pass it to
#: ``check_estimator(EnergyRegressor(), expected_failed_checks=EXPECTED_FAILED_CHECKS)``.
EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_fit_score_takes_y": _FEATURES.format(3),
    "check_dont_overwrite_parameters": _FEATURES.format(3),
    "check_n_features_in_after_fitting": _FEATURES.format(4),
    "check_estimators_dtypes": _FEATURES.format(5),
    "check_dtype_object": _FEATURES.format(10),
    "check_pipeline_consistency": _FEATURES.format(3),
    "check_estimators_nan_inf": _FEATURES.format(3),
    "check_estimators_pickle": _FEATURES.format(3),
    "check_f_contiguous_array_estimator": _FEATURES.format(3),
    "check_regressors_train": _FEATURES.format(10),
    "check_regressor_data_not_an_array": _FEATURES.format(10),
    "check_regressors_no_decision_function": _FEATURES.format(4),
    "check_supervised_y_2d": _FEATURES.format(3),
    "check_regressors_int": _FEATURES.format(10),
    "check_methods_sample_order_invariance": _FEATURES.format(3),
    "check_methods_subset_invariance": _FEATURES.format(3),
    "check_dict_unchanged": _FEATURES.format(3),
    "check_fit2d_predict1d": _FEATURES.format(3),
    "check_fit2d_1sample": (
        "one sample of 10 features: the 2-column check answers first (one row of two "
        "columns raises FitError: more coefficients than rows)"
    ),
    "check_estimators_overwrite_params": _ZERO,
    "check_estimators_fit_returns_self": _ZERO,
    "check_readonly_memmap_input": _ZERO,
    "check_fit_idempotent": _ZERO,
    "check_fit_check_is_fitted": _ZERO,
    "check_n_features_in": _ZERO,
}
