//! Every endpoint: its handler and its documentation in one table ([`route_docs`]),
//! from which both the router and the OpenAPI document are built, so they cannot drift.

use super::{Answer, Api, ApiError, Ctx, blocking, caller, mutate, parse, query, require_admin, visible_app};
use crate::attachments::{BlobError, BlobRef};
use crate::backup::BackupReport;
use crate::calendar::Calendar;
use crate::kernel::Installed;
use crate::kernel::Kernel;
use crate::model::{ActionRequest, Application, Decision, Organisation, Round, RoundSpec, Scope, User};
use crate::regions::{Region, RegionKind};
use crate::registry::PluginRecord;
use crate::summary::{Summary, SummaryLevel};
use crate::tokens::{IssuedToken, TokenInfo};
use crate::workflow::{ActionOptions, ChainReport, Draft, QueueItem, Receipt, ReplayReport};
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shenbao_contract::Finding;
use std::collections::BTreeMap;

/// The answer to an action on an application.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionResponse {
    /// The recorded decision (hash-chained).
    pub decision: Decision,
    /// The application after the decision.
    pub application: Application,
    /// Every finding of the check this action ran (warnings included), if it ran one.
    pub findings: Vec<Finding>,
    /// A repeated idempotency key: this is the first request's decision, nothing changed now.
    pub replayed: bool,
}

impl From<Receipt> for ActionResponse {
    fn from(r: Receipt) -> Self {
        ActionResponse {
            findings: r.check.as_ref().map(|c| c.findings().cloned().collect()).unwrap_or_default(),
            decision: r.decision,
            application: r.application,
            replayed: r.replayed,
        }
    }
}

/// The answer to `POST /v1/plugins`: the installed plugin's record, whether these
/// bytes were new, and what keeps its forms from rendering well in standard tools.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InstalledPlugin {
    #[serde(flatten)]
    pub record: PluginRecord,
    /// False when exactly these bytes were installed before (`200`, nothing changed);
    /// true on a new install (`201`).
    pub newly_installed: bool,
    /// Each as `FORM/path: problem — what to do` (`shenbao::form_problems`); the plugin
    /// is installed all the same.
    pub form_warnings: Vec<String>,
}

/// The same action on many applications (批量推荐): all or none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub applications: Vec<String>,
    pub request: ActionRequest,
}

/// One page of a list; pass `next` as `after` for the following page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

#[derive(Deserialize)]
struct QueuePageQuery {
    after: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    view: crate::QueueView,
    stage: Option<String>,
}

#[derive(Deserialize)]
struct SummaryQuery {
    level: Option<SummaryLevel>,
    scope: Option<String>,
    format: Option<String>,
}

/// Where the server writes a backup.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    /// The backup's file name inside the server's backup folder (`--backup-dir`):
    /// letters, digits, `-`, `_` and `.`, not starting with `.`, at most 100
    /// characters; the file must not exist yet.
    name: String,
}

/// A backup's file name: one plain path component, so a backup never lands outside
/// the configured folder.
fn backup_name(name: &str) -> Result<&str, ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name)
    } else {
        Err(ApiError::invalid(
            "备份文件名只能含字母、数字、-、_、.，不以 . 开头，不超过 100 个字符",
            format!(
                "backup name {:?} must be letters, digits, '-', '_' or '.', not start with '.', at most 100 \
                 characters (a file inside the backup folder)",
                name.chars().take(120).collect::<String>()
            ),
        ))
    }
}

/// How to close a round (the body may be empty: `force` false).
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CloseRequest {
    /// Close even with applications at a review, expert or notice stage, which then
    /// stay there for good; without it such a round is `409 round_under_review`.
    #[serde(default)]
    force: bool,
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    #[serde(default)]
    label: String,
}

/// Who may call an endpoint, for the documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Open,
    /// Any authenticated user; objects filtered by scope.
    Scoped,
    /// Administrators (role `admin`, province scope).
    Admin,
}

/// One endpoint as documented.
#[derive(Clone, Copy)]
pub struct RouteDoc {
    pub method: &'static str,
    /// axum and OpenAPI share the `{param}` syntax.
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub request: Option<fn(&mut SchemaGenerator) -> Schema>,
    /// Content type of the request body (JSON unless said).
    pub request_type: &'static str,
    pub response: Option<fn(&mut SchemaGenerator) -> Schema>,
    /// Query parameters: (name, description); a description starting `required: `
    /// marks one the endpoint cannot do without.
    pub query: &'static [(&'static str, &'static str)],
    /// Status of a success.
    pub success: u16,
}

fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

const JSON: &str = "application/json";

fn doc(method: &'static str, path: &'static str, summary: &'static str, access: Access) -> RouteDoc {
    RouteDoc {
        method,
        path,
        summary,
        access,
        request: None,
        request_type: JSON,
        response: None,
        query: &[],
        success: 200,
    }
}

impl RouteDoc {
    fn req(mut self, f: fn(&mut SchemaGenerator) -> Schema) -> Self {
        self.request = Some(f);
        self
    }
    fn res(mut self, f: fn(&mut SchemaGenerator) -> Schema) -> Self {
        self.response = Some(f);
        self
    }
    fn q(mut self, q: &'static [(&'static str, &'static str)]) -> Self {
        self.query = q;
        self
    }
    fn created(mut self) -> Self {
        self.success = 201;
        self
    }
    fn body_type(mut self, t: &'static str) -> Self {
        self.request_type = t;
        self
    }
}

const PAGE_Q: &[(&str, &str)] =
    &[("after", "cursor: the `next` of the previous page"), ("limit", "page size (default 50, at most 500)")];

