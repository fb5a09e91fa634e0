//! The README's verdict table is generated from `docs/claims.json`, so the two cannot drift.
//!
//! After `superpose reproduce --out docs`, regenerate the table with
//! `UPDATE_VERDICTS=1 cargo test --release --test verdicts`.

use serde_json::Value;

const MARK: &str = "<!-- verdicts: generated from docs/claims.json";

/// The table rows from `claims.json`: `| id | claim | **verdict** (p of t criteria) |`.
fn rows(claims: &Value) -> String {
    let mut s = String::new();
    for c in claims.as_array().expect("claims.json is an array") {
        // New format: `criteria: [{outcome}]`; old: `measured.criteria_passed: [bool]`.
        let (pass, tested, all) = match c["criteria"].as_array() {
            Some(cr) => (
                cr.iter().filter(|x| x["outcome"] == "pass").count(),
                cr.iter().filter(|x| x["outcome"] != "untested").count(),
                cr.len(),
            ),
            None => {
                let p = c["measured"]["criteria_passed"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let k = p.iter().filter(|x| x.as_bool() == Some(true)).count();
                (k, p.len(), p.len())
            }
        };
        let untested = if tested < all {
            format!(", {} untested", all - tested)
        } else {
            String::new()
        };
        let claim = c["claim"].as_str().unwrap_or("").trim_end_matches('.');
        s.push_str(&format!(
            "| {} | {} | **{}** ({pass} of {tested} criteria{untested}) |\n",
            c["id"],
            claim.replace('|', "\\|"),
            c["verdict"].as_str().unwrap_or("?")
        ));
    }
    s
}

#[test]
fn readme_verdict_table_matches_docs_claims() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let claims: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("docs/claims.json")).unwrap())
            .unwrap();
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let start = readme
        .find(MARK)
        .expect("README has the verdict table marker");
    let header_end = readme[start..]
        .match_indices('\n')
        .nth(2)
        .map(|(i, _)| start + i + 1)
        .expect("marker, header and rule lines");
    let body_end = readme[header_end..]
        .find("\n\n")
        .map_or(readme.len(), |i| header_end + i + 1);
    let want = rows(&claims);
    if std::env::var_os("UPDATE_VERDICTS").is_some() {
        let new = format!("{}{}{}", &readme[..header_end], want, &readme[body_end..]);
        std::fs::write(&readme_path, new).unwrap();
        return;
    }
    assert_eq!(
        &readme[header_end..body_end],
        want,
        "README's verdict table differs from docs/claims.json; regenerate with \
         UPDATE_VERDICTS=1 cargo test --release --test verdicts"
    );
    // Every claim has a verdict of the four words.
    for c in claims.as_array().unwrap() {
        let v = c["verdict"].as_str().unwrap();
        assert!(
            ["holds", "differs", "does not hold", "untested"].contains(&v),
            "{v}"
        );
    }
}
