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

pub use error::{ApiError, ErrorBody};
pub use openapi::openapi;
pub use routes::{Access, ActionResponse, BatchRequest, Page, RouteDoc, route_docs};

use crate::kernel::Kernel;
use crate::model::{Application, Round, Scope, User};
use crate::tables::API_RESPONSES;
use crate::workflow::{from_json, to_json};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use redb::ReadableDatabase;
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
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { max_body: 1 << 20, max_upload: 100 << 20, max_plugin: 64 << 20, max_page: 500 }
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

/// Whether `user` may see `app`: its own organisation's; a reviewer's region once
/// the application has been at a stage the reviewer's role acts at; an expert's
/// assigned ones; the public's while an action open to the public is possible.
pub(crate) fn visible(k: &Kernel, user: &User, app: &Application, round: &Round) -> Result<bool, ApiError> {
    let reached = |role: &str| {
        app.state.trail.iter().any(|v| {
            round.graph.actions.iter().any(|a| a.roles.iter().any(|r| r == role) && a.from_stages.contains(&v.stage))
        })
    };
    let mut org = None;
    for g in &user.grants {
        let ok =
            match &g.scope {
                Scope::Province if g.role == "admin" => true,
                Scope::Province => reached(&g.role),
                Scope::Organisation(o) => *o == app.applicant,
                Scope::Expert => app.state.experts.iter().any(|e| *e == user.id),
                Scope::Public => round.graph.actions.iter().any(|a| {
                    a.roles.iter().any(|r| *r == g.role) && a.from_stages.iter().any(|s| *s == app.state.stage)
                }),
                Scope::City(c) | Scope::District(c) => {
                    if org.is_none() {
                        org = k.org(&app.applicant)?;
                    }
                    let Some(o) = &org else { continue };
                    let inside = match &g.scope {
                        Scope::City(_) => o.city.as_ref() == Some(c),
                        _ => o.district.as_ref() == Some(c),
                    };
                    inside && reached(&g.role)
                }
            };
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The application if the caller may see it; otherwise the same `not_found` as a missing one.
fn visible_app(k: &Kernel, user: &User, id: &str) -> Result<Application, ApiError> {
    let hidden = || ApiError::NotFound { what: "application", id: id.to_string() };
    let app = k.application(id).map_err(|_| hidden())?;
    let round = k.round(&app.round)?;
    if visible(k, user, &app, &round)? { Ok(app) } else { Err(hidden()) }
}

/// Parse a JSON body: malformed JSON is `400 malformed_json`, well-formed JSON of the
/// wrong shape is `422 invalid_request` naming the field.
fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::Invalid(e.to_string()),
        _ => ApiError::MalformedJson(e.to_string()),
    })
}

fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit: limit as u64 }
        } else {
            ApiError::Invalid(r.body_text())
        }
    })
}

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// A response remembered under an idempotency key.
#[derive(serde::Serialize, serde::Deserialize)]
struct Remembered {
    digest: String,
    status: u16,
    body: Value,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_HEADER) else { return Ok(None) };
    let s = v.to_str().map_err(|_| ApiError::Invalid("Idempotency-Key must be visible ASCII".into()))?;
    if s.is_empty() || s.len() > 200 {
        return Err(ApiError::Invalid("Idempotency-Key must be 1 to 200 characters".into()));
    }
    Ok(Some(s.to_string()))
}

fn recall(k: &Kernel, user: &str, key: &str) -> Result<Option<Remembered>, ApiError> {
    let tx = k.db().begin_read().map_err(crate::error::StoreError::from)?;
    let t = tx.open_table(API_RESPONSES).map_err(crate::error::StoreError::from)?;
    let v = t.get((user, key)).map_err(crate::error::StoreError::from)?;
    Ok(v.map(|v| from_json("api_responses", v.value())).transpose()?)
}

fn remember(k: &Kernel, user: &str, key: &str, r: &Remembered) -> Result<(), ApiError> {
    let tx = k.db().begin_write().map_err(crate::error::StoreError::from)?;
    tx.open_table(API_RESPONSES)
        .map_err(crate::error::StoreError::from)?
        .insert((user, key), to_json(r).as_slice())
        .map_err(crate::error::StoreError::from)?;
    tx.commit().map_err(crate::error::StoreError::from)?;
    Ok(())
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

/// Run a state-changing request: authenticate, apply the idempotency key (a repeat
/// returns the remembered response; the same key with another request is refused),
/// run `f` on the blocking pool, remember its final answer.
async fn mutate(
    api: Api,
    headers: HeaderMap,
    what: String,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
    f: impl FnOnce(Ctx<'_>) -> Outcome + Send + 'static,
) -> Response {
    let result = blocking(move || {
        let k = &*api.kernel;
        let user = caller(k, &headers)?;
        let body = body_bytes(body, limit)?;
        let key = idempotency_key(&headers)?;
        let digest = {
            let mut h = Sha256::new();
            h.update(what.as_bytes());
            h.update([0]);
            h.update(&body);
            hex::encode(h.finalize())
        };
        if let Some(key) = &key {
            if let Some(r) = recall(k, &user.id, key)? {
                if r.digest != digest {
                    return Err(ApiError::IdempotencyKeyReused(key.clone()));
                }
                return Ok((StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK), r.body, true));
            }
        }
        let outcome = f(Ctx { kernel: k, user: &user, key: key.as_deref(), body: &body, config: &api.config });
        let (status, value) = match outcome {
            Ok(ok) => ok,
            Err(e) => (e.status(), serde_json::to_value(e.body()).expect("error bodies serialise")),
        };
        // Remember final answers (not server faults, which a retry may cure).
        if let Some(key) = &key {
            if !status.is_server_error() {
                remember(k, &user.id, key, &Remembered { digest, status: status.as_u16(), body: value.clone() })?;
            }
        }
        Ok((status, value, false))
    })
    .await;
    match result {
        Ok((status, value, replayed)) => {
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
