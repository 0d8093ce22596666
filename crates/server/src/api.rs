//! The JSON API under `/api/v1`, `/healthz` and `/openapi.json`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rampart_ingest::Post;
use rampart_store::cases::{CampaignCase, CaseFilter, NewPost};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::auth::{AdminUser, ApiError, ApiUser};
use crate::Shared;

/// Largest accepted ingest body.
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// `GET /healthz`: the store answers.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Up")))]
pub async fn healthz(State(state): State<Shared>) -> Response {
    match state.store.post_count().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")).into_response(),
    }
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "no such route".into())
}

/// Parses an ingest body: one post (`application/json`) or many
/// (`application/x-ndjson`). Any bad post refuses the whole body, naming
/// the line.
pub fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Post>, ApiError> {
    let bad = |msg: String| ApiError(StatusCode::BAD_REQUEST, msg);
    let ctype = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ctype.as_str() {
        "application/json" => {
            let post = rampart_ingest::parse_line(1, body)
                .map_err(|e| bad(format!("body: {}", e.kind)))?;
            Ok(vec![post])
        }
        "application/x-ndjson" | "application/jsonl" => {
            let mut posts = Vec::new();
            for (i, line) in body.split(|&b| b == b'\n').enumerate() {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let post = rampart_ingest::parse_line(i as u64 + 1, line)
                    .map_err(|e| bad(format!("line {}: {}", e.line, e.kind)))?;
                posts.push(post);
            }
            if posts.is_empty() {
                return Err(bad("body holds no post".into()));
            }
            Ok(posts)
        }
        other => Err(ApiError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Type must be application/json (one post) or application/x-ndjson (many), not {other:?}"
            ),
        )),
    }
}

/// Scans posts, stores them with their verdicts (one transaction), opens
/// cases, and records campaigns. Returns each post's verdict JSON (the
/// stored one for a post sent before).
pub async fn ingest_posts(state: &Shared, posts: Vec<Post>) -> Result<Vec<String>, ApiError> {
    // Detection and the learned stages are CPU work: they run on the
    // blocking pool, with no lock held, so a long post neither stalls the
    // async workers (`/healthz`, other requests) nor other ingests.
    let (posts, decided) = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || {
            let decided: Vec<_> = posts
                .iter()
                .map(|p| state.scanner.verdict_entities_signal(p))
                .collect();
            (posts, decided)
        })
        .await
        .map_err(|e| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("scan failed: {e}"),
            )
        })?
    };
    // Only the campaign step (hashing the post's words) holds the lock, so
    // posts still enter the campaign detector one batch at a time.
    let scanned = {
        let mut campaigns = state.campaigns.lock().map_err(|_| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "campaign state poisoned".into(),
            )
        })?;
        let mut out = Vec::with_capacity(posts.len());
        let mut grown = Vec::new();
        for (p, d) in posts.iter().zip(decided) {
            let detector = (!campaigns.knows(&p.id)).then_some(&mut *campaigns);
            let (verdict, campaign) = rampart_pipeline::observe_campaign(detector, p, d);
            grown.extend(campaign);
            out.push(verdict);
        }
        grown.extend(campaigns.take_finished());
        (out, grown)
    };
    let (verdicts, campaigns) = scanned;
    let new_posts: Vec<NewPost> = posts
        .iter()
        .zip(&verdicts)
        .map(|(p, v)| NewPost {
            post_id: p.id.clone(),
            author: p.author.clone(),
            created_at: p.created_at.to_rfc3339(),
            group: p.group.clone(),
            text: p.text.clone(),
            post_json: post_json(p),
            verdict_json: serde_json::to_string(v).expect("verdicts serialise"),
            action: v.action.as_str().to_string(),
            categories: v
                .labels
                .iter()
                .map(|l| l.category.as_str().to_string())
                .collect(),
            severity: crate::severity(v),
        })
        .collect();
    let stored = state.writer.ingest(new_posts).await?;
    for (s, v) in stored.iter().zip(&verdicts) {
        if !s.duplicate {
            state.metrics.posts.inc();
            state
                .metrics
                .verdicts
                .with_label_values(&[v.action.as_str()])
                .inc();
            if s.case_id.is_some() {
                state.metrics.cases.inc();
            }
        }
    }
    for c in campaigns {
        let record = serde_json::to_string(&c).expect("campaigns serialise");
        state
            .store
            .upsert_campaign(CampaignCase {
                campaign_id: c.id.clone(),
                action: c.action.to_string(),
                categories: c.labels.clone(),
                members: c.members.clone(),
                record_json: record,
                severity: if c.action == "escalate" { 40 } else { 35 },
            })
            .await?;
    }
    let conflicts: Vec<&str> = stored
        .iter()
        .filter(|s| s.conflict)
        .map(|s| s.post_id.as_str())
        .collect();
    if !conflicts.is_empty() {
        // The rest of the batch is stored; a harmful text sent under a
        // recycled id would otherwise get the old post's verdict unseen.
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!(
                "post id already stored with other content (send it under a new id): {}",
                conflicts.join(", ")
            ),
        ));
    }
    Ok(stored.into_iter().map(|s| s.verdict_json).collect())
}

