//! `rampart serve` over HTTP: authentication on every route, roles,
//! malformed input, the decision and appeal flow, escaping, the audit
//! chain, and the PostgreSQL backend.

mod common;

use common::*;
use std::process::Command;

/// Every route but `/healthz` and the login page, with a method.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/posts"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/1"),
    ("POST", "/api/v1/cases/1/decision"),
    ("POST", "/api/v1/appeals"),
    ("GET", "/api/v1/appeals"),
    ("POST", "/api/v1/appeals/1/decision"),
    ("GET", "/api/v1/audit"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
];

const PAGES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/queue"),
    ("GET", "/cases/1"),
    ("POST", "/cases/1/decision"),
    ("POST", "/cases/1/appeal"),
    ("GET", "/appeals"),
    ("POST", "/appeals/1/decision"),
    ("GET", "/audit"),
    ("POST", "/logout"),
];

struct Fixture {
    _dir: tempfile::TempDir,
    db: String,
    server: Server,
    admin: String,
    reviewer: String,
    senior: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path());
    let admin = user_with_token(&db, "ada", "admin", "admin password");
    let reviewer = user_with_token(&db, "rui", "reviewer", "reviewer password");
    let senior = user_with_token(&db, "sam", "senior", "senior password");
    let server = Server::start(&db);
    Fixture {
        _dir: dir,
        db,
        server,
        admin,
        reviewer,
        senior,
    }
}

fn store(db: &str) -> (tokio::runtime::Runtime, rampart_store::cases::CaseStore) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt
        .block_on(rampart_store::cases::CaseStore::open(db))
        .unwrap();
    (rt, s)
}

#[test]
fn nothing_answers_without_credentials_and_roles_are_enforced() {
    let f = fixture();
    let a = &f.server.addr;
    assert_eq!(request(a, "GET", "/healthz", &[], b"").unwrap().status, 200);
    assert_eq!(request(a, "GET", "/login", &[], b"").unwrap().status, 200);
    for (method, path) in ROUTES {
        let r = request(a, method, path, &[], b"").unwrap();
        assert_eq!(r.status, 401, "{method} {path} without credentials");
        assert!(r.json()["error"].is_string(), "{method} {path}: {}", r.body);
        let bad = request(a, method, path, &[("Authorization", "Bearer nope")], b"").unwrap();
        assert_eq!(bad.status, 401, "{method} {path} with a bad token");
    }
    for (method, path) in PAGES {
        let r = request(a, method, path, &[], b"").unwrap();
        assert_eq!(r.status, 303, "{method} {path} without a session");
        assert_eq!(r.header("location"), Some("/login"), "{method} {path}");
        // An API token is not a session.
        let auth = bearer(&f.admin);
        let r = request(a, method, path, &[("Authorization", &auth)], b"").unwrap();
        assert_eq!(r.status, 303, "{method} {path} with only a token");
    }
    // Admin routes refuse a reviewer's token, and accept an admin's.
    for path in ["/api/v1/audit", "/metrics"] {
        let r = request(
            a,
            "GET",
            path,
            &[("Authorization", &bearer(&f.reviewer))],
            b"",
        )
        .unwrap();
        assert_eq!(r.status, 403, "reviewer on {path}");
        let r = request(a, "GET", path, &[("Authorization", &bearer(&f.admin))], b"").unwrap();
        assert_eq!(r.status, 200, "admin on {path}: {}", r.body);
    }
    let doc = request(
        a,
        "GET",
        "/openapi.json",
        &[("Authorization", &bearer(&f.reviewer))],
        b"",
    )
    .unwrap()
    .json();
    for p in [
        "/api/v1/posts",
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/appeals",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"][p].is_object(), "OpenAPI lacks {p}");
    }
}