/// Every route: documentation and handler.
fn table(config: &super::ApiConfig) -> Vec<(RouteDoc, MethodRouter<Api>)> {
    use Access::*;
    let max_plugin = config.max_plugin;
    vec![
        (doc("get", "/v1/health", "Liveness: the server answers", Open), get(health)),
        (doc("get", "/openapi.json", "This OpenAPI 3.1 document", Open), get(openapi_doc)),
        (doc("get", "/v1/me", "The calling user and its grants", Scoped).res(s::<User>), get(me)),
        (
            doc(
                "post",
                "/v1/session",
                "Sign in (people, the console): a password, or a one-time code with the new password it sets. Answers the user and the session's CSRF token, and sets the session cookie (HttpOnly, SameSite=Strict); a state-changing request signed in by the cookie sends the token as X-CSRF-Token. Failed sign-ins are throttled per user and address (429 too_many_attempts).",
                Open,
            )
            .req(s::<super::SignInRequest>)
            .res(s::<crate::Session>)
            .created(),
            post(super::session::sign_in),
        ),
        (
            doc("get", "/v1/session", "The user signed in by the session cookie, and the session's CSRF token", Scoped),
            get(super::session::current),
        ),
        (doc("delete", "/v1/session", "Sign out: the session ends and its cookie is cleared", Scoped), delete(super::session::sign_out)),
        (
            doc("put", "/v1/users/{id}/password", "Set a user's password (12–128 characters); ends the user's sessions", Admin)
                .req(s::<super::PasswordRequest>),
            put(set_password),
        ),
        (
            doc(
                "post",
                "/v1/users/{id}/sign-in-code",
                "Issue a one-time sign-in code (shown once, valid 72 h) with which the user signs in and sets a password",
                Admin,
            )
            .created(),
            post(sign_in_code),
        ),
        (doc("get", "/v1/plugins", "Installed program plugins", Scoped).res(s::<Vec<PluginRecord>>), get(plugins)),
        (
            doc("post", "/v1/plugins", "Install a program plugin (the component's bytes)", Admin)
                .body_type("application/wasm")
                .res(s::<InstalledPlugin>)
                .created(),
            post(install_plugin).layer(DefaultBodyLimit::max(max_plugin)),
        ),
        (doc("get", "/v1/rounds", "Every round", Scoped).res(s::<Vec<Round>>), get(rounds)),
        (
            doc("post", "/v1/rounds", "Create a round (checked by the kernel and the plugin)", Admin)
                .req(s::<RoundSpec>)
                .res(s::<Round>)
                .created(),
            post(create_round),
        ),
        (doc("get", "/v1/rounds/{round}", "One round", Scoped).res(s::<Round>), get(round)),
        (
            doc("put", "/v1/rounds/{round}", "Reconfigure a round that is not open yet", Admin)
                .req(s::<RoundSpec>)
                .res(s::<Round>),
            put(configure_round),
        ),
        (doc("post", "/v1/rounds/{round}/open", "Open a round", Admin).res(s::<Round>), post(open_round)),
        (
            doc("post", "/v1/rounds/{round}/close", "Close a round (refused while applications are under review, unless forced)", Admin)
                .req(s::<CloseRequest>)
                .res(s::<Round>),
            post(close_round),
        ),
        (
            doc("get", "/v1/rounds/{round}/forms/{form}", "A form of the round's program, as its JSON Schema", Scoped),
            get(form_schema),
        ),
        (doc("get", "/v1/rounds/{round}/quotas", "Quota usage: (quota, scope, used)", Scoped), get(quotas)),
        (
            doc(
                "get",
                "/v1/rounds/{round}/queue",
                "The caller's lists (审核队列): what waits for it (view=pending, the default, in (stage, city, district) order; stage= narrows any list to the applications now at that stage), or what it handled — recommended on (recommended), returned to the applicant (returned), not recommended (not-recommended) — in (city, district) order. Each row names the applicant, project, submission time, due date and whether it is overdue",
                Scoped,
            )
            .q(&[
                ("after", "cursor: the `next` of the previous page"),
                ("limit", "page size (default 50, at most 500)"),
                ("view", "pending (default), recommended, returned or not-recommended"),
                ("stage", "only the applications now at this stage (a stage id of the round's graph)"),
            ])
            .res(s::<Page<QueueItem>>),
            get(queue),
        ),
        (
            doc("get", "/v1/rounds/{round}/applications", "The applications of the round the caller may see", Scoped)
                .q(PAGE_Q)
                .res(s::<Page<Application>>),
            get(list_applications),
        ),
        (
            doc("post", "/v1/rounds/{round}/applications", "Start an application: save a first draft", Scoped)
                .req(s::<Draft>)
                .res(s::<ActionResponse>)
                .created(),
            post(new_draft),
        ),
        (
            doc(
                "post",
                "/v1/rounds/{round}/batch",
                "The same action on many applications (批量推荐), all or none",
                Scoped,
            )
            .req(s::<BatchRequest>)
            .res(s::<Vec<ActionResponse>>),
            post(batch),
        ),
        (
            doc("get", "/v1/rounds/{round}/summary", "Summary table (推荐汇总表) as JSON, CSV or XLSX", Scoped)
                .q(&[
                    ("level", "required: district, city or province"),
                    ("scope", "city or district id (default: the caller's own)"),
                    ("format", "json (default), csv or xlsx"),
                ])
                .res(s::<Summary>),
            get(summary),
        ),
        (doc("get", "/v1/applications/{id}", "One application, as the caller may read it (the public notice shows the fields the program marks x-public; expert identities and scores are the province's)", Scoped).res(s::<Application>), get(application)),
        (
            doc("put", "/v1/applications/{id}", "Save the draft again", Scoped)
                .req(s::<Draft>)
                .res(s::<ActionResponse>),
            put(save_draft),
        ),
        (
            doc("get", "/v1/applications/{id}/actions", "The actions the caller may take now — exactly what POST …/actions would accept, from the same engine code — with what each needs, and its roles' actions refused now with the reason", Scoped)
                .res(s::<ActionOptions>),
            get(action_options),
        ),
        (
            doc("post", "/v1/applications/{id}/actions", "Take an action of the approval graph", Scoped)
                .req(s::<ActionRequest>)
                .res(s::<ActionResponse>),
            post(act),
        ),
        (
            doc("get", "/v1/applications/{id}/decisions", "The handling record (办理记录); not part of the public notice (403); expert identities and scores for the province only", Scoped)
                .res(s::<Vec<Decision>>),
            get(decisions),
        ),
        (
            doc("post", "/v1/attachments", "Upload an attachment (streamed, content-addressed); only the uploader may attach it", Scoped)
                .body_type("application/octet-stream")
                .res(s::<BlobRef>)
                .created(),
            post(upload),
        ),
        (
            doc(
                "get",
                "/v1/applications/{id}/attachments/{sha256}",
                "Download one of the application's attachments (by its sha256), for those who may read them (not the public notice)",
                Scoped,
            ),
            get(download_attachment),
        ),
        (
            doc("get", "/v1/regions", "Every region (province, cities, districts) with its name: reference data for showing places by name", Scoped)
                .res(s::<Vec<Region>>),
            get(regions),
        ),
        (
            doc("post", "/v1/regions", "Add or replace regions (parents first)", Admin).req(s::<Vec<Region>>),
            post(import_regions),
        ),
        (
            doc("post", "/v1/orgs", "Add or replace organisations, all or none", Admin).req(s::<Vec<Organisation>>),
            post(import_orgs),
        ),
        (doc("get", "/v1/orgs/{code}", "One organisation", Scoped).res(s::<Organisation>), get(org)),
        (doc("post", "/v1/users", "Add or replace users, all or none", Admin).req(s::<Vec<User>>), post(import_users)),
        (doc("get", "/v1/users", "Every user with its grants", Admin).res(s::<Vec<User>>), get(users)),
        (
            doc(
                "post",
                "/v1/imports/{kind}",
                "Import a sheet as administrators keep them (CSV in UTF-8, UTF-16 or GB18030, or XLSX, by the `file` name's extension): kind regions, orgs or users (all or none; every refused row named, answer {imported}), or credit (a credit look-up, answer one row per code; mark_dishonest=true marks the registered ones listed as dishonest)",
                Admin,
            )
            .q(&[
                ("file", "the file's name as uploaded (its extension gives the type; named in errors)"),
                ("mark_dishonest", "credit only: mark every registered organisation listed as dishonest (失信)"),
            ])
            .body_type("application/octet-stream"),
            post(import_file).layer(DefaultBodyLimit::max(config.max_import)),
        ),
        (
            doc("get", "/v1/calendars/{year}", "A year's holidays and make-up working days (empty lists when none are set)", Scoped)
                .res(s::<Calendar>),
            get(calendar),
        ),
        (
            doc("put", "/v1/calendars/{year}", "Set a year's holidays and make-up working days", Admin)
                .req(s::<Calendar>),
            put(set_calendar),
        ),
        (
            doc("post", "/v1/users/{id}/tokens", "Issue an API token (the secret is shown once)", Admin)
                .req(s::<TokenRequest>)
                .res(s::<IssuedToken>)
                .created(),
            post(issue_token),
        ),
        (doc("get", "/v1/tokens", "Every token, without secrets", Admin).res(s::<Vec<TokenInfo>>), get(tokens)),
        (doc("delete", "/v1/tokens/{id}", "Revoke a token", Admin).res(s::<TokenInfo>), delete(revoke_token)),
        (doc("get", "/v1/audit/chain", "Verify the decision chain", Admin).res(s::<ChainReport>), get(audit_chain)),
        (
            doc(
                "post",
                "/v1/admin/backup",
                "Write a consistent backup to a new file on the server, while serving",
                Admin,
            )
            .req(s::<BackupRequest>)
            .res(s::<BackupReport>)
            .created(),
            post(backup),
        ),
        (
            doc(
                "get",
                "/v1/admin/backups/{name}",
                "Download a backup written by POST /v1/admin/backup: a ZIP of the database file NAME and its attachments folder NAME.blobs (unzip, then `shenbao restore NAME`), streamed",
                Admin,
            ),
            get(download_backup),
        ),
        (
            doc("get", "/v1/decisions/{index}/replay", "Re-run a recorded check with the pinned plugin", Admin)
                .res(s::<ReplayReport>),
            get(replay),
        ),
    ]
}

/// The documentation of every route, in table order.
pub fn route_docs() -> Vec<RouteDoc> {
    table(&super::ApiConfig::default()).into_iter().map(|(d, _)| d).collect()
}

pub(super) fn build(api: Api) -> Router {
    let mut by_path: BTreeMap<&'static str, MethodRouter<Api>> = BTreeMap::new();
    for (d, m) in table(&api.config) {
        let merged = match by_path.remove(d.path) {
            Some(prev) => prev.merge(m),
            None => m,
        };
        by_path.insert(d.path, merged);
    }
    let mut r = Router::new();
    for (p, m) in by_path {
        r = r.route(p, m);
    }
    #[cfg(feature = "console")]
    {
        r = r.route("/", get(super::console::index)).route("/assets/{file}", get(super::console::asset));
    }
    r.fallback(
        |uri: axum::http::Uri| async move { ApiError::NotFound { what: "endpoint", id: uri.path().to_string() } },
    )
    // axum answers an endpoint's other methods 405 with `Allow`; the body says it too.
    .method_not_allowed_fallback(|method: axum::http::Method| async move {
        ApiError::MethodNotAllowed { method: method.as_str().chars().take(20).collect() }
    })
    .layer(DefaultBodyLimit::max(api.config.max_body))
    // Every answer of the API: not stored by caches (applications, tokens and
    // summaries are personal) and never sniffed into another type. The console's
    // own files set their own caching.
    .layer(axum::middleware::map_response(|mut r: Response| async move {
        let h = r.headers_mut();
        h.entry(header::CACHE_CONTROL).or_insert(axum::http::HeaderValue::from_static("no-store"));
        h.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(axum::http::HeaderValue::from_static("nosniff"));
        r
    }))
    .with_state(api)
}

