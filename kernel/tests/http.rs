//! The HTTP API against a real server on loopback: the real enabling-resources
//! component, a real redb file, the demo's regions, organisations and users, and
//! bearer tokens issued by the kernel.

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use shenbao::contract::Date;
use shenbao::http::{ApiConfig, openapi, route_docs};
use shenbao::{Kernel, KernelConfig, ManualClock, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;

const ROUND: &str = "er-2024q3";

struct Server {
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    base: String,
    kernel: Arc<Kernel>,
    tokens: BTreeMap<&'static str, String>,
    client: Client,
}

/// Users by the part they play in the matrix (ids from examples/demo/users.csv).
const USERS: &[(&str, &str)] = &[
    ("admin", "admin"),
    ("applicant", "org-01"),       // huizhou.huicheng
    ("other-applicant", "org-09"), // huizhou.huiyang
    ("district", "huicheng"),
    ("other-district", "huiyang"),
    ("city", "huizhou"),
    ("other-city", "guangzhou"),
    ("province", "province"),
    ("expert", "expert-1"),
    ("public", "public"),
];

async fn server(config: ApiConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::at(Date::new(2024, 8, 10), 9, 0)));
    let mut kc = KernelConfig { clock: clock.clone(), ..Default::default() };
    kc.host.cache_dir = Some(dir.path().join("cache"));
    let kernel = Arc::new(Kernel::open_with(dir.path().join("api.redb"), kc).unwrap());
    kernel.install_plugin(&testkit::plugin_bytes("enabling-resources")).unwrap();
    let demo = testkit::root().join("examples/demo");
    kernel.import_regions_file(&demo.join("regions.csv")).unwrap();
    kernel.import_orgs_file(&demo.join("orgs.csv")).unwrap();
    kernel.import_users_file(&demo.join("users.csv")).unwrap();
    let mut tokens = BTreeMap::new();
    for (part, user) in USERS {
        tokens.insert(*part, kernel.issue_token(user, part).unwrap().secret);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = ApiConfig { backup_dir: Some(dir.path().join("backups")), ..config };
    tokio::spawn(shenbao::http::serve_on(listener, kernel.clone(), config, std::future::pending()));
    Server { clock, _dir: dir, base, kernel, tokens, client: Client::new() }
}

impl Server {
    /// `GET path` as `who`: status, headers and the body's bytes.
    async fn raw(&self, who: &str, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = self.tokens.get(who) {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.bytes().await.unwrap().to_vec())
    }

    /// The application ids of a page of `who`'s queue (`q`: the query string).
    async fn list(&self, who: &str, q: &str) -> Vec<String> {
        let (st, page) = self.call(who, Method::GET, &format!("/v1/rounds/{ROUND}/queue{q}"), None).await;
        assert_eq!(st, StatusCode::OK, "{q}: {page}");
        page["items"].as_array().unwrap().iter().map(|i| i["application"].as_str().unwrap().to_string()).collect()
    }

    /// `POST path` as `who` with `bytes` as the body.
    async fn post_bytes(&self, who: &str, path: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.tokens[who])
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn call(&self, who: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_with(who, method, path, body, None).await
    }

    async fn call_with(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = self.tokens.get(who) {
            req = req.bearer_auth(t);
        } else if who == "bad-token" {
            req = req.bearer_auth("sb_0000");
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        // A server with one connection per address (`max_connections_per_client: 1`)
        // answers a second one at once with 503 and closes it, before the request
        // is read; reqwest may open one while the last response's connection is on
        // its way back to its pool, and then fails the request. As a client told
        // `Retry-After` would, try again (a few times, never for an answer).
        let mut tries = 0;
        let resp = loop {
            match req.try_clone().expect("bodies here are JSON").send().await {
                Ok(r) => break r,
                Err(e) if e.is_request() && tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{e:?}"),
            }
        };
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn upload(&self, who: &str, content: Vec<u8>) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}/v1/attachments", self.base))
            .bearer_auth(&self.tokens[who])
            .body(content)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A GET of `path` as `who` on a connection with a 4 KiB receive buffer, read up to
    /// its first bytes (a `200`'s head): the connection and those bytes.
    async fn small_window_download(&self, who: &str, path: &str) -> (tokio::net::TcpStream, Vec<u8>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut conn = socket.connect(self.base.trim_start_matches("http://").parse().unwrap()).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            self.tokens[who]
        );
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut got = vec![0u8; 1024];
        let n = conn.read(&mut got).await.unwrap();
        assert!(got[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got[..n]));
        got.truncate(n);
        (conn, got)
    }

    /// Create the round from the example configuration and open it, as the administrator.
    async fn open_round(&self) {
        let spec: Value = serde_json::from_str(&testkit::example("enabling-resources/round.json")).unwrap();
        let (s, b) = self.call("admin", Method::POST, "/v1/rounds", Some(spec)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = self.call("admin", Method::POST, &format!("/v1/rounds/{ROUND}/open"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["status"], "open");
    }

    /// The example application's draft, its attachments uploaded by `who`.
    async fn draft(&self, who: &str) -> Value {
        let case: Value =
            serde_json::from_str(&testkit::example("enabling-resources/cases/pass-ai-application.json")).unwrap();
        let mut atts = Vec::new();
        for a in case["attachments"].as_array().unwrap() {
            let (s, blob) = self.upload(who, format!("%PDF-1.7 {}", a["kind"]).into_bytes()).await;
            assert_eq!(s, StatusCode::CREATED, "{blob}");
            let mut a = a.clone();
            a["sha256"] = blob["sha256"].clone();
            a["size"] = blob["size"].clone();
            atts.push(a);
        }
        json!({ "direction": case["direction"], "data": case["data"], "attachments": atts })
    }

    /// A submitted application of `who`.
    async fn submitted(&self, who: &str) -> String {
        let draft = self.draft(who).await;
        let (s, b) = self.call(who, Method::POST, &format!("/v1/rounds/{ROUND}/applications"), Some(draft)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["application"]["id"].as_str().unwrap().to_string();
        let (s, b) = self
            .call(who, Method::POST, &format!("/v1/applications/{id}/actions"), Some(json!({"action": "submit"})))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        id
    }
}

/// Each role doing its work over HTTP, and refusals answered with their codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_does_its_work() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let (st, me) = s.call("applicant", Method::GET, "/v1/me", None).await;
    assert_eq!((st, me["id"].as_str()), (StatusCode::OK, Some("org-01")));

    // The applicant: the form's schema, a draft, a refused submission, a good one.
    let (st, schema) = s.call("applicant", Method::GET, &format!("/v1/rounds/{ROUND}/forms/resource"), None).await;
    assert_eq!(st, StatusCode::OK, "{schema}");
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    // As the plugin wrote it: the fields in the form's order, not sorted by key.
    let text = s
        .client
        .get(format!("{}/v1/rounds/{ROUND}/forms/resource", s.base))
        .bearer_auth(&s.tokens["applicant"])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap_or_else(|| panic!("{k} in {text}"));
    assert!(at("resource_name") < at("scope") && at("scope") < at("summary") && at("summary") < at("business_since"));
    let mut broken = s.draft("applicant").await;
    broken["data"].as_object_mut().unwrap().remove("commitment");
    let (st, b) = s.call("applicant", Method::POST, &format!("/v1/rounds/{ROUND}/applications"), Some(broken)).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let bad = b["application"]["id"].as_str().unwrap().to_string();
    let (st, b) = s
        .call("applicant", Method::POST, &format!("/v1/applications/{bad}/actions"), Some(json!({"action": "submit"})))
        .await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("blocking_findings")), "{b}");
    assert!(
        b["details"]["findings"].as_array().unwrap().iter().any(|f| f["path"].as_str().unwrap().contains("commitment"))
    );
    let (_, app) = s.call("applicant", Method::GET, &format!("/v1/applications/{bad}"), None).await;
    assert_eq!(app["state"]["stage"], "draft", "a refused submission changes nothing");
    let id = s.submitted("applicant").await;

