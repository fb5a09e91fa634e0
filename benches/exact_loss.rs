//! One exact loss + gradient evaluation on one core.
//!
//! Run: `cargo bench --bench exact_loss [-- FILTER]`. Every case is one model through up to four
//! paths: `dense` (the reference pair loop `exact::dense`, where affordable), `tiled` (the GEMM
//! tiles of `tiled::eval`, up to N = 8192), `list`
//! (`neighbours::eval_cached` on a valid neighbour list: the validity test and one evaluation, the stored
//! result of the last point dropped first, as in an L-BFGS run between rebuilds) and `rebuilt`
//! (the list built anew at the first skin, then one evaluation: the cost of a rebuild). `list`
//! and `rebuilt` call the list path `neighbours::eval_cached` directly, whichever path
//! `exact::eval` dispatches to at that size (`exact::uses_list`).
//!
//! With `BENCH_CPU_TIME=1` the figures are the process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`)
//! instead of wall time: on a shared machine the wall time of a niced bench grows with the load,
//! the CPU time much less (`BENCH_CPU_TIME=1 nice -n 15 cargo bench --bench exact_loss -- FILTER`).
//!
//! Cases:
//! * n = 8, N = 1024 (issue 8's target ≤ 0.5 ms at a trained model): a random model (weights in
//!   ±0.5, biases in [−0.5, 0]: many active pairs), the structured start
//!   (`train::spread_start`) and a trained model (that start after 2000 L-BFGS iterations).
//! * n = 4, N = 65,536: the large-N trainer's structured start (`large::directions`/`start`).
//! * n = 32, 64, 128 at N = 1024, 4096, 8192 (issue 13): random unit directions with the
//!   symmetric theory's slope and bias at an intercept below the typical nearest neighbour
//!   (`c = cos(1.3 θ̃)`, θ̃ the median nearest angle), as `train::spread_start_below` builds from
//!   spread directions (whose `O(150 N² n)` repulsion is too slow to set up at these sizes; in
//!   32 dimensions and more random directions are nearly as spread). `dense` only at N = 1024.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::Criterion;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use superpose::toy::{exact, large, neighbours, tiled, train, Loss, Model};

mod common;
use common::random_start;

fn grad_buffers(m: &Model) -> (Vec<f64>, Vec<f64>) {
    (vec![0.0; m.n() * m.features()], vec![0.0; m.features()])
}

/// `dense` (when `dense` is set), `tiled` (when `tiled` is set), `list` and `rebuilt` of one
/// model.
fn bench_model<M: Measurement + 'static>(
    c: &mut Criterion<M>,
    label: &str,
    m: &Model,
    dense: bool,
    tiled: bool,
) {
    let (n, w, b) = (m.n(), m.w.as_slice(), m.b.as_slice());
    let (mut gw, mut gb) = grad_buffers(m);
    let mut run = |name: &str, f: &dyn Fn(&mut [f64], &mut [f64]) -> f64| {
        c.bench_function(&format!("{name} {label}"), |bch| {
            bch.iter(|| f(&mut gw, &mut gb))
        });
    };
    if dense {
        run("dense", &|gw, gb| {
            exact::dense(n, std::hint::black_box(w), b, &Loss::L2, Some((gw, gb)))
        });
    }
    if tiled {
        run("tiled", &|gw, gb| {
            tiled::eval(n, std::hint::black_box(w), b, &Loss::L2, Some((gw, gb)))
        });
    }
    neighbours::clear_cache();
    run("list", &|gw, gb| {
        // The list stays; the stored result of the last point is dropped.
        neighbours::forget_point();
        neighbours::eval_cached(n, std::hint::black_box(w), b, &Loss::L2, Some((gw, gb)))
    });
    if let Some((skin, entries)) = neighbours::current() {
        println!(
            "{label}: skin {skin}, {:.1} list entries per feature",
            entries as f64 / m.features() as f64
        );
    }
    run("rebuilt", &|gw, gb| {
        neighbours::clear_cache();
        neighbours::eval_cached(n, std::hint::black_box(w), b, &Loss::L2, Some((gw, gb)))
    });
}

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let (n, nf) = (8, 1024);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let w = DMatrix::from_fn(n, nf, |_, _| rng.random_range(-0.5..0.5));
    let b = DVector::from_fn(nf, |_, _| -rng.random_range(0.0..0.5));
    let random = Model::new(w, b).unwrap();
    let spread = train::spread_start(n, nf, 1, &mut ChaCha8Rng::seed_from_u64(2));
    let (trained, ..) = train::polish(&spread, &Loss::L2, 2000).unwrap();
    for (name, m) in [
        ("random", &random),
        ("spread", &spread),
        ("trained", &trained),
    ] {
        bench_model(c, &format!("n=8 N=1024 {name}"), m, true, true);
    }
    let units = large::directions(4, 65536, &mut ChaCha8Rng::seed_from_u64(3));
    bench_model(
        c,
        "n=4 N=65536 start",
        &large::start(4, &units),
        false,
        false,
    );
    for n in [32, 64, 128] {
        for nf in [1024, 4096, 8192] {
            let m = random_start(n, nf, 1.3, 5);
            bench_model(c, &format!("n={n} N={nf} start"), &m, nf == 1024, true);
        }
    }
}

/// The process's CPU time (all threads), as a criterion measurement.
struct CpuTime(WallTime);

fn cpu_now() -> std::time::Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

impl Measurement for CpuTime {
    type Intermediate = std::time::Duration;
    type Value = std::time::Duration;
    fn start(&self) -> Self::Intermediate {
        cpu_now()
    }
    fn end(&self, i: Self::Intermediate) -> Self::Value {
        cpu_now().saturating_sub(i)
    }
    fn add(&self, a: &Self::Value, b: &Self::Value) -> Self::Value {
        *a + *b
    }
    fn zero(&self) -> Self::Value {
        std::time::Duration::ZERO
    }
    fn to_f64(&self, v: &Self::Value) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // The same units as wall time.
        self.0.formatter()
    }
}

fn config<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.sample_size(10)
        .measurement_time(std::time::Duration::from_secs(2))
        .configure_from_args()
}

/// One core: the global pool has one thread, this one (`use_current_thread`), so that the
/// parallel loops of an evaluation run inline, as they do in the trainer (whose polishes run
/// on the pool's workers). With a pool thread beside the calling one, each of an evaluation's
/// three parallel loops handed a job to that thread and waited for it (`BENCH_OUTSIDE_POOL=1`
/// measures that way: the same numbers, at that cost).
fn main() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1);
    let pool = if std::env::var_os("BENCH_OUTSIDE_POOL").is_some_and(|v| v == "1") {
        pool
    } else {
        pool.use_current_thread()
    };
    let _ = pool.build_global();
    if std::env::var_os("BENCH_CPU_TIME").is_some_and(|v| v == "1") {
        let mut c = config(Criterion::default().with_measurement(CpuTime(WallTime)));
        bench(&mut c);
        c.final_summary();
    } else {
        let mut c = config(Criterion::default());
        bench(&mut c);
        c.final_summary();
    }
}
