//! The API's errors: one enum, each variant a stable `code`, an HTTP status and a
//! bilingual message, with the findings or quota figures in `details`.

use crate::backup::BackupError;
use crate::engine::Refusal;
use crate::error::{Classified, ErrorKind, InstallError, LookupError, StoreError};
use crate::io::ImportError;
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

/// The Chinese for what serde says is wrong with a request body: the field it names.
pub(crate) fn invalid_zh(message: &str) -> String {
    let quoted =
        |after: &str| message.split_once(after).and_then(|(_, rest)| rest.split('`').next()).map(str::to_string);
    if let Some(f) = quoted("unknown field `") {
        format!("不接受字段“{f}”")
    } else if let Some(f) = quoted("missing field `") {
        format!("缺少字段“{f}”")
    } else if let Some(v) = quoted("unknown variant `") {
        format!("取值“{v}”不在允许范围内")
    } else if message.contains("invalid type") || message.contains("invalid value") {
        "某字段的类型或取值不正确".into()
    } else if message.contains("invalid digit") || message.contains("number too large") {
        "应为不超过上限的非负整数".into()
    } else {
        "格式不正确".into()
    }
}

/// Every way a request can fail: the API's own refusals, and the kernel's errors
/// kept whole (their [`Classified`] kind and code are what the client sees).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "未认证：缺少访问令牌或令牌无效，请在请求头中发送 Authorization: Bearer <令牌> / missing or unknown bearer token; send `Authorization: Bearer <token>`"
    )]
    Unauthenticated,
    #[error("无权操作 / forbidden: {0}")]
    Forbidden(String),
    /// Also the answer for objects outside the caller's scope: existence is not revealed.
    #[error("{}“{id}”不存在 / {what} {id:?} does not exist", crate::workflow::what_zh(what))]
    NotFound { what: &'static str, id: String },
    #[error("请求体不是合法的 JSON / malformed JSON: {0}")]
    MalformedJson(String),
    /// The request's content is wrong: `zh` says what in whole Chinese, `en` in
    /// English (serde's message where it found the fault).
    #[error("请求内容无效：{zh} / invalid request: {en}")]
    Invalid { zh: String, en: String },
    /// A query parameter that does not parse (`parameter`: its name, where known).
    #[error(
        "查询参数{}无效：{zh} / invalid query parameter{}: {en}",
        .parameter.as_deref().map(|p| format!("“{p}”")).unwrap_or_default(),
        .parameter.as_deref().map(|p| format!(" `{p}`")).unwrap_or_default()
    )]
    InvalidQuery { parameter: Option<String>, zh: String, en: String },
    #[error("请求体超过 {limit} 字节上限 / the request body exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(
        "一页或一次批量最多 {max} 条（请求了 {asked} 条） / at most {max} items in a page or a batch ({asked} asked)"
    )]
    PageTooLarge { asked: usize, max: usize },
    #[error("幂等键已用于另一个请求 / idempotency key {0:?} was already used for a different request")]
    IdempotencyKeyReused(String),
    #[error(
        "使用该幂等键的请求仍在处理中，请稍后重试 / a request with idempotency key {0:?} is still in progress; retry later"
    )]
    IdempotencyKeyInProgress(String),
    #[error(transparent)]
    Act(#[from] ActError),
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Round(#[from] RoundError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Install(#[from] InstallError),
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("请求体在 {seconds} 秒内未送达 / the request body did not arrive within {seconds} s")]
    RequestTimeout { seconds: u64 },
    #[error(
        "上传过慢：{seconds} 秒后平均每秒不足 {min_rate} 字节 / the upload averaged under {min_rate} bytes/s after {seconds} s"
    )]
    UploadTooSlow { seconds: u64, min_rate: u64 },
    #[error(
        "同时进行的上传已达 {max} 个，请等待完成后再试 / {max} uploads of this user are already in progress; retry when one finishes"
    )]
    TooManyUploads { max: usize },
    #[error(
        "同时进行的汇总表导出已达 {max} 个，请稍后再试 / {max} summary exports are already in progress; retry when one finishes"
    )]
    TooManyExports { max: usize },
    #[error(
        "您同时进行的汇总表导出已达 {max} 个，请等待完成后再试 / {max} summary exports of this user are already in progress; retry when one finishes"
    )]
    TooManyExportsOfUser { max: usize },
    /// A download stopped by the server's limits or the client leaving
    /// (`ApiConfig::export_send_timeout`, `max_export_time`); not the server's failure.
    #[error("导出已停止 / the export stopped: {0}")]
    ExportStopped(String),
    /// A streamed download asked over HTTP/1.0, which cannot mark a body's end
    /// except by closing (a cut-off would read as a whole, shorter file).
    #[error(
        "请使用 HTTP/1.1 下载汇总表（反向代理请设置 proxy_http_version 1.1） / summary exports need HTTP/1.1 (behind a reverse proxy, set proxy_http_version 1.1)"
    )]
    HttpVersionNotSupported,
    #[error(transparent)]
    SignIn(#[from] crate::SignInError),
    /// A change signed in by a session cookie without the session's token in
    /// `X-CSRF-Token` (a cross-site request, or a page that lost its token).
    #[error(
        "请求缺少有效的 CSRF 令牌，请刷新页面后重试 / the request lacks the session's CSRF token (X-CSRF-Token); reload the page and retry"
    )]
    CsrfFailed,
    /// An endpoint asked with a method it does not take (its `Allow` header names
    /// those it does).
    #[error("此接口不支持 {method} 请求 / this endpoint does not take {method}")]
    MethodNotAllowed { method: String },
    #[error("内部错误 / internal error: {0}")]
    Internal(String),
}

