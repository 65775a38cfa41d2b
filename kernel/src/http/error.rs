//! The API's errors: one enum, each variant a stable `code`, an HTTP status and a
//! bilingual message, with the findings or quota figures in `details`.

use crate::engine::Refusal;
use crate::error::{InstallError, LookupError, StoreError};
use crate::workflow::{ActError, AdminError, BatchError, RoundError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `quota_exceeded`, `blocking_findings`, `forbidden`.
    pub code: String,
    /// 中文说明 / English explanation.
    pub message: String,
    /// Findings, quota figures, the failing batch item … depending on `code`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub details: Value,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("未认证 / missing or unknown bearer token; send `Authorization: Bearer <token>`")]
    Unauthenticated,
    #[error("无权操作 / forbidden: {0}")]
    Forbidden(String),
    /// Also the answer for objects outside the caller's scope: existence is not revealed.
    #[error("{what} {id:?} 不存在 / not found")]
    NotFound { what: &'static str, id: String },
    #[error("请求体不是合法的 JSON / malformed JSON: {0}")]
    MalformedJson(String),
    #[error("请求内容无效 / invalid request: {0}")]
    Invalid(String),
    #[error("请求体超过 {limit} 字节上限 / the request body exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("每页最多 {max} 条 / page size {asked} exceeds the maximum of {max}")]
    PageTooLarge { asked: usize, max: usize },
    #[error("幂等键已用于另一个请求 / idempotency key {0:?} was already used for a different request")]
    IdempotencyKeyReused(String),
    #[error(transparent)]
    Act(#[from] ActError),
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Round(RoundError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<RoundError> for ApiError {
    fn from(e: RoundError) -> Self {
        match e {
            RoundError::NotFound(id) => ApiError::NotFound { what: "round", id },
            other => ApiError::Round(other),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::NotInstalled { program, version } => {
                ApiError::NotFound { what: "plugin", id: format!("{program}@{version}") }
            }
            LookupError::UnknownSha { sha256 } => ApiError::NotFound { what: "plugin", id: sha256 },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn refusal_status(r: &Refusal) -> StatusCode {
    match r {
        Refusal::Forbidden { .. } | Refusal::ConfirmNotAllowed => StatusCode::FORBIDDEN,
        Refusal::UnknownAction { .. }
        | Refusal::OpinionRequired { .. }
        | Refusal::MissingPayload { .. }
        | Refusal::NotBatchable { .. }
        | Refusal::NotAWarning { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    }
}

fn act_parts(e: &ActError) -> (StatusCode, Value) {
    match e {
        ActError::Refused(r) => {
            let details = match r {
                Refusal::QuotaExceeded { quota, scope, used, limit, .. } => {
                    json!({ "quota": quota, "scope": scope, "used": used, "limit": limit })
                }
                Refusal::UnconfirmedWarnings { rules } => json!({ "rules": rules }),
                Refusal::WindowClosed { window, detail } => json!({ "window": window, "detail": detail }),
                _ => Value::Null,
            };
            (refusal_status(r), details)
        }
        ActError::BlockingFindings { findings } => (StatusCode::UNPROCESSABLE_ENTITY, json!({ "findings": findings })),
        ActError::NotFound { .. } => (StatusCode::NOT_FOUND, Value::Null),
        ActError::Banned { until } => (StatusCode::CONFLICT, json!({ "until": until })),
        ActError::ProfileIncomplete { .. } | ActError::UnknownDirection { .. } | ActError::Blob(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Value::Null)
        }
        ActError::IdempotencyKeyReused { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Value::Null),
        ActError::Conflict => (StatusCode::CONFLICT, Value::Null),
        ActError::Check(_) => (StatusCode::BAD_GATEWAY, Value::Null),
        ActError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, Value::Null),
    }
}

impl ApiError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::Invalid(_) => "invalid_request",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::PageTooLarge { .. } => "page_too_large",
            ApiError::IdempotencyKeyReused(_) => "idempotency_key_reused",
            ApiError::Act(e) => e.code(),
            ApiError::Batch(b) => b.error.code(),
            ApiError::Round(RoundError::Exists(_)) => "round_exists",
            ApiError::Round(RoundError::Invalid { .. }) => "round_invalid",
            ApiError::Round(RoundError::Frozen { .. }) => "round_frozen",
            ApiError::Round(RoundError::Plugin(_)) => "plugin_failed",
            ApiError::Round(_) => "store",
            ApiError::Admin(AdminError::Store(_)) => "store",
            ApiError::Admin(_) => "invalid_reference_data",
            ApiError::Install(InstallError::Store(_)) => "store",
            ApiError::Install(_) => "plugin_refused",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid(_) | ApiError::PageTooLarge { .. } | ApiError::IdempotencyKeyReused(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Act(e) => act_parts(e).0,
            ApiError::Batch(b) => act_parts(&b.error).0,
            ApiError::Round(RoundError::Exists(_) | RoundError::Frozen { .. }) => StatusCode::CONFLICT,
            ApiError::Round(RoundError::Invalid { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Round(RoundError::Plugin(_)) => StatusCode::BAD_GATEWAY,
            ApiError::Round(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Admin(AdminError::Store(_)) | ApiError::Install(InstallError::Store(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            ApiError::Admin(_) | ApiError::Install(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn details(&self) -> Value {
        match self {
            ApiError::Act(e) => act_parts(e).1,
            ApiError::Batch(b) => {
                let mut d = act_parts(&b.error).1;
                if !d.is_object() {
                    d = json!({});
                }
                d["position"] = json!(b.position);
                d["application"] = json!(b.application);
                d
            }
            ApiError::Round(RoundError::Invalid { findings }) => json!({ "findings": findings }),
            ApiError::TooLarge { limit } => json!({ "limit": limit }),
            ApiError::PageTooLarge { max, .. } => json!({ "max": max }),
            _ => Value::Null,
        }
    }

    pub fn body(&self) -> ErrorBody {
        // Out-of-scope objects answer exactly as missing ones.
        let message = match self {
            ApiError::Act(ActError::NotFound { what, id }) => format!("{what} {id:?} 不存在 / not found"),
            other => other.to_string(),
        };
        ErrorBody { code: self.code().to_string(), message, details: self.details() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            eprintln!("shenbao serve: {self}");
        }
        (self.status(), axum::Json(self.body())).into_response()
    }
}