/// The post as rampart keeps it (the fields of contract section 1).
fn post_json(p: &Post) -> String {
    let media: Vec<serde_json::Value> = p
        .media
        .iter()
        .map(|m| {
            serde_json::json!({"kind": m.kind, "sha256": m.sha256, "pdq": m.pdq, "ocr_text": m.ocr_text})
        })
        .collect();
    serde_json::json!({
        "id": p.id, "author": p.author, "created_at": p.created_at.to_rfc3339(),
        "text": p.text, "lang": p.lang, "group": p.group, "reply_to": p.reply_to,
        "media": media,
    })
    .to_string()
}

/// `POST /api/v1/posts`.
#[utoipa::path(post, path = "/api/v1/posts",
    request_body(content = String, description = "One post (application/json) or many (application/x-ndjson), contract section 1"),
    responses(
        (status = 200, description = "Verdicts (contract section 2): one object, or NDJSON in input order"),
        (status = 400, description = "A malformed post; nothing was stored"),
        (status = 409, description = "A post id already stored with other text or media: recorded in the audit log; the rest of the batch is stored"),
        (status = 401, description = "No or bad bearer token")),
    security(("bearer" = [])))]
pub async fn ingest(
    State(state): State<Shared>,
    ApiUser(_user): ApiUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body is over {MAX_BODY_BYTES} bytes: send smaller batches"),
        ));
    }
    let posts = parse_body(&headers, &body)?;
    let single = posts.len() == 1
        && headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
    let verdicts = ingest_posts(&state, posts).await?;
    if single {
        return Ok((
            [(CONTENT_TYPE, "application/json")],
            verdicts.into_iter().next().unwrap_or_default(),
        )
            .into_response());
    }
    let mut out = String::with_capacity(verdicts.iter().map(|v| v.len() + 1).sum());
    for v in verdicts {
        out.push_str(&v);
        out.push('\n');
    }
    Ok(([(CONTENT_TYPE, "application/x-ndjson")], out).into_response())
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Deserialize)]
pub struct CaseQuery {
    action: Option<String>,
    category: Option<String>,
    status: Option<String>,
    campaign: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Checks a case query's values; `Err` names the bad parameter.
pub fn case_filter(q: CaseQuery) -> Result<CaseFilter, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let check = |name: &str, v: &Option<String>, allowed: &[&str]| match v {
        Some(x) if !x.is_empty() && !allowed.contains(&x.as_str()) => {
            Err(bad(format!("{name} must be one of {allowed:?}, not {x:?}")))
        }
        _ => Ok(()),
    };
    check("action", &q.action, &["review", "remove", "escalate"])?;
    check(
        "category",
        &q.category,
        &["threat", "bounty", "doxxing", "targeted_surveillance"],
    )?;
    check(
        "status",
        &q.status,
        &["open", "decided", "appealed", "closed"],
    )?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(bad(format!("limit must be 1 to 500, not {limit}")));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(bad(format!("offset must not be negative, not {offset}")));
    }
    let some = |v: Option<String>| v.filter(|x| !x.is_empty());
    Ok(CaseFilter {
        action: some(q.action),
        category: some(q.category),
        status: some(q.status),
        campaign: some(q.campaign),
        limit,
        offset,
    })
}

