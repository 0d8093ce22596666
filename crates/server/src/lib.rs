//! `rampart serve`: ingests posts over HTTP, scans them with the same
//! pipeline as `rampart scan`, opens cases in the case store, and serves
//! the JSON API (`/api/v1`), the review web UI, `/openapi.json`,
//! `/healthz` and Prometheus `/metrics`.
//!
//! Invariants:
//! - Nothing but `/healthz` and the login page answers without
//!   authentication: the API takes `Authorization: Bearer TOKEN`, pages take
//!   the session cookie (and redirect to `/login` without one).
//! - A post is acknowledged only after its batch is committed; a batch with
//!   one malformed post is refused whole (400) and nothing is stored.
//! - Every user-supplied string reaches HTML through maud, which escapes it.

mod api;
mod auth;
mod group_commit;
mod metrics;
mod ui;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use rampart_campaign::CampaignDetector;
use rampart_pipeline::Scanner;
use rampart_store::cases::CaseStore;

pub use group_commit::GroupCommit;
pub use metrics::Metrics;

/// What every handler shares.
pub struct AppState {
    /// The case store.
    pub store: CaseStore,
    /// Ingest writes go through here (group commit).
    pub writer: GroupCommit,
    /// Detector, policy and registry.
    pub scanner: Scanner,
    /// The streaming campaign detector (posts enter it in commit order).
    pub campaigns: Mutex<CampaignDetector>,
    /// Counters and latency histograms.
    pub metrics: Metrics,
}

/// Shared state handle.
pub type Shared = Arc<AppState>;

/// The whole application: API, pages, metrics.
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/openapi.json", get(api::openapi))
        .route("/metrics", get(metrics::handler))
        .route("/api/v1/posts", post(api::ingest))
        .route("/api/v1/cases", get(api::list_cases))
        .route("/api/v1/cases/{id}", get(api::get_case))
        .route("/api/v1/cases/{id}/decision", post(api::decide))
        .route(
            "/api/v1/appeals",
            post(api::file_appeal).get(api::list_appeals),
        )
        .route("/api/v1/appeals/{id}/decision", post(api::decide_appeal))
        .route("/api/v1/audit", get(api::audit))
        .route("/login", get(ui::login_page).post(ui::login))
        .route("/logout", post(ui::logout))
        .route("/", get(ui::home))
        .route("/queue", get(ui::queue))
        .route("/cases/{id}", get(ui::case_page))
        .route("/cases/{id}/decision", post(ui::decide))
        .route("/cases/{id}/appeal", post(ui::file_appeal))
        .route("/appeals", get(ui::appeals))
        .route("/appeals/{id}/decision", post(ui::decide_appeal))
        .route("/audit", get(ui::audit))
        .route("/static/app.css", get(ui::css))
        .route("/static/app.js", get(ui::js))
        .fallback(api::not_found)
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Headers every response carries: no MIME sniffing (an uploaded text is
/// never run as script), no referrer beyond this origin (case URLs name
/// case ids), and no framing by other sites (clickjacking of the decision
/// buttons).
async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Serves until Ctrl-C / SIGTERM, restoring and saving campaign state.
pub async fn serve(state: Shared, addr: SocketAddr) -> anyhow::Result<()> {
    if restore_campaigns(&state).await? {
        eprintln!("rampart serve: campaign state restored");
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    eprintln!(
        "rampart serve: listening on http://{}",
        listener.local_addr()?
    );
    // Campaign state survives restarts: saved every 30 s and on shutdown
    // (a SIGKILL loses at most the last 30 s of linking, never a case).
    let saver = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            tick.tick().await;
            loop {
                tick.tick().await;
                let _ = save_campaigns(&state).await;
            }
        })
    };
    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        })
        .await?;
    saver.abort();
    save_campaigns(&state).await?;
    Ok(())
}

/// Restores the campaign detector from the store's last checkpoint.
pub async fn restore_campaigns(state: &Shared) -> anyhow::Result<bool> {
    let Some(ckpt) = state.store.load_campaign_state().await? else {
        return Ok(false);
    };
    let mut c = state
        .campaigns
        .lock()
        .map_err(|_| anyhow::anyhow!("campaign state poisoned"))?;
    c.restore(&ckpt)
        .map_err(|e| anyhow::anyhow!("stored campaign checkpoint: {e}"))?;
    Ok(true)
}

/// Saves the campaign detector's state into the store.
pub async fn save_campaigns(state: &Shared) -> anyhow::Result<()> {
    let ckpt = {
        let c = state
            .campaigns
            .lock()
            .map_err(|_| anyhow::anyhow!("campaign state poisoned"))?;
        c.checkpoint()
    };
    state.store.save_campaign_state(&ckpt).await?;
    Ok(())
}

/// Queue order of a verdict: action first, then a protected-person match,
/// then the bounty tier. Higher is more urgent.
pub fn severity(verdict: &rampart_decide::Verdict) -> i64 {
    use rampart_decide::Action;
    let action = match verdict.action {
        Action::Escalate => 30,
        Action::Remove => 20,
        Action::Review => 10,
        Action::Allow => 0,
    };
    let protected = if verdict.protected_match.is_empty() {
        0
    } else {
        5
    };
    let tier = verdict
        .labels
        .iter()
        .filter_map(|l| l.tier)
        .map(|t| match t.as_str() {
            "lethal" => 3,
            "assault" => 2,
            _ => 1,
        })
        .max()
        .unwrap_or(0);
    action + protected + tier
}
