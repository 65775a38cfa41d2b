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
//! - **Slow clients** ([`serve_on`]): headers must arrive within
//!   [`ApiConfig::header_read_timeout`], each piece of a body within
//!   [`ApiConfig::body_read_timeout`]; connections are capped, in all
//!   ([`ApiConfig::max_connections`]) and per client address
//!   ([`ApiConfig::max_connections_per_client`]), and so are one user's uploads in progress
//!   ([`ApiConfig::max_uploads_per_user`]). A waiting upload holds no thread.
//! - **OpenAPI 3.1**: [`openapi()`], generated from the route table ([`routes`]),
//!   committed as `schemas/openapi.json`.
//!
//! The kernel is synchronous (redb, wasmtime); handlers run it on tokio's blocking pool.

#[cfg(feature = "console")]
mod console;
mod error;
mod openapi;
mod routes;
mod session;

pub use error::{ApiError, ErrorBody, status_of};
pub use openapi::openapi;
pub use routes::{Access, ActionResponse, BatchRequest, InstalledPlugin, Page, RouteDoc, route_docs};
pub use session::{COOKIE_PLAIN, COOKIE_SECURE, CSRF_HEADER, ClientAddr, PasswordRequest, SignInRequest};

use crate::idempotency::Claim;
use crate::kernel::Kernel;
use crate::model::{Application, User};
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
    /// Largest sheet (CSV or XLSX) an administrator imports over HTTP, in bytes.
    pub max_import: usize,
    /// Largest page a list may return.
    pub max_page: usize,
    /// How long a request waits for a running request with the same
    /// `Idempotency-Key` before it is answered `409 idempotency_key_in_progress`.
    pub idempotency_wait: std::time::Duration,
    /// How long a response carrying a secret (an issued token) is kept in memory for
    /// a retry with the same `Idempotency-Key`; it is never stored, so a retry after
    /// this window (or a restart) answers `"secret": null`.
    pub idempotency_secret_window: std::time::Duration,
    /// Time a client has to send a request's headers (also the keep-alive idle
    /// limit before the next request); the connection is closed after it.
    pub header_read_timeout: std::time::Duration,
    /// Longest wait for the next piece of a request body; the request is answered
    /// `408 request_timeout` (and a partial upload removed) after it.
    pub body_read_timeout: std::time::Duration,
    /// Longest a connection served by [`serve_on`] may take nothing of a response (no
    /// byte acknowledged, where the platform tells — Linux); it is then closed, so a
    /// client that stops reading holds its connection (and what was buffered for it)
    /// for at most this long. A slow client that keeps taking is not cut off.
    pub write_stall_timeout: std::time::Duration,
    /// Longest wait for a client to take the next piece (64 KiB) of a summary export
    /// it is downloading; the export then stops and the connection is closed without
    /// the body's end, so a stalled client cannot hold a worker thread and a read
    /// transaction. Longer than `write_stall_timeout` (5 min): a slow client waits
    /// for the socket to free a third of its send buffer — megabytes — before it takes
    /// another piece, and [`serve_on`] already closes a connection that takes nothing;
    /// this bounds the wait where the router is mounted on another server.
    pub export_send_timeout: std::time::Duration,
    /// Longest a summary export may take from its request to its last byte; a download
    /// still running then is cut off like a stalled one (a client taking a piece just
    /// before each `export_send_timeout` cannot hold an export for hours).
    pub max_export_time: std::time::Duration,
    /// Summary exports in progress at once, server-wide: each holds a worker thread, a
    /// read transaction and, while it reads, the table's sort keys and cells (tens of
    /// MiB for 100k rows); more answer `429 too_many_exports` (`details.per`: `"server"`).
    pub max_exports: usize,
    /// Summary exports one user may have in progress at once (so one account cannot
    /// hold every export slot); more answer `429 too_many_exports` (`details.per`:
    /// `"user"`).
    pub max_exports_per_user: usize,
    /// Slowest average, in bytes per second, a download of a summary export may keep
    /// while the server waits on the client, over each window of `body_read_timeout`
    /// waited; a slower one is cut off like a stalled one (a trickle that takes just
    /// enough to pass `write_stall_timeout` cannot hold an export slot for
    /// `max_export_time`). The bytes counted are those handed to the connection; the
    /// first window's, which fill the socket's buffers (megabytes) at once, pass, and
    /// the next window measures the client alone — so a trickle is cut off after about
    /// two windows of waiting.
    pub min_export_rate: u64,
    /// Connections served at once; further clients wait to be accepted.
    pub max_connections: usize,
    /// Connections one client address (IP) may hold at once; a further one from it is
    /// closed when accepted, so one host cannot take every connection. Behind a
    /// reverse proxy, where every client has the proxy's address, raise it to
    /// `max_connections` and let the proxy limit its clients.
    pub max_connections_per_client: usize,
    /// Slowest average an upload may keep after its first `body_read_timeout`, in
    /// bytes per second; a slower one is answered `408 request_timeout` (a trickle
    /// cannot hold an upload slot for hours).
    pub min_upload_rate: u64,
    /// Uploads one user may have in progress at once; more answer `429 too_many_uploads`.
    pub max_uploads_per_user: usize,
    /// The folder `POST /v1/admin/backup` writes into (a backup names only a file in
    /// it); `None` refuses backups over HTTP. `shenbao serve` uses `--backup-dir`,
    /// by default `backups/` beside the database.
    pub backup_dir: Option<std::path::PathBuf>,
    /// Session cookies are `Secure` (sent over HTTPS only) and named with the
    /// `__Host-` prefix. Turn off only where the console is served over plain HTTP
    /// (`shenbao serve --insecure-cookies`, e.g. on loopback or behind a proxy that
    /// terminates TLS on the same host).
    pub secure_cookies: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body: 1 << 20,
            max_upload: 100 << 20,
            max_plugin: 64 << 20,
            max_import: 32 << 20,
            max_page: 500,
            idempotency_wait: std::time::Duration::from_secs(30),
            idempotency_secret_window: std::time::Duration::from_secs(60),
            header_read_timeout: std::time::Duration::from_secs(10),
            body_read_timeout: std::time::Duration::from_secs(30),
            export_send_timeout: std::time::Duration::from_secs(300),
            write_stall_timeout: std::time::Duration::from_secs(60),
            max_export_time: std::time::Duration::from_secs(15 * 60),
            max_exports: 4,
            max_exports_per_user: 1,
            min_export_rate: 16 << 10,
            max_connections: 1024,
            max_connections_per_client: 256,
            min_upload_rate: 16 << 10,
            max_uploads_per_user: 4,
            backup_dir: None,
            secure_cookies: true,
        }
    }
}

