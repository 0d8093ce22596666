//! Killing `rampart serve` with SIGKILL in the middle of a large ingest
//! loses no acknowledged post, and re-sending after a restart duplicates
//! none.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;

const POSTS: usize = 8_000;
const BATCH: usize = 50;

#[test]
fn sigkill_during_ingest_loses_no_acknowledged_post_and_duplicates_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(dir.path());
    let token = user_with_token(&db, "ingest", "reviewer", "ingest password");
    let posts: Vec<(String, String)> = rampart::synth::Stream::new(3)
        .take(POSTS)
        .map(|p| (p.id.clone(), p.to_json()))
        .collect();
    let batches: Vec<Vec<(String, String)>> = posts.chunks(BATCH).map(|c| c.to_vec()).collect();
    let port = free_port();
    let server = Server::start_on(&db, port);

    // A client sends batches one after another and records what the server
    // acknowledged; it stops at the first failed request.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let sent_batches = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let client = {
        let (acked, sent, failed, batches, addr, token) = (
            acked.clone(),
            sent_batches.clone(),
            failed.clone(),
            batches.clone(),
            server.addr.clone(),
            token.clone(),
        );
        std::thread::spawn(move || {
            for (i, b) in batches.iter().enumerate() {
                let body: Vec<&str> = b.iter().map(|(_, j)| j.as_str()).collect();
                match std::panic::catch_unwind(|| ingest(&addr, &token, &body.join("\n"))) {
                    Ok(r) if r.status == 200 => {
                        acked
                            .lock()
                            .unwrap()
                            .extend(b.iter().map(|(id, _)| id.clone()));
                        sent.store(i + 1, Ordering::SeqCst);
                    }
                    _ => {
                        failed.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            }
        })
    };
    // Kill it once a good part of the stream is in, while batches still flow.
    while sent_batches.load(Ordering::SeqCst) < batches.len() / 4 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut server = server;
    server.child.kill().unwrap(); // SIGKILL on Unix
    server.child.wait().unwrap();
    client.join().unwrap();
    assert!(
        failed.load(Ordering::SeqCst),
        "the kill landed after the whole ingest; make the stream longer"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());

    // Restart on the same store and re-send everything not acknowledged,
    // plus the last acknowledged batch again (a client unsure of its ack).
    let server = Server::start_on(&db, port);
    let resume = sent_batches.load(Ordering::SeqCst).saturating_sub(1);
    for b in &batches[resume..] {
        let body: Vec<&str> = b.iter().map(|(_, j)| j.as_str()).collect();
        let r = ingest(&server.addr, &token, &body.join("\n"));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    drop(server);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt
        .block_on(rampart_store::cases::CaseStore::open(&db))
        .unwrap();
    for id in &acked {
        assert!(
            rt.block_on(store.post(id)).unwrap().is_some(),
            "acknowledged post {id} lost"
        );
    }
    assert_eq!(rt.block_on(store.post_count()).unwrap(), POSTS as i64);
    let entries = rt.block_on(store.audit(0, 1_000_000)).unwrap();
    let ingests = entries.iter().filter(|e| e.kind == "ingest").count();
    assert_eq!(ingests, POSTS, "a post was ingested twice");
    assert!(rt.block_on(store.verify_audit()).unwrap().is_ok());
}
