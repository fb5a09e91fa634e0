"""superpose from Python: the theory of feature superposition (θ law, capacity, closed-form
gain, phase points, symmetric optimum, large-n extrapolation), the exact-loss trainer of the toy
model x' = ReLU(WᵀWx + b), its exact sparse-limit loss with gradient, and the analysis of models
trained elsewhere (toy models with b, SAE decoders without).

Everything returns plain dicts and NumPy arrays; bad input raises ValueError with the same
one-line message as the `superpose` command line. Long calls release the GIL.

W follows the toy model's convention, shape (n, N) (a column per feature), unless a function
takes ``layout``: "n-by-N", "N-by-n" (a row per feature, e.g. an SAE decoder W_dec of shape
[d_sae, d_model]) or "auto" (b's length decides, else the longer side is N).
"""

import numpy as _np

from . import _superpose as _core

__version__ = _core.__version__

theta = _core.theta
capacity = _core.capacity
gain = _core.gain
phase = _core.phase
optimize = _core.optimize
extrapolate = _core.extrapolate
train = _core.train


def _f64(a, name, ndim):
    try:
        arr = _np.ascontiguousarray(a, dtype=_np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"invalid {name}: {e}") from None
    if arr.ndim != ndim:
        raise ValueError(
            f"invalid model: {name} must be a {ndim}-D array, got shape {list(arr.shape)}"
        )
    return arr


def analyze(W, b=None, layout="auto"):
    """Diagnostics of W (and b): the `superpose analyze` summary keys, plus ``per_feature``
    (NumPy arrays: norm, max_cos, max_abs_cos, nearest, theta_nearest, dimensionality,
    interference; with b also embedded, intercept, theta_min, multiplicity) and ``histogram``
    (edges, counts, density, uniform).

    ``W`` may also be a path (str or os.PathLike) to a model file (.json, .npy, .npz,
    .safetensors); then ``w_key``/``b_key`` pick arrays: use :func:`analyze_file`.
    """
    import os

    if isinstance(W, (str, os.PathLike)):
        return _core.analyze_file(os.fspath(W), layout=layout)
    W = _f64(W, "W", 2)
    if b is not None:
        b = _f64(b, "b", 1)
    return _core.analyze_weights(W, b, layout)


def analyze_file(path, layout="auto", w_key="W", b_key=None):
    """`superpose analyze --model path`: the same dict as :func:`analyze`, plus format and dtype."""
    import os

    return _core.analyze_file(os.fspath(path), layout, w_key, b_key)


def loss(W, b, loss="l2"):
    """Exact sparse-limit loss of the toy model (W of shape (n, N), b ≤ 0 of shape (N,)) and
    its gradient: returns ``(L, dL_dW, dL_db)``."""
    return _core.loss(_f64(W, "W", 2), _f64(b, "b", 1), loss)


__all__ = [
    "theta",
    "capacity",
    "gain",
    "phase",
    "optimize",
    "extrapolate",
    "train",
    "analyze",
    "analyze_file",
    "loss",
]