/// The state every handler shares.
#[derive(Clone)]
pub struct Api {
    pub kernel: Arc<Kernel>,
    pub config: Arc<ApiConfig>,
    /// Uploads in progress, by user.
    uploads: Counts<String>,
    /// Summary exports in progress (one key: they are counted server-wide).
    exports: Counts<()>,
    /// Summary exports in progress, by user.
    exports_by_user: Counts<String>,
}

/// The API as an axum router (state included): mount it, or serve it with [`serve_on`]
/// (which adds the header timeout and the connection cap).
pub fn router(kernel: Arc<Kernel>, config: ApiConfig) -> Router {
    routes::build(Api {
        kernel,
        config: Arc::new(config),
        uploads: Default::default(),
        exports: Default::default(),
        exports_by_user: Default::default(),
    })
}

/// Serve the API on `addr` until Ctrl-C.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(kernel: Arc<Kernel>, addr: &str, config: ApiConfig) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("shenbao: serving the HTTP API on http://{}", listener.local_addr()?);
    serve_on(listener, kernel, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// Serve the API on `listener` until `shutdown` completes: HTTP/1.1, headers within
/// [`ApiConfig::header_read_timeout`], at most [`ApiConfig::max_connections`]
/// connections at once (more wait in the listen queue), at most
/// [`ApiConfig::max_connections_per_client`] of them from one IP address (more are
/// closed at once).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    kernel: Arc<Kernel>,
    config: ApiConfig,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    let header_timeout = config.header_read_timeout;
    let write_stall = config.write_stall_timeout;
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let per_client = config.max_connections_per_client.max(1);
    let clients: Counts<std::net::IpAddr> = Default::default();
    let app = router(kernel, config);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => return,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, peer)) => (tcp, peer.ip()),
                // Out of file descriptors and the like: wait, then accept again.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let Some(held) = Slot::take(&clients, peer, per_client) else {
            // This address holds its share: answered at once (without reading the
            // request) and closed; its slot is free again.
            let _ = tcp.try_write(&too_many_connections());
            drop(tcp);
            continue;
        };
        // The client's address travels with each request (sign-in throttling).
        let service = hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(session::ClientAddr(peer));
                req
            },
        ));
        tokio::spawn(async move {
            let _permit = permit;
            let _held = held;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_timeout);
            let io = WriteStall::new(tcp, write_stall);
            let _ = http.serve_connection(hyper_util::rt::TokioIo::new(io), service).await;
        });
    }
}