    // The district officer: its queue, a recommendation with an opinion.
    let (_, q) = s.call("district", Method::GET, &format!("/v1/rounds/{ROUND}/queue"), None).await;
    assert_eq!(
        q["items"].as_array().unwrap().iter().map(|i| i["application"].clone()).collect::<Vec<_>>(),
        [json!(id)]
    );
    let (_, q) = s.call("other-district", Method::GET, &format!("/v1/rounds/{ROUND}/queue"), None).await;
    assert!(q["items"].as_array().unwrap().is_empty());
    let act = |a: &str| json!({ "action": a, "opinion": "同意推荐" });
    let (st, b) = s
        .call(
            "district",
            Method::POST,
            &format!("/v1/applications/{id}/actions"),
            Some(json!({"action": "district-recommend"})),
        )
        .await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("opinion_required")));
    let (st, b) = s
        .call("district", Method::POST, &format!("/v1/applications/{id}/actions"), Some(act("district-recommend")))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["decision"]["to"], "city-review");

    // The city: a batch recommendation, its quotas, its summary table.
    let (st, b) = s
        .call(
            "city",
            Method::POST,
            &format!("/v1/rounds/{ROUND}/batch"),
            Some(json!({"applications": [id], "request": act("city-recommend")})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b[0]["application"]["state"]["stage"], "province-review");
    let (st, _) = s.call("city", Method::GET, &format!("/v1/rounds/{ROUND}/quotas"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, table) = s.call("city", Method::GET, &format!("/v1/rounds/{ROUND}/summary?level=city"), None).await;
    assert_eq!(st, StatusCode::OK, "{table}");
    assert_eq!(table["scope"], "huizhou", "a city exports its own table");
    assert_eq!(table["sections"][0]["rows"][0]["application"], json!(id));
    let csv = s
        .client
        .get(format!("{}/v1/rounds/{ROUND}/summary?level=city&format=csv", s.base))
        .bearer_auth(&s.tokens["city"])
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.text().await.unwrap().contains("示例惠城智能装备1号有限公司"));
    let (st, b) =
        s.call("other-city", Method::GET, &format!("/v1/rounds/{ROUND}/summary?level=city&scope=huizhou"), None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));

    // The province sees it now and takes it on; the handling record shows every step.
    let (st, _) = s.call("province", Method::GET, &format!("/v1/applications/{id}"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, b) = s
        .call("province", Method::POST, &format!("/v1/applications/{id}/actions"), Some(act("province-recommend")))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, log) = s.call("applicant", Method::GET, &format!("/v1/applications/{id}/decisions"), None).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|d| d["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["save-draft", "submit", "district-recommend", "city-recommend", "province-recommend"]);
    let (st, chain) = s.call("admin", Method::GET, "/v1/audit/chain", None).await;
    assert_eq!((st, chain["first_broken"].clone()), (StatusCode::OK, Value::Null));
    let submit = log[1]["index"].as_u64().unwrap();
    let (_, replay) = s.call("admin", Method::GET, &format!("/v1/decisions/{submit}/replay"), None).await;
    assert_eq!(replay["identical"], true);

    // A backup while the server runs: a consistent copy that verifies on its own.
    let dest = s._dir.path().join("backups").join("backup.redb");
    let (st, b) = s.call("admin", Method::POST, "/v1/admin/backup", Some(json!({"name": "backup.redb"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["decisions"], s.kernel.decision_count().unwrap());
    let copy = Kernel::open(&dest).unwrap();
    assert_eq!(copy.verify_chain().unwrap().head, chain["head"].as_str().unwrap());
    assert_eq!(copy.application(&id).unwrap(), s.kernel.application(&id).unwrap());
    drop(copy);
    let (st, b) = s.call("admin", Method::POST, "/v1/admin/backup", Some(json!({"name": "backup.redb"}))).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("exists")), "a backup never overwrites");
    // Issue 15.8: a backup names a file in the configured folder, never a path.
    let outside = s._dir.path().join("outside.redb");
    for name in
        [outside.display().to_string(), "../outside.redb".into(), "a/b.redb".into(), ".hidden".into(), String::new()]
    {
        let (st, b) = s.call("admin", Method::POST, "/v1/admin/backup", Some(json!({"name": name}))).await;
        assert_eq!(
            (st, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")),
            "{name}: {b}"
        );
    }
    let (st, _) = s.call("admin", Method::POST, "/v1/admin/backup", Some(json!({"dest": outside}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "the old `dest` field is not accepted");
    assert!(!outside.exists() && !s._dir.path().join("backups/b.redb").exists());

    // Tokens: revoked ones stop working.
    let (st, t) = s.call("admin", Method::POST, "/v1/users/huiyang/tokens", Some(json!({"label": "临时"}))).await;
    assert_eq!(st, StatusCode::CREATED);
    let secret = t["secret"].as_str().unwrap().to_string();
    let me = |secret: String| {
        let c = s.client.clone();
        let url = format!("{}/v1/me", s.base);
        async move { c.get(url).bearer_auth(secret).send().await.unwrap().status() }
    };
    assert_eq!(me(secret.clone()).await, StatusCode::OK);
    let (st, _) =
        s.call("admin", Method::DELETE, &format!("/v1/tokens/{}", t["info"]["id"].as_str().unwrap()), None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me(secret).await, StatusCode::UNAUTHORIZED);
}

/// Every endpoint × role × scope: what is outside a caller's scope is denied, and
/// an application outside it answers exactly like one that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let a = s.submitted("applicant").await;
    let code = s.kernel.application(&a).unwrap().applicant;
    use StatusCode as S;
    const OK: S = S::OK;
    const NF: S = S::NOT_FOUND;
    const FB: S = S::FORBIDDEN;
    // Roles in USERS order: admin, applicant, other-applicant, district, other-district,
    // city, other-city, province, expert, public. The application is at district review.
    let app = format!("/v1/applications/{a}");
    let reads: Vec<(String, [S; 10])> = vec![
        (app.clone(), [OK, OK, NF, OK, NF, NF, NF, NF, NF, NF]),
        (format!("{app}/decisions"), [OK, OK, NF, OK, NF, NF, NF, NF, NF, NF]),
        (format!("/v1/orgs/{code}"), [OK, OK, NF, OK, NF, OK, NF, OK, NF, NF]),
        (format!("/v1/rounds/{ROUND}/quotas"), [OK, FB, FB, OK, OK, OK, OK, OK, OK, FB]),
        (format!("/v1/rounds/{ROUND}/summary?level=district"), [OK, FB, FB, OK, OK, OK, OK, OK, FB, FB]),
        (format!("/v1/rounds/{ROUND}/summary?level=province"), [OK, FB, FB, FB, FB, FB, FB, OK, FB, FB]),
        ("/v1/tokens".into(), [OK, FB, FB, FB, FB, FB, FB, FB, FB, FB]),
        ("/v1/audit/chain".into(), [OK, FB, FB, FB, FB, FB, FB, FB, FB, FB]),
    ];
    for (path, expected) in &reads {
        for ((role, _), want) in USERS.iter().zip(expected) {
            let (st, b) = s.call(role, Method::GET, path, None).await;
            assert_eq!(st, *want, "GET {path} as {role}: {b}");
        }
        let (st, _) = s.call("anonymous", Method::GET, path, None).await;
        assert_eq!(st, S::UNAUTHORIZED, "GET {path} without a token");
        let (st, _) = s.call("bad-token", Method::GET, path, None).await;
        assert_eq!(st, S::UNAUTHORIZED, "GET {path} with an unknown token");
    }
    // The listing of a round shows each caller only what it may see.
    for (role, n) in [
        ("admin", 1),
        ("applicant", 1),
        ("other-applicant", 0),
        ("district", 1),
        ("other-district", 0),
        ("city", 0),
        ("expert", 0),
        ("public", 0),
    ] {
        let (_, b) = s.call(role, Method::GET, &format!("/v1/rounds/{ROUND}/applications"), None).await;
        assert_eq!(b["items"].as_array().unwrap().len(), n, "{role}");
    }
    // A cursor that names no place of this round (a stage it does not have, or
    // not a cursor) is refused, not read as the start of the list.
    for after in ["bogus|x|y|A0000001", "a|b|c", "district-review"] {
        for list in ["applications", "queue"] {
            let path = format!("/v1/rounds/{ROUND}/{list}?after={}", after.replace('|', "%7C"));
            let (st, b) = s.call("district", Method::GET, &path, None).await;
            assert_eq!(
                (st, b["code"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")),
                "{path}: {b}"
            );
        }
    }

    // Acting on the application: out of scope is 404 (nothing revealed), in scope but
    // not the caller's to take is 403/409, and nothing changes either way.
    let before = s.kernel.decision_count().unwrap();
    let writes: Vec<(Method, String, Value)> = vec![
        (Method::POST, format!("{app}/actions"), json!({"action": "district-recommend", "opinion": "同意"})),
        (Method::PUT, app.clone(), json!({"data": {}})),
        (
            Method::POST,
            format!("/v1/rounds/{ROUND}/batch"),
            json!({"applications": [a], "request": {"action": "district-recommend", "opinion": "同意"}}),
        ),
    ];
    for (method, path, body) in &writes {
        for (role, _) in USERS {
            if matches!(*role, "district" | "admin") {
                continue; // the district may act (checked elsewhere); the administrator sees everything
            }
            let (st, b) = s.call(role, method.clone(), path, Some(body.clone())).await;
            let outside = !matches!(*role, "applicant");
            if outside {
                assert_eq!(st, NF, "{method} {path} as {role}: {b}");
            } else {
                assert!(st == FB || st == S::CONFLICT, "{method} {path} as {role}: {st} {b}");
            }
        }
    }
    assert_eq!(s.kernel.decision_count().unwrap(), before, "refused requests recorded nothing");

    // An application outside the caller's scope answers exactly like a missing one.
    let (st1, hidden) = s.call("other-applicant", Method::GET, &app, None).await;
    let (st2, missing) = s.call("other-applicant", Method::GET, "/v1/applications/A9999999", None).await;
    assert_eq!((st1, st2), (NF, NF));
    assert_eq!(hidden["code"], missing["code"]);
    assert_eq!(
        hidden["message"].as_str().unwrap().replace(&a, "X"),
        missing["message"].as_str().unwrap().replace("A9999999", "X")
    );
    assert_eq!(
        hidden.as_object().unwrap().keys().collect::<Vec<_>>(),
        missing.as_object().unwrap().keys().collect::<Vec<_>>()
    );

    // Administration: every non-administrator is refused, without a token 401.
    let admin_writes: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/v1/rounds".into(), json!({})),
        (Method::PUT, format!("/v1/rounds/{ROUND}"), json!({})),
        (Method::POST, format!("/v1/rounds/{ROUND}/close"), json!({})),
        (Method::POST, "/v1/regions".into(), json!([])),
        (Method::POST, "/v1/orgs".into(), json!([])),
        (Method::POST, "/v1/users".into(), json!([])),
        (Method::PUT, "/v1/calendars/2024".into(), json!({"holidays": [], "makeup_workdays": []})),
        (Method::POST, "/v1/users/org-01/tokens".into(), json!({})),
        (Method::DELETE, "/v1/tokens/0000000000000000".into(), json!({})),
        (Method::POST, "/v1/plugins".into(), json!({})),
        (Method::POST, "/v1/admin/backup".into(), json!({"name": "never.redb"})),
    ];
    for (method, path, body) in &admin_writes {
        for (role, _) in USERS.iter().filter(|(r, _)| *r != "admin") {
            let (st, b) = s.call(role, method.clone(), path, Some(body.clone())).await;
            assert_eq!(st, FB, "{method} {path} as {role}: {b}");
        }
        let (st, _) = s.call("anonymous", method.clone(), path, Some(body.clone())).await;
        assert_eq!(st, S::UNAUTHORIZED, "{method} {path}");
    }
    assert_eq!(s.kernel.round(ROUND).unwrap().status, shenbao::RoundStatus::Open);
    assert_eq!(s.kernel.decision_count().unwrap(), before);
}

/// Idempotency keys: a retry returns the first answer and changes nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let draft = s.draft("applicant").await;
    let path = format!("/v1/rounds/{ROUND}/applications");
    let (s1, first) = s.call_with("applicant", Method::POST, &path, Some(draft.clone()), Some("draft-1")).await;
    let (s2, again) = s.call_with("applicant", Method::POST, &path, Some(draft.clone()), Some("draft-1")).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first, again, "the first response, verbatim");
    let (_, list) = s.call("applicant", Method::GET, &path.to_string(), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one application, not two");
    // The same key with another body is refused.
    let mut other = draft.clone();
    other["data"]["resource_name"] = json!("另一个资源");
    let (st, b) = s.call_with("applicant", Method::POST, &path, Some(other), Some("draft-1")).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_key_reused")));

    // A submission retried: one decision.
    let id = first["application"]["id"].as_str().unwrap();
    let act = format!("/v1/applications/{id}/actions");
    let n = s.kernel.decision_count().unwrap();
    let (_, a) =
        s.call_with("applicant", Method::POST, &act, Some(json!({"action": "submit"})), Some("submit-1")).await;
    let (_, b) =
        s.call_with("applicant", Method::POST, &act, Some(json!({"action": "submit"})), Some("submit-1")).await;
    assert_eq!(a, b);
    assert_eq!(s.kernel.decision_count().unwrap(), n + 1);
    // Without the key the repeat is a new request, refused by the state.
    let (st, b) = s.call("applicant", Method::POST, &act, Some(json!({"action": "submit"}))).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("not_at_this_stage")), "{b}");
    // The kernel keeps the key with the decision: even if the HTTP answer were lost,
    // the library returns the first decision.
    let r = s.kernel.act_idempotent("org-01", id, &shenbao::ActionRequest::new("submit"), "submit-1").unwrap();
    assert!(r.replayed);
    assert_eq!(r.decision.index, a["decision"]["index"].as_u64().unwrap());
    assert_eq!(s.kernel.decision_count().unwrap(), n + 1);
}

/// Limits and malformed input: each answered with its code, nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_malformed_input() {
    let s = server(ApiConfig {
        max_body: 64 << 10,
        max_upload: 256 << 10,
        max_plugin: 1 << 20,
        max_page: 100,
        ..Default::default()
    })
    .await;
    s.open_round().await;
    let apps = |s: &Server| s.kernel.applications_in(ROUND).unwrap().len();
    let path = format!("/v1/rounds/{ROUND}/applications");

    let raw = |body: &'static str| {
        let c = s.client.clone();
        let url = format!("{}{path}", s.base);
        let t = s.tokens["applicant"].clone();
        async move {
            let r =
                c.post(url).bearer_auth(t).header("content-type", "application/json").body(body).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, b) = raw("{\"direction\": ").await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")), "{b}");
    let (st, b) = raw("{\"direction\": 7, \"data\": {}}").await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")), "{b}");
    assert!(b["message"].as_str().unwrap().contains("invalid type"), "names what is wrong: {b}");

    let big = json!({ "direction": "ai-application", "data": { "blob": "x".repeat(100 << 10) } });
    let (st, b) = s.call("applicant", Method::POST, &path, Some(big)).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{b}");
    assert_eq!(b["details"]["limit"], 64 << 10);
    assert_eq!(apps(&s), 0);

    let (st, b) = s.call("admin", Method::GET, &format!("{path}?limit=101"), None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("page_too_large")));
    assert_eq!(b["details"]["max"], 100);

    // Uploads stream to disk; past the limit nothing is kept.
    let blobs = s.kernel.blob_path("00").parent().unwrap().parent().unwrap().to_path_buf();
    let count = || walk(&blobs);
    let before = count();
    let (st, b) = s.upload("applicant", vec![7u8; 300 << 10]).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{b}");
    assert_eq!(count(), before);
    let (st, b) = s.upload("applicant", vec![7u8; 200 << 10]).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["size"], 200 << 10);
    assert_eq!(count(), before + 1);

    // Pagination: pages of 2 cover the round once, in order.
    for _ in 0..5 {
        let d = s.draft("applicant").await;
        let (st, _) = s.call("applicant", Method::POST, &path, Some(d)).await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let q = match &after {
            Some(a) => format!("{path}?limit=2&after={a}"),
            None => format!("{path}?limit=2"),
        };
        let (_, page) = s.call("applicant", Method::GET, &q, None).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), seen), (5, sorted));
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk(&e.path())
            } else {
                usize::from(!e.file_name().to_string_lossy().starts_with('.'))
            }
        })
        .sum()
}

