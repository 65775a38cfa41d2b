//! The load harness: a real `shenbao serve` on loopback, driven by 64 concurrent HTTP
//! clients with a realistic mix, on a database the generator fills with 1,000,000
//! applications (`SHENBAO_LOAD_APPS`), three program plugins installed and loaded.
//!
//! Prints throughput, p50/p99/max latency per request kind, errors by code, the
//! queue-query latency on a quiet server, the 100k-row summary export, and the
//! server's peak RSS. Run with `cargo xtask bench` (or `cargo bench -p shenbao
//! --features cli --bench load`); `SHENBAO_LOAD_SECS` (default 20) bounds the mixed
//! phase, `SHENBAO_LOAD_CLIENTS` (default 64) the clients, `SHENBAO_EXPORT_ROWS`
//! (default 100,000) the export; `SHENBAO_LOAD_KEEP=DIR` keeps the database in DIR.

#[path = "../../tests/world.rs"]
mod world;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shenbao::contract::{Attachment, Date};
use shenbao::{ActionRequest, Kernel, KernelConfig, ManualClock, RoundSpec, Scope, Timestamp};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ER: &str = "er-2024q3";
const EXPORT: &str = "er-export";
const NOW: &str = "2024-08-10 09:00";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn round_spec(program: &str) -> RoundSpec {
    serde_json::from_str(&testkit::example(&format!("{program}/round.json"))).unwrap()
}

/// Applicant organisations per client (each client makes its drafts as these in turn).
const APPLICANTS_PER_CLIENT: usize = 8;

/// What the clients need from the generator.
struct Fixture {
    db: PathBuf,
    /// Per city: applications waiting at city review, and the officer's token.
    cities: Vec<(String, String, Vec<String>)>,
    province: String,
    /// Per applicant client: its token.
    applicants: Vec<String>,
    attachments: Vec<Attachment>,
    fill_secs: f64,
    export_fill_secs: f64,
}

