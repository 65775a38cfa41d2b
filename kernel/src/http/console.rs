//! The console (`console` feature): the web interface's files, built from
//! `console/` by `cargo xtask console` and embedded at compile time, served at `/`
//! with a strict Content-Security-Policy (everything from this origin; nothing
//! inline, nothing framed). The console uses the public API only.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// What the binary serves at `/` when it was built without the console's files.
const NOT_BUILT: &str = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>申报系统</title>\
<p>控制台尚未构建：请运行 <code>cargo xtask console</code> 后重新构建 shenbao。</p>\
<p>The console was not built into this binary: run <code>cargo xtask console</code>, then build shenbao again. The API is at <a href=\"/openapi.json\">/openapi.json</a>.</p></html>";

/// Content-Security-Policy of every console response (OWASP: a strict policy):
/// scripts, styles, fonts and connections from this origin only, nothing framed,
/// no plugins. `'unsafe-eval'` is the one allowance: Ajv (react-jsonschema-form's
/// validator) compiles each program's form schema into a function at run time —
/// the schemas are the installed programs', bounded and checked at install
/// (`schema_bounds`); no inline script is allowed, so injected markup runs nothing.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn respond(media: &'static str, bytes: &'static [u8], immutable: bool) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { "public, max-age=31536000, immutable" } else { "no-cache" }),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

/// `GET /`: the console's page.
pub(super) async fn index() -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == "/index.html") {
        Some((_, media, bytes)) => respond(media, bytes, false),
        None => respond("text/html; charset=utf-8", NOT_BUILT.as_bytes(), false),
    }
}

/// `GET /assets/{file}`: the console's scripts and styles (content-hashed names,
/// so cached for good).
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let want = format!("/assets/{file}");
    match ASSETS.iter().find(|(p, _, _)| *p == want) {
        Some((_, media, bytes)) => respond(media, bytes, true),
        None => super::ApiError::NotFound { what: "file", id: want }.into_response(),
    }
}