/// The answer of the imports: `{"imported": n}`.
fn imported() -> Answer<usize> {
    Answer::new(|n: &usize| ok(StatusCode::OK, &json!({ "imported": n })))
}

fn ok<T: Serialize>(status: StatusCode, v: &T) -> Result<(StatusCode, Value), ApiError> {
    Ok((status, serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))?))
}

fn value<T: Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Query strings are checked after authentication, and answered as our errors.
fn query_of<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q).map_err(|e| {
        // serde_path_to_error's "parameter: message" after axum's own prefix.
        let text = e.body_text();
        let en = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text).to_string();
        let named = en.split_once(": ").filter(|(p, _)| {
            !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
        });
        let parameter = named.map(|(p, _)| p.to_string()).filter(|p| p != ".");
        let zh = crate::http::error::invalid_zh(named.map_or(en.as_str(), |(_, m)| m));
        ApiError::InvalidQuery { parameter, zh, en }
    })
}

fn page_limit(q: &PageQuery, max: usize) -> Result<usize, ApiError> {
    let n = q.limit.unwrap_or(50);
    if n > max {
        return Err(ApiError::PageTooLarge { asked: n, max });
    }
    if n == 0 {
        return Err(ApiError::InvalidQuery {
            parameter: Some("limit".into()),
            zh: format!("应为 1 至 {max}，收到 0"),
            en: format!("limit must be from 1 to {max}, got 0"),
        });
    }
    Ok(n)
}

async fn health() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn openapi_doc() -> impl IntoResponse {
    axum::Json(super::openapi())
}

async fn me(State(api): State<Api>, h: HeaderMap) -> Response {
    query(api, h, |_, u, _| value(u)).await
}

async fn plugins(State(api): State<Api>, h: HeaderMap) -> Response {
    query(api, h, |k, _, _| value(&k.plugins()?)).await
}

async fn install_plugin(State(api): State<Api>, h: HeaderMap, body: Body) -> Response {
    let limit = api.config.max_plugin;
    let answer = Answer::new(|i: &Installed| {
        let body = InstalledPlugin {
            record: i.record.clone(),
            newly_installed: i.newly_installed,
            form_warnings: i.form_warnings.clone(),
        };
        ok(if i.newly_installed { StatusCode::CREATED } else { StatusCode::OK }, &body)
    })
    .admin();
    mutate(api, h, "POST /v1/plugins".into(), body, limit, answer, |c: Ctx<'_>| {
        require_admin(c.user)?;
        Ok(c.kernel.install_plugin(c.body)?)
    })
    .await
}

async fn rounds(State(api): State<Api>, h: HeaderMap) -> Response {
    query(api, h, |k, _, _| value(&k.rounds()?)).await
}

async fn create_round(State(api): State<Api>, h: HeaderMap, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &Round| ok(StatusCode::CREATED, r)).admin();
    mutate(api, h, "POST /v1/rounds".into(), body, limit, answer, |c| {
        require_admin(c.user)?;
        let spec: RoundSpec = parse(c.body)?;
        Ok(c.kernel.create_round(spec)?)
    })
    .await
}

async fn round(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>) -> Response {
    query(api, h, move |k, _, _| value(&k.round(&id)?)).await
}

async fn configure_round(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &Round| ok(StatusCode::OK, r)).admin();
    mutate(api, h, format!("PUT /v1/rounds/{id}"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        let spec: RoundSpec = parse(c.body)?;
        if spec.id != id {
            return Err(ApiError::invalid(
                format!("请求体中的轮次编号“{}”与路径中的“{id}”不一致", spec.id),
                format!("the body's id {:?} is not the round {id:?} of the path", spec.id),
            ));
        }
        Ok(c.kernel.configure_round(spec)?)
    })
    .await
}

async fn open_round(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &Round| ok(StatusCode::OK, r)).admin();
    mutate(api, h, format!("POST /v1/rounds/{id}/open"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        Ok(c.kernel.open_round(&id)?)
    })
    .await
}

async fn close_round(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &Round| ok(StatusCode::OK, r)).admin();
    mutate(api, h, format!("POST /v1/rounds/{id}/close"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        let req: CloseRequest = if c.body.is_empty() { CloseRequest { force: false } } else { parse(c.body)? };
        Ok(if req.force { c.kernel.force_close_round(&id)? } else { c.kernel.close_round(&id)? })
    })
    .await
}

async fn form_schema(State(api): State<Api>, h: HeaderMap, Path((round, form)): Path<(String, String)>) -> Response {
    query(api, h, move |k, _, _| {
        let r = k.round(&round)?;
        let rec = k.plugin_record_by_sha(&r.plugin.sha256)?;
        let f = rec
            .manifest
            .forms
            .iter()
            .find(|f| f.id == form)
            .ok_or_else(|| ApiError::NotFound { what: "form", id: form.clone() })?;
        // As the plugin wrote it: its properties in the order the form shows them
        // (a parsed value would sort them by key).
        serde_json::value::RawValue::from_string(f.schema.clone()).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
}

async fn quotas(State(api): State<Api>, h: HeaderMap, Path(round): Path<String>) -> Response {
    query(api, h, move |k, u, _| {
        k.round(&round)?;
        if !crate::engine::access::sees_quota_figures(u) {
            return Err(ApiError::Forbidden("只有审核人员可查看名额 / only reviewers see quota figures".into()));
        }
        let rows: Vec<Value> = k
            .quota_usage(&round)?
            .into_iter()
            .map(|(q, s, used)| json!({ "quota": q, "scope": s, "used": used }))
            .collect();
        Ok(Value::Array(rows))
    })
    .await
}

async fn queue(
    State(api): State<Api>,
    h: HeaderMap,
    Path(round): Path<String>,
    q: Result<Query<QueuePageQuery>, QueryRejection>,
) -> Response {
    query(api, h, move |k, u, cfg| {
        let q = query_of(q)?;
        let limit = page_limit(&PageQuery { after: None, limit: q.limit }, cfg.max_page)?;
        let round_record = k.round(&round)?;
        let after = place_cursor(q.after.as_deref(), &round_record)?;
        if let Some(s) = &q.stage {
            if !round_record.graph.stages.iter().any(|x| x.id == *s) {
                return Err(ApiError::InvalidQuery {
                    parameter: Some("stage".into()),
                    zh: format!("“{s}”不是轮次“{round}”的环节"),
                    en: format!("stage {s:?} is not a stage of round {round:?}"),
                });
            }
        }
        let items =
            k.queue_page(&u.id, &round, &crate::QueueQuery { view: q.view, stage: q.stage.clone(), after, limit })?;
        let next = (items.len() == limit).then(|| items.last().map(QueueItem::cursor)).flatten();
        value(&Page { items, next })
    })
    .await
}

async fn list_applications(
    State(api): State<Api>,
    h: HeaderMap,
    Path(round): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    query(api, h, move |k, u, cfg| {
        let q = query_of(q)?;
        let limit = page_limit(&q, cfg.max_page)?;
        let r = k.round(&round)?;
        // An applicant's own are read through its index.
        let own: Vec<&str> = u
            .grants
            .iter()
            .filter_map(|g| match &g.scope {
                Scope::Organisation(o) => Some(o.as_str()),
                _ => None,
            })
            .collect();
        if own.is_empty() || crate::engine::access::sees_quota_figures(u) {
            // Everyone else's from the queue index's ranges, a page at a time.
            let after = place_cursor(q.after.as_deref(), &r)?;
            let page = k.applications_page(u, &r, after.as_ref(), limit)?;
            let next = (page.len() == limit).then(|| page.last().map(|(place, _)| place.cursor())).flatten();
            return value(&Page { items: page.into_iter().map(|(_, a)| a).collect(), next });
        }
        let mut candidates = Vec::new();
        for o in own {
            candidates.extend(k.applications_of(o)?.into_iter().filter(|a| a.round == round));
        }
        candidates.sort_by(|a, b| a.id.cmp(&b.id));
        let mut items = Vec::new();
        for a in candidates {
            if q.after.as_ref().is_some_and(|after| a.id <= *after) {
                continue;
            }
            if let Some(a) = k.disclose(u, a, &r)? {
                items.push(a);
                if items.len() == limit {
                    break;
                }
            }
        }
        let next = (items.len() == limit).then(|| items.last().map(|a| a.id.clone())).flatten();
        value(&Page { items, next })
    })
    .await
}

/// A list's `after`: the place a page's `next` named — at a stage of `round` — or
/// refused as no cursor (a cursor of another round would start the list over).
fn place_cursor(after: Option<&str>, round: &crate::model::Round) -> Result<Option<QueueItem>, ApiError> {
    after
        .map(|c| {
            QueueItem::from_cursor(c).filter(|p| round.graph.stages.iter().any(|s| s.id == p.stage)).ok_or_else(|| {
                let shown: String = c.chars().take(100).collect();
                ApiError::InvalidQuery {
                    parameter: Some("after".into()),
                    zh: format!("游标不是本接口为轮次“{}”给出的", round.spec.id),
                    en: format!("cursor {shown:?} is not one this API gave for round {:?}", round.spec.id),
                }
            })
        })
        .transpose()
}

async fn new_draft(State(api): State<Api>, h: HeaderMap, Path(round): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &Receipt| ok(StatusCode::CREATED, &ActionResponse::from(r.clone())));
    mutate(api, h, format!("POST /v1/rounds/{round}/applications"), body, limit, answer, move |c| {
        let draft: Draft = parse(c.body)?;
        c.kernel.round(&round)?;
        Ok(match c.key {
            Some(key) => c.kernel.save_draft_idempotent(&c.user.id, &round, None, draft, key)?,
            None => c.kernel.save_draft(&c.user.id, &round, None, draft)?,
        })
    })
    .await
}

async fn save_draft(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &Receipt| ok(StatusCode::OK, &ActionResponse::from(r.clone())));
    mutate(api, h, format!("PUT /v1/applications/{id}"), body, limit, answer, move |c| {
        let app = visible_app(c.kernel, c.user, &id)?;
        let draft: Draft = parse(c.body)?;
        Ok(match c.key {
            Some(key) => c.kernel.save_draft_idempotent(&c.user.id, &app.round, Some(&id), draft, key)?,
            None => c.kernel.save_draft(&c.user.id, &app.round, Some(&id), draft)?,
        })
    })
    .await
}