#[test]
fn malformed_bodies_answer_400_naming_the_problem_and_store_nothing() {
    let f = fixture();
    let a = &f.server.addr;
    let good = post_line(
        "m1",
        "acct",
        "$50,000 to whoever kills Agent Mora. Half upfront.",
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "application/x-ndjson",
            format!("{good}\n{{\"id\":\"m2\"}}\n"),
            "line 2",
        ),
        (
            "application/x-ndjson",
            format!("{good}\nnot json\n"),
            "line 2",
        ),
        (
            "application/json",
            "{\"id\":\"m3\",\"author\":\"a\",\"created_at\":\"yesterday\",\"text\":\"x\"}".into(),
            "created_at",
        ),
        ("application/json", "[1,2".into(), "body"),
        ("application/x-ndjson", "\n\n".into(), "no post"),
    ];
    let auth = bearer(&f.reviewer);
    for (ctype, body, names) in &cases {
        let r = request(
            a,
            "POST",
            "/api/v1/posts",
            &[("Authorization", &auth), ("Content-Type", ctype)],
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 400, "{body}");
        let msg = r.json()["error"].as_str().unwrap().to_string();
        assert!(msg.contains(names), "error {msg:?} should name {names:?}");
    }
    let r = request(
        a,
        "POST",
        "/api/v1/posts",
        &[("Authorization", &auth), ("Content-Type", "text/plain")],
        good.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 415);
    let (rt, s) = store(&f.db);
    assert_eq!(
        rt.block_on(s.post_count()).unwrap(),
        0,
        "a refused batch stores nothing"
    );
    // Malformed decision and appeal bodies.
    for (path, body) in [
        ("/api/v1/cases/1/decision", "{\"decision\":"),
        ("/api/v1/cases/1/decision", "{\"decision\":\"keep_down\"}"),
        ("/api/v1/appeals", "{\"statement\":\"x\"}"),
        ("/api/v1/appeals/1/decision", "[]"),
    ] {
        let r = request(
            a,
            "POST",
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 400, "{path} {body}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
    let r = request(
        a,
        "GET",
        "/api/v1/cases?status=maybe",
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 400);
    assert!(r.body.contains("status"), "{}", r.body);
    let entries = rt.block_on(s.verify_audit()).unwrap().unwrap();
    assert_eq!(
        entries,
        3 * 2,
        "only the set-up (users and tokens) is in the audit log"
    );
}

#[test]
fn ingest_opens_cases_and_the_decision_and_appeal_flow_needs_a_second_reviewer() {
    let f = fixture();
    let a = &f.server.addr;
    let body = [
        post_line(
            "p1",
            "acct1",
            "$50,000 to whoever kills Agent Mora. Half upfront.",
        ),
        post_line("p2", "acct2", "Lovely morning at the lake."),
    ]
    .join("\n");
    let r = ingest(a, &f.reviewer, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let verdicts: Vec<serde_json::Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), 2);
    assert_eq!(verdicts[0]["kind"], "verdict");
    assert_eq!(verdicts[0]["id"], "p1");
    assert_eq!(verdicts[0]["action"], "escalate");
    assert_eq!(verdicts[1]["action"], "allow");
    // One post as application/json answers one verdict object.
    let auth = bearer(&f.reviewer);
    let one = request(
        a,
        "POST",
        "/api/v1/posts",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        post_line("p3", "acct3", "Nice weather.").as_bytes(),
    )
    .unwrap();
    assert_eq!(one.json()["id"], "p3");
    // Sending a post again answers the stored verdict and opens nothing.
    let again = ingest(
        a,
        &f.reviewer,
        &post_line(
            "p1",
            "acct1",
            "$50,000 to whoever kills Agent Mora. Half upfront.",
        ),
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(again.body.trim()).unwrap()["action"],
        "escalate"
    );
    // The same id with another text is a conflict naming the id: the
    // stored post stands, the new text is not given the old verdict.
    let edited = ingest(a, &f.reviewer, &post_line("p1", "acct1", "edited text"));
    assert_eq!(edited.status, 409, "{}", edited.body);
    assert!(edited.body.contains("p1"), "{}", edited.body);

    let list = request(
        a,
        "GET",
        "/api/v1/cases?status=open",
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap()
    .json();
    let cases = list["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{list}");
    let id = cases[0]["id"].as_i64().unwrap();
    assert_eq!(cases[0]["post_id"], "p1");
    let filtered = request(
        a,
        "GET",
        "/api/v1/cases?category=bounty&action=escalate",
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap()
    .json();
    assert_eq!(filtered["cases"].as_array().unwrap().len(), 1);
    let none = request(
        a,
        "GET",
        "/api/v1/cases?category=doxxing",
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap()
    .json();
    assert_eq!(none["cases"].as_array().unwrap().len(), 0);
    let detail = request(
        a,
        "GET",
        &format!("/api/v1/cases/{id}"),
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap()
    .json();
    let labels = detail["verdict"]["labels"].as_array().unwrap();
    assert!(labels.iter().any(|l| l["category"] == "bounty"), "{detail}");
    assert_eq!(detail["post"]["id"], "p1");

    let json = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let bad_reason = request(
        a,
        "POST",
        &format!("/api/v1/cases/{id}/decision"),
        &json,
        br#"{"decision":"keep_down","reason":"because"}"#,
    )
    .unwrap();
    assert_eq!(bad_reason.status, 400);
    let d = request(
        a,
        "POST",
        &format!("/api/v1/cases/{id}/decision"),
        &json,
        br#"{"decision":"keep_down","reason":"bounty or solicitation of harm"}"#,
    )
    .unwrap();
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.json()["case"]["decided_by"], "rui");
    let ap = request(
        a,
        "POST",
        "/api/v1/appeals",
        &json,
        format!(r#"{{"case_id":{id},"statement":"I was quoting a film"}}"#).as_bytes(),
    )
    .unwrap();
    assert_eq!(ap.status, 201, "{}", ap.body);
    let appeal = ap.json()["appeal"]["id"].as_i64().unwrap();
    // The reviewer who decided cannot decide the appeal; a second one can.
    let own = request(
        a,
        "POST",
        &format!("/api/v1/appeals/{appeal}/decision"),
        &json,
        br#"{"outcome":"overturn","reason":"lawful speech: news or reporting"}"#,
    )
    .unwrap();
    assert_eq!(own.status, 403, "{}", own.body);
    let senior = bearer(&f.senior);
    let second = request(
        a,
        "POST",
        &format!("/api/v1/appeals/{appeal}/decision"),
        &[
            ("Authorization", &senior),
            ("Content-Type", "application/json"),
        ],
        br#"{"outcome":"uphold","reason":"bounty or solicitation of harm"}"#,
    )
    .unwrap();
    assert_eq!(second.status, 200, "{}", second.body);
    let closed = request(
        a,
        "GET",
        &format!("/api/v1/cases/{id}"),
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap()
    .json();
    assert_eq!(closed["case"]["status"], "closed");

    // The audit API shows it all, and the chain verifies from the CLI.
    let audit = request(
        a,
        "GET",
        "/api/v1/audit?limit=1000",
        &[("Authorization", &bearer(&f.admin))],
        b"",
    )
    .unwrap()
    .json();
    let kinds: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "user",
        "token",
        "ingest",
        "verdict",
        "decision",
        "appeal",
        "appeal_decision",
    ] {
        assert!(kinds.contains(&k), "no {k} entry in {kinds:?}");
    }
    let v = rampart()
        .args(["audit", "verify", "--db", &f.db])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0), "{v:?}");
}

#[test]
fn audit_verify_names_the_entry_edited_in_the_database() {
    let f = fixture();
    ingest(
        &f.server.addr,
        &f.reviewer,
        &post_line("p1", "acct", "$5,000 for Officer Pratt's home address."),
    );
    let ok = rampart()
        .args(["audit", "verify", "--db", &f.db])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let (rt, s) = store(&f.db);
    let n = rt
        .block_on(s.execute_raw("UPDATE audit SET actor = 'mallory' WHERE seq = 4"))
        .unwrap();
    assert_eq!(n, 1);
    let bad = rampart()
        .args(["audit", "verify", "--db", &f.db])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&bad.stdout);
    assert!(msg.contains("entry 4"), "{msg}");
}

/// The login page's CSRF token (hidden field) and cookie.
fn login(addr: &str, user: &str, password: &str) -> (String, String) {
    let page = request(addr, "GET", "/login", &[], b"").unwrap();
    let cookie = page
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = hidden_csrf(&page.body);
    let form = format!(
        "username={user}&password={}&csrf={token}",
        password.replace(' ', "+")
    );
    let r = request(
        addr,
        "POST",
        "/login",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 303, "login: {}", r.body);
    let set = r.header("set-cookie").unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let session = set.split(';').next().unwrap().to_string();
    let queue = request(addr, "GET", "/queue", &[("Cookie", &session)], b"").unwrap();
    assert_eq!(queue.status, 200);
    (session, hidden_csrf(&queue.body))
}

/// The first case in the queue (API) and its review page (session).
fn first_case_page(f: &Fixture, session: &str) -> (i64, Response) {
    let a = &f.server.addr;
    let list = request(
        a,
        "GET",
        "/api/v1/cases",
        &[("Authorization", &bearer(&f.reviewer))],
        b"",
    )
    .unwrap()
    .json();
    let id = list["cases"][0]["id"].as_i64().unwrap();
    let page = request(
        a,
        "GET",
        &format!("/cases/{id}"),
        &[("Cookie", session)],
        b"",
    )
    .unwrap();
    (id, page)
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_string()
}

#[test]
fn pages_escape_user_content_and_forms_need_the_csrf_token() {
    let f = fixture();
    let a = &f.server.addr;
    let payload = "Agent Mora lives at 4417 Larkspur Ct <script>alert('x')</script><img src=x onerror=alert(1)> go get him";
    let r = ingest(a, &f.reviewer, &post_line("x1", "acct<b>bold</b>", payload));
    assert_eq!(r.status, 200);
    let (session, csrf) = login(a, "rui", "reviewer password");
    // A wrong password and a login form without its CSRF cookie fail.
    let page = request(a, "GET", "/login", &[], b"").unwrap();
    let t = hidden_csrf(&page.body);
    let no_cookie = request(
        a,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("username=rui&password=reviewer+password&csrf={t}").as_bytes(),
    )
    .unwrap();
    assert_eq!(no_cookie.status, 403);

    let (id, case) = first_case_page(&f, &session);
    assert_eq!(case.status, 200);
    assert!(
        !case.body.contains("<script>alert"),
        "script payload rendered raw"
    );
    assert!(
        !case.body.contains("<img src=x"),
        "attribute payload rendered raw"
    );
    assert!(!case.body.contains("<b>bold</b>"));
    assert!(
        case.body.contains("&lt;script&gt;"),
        "payload not shown as text"
    );
    assert!(
        case.body.contains("<mark class=\"evidence\""),
        "evidence not highlighted"
    );
    let csp = case.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{csp}");

    let form =
        |csrf: &str| format!("csrf={csrf}&decision=keep_down&reason=publishes+private+details");
    let path = format!("/cases/{id}/decision");
    let ctype = ("Content-Type", "application/x-www-form-urlencoded");
    let forged = request(
        a,
        "POST",
        &path,
        &[("Cookie", &session), ctype],
        form("0000").as_bytes(),
    )
    .unwrap();
    assert_eq!(
        forged.status, 403,
        "a form without the session's token is refused"
    );
    let ok = request(
        a,
        "POST",
        &path,
        &[("Cookie", &session), ctype],
        form(&csrf).as_bytes(),
    )
    .unwrap();
    assert_eq!(ok.status, 303, "{}", ok.body);
    let after = request(
        a,
        "GET",
        &format!("/api/v1/cases/{id}"),
        &[("Authorization", &bearer(&f.reviewer))],
        b"",
    )
    .unwrap()
    .json();
    assert_eq!(after["case"]["decision"], "keep_down");
}

#[test]
fn the_server_runs_on_postgresql() {
    let Some(pg) = pg::Postgres::start() else {
        return;
    };
    let token = user_with_token(&pg.url, "pat", "reviewer", "pg password");
    let server = Server::start(&pg.url);
    let r = ingest(
        &server.addr,
        &token,
        &post_line(
            "g1",
            "acct",
            "$50,000 to whoever kills Agent Mora. Half upfront.",
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let list = get_json(&server.addr, "/api/v1/cases", &token);
    assert_eq!(list["cases"].as_array().unwrap().len(), 1);
    let v = rampart()
        .args(["audit", "verify", "--db", &pg.url])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0), "{v:?}");
}

#[path = "../../store/tests/pg/mod.rs"]
mod pg;

#[test]
fn campaigns_keep_linking_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path());
    let token = user_with_token(&db, "rui", "reviewer", "reviewer password");
    let posts = [
        ("a1", "$5,000 to whoever puts Judge Okafor in the hospital."),
        ("a2", "Okafor lives at 4417 Larkspur Ct, Berwyn. Go visit."),
        (
            "a3",
            "Okafor leaves the courthouse at 6pm every day, follow him.",
        ),
    ];
    let line = |i: usize| {
        serde_json::json!({"id": format!("k{i}"), "author": posts[i].0,
            "created_at": format!("2025-10-14T12:0{i}:00Z"), "text": posts[i].1})
        .to_string()
    };
    let port = free_port();
    let mut server = Server::start_on(&db, port);
    assert_eq!(
        ingest(&server.addr, &token, &format!("{}\n{}", line(0), line(1))).status,
        200
    );
    // A graceful stop (SIGTERM) saves the campaign detector's state.
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(
        server.child.wait().unwrap().success(),
        "serve exits cleanly on SIGTERM"
    );
    drop(server);
    let server = Server::start_on(&db, port);
    assert_eq!(ingest(&server.addr, &token, &line(2)).status, 200);
    let list = get_json(&server.addr, "/api/v1/cases", &token);
    let campaign = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "campaign")
        .unwrap_or_else(|| panic!("no campaign case after the restart: {list}"));
    let record: serde_json::Value =
        serde_json::from_str(campaign["detail_json"].as_str().unwrap()).unwrap();
    assert_eq!(record["members"], serde_json::json!(["k0", "k1", "k2"]));
}

