//! Generalisation gates: the corpus's blind split (never trained on, never
//! tuned to) and the real everyday stream (`../shared/eval/everyday/`).
//!
//! These floors are what the learned judgement reaches today (README,
//! "Detection quality"), set a little below so that noise does not fail
//! them; they catch a regression. The targets of the detection issue
//! (blind harmful caught >= 0.95, lawful FPR <= 0.03; everyday threats
//! flagged >= 0.60) are not met yet and are not asserted here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Scans a file; returns post id -> action.
fn actions(path: &PathBuf) -> BTreeMap<String, String> {
    assert!(path.exists(), "missing {}", path.display());
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(root())
        .arg("scan")
        .arg(path)
        .output()
        .expect("run rampart scan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "verdict")
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn jsonl(path: &PathBuf) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn blind_split_holds_its_floor_in_both_languages() {
    let blind = root().join("models/training/blind.jsonl");
    let act = actions(&blind);
    let gold = jsonl(&blind);
    let mut report = String::new();
    for lang in ["all", "en", "es"] {
        let posts: Vec<&serde_json::Value> = gold
            .iter()
            .filter(|g| lang == "all" || g["lang"] == lang)
            .collect();
        let flagged = |g: &&serde_json::Value| act[g["id"].as_str().unwrap()] != "allow";
        let harmful: Vec<_> = posts
            .iter()
            .filter(|g| g["expected_action"] == "remove")
            .collect();
        let lawful: Vec<_> = posts
            .iter()
            .filter(|g| g["expected_action"] == "allow")
            .collect();
        let caught = harmful.iter().filter(|g| flagged(g)).count() as f64 / harmful.len() as f64;
        let fpr = lawful.iter().filter(|g| flagged(g)).count() as f64 / lawful.len() as f64;
        report += &format!("{lang}: caught {caught:.3} fpr {fpr:.3}; ");
        // Measured 2026-12-02 (2,320 posts, three batches of writers):
        // all 0.857 / 0.048, en 0.816 / 0.026, es 0.903 / 0.077.
        let (min_caught, max_fpr) = match lang {
            "en" => (0.80, 0.045),
            "es" => (0.88, 0.095),
            _ => (0.84, 0.065),
        };
        assert!(
            caught >= min_caught && fpr <= max_fpr,
            "blind split: {report}"
        );
    }
    eprintln!("blind split: {report}");
}

#[test]
fn everyday_stream_flags_few_posts() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval/everyday");
    let act = actions(&dir.join("everyday_en.jsonl"));
    let threats: Vec<String> = jsonl(&dir.join("everyday_en_labels.jsonl"))
        .into_iter()
        .filter(|v| v["edos_category"].as_str().unwrap_or("").starts_with("1."))
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    let n = act.len() as f64;
    let flagged = act.values().filter(|a| *a != "allow").count() as f64 / n;
    let removed = act
        .values()
        .filter(|a| *a == "remove" || *a == "escalate")
        .count() as f64
        / n;
    let threat_flagged =
        threats.iter().filter(|id| act[*id] != "allow").count() as f64 / threats.len() as f64;
    let report =
        format!("flagged {flagged:.4}, removed {removed:.4}, threats flagged {threat_flagged:.3}");
    eprintln!("everyday: {report}");
    assert_eq!(act.len(), 14_000);
    assert!(flagged <= 0.02 && removed <= 0.005, "{report}");
    // Regression floor only: the 0.60 is not reached (README).
    assert!(threat_flagged >= 0.10, "{report}");

    // The flagged posts were labelled by hand (ids and labels only,
    // `scripts/everyday-flags.py`). A model or policy change that flags
    // posts nobody labelled makes the audit stale: relabel.
    let audit: BTreeMap<String, String> =
        jsonl(&root().join("models/training/everyday_flag_audit.jsonl"))
            .into_iter()
            .map(|v| {
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["label"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    assert!(audit
        .values()
        .all(|l| ["harmful", "worth_review", "lawful"].contains(&l.as_str())));
    let flagged_ids: Vec<&String> = act
        .iter()
        .filter(|(_, a)| *a != "allow")
        .map(|(id, _)| id)
        .collect();
    let labelled: Vec<&String> = flagged_ids
        .iter()
        .copied()
        .filter(|id| audit.contains_key(*id))
        .collect();
    assert!(
        labelled.len() as f64 >= 0.9 * flagged_ids.len() as f64,
        "the flag audit is stale: {} of {} flagged posts labelled",
        labelled.len(),
        flagged_ids.len()
    );
    let worth = labelled.iter().filter(|id| audit[**id] != "lawful").count();
    let precision = worth as f64 / labelled.len() as f64;
    eprintln!("everyday flags: {worth} of {} labelled flagged posts harmful or worth a look ({precision:.3})", labelled.len());
    // Floor: 0.558 on 2026-12-02; the 0.60 is not reached.
    assert!(precision >= 0.5, "flag precision {precision:.3}");
}
