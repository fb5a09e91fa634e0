"""A toy model trained with plain NumPy, independent of superpose: the exact sparse-limit loss of
SPEC §4 written from its formulas, and projected gradient descent (b ≤ 0).

    L = (1/N) Σ_i [self(G_ii, b_i) + Σ_{j≠i} cross(G_ij, b_j)],   G = WᵀW,
    self(k, b) = t³/3 + ∫_t^1 ((k−1)x + b)² dx  (t = −b/k; 1/3 when k + b ≤ 0),
    cross(g, b) = (g + b)₊³ / (3g).

The tests import it; as a script it writes the README's example model:

    python python/tests/numpy_toy.py 3 12 examples/models/numpy_toy_n3_N12.npz
"""

import sys

import numpy as np


def np_loss_grad(W, b):
    """Exact sparse-limit L2 loss and gradient, in NumPy (SPEC §4)."""
    n, N = W.shape
    G = W.T @ W
    k = np.diag(G).copy()
    # Self terms.
    act = k + b > 0
    kk = np.where(act, k, 1.0)
    t = np.where(act, -b / kk, 0.0)
    a = kk - 1.0
    self_l = np.where(
        act,
        t**3 / 3 + a * a * (1 - t**3) / 3 + a * b * (1 - t * t) + b * b * (1 - t),
        1.0 / 3.0,
    )
    dself_dk = np.where(act, 2 * (a * (1 - t**3) / 3 + b * (1 - t * t) / 2), 0.0)
    dself_db = np.where(act, 2 * (a * (1 - t * t) / 2 + b * (1 - t)), 0.0)
    # Cross terms: output j fires on input i when G_ij + b_j > 0.
    Bj = np.broadcast_to(b[None, :], G.shape)
    off = ~np.eye(N, dtype=bool)
    on = off & (G + Bj > 0)
    g = np.where(on, G, 1.0)
    s = np.where(on, G + Bj, 0.0)
    cross = np.where(on, s**3 / (3 * g), 0.0)
    dcross_dg = np.where(on, s * s * (2 * g - Bj) / (3 * g * g), 0.0)
    dcross_db = np.where(on, s * s / g, 0.0)
    L = (self_l.sum() + cross.sum()) / N
    Gam = dcross_dg / N
    Gam[np.diag_indices(N)] = dself_dk / N
    dW = W @ (Gam + Gam.T)
    db = (dself_db + dcross_db.sum(axis=0)) / N
    return L, dW, db


def np_train(n, N, seed, steps=4000, lr=0.05):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, N)) * 0.5
    b = np.zeros(N)
    for _ in range(steps):
        _, dW, db = np_loss_grad(W, b)
        W -= lr * dW
        b = np.minimum(b - lr * db, 0.0)
    return W, b


if __name__ == "__main__":
    n, N, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    W, b = np_train(n, N, seed=1)
    L, _, _ = np_loss_grad(W, b)
    np.savez(out, W=W, b=b)
    print(f"n = {n}, N = {N}: NumPy loss {L:.10f}, written to {out}")
