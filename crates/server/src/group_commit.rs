//! Group commit: concurrent ingest requests share one store transaction.
//!
//! Each request hands its posts to one writer task and waits. The writer
//! takes whatever has queued up (up to [`MAX_POSTS`] posts), stores it all
//! in one transaction, and only then answers every request in the group.
//! A post is still acknowledged only once it is committed, but the cost of
//! a commit (and of the audit-chain head, which serialises writers anyway)
//! is shared by everyone waiting, which is what lets one SQLite file keep
//! up with thousands of single-post requests a second.

use rampart_store::cases::{CaseError, CaseStore, Ingested, NewPost};
use tokio::sync::{mpsc, oneshot};

/// Most posts one transaction takes.
const MAX_POSTS: usize = 2_000;

type Reply = oneshot::Sender<Result<Vec<Ingested>, String>>;

/// Handle to the writer task.
#[derive(Clone)]
pub struct GroupCommit {
    tx: mpsc::Sender<(Vec<NewPost>, Reply)>,
}

impl GroupCommit {
    /// Starts the writer task on the current runtime.
    pub fn start(store: CaseStore) -> Self {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(writer(store, rx));
        GroupCommit { tx }
    }

    /// Stores posts; returns once they are committed.
    pub async fn ingest(&self, posts: Vec<NewPost>) -> Result<Vec<Ingested>, CaseError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((posts, reply))
            .await
            .map_err(|_| CaseError::Unavailable("the store writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| CaseError::Unavailable("the store writer has stopped".into()))?
            .map_err(CaseError::Unavailable)
    }
}

async fn writer(store: CaseStore, mut rx: mpsc::Receiver<(Vec<NewPost>, Reply)>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let mut posts = group[0].0.len();
        while posts < MAX_POSTS {
            match rx.try_recv() {
                Ok(next) => {
                    posts += next.0.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let mut all = Vec::with_capacity(posts);
        let mut sizes = Vec::with_capacity(group.len());
        let mut replies = Vec::with_capacity(group.len());
        for (p, reply) in group {
            sizes.push(p.len());
            all.extend(p);
            replies.push(reply);
        }
        match store.ingest(all).await {
            Ok(results) => {
                let mut results = results.into_iter();
                for (n, reply) in sizes.into_iter().zip(replies) {
                    let part: Vec<Ingested> = results.by_ref().take(n).collect();
                    let _ = reply.send(Ok(part));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(msg.clone()));
                }
            }
        }
    }
}
