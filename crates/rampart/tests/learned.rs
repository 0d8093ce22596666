//! The learned stage from the command line: deterministic training with a
//! manifest, the cross-validated cascade on the dev set (never scoring a
//! line the heads were trained on), the committed heads fitting the
//! installed encoder, and a clear error when the model is missing.
//! Tests that need the encoder skip without it unless
//! RAMPART_REQUIRE_MODELS is set (scripts/test.sh sets it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rampart() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.current_dir(root());
    c
}

fn have_model() -> bool {
    let ok = root()
        .join(rampart_learn::DEFAULT_ENCODER_DIR)
        .join("resources/weights.npz")
        .exists();
    if !ok {
        assert!(
            std::env::var("RAMPART_REQUIRE_MODELS").is_err(),
            "RAMPART_REQUIRE_MODELS is set but the encoder is not installed"
        );
        eprintln!("skipping: run scripts/setup-models.sh first");
    }
    ok
}

/// `rampart train` on the dev set with `extra` as training-only data.
fn train_with(extra: &Path, out: &Path) -> std::process::Output {
    rampart()
        .args(["train", "--data", "../shared/eval/dev_posts.jsonl"])
        .arg("--extra-data")
        .arg(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn train(out: &Path) -> serde_json::Value {
    let o = train_with(Path::new("models/training/handwritten.jsonl"), out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn training_is_deterministic_and_the_cross_validated_cascade_meets_the_bar() {
    if !have_model() {
        return;
    }
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let report = train(a.path());
    train(b.path());
    let ha = std::fs::read_to_string(a.path().join("heads.json")).unwrap();
    assert_eq!(
        ha,
        std::fs::read_to_string(b.path().join("heads.json")).unwrap(),
        "training is not deterministic"
    );

    let heads: serde_json::Value = serde_json::from_str(&ha).unwrap();
    let m = &heads["manifest"];
    let dev = std::fs::read(root().join("../shared/eval/dev_posts.jsonl")).unwrap();
    use sha2::Digest;
    assert_eq!(
        m["training_data"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&dev))
    );
    let extra = &m["training_data"][1];
    assert!(extra["path"]
        .as_str()
        .unwrap()
        .ends_with("handwritten.jsonl"));
    assert_eq!(extra["cross_validated"], false);
    assert_eq!(m["training_data"][0]["cross_validated"], true);
    assert_eq!(m["folds"], 5);
    // Out-of-fold scores exist for every dev post and for no training-only
    // post (those are never scored).
    let oof: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.path().join("out_of_fold.json")).unwrap())
            .unwrap();
    let oof = oof.as_object().unwrap();
    let dev_ids = String::from_utf8_lossy(&dev)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(oof.len(), dev_ids);
    assert!(
        oof.keys().all(|k| k.starts_with("dev-")),
        "{:?}",
        oof.keys()
    );
    assert_eq!(m["encoder_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(m["encoder"], rampart_learn::USEM3_NAME);
    for h in rampart_learn::HEADS {
        assert!(
            heads["heads"][h]["weights"].as_array().unwrap().len() == 512,
            "{h}"
        );
        assert!(
            m["metrics"][h]["auc"].as_f64().unwrap() > 0.85,
            "{h}: {}",
            m["metrics"][h]
        );
    }

    // Out-of-fold scores only: every post scored by heads that never saw it
    // (and by the built-in first stage, which never trains on dev). The
    // dev gate of the shared scorer holds for the shipped cascade.
    let c = &report["cascade_cross_validated"];
    let get = |lang: &str, system: &str, k: &str| c[lang][system][k].as_f64().unwrap();
    assert!(
        get("all", "rules_plus_learned", "harmful_caught") >= 0.95,
        "{c}"
    );
    assert!(
        get("all", "rules_plus_learned", "lawful_fpr") <= 0.03,
        "{c}"
    );
    // Spanish is as good as English within 3 points on both measures.
    for k in ["harmful_caught", "lawful_fpr"] {
        let (en, es) = (
            get("en", "rules_plus_learned", k),
            get("es", "rules_plus_learned", k),
        );
        assert!((en - es).abs() <= 0.03, "{k}: en {en}, es {es}");
    }
}

#[test]
fn the_committed_heads_fit_the_installed_encoder_and_the_cascade_scans() {
    if !have_model() {
        return;
    }
    let o = rampart()
        .args(["scan", "--learned", "--no-progress", "samples/posts.jsonl"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stderr).lines().last().unwrap()).unwrap();
    assert!(summary["learned_scored"].as_u64().unwrap() > 0, "{summary}");
    // With a sample of one in one, every post is scored: the candidates
    // and, as the sample, all the rest.
    let o = rampart()
        .args([
            "scan",
            "--learned",
            "--learned-sample",
            "1",
            "--no-progress",
            "samples/posts.jsonl",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stderr).lines().last().unwrap()).unwrap();
    let n = |k: &str| all[k].as_u64().unwrap();
    let s = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(n("learned_scored"), n("posts"), "{all}");
    // Candidates are the scored posts that were not sampled, plus those a
    // high-confidence rule already decided (not encoded): the same posts
    // whatever the sample rate.
    let candidates = s("learned_scored") - s("learned_sampled") + s("learned_skipped");
    // Every removal and escalation rule of the default policy but the
    // protected exposure reads the learned judgement (a rule finding the
    // judgement reads as lawful is not removed), so no candidate here is
    // decided without the encoder.
    assert_eq!(s("learned_skipped"), 0, "{summary}");
    assert_eq!(n("learned_skipped"), 0, "{all}");
    assert_eq!(n("learned_sampled"), n("posts") - candidates, "{all}");
    assert!(n("learned_sample_flagged") <= n("learned_sampled"), "{all}");
    let verdicts = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("\"verdict\""))
        .count();
    assert_eq!(verdicts as u64, summary["posts"].as_u64().unwrap());
}

fn summary_of(o: &std::process::Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&o.stderr);
    serde_json::from_str(stderr.lines().last().unwrap()).unwrap()
}

#[test]
fn training_only_data_that_repeats_a_scored_post_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dev = std::fs::read_to_string(root().join("../shared/eval/dev_posts.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(dev.lines().nth(40).unwrap()).unwrap();
    let extra = dir.path().join("extra.jsonl");
    let copy = serde_json::json!({"id": "x-1", "text": line["text"], "labels": line["labels"]});
    std::fs::write(&extra, format!("{copy}\n")).unwrap();
    let o = train_with(&extra, dir.path());
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("x-1") && err.contains(line["id"].as_str().unwrap()),
        "{err}"
    );
    assert!(!dir.path().join("heads.json").exists());
}

#[test]
fn a_missing_model_is_refused_naming_the_files_and_the_command() {
    let o = rampart()
        .args([
            "scan",
            "--learned",
            "--encoder",
            "/nonexistent/encoder",
            "samples/posts.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("/nonexistent/encoder/resources/weights.npz")
            && err.contains("/nonexistent/encoder/resources/sp.model"),
        "{err}"
    );
    assert!(err.contains("scripts/setup-models.sh"), "{err}");
    assert!(err.contains("--no-learned"), "{err}");
    // By default a run without the model goes on with the rules alone,
    // and says so, naming the files and the command.
    let o = rampart()
        .args([
            "scan",
            "--encoder",
            "/nonexistent/encoder",
            "--no-progress",
            "samples/posts.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: running the rules alone")
            && err.contains("/nonexistent/encoder/resources/weights.npz")
            && err.contains("scripts/setup-models.sh"),
        "{err}"
    );
    let summary = summary_of(&o);
    assert_eq!(summary["learned_stage"], "off", "{summary}");
    assert_eq!(summary["learned_scored"], 0, "{summary}");
    // --learned and --no-learned contradict each other.
    let o = rampart()
        .args(["scan", "--learned", "--no-learned", "samples/posts.jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_learned_stage_is_on_by_default_and_no_learned_turns_it_off() {
    if !have_model() {
        return;
    }
    // From a subdirectory of the checkout: the default model paths are
    // looked up from the working directory's parents too.
    let on = rampart()
        .current_dir(root().join("crates"))
        .args(["scan", "--no-progress", "../samples/posts.jsonl"])
        .output()
        .unwrap();
    assert!(
        on.status.success(),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    let s_on = summary_of(&on);
    assert_eq!(s_on["learned_stage"], "on", "{s_on}");
    assert!(s_on["learned_scored"].as_u64().unwrap() > 0, "{s_on}");
    assert!(!String::from_utf8_lossy(&on.stderr).contains("warning"));
    let off = rampart()
        .args([
            "scan",
            "--no-learned",
            "--no-progress",
            "samples/posts.jsonl",
        ])
        .output()
        .unwrap();
    assert!(off.status.success());
    let s_off = summary_of(&off);
    assert_eq!(s_off["learned_stage"], "off", "{s_off}");
    assert_eq!(s_off["learned_scored"], 0, "{s_off}");
    assert_eq!(s_on["posts"], s_off["posts"]);
    // The learned stage only moves posts between allow and review: what
    // the rules remove or escalate stays removed or escalated.
    let actions = |o: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["kind"] == "verdict")
            .map(|v| v["action"].as_str().unwrap().to_string())
            .collect()
    };
    for (a_on, a_off) in actions(&on).iter().zip(actions(&off)) {
        if a_off == "remove" || a_off == "escalate" {
            assert_eq!(*a_on, a_off);
        }
    }
}

#[test]
fn serve_runs_the_cascade_and_refuses_to_start_without_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let db = db.to_str().unwrap();
    let o = rampart()
        .args([
            "serve",
            "--db",
            db,
            "--learned",
            "--encoder",
            "/nonexistent/encoder",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("weights.npz") && err.contains("scripts/setup-models.sh"),
        "{err}"
    );
    if !have_model() {
        return;
    }
    let token = common::user_with_token(db, "rev", "reviewer", "a long password 1");
    let encoder = root().join(rampart_learn::DEFAULT_ENCODER_DIR);
    let heads = root().join(rampart_learn::DEFAULT_HEADS);
    let server = common::Server::start_with(
        db,
        common::free_port(),
        &[
            "--learned",
            "--encoder",
            encoder.to_str().unwrap(),
            "--heads",
            heads.to_str().unwrap(),
        ],
    );
    let body = [
        common::post_line(
            "l1",
            "a1",
            "$50,000 to whoever kills Agent Mora. Half upfront.",
        ),
        common::post_line(
            "l2",
            "a2",
            "Pago 2 mil dólares por la dirección del agente Ruiz.",
        ),
        common::post_line("l3", "a3", "Lovely morning at the lake."),
    ]
    .join("\n");
    let r = common::ingest(&server.addr, &token, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let actions: Vec<String> = r
        .body
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(actions.len(), 3);
    assert_ne!(actions[0], "allow");
    assert_ne!(actions[1], "allow");
    assert_eq!(actions[2], "allow");
}

#[test]
fn the_pipelined_cascade_keeps_input_order_across_chunks() {
    if !have_model() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let stream = dir.path().join("stream.jsonl");
    let o = rampart()
        .args(["bench", "--posts", "10000", "--write"])
        .arg(&stream)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A bad line in the middle: reported, and the rest still in order.
    let mut text = std::fs::read_to_string(&stream).unwrap();
    let at = text.match_indices('\n').nth(5000).unwrap().0 + 1;
    text.insert_str(at, "{not json\n");
    std::fs::write(&stream, &text).unwrap();
    let ids_in: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    let o = rampart()
        .args(["scan", "--learned", "--no-progress"])
        .arg(&stream)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let ids_out: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "verdict")
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids_out.len(), 10_000);
    assert!(ids_out == ids_in, "verdicts are not in input order");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("\"line\":5002"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    let scored = summary["learned_scored"].as_u64().unwrap();
    // A subset: the rules' candidates and what the first stage passes
    // (the synthetic stream is heavy in harm and hard negatives).
    assert!((100..7000).contains(&scored), "{summary}");
    assert_eq!(summary["bad_lines"], 1);
}

#[test]
fn explain_shows_the_heads_scores_unless_the_stage_is_off() {
    if !have_model() {
        return;
    }
    let text = "Me muero de risa con este video del perrito";
    let o = rampart().args(["explain", text]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("learned "))
        .unwrap_or_else(|| panic!("no learned line: {out}"));
    // Five heads, each a probability.
    let probs: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(probs.len(), 5, "{line}");
    assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)), "{line}");
    let o = rampart()
        .args(["explain", "--no-learned", text])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("learned "), "{out}");
    assert!(out.contains("action  allow"), "{out}");
}

