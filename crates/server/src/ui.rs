//! The review web UI: server-rendered HTML (maud escapes every value), a
//! little JavaScript for keyboard shortcuts. Every form carries the
//! session's CSRF token, checked before anything changes.

use axum::extract::{Form, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup, DOCTYPE};
use rampart_store::cases::{Appeal, Case, CaseError, Role, StoredPost, APPEAL_OUTCOMES};
use serde::Deserialize;

use crate::api::{case_filter, CaseQuery};
use crate::auth::{cookie, same_secret, PageUser, LOGIN_COOKIE, SESSION_COOKIE};
use crate::Shared;

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

/// `GET /static/app.css`.
pub async fn css() -> Response {
    ([(CONTENT_TYPE, "text/css")], CSS).into_response()
}

/// `GET /static/app.js`.
pub async fn js() -> Response {
    ([(CONTENT_TYPE, "text/javascript")], JS).into_response()
}

fn page(title: &str, user: Option<&PageUser>, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rampart" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/queue" { "rampart" }
                    @if let Some(u) = user {
                        nav {
                            a href="/queue" accesskey="q" { "Queue" }
                            a href="/appeals" { "Appeals" }
                            @if u.user.role >= Role::Admin { a href="/audit" { "Audit" } }
                        }
                        form.logout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(u.csrf);
                            span.who { (u.user.name) " · " (u.user.role.as_str()) }
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main { (body) }
                footer { "Keys: " kbd{"j"} "/" kbd{"k"} " move, " kbd{"o"} " open, " kbd{"d"} " keep down, " kbd{"r"} " restore, " kbd{"e"} " escalate, " kbd{"a"} " appeals, " kbd{"q"} " queue" }
            }
        }
    };
    (
        [
            (CACHE_CONTROL, "no-store"),
            (
                axum::http::header::HeaderName::from_static("content-security-policy"),
                "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; frame-ancestors 'none'",
            ),
        ],
        Html(markup.into_string()),
    )
        .into_response()
}

fn error_page(status: StatusCode, user: Option<&PageUser>, message: &str) -> Response {
    let mut r = page(
        "Error",
        user,
        html! { section.card { h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) } p.error { (message) } p { a href="/queue" { "Back to the queue" } } } },
    );
    *r.status_mut() = status;
    r
}

fn case_error(user: &PageUser, e: CaseError) -> Response {
    // The same status the API gives, shown as a page.
    let api = crate::auth::ApiError::from(e);
    error_page(api.0, Some(user), &api.1)
}

/// `GET /`.
pub async fn home(_user: PageUser) -> Redirect {
    Redirect::to("/queue")
}

/// `GET /login`: the form, with a CSRF token bound to a cookie.
pub async fn login_page() -> Response {
    login_form(None, StatusCode::OK)
}

