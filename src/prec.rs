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