/// `GET /api/v1/cases`.
#[utoipa::path(get, path = "/api/v1/cases",
    params(("action" = Option<String>, Query, description = "review | remove | escalate"),
           ("category" = Option<String>, Query, description = "threat | bounty | doxxing | targeted_surveillance"),
           ("status" = Option<String>, Query, description = "open | decided | appealed | closed"),
           ("campaign" = Option<String>, Query, description = "campaign id"),
           ("limit" = Option<i64>, Query, description = "page size, 1 to 500 (50)"),
           ("offset" = Option<i64>, Query, description = "rows to skip")),
    responses((status = 200, description = "Cases, most severe first"), (status = 400, description = "A bad filter"), (status = 401, description = "No credentials")),
    security(("bearer" = [])))]
pub async fn list_cases(
    State(state): State<Shared>,
    ApiUser(_user): ApiUser,
    query: Result<Query<CaseQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    let filter = case_filter(q)?;
    let cases = state.store.list_cases(&filter).await?;
    Ok(Json(serde_json::json!({
        "cases": cases, "limit": filter.limit, "offset": filter.offset,
    })))
}

/// `GET /api/v1/cases/{id}`.
#[utoipa::path(get, path = "/api/v1/cases/{id}", params(("id" = i64, Path, description = "case id")),
    responses((status = 200, description = "The case, its post and verdict, appeals, campaign timeline"), (status = 404, description = "No such case")),
    security(("bearer" = [])))]
pub async fn get_case(
    State(state): State<Shared>,
    ApiUser(_user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let case = state.store.case(id).await?;
    let post = match &case.post_id {
        Some(p) => state.store.post(p).await?,
        None => None,
    };
    let verdict: Option<serde_json::Value> = post
        .as_ref()
        .and_then(|p| serde_json::from_str(&p.verdict_json).ok());
    let campaign = case.campaign_ref.clone().or(case.campaign_id.clone());
    let timeline = match &campaign {
        Some(c) => state.store.campaign_timeline(c).await?,
        None => Vec::new(),
    };
    let appeals = state.store.case_appeals(id).await?;
    Ok(Json(serde_json::json!({
        "case": case,
        "post": post.map(|p| serde_json::json!({"id": p.post_id, "author": p.author, "created_at": p.created_at, "group": p.group, "text": p.text})),
        "verdict": verdict,
        "appeals": appeals,
        "campaign_timeline": timeline.iter().map(|p| serde_json::json!({"id": p.post_id, "author": p.author, "created_at": p.created_at, "action": p.action})).collect::<Vec<_>>(),
    })))
}

/// Body of a decision.
#[derive(Debug, Deserialize)]
pub struct DecisionBody {
    decision: String,
    reason: String,
}

/// The policy's reasons: a decision must give one.
pub fn check_reason(state: &Shared, reason: &str) -> Result<(), ApiError> {
    let reasons = state.scanner.policy().reasons();
    if reasons.iter().any(|r| r == reason) {
        Ok(())
    } else {
        Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("reason must be one of the policy's reasons {reasons:?}, not {reason:?}"),
        ))
    }
}

fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))
}

/// `POST /api/v1/cases/{id}/decision`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/decision", params(("id" = i64, Path, description = "case id")),
    request_body(content = String, description = "{\"decision\": \"keep_down\"|\"restore\"|\"escalate\", \"reason\": one of the policy's reasons}"),
    responses((status = 200, description = "The decided case"), (status = 400, description = "Bad decision or reason"), (status = 409, description = "The case has an open appeal")),
    security(("bearer" = [])))]
pub async fn decide(
    State(state): State<Shared>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    body: Result<Json<DecisionBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let b = json_body(body)?;
    check_reason(&state, &b.reason)?;
    let case = state
        .store
        .decide(id, &user, &b.decision, &b.reason)
        .await?;
    Ok(Json(serde_json::json!({ "case": case })))
}