/// A connection whose writes must make progress: one whose client has taken nothing
/// for `limit` fails (hyper then closes the connection), so a client that stops
/// reading a response holds its connection for at most [`ApiConfig::write_stall_timeout`]
/// (hyper has no write timeout of its own). A slow client that keeps taking is
/// served however long it takes: while a write waits, the bytes the client has not
/// yet acknowledged ([`Unsent`]) are looked at every `limit`, and any fewer is progress
/// — the kernel makes room for a write only once a third of the send buffer is free,
/// which a slow reader may take minutes to free (the write's own wait alone would cut
/// off any reader slower than the buffer's third per `limit`).
struct WriteStall<T> {
    io: T,
    limit: std::time::Duration,
    /// Running while a write waits for room, with the unacknowledged bytes when it began.
    stalled: Option<(std::pin::Pin<Box<tokio::time::Sleep>>, Option<usize>)>,
}

/// A connection's bytes sent but not yet acknowledged by the peer, where the
/// platform tells (`None`: unknown, and a wait of `limit` is then a stall).
trait Unsent {
    fn unsent(&self) -> Option<usize>;
}

impl Unsent for tokio::net::TcpStream {
    #[cfg(target_os = "linux")]
    fn unsent(&self) -> Option<usize> {
        use std::os::fd::AsRawFd;
        let mut queued: libc::c_int = 0;
        // SAFETY: `SIOCOUTQ` (= `TIOCOUTQ`) on a TCP socket writes one `c_int`, the
        // bytes in its send queue not yet acknowledged, to the pointer given; the
        // descriptor is this stream's, open for the call.
        let r = unsafe { libc::ioctl(self.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
        (r == 0 && queued >= 0).then_some(queued as usize)
    }

    #[cfg(not(target_os = "linux"))]
    fn unsent(&self) -> Option<usize> {
        None
    }
}

impl Unsent for tokio::io::DuplexStream {
    fn unsent(&self) -> Option<usize> {
        None
    }
}

/// The least a waiting client must take in each `write_stall_timeout` to be served
/// on (or all that was queued, if less): 16 KiB a minute by default, ~270 bytes/s —
/// so a client trickling a byte at a time cannot hold a connection for days.
const MIN_TAKEN_PER_STALL: usize = 16 * 1024;

impl<T: Unsent> WriteStall<T> {
    /// `limit` of at least 100 ms (0 would wait on a timer that is always up).
    fn new(io: T, limit: std::time::Duration) -> Self {
        WriteStall { io, limit: limit.max(std::time::Duration::from_millis(100)), stalled: None }
    }

    /// A write that could not go on: pending while the client takes something in each
    /// `limit`, then an error.
    fn waiting<R>(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<R>> {
        let limit = self.limit;
        loop {
            let unsent = || self.io.unsent();
            let (sleep, before) = self.stalled.get_or_insert_with(|| (Box::pin(tokio::time::sleep(limit)), unsent()));
            if sleep.as_mut().poll(cx).is_pending() {
                return std::task::Poll::Pending;
            }
            match (*before, self.io.unsent()) {
                // The client acknowledged enough since (all that was queued, or at least
                // `MIN_TAKEN_PER_STALL`): it is taking, slowly. Wait on.
                (Some(before), Some(now)) if now < before && before - now >= MIN_TAKEN_PER_STALL.min(before) => {
                    self.stalled = None
                }
                _ => {
                    return std::task::Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the client took less than 16 KiB in {} s", limit.as_secs()),
                    )));
                }
            }
        }
    }

