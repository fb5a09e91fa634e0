//! # superpose
//!
//! The science of feature superposition in the toy model `x' = ReLU(WᵀWx + b)` in the limit of
//! very sparse inputs: how many features fit in `n` dimensions, in what geometry, at what cost.
//!
//! ## Notation (SPEC §1)
//!
//! | symbol | meaning |
//! |---|---|
//! | `n` | model dimension; weight directions live on `S^{n−1} ⊂ R^n` |
//! | `d = n − 1` | dimension of the packing problem on that sphere |
//! | `N` | number of input features |
//! | `E` | number of embedded features |
//! | `m` | multiplicity (features sharing one direction) |
//! | `D = E/m` | number of distinct directions |
//! | `θ` | `θ_min`, angle from a direction to its nearest neighbour |
//! | `c`, `k` | intercept `−b/|W|²` and slope `|W|²` of a feature's response |
//! | `V_d`, `S_{n−1}` | unit-ball volume in `R^d`, unit-sphere area in `R^n` |
//! | `δ_d`, `γ_d`, `ξ_d` | packing density, Hermite constant, `2πe γ_d / d` |
//! | `l0 = 1/3` | L2 loss of a feature that is not embedded |
//! | `g` | gain `(l0 − mean loss) · N` |
//!
//! ## Modules
//!
//! * [`analyze`] — models trained elsewhere (JSON, .npy, .npz, safetensors): geometry, toy-model
//!   diagnostics and the theory at their (n, N); SAE scale by blocked products.
//! * [`sphere`] — `V_d`, `S_{n−1}`, the uniform angle density, in log space.
//! * [`packing`] — literature tables (`data/`), Hermite constants, kissing numbers, bounds.
//! * [`theta`] — the θ_min law, its chord and asymptotic forms, and the capacity `D(θ)`.
//! * [`plot`] — the note's figures (plotters, PNG or SVG, embedded font).
//! * [`study`] — the layer above the mathematics: sweep folders read into typed records, theory
//!   beside every trained model (`compare`), figure data, the note's ten claims (one function
//!   each), the markdown report and the reproduction plan (`reproduce`).
//! * [`stats`] — quantiles, Spearman's ρ, the permutation trend test and the sign test.
//! * [`bounds`] — Levenshtein's universal upper bound on spherical codes.
//! * [`codes`] — known optimal spherical codes (simplex, cross-polytope, 24-cell, 600-cell, E8,
//!   Tammes) and the θ law's ratio to their true minimal angles.
//! * [`random_codes`] — the random-code baseline: expected largest |cos| to the nearest of N
//!   random unit vectors.
//! * [`gain`] — the closed-form gain of symmetric configurations, both conventions, derivatives.
//! * [`phase`] — phase points (first N where degeneracy wins) and the note's large-n claims.
//! * [`large_dim`] — the large-n study: trained models at n = 16–128 against both neighbour
//!   models and the random code.
//! * [`symmetric`] — finite-neighbour symmetric configurations searched with argmin.
//! * [`loss`] — loss families (L2, Huber, L1, saturating Gauss) and their response integrals.
//! * [`fsutil`] — the one atomic, fsynced file write, and cleanup of stale temporary files.
//! * [`toy`] — the toy model: exact sparse-limit loss and gradient, trainers, diagnostics, sweeps.
//! * [`sparsity`] — finite-sparsity phase diagrams and where the sparse limit stops holding.
//! * [`scaling`] — loss versus n over feature-frequency exponents and weight decays.

pub mod analyze;
pub mod bounds;
pub mod codes;
pub mod collapse;
pub mod error;
pub mod fsutil;
pub mod gain;
pub mod large_dim;
pub mod loss;
pub mod packing;
pub mod phase;
pub mod plot;
pub mod prec;
pub mod random_codes;
pub mod scaling;
pub mod sparsity;
pub mod sphere;
pub mod stats;
pub mod study;
pub mod symmetric;
pub mod theta;
pub mod toy;

pub use error::{Error, Result};