async fn application(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>) -> Response {
    query(api, h, move |k, u, _| value(&visible_app(k, u, &id)?)).await
}

async fn decisions(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>) -> Response {
    query(api, h, move |k, u, _| value(&k.decisions_as(u, &id)?)).await
}

async fn action_options(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>) -> Response {
    query(api, h, move |k, u, _| value(&k.actions_for(&u.id, &id)?)).await
}

async fn act(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &Receipt| ok(StatusCode::OK, &ActionResponse::from(r.clone())));
    mutate(api, h, format!("POST /v1/applications/{id}/actions"), body, limit, answer, move |c| {
        visible_app(c.kernel, c.user, &id)?;
        let req: ActionRequest = parse(c.body)?;
        Ok(match c.key {
            Some(key) => c.kernel.act_idempotent(&c.user.id, &id, &req, key)?,
            None => c.kernel.act(&c.user.id, &id, &req)?,
        })
    })
    .await
}

async fn batch(State(api): State<Api>, h: HeaderMap, Path(round): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|rs: &Vec<Receipt>| {
        ok(StatusCode::OK, &rs.iter().cloned().map(ActionResponse::from).collect::<Vec<_>>())
    });
    mutate(api, h, format!("POST /v1/rounds/{round}/batch"), body, limit, answer, move |c| {
        let b: BatchRequest = parse(c.body)?;
        if b.applications.is_empty() {
            return Err(ApiError::invalid("applications 不能为空", "applications is empty"));
        }
        if b.applications.len() > c.config.max_page {
            return Err(ApiError::PageTooLarge { asked: b.applications.len(), max: c.config.max_page });
        }
        for id in &b.applications {
            let app = visible_app(c.kernel, c.user, id)?;
            if app.round != round {
                return Err(ApiError::NotFound { what: "application", id: id.clone() });
            }
        }
        let ids: Vec<&str> = b.applications.iter().map(String::as_str).collect();
        Ok(match c.key {
            Some(key) => c.kernel.act_batch_idempotent(&c.user.id, &ids, &b.request, key)?,
            None => c.kernel.act_batch(&c.user.id, &ids, &b.request)?,
        })
    })
    .await
}

/// The scope a caller may export at `level`, given what it asked for.
/// The region `u` may export a summary of (`engine::access::summary_region`).
fn summary_scope(k: &Kernel, u: &User, level: SummaryLevel, asked: Option<String>) -> Result<Option<String>, ApiError> {
    let region = asked.as_deref().map(|a| k.region(a)).transpose()?.flatten();
    // A district asked for: its city, for the policy to compare.
    let asked_city = region.as_ref().filter(|r| r.kind == RegionKind::District).and_then(|r| r.parent.clone());
    let scope = crate::engine::access::summary_region(u, level.scope_level(), asked.as_deref(), asked_city.as_deref())
        .map_err(|()| {
            ApiError::Forbidden("只能导出本级范围的汇总表 / you may export only your own region's summary".into())
        })?;
    // A region the caller may ask for but that is not one: refused before an export
    // slot is taken.
    match (asked, region) {
        (Some(id), None) => Err(ApiError::NotFound { what: "region", id }),
        _ => Ok(scope),
    }
}

/// What a summary export's worker hands the response: the file's name and type
/// once the caller may have it, then the bytes as they are written, or why it stopped.
enum Piece {
    Head { stem: String, format: &'static str },
    Bytes(axum::body::Bytes),
    Failed(ApiError),
}

/// Bytes a summary export sends in one piece (the last may be shorter).
const EXPORT_PIECE: usize = 64 << 10;

/// Pieces of a summary export between its worker and the client.
const EXPORT_PIECES_AHEAD: usize = 4;

/// The worker's side of a summary export's body: each [`EXPORT_PIECE`] goes to the
/// client as it fills, at most [`EXPORT_PIECES_AHEAD`] ahead of what the client has
/// taken, so the export's file is never whole in the server's memory. A client gone,
/// taking no piece for `wait`, or still downloading at `deadline` stops the export
/// (its reading ends, its thread, read transaction and slot are freed).
///
/// It waits with the standard library (`try_send`, then `park_timeout` until the
/// body unparks it on taking a piece), not tokio's timer: the timeouts hold on any
/// runtime an embedder mounts the router on.
struct PieceWriter {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Piece>,
    /// Where the body finds this worker to unpark it.
    worker: std::sync::Arc<std::sync::OnceLock<std::thread::Thread>>,
    wait: std::time::Duration,
    /// The whole export's end ([`super::ApiConfig::max_export_time`]); `None`: none.
    deadline: Option<std::time::Instant>,
    /// Why sending stopped, once it has: every later write fails at once with it
    /// (a writer flushing on its drop waits no more), and the worker answers with it
    /// rather than as a server failure.
    stopped: std::sync::Arc<std::sync::OnceLock<String>>,
    pace: Pace,
    /// Bytes handed to the body in the current window of the pace: since the worker
    /// last found the download fast enough after a whole `grace` of waiting (so the
    /// first window's megabytes that went into the connection's buffers at once do
    /// not pay for a trickle after them).
    handed: u64,
    /// Time spent waiting for the body to take a piece, in the current window.
    waited: std::time::Duration,
}

/// The slowest a download may go: on average `min_rate` bytes per second of the time
/// the worker waited on the client, over each window of `grace` waited
/// ([`super::ApiConfig::min_export_rate`]).
#[derive(Clone, Copy)]
struct Pace {
    min_rate: u64,
    grace: std::time::Duration,
}

impl Pace {
    /// No slowest pace: only the stall and the deadline stop a download.
    #[cfg(test)]
    const NONE: Pace = Pace { min_rate: 0, grace: std::time::Duration::ZERO };

    /// Whether `handed` bytes in `waited` is too slow.
    fn too_slow(&self, handed: u64, waited: std::time::Duration) -> bool {
        waited >= self.grace && (handed as f64) < self.min_rate as f64 * waited.as_secs_f64()
    }
}

/// The body's side of a summary export: takes the pieces and, dropped (the client
/// gone, the response abandoned), closes the channel and wakes the worker, which then
/// stops at once instead of at its timeout.
struct Taker {
    rx: tokio::sync::mpsc::Receiver<Piece>,
    worker: std::sync::Arc<std::sync::OnceLock<std::thread::Thread>>,
}

impl Taker {
    /// The next piece; the worker waiting for room goes on.
    async fn next(&mut self) -> Option<Piece> {
        let piece = self.rx.recv().await;
        self.unpark();
        piece
    }

