//! The HTTP API (feature `http`): every action and query of the CLI as JSON over
//! HTTP, on axum and tokio.
//!
//! - **Authentication**: `Authorization: Bearer <token>`; tokens are issued by
//!   `shenbao user token issue` (or `POST /v1/users/{id}/tokens`) and stored hashed.
//! - **Authorization** on every request, object by object: an applicant sees only its
//!   organisation's applications, a reviewer only those in its region that have
//!   reached a stage its role acts at, an expert those assigned to it. Anything
//!   outside the caller's scope answers `404 not_found`, exactly like a missing object.
//! - **Idempotency**: every state-changing request may carry `Idempotency-Key`; a
//!   retry with the same key and body returns the first response and changes nothing
//!   (decisions record the key in their own transaction, so this holds across crashes).
//! - **Errors**: [`ErrorBody`] with a stable `code`; limits on body and page sizes.
//! - **OpenAPI 3.1**: [`openapi()`], generated from the route table ([`routes`]),
//!   committed as `schemas/openapi.json`.
//!
//! The kernel is synchronous (redb, wasmtime); handlers run it on tokio's blocking pool.

mod error;
mod openapi;
mod routes;

pub use error::{ApiError, ErrorBody, status_of};
pub use openapi::openapi;
pub use routes::{Access, ActionResponse, BatchRequest, Page, RouteDoc, route_docs};

use crate::idempotency::Claim;
use crate::kernel::Kernel;
use crate::model::{Application, Round, Scope, User};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Limits of the API.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Largest JSON request body, in bytes.
    pub max_body: usize,
    /// Largest attachment upload, in bytes (streamed to disk).
    pub max_upload: u64,
    /// Largest plugin component upload, in bytes.
    pub max_plugin: usize,
    /// Largest page a list may return.
    pub max_page: usize,
    /// How long a request waits for a running request with the same
    /// `Idempotency-Key` before it is answered `409 idempotency_key_in_progress`.
    pub idempotency_wait: std::time::Duration,
    /// How long a response carrying a secret (an issued token) is kept in memory for
    /// a retry with the same `Idempotency-Key`; it is never stored, so a retry after
    /// this window (or a restart) answers `"secret": null`.
    pub idempotency_secret_window: std::time::Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body: 1 << 20,
            max_upload: 100 << 20,
            max_plugin: 64 << 20,
            max_page: 500,
            idempotency_wait: std::time::Duration::from_secs(30),
            idempotency_secret_window: std::time::Duration::from_secs(60),
        }
    }
}

/// The state every handler shares.
#[derive(Clone)]
pub struct Api {
    pub kernel: Arc<Kernel>,
    pub config: Arc<ApiConfig>,
}

/// The API as an axum router (state included): mount it, or serve it with [`serve`].
pub fn router(kernel: Arc<Kernel>, config: ApiConfig) -> Router {
    routes::build(Api { kernel, config: Arc::new(config) })
}

/// Serve the API on `addr` until Ctrl-C.
pub async fn serve(kernel: Arc<Kernel>, addr: &str, config: ApiConfig) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("shenbao: serving the HTTP API on http://{}", listener.local_addr()?);
    axum::serve(listener, router(kernel, config))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Run kernel work on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let t = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

/// The calling user, from the bearer token.
fn caller(k: &Kernel, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = bearer(headers).ok_or(ApiError::Unauthenticated)?;
    k.authenticate(&token)?.ok_or(ApiError::Unauthenticated)
}

pub(crate) fn is_admin(u: &User) -> bool {
    u.grants.iter().any(|g| g.role == "admin" && g.scope == Scope::Province)
}

fn require_admin(u: &User) -> Result<(), ApiError> {
    if is_admin(u) { Ok(()) } else { Err(ApiError::Forbidden("需要管理员权限 / administrators only".into())) }
}

/// Whether `user` may see `app`: the access policy's [`may_see`](crate::engine::access::may_see),
/// with the applicant read for the region-scoped grants.
pub(crate) fn visible(k: &Kernel, user: &User, app: &Application, round: &Round) -> Result<bool, ApiError> {
    let Some(org) = k.org(&app.applicant)? else { return Ok(false) };
    Ok(crate::engine::access::may_see(user, app, round, &org))
}

/// The application if the caller may see it; otherwise the same `not_found` as a missing one.
fn visible_app(k: &Kernel, user: &User, id: &str) -> Result<Application, ApiError> {
    Ok(k.application_as(user, id)?)
}

/// Parse a JSON body: malformed JSON is `400 malformed_json`, well-formed JSON of the
/// wrong shape is `422 invalid_request` naming the field.
fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::Invalid(e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    })
}