fn login_form(error: Option<&str>, status: StatusCode) -> Response {
    let token = rampart_store::cases::new_token();
    let mut r = page(
        "Log in",
        None,
        html! {
            section.card.login {
                h1 { "Log in" }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(token);
                    label { "User name" input type="text" name="username" autocomplete="username" required autofocus; }
                    label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                    button type="submit" { "Log in" }
                }
            }
        },
    );
    *r.status_mut() = status;
    r.headers_mut().append(
        SET_COOKIE,
        format!("{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login")
            .parse()
            .expect("valid header"),
    );
    r
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /login`.
pub async fn login(
    State(state): State<Shared>,
    parts: Parts,
    Form(f): Form<LoginForm>,
) -> Response {
    let expected = cookie(&parts, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(&expected, &f.csrf) {
        return login_form(
            Some("The form expired; please log in again."),
            StatusCode::FORBIDDEN,
        );
    }
    match state.store.login(&f.username, &f.password).await {
        Ok(Some(user)) => match state.store.create_session(&user).await {
            Ok((token, _csrf)) => {
                let mut r = Redirect::to("/queue").into_response();
                r.headers_mut().append(
                    SET_COOKIE,
                    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/")
                        .parse()
                        .expect("valid header"),
                );
                r
            }
            Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string()),
        },
        Ok(None) => login_form(
            Some("Unknown user name or wrong password."),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, None, &e.to_string()),
    }
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<Shared>,
    user: PageUser,
    Form(f): Form<CsrfForm>,
) -> Response {
    if !same_secret(&user.csrf, &f.csrf) {
        return error_page(StatusCode::FORBIDDEN, Some(&user), "Bad CSRF token.");
    }
    let _ = state.store.end_session(&user.session).await;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        SET_COOKIE,
        format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
            .parse()
            .expect("valid header"),
    );
    r
}

fn age(opened_at: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(opened_at) else {
        return String::new();
    };
    let mins = (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_minutes();
    match mins {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} d", m / (24 * 60)),
    }
}

fn action_badge(action: &str) -> Markup {
    html! { span class={ "badge " (action) } { (action) } }
}

/// `GET /queue`.
pub async fn queue(
    State(state): State<Shared>,
    user: PageUser,
    Query(q): Query<CaseQuery>,
) -> Response {
    let filter = match case_filter(q) {
        Ok(mut f) => {
            if f.status.is_none() {
                f.status = Some("open".into());
            }
            f
        }
        Err(e) => return error_page(e.0, Some(&user), &e.1),
    };
    let cases = match state.store.list_cases(&filter).await {
        Ok(c) => c,
        Err(e) => return case_error(&user, e),
    };
    let counts = state.store.count_cases().await.unwrap_or_default();
    let mut previews = Vec::with_capacity(cases.len());
    for c in &cases {
        let text = match &c.post_id {
            Some(p) => state.store.post(p).await.ok().flatten().map(|p| p.text),
            None => c.detail_json.as_deref().and_then(|d| {
                serde_json::from_str::<serde_json::Value>(d).ok().map(|v| {
                    format!(
                        "Campaign against {} · {} posts",
                        v["target"].as_str().unwrap_or("?"),
                        v["members"].as_array().map_or(0, Vec::len)
                    )
                })
            }),
        };
        previews.push(text.unwrap_or_default());
    }
    let status = filter.status.clone().unwrap_or_default();
    page(
        "Queue",
        Some(&user),
        html! {
            section.card {
                h1 { "Review queue" }
                nav.tabs {
                    @for s in ["open", "appealed", "decided", "closed"] {
                        a href={ "/queue?status=" (s) } class=[(s == status).then_some("active")] {
                            (s) " (" (counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n)) ")"
                        }
                    }
                }
                @if cases.is_empty() {
                    p.empty { "Nothing here." }
                }
                @if filter.offset > 0 || cases.len() as i64 == filter.limit {
                    nav.pages {
                        @if filter.offset > 0 {
                            a rel="prev" href=(page_link(&filter, (filter.offset - filter.limit).max(0))) { "← Previous" }
                        }
                        span { "Cases " (filter.offset + 1) "–" (filter.offset + cases.len() as i64) }
                        @if cases.len() as i64 == filter.limit {
                            a rel="next" href=(page_link(&filter, filter.offset + filter.limit)) { "Next →" }
                        }
                    }
                }
                @if !cases.is_empty() {
                    table.queue {
                        thead { tr { th { "Case" } th { "Action" } th { "Categories" } th { "Post" } th { "Campaign" } th { "Age" } } }
                        tbody {
                            @for (c, text) in cases.iter().zip(&previews) {
                                tr.row data-href={ "/cases/" (c.id) } {
                                    td { a href={ "/cases/" (c.id) } { "#" (c.id) } @if c.kind == "campaign" { " " span.badge.campaign { "campaign" } } }
                                    td { (action_badge(&c.action)) }
                                    td { (c.categories.join(", ")) }
                                    td.preview { (truncate(text, 120)) }
                                    td { (c.campaign_ref.as_deref().unwrap_or("")) }
                                    td { (age(&c.opened_at)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The queue URL for another page, keeping the filters.
fn page_link(f: &rampart_store::cases::CaseFilter, offset: i64) -> String {
    let mut q = vec![format!("offset={offset}"), format!("limit={}", f.limit)];
    for (k, v) in [
        ("status", &f.status),
        ("action", &f.action),
        ("category", &f.category),
        ("campaign", &f.campaign),
    ] {
        if let Some(v) = v {
            // Filter values are checked against fixed lists, except the
            // campaign id: keep it URL-safe.
            let v: String = v
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            q.push(format!("{k}={v}"));
        }
    }
    format!("/queue?{}", q.join("&"))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// Splits a post's text into plain and highlighted pieces from the
/// verdict's evidence (character offsets, contract section 2).
pub fn highlight(text: &str, verdict: &serde_json::Value) -> Vec<(String, Option<String>)> {
    let chars: Vec<char> = text.chars().collect();
    let mut roles: Vec<Option<String>> = vec![None; chars.len()];
    for label in verdict["labels"].as_array().into_iter().flatten() {
        let category = label["category"].as_str().unwrap_or("");
        for ev in label["evidence"].as_array().into_iter().flatten() {
            let (Some(s), Some(e)) = (ev["start"].as_u64(), ev["end"].as_u64()) else {
                continue;
            };
            let role = format!("{category}: {}", ev["role"].as_str().unwrap_or(""));
            for r in roles
                .iter_mut()
                .take((e as usize).min(chars.len()))
                .skip(s as usize)
            {
                match r {
                    Some(existing) if !existing.contains(&role) => {
                        existing.push_str(", ");
                        existing.push_str(&role);
                    }
                    Some(_) => {}
                    None => *r = Some(role.clone()),
                }
            }
        }
    }
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (c, r) in chars.into_iter().zip(roles) {
        match out.last_mut() {
            Some((s, last)) if *last == r => s.push(c),
            _ => out.push((c.to_string(), r)),
        }
    }
    out
}

fn post_markup(p: &StoredPost, verdict: &serde_json::Value) -> Markup {
    html! {
        blockquote.post {
            @for (piece, role) in highlight(&p.text, verdict) {
                @if let Some(r) = role { mark.evidence title=(r) { (piece) } } @else { (piece) }
            }
        }
        p.meta { "by " strong { (p.author) } " at " (p.created_at) @if let Some(g) = &p.group { " in " (g) } " · post " code { (p.post_id) } }
    }
}

/// `GET /cases/{id}`.
pub async fn case_page(
    State(state): State<Shared>,
    user: PageUser,
    Path(id): Path<i64>,
) -> Response {
    let case = match state.store.case(id).await {
        Ok(c) => c,
        Err(e) => return case_error(&user, e),
    };
    let post = match &case.post_id {
        Some(p) => state.store.post(p).await.ok().flatten(),
        None => None,
    };
    let verdict: serde_json::Value = post
        .as_ref()
        .and_then(|p| serde_json::from_str(&p.verdict_json).ok())
        .unwrap_or_default();
    let campaign_id = case.campaign_ref.clone().or(case.campaign_id.clone());
    let timeline = match &campaign_id {
        Some(c) => state.store.campaign_timeline(c).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let campaign_case = match &campaign_id {
        Some(c) => state.store.campaign_case(c).await.ok().flatten(),
        None => None,
    };
    let history = match &post {
        Some(p) => state
            .store
            .author_history(&p.author, 20)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let appeals = state.store.case_appeals(id).await.unwrap_or_default();
    let reasons = state.scanner.policy().reasons().to_vec();
    page(
        &format!("Case {id}"),
        Some(&user),
        html! {
            div.layout {
                section.card.main-col {
                    h1 { "Case #" (case.id) " " (action_badge(&case.action)) " " span.status { (case.status) } }
                    @if let Some(p) = &post {
                        (post_markup(p, &verdict))
                        h2 { "Findings" }
                        table.findings {
                            thead { tr { th { "Category" } th { "Score" } th { "Tier" } th { "Evidence" } } }
                            tbody {
                                @for l in verdict["labels"].as_array().into_iter().flatten() {
                                    tr {
                                        td { (l["category"].as_str().unwrap_or("")) }
                                        td { (l["score"]) }
                                        td { (l["tier"].as_str().unwrap_or("")) }
                                        td {
                                            @for ev in l["evidence"].as_array().into_iter().flatten() { span.ev { (ev["role"].as_str().unwrap_or("")) ": “" (ev["text"].as_str().unwrap_or("")) "”" } " " }
                                            // Found in the text recognised in an attached image.
                                            @for ev in l["media_evidence"].as_array().into_iter().flatten() { span.ev.media { "in media " (ev["media"].as_u64().map_or(0, |m| m + 1)) ", " (ev["role"].as_str().unwrap_or("")) ": “" (ev["text"].as_str().unwrap_or("")) "”" } " " }
                                        }
                                    }
                                }
                            }
                        }
                        h2 { "Rules that fired" }
                        ul.rules { @for r in verdict["rules"].as_array().into_iter().flatten() { li { code { (r.as_str().unwrap_or("")) } } } }
                        @let matches = verdict["protected_match"].as_array().cloned().unwrap_or_default();
                        @if !matches.is_empty() {
                            h2 { "Protected person" }
                            ul.protected {
                                @for m in &matches {
                                    li { "Person " code { (m["person_id"].as_str().unwrap_or("")) } ": fields "
                                        (m["fields"].as_array().map(|f| f.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default())
                                        @if m["partial"].as_bool() == Some(true) { " (partial)" } }
                                }
                            }
                        }
                    }
                    @if case.kind == "campaign" {
                        @let rec: serde_json::Value = case.detail_json.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
                        p { "Campaign " code { (case.campaign_id.as_deref().unwrap_or("")) } " against " strong { (rec["target"].as_str().unwrap_or("?")) } ", accounts: " (rec["accounts"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                        @if let Some(groups) = rec["groups"].as_array() { @if !groups.is_empty() { p { "Groups: " @for g in groups { (g[0].as_str().unwrap_or("")) " (" (g[1]) ") " } } } }
                    }
                    (decision_block(&case, &user, &reasons))
                    (appeals_block(&case, &appeals, &user, &reasons))
                }
                aside.side-col {
                    @if let Some(c) = &campaign_id {
                        section.card {
                            h2 { "Campaign " code { (c) } }
                            @if let Some(cc) = &campaign_case { p { a href={ "/cases/" (cc.id) } { "Campaign case #" (cc.id) } " " (action_badge(&cc.action)) } }
                            ol.timeline {
                                @for m in &timeline {
                                    li class=[(Some(&m.post_id) == case.post_id.as_ref()).then_some("current")] {
                                        time { (m.created_at) } " " strong { (m.author) } " " (action_badge(&m.action)) br; span.preview { (truncate(&m.text, 90)) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(p) = &post {
                        section.card {
                            h2 { "Account history: " (p.author) }
                            ul.history {
                                @for h in &history {
                                    li { time { (h.created_at) } " " (action_badge(&h.action)) " " span.preview { (truncate(&h.text, 80)) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn decision_block(case: &Case, user: &PageUser, reasons: &[String]) -> Markup {
    html! {
        h2 { "Decision" }
        @if let Some(d) = &case.decision {
            p.decided { "Decided " strong { (d) } " by " (case.decided_by.as_deref().unwrap_or("")) ": " (case.reason.as_deref().unwrap_or("")) }
        }
        @if case.status != "appealed" && case.status != "closed" {
            form #decide method="post" action={ "/cases/" (case.id) "/decision" } {
                input type="hidden" name="csrf" value=(user.csrf);
                label { "Reason"
                    select name="reason" required {
                        @for r in reasons { option value=(r) { (r) } }
                    }
                }
                div.buttons {
                    button.keep type="submit" name="decision" value="keep_down" data-key="d" { "Keep down (d)" }
                    button.restore type="submit" name="decision" value="restore" data-key="r" { "Restore (r)" }
                    button.escalate type="submit" name="decision" value="escalate" data-key="e" { "Escalate (e)" }
                }
            }
        }
    }
}

fn appeals_block(case: &Case, appeals: &[Appeal], user: &PageUser, reasons: &[String]) -> Markup {
    html! {
        h2 { "Appeals" }
        @for a in appeals {
            div.appeal {
                p { "Appeal #" (a.id) " filed by " strong { (a.filed_by) } " at " (a.filed_at) " · " span.status { (a.status) } }
                blockquote.statement { (a.statement) }
                @if let Some(o) = &a.outcome { p { "Outcome: " strong { (o) } " by " (a.decided_by.as_deref().unwrap_or("")) ": " (a.reason.as_deref().unwrap_or("")) } }
                @if a.status == "open" {
                    form.appeal-decision method="post" action={ "/appeals/" (a.id) "/decision" } {
                        input type="hidden" name="csrf" value=(user.csrf);
                        label { "Reason" select name="reason" required { @for r in reasons { option value=(r) { (r) } } } }
                        div.buttons {
                            @for o in APPEAL_OUTCOMES { button type="submit" name="outcome" value=(o) { (o) } }
                        }
                    }
                }
            }
        }
        @if case.status == "decided" || (case.status == "open" && case.action != "review") {
            form #appeal method="post" action={ "/cases/" (case.id) "/appeal" } {
                input type="hidden" name="csrf" value=(user.csrf);
                label { "Record an appeal from the account" textarea name="statement" rows="3" required placeholder="The account's statement" {} }
                button type="submit" { "File appeal" }
            }
        }
    }
}

/// Decision form.
#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    reason: String,
}

/// `POST /cases/{id}/decision`.
pub async fn decide(
    State(state): State<Shared>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    if !same_secret(&user.csrf, &f.csrf) {
        return error_page(StatusCode::FORBIDDEN, Some(&user), "Bad CSRF token.");
    }
    if let Err(e) = crate::api::check_reason(&state, &f.reason) {
        return error_page(e.0, Some(&user), &e.1);
    }
    match state
        .store
        .decide(id, &user.user, &f.decision, &f.reason)
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => case_error(&user, e),
    }
}

/// Appeal form.
#[derive(Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    csrf: String,
    statement: String,
}

/// `POST /cases/{id}/appeal`.
pub async fn file_appeal(
    State(state): State<Shared>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<AppealForm>,
) -> Response {
    if !same_secret(&user.csrf, &f.csrf) {
        return error_page(StatusCode::FORBIDDEN, Some(&user), "Bad CSRF token.");
    }
    match state
        .store
        .file_appeal(id, &user.user.name, &f.statement)
        .await
    {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => case_error(&user, e),
    }
}

/// Appeal decision form.
#[derive(Deserialize)]
pub struct AppealDecisionForm {
    #[serde(default)]
    csrf: String,
    outcome: String,
    reason: String,
}

/// `POST /appeals/{id}/decision`.
pub async fn decide_appeal(
    State(state): State<Shared>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<AppealDecisionForm>,
) -> Response {
    if !same_secret(&user.csrf, &f.csrf) {
        return error_page(StatusCode::FORBIDDEN, Some(&user), "Bad CSRF token.");
    }
    if let Err(e) = crate::api::check_reason(&state, &f.reason) {
        return error_page(e.0, Some(&user), &e.1);
    }
    match state
        .store
        .decide_appeal(id, &user.user, &f.outcome, &f.reason)
        .await
    {
        Ok(a) => Redirect::to(&format!("/cases/{}", a.case_id)).into_response(),
        Err(e) => case_error(&user, e),
    }
}

/// `GET /appeals`: the appeals queue.
pub async fn appeals(State(state): State<Shared>, user: PageUser) -> Response {
    let list = match state.store.appeals(None).await {
        Ok(a) => a,
        Err(e) => return case_error(&user, e),
    };
    page(
        "Appeals",
        Some(&user),
        html! {
            section.card {
                h1 { "Appeals" }
                p.hint { "A second reviewer decides: nobody decides an appeal of their own decision or one they filed." }
                @if list.is_empty() { p.empty { "No appeals." } } @else {
                    table.queue {
                        thead { tr { th { "Appeal" } th { "Case" } th { "Filed by" } th { "Statement" } th { "Status" } } }
                        tbody {
                            @for a in &list {
                                tr.row data-href={ "/cases/" (a.case_id) } {
                                    td { "#" (a.id) }
                                    td { a href={ "/cases/" (a.case_id) } { "case #" (a.case_id) } }
                                    td { (a.filed_by) }
                                    td.preview { (truncate(&a.statement, 100)) }
                                    td { (a.status) @if let Some(o) = &a.outcome { ": " (o) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /audit` (admins): the latest entries and whether the chain holds.
pub async fn audit(State(state): State<Shared>, user: PageUser) -> Response {
    if user.user.role < Role::Admin {
        return error_page(
            StatusCode::FORBIDDEN,
            Some(&user),
            "The audit log is for admins.",
        );
    }
    let verdict = state.store.verify_audit().await;
    let entries = state.store.audit(0, 200).await.unwrap_or_default();
    page(
        "Audit",
        Some(&user),
        html! {
            section.card {
                h1 { "Audit log" }
                @match verdict {
                    Ok(Ok(n)) => p.ok { "The chain holds: " (n) " entries." },
                    Ok(Err(b)) => p.error { "Broken at entry " (b.seq) ": " (b.problem) },
                    Err(e) => p.error { (e.to_string()) },
                }
                table.audit {
                    thead { tr { th { "#" } th { "Time" } th { "Actor" } th { "Kind" } th { "Subject" } th { "Hash" } } }
                    tbody { @for e in &entries { tr { td { (e.seq) } td { (e.at) } td { (e.actor) } td { (e.kind) } td { (e.subject) } td { code { (&e.hash[..12]) } } } } }
                }
            }
        },
    )
}
