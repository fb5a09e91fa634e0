//! The markdown report: verdicts with their criteria beside the numbers, "Beyond the note",
//! extra sections (other studies), and the figure list.

use serde_json::Value;

use super::claims::{Claim, Outcome};

/// Everything in the report's section "Beyond the note", as plain numbers.
#[derive(Debug, Clone, Default)]
pub struct Beyond {
    /// Transitions in both conventions per n: `(n, consistent, note)`.
    pub transitions: Vec<(usize, Option<u64>, Option<u64>)>,
    /// Intercept at the largest n (8 in the note): `(N, trained median, cos θ_min median,
    /// finite-neighbour optimum)`.
    pub intercept: Vec<(usize, f64, f64, Option<f64>)>,
    /// The n of `intercept`.
    pub intercept_n: usize,
    /// Degeneracy optimality, one row per degenerate trained model.
    pub degeneracy: Vec<DegeneracyRow>,
    /// The symmetric estimate beside every trained model of n ≥ 3.
    pub symmetric: Vec<SymmetricRow>,
}

/// One row of the "is degeneracy optimal" table.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct DegeneracyRow {
    /// n.
    pub n: usize,
    /// N.
    pub features: usize,
    /// Trained gain.
    pub trained_gain: f64,
    /// Trained mean multiplicity.
    pub trained_multiplicity: f64,
    /// Finite-neighbour symmetric optimum gain (an estimate at the law's θ).
    pub symmetric_gain: Option<f64>,
    /// … its multiplicity.
    pub symmetric_multiplicity: Option<usize>,
    /// Best non-degenerate (m = 1) symmetric gain.
    pub symmetric_m1_gain: Option<f64>,
    /// Gain of the model polished from the non-degenerate structured start alone (the
    /// trainer's `spread` start at N), if measured in this run.
    pub structured_gain: Option<f64>,
}

/// Trained gain beside the symmetric estimate at the law's θ and at the trained θ.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SymmetricRow {
    /// n.
    pub n: usize,
    /// N.
    pub features: usize,
    /// Trained gain.
    pub trained_gain: f64,
    /// Trained / symmetric estimate at the law's θ.
    pub ratio_law_theta: Option<f64>,
    /// Trained / symmetric model at the trained θ_min.
    pub ratio_trained_theta: Option<f64>,
}

/// An extra section of the report (another study's results): markdown that starts with a
/// `## …` heading, and the figures it shows, as paths relative to the report's folder
/// (e.g. `figures/large_n.png`). Appended after "Beyond the note", in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// The section's markdown.
    pub markdown: String,
    /// Figure files it shows, relative to the report's folder.
    pub figures: Vec<String>,
}

fn fmt(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Number(x) => x.to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) if a.is_empty() => "none".into(),
        Value::Array(a) => a.iter().map(fmt).collect::<Vec<_>>().join(", "),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", fmt(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn opt(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.4}"),
        _ => "—".into(),
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The verdict table (also the README's): `| # | claim | verdict | criteria passed |`.
pub fn verdict_table(claims: &[Claim]) -> String {
    let mut s = String::from("| # | claim | verdict | criteria passed |\n|---|---|---|---|\n");
    for c in claims {
        let (p, t, all) = c.counts();
        let untested = if t < all {
            format!(" ({} untested)", all - t)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "| {} | {} | **{}** | {p} of {t}{untested} |\n",
            c.id,
            cell(&c.claim),
            c.verdict.as_str()
        ));
    }
    s
}

