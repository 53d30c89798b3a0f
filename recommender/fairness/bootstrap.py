"""Percentile bootstrap of group means, vectorised: fast at a million firms.

Resampling ``n`` units with replacement and averaging is, exactly, drawing how many times
each distinct value is picked (a multinomial over the distinct values with their observed
shares) and averaging by those counts. A share (values 0 and 1) is then one binomial draw per
replicate, a count of policies (a few dozen distinct values) a multinomial over them: the
exact bootstrap at the cost of ``reps × distinct values``, whatever ``n``.

A continuous value (yuan, a probability gap) has about as many distinct values as units.
Up to :data:`DIRECT_MAX` units it is resampled directly (``reps × n`` index draws: the plain
bootstrap). Above, its sorted values are cut into about ``blocks`` blocks, half of equal size
and half holding equal shares of the squared deviations (so the tail, where a skewed amount's
variance lives, is cut finely, its largest values often alone in a block): how many draws fall
in each block is drawn exactly (multinomial), and the sum of the draws inside a block by the
central limit theorem (mean × count + sd × √count × normal). Above :data:`DIRECT_MAX` units
the mean's own skew is small (it falls with √n), which is where the normal step is safe.
Measured coverage of the true mean of lognormal amounts at 95 % (300 samples, 500
replicates): 93.0 % (σ = 1) and 94.0 % (σ = 1.5) at 10,000 units, 94.7 % (σ = 1.5) at 50,000;
equal-size blocks alone had given 91.7 % at 3,000 units where the plain bootstrap gave 95.3 %.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BLOCKS = 96
"""Blocks of a continuous value above :data:`DIRECT_MAX` units (module docstring)."""
DIRECT_MAX = 8_000
"""Units up to which a continuous value is resampled directly (8,000 × 1,000 replicates: about
0.3 s a group)."""
_DIRECT_CHUNK = 4_000_000
"""Index draws held at once by direct resampling (32 MB)."""


def group_mean_cis(values: np.ndarray, codes: np.ndarray, n_groups: int, *, reps: int, confidence: float,
                   rng: np.random.Generator, blocks: int = DEFAULT_BLOCKS) -> np.ndarray:
    """Percentile bootstrap confidence interval of the mean of ``values`` within each group.

    Parameters
    ----------
    values
        One finite number per unit (firm or application).
    codes
        The unit's group, ``0 .. n_groups - 1`` (a unit with a negative code is in no group).
    n_groups
        Number of groups.
    reps
        Bootstrap replicates (>= 1).
    confidence
        Two-sided level, strictly between 0 and 1 (0.95: the 2.5th and 97.5th percentiles).
    rng
        Source of randomness (seeded by the caller: the same seed gives the same intervals).
    blocks
        Blocks of a continuous value (module docstring).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_groups, 2)``: low and high end per group, NaN for a group without units.

    Raises
    ------
    ValueError
        Naming the argument: values and codes of different lengths, a non-finite value,
        ``reps < 1`` or ``confidence`` outside (0, 1).
    """
    values = np.asarray(values, dtype=np.float64)
    codes = np.asarray(codes)
    if values.shape != codes.shape:
        raise ValueError(f"values and codes must have the same length; got {values.shape} and {codes.shape}")
    if not np.isfinite(values).all():
        raise ValueError("values must be finite numbers; got NaN or infinity")
    if reps < 1:
        raise ValueError(f"reps must be >= 1; got {reps}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence}")
    out = np.full((n_groups, 2), np.nan)
    inside = (codes >= 0) & (codes < n_groups)
    order = np.flatnonzero(inside)[np.argsort(codes[inside], kind="stable")]
    edges = np.searchsorted(codes[order], np.arange(n_groups + 1))
    tail = (1.0 - confidence) / 2.0
    for g in range(n_groups):
        x = values[order[edges[g]:edges[g + 1]]]
        if len(x):
            means = _replicate_means(x, reps, rng, blocks)
            out[g] = np.quantile(means, [tail, 1.0 - tail])
    return out


def _replicate_means(x: np.ndarray, reps: int, rng: np.random.Generator, blocks: int) -> np.ndarray:
    """``reps`` bootstrap means of ``x`` (module docstring)."""
    n = len(x)
    cells, sizes, spread = _cells(x, blocks, direct=n <= DIRECT_MAX)
    if not len(cells):
        return _direct_means(x, reps, rng)
    counts = multinomial(rng, n, sizes / n, reps)
    sums = counts @ cells
    if spread.any():
        sums += (np.sqrt(counts) * spread * rng.standard_normal(counts.shape)).sum(axis=1)
    return sums / n


def _direct_means(x: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` bootstrap means of ``x`` by drawing the resamples themselves."""
    n = len(x)
    out = np.empty(reps)
    step = max(1, _DIRECT_CHUNK // n)
    for start in range(0, reps, step):
        stop = min(reps, start + step)
        out[start:stop] = x[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out


def _cells(x: np.ndarray, blocks: int, *, direct: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(means, sizes, standard deviations)`` of the cells ``x`` is resampled over: its
    distinct values when there are at most ``blocks`` of them (sd 0); else, with ``direct``,
    no cell (resample ``x`` itself); else the blocks of the module docstring."""
    distinct, counts = np.unique(x, return_counts=True)
    if len(distinct) <= blocks:
        return distinct, counts.astype(np.float64), np.zeros(len(distinct))
    if direct:
        return np.empty(0), np.empty(0), np.empty(0)
    xs = np.sort(x)
    n = len(xs)
    squares = np.cumsum((xs - xs.mean()) ** 2)
    by_count = np.linspace(0, n, blocks // 2 + 1).round().astype(np.intp)[:-1]
    by_spread = np.searchsorted(squares, np.linspace(0.0, squares[-1], blocks - blocks // 2 + 1)[:-1])
    starts = np.unique(np.concatenate([by_count, np.minimum(by_spread, n - 1)]))
    sizes = np.diff(np.append(starts, n)).astype(np.float64)
    means = np.add.reduceat(xs, starts) / sizes
    deviation = xs - np.repeat(means, sizes.astype(np.intp))
    spread = np.sqrt(np.add.reduceat(deviation * deviation, starts) / sizes)
    return means, sizes, spread


def multinomial(rng: np.random.Generator, n: int, shares: np.ndarray, reps: int) -> np.ndarray:
    """``reps`` multinomial draws of ``n`` over ``shares`` (shape ``(reps, len(shares))``), as
    one binomial per cell conditioned on the cells before it, each vectorised over the
    replicates (numpy's own multinomial loops over the replicates: 4× slower here)."""
    k = len(shares)
    out = np.empty((reps, k), dtype=np.int64)
    left = np.full(reps, n, dtype=np.int64)
    rest = 1.0
    for b in range(k - 1):
        share = float(shares[b])
        p = min(1.0, max(0.0, share / rest)) if rest > 0 else 0.0
        out[:, b] = rng.binomial(left, p)
        left -= out[:, b]
        rest -= share
    out[:, k - 1] = left
    return out
