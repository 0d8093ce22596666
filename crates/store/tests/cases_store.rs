//! The case store on both backends: the same scenario runs on an embedded
//! SQLite file and on a real PostgreSQL server.

mod pg;

use rampart_store::cases::{CaseError, CaseFilter, CaseStore, NewPost, Role};

fn post(id: &str, author: &str, action: &str, categories: &[&str], severity: i64) -> NewPost {
    NewPost {
        post_id: id.into(),
        author: author.into(),
        created_at: format!("2025-10-14T12:00:0{}Z", id.len() % 10),
        group: None,
        text: format!("text of {id}"),
        post_json: "{}".into(),
        verdict_json: format!(r#"{{"kind":"verdict","id":"{id}","action":"{action}"}}"#),
        action: action.into(),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        severity,
    }
}

fn filter() -> CaseFilter {
    CaseFilter {
        limit: 50,
        ..CaseFilter::default()
    }
}

async fn scenario(store: &CaseStore) {
    // Accounts.
    let alice = store
        .add_user("alice", Role::Reviewer, "correct horse")
        .await
        .unwrap();
    let bob = store
        .add_user("bob", Role::Senior, "battery staple")
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_user("alice", Role::Admin, "another password")
            .await,
        Err(CaseError::Conflict(_))
    ));
    assert!(store.add_user("carol", Role::Admin, "short").await.is_err());
    assert_eq!(
        store.login("alice", "correct horse").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.login("alice", "wrong password").await.unwrap(), None);
    assert_eq!(store.login("nobody", "correct horse").await.unwrap(), None);

    // Ingest: cases for what is not allowed; a post sent twice is stored once.
    let out = store
        .ingest(vec![
            post("p1", "acct1", "remove", &["bounty", "threat"], 20),
            post("p2", "acct1", "allow", &[], 0),
            post("p3", "acct2", "review", &["doxxing"], 10),
            post("p4", "acct3", "escalate", &["bounty"], 30),
        ])
        .await
        .unwrap();
    assert_eq!(out.iter().filter(|o| o.case_id.is_some()).count(), 3);
    let again = store
        .ingest(vec![post("p1", "acct1", "allow", &[], 0)])
        .await
        .unwrap();
    assert!(again[0].duplicate);
    assert!(!again[0].conflict, "the same content is a resend");
    assert!(
        again[0].verdict_json.contains("remove"),
        "the first verdict stands"
    );
    // The same id with other text, or other media, is a conflict: the
    // stored post stands and the attempt is audited.
    let mut edited = post("p1", "acct1", "allow", &[], 0);
    edited.text = "a different text".into();
    let mut with_media = post("p1", "acct1", "allow", &[], 0);
    with_media.post_json = r#"{"media":[{"ocr_text":"$5,000 for his address"}]}"#.into();
    for resend in [edited, with_media] {
        let r = store.ingest(vec![resend]).await.unwrap();
        assert!(r[0].duplicate && r[0].conflict, "{r:?}");
        assert!(r[0].verdict_json.contains("remove"));
    }
    assert_eq!(again[0].case_id, out[0].case_id);
    assert_eq!(store.post_count().await.unwrap(), 4);

    // The queue: most severe first; filters.
    let queue = store.list_cases(&filter()).await.unwrap();
    let order: Vec<&str> = queue.iter().filter_map(|c| c.post_id.as_deref()).collect();
    assert_eq!(order, vec!["p4", "p1", "p3"]);
    let bounty = store
        .list_cases(&CaseFilter {
            category: Some("bounty".into()),
            ..filter()
        })
        .await
        .unwrap();
    assert_eq!(bounty.len(), 2);
    let review = store
        .list_cases(&CaseFilter {
            action: Some("review".into()),
            ..filter()
        })
        .await
        .unwrap();
    assert_eq!(review.len(), 1);
    let page2 = store
        .list_cases(&CaseFilter {
            limit: 1,
            offset: 1,
            ..filter()
        })
        .await
        .unwrap();
    assert_eq!(page2[0].post_id.as_deref(), Some("p1"));

    // A campaign gets its own case and tags its members.
    let cid = store
        .upsert_campaign(rampart_store::cases::CampaignCase {
            campaign_id: "c-1".into(),
            action: "escalate".into(),
            categories: vec!["bounty".into()],
            members: vec!["p1".into(), "p3".into()],
            record_json: r#"{"kind":"campaign","id":"c-1"}"#.into(),
            severity: 40,
        })
        .await
        .unwrap();
    let same = store
        .upsert_campaign(rampart_store::cases::CampaignCase {
            campaign_id: "c-1".into(),
            action: "escalate".into(),
            categories: vec!["bounty".into()],
            members: vec!["p1".into(), "p3".into(), "p4".into()],
            record_json: r#"{"kind":"campaign","id":"c-1","grown":true}"#.into(),
            severity: 40,
        })
        .await
        .unwrap();
    assert_eq!(cid, same, "a growing campaign keeps its case");
    let in_campaign = store
        .list_cases(&CaseFilter {
            campaign: Some("c-1".into()),
            ..filter()
        })
        .await
        .unwrap();
    assert_eq!(in_campaign.len(), 4);
    let timeline = store.campaign_timeline("c-1").await.unwrap();
    assert_eq!(timeline.len(), 3);
    assert_eq!(store.author_history("acct1", 10).await.unwrap().len(), 2);

    // Decide, appeal, and a second reviewer decides the appeal.
    let case = out[0].case_id.unwrap();
    let decided = store
        .decide(case, &alice, "keep_down", "bounty")
        .await
        .unwrap();
    assert_eq!(decided.status, "decided");
    assert!(matches!(
        store.decide(case, &alice, "delete", "x").await,
        Err(CaseError::Invalid(_))
    ));
    let appeal = store
        .file_appeal(case, "acct1", "It was a joke")
        .await
        .unwrap();
    assert_eq!(store.case(case).await.unwrap().status, "appealed");
    assert!(matches!(
        store
            .decide_appeal(appeal.id, &alice, "overturn", "x")
            .await,
        Err(CaseError::Forbidden(_))
    ));
    let done = store
        .decide_appeal(appeal.id, &bob, "overturn", "satire")
        .await
        .unwrap();
    assert_eq!(done.decided_by.as_deref(), Some("bob"));
    let closed = store.case(case).await.unwrap();
    assert_eq!(
        (closed.status.as_str(), closed.decision.as_deref()),
        ("closed", Some("restore"))
    );
    assert!(matches!(
        store.decide_appeal(appeal.id, &bob, "uphold", "x").await,
        Err(CaseError::Conflict(_))
    ));
    // The appeal is final: the original reviewer (or anyone) cannot undo
    // it with a second decision; only a new appeal reopens the case.
    for who in [&alice, &bob] {
        assert!(matches!(
            store.decide(case, who, "keep_down", "bounty").await,
            Err(CaseError::Conflict(_))
        ));
    }
    let after = store.case(case).await.unwrap();
    assert_eq!(
        (after.status.as_str(), after.decision.as_deref()),
        ("closed", Some("restore"))
    );
    let again = store
        .file_appeal(case, "acct1", "new context")
        .await
        .unwrap();
    assert_eq!(store.case(case).await.unwrap().status, "appealed");
    assert_eq!(again.case_id, case);

    // Tokens and sessions keep only hashes.
    let token = store.create_token("alice").await.unwrap();
    assert_eq!(store.token_user(&token).await.unwrap(), Some(alice.clone()));
    assert_eq!(store.token_user("not-a-token").await.unwrap(), None);
    let (session, csrf) = store.create_session(&bob).await.unwrap();
    assert_eq!(
        store.session(&session).await.unwrap(),
        Some((bob.clone(), csrf))
    );
    store.end_session(&session).await.unwrap();
    assert_eq!(store.session(&session).await.unwrap(), None);
    assert_eq!(
        store
            .execute_raw(&format!(
                "DELETE FROM api_tokens WHERE token_hash = '{token}'"
            ))
            .await
            .unwrap(),
        0,
        "the plaintext token is not stored"
    );

    // The audit chain holds, then breaks where a row is edited.
    let entries = store.verify_audit().await.unwrap().expect("chain holds");
    // 2 users, 4 posts × (ingest + verdict), 2 campaign records, decision,
    // two ingest conflicts, appeal, appeal decision, the second appeal,
    // token.
    assert_eq!(entries, 2 + 8 + 2 + 2 + 1 + 1 + 1 + 1 + 1);
    store
        .execute_raw("UPDATE audit SET detail = '{\"decision\":\"restore\"}' WHERE seq = 15")
        .await
        .unwrap();
    let broken = store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 15, "{broken:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_backend() {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("cases.db").to_str().unwrap())
        .await
        .unwrap();
    scenario(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_backend() {
    let Some(pg) = pg::Postgres::start() else {
        return;
    };
    let store = CaseStore::open(&pg.url).await.unwrap();
    scenario(&store).await;
    store.close().await;
    // Reopening runs no migration twice.
    let again = CaseStore::open(&pg.url).await.unwrap();
    assert_eq!(again.post_count().await.unwrap(), 4);
    again.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_the_last_audit_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("c.db").to_str().unwrap())
        .await
        .unwrap();
    store
        .ingest(vec![post("p1", "a", "remove", &["threat"], 20)])
        .await
        .unwrap();
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
    store
        .execute_raw("DELETE FROM audit WHERE seq = 2")
        .await
        .unwrap();
    let broken = store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 2, "{broken:?}");
}
