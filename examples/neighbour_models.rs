//! The three neighbour models of `superpose::symmetric` side by side at given `(n, N)`:
//! θ, intercept and gain of each optimum, and the frame model's θ source.
//!
//! `cargo run --release --example neighbour_models -- 16:256 32:512 64:1024`

use superpose::gain::ThetaLaw;
use superpose::loss::Loss;
use superpose::symmetric::{frame_theta, optimize_with, NeighbourModel, Options};

fn main() {
    let pairs: Vec<(usize, u64)> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            let (n, nf) = a.split_once(':')?;
            Some((n.parse().ok()?, nf.parse().ok()?))
        })
        .collect();
    if pairs.is_empty() {
        eprintln!("usage: neighbour_models n:N [n:N …]");
        std::process::exit(2);
    }
    println!("n\tN\tmodel\ttheta\tintercept\tgain\tE\tm\tsource");
    for (n, nf) in pairs {
        for model in NeighbourModel::ALL {
            let o = Options {
                model,
                ..Options::default()
            };
            match optimize_with(n, nf, &Loss::L2, &o) {
                Ok(p) => {
                    let src = if model == NeighbourModel::Frame {
                        frame_theta(n, p.directions, ThetaLaw::default()).map_or("?", |f| f.source)
                    } else {
                        "law"
                    };
                    println!(
                        "{n}\t{nf}\t{model}\t{:.4}\t{:.4}\t{:.3}\t{}\t{}\t{src}",
                        p.theta, p.intercept, p.gain, p.embed, p.multiplicity
                    );
                }
                Err(e) => println!("{n}\t{nf}\t{model}\terror: {e}"),
            }
        }
    }
}
