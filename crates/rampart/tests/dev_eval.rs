//! Detection quality gate on the shared development set, scored by the
//! project's shared scorer (`../shared/eval/score.py`, contract section 6).
//!
//! Thresholds are the scan-core and registry issues' targets.

use std::path::PathBuf;
use std::process::Command;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Scans the dev set with extra arguments and returns the scorer's metrics.
fn score(extra: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let dev = shared().join("eval/dev_posts.jsonl");
    assert!(dev.exists(), "missing {}", dev.display());
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("scan")
        .args(extra)
        .arg(&dev)
        .envs(env.iter().copied())
        .output()
        .expect("run rampart scan");
    assert!(
        out.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pred = std::env::temp_dir().join(format!(
        "rampart-dev-pred-{}-{}.jsonl",
        std::process::id(),
        extra.len()
    ));
    std::fs::write(&pred, &out.stdout).unwrap();
    let scored = Command::new("python3")
        .arg(shared().join("eval/score.py"))
        .arg(&dev)
        .arg(&pred)
        .arg("--json")
        .output()
        .expect("python3 runs the shared scorer");
    std::fs::remove_file(&pred).ok();
    assert!(
        scored.status.success(),
        "{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    let text = String::from_utf8(scored.stdout).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
fn dev_set_meets_quality_thresholds() {
    let m = score(&[], &[]);
    let get = |k: &str| {
        m[k].as_f64()
            .unwrap_or_else(|| panic!("metric {k} missing in {m}"))
    };
    eprintln!("{m}");
    assert_eq!(get("missing_verdicts"), 0.0);
    assert_eq!(
        get("evidence_span_errors"),
        0.0,
        "evidence spans must slice the original text"
    );
    assert!(
        get("harmful_caught") >= 0.95,
        "harmful caught {}",
        get("harmful_caught")
    );
    assert!(
        get("lawful_fpr") <= 0.03,
        "lawful false-positive rate {}",
        get("lawful_fpr")
    );
    assert!(
        get("remove_precision") >= 0.95,
        "remove precision {}",
        get("remove_precision")
    );
    assert!(get("threat_f1") >= 0.85, "threat F1 {}", get("threat_f1"));
    assert!(get("bounty_f1") >= 0.85, "bounty F1 {}", get("bounty_f1"));
    assert!(
        get("doxxing_f1") >= 0.85,
        "doxxing F1 {}",
        get("doxxing_f1")
    );
    assert!(
        get("targeted_surveillance_f1") >= 0.85,
        "surveillance F1 {}",
        get("targeted_surveillance_f1")
    );
    assert!(
        get("tier_accuracy") >= 0.85,
        "tier accuracy {}",
        get("tier_accuracy")
    );
}

#[test]
fn dev_set_protected_leaks_are_found_without_false_matches() {
    let persons = shared().join("eval/protected_persons.json");
    let m = score(
        &["--protected", persons.to_str().unwrap()],
        &[("RAMPART_REGISTRY_KEY", "test-registry-key-0123456789")],
    );
    let get = |k: &str| m[k].as_f64().unwrap();
    assert!(
        get("protected_r") >= 0.95,
        "protected recall {}",
        get("protected_r")
    );
    // Precision 1.0 means no post was matched to a person it does not expose.
    assert_eq!(get("protected_p"), 1.0, "false protected matches: {m}");
    // The registry must not cost detection quality.
    assert!(
        get("harmful_caught") >= 0.95 && get("lawful_fpr") <= 0.03,
        "{m}"
    );
}

/// Best Jaccard of each marked harmful campaign against the reported ones,
/// and how many posts of lawful coordinated clusters landed in a campaign.
fn campaign_scores(scan_stdout: &str) -> (Vec<(String, f64)>, usize) {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let dev = std::fs::read_to_string(shared().join("eval/dev_posts.jsonl")).unwrap();
    let mut gold: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut lawful: BTreeSet<String> = BTreeSet::new();
    for line in dev.lines().filter(|l| !l.trim().is_empty()) {
        let g: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = g["id"].as_str().unwrap().to_string();
        if let Some(c) = g["campaign"].as_str() {
            gold.entry(c.to_string()).or_default().insert(id.clone());
        }
        if g["campaign_lawful"].is_string() {
            lawful.insert(id);
        }
    }
    // Later records of a campaign supersede earlier ones.
    let mut reported: HashMap<String, BTreeSet<String>> = HashMap::new();
    for line in scan_stdout.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        if r["kind"] == "campaign" {
            let members = r["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_string())
                .collect();
            reported.insert(r["id"].as_str().unwrap().to_string(), members);
        }
    }
    let scores = gold
        .iter()
        .map(|(c, members)| {
            let best = reported
                .values()
                .map(|p| members.intersection(p).count() as f64 / members.union(p).count() as f64)
                .fold(0.0, f64::max);
            (c.clone(), best)
        })
        .collect();
    let in_campaigns: BTreeSet<&String> = reported.values().flatten().collect();
    (
        scores,
        lawful.iter().filter(|id| in_campaigns.contains(id)).count(),
    )
}

#[test]
fn dev_set_campaigns_are_found_and_lawful_clusters_stay_out() {
    let dev = shared().join("eval/dev_posts.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("scan")
        .arg(&dev)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (scores, lawful_in) = campaign_scores(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(scores.len(), 8);
    for (c, j) in &scores {
        assert!(*j >= 0.85, "campaign {c}: best Jaccard {j:.3} ({scores:?})");
    }
    assert_eq!(
        lawful_in, 0,
        "posts of lawful coordinated clusters reported in a campaign"
    );
}

/// Final state of every campaign in scan output: id → sorted members.
fn final_campaigns(outputs: &[&str]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    for stdout in outputs {
        for line in stdout.lines() {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            if r["kind"] == "campaign" {
                let mut m: Vec<String> = r["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect();
                m.sort();
                out.insert(r["id"].as_str().unwrap().to_string(), m);
            }
        }
    }
    out
}

#[test]
fn checkpoint_restore_continue_gives_the_same_campaigns() {
    let dev = std::fs::read_to_string(shared().join("eval/dev_posts.jsonl")).unwrap();
    let lines: Vec<&str> = dev.lines().collect();
    let dir = tempfile::tempdir().unwrap();
    // Cut in the middle of a campaign's life, not between campaigns.
    let cut = lines
        .iter()
        .position(|l| l.contains("\"dev-0230\""))
        .unwrap();
    let (first, second) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::write(&first, lines[..cut].join("\n") + "\n").unwrap();
    std::fs::write(&second, lines[cut..].join("\n") + "\n").unwrap();
    let ckpt = dir.path().join("campaigns.ckpt");
    let bin = env!("CARGO_BIN_EXE_rampart");

    let whole = Command::new(bin)
        .arg("scan")
        .arg(shared().join("eval/dev_posts.jsonl"))
        .output()
        .unwrap();
    let a = Command::new(bin)
        .args(["scan", "--checkpoint-out"])
        .arg(&ckpt)
        .arg(&first)
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let b = Command::new(bin)
        .args(["scan", "--checkpoint-in"])
        .arg(&ckpt)
        .arg(&second)
        .output()
        .unwrap();
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));

    let expected = final_campaigns(&[&String::from_utf8_lossy(&whole.stdout)]);
    let resumed = final_campaigns(&[
        &String::from_utf8_lossy(&a.stdout),
        &String::from_utf8_lossy(&b.stdout),
    ]);
    assert_eq!(expected.len(), 8);
    assert_eq!(resumed, expected);
}
