"""The Python package and `superpose analyze` on a model trained here, with plain NumPy gradient
descent that shares no code with the crate.

The NumPy trainer implements the exact sparse-limit loss of SPEC §4 from its formulas:
L = (1/N) Σ_i [self(G_ii, b_i) + Σ_{j≠i} cross(G_ij, b_j)], G = WᵀW, with
self(k, b) = t³/3 + ∫_t^1 ((k−1)x + b)² dx (t = −b/k; 1/3 when k + b ≤ 0) and
cross(g, b) = (g + b)₊³ / (3g), and projected gradient descent keeps b ≤ 0.

The CLI tests run the `superpose` binary: $SUPERPOSE_BIN, else target/release/superpose of this
repository, else `superpose` on PATH (.ci/run sets SUPERPOSE_BIN after `cargo test --release`).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import superpose
from numpy_toy import np_loss_grad, np_train

ROOT = Path(__file__).resolve().parents[2]


def np_theta_min_median(W, b=None):
    """Median over features of the angle to the nearest other feature (embedded ones with b)."""
    keep = np.ones(W.shape[1], dtype=bool)
    if b is not None:
        keep = (W * W).sum(axis=0) + b > 0
    U = W[:, keep] / np.linalg.norm(W[:, keep], axis=0)
    C = np.clip(U.T @ U, -1, 1)
    np.fill_diagonal(C, -np.inf)
    ang = np.arccos(C.max(axis=1))
    return float(np.median(ang)), float(ang.min())


@pytest.fixture(scope="module")
def model():
    W, b = np_train(2, 5, seed=1)
    return W, b


def superpose_bin():
    env = os.environ.get("SUPERPOSE_BIN")
    if env:
        return env
    local = ROOT / "target" / "release" / "superpose"
    if local.exists():
        return str(local)
    found = shutil.which("superpose")
    if found:
        return found
    pytest.skip("no superpose binary (build it with cargo build --release or set SUPERPOSE_BIN)")


def cli(*args):
    return subprocess.run(
        [superpose_bin(), *args], capture_output=True, text=True, check=False
    )


def cli_json(*args):
    out = cli("--format", "json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)[0]


def test_numpy_gradient_matches_finite_differences(model):
    W, b = model
    b = b - 0.05  # away from the kinks at b = 0
    L, dW, db = np_loss_grad(W, b)
    h = 1e-6
    for (r, c) in [(0, 0), (1, 3)]:
        Wp, Wm = W.copy(), W.copy()
        Wp[r, c] += h
        Wm[r, c] -= h
        fd = (np_loss_grad(Wp, b)[0] - np_loss_grad(Wm, b)[0]) / (2 * h)
        assert abs(fd - dW[r, c]) < 1e-6
    bp, bm = b.copy(), b.copy()
    bp[2] += h
    bm[2] -= h
    fd = (np_loss_grad(W, bp)[0] - np_loss_grad(W, bm)[0]) / (2 * h)
    assert abs(fd - db[2]) < 1e-6


def test_trained_model_is_a_real_model(model):
    W, b = model
    L, _, _ = np_loss_grad(W, b)
    assert L < 1.0 / 3.0 - 0.05  # it learned something
    assert ((W * W).sum(axis=0) + b > 0).sum() >= 4


def test_python_loss_and_gradient_match_numpy(model):
    W, b = model
    L, dW, db = np_loss_grad(W, b)
    L2, dW2, db2 = superpose.loss(W, b)
    assert abs(L2 - L) < 1e-12 * L
    np.testing.assert_allclose(dW2, dW, atol=1e-12)
    np.testing.assert_allclose(db2, db, atol=1e-12)


def test_python_analyze_matches_numpy(model):
    W, b = model
    L, _, _ = np_loss_grad(W, b)
    med, _ = np_theta_min_median(W, b)
    a = superpose.analyze(W, b)
    assert abs(a["loss"] - L) < 1e-12 * L
    assert abs(a["gain"] - (1 / 3 - L) * 5) < 1e-12
    assert abs(a["theta_min_median"] - med) < 1e-9
    # N-by-n gives the same model; the geometry alone the nearest-feature angles.
    a2 = superpose.analyze(W.T.copy(), b, layout="N-by-n")
    assert a2["loss"] == a["loss"]
    g = superpose.analyze(W.T.copy())
    gmed, gmin = np_theta_min_median(W)
    assert abs(g["theta_min_median"] - gmed) < 1e-5
    assert abs(g["theta_min_min"] - gmin) < 1e-5
    assert g["loss"] is None
    per = a["per_feature"]
    assert per["dimensionality"].shape == (5,)
    norms = np.linalg.norm(W, axis=0)
    quad = np.array([(W[:, i] @ W) ** 2 for i in range(5)]).sum(axis=1) / norms**2
    np.testing.assert_allclose(per["dimensionality"], norms**2 / quad, rtol=1e-12)
    h = a["histogram"]
    assert h["counts"].sum() == a["directions"] * (a["directions"] - 1) // 2


def test_cli_analyze_npz_and_safetensors(model, tmp_path):
    from safetensors.numpy import save_file

    W, b = model
    L, _, _ = np_loss_grad(W, b)
    med, _ = np_theta_min_median(W, b)
    npz = tmp_path / "toy.npz"
    np.savez(npz, W=W, b=b)
    st = tmp_path / "toy.safetensors"
    save_file({"W_dec": W.T.astype(np.float32).copy(), "b": b.astype(np.float32)}, str(st))
    r = cli_json("analyze", "--model", str(npz))
    assert abs(r["loss"] - L) < 1e-12 * L
    assert abs(r["theta_min_median"] - med) < 1e-9
    r = cli_json("analyze", "--model", str(st), "--w-key", "W_dec", "--layout", "N-by-n")
    assert r["dtype"] == "float32"
    assert abs(r["loss"] - L) < 1e-5 * L
    assert abs(r["theta_min_median"] - med) < 1e-5
    # The Python reader of the same files agrees with the CLI.
    p = superpose.analyze_file(st, layout="N-by-n", w_key="W_dec")
    assert abs(p["loss"] - r["loss"]) < 1e-15 + 1e-12 * r["loss"]
    p = superpose.analyze(str(npz))
    assert abs(p["loss"] - L) < 1e-12 * L


def test_errors_are_value_errors_with_the_cli_message(tmp_path):
    sq = tmp_path / "sq.npy"
    np.save(sq, np.eye(3))
    out = cli("analyze", "--model", str(sq))
    assert out.returncode == 2
    line = out.stderr.strip()
    assert line.count("\n") == 0
    with pytest.raises(ValueError) as e:
        superpose.analyze_file(sq)
    assert line == "superpose: error: " + str(e.value)
    with pytest.raises(ValueError, match="ambiguous"):
        superpose.analyze(np.eye(3))
    with pytest.raises(ValueError, match="not a finite number"):
        superpose.analyze(np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 1.0]]))
    with pytest.raises(ValueError, match="must be at least 1"):
        superpose.theta(0, 10)
    with pytest.raises(ValueError, match="> 0"):
        superpose.loss(np.ones((2, 3)), np.array([0.1, -1.0, -1.0]))
    out = cli("theta", "--dim", "0", "--directions", "10")
    with pytest.raises(ValueError) as e:
        superpose.theta(0, 10)
    assert out.stderr.strip() == "superpose: error: " + str(e.value)


def test_theory_calls_agree_with_the_cli():
    t = superpose.theta(8, 240)
    c = cli_json("theta", "--dim", "8", "--directions", "240")
    assert t["theta"] == c["theta"] and t["source"] == c["source"]
    g = superpose.gain(8, 1024)
    c = cli_json("gain", "--dim", "8", "--embed", "1024")
    assert abs(g["gain"] - c["gain"]) < 1e-12 * abs(c["gain"])
    o = superpose.optimize(4, 64)
    c = cli_json("optimize", "--dim", "4", "--features", "64")
    assert (o["embed"], o["multiplicity"]) == (c["embed"], c["multiplicity"])
    p = superpose.phase(3)
    c = cli_json("phase", "--dims", "3")
    assert p["transition_features"] == c["transition_features"]
    cap = superpose.capacity(8, np.pi / 3)
    c = cli_json("capacity", "--dim", "8", "--theta", str(np.pi / 3))
    assert cap["log10_directions"] == c["log10_directions"]
    e = superpose.extrapolate(512, 1e6)
    c = cli_json("extrapolate", "--dims", "512", "--features", "1e6")
    assert e["theta"] == c["theta"] and e["random_max_cos"] == c["random_max_cos"]


def test_train_returns_arrays_whose_loss_is_the_report():
    r = superpose.train(2, 6, seed=3)
    W, b = r["W"], r["b"]
    assert W.shape == (2, 6) and b.shape == (6,)
    L, _, _ = np_loss_grad(W, b)
    assert abs(L - r["loss"]) < 1e-10 * L
    assert r["feature_dimensionality"] > 0
