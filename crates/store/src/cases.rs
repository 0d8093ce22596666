//! The case store: posts with their verdicts, cases, decisions, appeals,
//! accounts, sessions, API tokens and the hash-chained audit log.
//!
//! One implementation runs on both backends through sqlx's `Any` driver:
//! an embedded SQLite file (WAL) by default, PostgreSQL for several servers
//! and workers. The two migration sets (`migrations/cases/{sqlite,postgres}`)
//! keep the same columns, so every query here is written once (`$N`
//! placeholders, `RETURNING`, `ON CONFLICT`, which both understand).
//!
//! Audit chain: every entry stores the hash of the previous one and its own
//! hash over (previous hash, sequence, time, actor, kind, subject, detail).
//! The head (last sequence and hash) lives in a one-row table that each
//! writing transaction reads first: PostgreSQL locks it (`FOR UPDATE`), and
//! SQLite writers are serialised in-process, so the chain never forks.

use std::borrow::Cow;
use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::StoreError;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A reviewer's role. Each role can do what the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reviews cases and decides appeals of others' decisions.
    Reviewer,
    /// Senior reviewer.
    Senior,
    /// Administers the server: audit log, metrics.
    Admin,
}

impl Role {
    /// Parses `reviewer`, `senior` or `admin`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "reviewer" => Some(Role::Reviewer),
            "senior" => Some(Role::Senior),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Senior => "senior",
            Role::Admin => "admin",
        }
    }
}

/// A logged-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// One post to store with its verdict.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// Post id (unique: a post sent twice is stored once).
    pub post_id: String,
    /// Account.
    pub author: String,
    /// Event time (RFC 3339).
    pub created_at: String,
    /// Group, if any.
    pub group: Option<String>,
    /// Text.
    pub text: String,
    /// The post as received (JSON).
    pub post_json: String,
    /// The verdict (contract section 2, JSON).
    pub verdict_json: String,
    /// The verdict's action.
    pub action: String,
    /// Categories of the verdict's labels.
    pub categories: Vec<String>,
    /// Queue order: higher first.
    pub severity: i64,
}

/// What happened to one post of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// The post id.
    pub post_id: String,
    /// The stored verdict (the earlier one when the post was a duplicate).
    pub verdict_json: String,
    /// The post was already stored: nothing was written.
    pub duplicate: bool,
    /// The id was already stored with other content (text or media): the
    /// stored post and verdict stand, the resend is recorded in the audit
    /// log (`ingest_conflict`) and the caller should refuse it.
    pub conflict: bool,
    /// The case opened for it, if its action was not `allow`.
    pub case_id: Option<i64>,
}

/// The media of a stored post's JSON (`[]` when it has none, as posts
/// stored before media were kept have), to tell a resend from a conflict.
fn media_of(post_json: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(post_json)
        .ok()
        .and_then(|v| v.get("media").cloned())
        .filter(|m| !m.is_null())
        .unwrap_or_else(|| serde_json::json!([]))
}

/// A campaign record to open or update a case for.
#[derive(Debug, Clone)]
pub struct CampaignCase {
    /// Campaign id (`c-1`).
    pub campaign_id: String,
    /// The campaign's action.
    pub action: String,
    /// Its labels.
    pub categories: Vec<String>,
    /// Member post ids.
    pub members: Vec<String>,
    /// The campaign record (JSON).
    pub record_json: String,
    /// Queue order.
    pub severity: i64,
}

/// Filters for listing cases.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// `review`, `remove`, `escalate`.
    pub action: Option<String>,
    /// A category the case carries.
    pub category: Option<String>,
    /// `open`, `decided`, `appealed`, `closed`.
    pub status: Option<String>,
    /// Campaign id (the campaign's own case and its members' cases).
    pub campaign: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// A case as listed and shown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Case {
    /// Case id.
    pub id: i64,
    /// `post` or `campaign`.
    pub kind: String,
    /// The post, for post cases.
    pub post_id: Option<String>,
    /// The campaign, for campaign cases.
    pub campaign_id: Option<String>,
    /// Action rampart took.
    pub action: String,
    /// Categories.
    pub categories: Vec<String>,
    /// Queue order.
    pub severity: i64,
    /// `open`, `decided`, `appealed`, `closed`.
    pub status: String,
    /// Campaign the post belongs to.
    pub campaign_ref: Option<String>,
    /// Reviewer decision: `keep_down`, `restore`, `escalate`.
    pub decision: Option<String>,
    /// Reason given.
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// Opened.
    pub opened_at: String,
    /// Last change.
    pub updated_at: String,
    /// Campaign record, for campaign cases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_json: Option<String>,
}