    fn unpark(&self) {
        if let Some(t) = self.worker.get() {
            t.unpark();
        }
    }
}

impl Drop for Taker {
    fn drop(&mut self) {
        self.rx.close();
        self.unpark();
    }
}

impl PieceWriter {
    fn new(
        tx: tokio::sync::mpsc::Sender<Piece>,
        worker: std::sync::Arc<std::sync::OnceLock<std::thread::Thread>>,
        wait: std::time::Duration,
        deadline: Option<std::time::Instant>,
        pace: Pace,
        stopped: std::sync::Arc<std::sync::OnceLock<String>>,
    ) -> PieceWriter {
        let _ = worker.set(std::thread::current());
        let (handed, waited) = (0, std::time::Duration::ZERO);
        PieceWriter { buf: Vec::with_capacity(EXPORT_PIECE), tx, worker, wait, deadline, stopped, pace, handed, waited }
    }

    fn send(&mut self, piece: Piece) -> std::io::Result<()> {
        if let Some(why) = self.stopped.get() {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, why.clone()));
        }
        let sent = self.try_sending(piece);
        if let Err(e) = &sent {
            let _ = self.stopped.set(e.to_string());
        }
        sent
    }

    fn try_sending(&mut self, piece: Piece) -> std::io::Result<()> {
        use std::io::{Error, ErrorKind};
        use tokio::sync::mpsc::error::TrySendError;
        debug_assert!(self.worker.get().is_some_and(|t| t.id() == std::thread::current().id()));
        let now = std::time::Instant::now();
        let late = || Error::new(ErrorKind::TimedOut, "the download took longer than the server allows an export");
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(late());
        }
        // A wait too long to count is none (then only the deadline, if any, ends it).
        let stall = now.checked_add(self.wait);
        let len = match &piece {
            Piece::Bytes(b) => b.len() as u64,
            _ => 0,
        };
        let mut piece = piece;
        let mut since: Option<std::time::Instant> = None;
        loop {
            match self.tx.try_send(piece) {
                Ok(()) => {
                    self.handed += len;
                    if let Some(since) = since {
                        self.waited += since.elapsed();
                    }
                    return Ok(());
                }
                Err(TrySendError::Closed(_)) => return Err(Error::new(ErrorKind::BrokenPipe, "the client went away")),
                Err(TrySendError::Full(p)) => piece = p,
            }
            let now = std::time::Instant::now();
            if let Some(since) = since.replace(now) {
                self.waited += now - since;
            }
            if self.deadline.is_some_and(|d| now >= d) {
                return Err(late());
            }
            if self.waited >= self.pace.grace && !self.pace.too_slow(self.handed, self.waited) {
                // A whole window fast enough: the next one starts.
                (self.handed, self.waited) = (0, std::time::Duration::ZERO);
            }
            if self.pace.too_slow(self.handed, self.waited) {
                let why = format!(
                    "the client took {} bytes in the {:.0} s the server waited on it, under {} bytes/s",
                    self.handed,
                    self.waited.as_secs_f64(),
                    self.pace.min_rate
                );
                return Err(Error::new(ErrorKind::TimedOut, why));
            }
            if stall.is_some_and(|s| now >= s) {
                let why = format!("the client took nothing for {} s", self.wait.as_secs());
                return Err(Error::new(ErrorKind::TimedOut, why));
            }
            // Unparked when the body takes a piece or is dropped (a wake-up before this
            // park is kept).
            match [stall, self.deadline].into_iter().flatten().min() {
                Some(until) => std::thread::park_timeout(until - now),
                None => std::thread::park(),
            }
        }
    }

    /// Send what is buffered (the last piece).
    fn end(mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.buf);
        self.send(Piece::Bytes(rest.into()))
    }

    /// A file made whole elsewhere (a workbook), sent in pieces without copying.
    fn send_whole(&mut self, bytes: Vec<u8>) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.send(Piece::Bytes(rest.into()))?;
        }
        let mut bytes = axum::body::Bytes::from(bytes);
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(EXPORT_PIECE));
            self.send(Piece::Bytes(piece))?;
        }
        Ok(())
    }
}

impl std::io::Write for PieceWriter {
    /// Takes at most what fills the current piece (so pieces stay [`EXPORT_PIECE`]).
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Some(why) = self.stopped.get() {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, why.clone()));
        }
        let n = b.len().min(EXPORT_PIECE - self.buf.len());
        self.buf.extend_from_slice(&b[..n]);
        if self.buf.len() == EXPORT_PIECE {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(EXPORT_PIECE));
            self.send(Piece::Bytes(full.into()))?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The answer when an export's worker ended without saying why (`what`): its panic,
/// or `what`.
async fn ended_early(worker: tokio::task::JoinHandle<()>, what: &str) -> Response {
    match worker.await {
        Err(e) => ApiError::Internal(format!("worker failed: {e}")).into_response(),
        Ok(()) => ApiError::Internal(what.into()).into_response(),
    }
}

/// `GET /v1/rounds/{round}/summary`: the checks (caller, level, format, scope, the
/// export slot) answer as errors; the table then streams ([`PieceWriter`]) — a
/// failure before its first bytes is an error answer, a later one ends the body
/// without HTTP's end (a server's failure is logged). HTTP/1.0, whose body can end
/// only by the connection closing (a cut-off would read as a whole, shorter file),
/// is answered `505 http_version_not_supported`.
async fn summary(
    State(api): State<Api>,
    version: axum::http::Version,
    method: axum::http::Method,
    h: HeaderMap,
    Path(round): Path<String>,
    q: Result<Query<SummaryQuery>, QueryRejection>,
) -> Response {
    if version < axum::http::Version::HTTP_11 {
        return ApiError::HttpVersionNotSupported.into_response();
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(EXPORT_PIECES_AHEAD);
    let wait = api.config.export_send_timeout;
    let deadline = std::time::Instant::now().checked_add(api.config.max_export_time);
    let worker_thread = std::sync::Arc::new(std::sync::OnceLock::<std::thread::Thread>::new());
    let mut taker = Taker { rx, worker: worker_thread.clone() };
    // Why the writer stopped, if it did (set by the `PieceWriter`).
    let stopped = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let stopped_by = stopped.clone();
    let failed = tx.clone();
    // Set when the whole table was handed over: the body ends cleanly only then (a
    // worker that stopped with its failure unsent must not look like a short table).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let finished = done.clone();
    // HEAD: the answer's status and headers (the request checked as for GET), without
    // making the table or taking an export slot.
    let head_only = method == axum::http::Method::HEAD;
    let worker = tokio::task::spawn_blocking(move || {
        let run = || -> Result<(), ApiError> {
            let k = &*api.kernel;
            let u = caller(k, &h, false)?;
            let q = query_of(q)?;
            let level = q.level.ok_or_else(|| ApiError::InvalidQuery {
                parameter: Some("level".into()),
                zh: "缺少汇总层级，应为 district、city 或 province".into(),
                en: "level is required: district, city or province".into(),
            })?;
            let format = match q.format.as_deref().unwrap_or("json") {
                "json" => "json",
                "csv" => "csv",
                "xlsx" => "xlsx",
                other => {
                    return Err(ApiError::InvalidQuery {
                        parameter: Some("format".into()),
                        zh: format!("格式“{other}”不是 json、csv 或 xlsx"),
                        en: format!("format {other:?} is not json, csv or xlsx"),
                    });
                }
            };
            k.round(&round)?;
            // `scope=` left empty (a form's blank field) is no scope: the caller's own region.
            let asked = q.scope.clone().filter(|s| !s.trim().is_empty());
            let scope = summary_scope(k, &u, level, asked)?;
            let scope = scope.as_deref();
            let pace = Pace { min_rate: api.config.min_export_rate, grace: api.config.body_read_timeout };
            let mut out = PieceWriter::new(tx, worker_thread, wait, deadline, pace, stopped_by);
            if out.tx.is_closed() {
                return Ok(()); // the client left while waiting: no slot, no reading
            }
            if head_only {
                return out
                    .send(Piece::Head { stem: level.file_stem(&round, scope), format })
                    .map_err(|e| ApiError::Internal(e.to_string()));
            }
            // Exports are counted server-wide, once the caller may export; the slot is
            // given back when this ends (the table sent, or the download cut off).
            let mine = api.config.max_exports_per_user;
            let _own_slot = super::Slot::take(&api.exports_by_user, u.id.clone(), mine)
                .ok_or(ApiError::TooManyExportsOfUser { max: mine })?;
            let max = api.config.max_exports;
            let _slot = super::Slot::take(&api.exports, (), max).ok_or(ApiError::TooManyExports { max })?;
            out.send(Piece::Head { stem: level.file_stem(&round, scope), format })
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            // Each format's writer takes the rows as the kernel reads them: the table
            // itself is never built, and CSV and JSON leave as they are written.
            fn write<S: crate::SummarySink>(
                k: &Kernel,
                round: &str,
                level: SummaryLevel,
                scope: Option<&str>,
                mut sink: S,
            ) -> Result<S, ApiError>
            where
                S::Error: std::fmt::Display,
            {
                k.summary_to(round, level, scope, &mut sink).map_err(|e| match e {
                    crate::SummaryError::Read(e) => ApiError::from(e),
                    crate::SummaryError::Write(e) => ApiError::Internal(e.to_string()),
                })?;
                Ok(sink)
            }
            let internal = |e: &dyn std::fmt::Display| ApiError::Internal(e.to_string());
            let out = match format {
                "json" => {
                    write(k, &round, level, scope, crate::SummaryJson::to(out))?.end().map_err(|e| internal(&e))?
                }
                "csv" => write(k, &round, level, scope, crate::io::SummaryCsv::to(out).map_err(|e| internal(&e))?)?
                    .finish()
                    .map_err(|e| internal(&e))?,
                _ => {
                    // A workbook is a zip, made whole at its end (3.2 MiB for 100k rows).
                    let xlsx = crate::io::SummaryXlsx::new().map_err(|e| internal(&e))?;
                    let bytes = write(k, &round, level, scope, xlsx)?.finish().map_err(|e| internal(&e))?;
                    let mut out = out;
                    out.send_whole(bytes).map_err(|e| internal(&e))?;
                    out
                }
            };
            out.end().map_err(|e| internal(&e))
        };
        match run() {
            Ok(()) => finished.store(true, std::sync::atomic::Ordering::Release),
            Err(e) => {
                // The download stopped (a client gone or too slow, the time up): the
                // writer's reason, not the sink's wrapping of it, and no server failure.
                let e = match stopped.get() {
                    Some(why) => ApiError::ExportStopped(why.clone()),
                    None => e,
                };
                // After the headers nobody else can tell of a server's failure.
                if e.status().is_server_error() {
                    eprintln!("shenbao serve: summary of {round}: {e}");
                }
                // Not waiting: a client that takes nothing learns it from the body's end.
                drop(failed.try_send(Piece::Failed(e)));
            }
        }
    });
    let head = match taker.next().await {
        Some(Piece::Head { stem, format }) => (stem, format),
        Some(Piece::Failed(e)) => return e.into_response(),
        Some(Piece::Bytes(_)) | None => return ended_early(worker, "the export ended before it began").await,
    };
    let content_type = |format: &str| match format {
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        _ => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };
    let headers = |response: &mut Response, stem: &str, format: &str| {
        response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type(format)));
        if format != "json" {
            let disp = attachment_disposition(&format!("{stem}.{format}"));
            response.headers_mut().insert(header::CONTENT_DISPOSITION, disp.parse().expect("an ASCII header value"));
        }
    };
    if head_only {
        let mut response = StatusCode::OK.into_response();
        headers(&mut response, &head.0, head.1);
        return response;
    }
    // The first bytes, or the failure before them (answered as an error).
    let first = match taker.next().await {
        Some(Piece::Bytes(b)) => b,
        Some(Piece::Failed(e)) => return e.into_response(),
        Some(Piece::Head { .. }) | None => return ended_early(worker, "the export ended without its table").await,
    };
    let (stem, format) = head;
    let rest = futures_util::stream::unfold(Some(taker), move |taker| {
        let done = done.clone();
        async move {
            let mut taker = taker?;
            let fail = |why: String| Some((Err(std::io::Error::other(why)), None));
            match taker.next().await {
                Some(Piece::Bytes(b)) => Some((Ok(b), Some(taker))),
                Some(Piece::Failed(e)) => fail(e.to_string()),
                Some(Piece::Head { .. }) => fail("a second head".into()),
                None if done.load(std::sync::atomic::Ordering::Acquire) => None,
                None => fail("the export stopped".into()),
            }
        }
    });
    let mut response = Body::from_stream(futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }),
        rest,
    ))
    .into_response();
    headers(&mut response, &stem, format);
    response
}