/// Renders the report as Markdown. `header` is prepended (what was run, how long); `sections`
/// are appended after "Beyond the note"; `figures` are the names of the figures drawn into
/// `figures/`.
pub fn markdown(
    header: &str,
    claims: &[Claim],
    beyond: &Beyond,
    figures: &[&str],
    sections: &[Section],
) -> String {
    let mut s = String::new();
    s.push_str("# superpose — reproduction report\n\n");
    s.push_str(header);
    s.push_str("\n\n## Verdicts\n\n");
    s.push_str(
        "Each claim is split into criteria. Each criterion states its threshold and what the \
         threshold rests on: a **significance test** (trend claims are tested as trends: the \
         sign of a Spearman rank correlation with N within each n, with its permutation \
         p-value; a bias by the sign test; both at 0.05), a **measured spread** (the models' \
         own scatter), or a **stated reason**. A criterion the data cannot decide is \
         **untested**, never a failure. Over the tested criteria a claim **holds** if all \
         pass, **does not hold** if none does, and **differs** otherwise; it is **untested** \
         if none could be tested. Every number below is computed from this run's models and \
         the theory; none is typed in.\n\n",
    );
    s.push_str(&verdict_table(claims));
    s.push_str("\n## Claims in detail\n\n");
    for c in claims {
        s.push_str(&format!("### {}. {}\n\n", c.id, c.claim));
        s.push_str(&format!("**Verdict: {}.**\n\n", c.verdict.as_str()));
        s.push_str("| | criterion | measured | outcome | basis of the threshold |\n|---|---|---|---|---|\n");
        for (k, cr) in c.criteria.iter().enumerate() {
            s.push_str(&format!(
                "| ({}) | {} | {} | **{}** | {} |\n",
                (b'a' + (k % 26) as u8) as char,
                cell(&cr.test),
                cell(&cr.measured),
                match cr.outcome {
                    Outcome::Pass => "pass",
                    Outcome::Fail => "fail",
                    Outcome::Untested => "untested",
                },
                cell(&cr.basis)
            ));
        }
        if !c.measured.is_empty() {
            s.push_str("\nAlso measured:\n\n");
        }
        for (k, v) in &c.measured {
            match v {
                Value::Array(a) if a.iter().all(|x| x.is_object()) && !a.is_empty() => {
                    s.push_str(&format!("- `{k}`:\n"));
                    for x in a {
                        s.push_str(&format!("  - {}\n", fmt(x)));
                    }
                }
                _ => s.push_str(&format!("- `{k}`: {}\n", fmt(v))),
            }
        }
        s.push('\n');
    }
    s.push_str("## Beyond the note\n\n");
    s.push_str("### The n_deg convention mix-up\n\n");
    s.push_str(
        "The note's loss uses `n_deg + 1` where its θ law uses `n_deg` as the multiplicity. \
         Predicted transition (first N at which m ≥ 2 beats m = 1), closed form, L2:\n\n",
    );
    s.push_str("| n | consistent (m everywhere) | note's mixture |\n|---|---|---|\n");
    for (n, a, b) in &beyond.transitions {
        let f = |x: &Option<u64>| x.map_or("none".to_string(), |v| v.to_string());
        s.push_str(&format!("| {n} | {} | {} |\n", f(a), f(b)));
    }
    s.push_str(&format!(
        "\n### The finite-neighbour intercept (n = {})\n\n",
        beyond.intercept_n
    ));
    s.push_str(&format!(
        "Trained median intercept against cos θ_min (trained median) and the intercept of the \
         finite-neighbour symmetric estimate (`symmetric::optimize` at the law's θ, K = kissing \
         number in d = {}):\n\n",
        beyond.intercept_n.saturating_sub(1)
    ));
    s.push_str(
        "| N | trained intercept | cos θ_min | finite-neighbour estimate |\n|---|---|---|---|\n",
    );
    for (nf, t, c, f) in &beyond.intercept {
        s.push_str(&format!(
            "| {nf} | {} | {} | {} |\n",
            opt(Some(*t)),
            opt(Some(*c)),
            opt(*f)
        ));
    }
    s.push_str("\n### The symmetric estimate: the law's θ or the symmetric assumption?\n\n");
    s.push_str(
        "The finite-neighbour symmetric optimum is an **estimate**: the symmetric model at the \
         law's θ, which can exceed every real model. Beside it, the same symmetric model at the \
         trained median θ_min (E = trained embedded, m = the trained mean multiplicity rounded). \
         Where the trained gain meets the second but not the first, the gap is the law's θ; \
         where it misses both, it is the symmetric assumption (n ≥ 3):\n\n",
    );
    s.push_str("| n | N | trained gain | trained / estimate at law's θ | trained / symmetric at trained θ |\n|---|---|---|---|---|\n");
    for r in &beyond.symmetric {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.n,
            r.features,
            opt(Some(r.trained_gain)),
            opt(r.ratio_law_theta),
            opt(r.ratio_trained_theta)
        ));
    }
    s.push_str("\n### Is degeneracy optimal?\n\n");
    s.push_str(
        "Trained gain against the best symmetric configuration (finite neighbours, any m; an \
         estimate at the law's θ), the best non-degenerate one (m = 1), and the model trained \
         from the non-degenerate structured start alone (\"—\" when the model was read back \
         from an earlier run), for the degenerate trained models (mean multiplicity > 1.1):\n\n",
    );
    s.push_str("| n | N | trained gain | trained m̄ | symmetric estimate | its m | best m = 1 | structured start |\n|---|---|---|---|---|---|---|---|\n");
    for r in &beyond.degeneracy {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.n,
            r.features,
            opt(Some(r.trained_gain)),
            opt(Some(r.trained_multiplicity)),
            opt(r.symmetric_gain),
            r.symmetric_multiplicity
                .map_or("—".into(), |m| m.to_string()),
            opt(r.symmetric_m1_gain),
            opt(r.structured_gain)
        ));
    }
    for sec in sections {
        s.push('\n');
        s.push_str(sec.markdown.trim_end());
        s.push('\n');
        for f in &sec.figures {
            s.push_str(&format!("\n![{f}]({f})\n"));
        }
    }
    if !figures.is_empty() {
        s.push_str("\n## Figures\n\n");
        for f in figures {
            s.push_str(&format!("- [{f}](figures/{f}.png)\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::claims::{assess, Evidence};

    #[test]
    fn markdown_lists_every_claim_its_criteria_and_the_extra_sections() {
        let c = assess(&Evidence::default());
        let extra = Section {
            markdown: "## Large N\n\nNumbers.".into(),
            figures: vec!["figures/large_n.png".into()],
        };
        let md = markdown("header", &c, &Beyond::default(), &["theta_min"], &[extra]);
        for k in 1..=10 {
            assert!(md.contains(&format!("### {k}. ")), "claim {k}");
        }
        assert!(md.contains("figures/theta_min.png"));
        assert!(
            md.contains("## Large N\n\nNumbers.\n\n![figures/large_n.png](figures/large_n.png)")
        );
        // With no models every claim is untested, and says so.
        assert!(md.contains("**untested**") && !md.contains("**fail**"));
        assert!(md.contains("basis of the threshold") && !md.contains("NaN"));
        let t = verdict_table(&c);
        assert_eq!(t.lines().count(), 12);
    }
}
