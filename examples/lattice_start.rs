//! Is the trained model at large n the optimum? The default trainer's spread start against a
//! start from the best known code: a subset of the 600-cell (n = 4, N ≤ 120), of the E8 roots (n = 8, N ≤ 240) or of the
//! Barnes–Wall Λ16 minimal vectors (n = 16, N ≤ 4320, minimal angle π/3), polished on the exact
//! loss by the trainer's own L-BFGS.
//!
//! Run: `cargo run --release --example lattice_start -- [n:N ...] [--screen S] [--iters I]
//! [--jitter J] [--save DIR]` (default cases `16:1024 16:2048 16:4096`; S = 300 screening iterations per
//! intercept factor, I = 12000 for the best factor, as the trainer's final polish).
//!
//! The subset is the first `N` points of the code in farthest-point order (start at point 0;
//! each next point has the smallest largest cosine to those already taken, ties to the lower
//! index), so it is as spread as the code allows. A symmetric code is a stationary point of the
//! loss, so each point is first kicked by a Gaussian of J rad (default 0.01, seed 0). Each subset is scaled with intercept factors
//! f ∈ {1.0, 1.1, 1.2, 1.3} (`toy::train::scaled_start`: f = 1 puts the intercept at the
//! closest pair's cosine, f > 1 at `cos(f θ_nn)`), screened, and the best polished. Printed per
//! case: the subset's largest cosine, the screened gains, and the polished model's gain, median
//! θ_min and intercept beside the committed trained row of `docs/large_dim/result.json` when it
//! has one (the default trainer's spread start, `superpose sweep … --no-chain --restarts 0`).

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use superpose::toy::diagnostics::Diagnostics;
use superpose::toy::{exact, train, Loss, Model};

fn gain(m: &Model) -> f64 {
    (1.0 / 3.0 - exact::loss(m, &Loss::L2)) * m.features() as f64
}

fn main() -> superpose::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut screen, mut iters, mut jitter) = (300u64, 12_000u64, 0.01f64);
    let mut save: Option<std::path::PathBuf> = None;
    let mut cases = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = |it: &mut std::slice::Iter<String>| {
            it.next()
                .cloned()
                .ok_or_else(|| superpose::Error::invalid("arguments", format!("{a} needs a value")))
        };
        match a.as_str() {
            "--screen" => screen = value(&mut it)?.parse().unwrap_or(screen),
            "--iters" => iters = value(&mut it)?.parse().unwrap_or(iters),
            "--jitter" => jitter = value(&mut it)?.parse().unwrap_or(jitter),
            "--save" => save = Some(value(&mut it)?.into()),
            s => {
                let (n, nf) = s.split_once(':').ok_or_else(|| {
                    superpose::Error::invalid("case", format!("{s:?}: expected n:N"))
                })?;
                let parse = |t: &str| {
                    t.parse::<usize>().map_err(|_| {
                        superpose::Error::invalid("case", format!("{s:?}: expected n:N"))
                    })
                };
                cases.push((parse(n)?, parse(nf)?));
            }
        }
    }
    if cases.is_empty() {
        cases = vec![(16, 1024), (16, 2048), (16, 4096)];
    }
    let committed = superpose::large_dim::committed()?;
    println!(
        "n\tN\tcode\tmax_cos\tscreened gains (f = 1.0, 1.1, 1.2, 1.3)\tf\tgain\ttheta_median\t\
         intercept\tconverged\tseconds\ttrained_gain\ttrained_theta\ttrained_intercept"
    );
    for (n, nf) in cases {
        let name = superpose::codes::largest_code(n)
            .ok_or_else(|| {
                superpose::Error::invalid(
                    "case",
                    format!(
                        "n = {n}: the codes here are the 600-cell (n = 4), E8 (n = 8) and \
                         BW16 (n = 16)"
                    ),
                )
            })?
            .name;
        let t0 = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let u = train::code_directions(n, nf, jitter, &mut rng).ok_or_else(|| {
            superpose::Error::invalid("case", format!("N = {nf} exceeds the points of {name}"))
        })?;
        let mc = train::max_cos(&u);
        let mut best: Option<(f64, f64, Model)> = None;
        let mut screened = Vec::new();
        for f in [1.0, 1.1, 1.2, 1.3] {
            let start = train::scaled_start(&u, nf, 1, f);
            let (m, _, _, _) = train::polish(&start, &Loss::L2, screen)?;
            let g = gain(&m);
            screened.push(format!("{g:.6}"));
            if best.as_ref().map_or(true, |b| g > b.0) {
                best = Some((g, f, m));
            }
        }
        let Some((_, f, m)) = best else { continue };
        let (m, _, converged, _) = train::polish(&m, &Loss::L2, iters.saturating_sub(screen))?;
        let s = Diagnostics::of(&m).summary();
        let fmt = |x: Option<f64>| x.map(|v| format!("{v:.5}")).unwrap_or("-".into());
        let row = committed.rows.iter().find(|r| r.n == n && r.features == nf);
        println!(
            "{n}\t{nf}\t{name}\t{mc:.4}\t{}\t{f}\t{:.6}\t{}\t{}\t{converged}\t{:.0}\t{}\t{}\t{}",
            screened.join(" "),
            gain(&m),
            fmt(s.theta_min_median),
            fmt(s.intercept_median),
            t0.elapsed().as_secs_f64(),
            row.map(|r| format!("{:.6}", r.trained.gain))
                .unwrap_or("-".into()),
            fmt(row.and_then(|r| r.trained.theta_min)),
            fmt(row.and_then(|r| r.trained.intercept)),
        );
        if let Some(dir) = &save {
            std::fs::create_dir_all(dir)
                .map_err(|e| superpose::Error::invalid("--save", e.to_string()))?;
            let path = dir.join(format!("{name}_n{n}_N{nf}.json"));
            let text = serde_json::to_string(&m.to_saved(exact::loss(&m, &Loss::L2)))
                .map_err(|e| superpose::Error::invalid("model", e.to_string()))?;
            superpose::fsutil::write_atomic(&path, text.as_bytes())?;
        }
    }
    Ok(())
}