async fn upload(State(api): State<Api>, h: HeaderMap, body: Body) -> Response {
    use http_body_util::BodyExt;
    use sha2::Digest;
    use tokio::io::AsyncWriteExt;
    let limit = api.config.max_upload;
    let k = api.kernel.clone();
    let auth = {
        let (k, h) = (k.clone(), h.clone());
        blocking(move || caller(&k, &h, true)).await
    };
    let user = match auth {
        Ok(u) => u.id,
        Err(e) => return e.into_response(),
    };
    // A declared length past the limit is refused before the body is kept. A body
    // of at most twice the limit (and 8 MiB) is read and dropped first, for a few
    // seconds at most, so a client that is still sending gets the answer instead of
    // a reset connection; a larger one is answered at once and the connection closed.
    if let Some(len) = h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()) {
        if len > limit {
            if len <= (2 * limit).min(8 << 20) {
                let drain = async {
                    let mut body = body;
                    while let Some(Ok(_)) = body.frame().await {}
                };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
            }
            return ApiError::TooLarge { limit }.into_response();
        }
    }
    // Who may upload, and whether the declared length fits its allowance, before a
    // byte of the body is read (checked again, with the real size, before it is kept).
    let declared = h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let allowed = {
        let (k, user) = (k.clone(), user.clone());
        blocking(move || k.may_upload(&user, declared.unwrap_or(0).min(limit)).map_err(|e| ApiError::Act(e.into())))
            .await
    };
    if let Err(e) = allowed {
        return e.into_response();
    }
    // One user's uploads in progress are capped; the slot is released on every exit.
    let _slot = match super::Slot::take(&api.uploads, user.clone(), api.config.max_uploads_per_user) {
        Some(s) => s,
        None => return ApiError::TooManyUploads { max: api.config.max_uploads_per_user }.into_response(),
    };
    // Written and hashed on this task as the pieces arrive: a client that stalls holds
    // no thread, only its timer; a broken, slow or refused upload leaves no file
    // (dropping the `Partial` removes it).
    let (partial, file) = match k.partial_blob() {
        Ok(p) => p,
        Err(e) => return ApiError::Act(e.into()).into_response(),
    };
    let mut file = tokio::fs::File::from_std(file);
    let mut hasher = sha2::Sha256::new();
    let mut size = 0u64;
    let mut body = body;
    let idle = api.config.body_read_timeout;
    let min_rate = api.config.min_upload_rate;
    let started = tokio::time::Instant::now();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return ApiError::RequestTimeout { seconds: idle.as_secs() }.into_response(),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return ApiError::invalid("上传中断", format!("the upload broke off: {e}")).into_response();
            }
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else { continue };
        size += data.len() as u64;
        if size > limit {
            // Past the limit (a body without a declared length): refused now.
            return ApiError::TooLarge { limit }.into_response();
        }
        // A trickle holds its slot no longer than a slow but honest client needs:
        // after the first `body_read_timeout`, on average `min_upload_rate` bytes/s.
        let elapsed = started.elapsed();
        if elapsed > idle && (size as f64) < min_rate as f64 * elapsed.as_secs_f64() {
            return ApiError::UploadTooSlow { seconds: elapsed.as_secs(), min_rate }.into_response();
        }
        hasher.update(&data);
        if let Err(e) = file.write_all(&data).await {
            return ApiError::Act(
                BlobError::Io { path: partial.path().display().to_string(), message: e.to_string() }.into(),
            )
            .into_response();
        }
    }
    if let Err(e) = file.flush().await {
        return ApiError::Act(
            BlobError::Io { path: partial.path().display().to_string(), message: e.to_string() }.into(),
        )
        .into_response();
    }
    drop(file);
    let sha256 = hex::encode(hasher.finalize());
    match tokio::task::spawn_blocking(move || k.commit_blob(&user, partial, sha256, size)).await {
        Ok(Ok(blob)) => (StatusCode::CREATED, axum::Json(blob)).into_response(),
        Ok(Err(e)) => ApiError::Act(e.into()).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

async fn import_regions(State(api): State<Api>, h: HeaderMap, body: Body) -> Response {
    let limit = api.config.max_body;
    mutate(api, h, "POST /v1/regions".into(), body, limit, imported().admin(), |c| {
        require_admin(c.user)?;
        let regions: Vec<Region> = parse(c.body)?;
        Ok(c.kernel.import_regions(&regions)?)
    })
    .await
}

async fn import_orgs(State(api): State<Api>, h: HeaderMap, body: Body) -> Response {
    let limit = api.config.max_body;
    mutate(api, h, "POST /v1/orgs".into(), body, limit, imported().admin(), |c| {
        require_admin(c.user)?;
        let orgs: Vec<Organisation> = parse(c.body)?;
        Ok(c.kernel.upsert_orgs(&orgs)?)
    })
    .await
}

async fn regions(State(api): State<Api>, h: HeaderMap) -> Response {
    query(api, h, |k, _, _| value(&k.regions()?)).await
}

async fn org(State(api): State<Api>, h: HeaderMap, Path(code): Path<String>) -> Response {
    query(api, h, move |k, u, _| {
        let hidden = || ApiError::NotFound { what: "organisation", id: code.clone() };
        let o = k.org(&code)?.ok_or_else(hidden)?;
        if !crate::engine::access::may_see_org(u, &o) {
            return Err(hidden());
        }
        value(&o)
    })
    .await
}

async fn import_users(State(api): State<Api>, h: HeaderMap, body: Body) -> Response {
    let limit = api.config.max_body;
    mutate(api, h, "POST /v1/users".into(), body, limit, imported().admin(), |c| {
        require_admin(c.user)?;
        let users: Vec<User> = parse(c.body)?;
        Ok(c.kernel.upsert_users(&users)?)
    })
    .await
}

async fn set_calendar(State(api): State<Api>, h: HeaderMap, Path(year): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let parsed = year.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y));
    let answer = Answer::new(move |_: &()| ok(StatusCode::OK, &json!({ "year": parsed }))).admin();
    mutate(api, h, format!("PUT /v1/calendars/{year}"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        let year = parsed.ok_or_else(|| ApiError::NotFound { what: "calendar year", id: year.clone() })?;
        let cal: Calendar = parse(c.body)?;
        Ok(c.kernel.set_calendar(year, &cal)?)
    })
    .await
}

