"""Weights from principal components (OECD/JRC *Handbook on Constructing Composite Indicators*,
2008, section 6.1): keep the components with eigenvalue above 1 (at least one), rotate their
loadings by varimax, square and scale the loadings so each component's sum to 1, give each
indicator the scaled loading of the component it loads on most, weighted by that component's
share of the retained variance, and finally scale the weights to sum to 1."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def varimax(loadings: FloatArray, *, max_iter: int = 500, tol: float = 1e-10) -> FloatArray:
    """Varimax rotation (Kaiser 1958) of a loadings matrix (indicators x components)."""
    n_rows, n_cols = loadings.shape
    if n_cols < 2:
        return loadings
    rotation = np.eye(n_cols)
    criterion = 0.0
    for _ in range(max_iter):
        rotated = loadings @ rotation
        gradient = loadings.T @ (rotated**3 - rotated @ np.diag((rotated**2).sum(axis=0)) / n_rows)
        u, s, vt = np.linalg.svd(gradient)
        rotation = u @ vt
        new_criterion = s.sum()
        if new_criterion - criterion < tol * max(new_criterion, 1.0):
            break
        criterion = new_criterion
    return loadings @ rotation


def pca_weights(matrix: FloatArray, *, names: tuple[str, ...] = (), group: str = "") -> FloatArray:
    """Weights (summing to 1) for the columns of ``matrix`` (units x indicators).

    Only units with every indicator present are used.

    >>> rng = np.random.default_rng(0)
    >>> factor = rng.normal(size=500)
    >>> data = np.column_stack([factor + rng.normal(scale=s, size=500) for s in (0.3, 0.3, 0.3)])
    >>> pca_weights(data).round(1).tolist()
    [0.3, 0.3, 0.3]
    """
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    label = f"group {group!r}" if group else "PCA weights"
    if complete.shape[1] < 2:
        raise ValueError(f"{label}: PCA weights need at least two indicators")
    if complete.shape[0] <= complete.shape[1]:
        raise ValueError(
            f"{label}: PCA weights need more complete units ({complete.shape[0]}) than indicators "
            f"({complete.shape[1]})"
        )
    spread = complete.std(axis=0, ddof=1)
    if (spread == 0).any():
        constant = [names[i] if names else str(i) for i in np.flatnonzero(spread == 0)]
        raise ValueError(f"{label}: PCA weights are undefined for constant indicators {constant}")
    correlation = np.corrcoef(complete, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    kept = max(1, int((eigenvalues > 1.0).sum()))
    loadings = varimax(eigenvectors[:, :kept] * np.sqrt(eigenvalues[:kept]))
    squared = loadings**2
    explained = squared.sum(axis=0)
    scaled = squared / explained
    share = explained / explained.sum()
    best = np.argmax(scaled, axis=1)
    weights = scaled[np.arange(len(best)), best] * share[best]
    return weights / weights.sum()