/// Body of an appeal.
#[derive(Debug, Deserialize)]
pub struct AppealBody {
    case_id: i64,
    statement: String,
}

/// `POST /api/v1/appeals`.
#[utoipa::path(post, path = "/api/v1/appeals",
    request_body(content = String, description = "{\"case_id\": 1, \"statement\": \"...\"}"),
    responses((status = 201, description = "The appeal"), (status = 400, description = "Malformed"), (status = 409, description = "Already appealed")),
    security(("bearer" = [])))]
pub async fn file_appeal(
    State(state): State<Shared>,
    ApiUser(user): ApiUser,
    body: Result<Json<AppealBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let b = json_body(body)?;
    let appeal = state
        .store
        .file_appeal(b.case_id, &user.name, &b.statement)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "appeal": appeal })),
    )
        .into_response())
}

/// `GET /api/v1/appeals`.
#[utoipa::path(get, path = "/api/v1/appeals", responses((status = 200, description = "Appeals, open first")), security(("bearer" = [])))]
pub async fn list_appeals(
    State(state): State<Shared>,
    ApiUser(_user): ApiUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let appeals = state.store.appeals(None).await?;
    Ok(Json(serde_json::json!({ "appeals": appeals })))
}

/// Body of an appeal decision.
#[derive(Debug, Deserialize)]
pub struct AppealDecisionBody {
    outcome: String,
    reason: String,
}

/// `POST /api/v1/appeals/{id}/decision`.
#[utoipa::path(post, path = "/api/v1/appeals/{id}/decision", params(("id" = i64, Path, description = "appeal id")),
    request_body(content = String, description = "{\"outcome\": \"uphold\"|\"overturn\", \"reason\": one of the policy's reasons}"),
    responses((status = 200, description = "The decided appeal"), (status = 403, description = "The caller took part in the case")),
    security(("bearer" = [])))]
pub async fn decide_appeal(
    State(state): State<Shared>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    body: Result<Json<AppealDecisionBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let b = json_body(body)?;
    check_reason(&state, &b.reason)?;
    let appeal = state
        .store
        .decide_appeal(id, &user, &b.outcome, &b.reason)
        .await?;
    Ok(Json(serde_json::json!({ "appeal": appeal })))
}

/// Query of the audit route.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/audit` (admin).
#[utoipa::path(get, path = "/api/v1/audit",
    params(("after" = Option<i64>, Query, description = "entries after this sequence number"), ("limit" = Option<i64>, Query, description = "1 to 1000 (100)")),
    responses((status = 200, description = "Audit entries and whether the chain verifies"), (status = 403, description = "Not an admin")),
    security(("bearer" = [])))]
pub async fn audit(
    State(state): State<Shared>,
    AdminUser(user): AdminUser,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("limit must be 1 to 1000, not {limit}"),
        ));
    }
    let entries = state.store.audit(q.after.unwrap_or(0), limit).await?;
    state
        .store
        .record_export(&user.name, "audit entries via API")
        .await?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "rampart",
        description = "Targeted-harm detection: ingest posts, review cases, decide appeals, read the audit log."
    ),
    paths(
        healthz,
        ingest,
        list_cases,
        get_case,
        decide,
        file_appeal,
        list_appeals,
        decide_appeal,
        audit
    )
)]
struct ApiDoc;

/// `GET /openapi.json` (authenticated like every other route).
pub async fn openapi(ApiUser(_user): ApiUser) -> Response {
    let mut doc = ApiDoc::openapi();
    let comps = doc.components.get_or_insert_with(Default::default);
    comps.add_security_scheme(
        "bearer",
        utoipa::openapi::security::SecurityScheme::Http(utoipa::openapi::security::Http::new(
            utoipa::openapi::security::HttpAuthScheme::Bearer,
        )),
    );
    (
        [(CONTENT_TYPE, "application/json")],
        doc.to_json().unwrap_or_default(),
    )
        .into_response()
}
