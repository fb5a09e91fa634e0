#!/usr/bin/env python3
"""The peer a careful researcher would write: scipy's L-BFGS-B on the exact NumPy loss.

The toy model x' = ReLU(W^T W x + b) in the infinitely sparse limit (SPEC §4), L2 loss:

    L = (1/N) sum_i [ R(G_ii, b_i, 1) + sum_{j != i} R(G_ij, b_j, 0) ],   G = W^T W,
    R(a, b, t) = int_0^1 ((a x + b)_+ - t x)^2 dx   (closed form below),

with the analytic gradient dL/dW = W (Gamma + Gamma^T), Gamma_ij = dL/dG_ij, and the bound
b <= 0 handled by L-BFGS-B itself. One well-spread start: uniform random directions on
S^{n-1} relaxed by Riesz repulsion, scaled by the symmetric theory's slope and bias
(k = (1 + c/2)/(1 - c), b = -k c, c = cos theta_min), as `superpose train` does.

Usage: python3 benches/peer/scipy_lbfgsb.py N_DIM N_FEATURES [SEED]
Prints one line: n, N, gain (l0 - L) N, loss, iterations, seconds (start + optimisation).
"""
import sys
import time

import numpy as np
from scipy.optimize import minimize


def response(a, b, t):
    """R(a, b, t) and its partial derivatives for L2 (arrays broadcast; b <= 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = np.where(a > 0, np.clip(-b / a, 0.0, 1.0), 1.0)
    x1 = np.ones_like(x0)
    al = a - t
    e0 = al * x0 + b
    e1 = al * x1 + b
    w = x1 - x0
    r = w * (e0 * e0 + e0 * e1 + e1 * e1) / 3.0 + t * t * (1.0 - x1**3 + x0**3) / 3.0
    ra = w * (e0 * (2.0 * x0 + x1) + e1 * (x0 + 2.0 * x1)) / 3.0
    rb = w * (e0 + e1)
    return r, ra, rb


def loss_grad(x, n, nf):
    w = x[: n * nf].reshape(nf, n).T  # n x N, column i = W_i
    b = x[n * nf :]
    g = w.T @ w
    t = np.eye(nf)
    r, ra, rb = response(g, b[None, :], t)
    loss = r.sum() / nf
    gam = ra / nf
    gw = w @ (gam + gam.T)
    gb = rb.sum(axis=0) / nf
    return loss, np.concatenate([gw.T.ravel(), gb])


def spread(n, d, rng, steps=150):
    """d unit vectors in R^n: random, relaxed by Riesz repulsion (force ~ r^-(s+1), s ~ n+1)."""
    x = rng.standard_normal((d, n))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    k = (n + 4) // 2
    area = 2 * np.pi ** (n / 2) / np.exp(__import__("math").lgamma(n / 2))
    spacing = (area / d) ** (1.0 / (n - 1))
    for step in range(steps):
        diff = x[:, None, :] - x[None, :, :]
        r2 = (diff**2).sum(-1)
        np.fill_diagonal(r2, np.inf)
        f = (diff * (1.0 / np.maximum(r2, 1e-24)) [..., None] ** k).sum(1)
        f -= (f * x).sum(1, keepdims=True) * x
        f /= np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-300)
        frac = step / (steps - 1)
        x += spacing * (0.3 * (1 - frac) + 0.01 * frac) * f
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def main():
    n, nf = int(sys.argv[1]), int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    u = spread(n, nf, rng)
    cg = u @ u.T
    np.fill_diagonal(cg, -1.0)
    c = min(max(cg.max(), 0.0), 0.999)
    k = (1 + c / 2) / (1 - c)
    x0 = np.concatenate([(u * np.sqrt(k)).ravel(), np.full(nf, -k * c)])
    bounds = [(None, None)] * (n * nf) + [(None, 0.0)] * nf
    res = minimize(
        loss_grad,
        x0,
        args=(n, nf),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 15000, "maxfun": 30000, "maxcor": 30},
    )
    secs = time.perf_counter() - t0
    gain = (1.0 / 3.0 - res.fun) * nf
    print(f"n={n} N={nf} gain={gain:.6f} loss={res.fun:.12f} iters={res.nit} seconds={secs:.2f} ({res.message})")


if __name__ == "__main__":
    main()