async fn issue_token(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    // The secret is shown once: waiting repeats get it, a stored repeat answers `null`.
    let answer = Answer::new(|t: &IssuedToken| ok(StatusCode::CREATED, t)).secret(&["secret"]).admin();
    mutate(api, h, format!("POST /v1/users/{id}/tokens"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        let req: TokenRequest = if c.body.is_empty() { TokenRequest { label: String::new() } } else { parse(c.body)? };
        Ok(c.kernel.issue_token(&id, &req.label)?)
    })
    .await
}

async fn set_password(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|_: &()| ok(StatusCode::OK, &json!({ "password_set": true }))).admin();
    mutate(api, h, format!("PUT /v1/users/{id}/password"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        let req: super::PasswordRequest = parse(c.body)?;
        Ok(c.kernel.set_password(&id, &req.password)?)
    })
    .await
}

async fn sign_in_code(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    // The code is shown once, as a token's secret.
    let answer = Answer::new(|c: &String| ok(StatusCode::CREATED, &json!({ "code": c }))).secret(&["code"]).admin();
    mutate(api, h, format!("POST /v1/users/{id}/sign-in-code"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        Ok(c.kernel.issue_sign_in_code(&id)?)
    })
    .await
}

async fn tokens(State(api): State<Api>, h: HeaderMap) -> Response {
    query(api, h, |k, u, _| {
        require_admin(u)?;
        value(&k.tokens(None)?)
    })
    .await
}

async fn revoke_token(State(api): State<Api>, h: HeaderMap, Path(id): Path<String>, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|t: &TokenInfo| ok(StatusCode::OK, t)).admin();
    mutate(api, h, format!("DELETE /v1/tokens/{id}"), body, limit, answer, move |c| {
        require_admin(c.user)?;
        Ok(c.kernel.revoke_token(&id)?)
    })
    .await
}

async fn backup(State(api): State<Api>, h: HeaderMap, body: Body) -> Response {
    let limit = api.config.max_body;
    let answer = Answer::new(|r: &BackupReport| ok(StatusCode::CREATED, r)).admin();
    mutate(api, h, "POST /v1/admin/backup".into(), body, limit, answer, |c| {
        require_admin(c.user)?;
        let req: BackupRequest = parse(c.body)?;
        let dir = c.config.backup_dir.as_ref().ok_or_else(|| {
            ApiError::Forbidden(
                "未配置备份目录，不能通过接口备份 / backups over HTTP are off: start the server with a backup folder \
                 (`shenbao serve --backup-dir DIR`)"
                    .into(),
            )
        })?;
        let name = backup_name(&req.name)?;
        std::fs::create_dir_all(dir).map_err(|e| {
            ApiError::Backup(crate::backup::BackupError::Io { path: dir.display().to_string(), message: e.to_string() })
        })?;
        Ok(c.kernel.backup(&dir.join(name))?)
    })
    .await
}

async fn users(State(api): State<Api>, h: HeaderMap) -> Response {
    query(api, h, |k, u, _| {
        require_admin(u)?;
        value(&k.users()?)
    })
    .await
}

async fn calendar(State(api): State<Api>, h: HeaderMap, Path(year): Path<String>) -> Response {
    query(api, h, move |k, _, _| {
        let y = year.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y));
        let y = y.ok_or_else(|| ApiError::NotFound { what: "calendar year", id: year.clone() })?;
        value(&k.calendar(y)?)
    })
    .await
}

#[derive(Deserialize)]
struct ImportQuery {
    file: Option<String>,
    #[serde(default)]
    mark_dishonest: bool,
}

async fn import_file(
    State(api): State<Api>,
    h: HeaderMap,
    Path(kind): Path<String>,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body: Body,
) -> Response {
    let limit = api.config.max_import;
    let answer = Answer::new(|v: &Value| ok(StatusCode::OK, v)).admin();
    let what = match &q {
        Ok(Query(q)) => format!("POST /v1/imports/{kind}?file={:?}&mark_dishonest={}", q.file, q.mark_dishonest),
        Err(_) => format!("POST /v1/imports/{kind}"),
    };
    mutate(api, h, what, body, limit, answer, move |c| {
        let q = query_of(q)?;
        let name: String = q.file.as_deref().unwrap_or("import.csv").chars().take(100).collect();
        let sheet = || crate::io::read_sheet_bytes(&name, c.body);
        Ok(match kind.as_str() {
            "regions" => json!({ "imported": c.kernel.import_regions_sheet(&sheet()?)? }),
            "orgs" => json!({ "imported": c.kernel.import_orgs_sheet(&sheet()?)? }),
            "users" => json!({ "imported": c.kernel.import_users_sheet(&sheet()?)? }),
            "credit" => serde_json::to_value(c.kernel.credit_lookup_sheet(&sheet()?, q.mark_dishonest)?)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            other => {
                return Err(ApiError::NotFound {
                    what: "import kind (regions, orgs, users, credit)",
                    id: other.into(),
                });
            }
        })
    })
    .await
}

/// A file as a response body, read in 64 KiB pieces as the client takes them.
fn file_body(file: std::fs::File) -> Body {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::from_std(file);
    Body::from_stream(futures_util::stream::unfold(Some(file), |f| async move {
        let mut f = f?;
        let mut buf = vec![0u8; 64 << 10];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    }))
}

/// `Content-Disposition: attachment` naming `name` (RFC 6266: an ASCII fallback and
/// the UTF-8 name percent-encoded).
fn attachment_disposition(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    // RFC 5987 attr-char: letters, digits and these stay as they are.
    const KEEP: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(name, KEEP);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Media types an attachment is served as; anything else is `application/octet-stream`
/// (an uploaded page is never served as a page of this origin).
const SERVED_MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/zip",
    "video/mp4",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/// A download: the file, its type and name, never sniffed or rendered in place.
fn download(file: std::fs::File, size: u64, media_type: &str, name: &str) -> Response {
    let media_type = if SERVED_MEDIA_TYPES.contains(&media_type) { media_type } else { "application/octet-stream" };
    (
        [
            (header::CONTENT_TYPE, media_type.to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::CONTENT_DISPOSITION, attachment_disposition(name)),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_string()),
        ],
        file_body(file),
    )
        .into_response()
}

async fn download_attachment(
    State(api): State<Api>,
    h: HeaderMap,
    Path((id, sha256)): Path<(String, String)>,
) -> Response {
    let found = blocking(move || {
        let k = &*api.kernel;
        let u = caller(k, &h, false)?;
        // As the caller may read it: the public notice carries no attachments.
        let app = visible_app(k, &u, &id)?;
        let a = app
            .attachments
            .into_iter()
            .find(|a| a.sha256 == sha256)
            .ok_or_else(|| ApiError::NotFound { what: "attachment", id: sha256.clone() })?;
        let file = std::fs::File::open(k.blobs().path(&a.sha256))
            .map_err(|e| ApiError::Internal(format!("attachment {} of {id}: {e}", a.sha256)))?;
        Ok((file, a))
    })
    .await;
    match found {
        Ok((file, a)) => download(file, a.size, &a.media_type, &a.name),
        Err(e) => e.into_response(),
    }
}

