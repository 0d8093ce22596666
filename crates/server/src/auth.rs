//! Who is asking: API callers by bearer token, people by session cookie.
//! Only hashes of tokens and sessions are stored (see the case store).

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use rampart_store::cases::{CaseError, Role, User};

use crate::Shared;

/// Session cookie name.
pub const SESSION_COOKIE: &str = "rampart_session";
/// Cookie carrying the login form's CSRF token (before a session exists).
pub const LOGIN_COOKIE: &str = "rampart_login";

/// A JSON error: `{"error": "..."}` with a status.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({"error": self.1}))).into_response()
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        let status = match &e {
            CaseError::NotFound(_) => StatusCode::NOT_FOUND,
            CaseError::Conflict(_) => StatusCode::CONFLICT,
            CaseError::Forbidden(_) => StatusCode::FORBIDDEN,
            CaseError::Invalid(_) => StatusCode::BAD_REQUEST,
            CaseError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            CaseError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError(status, e.to_string())
    }
}

/// An API caller, authenticated by `Authorization: Bearer TOKEN`.
pub struct ApiUser(pub User);

impl FromRequestParts<Shared> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError(
                StatusCode::UNAUTHORIZED,
                "authentication required: send Authorization: Bearer TOKEN (rampart token create)"
                    .into(),
            )
        };
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        match state.store.token_user(token.trim()).await? {
            Some(u) => Ok(ApiUser(u)),
            None => Err(unauthorized()),
        }
    }
}

/// An API caller with the admin role.
pub struct AdminUser(pub User);

impl FromRequestParts<Shared> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        if user.role < Role::Admin {
            return Err(ApiError(
                StatusCode::FORBIDDEN,
                format!(
                    "{} is a {}: this route needs an admin",
                    user.name,
                    user.role.as_str()
                ),
            ));
        }
        Ok(AdminUser(user))
    }
}

/// A person logged in through the web UI.
pub struct PageUser {
    /// Who.
    pub user: User,
    /// The session's CSRF token, required in every form.
    pub csrf: String,
    /// The session token (to log out).
    pub session: String,
}

/// The value of one cookie.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<Shared> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let to_login = || Redirect::to("/login").into_response();
        let Some(session) = cookie(parts, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match state.store.session(&session).await {
            Ok(Some((user, csrf))) => Ok(PageUser {
                user,
                csrf,
                session,
            }),
            Ok(None) => Err(to_login()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

/// Compares two secrets without an early exit.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