/// Read a request body of at most `limit` bytes — only ever after the caller is
/// authenticated, so an anonymous client cannot make the server read (or hold) a body.
async fn body_bytes(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let e = e.into_inner();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return ApiError::TooLarge { limit: limit as u64 };
            }
            source = s.source();
        }
        ApiError::Invalid(format!("the request body could not be read: {e}"))
    })
}

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_HEADER) else { return Ok(None) };
    let s = v.to_str().map_err(|_| ApiError::Invalid("Idempotency-Key must be visible ASCII".into()))?;
    if s.is_empty() || s.len() > 200 {
        return Err(ApiError::Invalid("Idempotency-Key must be 1 to 200 characters".into()));
    }
    Ok(Some(s.to_string()))
}

/// What a state-changing handler gets.
pub(crate) struct Ctx<'a> {
    pub kernel: &'a Kernel,
    pub user: &'a User,
    pub key: Option<&'a str>,
    pub body: &'a [u8],
    pub config: &'a ApiConfig,
}

type Outcome = Result<(StatusCode, Value), ApiError>;

/// How a state-changing route answers: its kernel result → (status, body), and the
/// body fields that are secrets (shown once, never stored).
pub(crate) struct Answer<T> {
    pub respond: Box<dyn Fn(&T) -> Outcome + Send + Sync>,
    pub secret: &'static [&'static str],
    /// Administrators only: checked before anything else, a replay included.
    pub admin: bool,
}

impl<T> Answer<T> {
    pub(crate) fn new(respond: impl Fn(&T) -> Outcome + Send + Sync + 'static) -> Self {
        Answer { respond: Box::new(respond), secret: &[], admin: false }
    }
    pub(crate) fn admin(mut self) -> Self {
        self.admin = true;
        self
    }
    pub(crate) fn secret(mut self, fields: &'static [&'static str]) -> Self {
        self.secret = fields;
        self
    }
}

fn error_value(e: &ApiError) -> (u16, Value) {
    if e.status().is_server_error() {
        eprintln!("shenbao serve: {e}");
    }
    (e.status().as_u16(), serde_json::to_value(e.body()).expect("error bodies serialise"))
}

/// Run a state-changing request: authenticate, read the body within its limit, and
/// run `f` on the blocking pool — under the `Idempotency-Key`, if one is sent, through
/// [`Kernel::idempotent`](crate::idempotency): one execution per key, its answer
/// stored in the change's own transaction, every repeat answered with it.
async fn mutate<T: Send + 'static>(
    api: Api,
    headers: HeaderMap,
    what: String,
    body: Body,
    limit: usize,
    answer: Answer<T>,
    f: impl FnOnce(Ctx<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Response {
    // Authenticate first; only then read the body (within its limit).
    let (k, h) = (api.kernel.clone(), headers.clone());
    let admin_only = answer.admin;
    let user = match blocking(move || {
        let user = caller(&k, &h)?;
        if admin_only {
            require_admin(&user)?;
        }
        Ok(user)
    })
    .await
    {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    let body = match body_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let result = blocking(move || {
        let k = &*api.kernel;
        let key = idempotency_key(&headers)?;
        let respond = std::sync::Arc::new(answer.respond);
        let live = respond.clone();
        let run = || -> (u16, Value) {
            let ctx = Ctx { kernel: k, user: &user, key: key.as_deref(), body: &body, config: &api.config };
            match f(ctx).and_then(|t| live(&t)) {
                Ok((status, value)) => (status.as_u16(), value),
                Err(e) => error_value(&e),
            }
        };
        let Some(key_s) = key.clone() else {
            let (status, value) = run();
            return Ok((status, value, false));
        };
        let digest = {
            let mut h = Sha256::new();
            h.update(what.as_bytes());
            h.update([0]);
            h.update(&body);
            hex::encode(h.finalize())
        };
        let render: crate::idempotency::Render = Box::new(move |any| {
            let t = any.downcast_ref::<T>()?;
            respond(t).ok().map(|(s, v)| (s.as_u16(), v))
        });
        let keyed = crate::idempotency::Keyed {
            user: &user.id,
            key: &key_s,
            digest,
            secret: answer.secret,
            wait: api.config.idempotency_wait,
            keep_secret: api.config.idempotency_secret_window,
        };
        match k.idempotent(keyed, render, run)? {
            Claim::Answer { answer, replayed } => Ok((answer.status, answer.body, replayed)),
            Claim::Reused => Err(ApiError::IdempotencyKeyReused(key_s)),
            Claim::InProgress => Err(ApiError::IdempotencyKeyInProgress(key_s)),
        }
    })
    .await;
    match result {
        Ok((status, value, replayed)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = (status, axum::Json(value)).into_response();
            if replayed {
                resp.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// Run a read-only request as the calling user.
async fn query(
    api: Api,
    headers: HeaderMap,
    f: impl FnOnce(&Kernel, &User, &ApiConfig) -> Result<Value, ApiError> + Send + 'static,
) -> Response {
    match blocking(move || {
        let user = caller(&api.kernel, &headers)?;
        f(&api.kernel, &user, &api.config)
    })
    .await
    {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}