#[test]
fn a_bounty_in_an_image_opens_a_case_showing_the_media_evidence_escaped() {
    let f = fixture();
    let a = &f.server.addr;
    let line = serde_json::json!({
        "id": "img1", "author": "acct_img", "created_at": "2025-10-14T00:00:00Z", "text": "",
        "media": [{"kind": "image", "ocr_text": "$50,000 to whoever kills Agent <script>alert(1)</script> Mora"}],
    })
    .to_string();
    let r = ingest(a, &f.reviewer, &line);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("escalate"), "{}", r.body);
    let (session, _) = login(a, "rui", "reviewer password");
    let (_, case) = first_case_page(&f, &session);
    assert_eq!(case.status, 200);
    assert!(case.body.contains("in media 1"), "{}", case.body);
    assert!(case.body.contains("$50,000"));
    assert!(!case.body.contains("<script>alert"));
}

/// Scanning runs off the async workers and outside the campaign lock:
/// while four clients each send a 1 MB post, `/healthz` keeps answering
/// (before, two 320 KB posts made it take 35 s).
#[test]
fn health_answers_while_large_posts_are_scanned() {
    let f = fixture();
    let addr = f.server.addr.clone();
    let big = "kill him now Agent Mora, $5,000 al que lo encuentre ".repeat(21_000);
    assert!(big.len() >= 1 << 20);
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let (addr, token) = (addr.clone(), f.reviewer.clone());
            let line = post_line(&format!("big-{i}"), "acct", &big);
            std::thread::spawn(move || ingest(&addr, &token, &line).status)
        })
        .collect();
    let mut waits = Vec::new();
    while !senders.iter().all(|s| s.is_finished()) {
        let t = std::time::Instant::now();
        let r = request(&addr, "GET", "/healthz", &[], b"").unwrap();
        assert_eq!(r.status, 200);
        waits.push(t.elapsed());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for s in senders {
        assert_eq!(s.join().unwrap(), 200);
    }
    assert!(
        waits.len() >= 3,
        "the posts were scanned too fast to probe: {waits:?}"
    );
    waits.sort();
    let (median, worst) = (waits[waits.len() / 2], waits[waits.len() - 1]);
    // The issue's bound is 100 ms; the worst probe gets slack for a busy
    // 2-core machine, the median does not.
    assert!(
        median < std::time::Duration::from_millis(100) && worst < std::time::Duration::from_secs(1),
        "healthz waits: median {median:?}, worst {worst:?} over {} probes",
        waits.len()
    );
}

#[test]
fn every_response_carries_the_security_headers() {
    let f = fixture();
    for path in ["/healthz", "/login", "/api/v1/cases", "/no-such-page"] {
        let r = request(&f.server.addr, "GET", path, &[], b"").unwrap();
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{path}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
    }
}
