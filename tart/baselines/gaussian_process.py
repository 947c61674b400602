"""A Gaussian process over NB201 cell features: the `gp_canonical` baseline and half of the `gp_gbm_canonical` mix.

The prior says that cells whose features are close score alike; its amplitude, length scale and noise level are fit
to the training labels' marginal likelihood alone, so the model has no settings to pick on the validation nets
beyond its kernel (`python -m benchmarks gp-teacher` compares the kernels of `KERNELS` on those nets and found them
within 0.003 of each other; `KERNEL` is its pick).
"""

from __future__ import annotations

from collections.abc import Callable

from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, Matern, RationalQuadratic, WhiteKernel

LENGTH_BOUNDS = (1e-1, 1e3)  # in standard deviations of the features (`baselines.standardised`)
KERNELS: dict[str, Callable[[], Kernel]] = {
    "rbf": lambda: RBF(5.0, LENGTH_BOUNDS),
    "matern 1.5": lambda: Matern(5.0, LENGTH_BOUNDS, nu=1.5),
    "matern 2.5": lambda: Matern(5.0, LENGTH_BOUNDS, nu=2.5),
    "rational quadratic": lambda: RationalQuadratic(5.0, 1.0, LENGTH_BOUNDS),
}
KERNEL = "rational quadratic"


def make_process(kernel: str = KERNEL) -> GaussianProcessRegressor:
    """`kernel` times a fitted amplitude plus white noise, on targets centred and scaled by the fit."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; expected one of {tuple(KERNELS)}")
    return GaussianProcessRegressor(ConstantKernel(1.0) * KERNELS[kernel]() + WhiteKernel(0.1), normalize_y=True)