/// A stored post.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StoredPost {
    /// Post id.
    pub post_id: String,
    /// Account.
    pub author: String,
    /// Event time.
    pub created_at: String,
    /// Group.
    pub group: Option<String>,
    /// Text as received.
    pub text: String,
    /// Verdict JSON.
    pub verdict_json: String,
    /// Action.
    pub action: String,
}

/// An appeal.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Appeal {
    /// Appeal id.
    pub id: i64,
    /// The case appealed.
    pub case_id: i64,
    /// The appellant's statement.
    pub statement: String,
    /// Who filed or recorded it.
    pub filed_by: String,
    /// When.
    pub filed_at: String,
    /// `open` or `decided`.
    pub status: String,
    /// `uphold` or `overturn`.
    pub outcome: Option<String>,
    /// Reason given.
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
}

/// One audit entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Time (RFC 3339, UTC).
    pub at: String,
    /// Who: a user name, or `rampart` for the engine.
    pub actor: String,
    /// `ingest`, `verdict`, `campaign`, `decision`, `appeal`,
    /// `appeal_decision`, `export`, `user`, `token`.
    pub kind: String,
    /// What it is about (post id, case id...).
    pub subject: String,
    /// Details (JSON).
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Why the audit chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenEntry {
    /// The first entry that does not verify.
    pub seq: i64,
    /// What is wrong with it.
    pub problem: String,
}

/// Errors from case operations that are the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such case / appeal / user.
    #[error("{0} not found")]
    NotFound(String),
    /// The request is not allowed in the current state.
    #[error("{0}")]
    Conflict(String),
    /// The user may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A bad value.
    #[error("{0}")]
    Invalid(String),
    /// The store cannot take the request now (its writer stopped).
    #[error("{0}")]
    Unavailable(String),
}

