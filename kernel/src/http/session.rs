//! Sign-in over HTTP for people (the console): `POST /v1/session` answers with a
//! session cookie (HttpOnly, SameSite=Strict, `__Host-` and Secure unless
//! [`ApiConfig::secure_cookies`](super::ApiConfig::secure_cookies) is off) and the
//! session's anti-CSRF token; [`authenticate`] is the one place a request's caller
//! is found — a bearer token (integrators) or that cookie, and then, for a
//! state-changing request, the token in `X-CSRF-Token` (OWASP: synchroniser token;
//! the cookie alone never changes anything).

use super::{Api, ApiConfig, ApiError, blocking, body_bytes, parse};
use crate::kernel::Kernel;
use crate::model::User;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// The session cookie's name over HTTPS (`__Host-`: only from this host, path `/`,
/// Secure) and over plain HTTP.
pub const COOKIE_SECURE: &str = "__Host-shenbao_session";
pub const COOKIE_PLAIN: &str = "shenbao_session";
/// The header a cookie-signed state-changing request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Largest sign-in request body, in bytes (read before anyone is known).
const MAX_SIGN_IN_BODY: usize = 4 << 10;

/// A sign-in: a password, or a one-time code with the new password it sets.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The user's id.
    pub user: String,
    #[serde(default)]
    pub password: Option<String>,
    /// A one-time code from `shenbao user sign-in-code` (first sign-in, or a reset).
    #[serde(default)]
    pub code: Option<String>,
    /// With `code`: the password to set (12–128 characters).
    #[serde(default)]
    pub new_password: Option<String>,
}

/// A password set by an administrator.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// 12–128 characters, not the user's id.
    pub password: String,
}

/// The client's address, as the server accepted the connection (for throttling).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::IpAddr);

fn client_of(h: &axum::http::Extensions) -> String {
    h.get::<ClientAddr>().map_or_else(|| "unknown".to_string(), |c| c.0.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

/// The session secret in the request's cookies, if any.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(';') {
            let (name, value) = part.trim().split_once('=')?;
            if name == COOKIE_SECURE || name == COOKIE_PLAIN {
                return Some(value.to_string());
            }
        }
    }
    None
}

/// Constant-time equality of two tokens.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The calling user: from `Authorization: Bearer` (an API token) or else the
/// session cookie; with the cookie, a state-changing request (`changes`) must
/// carry the session's token in `X-CSRF-Token`.
///
/// # Errors
/// [`ApiError::Unauthenticated`] without valid credentials;
/// [`ApiError::CsrfFailed`] for a cookie-signed change without the right token.
pub(crate) fn authenticate(k: &Kernel, headers: &HeaderMap, changes: bool) -> Result<User, ApiError> {
    if let Some(token) = bearer(headers) {
        return k.authenticate(&token)?.ok_or(ApiError::Unauthenticated);
    }
    let secret = session_cookie(headers).ok_or(ApiError::Unauthenticated)?;
    let (user, csrf) = k.session_user(&secret)?.ok_or(ApiError::Unauthenticated)?;
    if changes {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !same(sent, &csrf) {
            return Err(ApiError::CsrfFailed);
        }
    }
    Ok(user)
}

fn cookie(config: &ApiConfig, value: &str, max_age: i64) -> HeaderValue {
    let (name, secure) = if config.secure_cookies { (COOKIE_SECURE, "; Secure") } else { (COOKIE_PLAIN, "") };
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&c).expect("a cookie of hex digits is a header value")
}

/// `POST /v1/session`: sign in.
pub(super) async fn sign_in(State(api): State<Api>, ext: axum::extract::Request) -> Response {
    let client = client_of(ext.extensions());
    // Login CSRF (OWASP): an HTML form on another site can post `text/plain` with a
    // cookie-less body that signs the victim into the attacker's account. A sign-in
    // is JSON (which a cross-site form cannot send without a CORS preflight this
    // server never grants), and a browser that says the request is cross-site is
    // refused outright.
    let json = ext
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    let cross_site = ext.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
    if !json || cross_site {
        return ApiError::Forbidden(
            "登录请求须为本站发出的 JSON 请求 / a sign-in must be a same-site request with Content-Type: application/json".into(),
        )
        .into_response();
    }
    let body = match body_bytes(ext.into_body(), MAX_SIGN_IN_BODY, api.config.body_read_timeout).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let k = api.kernel.clone();
    let result = blocking(move || {
        let req: SignInRequest = parse(&body)?;
        let session = match (req.password, req.code, req.new_password) {
            (Some(p), None, None) => k.sign_in(&req.user, &p, &client)?,
            (None, Some(c), Some(p)) => k.sign_in_with_code(&req.user, &c, &p, &client)?,
            _ => {
                return Err(ApiError::invalid(
                    "请给出 password，或 code 与 new_password",
                    "give `password`, or `code` and `new_password`",
                ));
            }
        };
        Ok(session)
    })
    .await;
    match result {
        Ok(s) => {
            let mut resp = (StatusCode::CREATED, axum::Json(&s)).into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie(&api.config, &s.secret, crate::SESSION_MAX_SECS));
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/session`: the signed-in user and the session's CSRF token (a page that
/// was reloaded gets it back; no other origin can read it).
pub(super) async fn current(State(api): State<Api>, h: HeaderMap) -> Response {
    let k = api.kernel.clone();
    let result = blocking(move || {
        let secret = session_cookie(&h).ok_or(ApiError::Unauthenticated)?;
        let (user, csrf) = k.session_user(&secret)?.ok_or(ApiError::Unauthenticated)?;
        Ok(json!({ "user": user, "csrf_token": csrf, "now": k.now() }))
    })
    .await;
    match result {
        Ok(v) => {
            let mut resp = (StatusCode::OK, axum::Json(v)).into_response();
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// `DELETE /v1/session`: sign out (the session ends on the server; the cookie is
/// cleared).
pub(super) async fn sign_out(State(api): State<Api>, h: HeaderMap) -> Response {
    let k = api.kernel.clone();
    let result = blocking(move || {
        authenticate(&k, &h, true)?;
        let secret = session_cookie(&h).ok_or(ApiError::Unauthenticated)?;
        k.end_session(&secret)?;
        Ok(())
    })
    .await;
    match result {
        Ok(()) => {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie(&api.config, "", 0));
            resp
        }
        Err(e) => e.into_response(),
    }
}