/// The HTTP status of every error kind: the API's one map (the CLI's is
/// [`ErrorKind::exit_code`]; `tests` walk both).
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PluginFailed => StatusCode::BAD_GATEWAY,
        ErrorKind::Storage | ErrorKind::Corrupt | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn act_details(e: &ActError) -> Value {
    match e {
        ActError::Refused(r) => match r {
            Refusal::QuotaExceeded { quota, scope, used, limit, .. } => {
                json!({ "quota": quota, "scope": scope, "used": used, "limit": limit })
            }
            Refusal::UnconfirmedWarnings { rules } => json!({ "rules": rules }),
            Refusal::WindowClosed { window, detail, .. } => json!({ "window": window, "detail": detail }),
            Refusal::ReturnWindowClosed { stage, window, detail, .. } => {
                json!({ "stage": stage, "window": window, "detail": detail })
            }
            Refusal::Banned { until } => json!({ "until": until }),
            _ => Value::Null,
        },
        ActError::BlockingFindings { findings } => json!({ "findings": findings }),
        _ => Value::Null,
    }
}

impl Classified for ApiError {
    fn kind(&self) -> ErrorKind {
        match self {
            ApiError::Unauthenticated => ErrorKind::Unauthenticated,
            ApiError::Forbidden(_) => ErrorKind::Forbidden,
            ApiError::NotFound { .. } => ErrorKind::NotFound,
            ApiError::MalformedJson(_) => ErrorKind::Malformed,
            ApiError::Invalid { .. }
            | ApiError::InvalidQuery { .. }
            | ApiError::PageTooLarge { .. }
            | ApiError::IdempotencyKeyReused(_) => ErrorKind::Invalid,
            ApiError::TooLarge { .. } => ErrorKind::TooLarge,
            ApiError::IdempotencyKeyInProgress(_) => ErrorKind::Conflict,
            ApiError::Act(e) => e.kind(),
            ApiError::Batch(e) => e.kind(),
            ApiError::Round(e) => e.kind(),
            ApiError::Admin(e) => e.kind(),
            ApiError::Install(e) => e.kind(),
            ApiError::Lookup(e) => e.kind(),
            ApiError::Store(e) => e.kind(),
            ApiError::Backup(e) => e.kind(),
            ApiError::Import(e) => e.kind(),
            ApiError::Internal(_) => ErrorKind::Internal,
            ApiError::SignIn(e) => e.kind(),
            ApiError::CsrfFailed => ErrorKind::Forbidden,
            ApiError::RequestTimeout { .. } | ApiError::UploadTooSlow { .. } => ErrorKind::Invalid,
            ApiError::TooManyUploads { .. }
            | ApiError::TooManyExports { .. }
            | ApiError::TooManyExportsOfUser { .. } => ErrorKind::Conflict,
            ApiError::ExportStopped(_) | ApiError::HttpVersionNotSupported | ApiError::MethodNotAllowed { .. } => {
                ErrorKind::Invalid
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::Invalid { .. } | ApiError::InvalidQuery { .. } => "invalid_request",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::PageTooLarge { .. } => "page_too_large",
            ApiError::IdempotencyKeyReused(_) => "idempotency_key_reused",
            ApiError::IdempotencyKeyInProgress(_) => "idempotency_key_in_progress",
            ApiError::Act(e) => Classified::code(e),
            ApiError::Batch(e) => e.code(),
            ApiError::Round(e) => e.code(),
            ApiError::Admin(e) => e.code(),
            ApiError::Install(e) => e.code(),
            ApiError::Lookup(e) => e.code(),
            ApiError::Store(e) => e.code(),
            ApiError::Backup(e) => e.code(),
            ApiError::Import(e) => e.code(),
            ApiError::Internal(_) => "internal",
            ApiError::SignIn(e) => e.code(),
            ApiError::CsrfFailed => "csrf_failed",
            ApiError::RequestTimeout { .. } | ApiError::UploadTooSlow { .. } => "request_timeout",
            ApiError::TooManyUploads { .. } => "too_many_uploads",
            ApiError::TooManyExports { .. } | ApiError::TooManyExportsOfUser { .. } => "too_many_exports",
            ApiError::ExportStopped(_) => "export_stopped",
            ApiError::HttpVersionNotSupported => "http_version_not_supported",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
        }
    }
}

/// One refused row of an import, as `details.rows[]`: `{row, column, message}`.
fn row_detail(e: &ImportError) -> Value {
    match e {
        ImportError::Row { row, column, message, .. } => json!({ "row": row, "column": column, "message": message }),
        other => json!({ "message": other.to_string() }),
    }
}

impl ApiError {
    /// `422 invalid_request`: what is wrong, in whole Chinese and in English.
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::Invalid { zh: zh.into(), en: en.into() }
    }