/// Build the database: demo reference data, three programs with an open round each,
/// `apps` applications in the enabling-resources round (half at city review spread
/// over the 21 cities, half at province review), and a second round with
/// `export_rows` applications recommended by their cities for the export.
fn generate(dir: &Path, apps: usize, export_rows: usize, clients: usize) -> Fixture {
    let db = dir.join("load.redb");
    let clock = ManualClock::new(Timestamp::at(Date::new(2024, 8, 10), 9, 0));
    let k = Kernel::open_with(&db, KernelConfig { clock: Arc::new(clock), ..KernelConfig::default() }).unwrap();
    for p in ["eco-partners", "enabling-resources", "iiot-pilots"] {
        k.install_plugin(&testkit::plugin_bytes(p)).unwrap();
    }
    let demo = testkit::root().join("examples/demo");
    k.import_regions(&shenbao::guangdong()).unwrap();
    k.import_regions_file(&demo.join("regions.csv")).unwrap();
    k.import_orgs_file(&demo.join("orgs.csv")).unwrap();
    k.import_users_file(&demo.join("users.csv")).unwrap();

    let regions = k.regions().unwrap();
    let mut city_orgs = Vec::new();
    let mut cities = Vec::new();
    for (i, city) in regions.iter().filter(|r| r.kind == shenbao::RegionKind::City).enumerate() {
        let district = regions.iter().find(|d| d.parent.as_ref() == Some(&city.id)).map(|d| d.id.as_str());
        let o = world::org(900_000 + i as u32, Some(&city.id), district, "region");
        k.upsert_org(&o).unwrap();
        city_orgs.push(o);
        let officer = format!("load-city-{}", city.id);
        k.upsert_user(&world::user(&officer, &[("city-officer", Scope::City(city.id.clone()))])).unwrap();
        let token = k.issue_token(&officer, "load").unwrap().secret;
        cities.push((city.id.clone(), token, Vec::new()));
    }
    // Eight applicants per client, taken in turn: an applicant has at most
    // `MAX_APPLICATIONS_PER_APPLICANT` (50) applications in a round, and a client
    // makes ~60 drafts in the 20 s.
    let mut applicants = Vec::new();
    for i in 0..(clients * APPLICANTS_PER_CLIENT) as u32 {
        let o = world::org(910_000 + i, Some("huizhou"), Some("huizhou.huicheng"), "region");
        k.upsert_org(&o).unwrap();
        let id = format!("load-applicant-{i}");
        k.upsert_user(&world::user(&id, &[("applicant", Scope::Organisation(o.credit_code.clone()))])).unwrap();
        applicants.push(k.issue_token(&id, "load").unwrap().secret);
    }
    let province = k.issue_token("province", "load").unwrap().secret;

    let open = |mut spec: RoundSpec, id: &str| {
        spec.id = id.into();
        spec.quotas = Some(Vec::new());
        for c in spec.cities.values_mut() {
            c.district_review = false;
            c.district_deadline = None;
        }
        k.create_round(spec).unwrap();
        k.open_round(id).unwrap();
    };
    open(round_spec("enabling-resources"), ER);
    open(round_spec("enabling-resources"), EXPORT);
    let eco = round_spec("eco-partners");
    let eco_id = eco.id.clone();
    open(eco, &eco_id);
    let iiot = round_spec("iiot-pilots");
    let iiot_id = iiot.id.clone();
    open(iiot, &iiot_id);

    let t = Instant::now();
    let chunk = 100_000;
    for path in [&["city-review"][..], &["city-review", "province-review"]] {
        let mut left = apps / 2;
        while left > 0 {
            let n = left.min(chunk);
            let ids = k.__bench_fill_round(ER, path, &city_orgs, n).unwrap();
            if path.len() == 1 {
                for (i, id) in ids.into_iter().enumerate() {
                    cities[i % city_orgs.len()].2.push(id);
                }
            }
            left -= n;
        }
    }
    let fill_secs = t.elapsed().as_secs_f64();

    // The export round: every application recommended by its city, in batches of 500.
    let t = Instant::now();
    let ids = k.__bench_fill_round(EXPORT, &["city-review"], &city_orgs, export_rows).unwrap();
    let mut per_city: Vec<Vec<&str>> = vec![Vec::new(); city_orgs.len()];
    for (i, id) in ids.iter().enumerate() {
        per_city[i % city_orgs.len()].push(id);
    }
    for (c, ids) in per_city.iter().enumerate() {
        let officer = format!("load-city-{}", cities[c].0);
        for batch in ids.chunks(500) {
            k.act_batch(&officer, batch, &ActionRequest::with_opinion("city-recommend", "同意推荐")).unwrap();
        }
    }
    let export_fill_secs = t.elapsed().as_secs_f64();

    // The required attachments, uploaded by every load applicant (a blob may be attached
    // only by a user who uploaded it).
    let uploaders: Vec<String> = (0..clients * APPLICANTS_PER_CLIENT).map(|i| format!("load-applicant-{i}")).collect();
    let attachments = world::attachments_uploaded_by(&k, &uploaders);
    Fixture { db, cities, province, applicants, attachments, fill_secs, export_fill_secs }
}

