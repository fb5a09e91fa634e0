//! The sampled trainer (finite sparsity) through the CLI: the guarantee against the dead and
//! cold models, and the limit S → 1 against the exact trainer.

mod util;
use util::{json, num};

/// Regression: `train --dim 3 --features 64 --sparsity 0.99` returned gain −2.70 with nothing
/// embedded and `converged: true` (worse than the dead model and than `--cold`, +2.95), because
/// the fine-tuned warm start was kept whatever it scored. Now the result is the best of the
/// dead model, the warm start (tuned and untouched) and the cold runs on one evaluation set,
/// so it can be no worse than `--cold`, whose candidates are a subset.
#[test]
fn sampled_train_is_never_worse_than_cold_or_dead() {
    let base = [
        "train",
        "--dim",
        "3",
        "--features",
        "64",
        "--sparsity",
        "0.99",
    ];
    let warm = &json(&base)[0];
    let mut cold_args = base.to_vec();
    cold_args.push("--cold");
    let cold = &json(&cold_args)[0];
    assert!(num(warm, "gain") >= num(cold, "gain"), "{warm} vs {cold}");
    // Better than dead by far more than the sampling error.
    assert!(
        num(warm, "gain") > 10.0 * num(warm, "loss_stderr") * 64.0,
        "{warm}"
    );
    assert!(num(warm, "embedded") > 0.0, "{warm}");
}

/// `(g_S, σ_g)` of the sampled trainer and `g` of the exact trainer at `(n, N)`.
fn gains(n: usize, nf: usize, s: f64) -> (f64, f64, f64) {
    let (n, nf, s) = (n.to_string(), nf.to_string(), s.to_string());
    let base = ["train", "--dim", n.as_str(), "--features", nf.as_str()];
    let exact = num(&json(&base)[0], "gain");
    let mut a = base.to_vec();
    a.extend(["--sparsity", s.as_str()]);
    let r = &json(&a)[0];
    let sigma = num(r, "loss_stderr") * num(r, "features");
    (num(r, "gain"), sigma, exact)
}

/// S → 1: at S = 0.9999 and N = 16 the sampled gain agrees with the exact trainer's within 3
/// of its reported standard errors (n = 3, 4). The rest of the grid is in
/// `s_to_one_full_grid` (ignored: about two minutes).
#[test]
fn sampled_gain_tends_to_the_exact_gain() {
    for n in [3, 4] {
        let (g, sigma, exact) = gains(n, 16, 0.9999);
        assert!(
            (g - exact).abs() <= 3.0 * sigma,
            "n={n}: {g} ± {sigma} vs {exact}"
        );
    }
}

/// The full S → 1 grid (n = 3, 4; N = 16, 64). Run with
/// `cargo test --release --test cli_sampled -- --ignored --nocapture`.
/// The sampled gain agrees with the exact one within 3σ at S = 1 − 10⁻⁵ and 1 − 10⁻⁶; at
/// S = 0.999 and 0.9999 it prints the deficit, which is genuine (co-activation of two features
/// costs the sparse-limit optimum a lot once (1 − S)·N ≳ 10⁻³ at N = 64) and must not exceed
/// the exact gain beyond the sampling error.
#[test]
#[ignore]
fn s_to_one_full_grid() {
    for n in [3, 4] {
        for nf in [16, 64] {
            for s in [0.999, 0.9999, 0.99999, 0.999999] {
                let (g, sigma, exact) = gains(n, nf, s);
                println!(
                    "n={n} N={nf} S={s}: g_S = {g:.4} ± {sigma:.4}, exact {exact:.4}, \
                     deficit {:.2}σ",
                    (exact - g) / sigma
                );
                assert!(g <= exact + 3.0 * sigma, "above the sparse limit");
                if s >= 0.99999 {
                    assert!((g - exact).abs() <= 3.0 * sigma, "n={n} N={nf} S={s}");
                }
            }
        }
    }
}
