//! Behaviour on hand-written posts independent of the shared dev set
//! (`tests/data/behaviour.tsv`): harmful posts are caught with the expected
//! categories, lawful ones are allowed.
//!
//! They run in the default configuration: both learned stages when the
//! encoder is installed (required when RAMPART_REQUIRE_MODELS is set, as
//! scripts/test.sh does), otherwise the rules alone. The first stage is
//! never judged without the heads here: alone it is overconfident on
//! short lawful posts that name an official.

use rampart::Scanner;
use rampart_decide::{Action, Policy};
use rampart_ingest::Post;

#[test]
fn hand_written_cases_behave() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let encoder = root.join(rampart_learn::DEFAULT_ENCODER_DIR);
    let scanner = Scanner::new(Policy::default_policy()).unwrap();
    let scanner =
        match rampart_learn::Learned::load(&encoder, &root.join(rampart_learn::DEFAULT_HEADS)) {
            Ok(learned) => scanner.with_learned(learned, 0),
            Err(rampart_learn::LearnError::MissingModel { .. }) => {
                assert!(
                    std::env::var("RAMPART_REQUIRE_MODELS").is_err(),
                    "RAMPART_REQUIRE_MODELS is set but the encoder is not installed"
                );
                scanner.with_screen(None)
            }
            Err(e) => panic!("learned stage: {e}"),
        };
    let data = include_str!("data/behaviour.tsv");
    let mut failures = Vec::new();
    let mut n = 0;
    let mut known = 0;
    for (i, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, '\t');
        let (want, cats, text) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let post: Post = serde_json::from_value(serde_json::json!({
            "id": format!("b{i}"), "author": "a", "created_at": "2025-10-14T00:00:00Z", "text": text
        }))
        .unwrap();
        let v = scanner.verdict(&post);
        n += 1;
        let caught = v.action != Action::Allow;
        let got: Vec<&str> = v.labels.iter().map(|l| l.category.as_str()).collect();
        let ok = match want {
            "caught" => caught && cats.split(',').all(|c| got.contains(&c)),
            "allow" => !caught,
            // Lawful in the end, but the rules alone may ask a reviewer.
            "not-removed" => matches!(v.action, Action::Allow | Action::Review),
            // Lawful, and should be allowed, but the learned judgement is
            // known to send it to review (README, "known false flags"):
            // never removed; listed so that nobody mistakes it for fixed.
            "allow~" => {
                known += 1;
                if caught {
                    eprintln!("known false flag, {}: {text}", v.action.as_str());
                }
                matches!(v.action, Action::Allow | Action::Review)
            }
            other => panic!("bad expectation {other}"),
        };
        if !ok {
            failures.push(format!(
                "line {}: want {want} {cats}, got {} {got:?}: {text}",
                i + 1,
                v.action.as_str()
            ));
        }
    }
    assert!(n >= 20);
    assert!(
        known <= 5,
        "{known} known false flags: fix some before adding more"
    );
    assert!(
        failures.is_empty(),
        "{} of {n} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