/// The committed OpenAPI document is the generated one, and every documented route exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_committed_and_every_route_exists() {
    let generated = serde_json::to_string_pretty(&openapi()).unwrap() + "\n";
    let path = testkit::root().join("schemas/openapi.json");
    if std::env::var_os("SHENBAO_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/openapi.json is stale: run `SHENBAO_BLESS=1 cargo test -p shenbao --all-features --test http` and review the diff"
    );
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["components"]["schemas"]["Application"].is_object());

    let s = server(ApiConfig::default()).await;
    let (st, served) = s.call("anonymous", Method::GET, "/openapi.json", None).await;
    assert_eq!((st, &served), (StatusCode::OK, &doc));
    for d in route_docs() {
        let path =
            d.path.replace("{round}", ROUND).replace("{index}", "0").replace("{year}", "2024").replace(['{', '}'], "");
        let method = Method::from_bytes(d.method.to_uppercase().as_bytes()).unwrap();
        let (st, b) = s.call("anonymous", method, &path, None).await;
        if matches!(d.access, shenbao::http::Access::Open) {
            // Open: answered (a sign-in without a JSON body is refused, not missing).
            let expect = if d.method == "post" { StatusCode::FORBIDDEN } else { StatusCode::OK };
            assert_eq!(st, expect, "{} {path}: {b}", d.method);
        } else {
            // Authentication comes first: a 401 proves the route is there (the fallback is 404).
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{} {path}: {b}", d.method);
        }
    }
    let (st, b) = s.call("admin", Method::GET, "/v1/nowhere", None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

/// `n` copies of one request, sent at once.
async fn at_once(
    s: &Arc<Server>,
    n: usize,
    who: &'static str,
    method: Method,
    path: &str,
    body: Option<Value>,
    key: &str,
) -> Vec<(StatusCode, Value)> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (s, method, path, body, key) = (s.clone(), method.clone(), path.to_string(), body.clone(), key.to_string());
        set.spawn(async move { s.call_with(who, method, &path, body, Some(&key)).await });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

fn all_the_same(answers: &[(StatusCode, Value)]) -> (StatusCode, Value) {
    for a in answers {
        assert_eq!(a, &answers[0], "every answer is the first one's");
    }
    answers[0].clone()
}

/// 64 concurrent requests with one `Idempotency-Key` — a token issue, a draft, an
/// action, a batch — make exactly one change, and all 64 get the same answer. A
/// token's secret is given to those 64 and never stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_keyed_requests_have_one_effect() {
    let window = std::time::Duration::from_secs(2);
    let s = Arc::new(server(ApiConfig { idempotency_secret_window: window, ..Default::default() }).await);
    s.open_round().await;

    // Token issue.
    let before = s.kernel.tokens(Some("huiyang")).unwrap().len();
    let answers =
        at_once(&s, 64, "admin", Method::POST, "/v1/users/huiyang/tokens", Some(json!({"label": "并发"})), "tok-1")
            .await;
    let (st, token) = all_the_same(&answers);
    assert_eq!(st, StatusCode::CREATED, "{token}");
    let secret = token["secret"].as_str().expect("the secret, shown to the requests that asked").to_string();
    assert_eq!(s.kernel.tokens(Some("huiyang")).unwrap().len(), before + 1, "one token, not several");
    // A repeat soon after (a lost response): the whole answer, from memory.
    let (st, soon) = s
        .call_with("admin", Method::POST, "/v1/users/huiyang/tokens", Some(json!({"label": "并发"})), Some("tok-1"))
        .await;
    assert_eq!((st, &soon), (StatusCode::CREATED, &token));
    // A later repeat: the same answer without the secret, which is stored nowhere.
    tokio::time::sleep(window + std::time::Duration::from_millis(200)).await;
    let (st, again) = s
        .call_with("admin", Method::POST, "/v1/users/huiyang/tokens", Some(json!({"label": "并发"})), Some("tok-1"))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(again["info"], token["info"]);
    assert_eq!(again["secret"], Value::Null, "a stored answer never carries a secret");
    let file = std::fs::read(s._dir.path().join("api.redb")).unwrap();
    assert!(!file.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is not in the database file");

    // A new draft.
    let draft = s.draft("applicant").await;
    let path = format!("/v1/rounds/{ROUND}/applications");
    let apps_before = s.kernel.applications_in(ROUND).unwrap().len();
    let answers = at_once(&s, 64, "applicant", Method::POST, &path, Some(draft.clone()), "draft-x").await;
    let (st, created) = all_the_same(&answers);
    assert_eq!(st, StatusCode::CREATED, "{created}");
    assert_eq!(s.kernel.applications_in(ROUND).unwrap().len(), apps_before + 1, "one application");
    let id = created["application"]["id"].as_str().unwrap().to_string();

    // An action.
    let n = s.kernel.decision_count().unwrap();
    let act = format!("/v1/applications/{id}/actions");
    let answers = at_once(&s, 64, "applicant", Method::POST, &act, Some(json!({"action": "submit"})), "sub-x").await;
    let (st, submitted) = all_the_same(&answers);
    assert_eq!(st, StatusCode::OK, "{submitted}");
    assert_eq!(s.kernel.decision_count().unwrap(), n + 1, "one decision");

    // A batch (the district recommends first, then the city in a batch).
    let (st, b) =
        s.call("district", Method::POST, &act, Some(json!({"action": "district-recommend", "opinion": "同意"}))).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let n = s.kernel.decision_count().unwrap();
    let batch = json!({"applications": [id], "request": {"action": "city-recommend", "opinion": "同意推荐"}});
    let answers =
        at_once(&s, 64, "city", Method::POST, &format!("/v1/rounds/{ROUND}/batch"), Some(batch), "batch-x").await;
    let (st, b) = all_the_same(&answers);
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(s.kernel.decision_count().unwrap(), n + 1, "one batch decision");
    assert_eq!(s.kernel.verify_indexes().unwrap(), Vec::<String>::new());
}

/// Keyed requests with keys of their own, all at once: the group commit's leader
/// applies its batch-mates' changes on its own thread, and each answer is still
/// stored under its own request's key, in its change's own transaction (no commit
/// beyond the group's); a retry of each replays exactly its own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_keyed_requests_each_keep_their_own_answer() {
    let s = Arc::new(server(ApiConfig::default()).await);
    s.open_round().await;
    let draft = s.draft("applicant").await;
    let path = format!("/v1/rounds/{ROUND}/applications");
    const N: usize = 48;
    let body = |i: usize| {
        let mut d = draft.clone();
        d["data"]["resource_name"] = json!(format!("资源{i}"));
        d
    };
    let apps_before = s.kernel.applications_in(ROUND).unwrap().len();
    let (group, counts) = (s.kernel.commit_stats(), s.kernel.tx_counts());
    let mut set = tokio::task::JoinSet::new();
    for i in 0..N {
        let (s, path, body) = (s.clone(), path.clone(), body(i));
        set.spawn(async move {
            (i, s.call_with("applicant", Method::POST, &path, Some(body), Some(&format!("own-{i}"))).await)
        });
    }
    let mut first = vec![None; N];
    while let Some(r) = set.join_next().await {
        let (i, answer) = r.unwrap();
        assert_eq!(answer.0, StatusCode::CREATED, "{}", answer.1);
        assert_eq!(answer.1["application"]["data"]["resource_name"], json!(format!("资源{i}")));
        first[i] = Some(answer);
    }
    let (group_after, counts_after) = (s.kernel.commit_stats(), s.kernel.tx_counts());
    assert_eq!(group_after.changes - group.changes, N as u64, "every draft went through the group commit");
    assert!(group_after.commits - group.commits < N as u64, "some drafts shared a commit: {group:?} → {group_after:?}");
    assert_eq!(
        counts_after.commits - counts.commits,
        group_after.commits - group.commits,
        "every answer was stored in its draft's own transaction, none afterwards in one of its own"
    );
    let ids: std::collections::BTreeSet<_> =
        first.iter().map(|a| a.as_ref().unwrap().1["application"]["id"].to_string()).collect();
    assert_eq!(ids.len(), N, "a draft each");
    for (i, answer) in first.into_iter().enumerate() {
        let retry = s.call_with("applicant", Method::POST, &path, Some(body(i)), Some(&format!("own-{i}"))).await;
        assert_eq!(Some(retry), answer, "key own-{i} replays its own answer");
    }
    assert_eq!(s.kernel.applications_in(ROUND).unwrap().len(), apps_before + N, "the retries made nothing");
}

/// One key, two different bodies sent at once, many times over: exactly one of them
/// takes effect; the other is refused as a reuse of the key; a retry of the winner
/// replays the winner's answer (never the loser's).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_two_bodies_has_one_winner() {
    let s = Arc::new(server(ApiConfig::default()).await);
    s.open_round().await;
    let draft = s.draft("applicant").await;
    let path = format!("/v1/rounds/{ROUND}/applications");
    for trial in 0..20 {
        let key = format!("race-{trial}");
        let mut other = draft.clone();
        other["data"]["resource_name"] = json!(format!("另一个资源{trial}"));
        let before = s.kernel.applications_in(ROUND).unwrap().len();
        let (a, b) = tokio::join!(
            s.call_with("applicant", Method::POST, &path, Some(draft.clone()), Some(&key)),
            s.call_with("applicant", Method::POST, &path, Some(other.clone()), Some(&key)),
        );
        assert_eq!(s.kernel.applications_in(ROUND).unwrap().len(), before + 1, "trial {trial}: one draft");
        let (winner, body, loser) = match (a.0, b.0) {
            (StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY) => (a, draft.clone(), b),
            (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::CREATED) => (b, other.clone(), a),
            other => panic!("trial {trial}: {other:?} {} {}", a.1, b.1),
        };
        assert_eq!(loser.1["code"], "idempotency_key_reused");
        let retry = s.call_with("applicant", Method::POST, &path, Some(body), Some(&key)).await;
        assert_eq!(retry, winner, "trial {trial}: the winner's retry replays the winner's answer");
    }
}

