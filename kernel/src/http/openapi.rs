//! The OpenAPI 3.1 document, generated from the route table and the Rust types
//! (schemars, JSON Schema 2020-12 — the dialect OpenAPI 3.1 uses).

use super::error::ErrorBody;
use super::routes::{Access, route_docs};
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

/// The whole API described as OpenAPI 3.1 (committed as `schemas/openapi.json`).
pub fn openapi() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let mut g = settings.into_generator();
    let error = g.subschema_for::<ErrorBody>();
    let mut paths: Map<String, Value> = Map::new();
    for d in route_docs() {
        let mut op = Map::new();
        let op_id = format!(
            "{}{}",
            d.method,
            d.path
                .replace(['{', '}'], "")
                .split('/')
                .map(|p| {
                    let mut c = p.chars();
                    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
                })
                .collect::<String>()
                .replace(['-', '.'], "")
        );
        op.insert("operationId".into(), json!(op_id));
        op.insert("summary".into(), json!(d.summary));
        let mut params = path_params(d.path);
        for (name, desc) in d.query {
            // A parameter the endpoint cannot do without says so first (`RouteDoc::query`).
            let (required, desc) = desc.strip_prefix("required: ").map_or((false, *desc), |d| (true, d));
            params.push(json!({ "name": name, "in": "query", "required": required, "description": desc, "schema": { "type": "string" } }));
        }
        // Uploads are content-addressed: a repeat stores nothing new and needs no key.
        if d.method != "get" && d.path != "/v1/attachments" {
            params.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "One execution per key: concurrent repeats wait for it (409 idempotency_key_in_progress past the wait); a later retry with the same key and body returns the first success and changes nothing; the same key with another body is 422 idempotency_key_reused; refusals are not remembered",
                "schema": { "type": "string", "maxLength": 200 }
            }));
        }
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        if let Some(req) = d.request {
            let schema = req(&mut g);
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { d.request_type: { "schema": schema } } }),
            );
        } else if d.request_type != "application/json" {
            op.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { d.request_type: { "schema": { "type": "string", "contentEncoding": "binary" } } } }),
            );
        }
        let ok_schema = d.response.map(|f| f(&mut g)).unwrap_or_else(|| json!({}).try_into().expect("an empty schema"));
        let mut responses = Map::new();
        responses.insert(
            d.success.to_string(),
            json!({ "description": "success", "content": { "application/json": { "schema": ok_schema } } }),
        );
        if (d.method, d.path) == ("get", "/v1/rounds/{round}/summary") {
            // `format=csv|xlsx` answers the same table as a file.
            let file = json!({ "schema": { "type": "string", "contentEncoding": "binary" } });
            if let Some(ok) = responses.get_mut(&d.success.to_string()) {
                ok["content"]["text/csv"] = file.clone();
                ok["content"]["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"] = file;
            }
        }
        let err =
            |desc: &str| json!({ "description": desc, "content": { "application/json": { "schema": error.clone() } } });
        if d.access != Access::Open {
            responses.insert("401".into(), err("unauthenticated: missing, unknown or revoked token"));
            responses.insert("403".into(), err("forbidden: the caller's role may not do this"));
            responses.insert("404".into(), err("not found — also for objects outside the caller's scope"));
        }
        if d.method != "get" {
            responses.insert("400".into(), err("malformed_json"));
            responses.insert("409".into(), err("refused by the state: quota_exceeded, window_closed, stale_stage, stale_check, idempotency_key_in_progress …"));
            responses.insert("413".into(), err("payload_too_large"));
            responses
                .insert("502".into(), err("plugin_failed: the program's plugin failed (trap, fuel, malformed output)"));
            responses.insert("422".into(), err("invalid_request, blocking_findings, unexpected_payload, invalid_payload, unknown_form, idempotency_key_reused …"));
        }
        responses.insert(
            "408".into(),
            err("request_timeout: the request's headers or body did not arrive in time (or a download stopped being read)"),
        );
        let slot = match (d.method, d.path) {
            ("post", "/v1/session") => {
                Some("too_many_attempts: failed sign-ins for this user or address are throttled")
            }
            ("post", "/v1/attachments") => Some("too_many_uploads: the user's uploads in progress are at their limit"),
            ("get", "/v1/rounds/{round}/summary") => {
                Some("too_many_exports: the server's exports in progress are at their limit")
            }
            _ => None,
        };
        if let Some(desc) = slot {
            let mut r = err(desc);
            r["headers"] = json!({ "Retry-After": {
                "description": "seconds to wait before trying again",
                "schema": { "type": "integer", "minimum": 1 }
            } });
            responses.insert("429".into(), r);
        }
        op.insert("responses".into(), Value::Object(responses));
        match d.access {
            Access::Open => {
                op.insert("security".into(), json!([]));
            }
            Access::Admin => {
                op.insert("x-shenbao-access".into(), json!("admin"));
            }
            Access::Scoped => {
                op.insert("x-shenbao-access".into(), json!("scoped"));
            }
        }
        let entry = paths.entry(d.path.to_string()).or_insert_with(|| json!({}));
        entry[d.method] = Value::Object(op);
    }
    let schemas = Value::Object(g.definitions().clone());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Shenbao (申报) API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Program applications and approvals. Integrators authenticate with bearer tokens; people (the console) sign in at POST /v1/session and send its cookie, with the session's CSRF token as X-CSRF-Token on every state-changing request. Objects outside the caller's scope answer 404; every state-changing request but the content-addressed upload accepts an Idempotency-Key."
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "security": [{ "bearer": [] }, { "session": [], "csrf": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "session": { "type": "apiKey", "in": "cookie", "name": "__Host-shenbao_session" },
                "csrf": { "type": "apiKey", "in": "header", "name": "X-CSRF-Token" }
            },
            "schemas": schemas
        }
    })
}
