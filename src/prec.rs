//! Named tolerances, in one place (after statrs' `prec`). Tests use these names.

/// Closed forms evaluated two ways: agreement to about 1e-12 relative.
pub const REL_TIGHT: f64 = 1e-12;
/// Quadrature against a closed form: 1e-9 relative.
pub const REL_QUAD: f64 = 1e-9;
/// Central finite differences with step `h ≈ 1e-6`: 1e-5 relative.
pub const REL_FD: f64 = 1e-5;

/// Relative difference `|a − b| / max(|a|, |b|, 1e-300)`.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs()).max(1e-300);
    (a - b).abs() / scale
}

/// Panics unless `a` and `b` agree to relative tolerance `tol`.
#[track_caller]
pub fn assert_close(a: f64, b: f64, tol: f64) {
    let ok = (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300);
    assert!(
        ok,
        "{a} vs {b}: differ by {:e} (tolerance {tol:e})",
        (a - b).abs()
    );
}

/// Composite Simpson rule with `n` (even) intervals on `[0, 1]`: the brute-force quadrature the
/// tests check closed forms against (error `O(n⁻⁴)` on smooth integrands, `O(n⁻²)` across a kink).
pub fn simpson(f: impl Fn(f64) -> f64, n: usize) -> f64 {
    let h = 1.0 / n as f64;
    let mut s = f(0.0) + f(1.0);
    for i in 1..n {
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(i as f64 * h);
    }
    s * h / 3.0
}