    /// What the connection did: progress ends the wait.
    fn done<R>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        r: std::task::Poll<std::io::Result<R>>,
    ) -> std::task::Poll<std::io::Result<R>> {
        match r {
            std::task::Poll::Pending => self.waiting(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteStall<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: tokio::io::AsyncWrite + Unsent + Unpin> tokio::io::AsyncWrite for WriteStall<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.io).poll_write(cx, buf);
        self.done(cx, r)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.done(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let r = std::pin::Pin::new(&mut self.io).poll_flush(cx);
        self.done(cx, r)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The answer to a connection past [`ApiConfig::max_connections_per_client`]:
/// `503 too_many_connections`, in the API's one error shape.
fn too_many_connections() -> Vec<u8> {
    let body = serde_json::to_vec(&ErrorBody {
        code: "too_many_connections".into(),
        message: "来自本地址的连接过多，请稍后再试 / too many connections from this address; retry later".into(),
        details: Value::Null,
    })
    .expect("serialisable");
    let mut out = format!(
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Holders per key (a client address, a user), each counted while it holds a slot.
type Counts<K> = Arc<std::sync::Mutex<std::collections::HashMap<K, usize>>>;

/// One slot of `key`'s at most `limit` (a connection of a client address, an upload
/// of a user); given back when dropped, on every exit.
struct Slot<K: std::hash::Hash + Eq + Clone> {
    counts: Counts<K>,
    key: K,
}

impl<K: std::hash::Hash + Eq + Clone> Slot<K> {
    fn take(counts: &Counts<K>, key: K, limit: usize) -> Option<Slot<K>> {
        let mut held = counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = held.entry(key.clone()).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot { counts: counts.clone(), key })
    }
}

impl<K: std::hash::Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut held = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// Run kernel work on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}

/// The calling user (a bearer token, or a session cookie and, for a change
/// (`changes`), its CSRF token): [`session::authenticate`].
fn caller(k: &Kernel, headers: &HeaderMap, changes: bool) -> Result<User, ApiError> {
    session::authenticate(k, headers, changes)
}

pub(crate) fn is_admin(u: &User) -> bool {
    crate::engine::access::is_admin(u)
}

fn require_admin(u: &User) -> Result<(), ApiError> {
    if is_admin(u) { Ok(()) } else { Err(ApiError::Forbidden("需要管理员权限 / administrators only".into())) }
}

/// The application if the caller may see it; otherwise the same `not_found` as a missing one.
fn visible_app(k: &Kernel, user: &User, id: &str) -> Result<Application, ApiError> {
    Ok(k.application_as(user, id)?)
}

/// Parse a JSON body: malformed JSON is `400 malformed_json`, well-formed JSON of the
/// wrong shape is `422 invalid_request` naming the field.
fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            ApiError::invalid(crate::http::error::invalid_zh(&e.to_string()), e.to_string())
        }
        _ => ApiError::MalformedJson(e.to_string()),
    })
}

