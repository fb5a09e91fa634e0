//! L-BFGS on `Vec<f64>` with the two-loop recursion done in place: argmin's [`LBFGS`] step for
//! step (bit for bit with [`Sums::Sequential`]), at a fraction of its memory traffic and with
//! vectorised dot products.
//!
//! argmin's L-BFGS (0.11) is generic over the parameter type, so each step of its two-loop
//! recursion allocates: per stored pair `(s_k, y_k)` it recomputes `y_kᵀs_k` and builds
//! `α_k y_k`, `q − α_k y_k`, `(α_k − β_k) s_k` and `r + (α_k − β_k) s_k` as new vectors. With the
//! trainer's memory of 30 that is 90 dot products, 60 vector updates and 120 fresh vectors of
//! `(n + 1) N` numbers per iteration: at n = 4, N = 65 536 about 70 ms, as much as several
//! loss evaluations (`cargo bench --bench exact_polish`, perf), and a quarter of a polish at
//! n = 8, N = 1024.
//!
//! # Algorithm
//!
//! The same as argmin's, in the same floating-point operations and order except for the sums of
//! the dot products ([`Sums`]; with [`Sums::Sequential`] every iterate is argmin's number,
//! tested against argmin's solver):
//!
//! ```text
//! γ = s_kᵀy_k / y_kᵀy_k  (newest pair; 1 without one)
//! q = ∇f;  for k newest → oldest:  α_k = ρ_k s_kᵀq,  q ← q − α_k y_k     (ρ_k = 1/y_kᵀs_k)
//! r = γ q; for k oldest → newest:  β = ρ_k y_kᵀr,    r ← r + (α_k − β) s_k
//! d = −r;  x_{k+1} from argmin's line search along d;  s = x_{k+1} − x_k,  y = ∇f_{k+1} − ∇f_k
//! ```
//!
//! argmin sums each dot product in index order: a chain of dependent additions that neither
//! vectorises nor splits over cores. At n = 3, N = 65 536 it was half of a polish, and at
//! n = 8, N = 1024 (9216 parameters, memory 30: 61 dot products per iteration) 22 % of the
//! trainer's time by `perf` (the loss itself 36 %). So the trainer's solver ([`Sums::Lanes`],
//! the default) sums in eight interleaved partial sums ([`dot`]), and from [`BLOCKED_FROM`]
//! elements in fixed blocks of [`BLOCK`], the blocks in parallel: another rounding of the same
//! products (its error bound is the sequential sum's or smaller), the same bits on any number
//! of threads, so iterates are deterministic but not argmin's to the last bit.
//!
//! With `ρ_k` computed once when its pair is stored (the same product `y_kᵀs_k` argmin
//! recomputes each time), `q` and `r` updated in place, and the vectors of a dropped pair
//! reused for the next one. The line search is argmin's ([`MoreThuenteLineSearch`] in the
//! trainer), run by argmin's [`Executor`] as argmin's L-BFGS runs it; the stopping tests are
//! argmin's (`‖∇f‖ < tol_grad`, `|f_{k−1} − f_k| < tol_cost`).
//!
//! # Reference
//!
//! Nocedal, J. & Wright, S. J. (2006). *Numerical Optimization*, 2nd ed., Algorithm 7.4
//! (the two-loop recursion). argmin 0.11, `solver/quasinewton/lbfgs.rs`.
//!
//! [`LBFGS`]: argmin::solver::quasinewton::LBFGS
//! [`MoreThuenteLineSearch`]: argmin::solver::linesearch::MoreThuenteLineSearch

use std::collections::VecDeque;

use rayon::prelude::*;

use argmin::core::{
    CostFunction, Error, Executor, Gradient, IterState, LineSearch, OptimizationResult, Problem,
    Solver, State, TerminationReason, TerminationStatus, KV,
};

/// The state type of the solver.
pub type LbfgsState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// L-BFGS with memory `m` and line search `L` (module docs).
#[derive(Clone)]
pub struct Lbfgs<L> {
    linesearch: L,
    m: usize,
    s: VecDeque<Vec<f64>>,
    y: VecDeque<Vec<f64>>,
    /// `1/y_kᵀs_k` of each stored pair.
    rho: VecDeque<f64>,
    /// `y_kᵀs_k` of the newest pair (the numerator of `γ`).
    ys_last: f64,
    tol_grad: f64,
    tol_cost: f64,
    sums: Sums,
}

