//! The review UI in a real headless Chromium: `e2e/review.mjs` logs in,
//! works the queue, decides, appeals, has a second reviewer decide the
//! appeal, checks that a script payload never runs, and takes screenshots
//! (kept in `target/e2e-screenshots`).
//!
//! Needs `chromium` (Debian package) and `npm ci --prefix e2e`; `.ci/run`
//! installs both and sets `RAMPART_REQUIRE_E2E=1`, so there a missing piece
//! fails instead of skipping.

mod common;

use std::process::Command;

use common::*;

#[test]
fn review_flow_in_headless_chromium() {
    let root = repo_root();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = std::path::Path::new(&chromium).exists()
        && root.join("e2e/node_modules/playwright-core").exists();
    if !ready {
        assert!(
            std::env::var("RAMPART_REQUIRE_E2E").is_err(),
            "RAMPART_REQUIRE_E2E is set but {chromium} or e2e/node_modules is missing"
        );
        eprintln!("skipping: needs {chromium} and `npm ci --prefix e2e`");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path());
    let token = user_with_token(&db, "rui", "reviewer", "reviewer password");
    user_with_token(&db, "sam", "senior", "senior password");
    let server = Server::start(&db);

    // The dev set (plenty of cases and campaigns) and one post carrying
    // script payloads.
    let dev = std::fs::read_to_string(root.join("../shared/eval/dev_posts.jsonl")).unwrap();
    let r = ingest(&server.addr, &token, &dev);
    assert_eq!(r.status, 200, "{}", r.body);
    let payload = "Agent Mora lives at 4417 Larkspur Ct <script>window.__pwned=1</script> \
                   <img src=x onerror=\"window.__pwned=2;alert(1)\"> go visit him";
    let r = ingest(&server.addr, &token, &post_line("xss-1", "acct_x", payload));
    assert_eq!(r.status, 200, "{}", r.body);
    let cases = request(
        &server.addr,
        "GET",
        "/api/v1/cases?limit=500",
        &[("Authorization", &bearer(&token))],
        b"",
    )
    .unwrap()
    .json();
    let xss_case = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["post_id"] == "xss-1")
        .expect("the payload post opened a case")["id"]
        .as_i64()
        .unwrap();

    let shots = root.join("target/e2e-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let out = Command::new("node")
        .arg(root.join("e2e/review.mjs"))
        .env("BASE_URL", format!("http://{}", server.addr))
        .env("REVIEWER", "rui")
        .env("REVIEWER_PASSWORD", "reviewer password")
        .env("SECOND", "sam")
        .env("SECOND_PASSWORD", "senior password")
        .env("XSS_CASE", xss_case.to_string())
        .env("SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let taken = std::fs::read_dir(&shots).unwrap().count();
    assert!(taken >= 8, "only {taken} screenshots");
    // The whole flow is in the audit chain, and it holds.
    let v = rampart()
        .args(["audit", "verify", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0), "{v:?}");
}