/// A missing object is 404 `not_found` on every route that names one (never a 500),
/// and the CLI says the same with exit 3 (`kernel/tests/cli.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_objects_are_not_found_everywhere() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    for (who, method, path, body) in [
        ("admin", Method::GET, "/v1/rounds/nope".to_string(), None),
        ("city", Method::GET, "/v1/rounds/nope/queue".to_string(), None),
        ("city", Method::GET, "/v1/rounds/nope/quotas".to_string(), None),
        ("city", Method::GET, "/v1/rounds/nope/summary?level=city".to_string(), None),
        ("admin", Method::GET, "/v1/rounds/nope/forms/resource".to_string(), None),
        ("admin", Method::GET, format!("/v1/rounds/{ROUND}/forms/nope"), None),
        ("admin", Method::GET, format!("/v1/rounds/{ROUND}/summary?level=city&scope=atlantis"), None),
        ("admin", Method::POST, "/v1/rounds/nope/open".to_string(), None),
        ("admin", Method::POST, "/v1/rounds/nope/close".to_string(), None),
        ("applicant", Method::POST, "/v1/rounds/nope/applications".to_string(), Some(json!({"data": {}}))),
        ("applicant", Method::GET, "/v1/applications/A9999999".to_string(), None),
        ("admin", Method::DELETE, "/v1/tokens/0000000000000000".to_string(), None),
        ("admin", Method::GET, "/v1/orgs/91440300MA5FXXXX0X".to_string(), None),
        ("admin", Method::GET, "/v1/decisions/99999/replay".to_string(), None),
        ("admin", Method::GET, "/v1/decisions/nope/replay".to_string(), None),
        ("admin", Method::PUT, "/v1/calendars/nope".to_string(), Some(json!({}))),
        ("admin", Method::POST, "/v1/users/nobody/tokens".to_string(), Some(json!({"label": "x"}))),
        ("admin", Method::GET, "/v1/no/such/endpoint".to_string(), None),
    ] {
        let (st, b) = s.call(who, method.clone(), &path, body).await;
        assert_eq!((st, b["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{method} {path}: {b}");
        let message = b["message"].as_str().unwrap();
        assert!(message.contains(" / "), "{path}: bilingual message: {b}");
        // The English half is English.
        let english = message.rsplit(" / ").next().unwrap();
        assert!(!english.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{path}: {message}");
    }
    // A method an endpoint does not take: 405 with the methods it does take in
    // `Allow`, and a typed, bilingual body (not axum's empty one).
    for (method, path, allowed) in [
        (Method::DELETE, format!("/v1/rounds/{ROUND}/queue"), "GET,HEAD"),
        (Method::PATCH, "/v1/applications/A0000001".to_string(), "GET,HEAD,PUT"),
        (Method::PUT, "/v1/session".to_string(), "POST,GET,HEAD,DELETE"),
    ] {
        let r = s
            .client
            .request(method.clone(), format!("{}{path}", s.base))
            .bearer_auth(&s.tokens["admin"])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let mut allow: Vec<String> =
            r.headers()["allow"].to_str().unwrap().split(',').map(|m| m.trim().to_string()).collect();
        let mut want: Vec<String> = allowed.split(',').map(str::to_string).collect();
        allow.sort();
        want.sort();
        assert_eq!(allow, want, "{method} {path}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "method_not_allowed", "{b}");
        let message = b["message"].as_str().unwrap();
        assert!(message.contains(method.as_str()) && message.contains("此接口不支持"), "{b}");
    }
    // Authentication still comes first, even where the path cannot be parsed.
    let (st, b) = s.call("nobody", Method::GET, "/v1/decisions/nope/replay", None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{b}");
}

/// A refusal changed nothing and is not remembered under its key: once the cause is
/// gone, a retry with the same key runs again (a success is what a key replays).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_not_remembered_under_its_key() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let mut broken = s.draft("applicant").await;
    broken["data"].as_object_mut().unwrap().remove("commitment");
    let path = format!("/v1/rounds/{ROUND}/applications");
    let (st, b) = s.call("applicant", Method::POST, &path, Some(broken)).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["application"]["id"].as_str().unwrap().to_string();
    let act = format!("/v1/applications/{id}/actions");
    let submit = json!({"action": "submit"});
    let (st, b) = s.call_with("applicant", Method::POST, &act, Some(submit.clone()), Some("sub-r")).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("blocking_findings")));
    // The applicant fixes the draft; the retry with the same key now goes through.
    let fixed = s.draft("applicant").await;
    let (st, b) = s.call("applicant", Method::PUT, &format!("/v1/applications/{id}"), Some(fixed)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, first) = s.call_with("applicant", Method::POST, &act, Some(submit.clone()), Some("sub-r")).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    // And that success is what the key replays from now on.
    let (st, again) = s.call_with("applicant", Method::POST, &act, Some(submit), Some("sub-r")).await;
    assert_eq!((st, &again), (StatusCode::OK, &first));
}

/// Every kind of error maps to one HTTP status and one exit code, and the two agree
/// (a 404 is exit 3 everywhere, a 502 exit 8 …); every error the API can give names
/// its kind's status.
#[test]
fn every_error_kind_has_one_status_and_one_exit_code() {
    use shenbao::ErrorKind;
    use shenbao::http::status_of;
    let expected = [
        (ErrorKind::Invalid, 422, 4),
        (ErrorKind::Malformed, 400, 4),
        (ErrorKind::TooLarge, 413, 4),
        (ErrorKind::NotFound, 404, 3),
        (ErrorKind::Unauthenticated, 401, 7),
        (ErrorKind::Forbidden, 403, 7),
        (ErrorKind::Conflict, 409, 7),
        (ErrorKind::PluginFailed, 502, 8),
        (ErrorKind::Storage, 500, 5),
        (ErrorKind::Corrupt, 500, 6),
        (ErrorKind::Internal, 500, 9),
    ];
    assert_eq!(expected.len(), ErrorKind::ALL.len());
    for kind in ErrorKind::ALL {
        let (_, status, exit) = expected.iter().find(|(k, _, _)| *k == kind).expect("every kind in the table");
        assert_eq!((status_of(kind).as_u16(), kind.exit_code()), (*status, *exit), "{kind:?}");
        // Agreement: the status class and the exit code tell the same story.
        let agree = match status_of(kind).as_u16() {
            400 | 413 | 422 => kind.exit_code() == 4,
            401 | 403 | 409 => kind.exit_code() == 7,
            404 => kind.exit_code() == 3,
            502 => kind.exit_code() == 8,
            500 => matches!(kind.exit_code(), 5 | 6 | 9),
            other => panic!("{kind:?}: unexpected status {other}"),
        };
        assert!(agree, "{kind:?}");
    }
}

/// What one request costs in transactions: a keyed submit and a keyed review over
/// HTTP each make exactly one durable commit (the decision with its remembered
/// answer) and open few read transactions (the figures are in the README).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_and_a_review_cost_one_commit_each() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let draft = s.draft("applicant").await;
    let (st, b) = s.call("applicant", Method::POST, &format!("/v1/rounds/{ROUND}/applications"), Some(draft)).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["application"]["id"].as_str().unwrap().to_string();
    let act = format!("/v1/applications/{id}/actions");
    let mut measured = Vec::new();
    for (who, body, key) in [
        ("applicant", json!({"action": "submit"}), "cost-submit"),
        ("district", json!({"action": "district-recommend", "opinion": "同意"}), "cost-review"),
    ] {
        let before = s.kernel.tx_counts();
        let (st, b) = s.call_with(who, Method::POST, &act, Some(body), Some(key)).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let after = s.kernel.tx_counts();
        let (reads, commits) = (after.reads - before.reads, after.commits - before.commits);
        println!("{key}: {reads} read transactions, {commits} commits");
        assert_eq!(commits, 1, "{key}: the decision and its remembered answer in one commit");
        assert!(reads <= 5, "{key}: {reads} read transactions");
        measured.push((reads, commits));
    }
    // A replay costs no commit.
    let before = s.kernel.tx_counts();
    let (st, _) = s
        .call_with(
            "district",
            Method::POST,
            &act,
            Some(json!({"action": "district-recommend", "opinion": "同意"})),
            Some("cost-review"),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s.kernel.tx_counts().commits, before.commits, "a replay writes nothing");
}

/// No body is read before its sender is authenticated: an anonymous request that
/// declares 64 MiB and sends one byte is answered `401` at once (the server does not
/// wait for, or hold, the rest); an authenticated one past the limit is `413`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_read_only_after_authentication() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = server(ApiConfig::default()).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    for (path, auth) in [("/v1/plugins", ""), ("/v1/rounds", ""), ("/v1/orgs", "Authorization: Bearer sb_0000\r\n")] {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 67108864\r\n\r\n{{"
        );
        c.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 512];
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), c.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer while the body is outstanding"))
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 401"), "{path}: {text}");
    }
    let big = "x".repeat((1 << 20) + 10);
    let (st, b) = s.call("admin", Method::POST, "/v1/orgs", Some(json!([big]))).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "{b}");
}

/// Review of issue 15: an upload declared even one byte past the limit is answered
/// `413` before a byte is read; one without a declared length is cut off with `413`
/// as soon as it passes the limit; a trickle below the minimum rate is `408` — and
/// none leaves a partial file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_past_the_limit_or_too_slow_are_answered_at_once() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = ApiConfig {
        max_upload: 1 << 20,
        body_read_timeout: Duration::from_secs(1),
        min_upload_rate: 1 << 20,
        ..ApiConfig::default()
    };
    let s = server(config).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let token = s.tokens["applicant"].clone();
    let answer = |mut c: tokio::net::TcpStream| async move {
        let mut buf = vec![0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await.expect("answered").unwrap();
        String::from_utf8_lossy(&buf[..n]).to_string()
    };
    // Declared one byte past the limit, one byte sent.
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\nx",
        (1 << 20) + 1
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let text = answer(c).await;
    assert!(text.starts_with("HTTP/1.1 413") && text.contains("payload_too_large"), "{text}");
    // Chunked, no declared length: refused once it passes the limit.
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 256 << 10];
    for _ in 0..5 {
        let _ = c.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await;
        let _ = c.write_all(&chunk).await;
        let _ = c.write_all(b"\r\n").await;
    }
    let text = answer(c).await;
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    // A trickle: 100 bytes a little under every second, far below the minimum rate.
    let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 100000\r\n\r\n"
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let mut text = String::new();
    for _ in 0..10 {
        if c.write_all(&[b'a'; 100]).await.is_err() {
            break;
        }
        let mut buf = vec![0u8; 1024];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(800), c.read(&mut buf)).await {
            text = String::from_utf8_lossy(&buf[..n]).to_string();
            break;
        }
    }
    assert!(text.starts_with("HTTP/1.1 408") && text.contains("request_timeout"), "{text:?}");
    let blobs = s.kernel.blob_path(&"0".repeat(64)).parent().unwrap().parent().unwrap().to_path_buf();
    let partials = std::fs::read_dir(&blobs)
        .map(|d| d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().starts_with(".upload")).count())
        .unwrap_or(0);
    assert_eq!(partials, 0);
}

/// Administrative requests check the role before anything else — a replay under an
/// idempotency key included: someone who is no longer an administrator gets `403`,
/// not the remembered answer (nor a token's secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_authorised_like_the_request() {
    let s = server(ApiConfig::default()).await;
    let path = "/v1/users/huiyang/tokens";
    let (st, first) = s.call_with("admin", Method::POST, path, Some(json!({"label": "一次"})), Some("t-9")).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    let (st, again) = s.call_with("admin", Method::POST, path, Some(json!({"label": "一次"})), Some("t-9")).await;
    assert_eq!((st, &again), (StatusCode::CREATED, &first), "the administrator's own retry replays");
    // Another administrator first: the last one's grant cannot be taken away.
    let mut second = s.kernel.user("admin").unwrap().unwrap();
    second.id = "admin-2".into();
    s.kernel.upsert_user(&second).unwrap();
    let mut demoted = s.kernel.user("admin").unwrap().unwrap();
    demoted.grants.retain(|g| g.role != "admin");
    s.kernel.upsert_user(&demoted).unwrap();
    let (st, b) = s.call_with("admin", Method::POST, path, Some(json!({"label": "一次"})), Some("t-9")).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{b}");
    assert!(b.get("secret").is_none());
}