/// How the solver sums its dot products (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sums {
    /// [`dot`]: eight interleaved partial sums, fixed parallel blocks from [`BLOCKED_FROM`].
    Lanes,
    /// In index order, as argmin-math's `dot` for `Vec<f64>`: argmin's iterates bit for bit.
    Sequential,
}

impl<L> Lbfgs<L> {
    /// A solver keeping the last `m` pairs, with argmin's default tolerances.
    pub fn new(linesearch: L, m: usize) -> Self {
        Lbfgs {
            linesearch,
            m,
            s: VecDeque::with_capacity(m + 1),
            y: VecDeque::with_capacity(m + 1),
            rho: VecDeque::with_capacity(m + 1),
            ys_last: 0.0,
            tol_grad: f64::EPSILON.sqrt(),
            tol_cost: f64::EPSILON,
            sums: Sums::Lanes,
        }
    }

    /// Sums the dot products as `sums` says (default [`Sums::Lanes`]).
    pub fn with_sums(mut self, sums: Sums) -> Self {
        self.sums = sums;
        self
    }

    fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        match self.sums {
            Sums::Lanes => dot(a, b),
            Sums::Sequential => a.iter().zip(b).map(|(x, y)| x * y).sum(),
        }
    }

    /// Stops when `‖∇f‖ <` this.
    pub fn with_tolerance_grad(mut self, tol: f64) -> Self {
        self.tol_grad = tol;
        self
    }

    /// Stops when the cost changes by less than this in one iteration.
    pub fn with_tolerance_cost(mut self, tol: f64) -> Self {
        self.tol_cost = tol;
        self
    }
}

/// Vectors at least this long (the parameters of a large-N model) are reduced in fixed blocks
/// in parallel ([`dot`]) and updated in parallel.
pub const BLOCKED_FROM: usize = 1 << 16;
/// Elements per block of a blocked reduction or update.
pub const BLOCK: usize = 4096;

/// `Σ a_i b_i` in eight interleaved partial sums below [`BLOCKED_FROM`]; from there per block
/// of [`BLOCK`] elements the same way, the blocks in parallel and their sums added in block
/// order (the same bits on any number of threads).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    if a.len() < BLOCKED_FROM {
        return dot_lanes(a, b);
    }
    let parts: Vec<f64> = a
        .par_chunks(BLOCK)
        .zip(b.par_chunks(BLOCK))
        .map(|(x, y)| dot_lanes(x, y))
        .collect();
    parts.iter().sum()
}

/// `Σ a_i b_i` in eight interleaved partial sums (vectorisable), then the tail.
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail
}

/// `x_i ← f(x_i, y_i)` for every `i`, in parallel blocks from [`BLOCKED_FROM`] on (element by
/// element, so the same bits either way).
fn update(x: &mut [f64], y: &[f64], f: impl Fn(&mut f64, f64) + Sync) {
    if x.len() < BLOCKED_FROM {
        x.iter_mut().zip(y).for_each(|(a, &b)| f(a, b));
    } else {
        x.par_chunks_mut(BLOCK)
            .zip(y.par_chunks(BLOCK))
            .for_each(|(xa, ya)| xa.iter_mut().zip(ya).for_each(|(a, &b)| f(a, b)));
    }
}

