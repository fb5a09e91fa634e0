//! Summarises a large-N sweep (issue 8, part 5) into `OUT/summary.json` (the
//! `toy::large::study::LargeNStudy` rows), `OUT/large_n.png` (the figure) and `OUT/large_n.md`
//! (the report section).
//!
//! Run: `cargo run --release --example large_n_study -- SWEEP_DIR[,SWEEP_DIR…] OUT_DIR "SWEEP
//! COMMANDS"` (several sweep folders are read together, e.g. one for the smaller N with the
//! default settings and one for the large N with a bounded L-BFGS budget; a model found in
//! several folders is read from the first).

use std::path::Path;

use superpose::plot::{save, LargeNFig};
use superpose::toy::large::study::{from_records, markdown_section};
use superpose::toy::sweep;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: large_n_study SWEEP_DIR OUT_DIR \"SWEEP COMMAND\"");
        std::process::exit(2);
    }
    let run = || -> superpose::error::Result<()> {
        // A model (n, N) in more than one folder is taken from the first folder named (e.g. the
        // default budget's before a bounded one's).
        let mut recs: Vec<sweep::SweepRecord> = Vec::new();
        for dir in args[1].split(',') {
            for r in sweep::load(Path::new(dir))? {
                let key = (r.report.n, r.report.features);
                if recs.iter().any(|x| (x.report.n, x.report.features) == key) {
                    eprintln!(
                        "{dir}: n = {}, N = {} already read from an earlier folder",
                        key.0, key.1
                    );
                } else {
                    recs.push(r);
                }
            }
        }
        let study = from_records(&recs, &args[3])?;
        let out = Path::new(&args[2]);
        let mut json = serde_json::to_vec_pretty(&study)
            .map_err(|e| superpose::error::Error::Numerical(e.to_string()))?;
        json.push(b'\n');
        sweep::write_atomic(&out.join("summary.json"), &json)?;
        save(&LargeNFig { study: &study }, &out.join("large_n.png"))?;
        let md = markdown_section(&study);
        sweep::write_atomic(&out.join("large_n.md"), md.as_bytes())?;
        print!("{md}");
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