/// `shenbao serve` on a free loopback port; returns the child and its base URL.
fn serve(db: &Path) -> (Child, String) {
    // `SHENBAO_LOAD_BIN=PATH`: serve with another build of the command (to compare
    // two builds side by side on the same machine).
    let bin = std::env::var_os("SHENBAO_LOAD_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_shenbao").into());
    let mut child = Command::new(bin)
        .args(["--db", db.to_str().unwrap(), "--now", NOW, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(url) = line.split("serving the HTTP API on ").nth(1) {
                let _ = tx.send(url.trim().to_string());
            } else {
                eprintln!("[server] {line}");
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(120)).expect("the server did not start");
    (child, url)
}

/// kB from a /proc/<pid>/status line such as `VmHWM:  123456 kB`.
fn proc_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<String, usize>,
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

struct Call {
    kind: &'static str,
    ok: bool,
    code: String,
    took: Duration,
    body: Value,
}

async fn call(kind: &'static str, req: reqwest::RequestBuilder) -> Call {
    let t = Instant::now();
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let took = t.elapsed();
    let ok = status.is_success();
    let code = if ok {
        String::new()
    } else {
        format!("{} {}", status.as_u16(), body.get("code").and_then(Value::as_str).unwrap_or("?"))
    };
    Call { kind, ok, code, took, body }
}

fn record(t: &Mutex<Tally>, c: &Call) {
    let mut t = t.lock().unwrap();
    t.latencies.entry(c.kind).or_default().push(c.took);
    if !c.ok {
        *t.errors.entry(format!("{}: {}", c.kind, c.code)).or_default() += 1;
    }
}

/// The server child, killed when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let apps = env_or("SHENBAO_LOAD_APPS", 1_000_000);
    let secs = env_or("SHENBAO_LOAD_SECS", 20) as u64;
    let clients = env_or("SHENBAO_LOAD_CLIENTS", 64);
    let export_rows = env_or("SHENBAO_EXPORT_ROWS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    // `SHENBAO_LOAD_KEEP=DIR`: generate into DIR and leave the database there (to
    // profile an export or a query against it afterwards).
    let keep = std::env::var_os("SHENBAO_LOAD_KEEP").map(PathBuf::from);
    let dir_path = keep.clone().unwrap_or_else(|| dir.path().to_path_buf());
    std::fs::create_dir_all(&dir_path).unwrap();
    let fsync = testkit::fsync_rate(&dir_path);
    eprintln!("generating {apps} applications and an export round of {export_rows} …");
    let fx = Arc::new(generate(&dir_path, apps, export_rows, clients));
    let db_mib = std::fs::metadata(&fx.db).unwrap().len() as f64 / (1u64 << 20) as f64;
    let (server, base) = serve(&fx.db);
    // Killed when main ends or panics: a failed run leaves no server behind.
    let mut server = KillOnDrop(server);
    let pid = server.0.id();
    let rss_idle = proc_kb(pid, "VmRSS");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let client = Client::builder().pool_max_idle_per_host(clients).build().unwrap();
    let data: Value = serde_json::from_str(&testkit::example("enabling-resources/application-valid.json")).unwrap();

    // Quiet server: queue queries one after another.
    let quiet = rt.block_on(async {
        let mut out: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        for (who, token) in
            [("city (Huizhou)", &fx.cities.iter().find(|c| c.0 == "huizhou").unwrap().1), ("province", &fx.province)]
        {
            for _ in 0..1000 {
                let c =
                    call("queue", client.get(format!("{base}/v1/rounds/{ER}/queue?limit=50")).bearer_auth(token)).await;
                assert!(c.ok, "{}", c.code);
                // A full page, or everything waiting in a small run (SHENBAO_LOAD_APPS).
                let items = c.body["items"].as_array().unwrap().len();
                assert!(items == 50 || (apps < 5_000 && items > 0), "{items} items");
                out.entry(who).or_default().push(c.took);
            }
        }
        out
    });

    // The mixed load.
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (fx, tally, client, base, data) =
                (fx.clone(), tally.clone(), client.clone(), base.clone(), data.clone());
            tasks.push(tokio::spawn(async move {
                let ncity = fx.cities.len();
                let (_, token, waiting) = &fx.cities[c % ncity];
                // This client's share of its city's waiting applications.
                let (share, of) = (c / ncity, clients.div_ceil(ncity));
                let mut mine = waiting.iter().skip(share).step_by(of);
                let mut rng = (c as u64 + 1) * 0x9E37_79B9_7F4A_7C15;
                let mut drafts = 0usize;
                while Instant::now() < deadline {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let roll = rng % 100;
                    if roll < 40 {
                        let who = if roll < 30 { token } else { &fx.province };
                        let r = client.get(format!("{base}/v1/rounds/{ER}/queue?limit=50")).bearer_auth(who);
                        record(&tally, &call("queue query (page of 50)", r).await);
                    } else if roll < 70 {
                        let Some(id) = mine.next() else { break };
                        let body = json!({ "action": "city-recommend", "opinion": "同意推荐" });
                        let r =
                            client.post(format!("{base}/v1/applications/{id}/actions")).bearer_auth(token).json(&body);
                        record(&tally, &call("review (city recommend)", r).await);
                    } else if roll < 80 {
                        let ids: Vec<&String> = mine.by_ref().take(5).collect();
                        if ids.is_empty() {
                            break;
                        }
                        let body = json!({
                            "applications": ids,
                            "request": { "action": "city-recommend", "opinion": "同意推荐" },
                        });
                        let r = client.post(format!("{base}/v1/rounds/{ER}/batch")).bearer_auth(token).json(&body);
                        record(&tally, &call("batch recommend (5)", r).await);
                    } else {
                        drafts += 1;
                        let applicant = &fx.applicants
                            [(c * APPLICANTS_PER_CLIENT + drafts % APPLICANTS_PER_CLIENT) % fx.applicants.len()];
                        let draft = json!({
                            "direction": "ai-application",
                            "data": data,
                            "attachments": fx.attachments,
                        });
                        let r = client
                            .post(format!("{base}/v1/rounds/{ER}/applications"))
                            .bearer_auth(applicant)
                            .json(&draft);
                        let saved = call("save draft", r).await;
                        record(&tally, &saved);
                        if let Some(id) = saved.body["application"]["id"].as_str() {
                            let r = client
                                .post(format!("{base}/v1/applications/{id}/actions"))
                                .bearer_auth(applicant)
                                .json(&json!({ "action": "submit" }));
                            record(&tally, &call("submit (schema + plugin check)", r).await);
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let rss_after_load = proc_kb(pid, "VmRSS");
    // The peak so far, and after each export (what raised it).
    let mut peaks = vec![("the load", proc_kb(pid, "VmHWM"))];

    // The export: the summary of every city's recommendations in the export round.
    let export = rt.block_on(async {
        let mut out = Vec::new();
        for format in ["xlsx", "csv"] {
            let t = Instant::now();
            let resp = client
                .get(format!("{base}/v1/rounds/{EXPORT}/summary?level=city&format={format}"))
                .bearer_auth(&fx.province)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let bytes = resp.bytes().await.unwrap();
            out.push((format, t.elapsed(), bytes.len()));
            peaks.push((format, proc_kb(pid, "VmHWM")));
        }
        let t = Instant::now();
        let resp = client
            .get(format!("{base}/v1/rounds/{EXPORT}/summary?level=city"))
            .bearer_auth(&fx.province)
            .send()
            .await
            .unwrap();
        let v: Value = resp.json().await.unwrap();
        let rows: usize = v["sections"].as_array().unwrap().iter().map(|s| s["rows"].as_array().unwrap().len()).sum();
        assert_eq!(rows, export_rows, "the export has every recommended application");
        out.push(("json", t.elapsed(), rows));
        peaks.push(("json", proc_kb(pid, "VmHWM")));
        out
    });
    let peak = proc_kb(pid, "VmHWM");
    let rss_end = proc_kb(pid, "VmRSS");
    server.0.kill().unwrap();
    server.0.wait().unwrap();

    let tally = tally.lock().unwrap();
    let total: usize = tally.latencies.values().map(Vec::len).sum();
    println!("\n## Load against `shenbao serve` (one run)\n");
    println!(
        "database: {apps} applications in {ER} (+ {export_rows} recommended in {EXPORT}), {db_mib:.0} MiB; \
         generated in {:.1} s + {:.1} s; three plugins loaded by the server",
        fx.fill_secs, fx.export_fill_secs
    );
    println!("disk fsync rate (4 KiB write + fdatasync, the database's directory, before generating): {fsync:.0}/s");
    println!("\n{clients} clients for {elapsed:.1} s: {total} requests, {:.0} requests/s\n", total as f64 / elapsed);
    println!("| request | count | per second | p50 | p99 | max |");
    println!("|---|---|---|---|---|---|");
    for (kind, lat) in &tally.latencies {
        let mut lat = lat.clone();
        lat.sort();
        println!(
            "| {kind} | {} | {:.0} | {} | {} | {} |",
            lat.len(),
            lat.len() as f64 / elapsed,
            ms(pct(&lat, 0.5)),
            ms(pct(&lat, 0.99)),
            ms(*lat.last().unwrap())
        );
    }
    if tally.errors.is_empty() {
        println!("\nerrors: none");
    } else {
        println!("\nerrors by code:");
        for (code, n) in &tally.errors {
            println!("- {code}: {n}");
        }
    }
    println!("\n| quiet server | figure |");
    println!("|---|---|");
    for (who, lat) in &quiet {
        let mut lat = lat.clone();
        lat.sort();
        println!(
            "| queue query over HTTP, {who}, page of 50, 1,000 in a row | p50 {}, **p99 {}**, max {} |",
            ms(pct(&lat, 0.5)),
            ms(pct(&lat, 0.99)),
            ms(*lat.last().unwrap())
        );
    }
    for (format, took, size) in &export {
        let what =
            if *format == "json" { format!("{size} rows") } else { format!("{:.1} MiB", *size as f64 / 1048576.0) };
        println!("| summary export, {export_rows} rows, {format} | **{}** ({what}) |", ms(*took));
    }
    println!(
        "| server RSS: after start / after the load / at the end / **peak (VmHWM)** | {} / {} / {} / **{} MiB** |",
        rss_idle / 1024,
        rss_after_load / 1024,
        rss_end / 1024,
        peak / 1024
    );
    let steps: Vec<String> = peaks.iter().map(|(after, kb)| format!("{after} {}", kb / 1024)).collect();
    println!("| server peak RSS (VmHWM) after each step | {} MiB |", steps.join(" / "));
}