impl<O, L> Solver<O, LbfgsState> for Lbfgs<L>
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
    L: Clone
        + LineSearch<Vec<f64>, f64>
        + Solver<O, IterState<Vec<f64>, Vec<f64>, (), (), (), f64>>,
{
    fn name(&self) -> &str {
        "L-BFGS (in place)"
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        mut state: LbfgsState,
    ) -> Result<(LbfgsState, Option<KV>), Error> {
        let param = state
            .take_param()
            .ok_or_else(|| Error::msg("L-BFGS needs an initial parameter vector"))?;
        let cost = state.get_cost();
        let cost = if cost.is_infinite() {
            problem.cost(&param)?
        } else {
            cost
        };
        let grad = match state.take_gradient() {
            Some(g) => g,
            None => problem.gradient(&param)?,
        };
        Ok((state.param(param).cost(cost).gradient(grad), None))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: LbfgsState,
    ) -> Result<(LbfgsState, Option<KV>), Error> {
        let param = state
            .take_param()
            .ok_or_else(|| Error::msg("L-BFGS: no parameter vector in the state"))?;
        let cur_cost = state.get_cost();
        let prev_grad = state
            .take_gradient()
            .ok_or_else(|| Error::msg("L-BFGS: no gradient in the state"))?;
        let gamma = match self.y.back() {
            Some(yk) => self.ys_last / self.dot(yk, yk),
            None => 1.0,
        };
        // Two-loop recursion, in place.
        let mut q = prev_grad.clone();
        let cur_m = self.s.len();
        let mut alpha = vec![0.0; cur_m];
        for k in (0..cur_m).rev() {
            let a = self.dot(&self.s[k], &q) * self.rho[k];
            update(&mut q, &self.y[k], |qi, yi| *qi -= yi * a);
            alpha[k] = a;
        }
        q.iter_mut().for_each(|qi| *qi *= gamma);
        let mut r = q;
        for (((sk, yk), rho), a) in self.s.iter().zip(&self.y).zip(&self.rho).zip(&alpha) {
            let beta = self.dot(yk, &r) * rho;
            let c = a - beta;
            update(&mut r, sk, |ri, si| *ri += si * c);
        }
        r.iter_mut().for_each(|ri| *ri *= -1.0);
        self.linesearch.search_direction(r);
        let run = Executor::new(problem.take_problem().unwrap(), self.linesearch.clone())
            .configure(|c| {
                c.param(param.clone())
                    .gradient(prev_grad.clone())
                    .cost(cur_cost)
            })
            .ctrlc(false)
            .run();
        let OptimizationResult {
            problem: mut line_problem,
            state: mut line_state,
            ..
        } = match run {
            Ok(res) => res,
            Err(e) => {
                // The problem went into the failed run and is gone with it: argmin's L-BFGS
                // ends the same way (the executor returns this state, with no further call).
                return Ok((
                    state.terminate_with(TerminationReason::SolverExit(format!(
                        "Line search terminated with: '{e}'"
                    ))),
                    None,
                ));
            }
        };
        let xk1 = line_state.take_param().unwrap();
        let next_cost = line_state.get_cost();
        problem.problem = line_problem.take_problem();
        problem.consume_func_counts(line_problem);
        // Drop the oldest pair beyond the memory, reusing its vectors.
        let (mut sv, mut yv) = if self.s.len() >= self.m {
            self.rho.pop_front();
            (self.s.pop_front().unwrap(), self.y.pop_front().unwrap())
        } else {
            (
                Vec::with_capacity(param.len()),
                Vec::with_capacity(param.len()),
            )
        };
        let grad = problem.gradient(&xk1)?;
        sv.clear();
        sv.extend(xk1.iter().zip(&param).map(|(a, b)| a - b));
        yv.clear();
        yv.extend(grad.iter().zip(&prev_grad).map(|(a, b)| a - b));
        let ys = self.dot(&yv, &sv);
        self.ys_last = ys;
        self.rho.push_back(1.0 / ys);
        self.s.push_back(sv);
        self.y.push_back(yv);
        Ok((state.param(xk1).cost(next_cost).gradient(grad), None))
    }

    fn terminate(&mut self, state: &LbfgsState) -> TerminationStatus {
        let g = state.get_gradient().unwrap();
        if g.iter().map(|a| a.powi(2)).sum::<f64>().sqrt() < self.tol_grad {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        if (state.get_prev_cost() - state.get_cost()).abs() < self.tol_cost {
            return TerminationStatus::Terminated(TerminationReason::SolverConverged);
        }
        TerminationStatus::NotTerminated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argmin::solver::linesearch::MoreThuenteLineSearch;
    use argmin::solver::quasinewton::LBFGS;

    /// The blocked dot product: the same bits on one and two threads, within rounding of the
    /// sequential sum (the bound `γ_N Σ|a_i b_i|`), and the sequential sum below the threshold.
    #[test]
    fn blocked_dot_is_thread_independent_and_close() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let len = BLOCKED_FROM + 12_345;
        let a: Vec<f64> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        let b: Vec<f64> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        let on = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| dot(&a, &b))
        };
        assert_eq!(on(1).to_bits(), on(2).to_bits());
        assert_eq!(on(1).to_bits(), on(3).to_bits());
        let seq: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let abs: f64 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
        assert!((on(2) - seq).abs() <= len as f64 * f64::EPSILON * abs);
        // Below the threshold: eight partial sums over the indices mod 8, added pairwise, then
        // the tail (written out here as index arithmetic), within the sequential sum's bound.
        for len in [1000usize, 1003, 5, 0] {
            let (x, y) = (&a[..len], &b[..len]);
            let body = len - len % 8;
            let mut acc = [0.0f64; 8];
            for i in 0..body {
                acc[i % 8] += x[i] * y[i];
            }
            let tail: f64 = (body..len).map(|i| x[i] * y[i]).sum();
            let lanes = ((acc[0] + acc[1]) + (acc[2] + acc[3]))
                + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
                + tail;
            assert_eq!(dot(x, y).to_bits(), lanes.to_bits(), "len {len}");
            let seq: f64 = x.iter().zip(y).map(|(p, q)| p * q).sum();
            let abs: f64 = x.iter().zip(y).map(|(p, q)| (p * q).abs()).sum();
            assert!((dot(x, y) - seq).abs() <= len as f64 * f64::EPSILON * abs);
        }
    }

    /// The extended Rosenbrock function in `d` dimensions (a standard L-BFGS test).
    struct Rosenbrock;

    impl CostFunction for Rosenbrock {
        type Param = Vec<f64>;
        type Output = f64;
        fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
            Ok(x.windows(2)
                .map(|p| 100.0 * (p[1] - p[0] * p[0]).powi(2) + (1.0 - p[0]).powi(2))
                .sum())
        }
    }

    impl Gradient for Rosenbrock {
        type Param = Vec<f64>;
        type Gradient = Vec<f64>;
        fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
            let mut g = vec![0.0; x.len()];
            for k in 0..x.len() - 1 {
                let t = x[k + 1] - x[k] * x[k];
                g[k] += -400.0 * x[k] * t - 2.0 * (1.0 - x[k]);
                g[k + 1] += 200.0 * t;
            }
            Ok(g)
        }
    }

    fn start(d: usize) -> Vec<f64> {
        (0..d)
            .map(|k| if k % 2 == 0 { -1.2 } else { 1.0 })
            .collect()
    }

    /// Every iterate of argmin's L-BFGS, bit for bit, for several memories and iteration
    /// counts (the memory is exceeded, so dropped pairs are reused), and the minimum (1, …, 1).
    #[test]
    fn same_iterates_as_argmin() {
        for (m, iters) in [(3usize, 7u64), (5, 40), (30, 200)] {
            let solver = Lbfgs::new(MoreThuenteLineSearch::new(), m).with_sums(Sums::Sequential);
            let ours = Executor::new(Rosenbrock, solver)
                .configure(|c| c.param(start(12)).max_iters(iters))
                .run()
                .unwrap();
            let theirs = Executor::new(Rosenbrock, LBFGS::new(MoreThuenteLineSearch::new(), m))
                .configure(|c| c.param(start(12)).max_iters(iters))
                .run()
                .unwrap();
            let (a, b) = (&ours.state, &theirs.state);
            assert_eq!(a.get_iter(), b.get_iter());
            assert_eq!(a.get_cost().to_bits(), b.get_cost().to_bits(), "m = {m}");
            let (pa, pb) = (a.get_param().unwrap(), b.get_param().unwrap());
            assert!(pa.iter().zip(pb).all(|(x, y)| x.to_bits() == y.to_bits()));
            assert_eq!(a.get_func_counts(), b.get_func_counts());
        }
        for sums in [Sums::Sequential, Sums::Lanes] {
            let solver = Lbfgs::new(MoreThuenteLineSearch::new(), 7).with_sums(sums);
            let done = Executor::new(Rosenbrock, solver)
                .configure(|c| c.param(start(12)).max_iters(500))
                .run()
                .unwrap();
            let x = done.state.get_best_param().unwrap();
            assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-6), "{sums:?}: {x:?}");
        }
    }

    /// The trainer's lane sums are another rounding of argmin's: the first iterates agree with
    /// argmin's to rounding (a few ulps of the parameters, before the trajectories part on
    /// Rosenbrock's valley), and the same number of function evaluations.
    #[test]
    fn lane_sums_round_argmins_iterates() {
        for iters in [1u64, 3, 6] {
            let ours = Executor::new(Rosenbrock, Lbfgs::new(MoreThuenteLineSearch::new(), 5))
                .configure(|c| c.param(start(40)).max_iters(iters))
                .run()
                .unwrap();
            let theirs = Executor::new(Rosenbrock, LBFGS::new(MoreThuenteLineSearch::new(), 5))
                .configure(|c| c.param(start(40)).max_iters(iters))
                .run()
                .unwrap();
            let (pa, pb) = (
                ours.state.get_param().unwrap(),
                theirs.state.get_param().unwrap(),
            );
            let worst = pa
                .iter()
                .zip(pb)
                .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
                .fold(0.0, f64::max);
            assert!(worst < 1e-12, "iters {iters}: {worst:e}");
            assert_eq!(ours.state.get_func_counts(), theirs.state.get_func_counts());
        }
    }
}