/// Issue 15.4 over HTTP: during the notice the `public` role reads only what the
/// notice shows, in the application, the list and an action's answer; the handling
/// record is not part of it; the applicant does not learn who scored it.
/// Issue 15.1 over HTTP: another user's upload cannot be attached by its address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_reads_the_notice_and_addresses_grant_nothing() {
    use shenbao::{ActionRequest, Payload};
    let s = server(ApiConfig::default()).await;
    s.open_round().await;

    // Another applicant's user names org-01's uploads by their addresses: refused,
    // exactly as for content nobody uploaded.
    let theirs = s.draft("applicant").await;
    let (st, b) =
        s.call("other-applicant", Method::POST, &format!("/v1/rounds/{ROUND}/applications"), Some(theirs)).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("attachment_invalid")), "{b}");

    let id = s.submitted("applicant").await;
    let k = &s.kernel;
    let act = |who: &str, action: &str, payload: Payload| {
        let req =
            ActionRequest { action: action.into(), opinion: Some("同意".into()), payload, ..Default::default() };
        k.act(who, &id, &req).unwrap();
    };
    act("huicheng", "district-recommend", Payload::default());
    act("huizhou", "city-recommend", Payload::default());
    act("province", "province-recommend", Payload::default());
    act("province", "assign-experts", Payload { experts: vec!["expert-1".into()], ..Default::default() });
    act("expert-1", "score", Payload { score: Some(90.0), ..Default::default() });
    act("province", "publish-notice", Payload::default());

    let (st, app) = s.call("public", Method::GET, &format!("/v1/applications/{id}"), None).await;
    assert_eq!(st, StatusCode::OK, "{app}");
    let fields: Vec<&String> = app["data"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["resource_name"], "only the fields the program marks x-public");
    assert_eq!(app["attachments"], json!([]));
    assert_eq!((app["state"]["experts"].clone(), app["state"]["scores"].clone()), (json!([]), json!({})));
    // Where it is now, not the path it took (that is the handling record's).
    assert_eq!(app["state"]["trail"].as_array().unwrap().len(), 1, "{app}");
    assert_eq!(app["state"]["trail"][0]["stage"], "public-notice");
    let (st, b) = s.call("public", Method::GET, &format!("/v1/applications/{id}/decisions"), None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{b}");
    let (st, page) = s.call("public", Method::GET, &format!("/v1/rounds/{ROUND}/applications"), None).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["data"], app["data"]);
    let (st, b) = s
        .call(
            "public",
            Method::POST,
            &format!("/v1/applications/{id}/actions"),
            Some(json!({"action": "object", "opinion": "数据存疑"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["application"]["data"], app["data"]);
    assert_eq!((b["application"]["attachments"].clone(), b["findings"].clone()), (json!([]), json!([])));

    // The applicant sees its own application whole, but not its experts.
    let (_, own) = s.call("applicant", Method::GET, &format!("/v1/applications/{id}"), None).await;
    assert!(own["data"].as_object().unwrap().len() > 1);
    assert_eq!((own["state"]["experts"].clone(), own["state"]["scores"].clone()), (json!([]), json!({})));
    let (_, log) = s.call("applicant", Method::GET, &format!("/v1/applications/{id}/decisions"), None).await;
    let text = log.to_string();
    assert!(!text.contains("expert-1") && !text.contains("90.0"), "{text}");
    // No chain hash from which the removed parts could be found by trial.
    assert!(log.as_array().unwrap().iter().all(|d| d["hash"] == "" && d["prev_hash"] == ""), "{log}");
    // The province sees who scored what.
    let (_, log) = s.call("province", Method::GET, &format!("/v1/applications/{id}/decisions"), None).await;
    assert!(log.to_string().contains("expert-1"));
}

/// Issue 15.2: slow clients hold nothing. Hundreds of connections that never finish
/// their headers, and stalled uploads (one byte of a declared thousand), while
/// another user is served within a second; one user's uploads in progress are
/// capped (429); the stalled ones are answered 408 and closed after the configured
/// timeouts, and leave no partial file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_stall_nothing_and_leave_nothing() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = ApiConfig {
        header_read_timeout: Duration::from_secs(2),
        body_read_timeout: Duration::from_secs(2),
        max_uploads_per_user: 4,
        // Every client is 127.0.0.1 here (the per-address cap has its own test).
        max_connections_per_client: 1024,
        ..ApiConfig::default()
    };
    let s = server(config).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let blobs = s.kernel.blob_path(&"0".repeat(64)).parent().unwrap().parent().unwrap().to_path_buf();
    let partials = || {
        std::fs::read_dir(&blobs)
            .map(|d| {
                d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().starts_with(".upload")).count()
            })
            .unwrap_or(0)
    };

    // 300 connections that send half a request line and stop.
    let mut headers = Vec::new();
    for _ in 0..300 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthor").await.unwrap();
        headers.push(c);
    }
    // Stalled uploads by one applicant: four wait, the rest are refused at once.
    let mut uploads = Vec::new();
    let mut refused = 0;
    for _ in 0..10 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 1000\r\n\r\nx",
            s.tokens["other-applicant"]
        );
        c.write_all(head.as_bytes()).await.unwrap();
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(300), c.read(&mut buf)).await {
            Ok(Ok(n)) => {
                assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 429"));
                refused += 1;
            }
            _ => uploads.push(c),
        }
    }
    assert_eq!((uploads.len(), refused), (4, 6));

    // Meanwhile another user is served at once, an upload included.
    let served = tokio::time::timeout(Duration::from_secs(1), async {
        let (st, me) = s.call("province", Method::GET, "/v1/me", None).await;
        assert_eq!((st, me["id"].as_str()), (StatusCode::OK, Some("province")));
        let (st, blob) = s.upload("applicant", b"%PDF-1.7 ok".to_vec()).await;
        assert_eq!(st, StatusCode::CREATED, "{blob}");
    })
    .await;
    assert!(served.is_ok(), "another user waited more than a second while the attack ran");
    assert!(partials() >= 4, "the stalled uploads are in progress");

    // After the timeouts: each stalled upload is answered 408, each stalled header closed.
    for mut c in uploads {
        let mut buf = vec![0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 408") && text.contains("request_timeout"), "{text}");
    }
    for mut c in headers.into_iter().take(20) {
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await.expect("closed in time");
        assert!(matches!(closed, Ok(0) | Err(_)) || buf.starts_with(b"HTTP/1.1 408"), "{closed:?}");
    }
    assert_eq!(partials(), 0, "no partial upload is left");
    // The applicant's slots are free again.
    let (st, _) = s.upload("other-applicant", b"after".to_vec()).await;
    assert_eq!(st, StatusCode::CREATED);
    // Only applicants upload: anyone else is refused before the body is read.
    for who in ["public", "expert", "city", "admin"] {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /v1/attachments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 1000\r\n\r\n",
            s.tokens[who]
        );
        c.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 1024];
        let n =
            tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await.expect("answered at once").unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 403") && text.contains("forbidden"), "{who}: {text}");
    }
}

/// Issue 15.2: one host cannot take every connection. Connections that send nothing,
/// from one address, beyond its share are closed at once; a client from another
/// address is served while the rest of them wait for their header timeout (60 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_address_cannot_take_every_connection() {
    use std::time::Duration;
    use tokio::io::AsyncReadExt;
    let config = ApiConfig {
        header_read_timeout: Duration::from_secs(60),
        max_connections: 16,
        max_connections_per_client: 8,
        ..ApiConfig::default()
    };
    let s = server(config).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..24 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    // Beyond its eight, each is answered 503 at once and closed.
    let mut closed = 0;
    for c in &mut idle {
        let mut buf = vec![0u8; 1024];
        if let Ok(r) = tokio::time::timeout(Duration::from_millis(500), c.read(&mut buf)).await {
            let text = String::from_utf8_lossy(&buf[..r.unwrap()]).to_string();
            assert!(text.starts_with("HTTP/1.1 503") && text.contains("too_many_connections"), "{text}");
            closed += 1;
        }
    }
    assert_eq!(closed, 16, "eight kept, the rest closed");
    // Another address (127.0.0.2 is loopback too) is served at once.
    let other = Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let served = tokio::time::timeout(
        Duration::from_secs(20),
        other.get(format!("{}/v1/me", s.base)).bearer_auth(&s.tokens["province"]).send(),
    )
    .await
    .expect("served before the idle connections' header timeout")
    .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    // A closed connection's share is free again: one more from the first address is held.
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (st, _) = s.call("province", Method::GET, "/v1/me", None).await;
    assert_eq!(st, StatusCode::OK);
}