/// Read a request body of at most `limit` bytes — only ever after the caller is
/// authenticated, so an anonymous client cannot make the server read (or hold) a body.
async fn body_bytes(body: Body, limit: usize, timeout: std::time::Duration) -> Result<Bytes, ApiError> {
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await;
    let Ok(read) = read else { return Err(ApiError::RequestTimeout { seconds: timeout.as_secs() }) };
    read.map_err(|e| {
        let e = e.into_inner();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return ApiError::TooLarge { limit: limit as u64 };
            }
            source = s.source();
        }
        ApiError::invalid("请求体读取中断", format!("the request body could not be read: {e}"))
    })
}

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_HEADER) else { return Ok(None) };
    let s = v.to_str().map_err(|_| {
        ApiError::invalid("Idempotency-Key 只能含可见 ASCII 字符", "Idempotency-Key must be visible ASCII")
    })?;
    if s.is_empty() || s.len() > 200 {
        return Err(ApiError::invalid(
            "Idempotency-Key 应为 1 至 200 个字符",
            "Idempotency-Key must be 1 to 200 characters",
        ));
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
        let user = caller(&k, &h, true)?;
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
    let body = match body_bytes(body, limit, api.config.body_read_timeout).await {
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

/// Run a read-only request as the calling user; the answer is `R` as JSON.
async fn query<R: serde::Serialize + Send + 'static>(
    api: Api,
    headers: HeaderMap,
    f: impl FnOnce(&Kernel, &User, &ApiConfig) -> Result<R, ApiError> + Send + 'static,
) -> Response {
    match blocking(move || {
        let user = caller(&api.kernel, &headers, false)?;
        f(&api.kernel, &user, &api.config)
    })
    .await
    {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::WriteStall;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A peer that reads nothing: the write fails after the limit, not before and
    /// not never.
    #[tokio::test]
    async fn a_write_nobody_takes_fails_after_the_limit() {
        let (server, _client) = tokio::io::duplex(64);
        let mut io = WriteStall::new(server, Duration::from_millis(300));
        let t = Instant::now();
        let e = io.write_all(&[7u8; 4096]).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(300) && t.elapsed() < Duration::from_secs(10));
    }

    /// A slow peer that keeps taking: each wait is short, the whole is long, and
    /// nothing fails (the limit is on a stall, not on the response).
    #[tokio::test]
    async fn a_slow_reader_that_keeps_reading_is_served() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut io = WriteStall::new(server, Duration::from_millis(300));
        let reader = tokio::spawn(async move {
            let mut got = 0;
            let mut buf = [0u8; 32];
            while got < 4096 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                got += client.read(&mut buf).await.unwrap();
            }
            got
        });
        let t = Instant::now();
        io.write_all(&[7u8; 4096]).await.unwrap();
        assert!(t.elapsed() > Duration::from_millis(300), "slower than the limit in all");
        assert_eq!(reader.await.unwrap(), 4096);
    }

    /// Over real TCP (loopback, a client with a small receive buffer): a client that
    /// reads 16 KiB every 50 ms is far slower than the kernel frees a third of the
    /// send buffer (the only time a waiting write may go on), yet it takes something
    /// in every `limit` and is served; once it stops taking, the write fails.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn over_tcp_a_slow_reader_is_served_and_one_that_stops_is_cut_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(16 * 1024).unwrap();
        let mut client = socket.connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Hundreds of KiB taken per second here, far over `MIN_TAKEN_PER_STALL` in each
        // limit, far under the third of the send buffer a waiting write needs (MiBs).
        let limit = Duration::from_secs(1);
        let mut io = WriteStall::new(server, limit);
        let writer = tokio::spawn(async move {
            let chunk = vec![7u8; 64 * 1024];
            let mut sent = 0usize;
            loop {
                match io.write_all(&chunk).await {
                    Ok(()) => sent += chunk.len(),
                    Err(e) => return (sent, e, Instant::now()),
                }
            }
        });
        let reading = Instant::now();
        let mut buf = vec![0u8; 16 * 1024];
        let mut got = 0;
        while reading.elapsed() < Duration::from_secs(4) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            got += client.read(&mut buf).await.unwrap();
            assert!(!writer.is_finished(), "a reader that keeps taking was cut off after {got} bytes");
        }
        // It stops taking: cut off within a few limits.
        let stopped = Instant::now();
        let (sent, e, at) = writer.await.unwrap();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(at - stopped < Duration::from_secs(6), "cut off {:?} after it stopped", at - stopped);
        assert!(got > 100_000 && sent > got, "read {got}, sent {sent}");
    }

    /// A client trickling (512 bytes every 100 ms, under `MIN_TAKEN_PER_STALL` in each
    /// `limit`) is cut off like one that takes nothing: it cannot hold a connection
    /// for days.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn over_tcp_a_trickling_reader_is_cut_off() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut client = socket.connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut io = WriteStall::new(server, Duration::from_millis(300));
        let writer = tokio::spawn(async move {
            let chunk = vec![7u8; 64 * 1024];
            loop {
                if let Err(e) = io.write_all(&chunk).await {
                    return e;
                }
            }
        });
        let t = Instant::now();
        let mut buf = vec![0u8; 512];
        while !writer.is_finished() {
            assert!(t.elapsed() < Duration::from_secs(20), "a trickling reader is still served");
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = client.read(&mut buf).await;
        }
        assert_eq!(writer.await.unwrap().kind(), std::io::ErrorKind::TimedOut);
    }
}