#[test]
fn the_models_are_found_from_any_working_directory() {
    if !have_model() {
        return;
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(elsewhere.path())
        .args(["scan", "--no-progress"])
        .arg(root().join("samples/posts.jsonl"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("warning"), "{err}");
    let summary: serde_json::Value = serde_json::from_str(err.lines().last().unwrap()).unwrap();
    assert_eq!(summary["learned_stage"], "on", "{summary}");
    assert_eq!(summary["screen_stage"], "on", "{summary}");
}

#[test]
fn explain_decides_as_scan_does_and_names_the_policy_rule() {
    if !have_model() {
        return;
    }
    for text in [
        "$50,000 to whoever kills Judge Harlan Pike. Serious.",
        "Me muero de risa con este video del perrito",
        "journalists covering this trial better start checking under their cars",
    ] {
        let line = serde_json::json!({"id": "p", "author": "a", "created_at": "2026-01-01T00:00:00Z", "text": text});
        let mut child = rampart()
            .args(["scan", "--no-progress", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{line}").unwrap();
        let scanned = child.wait_with_output().unwrap();
        let v: serde_json::Value = serde_json::from_str(
            String::from_utf8_lossy(&scanned.stdout)
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        let rule = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.as_str()?.strip_prefix("policy."))
            .next()
            .unwrap_or("none matched: allow")
            .to_string();
        let o = rampart().args(["explain", text]).output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let want = format!(
            "action  {} (policy rule: {rule})",
            v["action"].as_str().unwrap()
        );
        assert!(out.contains(&want), "{text}: want {want:?} in\n{out}");
        assert!(out.contains("judge   judge_harm "), "{out}");
    }
}