async fn download_backup(State(api): State<Api>, h: HeaderMap, Path(name): Path<String>) -> Response {
    let found = blocking(move || {
        let k = &*api.kernel;
        let u = caller(k, &h, false)?;
        require_admin(&u)?;
        let dir = api.config.backup_dir.as_ref().ok_or_else(|| {
            ApiError::Forbidden("未配置备份目录 / backups over HTTP are off (`shenbao serve --backup-dir DIR`)".into())
        })?;
        let name = backup_name(&name)?.to_string();
        if !dir.join(&name).is_file() {
            return Err(ApiError::NotFound { what: "backup", id: name.clone() });
        }
        // The database and its attachments (`NAME.blobs/`) together: one ZIP.
        let zip = backup_archive(dir, &name)?;
        let file = std::fs::File::open(&zip).map_err(|e| ApiError::Internal(format!("{}: {e}", zip.display())))?;
        let size = file.metadata().map_err(|e| ApiError::Internal(e.to_string()))?.len();
        Ok((file, size, format!("{name}.zip")))
    })
    .await;
    match found {
        Ok((file, size, name)) => download(file, size, "application/zip", &name),
        Err(e) => e.into_response(),
    }
}

/// `NAME.zip` beside the backup `NAME` in `dir`: the database file and its
/// attachments folder (`NAME.blobs/…`), made once (kept for later downloads; a
/// backup never changes) through a partial file renamed into place.
fn backup_archive(dir: &std::path::Path, name: &str) -> Result<std::path::PathBuf, ApiError> {
    use std::io::Write;
    let out = dir.join(format!("{name}.zip"));
    if out.is_file() {
        return Ok(out);
    }
    let fail = |e: &dyn std::fmt::Display| ApiError::Internal(format!("archiving backup {name}: {e}"));
    let partial = dir.join(format!(".{name}.zip.partial"));
    let file = std::fs::File::create(&partial).map_err(|e| fail(&e))?;
    let mut zip = zip::ZipWriter::new(file);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    let mut add = |path: &std::path::Path, entry: String| -> Result<(), ApiError> {
        zip.start_file(entry, options).map_err(|e| fail(&e))?;
        let mut f = std::fs::File::open(path).map_err(|e| fail(&e))?;
        std::io::copy(&mut f, &mut zip).map_err(|e| fail(&e))?;
        Ok(())
    };
    add(&dir.join(name), name.to_string())?;
    let blobs = dir.join(format!("{name}.blobs"));
    let mut stack = vec![blobs.clone()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                add(&p, rel.to_string_lossy().replace('\\', "/"))?;
            }
        }
    }
    let mut file = zip.finish().map_err(|e| fail(&e))?;
    file.flush().map_err(|e| fail(&e))?;
    file.sync_all().map_err(|e| fail(&e))?;
    std::fs::rename(&partial, &out).map_err(|e| fail(&e))?;
    Ok(out)
}

async fn audit_chain(State(api): State<Api>, h: HeaderMap) -> Response {
    query(api, h, |k, u, _| {
        require_admin(u)?;
        value(&k.verify_chain()?)
    })
    .await
}

async fn replay(State(api): State<Api>, h: HeaderMap, Path(index): Path<String>) -> Response {
    query(api, h, move |k, u, _| {
        require_admin(u)?;
        let i = index.parse::<u64>().map_err(|_| ApiError::NotFound { what: "decision", id: index.clone() })?;
        value(&k.replay(i)?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::{EXPORT_PIECE, Pace, Piece, PieceWriter, Taker};
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// A writer (on this thread) whose client never takes a piece: a full channel of one.
    fn stalled(wait: Duration, total: Duration) -> (PieceWriter, tokio::sync::mpsc::Receiver<Piece>) {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.try_send(Piece::Bytes(Vec::new().into())).unwrap();
        let worker = std::sync::Arc::new(std::sync::OnceLock::new());
        (PieceWriter::new(tx, worker, wait, Instant::now().checked_add(total), Pace::NONE, Default::default()), rx)
    }

    #[test]
    fn a_piece_nobody_takes_stops_the_export_after_the_wait() {
        let (mut w, _rx) = stalled(Duration::from_millis(100), Duration::from_secs(600));
        let t = Instant::now();
        let e = w.write_all(&vec![b'x'; EXPORT_PIECE]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("took nothing"), "{e}");
        assert!(t.elapsed() >= Duration::from_millis(100) && t.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn an_export_past_its_time_stops_though_each_wait_is_longer() {
        let (mut w, _rx) = stalled(Duration::from_secs(600), Duration::from_millis(100));
        let t = Instant::now();
        let e = w.write_all(&vec![b'x'; EXPORT_PIECE]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("longer than the server allows"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(30), "the export's deadline, not the piece's wait");
        // Past the deadline even a piece there is room for is refused.
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        let mut w = PieceWriter::new(
            tx,
            Default::default(),
            Duration::from_secs(600),
            Some(Instant::now()),
            Pace::NONE,
            Default::default(),
        );
        assert_eq!(w.write_all(&vec![b'x'; EXPORT_PIECE]).unwrap_err().kind(), std::io::ErrorKind::TimedOut);
        // A limit too far to count is none.
        let (tx, _rx) = tokio::sync::mpsc::channel(8);
        let none = Instant::now().checked_add(Duration::MAX);
        let mut w =
            PieceWriter::new(tx, Default::default(), Duration::from_secs(600), none, Pace::NONE, Default::default());
        w.write_all(&vec![b'x'; EXPORT_PIECE]).unwrap();
    }

    /// Too slow: under `min_rate` bytes per second of the time waited, once the
    /// grace has been waited — never before it, nor at or above the rate.
    #[test]
    fn the_pace_counts_only_the_time_waited_after_the_grace() {
        let pace = Pace { min_rate: 1000, grace: Duration::from_secs(30) };
        assert!(!pace.too_slow(0, Duration::from_secs(29)), "within the grace");
        assert!(pace.too_slow(29_999, Duration::from_secs(30)));
        assert!(!pace.too_slow(30_000, Duration::from_secs(30)));
        assert!(pace.too_slow(30_000, Duration::from_secs(31)));
        assert!(!Pace::NONE.too_slow(0, Duration::from_secs(3600)));
    }

    #[test]
    fn a_client_gone_stops_the_export_at_once() {
        let (mut w, rx) = stalled(Duration::from_secs(600), Duration::from_secs(600));
        drop(rx);
        let t = Instant::now();
        let e = w.write_all(&vec![b'x'; EXPORT_PIECE]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    /// The body dropped while the writer waits for room (a client gone mid-download):
    /// the writer stops at once, not at its wait, and writes no more.
    #[test]
    fn a_client_gone_while_the_writer_waits_stops_it_at_once() {
        let (mut w, rx) = stalled(Duration::from_secs(600), Duration::from_secs(600));
        let taker = Taker { rx, worker: w.worker.clone() };
        let leaving = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(taker);
        });
        let t = Instant::now();
        let e = w.write_all(&vec![b'x'; EXPORT_PIECE]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        leaving.join().unwrap();
        assert!(w.write(b"more").is_err() && w.stopped.get().is_some());
    }

    /// Pieces are whole pieces whatever the writes; a waiting writer goes on as soon as
    /// the body takes one (unparked), not at its timeout.
    #[test]
    fn pieces_are_whole_and_a_taken_piece_wakes_the_writer() {
        let (mut w, mut rx) = stalled(Duration::from_secs(10), Duration::from_secs(600));
        let worker = w.worker.clone();
        let taker = std::thread::spawn(move || {
            let mut sizes = Vec::new();
            while let Some(p) = rx.blocking_recv() {
                if let Piece::Bytes(b) = p {
                    sizes.push(b.len());
                }
                if let Some(t) = worker.get() {
                    t.unpark();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            sizes
        });
        let t = Instant::now();
        for _ in 0..10 {
            w.write_all(&vec![b'x'; EXPORT_PIECE / 3 + 7]).unwrap();
        }
        w.send_whole(vec![b'y'; 2 * EXPORT_PIECE + 1]).unwrap();
        w.end().unwrap();
        let sizes = taker.join().unwrap();
        assert!(t.elapsed() < Duration::from_secs(5), "woken by each piece taken, not by the wait");
        let total = 10 * (EXPORT_PIECE / 3 + 7) + 2 * EXPORT_PIECE + 1;
        assert_eq!(sizes.iter().sum::<usize>(), total);
        assert_eq!(sizes[0], 0, "the piece that was waiting");
        assert!(sizes.iter().all(|&n| n <= EXPORT_PIECE), "{sizes:?}");
        assert_eq!(sizes[1..4], [EXPORT_PIECE; 3]);
    }
}