/// Issue 16: `GET …/actions` lists exactly what `POST …/actions` accepts, per caller:
/// every listed action, taken with what it needs, is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_actions_are_exactly_what_act_accepts() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let id = s.submitted("applicant").await;
    let path = format!("/v1/applications/{id}/actions");
    let (st, mine) = s.call("applicant", Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert!(mine["available"].as_array().unwrap().iter().all(|a| a["id"] != "district-recommend"), "{mine}");
    let (st, _) = s.call("other-district", Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, listed) = s.call("district", Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::OK, "{listed}");
    let available = listed["available"].as_array().unwrap();
    let recommend = available.iter().find(|a| a["id"] == "district-recommend").expect("district-recommend listed");
    assert_eq!(listed["stage"], "district-review");
    // Take it with what it needs: accepted.
    let mut body = json!({"action": "district-recommend"});
    if recommend["needs"].as_array().unwrap().iter().any(|n| n == "opinion") {
        body["opinion"] = json!("同意");
    }
    let (st, r) = s.call("district", Method::POST, &path, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    // Listing changed nothing else: one decision more than the submission's.
    let (_, log) = s.call("admin", Method::GET, &format!("/v1/applications/{id}/decisions"), None).await;
    let actions: Vec<&str> = log.as_array().unwrap().iter().filter_map(|d| d["action"].as_str()).collect();
    assert_eq!(actions, ["save-draft", "submit", "district-recommend"]);
    // Now the district may withdraw (the city has not acted) and not recommend again.
    let (_, listed) = s.call("district", Method::GET, &path, None).await;
    let ids: Vec<&str> = listed["available"].as_array().unwrap().iter().filter_map(|a| a["id"].as_str()).collect();
    assert!(!ids.contains(&"district-recommend"), "{listed}");
}

/// Issue 16: a field the API does not know is refused naming it, in every request
/// body — not silently dropped (`{"payload": {"opinion": …}}` once answered a
/// puzzling `opinion_required`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_are_refused_naming_the_field() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let id = s.submitted("applicant").await;
    let path = format!("/v1/applications/{id}/actions");
    for (who, path, body, field) in [
        ("district", path.clone(), json!({"action": "district-recommend", "payload": {"opinion": "同意"}}), "opinion"),
        ("district", path.clone(), json!({"action": "district-recommend", "opnion": "同意"}), "opnion"),
        (
            "city",
            format!("/v1/rounds/{ROUND}/batch"),
            json!({"applications": [id], "request": {"action": "x"}, "extra": 1}),
            "extra",
        ),
        (
            "applicant",
            format!("/v1/rounds/{ROUND}/applications"),
            json!({"direction": "x", "data": {}, "attachment": []}),
            "attachment",
        ),
        ("admin", "/v1/users/huiyang/tokens".to_string(), json!({"label": "x", "expires": "never"}), "expires"),
    ] {
        let (st, b) = s.call(who, Method::POST, &path, Some(body)).await;
        assert_eq!(
            (st, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")),
            "{path}: {b}"
        );
        assert!(b["message"].as_str().unwrap().contains(&format!("unknown field `{field}`")), "{b}");
        assert!(b["message"].as_str().unwrap().contains(&format!("不接受字段“{field}”")), "named in Chinese too: {b}");
    }
    let (_, app) = s.call("district", Method::GET, &format!("/v1/applications/{id}"), None).await;
    assert_eq!(app["state"]["stage"], "district-review", "nothing changed");
}

/// Issue 17: people sign in with a password (or a one-time code) and get a session
/// cookie — HttpOnly, SameSite=Strict, `__Host-` and Secure by default — that
/// authenticates like a token, but changes nothing without the session's CSRF
/// token; wrong passwords and unknown users get one answer and are throttled;
/// signing out ends the session on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_in_with_a_password_and_a_session_cookie() {
    let s = server(ApiConfig { secure_cookies: false, ..ApiConfig::default() }).await;
    s.open_round().await;
    let raw = |method: Method, path: &str| s.client.request(method, format!("{}{path}", s.base));
    let sign_in = |body: Value| raw(Method::POST, "/v1/session").json(&body).send();

    // No password yet: the same answer as a wrong one.
    let r = sign_in(json!({"user": "org-01", "password": "correct horse battery"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let unknown_user: Value = r.json().await.unwrap();
    assert_eq!(unknown_user["code"], "sign_in_failed");

    // The administrator sets passwords; a short one is refused naming the limit.
    let (st, b) = s.call("admin", Method::PUT, "/v1/users/org-01/password", Some(json!({"password": "short"}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b["message"].as_str().unwrap().contains("至少 12 个字符"), "{b}");
    let (st, b) = s
        .call("applicant", Method::PUT, "/v1/users/org-01/password", Some(json!({"password": "correct horse battery"})))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only administrators set passwords: {b}");
    let (st, b) = s
        .call("admin", Method::PUT, "/v1/users/org-01/password", Some(json!({"password": "correct horse battery"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");

    // Wrong password and unknown user: one answer.
    let r = sign_in(json!({"user": "org-01", "password": "wrong horse battery"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap(), unknown_user);
    let r = sign_in(json!({"user": "nobody", "password": "correct horse battery"})).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), unknown_user);

    // The right one: a session cookie and the CSRF token.
    let r = sign_in(json!({"user": "org-01", "password": "correct horse battery"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["shenbao_session=ss_", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    let session: Value = r.json().await.unwrap();
    assert!(session.get("secret").is_none(), "the secret is only in the cookie: {session}");
    assert_eq!(session["user"]["id"], "org-01");
    let csrf = session["csrf_token"].as_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();

    // The cookie reads like a token …
    let me: Value = raw(Method::GET, "/v1/me").header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["id"], "org-01");
    let again: Value =
        raw(Method::GET, "/v1/session").header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["csrf_token"], csrf.as_str());
    // … but changes nothing without the session's CSRF token.
    let draft = s.draft("applicant").await;
    let post = |token: Option<&str>| {
        let mut r =
            raw(Method::POST, &format!("/v1/rounds/{ROUND}/applications")).header("cookie", &cookie).json(&draft);
        if let Some(t) = token {
            r = r.header("x-csrf-token", t);
        }
        r.send()
    };
    for token in [None, Some("0000"), Some(&csrf[1..])] {
        let r = post(token).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_failed");
    }
    let r = post(Some(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mine: Value = r.json().await.unwrap();
    // The same access policy as a token: another organisation's application is not found.
    let other = s.submitted("other-applicant").await;
    let r = raw(Method::GET, &format!("/v1/applications/{other}")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = raw(Method::GET, &format!("/v1/applications/{}", mine["application"]["id"].as_str().unwrap()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Signing out ends the session on the server and clears the cookie.
    let r = raw(Method::DELETE, "/v1/session").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "signing out is a change: it needs the token");
    let r = raw(Method::DELETE, "/v1/session")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let r = raw(Method::GET, "/v1/me").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Throttling: after five failures for a user, even the right password waits.
    for _ in 0..shenbao::MAX_FAILURES_PER_USER {
        let r = sign_in(json!({"user": "org-01", "password": "wrong horse battery"})).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = sign_in(json!({"user": "org-01", "password": "correct horse battery"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "too_many_attempts");
    assert!(b["details"]["retry_after_secs"].as_i64().unwrap() > 0, "{b}");
    assert_eq!(Some(retry), b["details"]["retry_after_secs"].as_i64(), "Retry-After is the throttle's wait");

    // A one-time code: the person signs in once with it and sets a password.
    let (st, b) = s.call("admin", Method::POST, "/v1/users/huicheng/sign-in-code", None).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let code = b["code"].as_str().unwrap().to_string();
    let r = sign_in(json!({"user": "huicheng", "code": code, "new_password": "short"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a short new password; the code stays valid");
    let r = sign_in(json!({"user": "huiyang", "code": code, "new_password": "district officer's own"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "another user's code");
    let r = sign_in(json!({"user": "huicheng", "code": code, "new_password": "district officer's own"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = sign_in(json!({"user": "huicheng", "code": code, "new_password": "district officer's own"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a code is used once");
    let r = sign_in(json!({"user": "huicheng", "password": "district officer's own"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Login CSRF: a sign-in is same-site JSON — a cross-site HTML form posts
    // `text/plain`, a browser marks cross-site requests.
    let r = raw(Method::POST, "/v1/session")
        .header("content-type", "text/plain")
        .body(r#"{"user":"huicheng","password":"district officer's own"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = raw(Method::POST, "/v1/session")
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"user": "huicheng", "password": "district officer's own"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("set-cookie").is_none());
    // API answers are not cached nor sniffed.
    let r = raw(Method::GET, "/v1/health").send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    // Anything else in the body is refused, naming it.
    let r = sign_in(json!({"user": "huicheng", "password": "x", "remember": true})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// By default the session cookie is `__Host-` prefixed and `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_secure_by_default() {
    let s = server(ApiConfig::default()).await;
    s.kernel.set_password("org-01", "correct horse battery").unwrap();
    let r = s
        .client
        .post(format!("{}/v1/session", s.base))
        .json(&json!({"user": "org-01", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let set = r.headers()["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("__Host-shenbao_session=ss_") && set.contains("; Secure"), "{set}");
}

/// Issue 17: a reviewer's lists by tab (待审核 / 已推荐 / 退回待提交 / 不受理) with
/// the rows people read, within the reviewer's reach; each one paged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_lists_by_tab() {
    use shenbao::ActionRequest;
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let k = &s.kernel;
    let opinion = |a: &str| ActionRequest { opinion: Some("意见".into()), ..ActionRequest::new(a) };
    // org-01's goes on to the city, org-02's comes back to it, org-03's ends there,
    // org-04's waits; org-09's is another district's.
    let recommended = s.submitted("applicant").await;
    let mut ids = Vec::new();
    for org in ["org-02", "org-03", "org-04", "org-09"] {
        let draft: shenbao::Draft = serde_json::from_value(s.draft("applicant").await).unwrap();
        // Re-own the attachments: each applicant uploads its own.
        let mut draft = draft;
        for a in &mut draft.attachments {
            let blob = k.store_blob(org, format!("%PDF-1.7 {}", a.kind).as_bytes(), None).unwrap();
            (a.sha256, a.size) = (blob.sha256, blob.size);
        }
        let id = k.save_draft(org, ROUND, None, draft).unwrap().application.id;
        k.act(org, &id, &ActionRequest::new("submit")).unwrap();
        ids.push(id);
    }
    let [returned, ended, waiting, elsewhere] = <[String; 4]>::try_from(ids).unwrap();
    k.act("huicheng", &recommended, &opinion("district-recommend")).unwrap();
    k.act("huicheng", &returned, &opinion("district-return")).unwrap();
    k.act("huicheng", &ended, &opinion("district-not-recommend")).unwrap();
    assert_eq!(s.list("district", "").await, [waiting.clone()]);
    assert_eq!(s.list("district", "?view=pending").await, [waiting.clone()]);
    assert_eq!(s.list("district", "?view=recommended").await, [recommended.clone()]);
    assert_eq!(s.list("district", "?view=returned").await, [returned.clone()]);
    assert_eq!(s.list("district", "?view=not-recommended").await, [ended.clone()]);
    // Another district sees only its own; the city has only what reached it.
    assert_eq!(s.list("other-district", "").await, [elsewhere.clone()]);
    for view in ["recommended", "returned", "not-recommended"] {
        assert!(s.list("other-district", &format!("?view={view}")).await.is_empty());
        assert!(s.list("applicant", &format!("?view={view}")).await.is_empty());
    }
    assert_eq!(s.list("city", "").await, [recommended.clone()]);
    assert_eq!(s.list("city", "?stage=city-review").await, [recommended.clone()]);
    assert!(s.list("city", "?stage=province-review").await.is_empty());
    assert!(s.list("city", "?view=recommended").await.is_empty(), "the city has recommended nothing yet");
    // The row people read: the unit, the project, when it came, when it is due.
    let (_, page) = s.call("city", Method::GET, &format!("/v1/rounds/{ROUND}/queue"), None).await;
    let row = &page["items"][0];
    assert_eq!(row["applicant_name"], "示例惠城智能装备1号有限公司", "{row}");
    assert_eq!(row["applicant"], "91441302MA5D00001E");
    assert!(row["project_name"].as_str().is_some_and(|p| !p.is_empty()), "{row}");
    assert!(row["submitted_at"].is_number() && row["due"].is_string(), "{row}");
    assert_eq!(row["overdue"], false);
    // Past its due date the row says so.
    s.clock.advance(90 * 86_400);
    let (_, page) = s.call("city", Method::GET, &format!("/v1/rounds/{ROUND}/queue"), None).await;
    assert_eq!(page["items"][0]["overdue"], true, "{page}");
    // Paging: one at a time, each list to its end.
    let (_, p1) =
        s.call("district", Method::GET, &format!("/v1/rounds/{ROUND}/queue?view=returned&limit=1"), None).await;
    let next = p1["next"].as_str().expect("a full page has a next cursor").to_string();
    let (_, p2) = s
        .call(
            "district",
            Method::GET,
            &format!("/v1/rounds/{ROUND}/queue?view=returned&limit=1&after={}", urlencode(&next)),
            None,
        )
        .await;
    assert_eq!(p2["items"], json!([]), "{p2}");
    // A view or stage that is not one is refused, naming it.
    for q in ["?view=approved", "?stage=no-such-stage"] {
        let (st, b) = s.call("district", Method::GET, &format!("/v1/rounds/{ROUND}/queue{q}"), None).await;
        assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")), "{q}: {b}");
    }
}

/// A query parameter that does not parse, or names nothing there is, is `422
/// invalid_request` naming the parameter — in `details.parameter`, and in a message
/// whole in Chinese before the English — and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_query_parameter_is_named_in_chinese_and_english() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    for (who, path, parameter) in [
        ("district", format!("/v1/rounds/{ROUND}/queue?limit=abc"), "limit"),
        ("district", format!("/v1/rounds/{ROUND}/queue?limit=-1"), "limit"),
        ("district", format!("/v1/rounds/{ROUND}/queue?limit=0"), "limit"),
        ("district", format!("/v1/rounds/{ROUND}/queue?limit=99999999999999999999999"), "limit"),
        ("district", format!("/v1/rounds/{ROUND}/queue?view=approved"), "view"),
        ("district", format!("/v1/rounds/{ROUND}/queue?stage=no-such-stage"), "stage"),
        ("district", format!("/v1/rounds/{ROUND}/queue?after=not-a-cursor"), "after"),
        ("district", format!("/v1/rounds/{ROUND}/applications?limit=x"), "limit"),
        ("district", format!("/v1/rounds/{ROUND}/applications?after=%E4%B8%8D"), "after"),
        ("city", format!("/v1/rounds/{ROUND}/summary?format=csv"), "level"),
        ("city", format!("/v1/rounds/{ROUND}/summary?level=town"), "level"),
        ("city", format!("/v1/rounds/{ROUND}/summary?level=city&format=pdf"), "format"),
    ] {
        let (st, b) = s.call(who, Method::GET, &path, None).await;
        assert_eq!(
            (st, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")),
            "{path}: {b}"
        );
        assert_eq!(b["details"]["parameter"].as_str(), Some(parameter), "{path}: {b}");
        let message = b["message"].as_str().unwrap();
        let (zh, en) = message.split_once(" / ").expect("Chinese, then English");
        assert!(zh.starts_with(&format!("查询参数“{parameter}”无效：")), "{path}: {message}");
        let said = zh.split_once('：').unwrap().1;
        assert!(said.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "says what in Chinese: {message}");
        assert!(en.starts_with(&format!("invalid query parameter `{parameter}`: ")), "{path}: {message}");
    }
}

/// `POST /v1/rounds/{round}/close` with an application under review is `409
/// round_under_review` (with its count, in Chinese and English) and changes nothing;
/// `{"force": true}` closes it; a body that is not `{"force": bool}` is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_round_under_review_takes_force() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let id = s.submitted("applicant").await;
    let close = format!("/v1/rounds/{ROUND}/close");
    for body in [None, Some(json!({})), Some(json!({"force": false}))] {
        let (st, b) = s.call("admin", Method::POST, &close, body).await;
        assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("round_under_review")), "{b}");
        let m = b["message"].as_str().unwrap();
        assert!(m.contains("仍有 1 件申报") && m.contains(&id) && m.contains("close with force"), "{m}");
    }
    let (st, b) = s.call("admin", Method::POST, &close, Some(json!({"force": "yes"}))).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_request")), "{b}");
    let (_, r) = s.call("admin", Method::GET, &format!("/v1/rounds/{ROUND}"), None).await;
    assert_eq!(r["status"], "open", "nothing changed");
    let (st, r) = s.call("admin", Method::POST, &close, Some(json!({"force": true}))).await;
    assert_eq!((st, r["status"].as_str()), (StatusCode::OK, Some("closed")), "{r}");
    let (_, app) = s.call("district", Method::GET, &format!("/v1/applications/{id}"), None).await;
    assert_eq!(app["state"]["stage"], "district-review", "it stays where it was");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Issue 17: an attachment is downloaded by those who may read the application
/// (the bytes uploaded, named, never rendered in place); nobody else learns it exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_download_for_readers_only() {
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    let id = s.submitted("applicant").await;
    let app = s.kernel.application(&id).unwrap();
    let a = &app.attachments[0];
    let path = format!("/v1/applications/{id}/attachments/{}", a.sha256);
    for who in ["applicant", "district", "admin"] {
        let (st, headers, bytes) = s.raw(who, &path).await;
        assert_eq!(st, StatusCode::OK, "{who}");
        // As `Server::draft` uploaded it: the kind as a JSON string.
        assert_eq!(bytes, format!("%PDF-1.7 \"{}\"", a.kind).into_bytes(), "{who}");
        let disp = headers["content-disposition"].to_str().unwrap();
        assert!(disp.starts_with("attachment;") && disp.contains("filename*=UTF-8''"), "{disp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-security-policy"], "sandbox");
    }
    for who in ["other-applicant", "other-district", "city", "public", "expert"] {
        let (st, _, _) = s.raw(who, &path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{who}");
    }
    let (st, _, _) = s.raw("anonymous", &path).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // An address the application does not carry: not found, even for its reader.
    let other = "0".repeat(64);
    let (st, _, _) = s.raw("applicant", &format!("/v1/applications/{id}/attachments/{other}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// An administrator installing a plugin over HTTP learns what the CLI prints: the
/// record, whether the bytes were new, and each form problem standard renderers have
/// (the `hostile` test plugin's forms have no fields) — as data, with a repeat the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installing_a_plugin_over_http_gives_its_form_warnings() {
    let s = server(ApiConfig::default()).await;
    let hostile = testkit::plugin_bytes("hostile");
    let (st, b) = s.post_bytes("admin", "/v1/plugins", hostile.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!((b["id"]["program"].as_str(), b["newly_installed"].as_bool()), (Some("hostile"), Some(true)), "{b}");
    let warnings: Vec<&str> = b["form_warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(!warnings.is_empty() && warnings.iter().all(|w| w.contains("root") && w.contains(" — ")), "{warnings:?}");
    assert_eq!(b["manifest"]["program"], "hostile", "{b}");
    // The same bytes again: nothing changes, the same warnings.
    let (st, again) = s.post_bytes("admin", "/v1/plugins", hostile.clone()).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!((again["newly_installed"].as_bool(), &again["form_warnings"]), (Some(false), &b["form_warnings"]));
    // A program whose forms render well has none.
    let (st, good) = s.post_bytes("admin", "/v1/plugins", testkit::plugin_bytes("enabling-resources")).await;
    assert_eq!((st, good["form_warnings"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{good}");
    // Only an administrator installs.
    let (st, _) = s.post_bytes("province", "/v1/plugins", hostile).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

/// Issue 17: administrators import sheets over HTTP (the console's 数据导入): every
/// refused row is named and nothing is imported; a good sheet is; users, calendars
/// and backups can be read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_import_sheets_and_take_backups() {
    let s = server(ApiConfig::default()).await;
    let bad = "统一社会信用代码,单位名称,所属市,所属区县\n\
               91441302MA5D0009XX,坏代码单位,huizhou,\n\
               91441302MA5D00001E,,huizhou,\n\
               91441302MA5D00002H,不存在的区县单位,huizhou,nowhere\n";
    let (st, b) = s.post_bytes("admin", "/v1/imports/orgs?file=orgs.csv", bad.as_bytes().to_vec()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_import")), "{b}");
    let rows: Vec<u64> = b["details"]["rows"].as_array().unwrap().iter().map(|r| r["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [2, 3, 4], "every refused row, in order: {b}");
    assert_eq!(b["details"]["total"], 3);
    assert_eq!(b["details"]["rows"][1]["column"], "单位名称", "{b}");
    assert!(b["message"].as_str().unwrap().contains("共 3 处错误"), "{b}");
    // Nothing of it was written (the second row's code was already registered).
    assert_eq!(s.kernel.org("91441302MA5D00001E").unwrap().unwrap().name, "示例惠城智能装备1号有限公司");
    let code = shenbao::contract::credit_code::complete("91441302MA5D00099").unwrap();
    let good = format!("统一社会信用代码,单位名称,所属市,所属区县\n{code},新导入的单位,惠州市,\n");
    let (st, b) = s.post_bytes("admin", "/v1/imports/orgs?file=orgs.csv", good.into_bytes()).await;
    assert_eq!((st, b["imported"].as_u64()), (StatusCode::OK, Some(1)), "{b}");
    assert_eq!(s.kernel.org(&code).unwrap().unwrap().city.as_deref(), Some("huizhou"));
    // A credit look-up that marks the listed, registered units dishonest.
    let list = "统一社会信用代码,单位名称\n91441302MA5D00003L,示例惠城精密制造3号有限公司\n";
    let (st, b) =
        s.post_bytes("admin", "/v1/imports/credit?file=list.csv&mark_dishonest=true", list.as_bytes().to_vec()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(
        (b[0]["registered_name"].as_str(), b[0]["marked"].as_bool()),
        (Some("示例惠城精密制造3号有限公司"), Some(true))
    );
    assert!(s.kernel.org("91441302MA5D00003L").unwrap().unwrap().dishonest);
    // Users from a sheet; read back by the administrator only.
    let users = "id,name,role,scope\nnew-officer,新审核员,district-officer,district:huizhou.huicheng\n";
    let (st, b) = s.post_bytes("admin", "/v1/imports/users?file=users.csv", users.as_bytes().to_vec()).await;
    assert_eq!((st, b["imported"].as_u64()), (StatusCode::OK, Some(1)), "{b}");
    let (st, all) = s.call("admin", Method::GET, "/v1/users", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(all.as_array().unwrap().iter().any(|u| u["id"] == "new-officer" && u["name"] == "新审核员"), "{all}");
    for who in ["applicant", "province", "district"] {
        let (st, _) = s.call(who, Method::GET, "/v1/users", None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
        let (st, _) = s.post_bytes(who, "/v1/imports/users?file=users.csv", users.as_bytes().to_vec()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
    }
    let (st, b) = s.post_bytes("admin", "/v1/imports/planets?file=x.csv", b"a\n1\n".to_vec()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{b}");
    let (st, b) = s.post_bytes("admin", "/v1/imports/orgs?file=orgs.pdf", b"%PDF".to_vec()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_import")), "{b}");
    // Calendars read back as set.
    let cal = json!({ "holidays": ["2024-10-01", "2024-10-02"], "makeup_workdays": ["2024-09-29"] });
    let (st, b) = s.call("admin", Method::PUT, "/v1/calendars/2024", Some(cal.clone())).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = s.call("district", Method::GET, "/v1/calendars/2024", None).await;
    assert_eq!((st, b), (StatusCode::OK, cal));
    // A backup, downloaded whole; only by an administrator, only from the backup folder.
    let (st, b) = s.call("admin", Method::POST, "/v1/admin/backup", Some(json!({"name": "dl.redb"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, headers, bytes) = s.raw("admin", "/v1/admin/backups/dl.redb").await;
    assert_eq!(st, StatusCode::OK);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut db = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("dl.redb").unwrap(), &mut db).unwrap();
    assert_eq!(db, std::fs::read(s._dir.path().join("backups/dl.redb")).unwrap());
    assert!(headers["content-disposition"].to_str().unwrap().contains("dl.redb.zip"));
    let (st, _, _) = s.raw("province", "/v1/admin/backups/dl.redb").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = s.raw("admin", "/v1/admin/backups/none.redb").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _, _) = s.raw("admin", "/v1/admin/backups/..%2Fapi.redb").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a name, never a path");
}

/// The review's findings (issue 17): what an import, a round id, a backup, a level an
/// application skips, an attachment's name, a password or a token label must not do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_administrative_input_is_refused() {
    use shenbao::{ActionRequest, Payload};
    let s = server(ApiConfig::default()).await;
    s.open_round().await;
    // An import may not take away the last administrator's grant.
    let coup = "id,name,role,scope\nadmin,夺权,applicant,organisation:91441302MA5D00001E\n";
    let (st, b) = s.post_bytes("admin", "/v1/imports/users?file=u.csv", coup.as_bytes().to_vec()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("last_administrator")), "{b}");
    let (_, me) = s.call("admin", Method::GET, "/v1/me", None).await;
    assert!(me["grants"].as_array().unwrap().iter().any(|g| g["role"] == "admin"), "{me}");
    // Every row naming a place or unit that does not exist is listed.
    let users = "id,name,role,scope\nu1,甲,applicant,organisation:91441302MA5D0009XX\nu2,乙,district-officer,district:nowhere\nu3,丙,city-officer,city:huizhou\n";
    let (st, b) = s.post_bytes("admin", "/v1/imports/users?file=u.csv", users.as_bytes().to_vec()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let rows: Vec<u64> = b["details"]["rows"].as_array().unwrap().iter().map(|r| r["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [2, 3], "{b}");
    assert!(s.kernel.user("u3").unwrap().is_none(), "all or none");
    // A round id is a name, never header or path material.
    let mut spec: Value = serde_json::from_str(&testkit::example("enabling-resources/round.json")).unwrap();
    for id in ["q\"; filename=evil.html", "crlf\r\nSet-Cookie: a=b", "../x", "\u{202e}evil", &"a".repeat(65)] {
        spec["id"] = json!(id);
        let (st, b) = s.call("admin", Method::POST, "/v1/rounds", Some(spec.clone())).await;
        assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("round_invalid")), "{id:?}: {b}");
        assert!(b.to_string().contains("$.id"), "{b}");
    }
    let (_, headers, _) = s.raw("province", &format!("/v1/rounds/{ROUND}/summary?level=province&format=csv")).await;
    let disp = headers["content-disposition"].to_str().unwrap();
    assert!(disp.contains("filename*=UTF-8''er-2024q3-province-summary.csv"), "{disp}");
    // A scoped table names its scope, as `shenbao export summary` does.
    let (_, headers, _) =
        s.raw("province", &format!("/v1/rounds/{ROUND}/summary?level=city&scope=huizhou&format=csv")).await;
    let disp = headers["content-disposition"].to_str().unwrap();
    assert!(disp.contains("filename*=UTF-8''er-2024q3-city-huizhou-summary.csv"), "{disp}");
    // A page of none is not a page.
    let (st, _) = s.call("district", Method::GET, &format!("/v1/rounds/{ROUND}/queue?limit=0"), None).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // A city without district review: its districts' officers neither see nor act
    // on its applications (the level is skipped, not theirs).
    let k = &s.kernel;
    let mut draft: shenbao::Draft = serde_json::from_value(s.draft("applicant").await).unwrap();
    for a in &mut draft.attachments {
        let blob = k.store_blob("org-18", format!("%PDF-1.7 {}", a.kind).as_bytes(), None).unwrap();
        (a.sha256, a.size) = (blob.sha256, blob.size);
    }
    let id = k.save_draft("org-18", ROUND, None, draft.clone()).unwrap().application.id;
    k.act("org-18", &id, &ActionRequest::new("submit")).unwrap();
    assert_eq!(k.application(&id).unwrap().state.stage, "city-review");
    let nanshan = k.issue_token("nanshan", "test").unwrap().secret;
    let resp = s.client.get(format!("{}/v1/applications/{id}", s.base)).bearer_auth(&nanshan).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let rank = ActionRequest {
        payload: Payload { rank: Some(1), ..Default::default() },
        ..ActionRequest::new("district-rank")
    };
    if k.round(ROUND).unwrap().graph.actions.iter().any(|a| a.id == "district-rank") {
        assert!(k.act("nanshan", &id, &rank).is_err(), "a skipped level cannot rank");
    }
    // An attachment whose name reorders what is shown is refused at the draft.
    let mut bidi = draft.clone();
    bidi.attachments[0].name = "报告\u{202e}fdp.exe".into();
    let e = k.save_draft("org-18", ROUND, None, bidi).unwrap_err();
    assert!(e.to_string().contains("控制字符"), "{e}");
    // Passwords of white space, token labels past 200 characters or with controls.
    let (st, b) =
        s.call("admin", Method::PUT, "/v1/users/org-01/password", Some(json!({"password": " ".repeat(12)}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    for label in ["x".repeat(201), "标签\n第二行".into()] {
        let (st, b) = s.call("admin", Method::POST, "/v1/users/org-01/tokens", Some(json!({"label": label}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    }
    // A backup downloads whole: the database and its attachments, as one ZIP, and a
    // database restored without its attachments is refused.
    let (st, b) = s.call("admin", Method::POST, "/v1/admin/backup", Some(json!({"name": "whole.redb"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, headers, bytes) = s.raw("admin", "/v1/admin/backups/whole.redb").await;
    assert_eq!((st, headers["content-type"].to_str().unwrap()), (StatusCode::OK, "application/zip"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(names.contains(&"whole.redb".to_string()), "{names:?}");
    let blobs = names.iter().filter(|n| n.starts_with("whole.redb.blobs/")).count();
    assert!(blobs >= draft.attachments.len(), "the attachments travel with it: {names:?}");
    let out = tempfile::tempdir().unwrap();
    zip.extract(out.path()).unwrap();
    let restored = out.path().join("restored.redb");
    Kernel::restore(&out.path().join("whole.redb"), &restored).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&restored).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a restored database is its owner's alone");
    }
    std::fs::remove_dir_all(out.path().join("whole.redb.blobs")).unwrap();
    let e = Kernel::restore(&out.path().join("whole.redb"), &out.path().join("again.redb")).unwrap_err();
    assert!(e.to_string().contains("blobs"), "{e}");
    assert!(!out.path().join("again.redb").exists());
}

/// Issue 18: a round declares channels beyond the platform's (行业协会), each with
/// the stages its applications skip; an organisation of that channel is reviewed by
/// the body the round names (here the province, past district and city review).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_declares_its_own_channels() {
    use shenbao::ActionRequest;
    let s = server(ApiConfig::default()).await;
    let k = &s.kernel;
    let mut spec: Value = serde_json::from_str(&testkit::example("enabling-resources/round.json")).unwrap();
    let association = json!({
        "id": "industry-association",
        "title": { "zh": "行业协会", "en": "industry association" },
        "skip": ["district-review", "city-review"]
    });
    // Refused: a platform channel, a bad id, a stage the graph lacks.
    for (bad, rule) in [
        (json!({"id": "region", "title": {"zh": "属地", "en": "region"}, "skip": []}), "round.channel-duplicate"),
        (json!({"id": "Bad Id", "title": {"zh": "坏", "en": "bad"}, "skip": []}), "round.channel-invalid"),
        (json!({"id": "x", "title": {"zh": "某", "en": "x"}, "skip": ["no-such-stage"]}), "graph.route-unknown-stage"),
    ] {
        spec["channels"] = json!([bad]);
        let (st, b) = s.call("admin", Method::POST, "/v1/rounds", Some(spec.clone())).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(b.to_string().contains(rule), "{rule}: {b}");
    }
    spec["channels"] = json!([association]);
    let (st, b) = s.call("admin", Method::POST, "/v1/rounds", Some(spec)).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, b) = s.call("admin", Method::POST, &format!("/v1/rounds/{ROUND}/open"), None).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    // An association registered in Huicheng: its application goes to the province.
    let mut org = k.org("91441302MA5D00002H").unwrap().unwrap();
    org.channel = "industry-association".into();
    k.upsert_orgs(&[org]).unwrap();
    let mut draft: shenbao::Draft = serde_json::from_value(s.draft("applicant").await).unwrap();
    for a in &mut draft.attachments {
        let blob = k.store_blob("org-02", format!("%PDF-1.7 {}", a.kind).as_bytes(), None).unwrap();
        (a.sha256, a.size) = (blob.sha256, blob.size);
    }
    let id = k.save_draft("org-02", ROUND, None, draft).unwrap().application.id;
    let r = k.act("org-02", &id, &ActionRequest::new("submit")).unwrap();
    assert_eq!(r.application.state.stage, "province-review", "{:?}", r.decision.explain);
    assert!(r.decision.explain.iter().any(|e| e.contains("channel:industry-association")), "{:?}", r.decision.explain);
    // Its district never sees it; the province does. A channel id must still be one.
    assert!(s.list("district", "").await.is_empty());
    assert_eq!(s.list("province", "").await, [id]);
    let mut bad = k.org("91441302MA5D00003L").unwrap().unwrap();
    bad.channel = "行业协会".into();
    assert!(k.upsert_orgs(&[bad]).is_err());
}

/// A round `id` (enabling-resources, no district review, no quotas) with `n`
/// applications of three Huizhou organisations, all recommended by the city.
async fn recommended_round(s: &Server, id: &'static str, n: usize) {
    let k = s.kernel.clone();
    tokio::task::spawn_blocking(move || {
        let mut spec: shenbao::RoundSpec =
            serde_json::from_str(&testkit::example("enabling-resources/round.json")).unwrap();
        spec.id = id.into();
        spec.quotas = Some(Vec::new());
        for c in spec.cities.values_mut() {
            c.district_review = false;
            c.district_deadline = None;
        }
        k.create_round(spec).unwrap();
        k.open_round(id).unwrap();
        let orgs: Vec<_> =
            k.orgs().unwrap().into_iter().filter(|o| o.city.as_deref() == Some("huizhou")).take(3).collect();
        let ids = k.__bench_fill_round(id, &["city-review"], &orgs, n).unwrap();
        for batch in ids.chunks(2_000) {
            let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
            k.act_batch("huizhou", &batch, &shenbao::ActionRequest::with_opinion("city-recommend", "同意推荐"))
                .unwrap();
        }
    })
    .await
    .unwrap();
}

/// A download that keeps taking, but slowly — enough to pass `write_stall_timeout` —
/// is cut off once it averages under `min_export_rate` (here 1 MiB/s, after waiting
/// 1 s in all): its slots are free again while the client still reads; meanwhile one user holds at most `max_exports_per_user`
/// exports (`429 too_many_exports`, `details.per` = `user`) while another user still
/// exports; a fast download under the same pace is served whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_export_is_cut_off_and_a_user_holds_one_export() {
    use tokio::io::AsyncReadExt;
    let s = server(ApiConfig {
        min_export_rate: 1 << 20,
        body_read_timeout: std::time::Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    const BIG: &str = "er-trickle";
    recommended_round(&s, BIG, 100_000).await;
    // Larger than the connection's buffers take at once (the socket's send buffer
    // alone grows to 4 MiB; an export that fits in them ends at once, and frees its
    // slot, however slowly the client then reads).
    let path = format!("/v1/rounds/{BIG}/summary?level=city&format=json");
    let (st, _, whole) = s.raw("city", &path).await;
    assert_eq!(st, StatusCode::OK, "a fast download is not too slow");
    assert!(whole.len() > 12 << 20, "{} bytes: more than the buffers hold", whole.len());

    let (mut conn, mut got) = s.small_window_download("city", &path).await;
    // The same user's second export waits its turn; another user's does not.
    let (st, b) = s.call("city", Method::GET, &path, None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_exports")), "{b}");
    assert_eq!((b["details"]["max"].as_u64(), b["details"]["per"].as_str()), (Some(1), Some("user")), "{b}");
    assert!(b["message"].as_str().unwrap().starts_with("您同时进行的汇总表导出已达 1 个"), "{b}");
    let (st, _, other) =
        s.raw("province", &format!("/v1/rounds/{BIG}/summary?level=city&scope=huizhou&format=json")).await;
    assert_eq!((st, other.len()), (StatusCode::OK, whole.len()));
    // 2 KiB every 50 ms (~40 KiB/s): never a stall, always too slow. The server stops
    // making it and frees its slots while the client still has megabytes of it in
    // the connection's buffers to read.
    let trickle = tokio::spawn(async move {
        let mut piece = vec![0u8; 2048];
        loop {
            match conn.read(&mut piece).await {
                Ok(0) | Err(_) => return got,
                Ok(n) => got.extend_from_slice(&piece[..n]),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    let t = std::time::Instant::now();
    loop {
        let (st, _, body) = s.raw("city", &path).await;
        if st == StatusCode::OK {
            assert_eq!(body.len(), whole.len());
            break;
        }
        assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
        assert!(t.elapsed() < std::time::Duration::from_secs(60), "the trickle still holds its slot");
        assert!(!trickle.is_finished(), "the trickle ended before its slot was freed");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(!trickle.is_finished(), "its slot is freed while it is still downloading");
    trickle.abort();
}

/// A summary export streams: a table of many pieces arrives whole and equal to the
/// kernel's own, as JSON and CSV; a client that stops taking it is cut off after
/// `export_send_timeout` — its body then fails instead of ending short, so a stalled
/// download never looks like a shorter table — and the server serves on meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_export_streams_and_a_stalled_client_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let wait = std::time::Duration::from_millis(500);
    let s = server(ApiConfig { export_send_timeout: wait, max_exports: 1, ..Default::default() }).await;
    const BIG: &str = "er-stream";
    recommended_round(&s, BIG, 40_000).await;
    let table = s.kernel.summary(BIG, shenbao::SummaryLevel::City, Some("huizhou")).unwrap();
    assert_eq!(table.sections.iter().map(|x| x.rows.len()).sum::<usize>(), 40_000);

    let path = format!("/v1/rounds/{BIG}/summary?level=city");
    let (st, headers, json) = s.raw("city", &path).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert!(json.len() > 12 * 64 << 10, "{} bytes: many pieces", json.len());
    assert_eq!(serde_json::from_slice::<Value>(&json).unwrap(), serde_json::to_value(&table).unwrap());
    let (st, _, csv) = s.raw("city", &format!("{path}&format=csv")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(csv, shenbao::io::summary_csv(&table).unwrap());

    // A client with a small receive window that stops reading after the headers.
    let (mut conn, head) = s.small_window_download("city", &path).await;
    // It holds the one export there may be: another waits its turn.
    let (st, b) = s.call("city", Method::GET, &format!("{path}&format=csv"), None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_exports")), "{b}");
    assert_eq!(b["details"]["max"], 1);
    let (st, headers, _) = s.raw("city", &format!("{path}&format=csv")).await;
    assert_eq!(
        (st, headers.get("retry-after").and_then(|v| v.to_str().ok())),
        (StatusCode::TOO_MANY_REQUESTS, Some("5"))
    );
    // A HEAD is answered (the request checked, no table made, no slot taken), with the
    // headers a GET would have; one the caller may not make is refused alike.
    let head_of = |who: &str, path: String| {
        let req = s.client.head(format!("{}{path}", s.base)).bearer_auth(&s.tokens[who]);
        async move { req.send().await.unwrap() }
    };
    let r = head_of("city", format!("{path}&format=csv")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[reqwest::header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(r.headers()[reqwest::header::CONTENT_DISPOSITION].to_str().unwrap().contains(".csv"));
    assert_eq!(head_of("applicant", format!("{path}&format=csv")).await.status(), StatusCode::FORBIDDEN);
    let unknown = format!("/v1/rounds/{BIG}/summary?level=city&scope=nowhere&format=csv");
    assert_eq!(head_of("province", unknown.clone()).await.status(), StatusCode::NOT_FOUND);
    // An empty scope is the caller's own region, as none is.
    let r = head_of("city", format!("{path}&format=csv&scope=")).await;
    assert_eq!(r.status(), StatusCode::OK);
    // … and a GET too, though the one export slot is taken.
    let (st, b) = s.call("province", Method::GET, &unknown, None).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{b}");
    // It stalls; the server goes on answering others, and cuts it off: its slot is
    // given back (another export is no longer refused) within a minute.
    let (st, _) = s.call("city", Method::GET, &format!("/v1/rounds/{BIG}/quotas"), None).await;
    assert_eq!(st, StatusCode::OK);
    let t = std::time::Instant::now();
    let again = loop {
        let (st, _, body) = s.raw("city", &format!("{path}&format=csv")).await;
        if st != StatusCode::TOO_MANY_REQUESTS {
            break (st, body);
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(60), "the stalled export still holds its slot");
        tokio::time::sleep(wait / 5).await;
    };
    assert_eq!((again.0, again.1.len()), (StatusCode::OK, csv.len()));
    let mut rest = head;
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), conn.read_to_end(&mut rest)).await;
    let got = read.expect("the server closed the stalled connection");
    assert!(
        got.is_err() || !rest.ends_with(b"\r\n0\r\n\r\n"),
        "a stalled download must not end like a whole one: {} of {} bytes",
        rest.len(),
        json.len()
    );
    assert!(rest.len() < json.len(), "cut off: {} of {} bytes", rest.len(), json.len());

    // HTTP/1.0 can end a body only by closing (a cut-off would look whole): refused,
    // saying what to use.
    let mut conn = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://")).await.unwrap();
    let request = format!("GET {path}&format=csv HTTP/1.0\r\nAuthorization: Bearer {}\r\n\r\n", s.tokens["city"]);
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.0 505"), "{answer}");
    assert!(answer.contains("\"http_version_not_supported\"") && answer.contains("HTTP/1.1"), "{answer}");
}

/// A client that stops reading any response (here an attachment of 12 MiB, more than
/// the loopback buffers hold) has its connection closed after `write_stall_timeout`,
/// without reading again: its address's one connection slot is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stall = std::time::Duration::from_secs(1);
    let s = server(ApiConfig { write_stall_timeout: stall, max_connections_per_client: 1, ..Default::default() }).await;
    s.open_round().await;
    let mut draft = s.draft("applicant").await;
    let mut big = b"%PDF-1.7 ".to_vec();
    big.resize(12 << 20, b'x');
    let (st, blob) = s.upload("applicant", big).await;
    assert_eq!(st, StatusCode::CREATED, "{blob}");
    draft["attachments"][0]["sha256"] = blob["sha256"].clone();
    draft["attachments"][0]["size"] = blob["size"].clone();
    let (st, b) = s.call("applicant", Method::POST, &format!("/v1/rounds/{ROUND}/applications"), Some(draft)).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let id = b["application"]["id"].as_str().unwrap();
    let path = format!("/v1/applications/{id}/attachments/{}", blob["sha256"].as_str().unwrap());

    // From another loopback address (its own per-address limit of one connection).
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let connect = || async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        socket.connect(addr).await.unwrap()
    };
    let mut stalled = connect().await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n", s.tokens["applicant"]);
    stalled.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 512];
    let n = stalled.read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head[..n]));
    // While it holds its connection, that address gets no other; once the stalled
    // response is given up, it does — the stalled client having read nothing more.
    let health = "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let t = std::time::Instant::now();
    let mut refused = 0;
    loop {
        let mut c = connect().await;
        c.write_all(health.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = c.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(answer.contains("too_many_connections"), "{answer}");
        refused += 1;
        assert!(t.elapsed() < std::time::Duration::from_secs(30), "the stalled connection is still held");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused > 0, "the stalled connection held the address's slot for a while");
    assert!(t.elapsed() >= stall / 2, "{:?}", t.elapsed());
    drop(stalled);
}
