//! End-to-end tests of the `rampart` binary: formats, bad input, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn rampart(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rampart");
    let mut sin = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn post(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "author": "a1", "created_at": "2025-10-14T00:00:17Z", "text": text}).to_string()
}

fn verdicts(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_valid_line_gets_a_verdict_in_order_despite_bad_lines() {
    let mut input = Vec::new();
    input.extend_from_slice(
        post("p1", "$50,000 to whoever kills Agent Mora. Half upfront.").as_bytes(),
    );
    input.extend_from_slice(b"\nthis is not json\n");
    input.extend_from_slice(br#"{"id":"p2","text":"no author"}"#);
    input.extend_from_slice(b"\n\n   \n");
    input.extend_from_slice(b"{\"id\":\"p3\",\"author\":\"a\",\"created_at\":\"2025-10-14T00:00:17Z\",\"text\":\"caf\xff\"}\n");
    let big = post("big", &"x".repeat(10 * 1024 * 1024));
    input.extend_from_slice(big.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(post("p4", "Lovely morning at the lake.").as_bytes());
    input.push(b'\n');
    input.extend_from_slice(br#"{"id":"p5","author":"a","created_at":"2025-10-14T00:00:17Z","te"#);

    let out = rampart(&["scan", "-"], &input);
    assert_eq!(out.status.code(), Some(0));
    let v = verdicts(&out);
    let ids: Vec<&str> = v.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["p1", "p4"]);
    assert_eq!(v[0]["action"], "escalate");
    assert_eq!(v[1]["action"], "allow");
    assert_eq!(v[1]["labels"].as_array().unwrap().len(), 0);

    let stderr = String::from_utf8(out.stderr).unwrap();
    let records: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let errors: Vec<&serde_json::Value> = records.iter().filter(|r| r["kind"] == "error").collect();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![2, 3, 6, 7, 9]);
    assert!(errors[1]["reason"].as_str().unwrap().contains("author"));
    assert!(errors[2]["reason"].as_str().unwrap().contains("UTF-8"));
    assert!(errors[3]["reason"]
        .as_str()
        .unwrap()
        .contains("over the limit"));
    assert!(errors[4]["reason"].as_str().unwrap().contains("truncated"));
    let summary = records
        .iter()
        .find(|r| r["kind"] == "summary")
        .expect("summary on stderr");
    assert_eq!(summary["posts"], 2);
    assert_eq!(summary["bad_lines"], 5);
    assert_eq!(summary["actions"]["escalate"], 1);
}

#[test]
fn strict_mode_exits_1_on_bad_lines_and_0_without() {
    let good = format!("{}\n", post("p1", "hello"));
    assert_eq!(
        rampart(&["scan", "--strict"], good.as_bytes())
            .status
            .code(),
        Some(0)
    );
    let bad = format!("{good}oops\n");
    assert_eq!(
        rampart(&["scan", "--strict"], bad.as_bytes()).status.code(),
        Some(1)
    );
    assert_eq!(rampart(&["scan"], bad.as_bytes()).status.code(), Some(0));
}

#[test]
fn usage_errors_exit_2_and_help_works() {
    assert_eq!(
        rampart(&["scan", "--no-such-flag"], b"").status.code(),
        Some(2)
    );
    assert_eq!(rampart(&["frobnicate"], b"").status.code(), Some(2));
    for cmd in [
        &["--help"][..],
        &["scan", "--help"],
        &["bench", "--help"],
        &["explain", "--help"],
    ] {
        let out = rampart(cmd, b"");
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

#[test]
fn a_policy_that_does_not_parse_is_rejected_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r\"\naction = \"remove\"\nwhen = \"bounty >=\"\n").unwrap();
    let out = rampart(&["scan", "--policy", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:6"), "{err}");
}

#[test]
fn a_stricter_policy_changes_actions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strict.toml");
    std::fs::write(&path, "name = \"strict\"\nversion = 2\n[[rules]]\nid = \"all\"\naction = \"review\"\nwhen = \"max_score > 0.0\"\n").unwrap();
    let input = format!("{}\n", post("p1", "$50,000 to whoever kills Agent Mora."));
    let out = rampart(
        &["scan", "--policy", path.to_str().unwrap()],
        input.as_bytes(),
    );
    let v = verdicts(&out);
    assert_eq!(v[0]["action"], "review");
    assert_eq!(v[0]["policy"], "strict@2");
}

#[test]
fn protected_scan_needs_a_key_and_names_fields_not_values() {
    let dir = tempfile::tempdir().unwrap();
    let persons = dir.path().join("p.json");
    std::fs::write(
        &persons,
        r#"[{"person_id":"pp-1","names":["Ana Ruiz"],"home_addresses":["12 Oak St, Town"],"phones":["(312) 555-0101"],"plates":[],"emails":[],"family_names":[]}]"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["scan", "--protected", persons.to_str().unwrap()])
        .env_remove("RAMPART_REGISTRY_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(
        err.contains("RAMPART_REGISTRY_KEY") && err.contains("--key-file"),
        "{err}"
    );

    let input = format!(
        "{}\n",
        post(
            "p1",
            "Ana's cell is 312.555.0101, let her know what you think of her"
        )
    );
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["scan", "--protected", persons.to_str().unwrap()])
        .env("RAMPART_REGISTRY_KEY", "a-test-key-of-enough-length")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(input.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let v = verdicts(&out);
    assert_eq!(v[0]["protected_match"][0]["person_id"], "pp-1");
    assert_eq!(v[0]["protected_match"][0]["fields"][0], "phone");
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!all.contains("Oak"), "a registry value leaked: {all}");
}

/// Posts by several accounts, `minutes_apart` minutes apart in event time.
fn timed_posts(texts: &[(&str, &str)], minutes_apart: i64) -> Vec<u8> {
    let base = chrono::DateTime::parse_from_rfc3339("2025-10-14T12:00:00Z").unwrap();
    let mut input = Vec::new();
    for (i, (author, text)) in texts.iter().enumerate() {
        let at = base + chrono::Duration::minutes(minutes_apart * i as i64);
        let line = serde_json::json!({"id": format!("p{i}"), "author": author,
            "created_at": at.to_rfc3339(), "text": text});
        input.extend_from_slice(line.to_string().as_bytes());
        input.push(b'\n');
    }
    input
}

const CAMPAIGN: [(&str, &str); 3] = [
    ("a1", "$5,000 to whoever puts Judge Okafor in the hospital."),
    ("a2", "Okafor lives at 4417 Larkspur Ct, Berwyn. Go visit."),
    (
        "a3",
        "Okafor leaves the courthouse at 6pm every day, follow him.",
    ),
];

#[test]
fn a_weak_post_inside_a_harmful_campaign_is_raised_to_review_and_a_lawful_one_is_not() {
    let mut texts = CAMPAIGN.to_vec();
    texts.push(("a4", "Offer for Okafor going up, 5 to 7. Proof required."));
    texts.push(("a5", "Okafor was honoured by the bar association today."));
    let out = rampart(&["scan", "-"], &timed_posts(&texts, 5));
    let records = verdicts(&out);
    let action = |id: &str| {
        records
            .iter()
            .find(|r| r["kind"] == "verdict" && r["id"] == id)
            .map(|r| r["action"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(action("p3"), "review", "{records:?}");
    assert_eq!(action("p4"), "allow", "{records:?}");
    let last = records
        .iter()
        .rev()
        .find(|r| r["kind"] == "campaign")
        .unwrap();
    let members: Vec<&str> = last["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(members, vec!["p0", "p1", "p2", "p3"]);
}

#[test]
fn the_campaign_window_is_a_scan_option() {
    let input = timed_posts(&CAMPAIGN, 20);
    let campaigns = |args: &[&str]| {
        let out = rampart(args, &input);
        assert_eq!(out.status.code(), Some(0));
        verdicts(&out)
            .iter()
            .filter(|r| r["kind"] == "campaign")
            .count()
    };
    assert!(campaigns(&["scan", "-"]) > 0);
    assert_eq!(campaigns(&["scan", "-", "--campaign-window", "10"]), 0);
    let bad = rampart(&["scan", "-", "--campaign-window", "0"], b"");
    assert_eq!(bad.status.code(), Some(2));
}