/// Decisions a reviewer can take on a case.
pub const DECISIONS: [&str; 3] = ["keep_down", "restore", "escalate"];
/// Outcomes of an appeal.
pub const APPEAL_OUTCOMES: [&str; 2] = ["uphold", "overturn"];

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The case store. Cheap to clone.
#[derive(Clone)]
pub struct CaseStore {
    pool: AnyPool,
    backend: Backend,
    location: String,
    /// Serialises SQLite writers (the chain head is read then written).
    writer: Arc<tokio::sync::Mutex<()>>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// SHA-256 of a secret token, hex: what the database keeps of tokens.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token (256 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

/// The hash of an audit entry.
pub fn audit_hash(
    prev: &str,
    seq: i64,
    at: &str,
    actor: &str,
    kind: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [prev, &seq.to_string(), at, actor, kind, subject, detail] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl CaseStore {
    /// Opens (creating and migrating) the store: a SQLite file path, or a
    /// `postgres://` URL.
    pub async fn open(location: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend =
            if location.starts_with("postgres://") || location.starts_with("postgresql://") {
                Backend::Postgres
            } else {
                Backend::Sqlite
            };
        let db = |source| StoreError::Db {
            location: redact(location),
            source,
        };
        let pool = match backend {
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(8)
                .connect(location)
                .await
                .map_err(db)?,
            Backend::Sqlite => {
                // Create the file and switch it to WAL once; every
                // connection then sets its own pragmas.
                crate::Store::open(location).await?.close().await;
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA busy_timeout = 10000")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA synchronous = NORMAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA foreign_keys = ON")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(&format!("sqlite://{location}"))
                    .await
                    .map_err(db)?
            }
        };
        let mut migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/cases/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/cases/postgres"),
        };
        // The registry keeps its own migrations table in the same file.
        migrator.dangerous_set_table_name(Cow::Borrowed("_rampart_case_migrations"));
        migrator
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                location: redact(location),
                source,
            })?;
        Ok(CaseStore {
            pool,
            backend,
            location: redact(location),
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn db(&self, source: sqlx::Error) -> StoreError {
        StoreError::Db {
            location: self.location.clone(),
            source,
        }
    }

    /// Runs `f` in one write transaction, the audit chain head locked.
    async fn write<T, F>(&self, f: F) -> Result<T, CaseError>
    where
        F: for<'t> FnOnce(
            &'t mut Tx,
            &'t mut Head,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T, CaseError>> + Send + 't>,
        >,
    {
        let _guard = match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        };
        let mut tx: Tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        let lock = match self.backend {
            Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        };
        let row = sqlx::query(lock)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
        let mut head = Head {
            seq: row.get(0),
            hash: row.get(1),
            start: row.get(0),
        };
        let out = f(&mut tx, &mut head).await?;
        if head.seq != head.start {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(head.seq)
                .bind(head.hash.clone())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
        }
        tx.commit().await.map_err(|e| self.db(e))?;
        Ok(out)
    }

    /// Stores a batch of posts with their verdicts in one transaction:
    /// posts already stored are skipped (their stored verdict is returned),
    /// a case is opened for every new post not allowed, and each new post
    /// gets an `ingest` and a `verdict` audit entry. When this returns, the
    /// whole batch is durable; on error nothing of it is.
    pub async fn ingest(&self, posts: Vec<NewPost>) -> Result<Vec<Ingested>, CaseError> {
        let location = self.location.clone();
        self.write(move |tx, head| {
            Box::pin(async move {
                let db = |source| StoreError::Db {
                    location: location.clone(),
                    source,
                };
                let mut out = Vec::with_capacity(posts.len());
                for p in posts {
                    let at = now();
                    let inserted = sqlx::query(
                        "INSERT INTO posts (post_id, author, created_at, group_id, text, post_json, verdict_json, action, received_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                         ON CONFLICT (post_id) DO NOTHING",
                    )
                    .bind(p.post_id.clone())
                    .bind(p.author.clone())
                    .bind(p.created_at.clone())
                    .bind(p.group.clone())
                    .bind(p.text.clone())
                    .bind(p.post_json.clone())
                    .bind(p.verdict_json.clone())
                    .bind(p.action.clone())
                    .bind(at.clone())
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    if inserted == 0 {
                        let row = sqlx::query(
                            "SELECT verdict_json, text, post_json FROM posts WHERE post_id = $1",
                        )
                        .bind(p.post_id.clone())
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(db)?;
                        let (stored_text, stored_json): (String, String) = (row.get(1), row.get(2));
                        let conflict = stored_text != p.text
                            || media_of(&stored_json) != media_of(&p.post_json);
                        if conflict {
                            head.append(
                                tx,
                                "rampart",
                                "ingest_conflict",
                                &p.post_id,
                                &serde_json::json!({
                                    "author": p.author,
                                    "stored_text_sha256": token_hash(&stored_text),
                                    "text_sha256": token_hash(&p.text),
                                })
                                .to_string(),
                            )
                            .await
                            .map_err(db)?;
                        }
                        let case: Option<i64> =
                            sqlx::query("SELECT id FROM cases WHERE post_id = $1")
                                .bind(p.post_id.clone())
                                .fetch_optional(&mut **tx)
                                .await
                                .map_err(db)?
                                .map(|r| r.get(0));
                        out.push(Ingested {
                            post_id: p.post_id,
                            verdict_json: row.get(0),
                            duplicate: true,
                            conflict,
                            case_id: case,
                        });
                        continue;
                    }
                    head.append(
                        tx,
                        "rampart",
                        "ingest",
                        &p.post_id,
                        &serde_json::json!({"author": p.author, "text_sha256": token_hash(&p.text)})
                            .to_string(),
                    )
                    .await
                    .map_err(db)?;
                    head.append(tx, "rampart", "verdict", &p.post_id, &p.verdict_json)
                        .await
                        .map_err(db)?;
                    let case_id = if p.action == "allow" {
                        None
                    } else {
                        let row = sqlx::query(
                            "INSERT INTO cases (kind, post_id, action, categories, severity, status, opened_at, updated_at)
                             VALUES ('post', $1, $2, $3, $4, 'open', $5, $5) RETURNING id",
                        )
                        .bind(p.post_id.clone())
                        .bind(p.action.clone())
                        .bind(join_categories(&p.categories))
                        .bind(p.severity)
                        .bind(at.clone())
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(db)?;
                        Some(row.get::<i64, _>(0))
                    };
                    out.push(Ingested {
                        post_id: p.post_id,
                        verdict_json: p.verdict_json,
                        duplicate: false,
                        conflict: false,
                        case_id,
                    });
                }
                Ok(out)
            })
        })
        .await
    }

    /// Opens the case of a new campaign, or updates it as it grows, and
    /// tags its members' posts and cases with the campaign.
    pub async fn upsert_campaign(&self, c: CampaignCase) -> Result<i64, CaseError> {
        let location = self.location.clone();
        self.write(move |tx, head| {
            Box::pin(async move {
                let db = |source| StoreError::Db {
                    location: location.clone(),
                    source,
                };
                let at = now();
                let existing: Option<i64> =
                    sqlx::query("SELECT id FROM cases WHERE campaign_id = $1")
                        .bind(c.campaign_id.clone())
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(db)?
                        .map(|r| r.get(0));
                let id = match existing {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE cases SET action = $1, categories = $2, severity = $3, detail_json = $4, updated_at = $5 WHERE id = $6",
                        )
                        .bind(c.action.clone())
                        .bind(join_categories(&c.categories))
                        .bind(c.severity)
                        .bind(c.record_json.clone())
                        .bind(at.clone())
                        .bind(id)
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                        id
                    }
                    None => sqlx::query(
                        "INSERT INTO cases (kind, campaign_id, action, categories, severity, status, campaign_ref, detail_json, opened_at, updated_at)
                         VALUES ('campaign', $1, $2, $3, $4, 'open', $1, $5, $6, $6) RETURNING id",
                    )
                    .bind(c.campaign_id.clone())
                    .bind(c.action.clone())
                    .bind(join_categories(&c.categories))
                    .bind(c.severity)
                    .bind(c.record_json.clone())
                    .bind(at.clone())
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(db)?
                    .get(0),
                };
                for m in &c.members {
                    for sql in [
                        "UPDATE posts SET campaign_ref = $1 WHERE post_id = $2",
                        "UPDATE cases SET campaign_ref = $1 WHERE post_id = $2",
                    ] {
                        sqlx::query(sql)
                            .bind(c.campaign_id.clone())
                            .bind(m.clone())
                            .execute(&mut **tx)
                            .await
                            .map_err(db)?;
                    }
                }
                head.append(tx, "rampart", "campaign", &c.campaign_id, &c.record_json)
                    .await
                    .map_err(db)?;
                Ok(id)
            })
        })
        .await
    }

    /// Cases matching `filter`, most severe first, then oldest.
    pub async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, CaseError> {
        let rows = sqlx::query(columns(format!(
            "SELECT {CASE_COLUMNS} FROM cases
             WHERE ($1 = '' OR action = $1)
               AND ($2 = '' OR categories LIKE $3)
               AND ($4 = '' OR status = $4)
               AND ($5 = '' OR campaign_ref = $5)
             ORDER BY severity DESC, opened_at ASC, id ASC
             LIMIT $6 OFFSET $7"
        )))
        .bind(filter.action.clone().unwrap_or_default())
        .bind(filter.category.clone().unwrap_or_default())
        .bind(format!(
            "%,{},%",
            filter.category.clone().unwrap_or_default()
        ))
        .bind(filter.status.clone().unwrap_or_default())
        .bind(filter.campaign.clone().unwrap_or_default())
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(case_from_row).collect())
    }

    /// Number of cases per status.
    pub async fn count_cases(&self) -> Result<Vec<(String, i64)>, CaseError> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) FROM cases GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// One case.
    pub async fn case(&self, id: i64) -> Result<Case, CaseError> {
        sqlx::query(columns(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .map(|r| case_from_row(&r))
        .ok_or_else(|| CaseError::NotFound(format!("case {id}")))
    }

    /// A stored post.
    pub async fn post(&self, post_id: &str) -> Result<Option<StoredPost>, CaseError> {
        Ok(sqlx::query(columns(format!(
            "SELECT {POST_COLUMNS} FROM posts WHERE post_id = $1"
        )))
        .bind(post_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .map(|r| post_from_row(&r)))
    }

    /// Number of stored posts.
    pub async fn post_count(&self) -> Result<i64, CaseError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM posts")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .get(0))
    }

    /// The account's latest posts (its history on the platform, as far as
    /// rampart saw it).
    pub async fn author_history(
        &self,
        author: &str,
        limit: i64,
    ) -> Result<Vec<StoredPost>, CaseError> {
        let rows = sqlx::query(columns(format!(
            "SELECT {POST_COLUMNS} FROM posts WHERE author = $1 ORDER BY created_at DESC LIMIT $2"
        )))
        .bind(author.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(post_from_row).collect())
    }

    /// A campaign's member posts in event-time order (its timeline).
    pub async fn campaign_timeline(&self, campaign: &str) -> Result<Vec<StoredPost>, CaseError> {
        let rows = sqlx::query(columns(format!(
            "SELECT {POST_COLUMNS} FROM posts WHERE campaign_ref = $1 ORDER BY created_at ASC"
        )))
        .bind(campaign.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(post_from_row).collect())
    }

    /// The case of a campaign.
    pub async fn campaign_case(&self, campaign: &str) -> Result<Option<Case>, CaseError> {
        Ok(sqlx::query(columns(format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE campaign_id = $1"
        )))
        .bind(campaign.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .map(|r| case_from_row(&r)))
    }

    /// Records a reviewer's decision on a case.
    pub async fn decide(
        &self,
        case_id: i64,
        user: &User,
        decision: &str,
        reason: &str,
    ) -> Result<Case, CaseError> {
        if !DECISIONS.contains(&decision) {
            return Err(CaseError::Invalid(format!(
                "decision must be one of {DECISIONS:?}, not {decision:?}"
            )));
        }
        let (location, user, decision, reason) = (
            self.location.clone(),
            user.clone(),
            decision.to_string(),
            reason.to_string(),
        );
        self.write(move |tx, head| {
            Box::pin(async move {
                let db = |source| StoreError::Db {
                    location: location.clone(),
                    source,
                };
                let status: Option<String> = sqlx::query("SELECT status FROM cases WHERE id = $1")
                    .bind(case_id)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?
                    .map(|r| r.get(0));
                match status.as_deref() {
                    None => return Err(CaseError::NotFound(format!("case {case_id}"))),
                    Some("appealed") => {
                        return Err(CaseError::Conflict(format!(
                            "case {case_id} has an open appeal: decide the appeal"
                        )))
                    }
                    // An appeal's outcome is final: undoing it takes a new
                    // appeal (decided by someone else), not a reviewer's
                    // second decision.
                    Some("closed") => {
                        return Err(CaseError::Conflict(format!(
                            "case {case_id} was closed by an appeal: only a new appeal can change it"
                        )))
                    }
                    _ => {}
                }
                let at = now();
                sqlx::query(
                    "UPDATE cases SET status = 'decided', decision = $1, reason = $2, decided_by = $3, decided_at = $4, updated_at = $4 WHERE id = $5",
                )
                .bind(decision.clone())
                .bind(reason.clone())
                .bind(user.name.clone())
                .bind(at)
                .bind(case_id)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
                head.append(
                    tx,
                    &user.name,
                    "decision",
                    &format!("case:{case_id}"),
                    &serde_json::json!({"decision": decision, "reason": reason}).to_string(),
                )
                .await
                .map_err(db)?;
                Ok(())
            })
        })
        .await?;
        self.case(case_id).await
    }

    /// Files an appeal against a case (the account's statement, recorded by
    /// `filed_by`). The case waits for a second reviewer.
    pub async fn file_appeal(
        &self,
        case_id: i64,
        filed_by: &str,
        statement: &str,
    ) -> Result<Appeal, CaseError> {
        if statement.trim().is_empty() {
            return Err(CaseError::Invalid("statement must not be empty".into()));
        }
        let (location, filed_by, statement) = (
            self.location.clone(),
            filed_by.to_string(),
            statement.to_string(),
        );
        let id = self
            .write(move |tx, head| {
                Box::pin(async move {
                    let db = |source| StoreError::Db {
                        location: location.clone(),
                        source,
                    };
                    let status: Option<String> =
                        sqlx::query("SELECT status FROM cases WHERE id = $1")
                            .bind(case_id)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(db)?
                            .map(|r| r.get(0));
                    match status.as_deref() {
                        None => return Err(CaseError::NotFound(format!("case {case_id}"))),
                        Some("appealed") => {
                            return Err(CaseError::Conflict(format!(
                                "case {case_id} already has an open appeal"
                            )))
                        }
                        _ => {}
                    }
                    let at = now();
                    let id: i64 = sqlx::query(
                        "INSERT INTO appeals (case_id, statement, filed_by, filed_at, status) VALUES ($1, $2, $3, $4, 'open') RETURNING id",
                    )
                    .bind(case_id)
                    .bind(statement.clone())
                    .bind(filed_by.clone())
                    .bind(at.clone())
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(db)?
                    .get(0);
                    sqlx::query("UPDATE cases SET status = 'appealed', updated_at = $1 WHERE id = $2")
                        .bind(at)
                        .bind(case_id)
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                    head.append(
                        tx,
                        &filed_by,
                        "appeal",
                        &format!("case:{case_id}"),
                        &serde_json::json!({"appeal": id, "statement_sha256": token_hash(&statement)})
                            .to_string(),
                    )
                    .await
                    .map_err(db)?;
                    Ok(id)
                })
            })
            .await?;
        self.appeal(id).await
    }

    /// One appeal.
    pub async fn appeal(&self, id: i64) -> Result<Appeal, CaseError> {
        sqlx::query(columns(format!(
            "SELECT {APPEAL_COLUMNS} FROM appeals WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .map(|r| appeal_from_row(&r))
        .ok_or_else(|| CaseError::NotFound(format!("appeal {id}")))
    }

    /// Appeals, open ones first, oldest first.
    pub async fn appeals(&self, status: Option<&str>) -> Result<Vec<Appeal>, CaseError> {
        let rows = sqlx::query(columns(format!(
            "SELECT {APPEAL_COLUMNS} FROM appeals WHERE ($1 = '' OR status = $1) ORDER BY status DESC, filed_at ASC, id ASC LIMIT 500"
        )))
        .bind(status.unwrap_or_default().to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(appeal_from_row).collect())
    }

    /// Appeals of one case.
    pub async fn case_appeals(&self, case_id: i64) -> Result<Vec<Appeal>, CaseError> {
        let rows = sqlx::query(columns(format!(
            "SELECT {APPEAL_COLUMNS} FROM appeals WHERE case_id = $1 ORDER BY id"
        )))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(appeal_from_row).collect())
    }

    /// Decides an appeal. The reviewer must be someone other than who
    /// decided the case and who filed the appeal: nobody decides their own
    /// appeal.
    pub async fn decide_appeal(
        &self,
        appeal_id: i64,
        user: &User,
        outcome: &str,
        reason: &str,
    ) -> Result<Appeal, CaseError> {
        if !APPEAL_OUTCOMES.contains(&outcome) {
            return Err(CaseError::Invalid(format!(
                "outcome must be one of {APPEAL_OUTCOMES:?}, not {outcome:?}"
            )));
        }
        let (location, user, outcome, reason) = (
            self.location.clone(),
            user.clone(),
            outcome.to_string(),
            reason.to_string(),
        );
        self.write(move |tx, head| {
            Box::pin(async move {
                let db = |source| StoreError::Db {
                    location: location.clone(),
                    source,
                };
                let row = sqlx::query(
                    "SELECT a.status, a.filed_by, a.case_id, c.decided_by FROM appeals a JOIN cases c ON c.id = a.case_id WHERE a.id = $1",
                )
                .bind(appeal_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db)?
                .ok_or_else(|| CaseError::NotFound(format!("appeal {appeal_id}")))?;
                let (status, filed_by, case_id, decided_by): (String, String, i64, Option<String>) =
                    (row.get(0), row.get(1), row.get(2), row.get(3));
                if status != "open" {
                    return Err(CaseError::Conflict(format!("appeal {appeal_id} is already decided")));
                }
                if filed_by == user.name || decided_by.as_deref() == Some(user.name.as_str()) {
                    return Err(CaseError::Forbidden(format!(
                        "{} took part in case {case_id}: a second reviewer must decide this appeal",
                        user.name
                    )));
                }
                let at = now();
                sqlx::query(
                    "UPDATE appeals SET status = 'decided', outcome = $1, reason = $2, decided_by = $3, decided_at = $4 WHERE id = $5",
                )
                .bind(outcome.clone())
                .bind(reason.clone())
                .bind(user.name.clone())
                .bind(at.clone())
                .bind(appeal_id)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
                let decision = if outcome == "overturn" { "restore" } else { "keep_down" };
                sqlx::query(
                    "UPDATE cases SET status = 'closed', decision = $1, reason = $2, decided_by = $3, decided_at = $4, updated_at = $4 WHERE id = $5",
                )
                .bind(decision)
                .bind(reason.clone())
                .bind(user.name.clone())
                .bind(at)
                .bind(case_id)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
                head.append(
                    tx,
                    &user.name,
                    "appeal_decision",
                    &format!("appeal:{appeal_id}"),
                    &serde_json::json!({"case": case_id, "outcome": outcome, "reason": reason})
                        .to_string(),
                )
                .await
                .map_err(db)?;
                Ok(())
            })
        })
        .await?;
        self.appeal(appeal_id).await
    }

    /// Adds an account (the password is hashed with argon2id).
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, CaseError> {
        if name.trim().is_empty() || name.len() > 64 {
            return Err(CaseError::Invalid(
                "user name must be 1 to 64 characters".into(),
            ));
        }
        if password.chars().count() < 8 {
            return Err(CaseError::Invalid(
                "password must be at least 8 characters".into(),
            ));
        }
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the OS random source works");
        let salt = SaltString::encode_b64(&salt).map_err(|e| CaseError::Invalid(e.to_string()))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| CaseError::Invalid(e.to_string()))?
            .to_string();
        let (location, name, hash) = (self.location.clone(), name.to_string(), hash);
        self.write(move |tx, head| {
            Box::pin(async move {
                let db = |source| StoreError::Db {
                    location: location.clone(),
                    source,
                };
                let id: Option<i64> = sqlx::query(
                    "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (name) DO NOTHING RETURNING id",
                )
                .bind(name.clone())
                .bind(role.as_str())
                .bind(hash)
                .bind(now())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db)?
                .map(|r| r.get(0));
                let Some(id) = id else {
                    return Err(CaseError::Conflict(format!("user {name:?} already exists")));
                };
                head.append(
                    tx,
                    "admin-cli",
                    "user",
                    &name,
                    &serde_json::json!({"role": role.as_str()}).to_string(),
                )
                .await
                .map_err(db)?;
                Ok(User { id, name, role })
            })
        })
        .await
    }

    /// The user with this name and password, if they match.
    pub async fn login(&self, name: &str, password: &str) -> Result<Option<User>, CaseError> {
        let row = sqlx::query("SELECT id, name, role, password_hash FROM users WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored: String = row.get(3);
        let ok = PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        Ok(ok.then(|| user_from_row(&row)))
    }

    /// A user by name.
    pub async fn user(&self, name: &str) -> Result<Option<User>, CaseError> {
        Ok(
            sqlx::query("SELECT id, name, role FROM users WHERE name = $1")
                .bind(name.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.db(e))?
                .map(|r| user_from_row(&r)),
        )
    }

    /// Creates an API token for a user; returns it (only its hash is kept).
    pub async fn create_token(&self, user: &str) -> Result<String, CaseError> {
        let u = self
            .user(user)
            .await?
            .ok_or_else(|| CaseError::NotFound(format!("user {user:?}")))?;
        let token = new_token();
        let (location, hash) = (self.location.clone(), token_hash(&token));
        self.write(move |tx, head| {
            Box::pin(async move {
                let db = |source| StoreError::Db {
                    location: location.clone(),
                    source,
                };
                sqlx::query(
                    "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
                )
                .bind(hash.clone())
                .bind(u.id)
                .bind(now())
                .execute(&mut **tx)
                .await
                .map_err(db)?;
                head.append(tx, "admin-cli", "token", &u.name, "{}")
                    .await
                    .map_err(db)?;
                Ok(())
            })
        })
        .await?;
        Ok(token)
    }

    /// The user an API token belongs to.
    pub async fn token_user(&self, token: &str) -> Result<Option<User>, CaseError> {
        Ok(sqlx::query(
            "SELECT u.id, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .map(|r| user_from_row(&r)))
    }

    /// Opens a session (12 hours); returns (session token, CSRF token).
    pub async fn create_session(&self, user: &User) -> Result<(String, String), CaseError> {
        let (token, csrf) = (new_token(), new_token());
        let expires = (chrono::Utc::now() + chrono::Duration::hours(12))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(user.id)
        .bind(csrf.clone())
        .bind(expires)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok((token, csrf))
    }

    /// The user and CSRF token of a live session.
    pub async fn session(&self, token: &str) -> Result<Option<(User, String)>, CaseError> {
        Ok(sqlx::query(
            "SELECT u.id, u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .map(|r| (user_from_row(&r), r.get(3))))
    }

    /// Ends a session.
    pub async fn end_session(&self, token: &str) -> Result<(), CaseError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Records an export (who exported what) in the audit log.
    pub async fn record_export(&self, actor: &str, what: &str) -> Result<(), CaseError> {
        let (location, actor, what) = (self.location.clone(), actor.to_string(), what.to_string());
        self.write(move |tx, head| {
            Box::pin(async move {
                head.append(tx, &actor, "export", &what, "{}")
                    .await
                    .map_err(|source| StoreError::Db { location, source })?;
                Ok(())
            })
        })
        .await
    }

    /// Audit entries after `after_seq`, in order.
    pub async fn audit(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditEntry>, CaseError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, kind, subject, detail, prev_hash, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                seq: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                kind: r.get(3),
                subject: r.get(4),
                detail: r.get(5),
                prev_hash: r.get(6),
                hash: r.get(7),
            })
            .collect())
    }

    /// Walks the whole audit chain. `Ok(n)`: all `n` entries hold, and the
    /// head agrees with the last one. `Err`: the first entry that does not.
    pub async fn verify_audit(&self) -> Result<Result<i64, BrokenEntry>, CaseError> {
        let mut prev = GENESIS.to_string();
        let mut expected_seq = 1;
        loop {
            let batch = self.audit(expected_seq - 1, 10_000).await?;
            if batch.is_empty() {
                break;
            }
            for e in batch {
                let broken = |problem: String| {
                    Ok(Err(BrokenEntry {
                        seq: e.seq,
                        problem,
                    }))
                };
                if e.seq != expected_seq {
                    return Ok(Err(BrokenEntry {
                        seq: expected_seq,
                        problem: format!("missing (next entry is {})", e.seq),
                    }));
                }
                if e.prev_hash != prev {
                    return broken("its previous-hash does not match the entry before it".into());
                }
                let want = audit_hash(
                    &prev, e.seq, &e.at, &e.actor, &e.kind, &e.subject, &e.detail,
                );
                if e.hash != want {
                    return broken("its contents do not match its hash (edited)".into());
                }
                prev = e.hash;
                expected_seq += 1;
            }
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        let (head_seq, head_hash): (i64, String) = (head.get(0), head.get(1));
        if head_seq != expected_seq - 1 || head_hash != prev {
            return Ok(Err(BrokenEntry {
                seq: head_seq.max(expected_seq),
                problem: format!(
                    "the chain ends at entry {} but the head records entry {head_seq} (entries were removed)",
                    expected_seq - 1
                ),
            }));
        }
        Ok(Ok(expected_seq - 1))
    }

    /// Saves the campaign detector's checkpoint (replacing the last one).
    pub async fn save_campaign_state(&self, checkpoint: &str) -> Result<(), CaseError> {
        sqlx::query(
            "INSERT INTO campaign_state (id, checkpoint, saved_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET checkpoint = excluded.checkpoint, saved_at = excluded.saved_at",
        )
        .bind(checkpoint.to_string())
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// The last saved campaign checkpoint, if any.
    pub async fn load_campaign_state(&self) -> Result<Option<String>, CaseError> {
        Ok(
            sqlx::query("SELECT checkpoint FROM campaign_state WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.db(e))?
                .map(|r| r.get(0)),
        )
    }

    /// Runs a raw statement: for tests that tamper with the database.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, CaseError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .rows_affected())
    }

    /// Closes the pool.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// The audit chain head inside a write transaction.
struct Head {
    seq: i64,
    hash: String,
    start: i64,
}

impl Head {
    async fn append(
        &mut self,
        tx: &mut Tx,
        actor: &str,
        kind: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(), sqlx::Error> {
        let seq = self.seq + 1;
        let at = now();
        let hash = audit_hash(&self.hash, seq, &at, actor, kind, subject, detail);
        sqlx::query(
            "INSERT INTO audit (seq, at, actor, kind, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(seq)
        .bind(at)
        .bind(actor.to_string())
        .bind(kind.to_string())
        .bind(subject.to_string())
        .bind(detail.to_string())
        .bind(self.hash.clone())
        .bind(hash.clone())
        .execute(&mut **tx)
        .await?;
        self.seq = seq;
        self.hash = hash;
        Ok(())
    }
}

const CASE_COLUMNS: &str = "id, kind, post_id, campaign_id, action, categories, severity, status, campaign_ref, decision, reason, decided_by, decided_at, opened_at, updated_at, detail_json";
const POST_COLUMNS: &str = "post_id, author, created_at, group_id, text, verdict_json, action";
const APPEAL_COLUMNS: &str =
    "id, case_id, statement, filed_by, filed_at, status, outcome, reason, decided_by, decided_at";

/// A query built from the column-list constants above (never from input).
fn columns(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

/// Categories stored as `,a,b,` so a category filter is one `LIKE`.
fn join_categories(c: &[String]) -> String {
    format!(",{},", c.join(","))
}

fn case_from_row(r: &AnyRow) -> Case {
    let cats: String = r.get(5);
    Case {
        id: r.get(0),
        kind: r.get(1),
        post_id: r.get(2),
        campaign_id: r.get(3),
        action: r.get(4),
        categories: cats
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        severity: r.get(6),
        status: r.get(7),
        campaign_ref: r.get(8),
        decision: r.get(9),
        reason: r.get(10),
        decided_by: r.get(11),
        decided_at: r.get(12),
        opened_at: r.get(13),
        updated_at: r.get(14),
        detail_json: r.get(15),
    }
}

fn post_from_row(r: &AnyRow) -> StoredPost {
    StoredPost {
        post_id: r.get(0),
        author: r.get(1),
        created_at: r.get(2),
        group: r.get(3),
        text: r.get(4),
        verdict_json: r.get(5),
        action: r.get(6),
    }
}

fn appeal_from_row(r: &AnyRow) -> Appeal {
    Appeal {
        id: r.get(0),
        case_id: r.get(1),
        statement: r.get(2),
        filed_by: r.get(3),
        filed_at: r.get(4),
        status: r.get(5),
        outcome: r.get(6),
        reason: r.get(7),
        decided_by: r.get(8),
        decided_at: r.get(9),
    }
}

fn user_from_row(r: &AnyRow) -> User {
    let role: String = r.get(2);
    User {
        id: r.get(0),
        name: r.get(1),
        role: Role::parse(&role).unwrap_or(Role::Reviewer),
    }
}

/// A location fit for messages: a URL's password is masked.
fn redact(location: &str) -> String {
    match (location.find("://"), location.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &location[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}://{}:***@{}",
                    &location[..scheme],
                    &creds[..colon],
                    &location[at + 1..]
                ),
                None => location.to_string(),
            }
        }
        _ => location.to_string(),
    }
}