    /// The HTTP status: [`status_of`] the error's kind, except the answers about the
    /// request itself (405, 408, 429 and 505, which have no CLI counterpart).
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::RequestTimeout { .. } | ApiError::UploadTooSlow { .. } | ApiError::ExportStopped(_) => {
                StatusCode::REQUEST_TIMEOUT
            }
            ApiError::HttpVersionNotSupported => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyUploads { .. }
            | ApiError::TooManyExports { .. }
            | ApiError::TooManyExportsOfUser { .. }
            | ApiError::SignIn(crate::SignInError::Throttled { .. }) => StatusCode::TOO_MANY_REQUESTS,
            _ => status_of(self.kind()),
        }
    }

    /// Seconds a client should wait before trying again (the `Retry-After` header of
    /// a `429`): the sign-in throttle's own wait; a second for an upload slot; five
    /// for an export slot (an export holds one for seconds).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::SignIn(crate::SignInError::Throttled { retry_after_secs }) => {
                Some(u64::try_from(*retry_after_secs).unwrap_or(1).max(1))
            }
            ApiError::TooManyUploads { .. } => Some(1),
            ApiError::TooManyExports { .. } | ApiError::TooManyExportsOfUser { .. } => Some(5),
            _ => None,
        }
    }

    fn details(&self) -> Value {
        match self {
            ApiError::Act(e) => act_details(e),
            ApiError::Batch(b) => {
                let mut d = act_details(&b.error);
                if !d.is_object() {
                    d = json!({});
                }
                d["position"] = json!(b.position);
                d["application"] = json!(b.application);
                d
            }
            ApiError::Round(RoundError::Invalid { findings }) => json!({ "findings": findings }),
            ApiError::Import(e @ ImportError::Row { .. }) => json!({ "rows": [row_detail(e)], "total": 1 }),
            ApiError::Import(ImportError::UnderReview(inner)) => match &**inner {
                e @ ImportError::Row { .. } => json!({ "rows": [row_detail(e)], "total": 1 }),
                ImportError::Rows { rows, total, .. } => {
                    json!({ "rows": rows.iter().map(row_detail).collect::<Vec<_>>(), "total": total })
                }
                other => json!({ "message": other.to_string() }),
            },
            ApiError::Import(ImportError::Rows { rows, total, .. }) => {
                json!({ "rows": rows.iter().map(row_detail).collect::<Vec<_>>(), "total": total })
            }
            ApiError::Import(ImportError::MissingColumn { column, accepted, .. }) => {
                json!({ "column": column, "accepted": accepted })
            }
            ApiError::TooLarge { limit } => json!({ "limit": limit }),
            ApiError::PageTooLarge { max, .. } => json!({ "max": max }),
            ApiError::RequestTimeout { seconds } => json!({ "seconds": seconds }),
            ApiError::UploadTooSlow { seconds, min_rate } => json!({ "seconds": seconds, "min_rate": min_rate }),
            ApiError::TooManyUploads { max } => json!({ "max": max }),
            ApiError::InvalidQuery { parameter: Some(p), .. } => json!({ "parameter": p }),
            ApiError::TooManyExports { max } => json!({ "max": max, "per": "server" }),
            ApiError::TooManyExportsOfUser { max } => json!({ "max": max, "per": "user" }),
            ApiError::SignIn(crate::SignInError::Throttled { retry_after_secs }) => {
                json!({ "retry_after_secs": retry_after_secs })
            }
            _ => Value::Null,
        }
    }

    /// The response body: stable code, bilingual message, details.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { code: self.code().to_string(), message: self.to_string(), details: self.details() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            eprintln!("shenbao serve: {self}");
        }
        let retry = self.retry_after_secs();
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Some(secs) = retry {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}
