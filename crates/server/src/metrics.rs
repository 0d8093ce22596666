//! Prometheus metrics: requests and latency per route, posts, verdicts
//! per action, cases opened. Served at `/metrics` to admins (bearer token).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};

use crate::auth::{AdminUser, ApiError};
use crate::Shared;

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Posts stored (duplicates not counted).
    pub posts: IntCounter,
    /// Verdicts by action.
    pub verdicts: IntCounterVec,
    /// Cases opened (posts and campaigns).
    pub cases: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "rampart_http_requests_total",
                "HTTP requests by route and status",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "rampart_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let posts = IntCounter::new("rampart_posts_ingested_total", "Posts stored").expect("valid");
        let verdicts = IntCounterVec::new(
            Opts::new("rampart_verdicts_total", "Verdicts by action"),
            &["action"],
        )
        .expect("valid metric");
        let cases = IntCounter::new("rampart_cases_opened_total", "Cases opened").expect("valid");
        for m in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(posts.clone()),
            Box::new(verdicts.clone()),
            Box::new(cases.clone()),
        ] {
            registry.register(m).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            latency,
            posts,
            verdicts,
            cases,
        }
    }
}

/// Middleware: counts and times every request by its route pattern.
pub async fn track(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let resp = next.run(req).await;
    let m = &state.metrics;
    m.latency
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .with_label_values(&[route.as_str(), resp.status().as_str()])
        .inc();
    resp
}

/// `GET /metrics` (admin): the Prometheus text format.
pub async fn handler(State(state): State<Shared>, _admin: AdminUser) -> Result<Response, ApiError> {
    let mut buf = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&state.metrics.registry.gather(), &mut buf)
        .map_err(|e| ApiError(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        String::from_utf8_lossy(&buf).into_owned(),
    )
        .into_response())
}
