//! Kernel-core benchmarks, side by side in one run: the disk's fsync rate, single
//! decision commits, a batch recommend of 1,000, and a reviewer's queue query on a
//! round of 1,000,000 applications (`SHENBAO_BENCH_APPS` to change). Run with
//! `cargo xtask bench`; the README quotes the output.

#[path = "../world.rs"]
mod world;

use shenbao::{ActionRequest, Organisation};
use std::time::{Duration, Instant};
use world::*;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 { format!("{:.2} ms", us / 1000.0) } else { format!("{us:.0} µs") }
}

fn no_district_review() -> shenbao::RoundSpec {
    let mut s = spec();
    let hz = s.cities.get_mut("huizhou").unwrap();
    hz.district_review = false;
    hz.district_deadline = None;
    s
}

/// A round (no district review, no quotas) with `n` applications waiting at city
/// review in Huizhou, made by the bench generator; their ids.
fn waiting_at_city(commit_batch: usize, n: usize) -> (World, Vec<String>) {
    let mut s = no_district_review();
    s.quotas = Some(Vec::new());
    let w = world_configured(s, |c| c.commit_batch = commit_batch);
    let huizhou: Vec<Organisation> =
        (1..=6).map(|i| org(i, Some("huizhou"), Some("huizhou.huicheng"), "region")).collect();
    w.kernel.__bench_fill_round(ROUND, &["city-review"], &huizhou, n).unwrap();
    let ids = w.kernel.applications_in(ROUND).unwrap().into_iter().map(|a| a.id).collect();
    (w, ids)
}

/// `clients` threads, each recommending its own share of applications waiting at
/// city review, one durable decision per request, for `secs`: decisions per second,
/// latency percentiles, mean decisions per commit.
fn concurrent_decisions(commit_batch: usize, clients: usize, secs: f64) -> (f64, Vec<Duration>, f64) {
    let (w, ids) = waiting_at_city(commit_batch, 48_000);
    let before = w.kernel.commit_stats();
    let written = written_bytes();
    let decisions = w.decisions();
    let start = Instant::now();
    let lat: Vec<Duration> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..clients)
            .map(|c| {
                let (w, ids) = (&w, &ids);
                sc.spawn(move || {
                    let mut lat = Vec::new();
                    for id in ids.iter().skip(c).step_by(clients) {
                        if start.elapsed().as_secs_f64() >= secs {
                            break;
                        }
                        let t = Instant::now();
                        w.act("city-huizhou", id, "city-recommend", Some("同意推荐")).unwrap();
                        lat.push(t.elapsed());
                    }
                    lat
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let made = w.decisions() - decisions;
    assert_eq!(made as usize, lat.len());
    assert!(made < ids.len() as u64, "the clients ran out of applications; make more");
    assert!(w.kernel.verify_chain().unwrap().first_broken.is_none());
    let after = w.kernel.commit_stats();
    let commits = after.commits - before.commits;
    let per_commit = (after.changes - before.changes) as f64 / commits as f64;
    eprintln!(
        "commit_batch {commit_batch}: {made} decisions in {elapsed:.2} s; applying {:.2} s, committing {:.2} s, {:.0} KiB written per commit",
        (after.applying - before.applying).as_secs_f64(),
        (after.committing - before.committing).as_secs_f64(),
        written_bytes().saturating_sub(written) as f64 / 1024.0 / commits as f64,
    );
    let mut lat = lat;
    lat.sort();
    (made as f64 / elapsed, lat, per_commit)
}

/// Bytes this process has written with write(2) and friends so far (`wchar` of
/// `/proc/self/io`; 0 where there is none).
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("wchar: ").and_then(|v| v.trim().parse().ok())))
        .unwrap_or(0)
}

/// A batch recommend of `n` applications waiting at city review (bench generator), in
/// one transaction: its time and the bytes of one application and one decision record.
fn batch_of(n: usize) -> (Duration, usize, usize) {
    let (w, ids) = waiting_at_city(shenbao::DEFAULT_COMMIT_BATCH, n);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let t = Instant::now();
    let done =
        w.kernel.act_batch("city-huizhou", &refs, &ActionRequest::with_opinion("city-recommend", "同意推荐")).unwrap();
    let elapsed = t.elapsed();
    assert_eq!(done.len(), n);
    let app = serde_json::to_vec(&w.kernel.application(&ids[0]).unwrap()).unwrap().len();
    let decision = serde_json::to_vec(w.kernel.decisions_of(&ids[0]).unwrap().last().unwrap()).unwrap().len();
    (elapsed, app, decision)
}

/// The baseline for a batch: raw redb, one write transaction inserting per transition
/// the rows the kernel writes (the application read and written, the decision, its
/// by-application index, the queue entry moved, the chain head), of the kernel's
/// sizes, with no kernel logic. (Until schema version 4 the kernel also rewrote the
/// applicant's history row, and so did this baseline.)
fn raw_redb_batch(n: usize, app_bytes: usize, decision_bytes: usize) -> Duration {
    use redb::{ReadableDatabase, ReadableTable, TableDefinition};
    // Keys as bytes (compared as bytes, as the kernel's text keys are since schema
    // version 3), so both sides pay the same for each B-tree comparison.
    const APPS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("apps");
    const DECISIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("decisions");
    const BY_APP: TableDefinition<(&[u8], u64), ()> = TableDefinition::new("by_app");
    const QUEUE: TableDefinition<(&[u8], &[u8], &[u8]), ()> = TableDefinition::new("queue");
    const HEAD: TableDefinition<&[u8], (u64, &str)> = TableDefinition::new("head");
    let dir = tempfile::tempdir().unwrap();
    let db = redb::Database::create(dir.path().join("raw.redb")).unwrap();
    let ids: Vec<String> = (0..n).map(|i| format!("A{i:07}")).collect();
    let app = vec![b'a'; app_bytes];
    let decision = vec![b'd'; decision_bytes];
    // The applications waiting, as the kernel's fill leaves them.
    let tx = db.begin_write().unwrap();
    {
        let mut apps = tx.open_table(APPS).unwrap();
        let mut queue = tx.open_table(QUEUE).unwrap();
        for id in &ids {
            apps.insert(id.as_bytes(), app.as_slice()).unwrap();
            queue.insert((b"round".as_slice(), b"city-review".as_slice(), id.as_bytes()), ()).unwrap();
        }
    }
    tx.commit().unwrap();
    let t = Instant::now();
    let tx = db.begin_write().unwrap();
    {
        let mut apps = tx.open_table(APPS).unwrap();
        let mut decisions = tx.open_table(DECISIONS).unwrap();
        let mut by_app = tx.open_table(BY_APP).unwrap();
        let mut queue = tx.open_table(QUEUE).unwrap();
        let mut head = tx.open_table(HEAD).unwrap();
        for (i, id) in ids.iter().enumerate() {
            let i = i as u64;
            let _ = apps.get(id.as_bytes()).unwrap().map(|v| v.value().len());
            apps.insert(id.as_bytes(), app.as_slice()).unwrap();
            decisions.insert(i, decision.as_slice()).unwrap();
            by_app.insert((id.as_bytes(), i), ()).unwrap();
            queue.remove((b"round".as_slice(), b"city-review".as_slice(), id.as_bytes())).unwrap();
            queue.insert((b"round".as_slice(), b"province-review".as_slice(), id.as_bytes()), ()).unwrap();
            head.insert(b"head".as_slice(), (i, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
                .unwrap();
        }
    }
    tx.commit().unwrap();
    let elapsed = t.elapsed();
    let _ = db.begin_read().unwrap();
    elapsed
}

/// Issue 19: the batch's cost per transition must stay flat from 100 to 10,000 (no
/// cost that grows with the round), reported beside raw redb writing the same rows in
/// the same run, so the figure means the same on any machine.
fn batch_table() {
    println!("\n| batch of | kernel | per transition | transitions/s | raw redb, same rows | kernel ÷ raw |");
    println!("|---|---|---|---|---|---|");
    let mut per = Vec::new();
    for n in [100, 1_000, 10_000] {
        let (kernel, app, decision) = batch_of(n);
        let raw = raw_redb_batch(n, app, decision);
        per.push(kernel.as_secs_f64() / n as f64);
        println!(
            "| {n} | {} | {} | {:.0} | {} ({app} B application, {decision} B decision) | {:.1}× |",
            fmt(kernel),
            fmt(kernel / n as u32),
            n as f64 / kernel.as_secs_f64(),
            fmt(raw),
            kernel.as_secs_f64() / raw.as_secs_f64()
        );
    }
    println!("\nper-transition cost, 10,000 ÷ 100 = {:.2} (flat: about 1)", per[2] / per[0]);
}

fn main() {
    if std::env::var("SHENBAO_BENCH_ONLY").as_deref() == Ok("batch") {
        batch_table();
        return;
    }
    if std::env::var("SHENBAO_BENCH_ONLY").as_deref() == Ok("concurrent") {
        let probe = tempfile::tempdir().unwrap();
        println!("disk fsync rate: {:.0}/s", testkit::fsync_rate(probe.path()));
        let batches: Vec<usize> = match std::env::var("SHENBAO_BENCH_COMMIT_BATCH") {
            Ok(b) => vec![b.parse().expect("SHENBAO_BENCH_COMMIT_BATCH: a number")],
            Err(_) => vec![shenbao::DEFAULT_COMMIT_BATCH, 1],
        };
        for batch in batches {
            let (rate, lat, per) = concurrent_decisions(batch, 64, 4.0);
            println!(
                "commit_batch {batch}: {rate:.0}/s p50 {} p99 {} {per:.1}/commit",
                fmt(pct(&lat, 0.5)),
                fmt(pct(&lat, 0.99))
            );
        }
        println!("disk fsync rate: {:.0}/s", testkit::fsync_rate(probe.path()));
        return;
    }
    let apps_1m: usize = std::env::var("SHENBAO_BENCH_APPS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);

    // Single decisions, one after another: recommend 400 waiting applications, one commit each.
    let (w1, waiting) = waiting_at_city(shenbao::DEFAULT_COMMIT_BATCH, 400);
    let fsync = testkit::fsync_rate(w1.dir.path());
    let n = waiting.len();
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for id in &waiting {
        let t = Instant::now();
        w1.act("city-huizhou", id, "city-recommend", Some("同意")).unwrap();
        lat.push(t.elapsed());
    }
    let single_rate = n as f64 / start.elapsed().as_secs_f64();
    lat.sort();
    drop(w1);

    let w = world_with(no_district_review());
    // A batch recommend of 1,000 applications submitted through the real path, by 25
    // applicants in Huizhou (at most 50 applications each in a round).
    for n in 101..=125 {
        w.kernel.upsert_org(&org(n, Some("huizhou"), Some("huizhou.huicheng"), "region")).unwrap();
        let grants = [("applicant", shenbao::Scope::Organisation(code(n)))];
        w.kernel.upsert_user(&user(&format!("applicant-{n}"), &grants)).unwrap();
    }
    let uploaders: Vec<String> = (101..=125).map(|n| format!("applicant-{n}")).collect();
    let attachments = attachments_uploaded_by(&w.kernel, &uploaders);
    let ids: Vec<String> = (0..1000)
        .map(|i| {
            let who = format!("applicant-{}", 101 + (i % 25));
            let draft = draft_with(valid_data(), attachments.clone());
            let id = w.kernel.save_draft(&who, ROUND, None, draft).unwrap().application.id;
            w.kernel.act(&who, &id, &ActionRequest::new("submit")).unwrap();
            id
        })
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let t = Instant::now();
    let done =
        w.kernel.act_batch("city-huizhou", &refs, &ActionRequest::with_opinion("city-recommend", "同意推荐")).unwrap();
    let batch = t.elapsed();
    assert_eq!(done.len(), 1000);
    assert!(w.kernel.verify_chain().unwrap().first_broken.is_none());
    drop(w);

    // 64 clients deciding at once: group commit against one commit per decision, and
    // the fsync rate again, all in this run.
    let clients = 64;
    let secs = 4.0;
    let (group_rate, group_lat, group_batch) = concurrent_decisions(shenbao::DEFAULT_COMMIT_BATCH, clients, secs);
    let (one_rate, one_lat, one_batch) = concurrent_decisions(1, clients, secs);
    let fsync_again = testkit::fsync_rate(std::env::temp_dir().as_path());

    // A round of a million applications spread over the 21 cities.
    let w = world_with(no_district_review());
    let regions = shenbao::guangdong();
    let mut orgs: Vec<Organisation> = Vec::new();
    for (i, city) in regions.iter().filter(|r| r.kind == shenbao::RegionKind::City).enumerate() {
        let district = regions.iter().find(|d| d.parent.as_ref() == Some(&city.id)).map(|d| d.id.as_str());
        let o = org(1000 + i as u32, Some(&city.id), district, "region");
        w.kernel.upsert_org(&o).unwrap();
        orgs.push(o);
    }
    let t = Instant::now();
    let chunk = 100_000;
    // Half waiting for the cities, half for the province.
    for path in [&["city-review"][..], &["city-review", "province-review"]] {
        let mut left = apps_1m / 2;
        while left > 0 {
            let n = left.min(chunk);
            w.kernel.__bench_fill_round(ROUND, path, &orgs, n).unwrap();
            left -= n;
        }
    }
    let fill = t.elapsed();
    let db_size = std::fs::metadata(w.dir.path().join("shenbao.redb")).unwrap().len();

    let queue = |user: &str, rounds: usize| {
        let mut lat = Vec::with_capacity(rounds);
        let mut first = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let page = w.kernel.queue(user, ROUND, None, 50).unwrap();
            lat.push(t.elapsed());
            first = page.len();
        }
        lat.sort();
        (lat, first)
    };
    let (city_q, city_n) = queue("city-huizhou", 1000);
    let (prov_q, prov_n) = queue("province", 1000);
    // A deep page: the page after the 20,000th item of the Huizhou queue.
    let mut after = None;
    for _ in 0..400 {
        after = w.kernel.queue("city-huizhou", ROUND, after.as_ref(), 50).unwrap().last().cloned();
    }
    let mut deep = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        w.kernel.queue("city-huizhou", ROUND, after.as_ref(), 50).unwrap();
        deep.push(t.elapsed());
    }
    deep.sort();
    // The handled lists (schema version 5: their own index). The applications waiting at
    // the province passed their city's review, so Huizhou's 已推荐 holds its ~23,800 of
    // them: its first page, the page after the 20,000th, and its 不受理 (empty).
    let handled = |view: shenbao::QueueView, after: Option<&shenbao::QueueItem>, runs: usize| {
        let q = shenbao::QueueQuery { view, limit: 50, after: after.cloned(), ..Default::default() };
        let mut n = 0;
        let mut lat: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                n = w.kernel.queue_page("city-huizhou", ROUND, &q).unwrap().len();
                t.elapsed()
            })
            .collect();
        lat.sort();
        (lat, n)
    };
    let (city_h, city_h_n) = handled(shenbao::QueueView::Recommended, None, 1000);
    let mut after = None;
    for _ in 0..400 {
        let q = shenbao::QueueQuery { view: shenbao::QueueView::Recommended, limit: 50, after, ..Default::default() };
        after = w.kernel.queue_page("city-huizhou", ROUND, &q).unwrap().last().cloned();
    }
    let (deep_h, _) = handled(shenbao::QueueView::Recommended, after.as_ref(), 1000);
    let (empty_h, empty_n) = handled(shenbao::QueueView::NotRecommended, None, 1000);
    assert_eq!((city_h_n, empty_n), (50, 0));

    println!("\n## Kernel core (one run)\n");
    println!("| what | figure |");
    println!("|---|---|");
    println!("| disk fsync rate (4 KiB write + fdatasync, same directory) | {fsync:.0}/s |");
    println!(
        "| single decision commit (one write transaction + fsync each) | {single_rate:.0}/s; p50 {}, p99 {} |",
        fmt(pct(&lat, 0.5)),
        fmt(pct(&lat, 0.99))
    );
    println!(
        "| batch recommend of 1,000 (one transaction) | {} → {:.0} transitions/s |",
        fmt(batch),
        1000.0 / batch.as_secs_f64()
    );
    println!(
        "| fill a round with {apps_1m} applications (bench generator, 100k per transaction) | {:.1} s, database {:.0} MiB |",
        fill.as_secs_f64(),
        db_size as f64 / (1 << 20) as f64
    );
    println!(
        "| queue query, city (Huizhou, ~{} waiting), first page of {city_n} | p50 {}, p99 {}, max {} |",
        apps_1m / 21,
        fmt(pct(&city_q, 0.5)),
        fmt(pct(&city_q, 0.99)),
        fmt(*city_q.last().unwrap())
    );
    println!(
        "| queue query, city, page after item 20,000 | p50 {}, p99 {}, max {} |",
        fmt(pct(&deep, 0.5)),
        fmt(pct(&deep, 0.99)),
        fmt(*deep.last().unwrap())
    );
    println!(
        "| queue query, province ({} waiting), first page of {prov_n} | p50 {}, p99 {}, max {} |",
        apps_1m / 2,
        fmt(pct(&prov_q, 0.5)),
        fmt(pct(&prov_q, 0.99)),
        fmt(*prov_q.last().unwrap())
    );
    for (what, lat) in [
        (format!("handled list (已推荐), city (~{} recommended), first page of 50", apps_1m / 42), &city_h),
        ("handled list (已推荐), city, page after item 20,000".to_string(), &deep_h),
        ("handled list (不受理), city, empty".to_string(), &empty_h),
    ] {
        println!(
            "| {what} | p50 {}, p99 {}, max {} |",
            fmt(pct(lat, 0.5)),
            fmt(pct(lat, 0.99)),
            fmt(*lat.last().unwrap())
        );
    }
    for (what, rate, lat, per) in [
        ("group commit", group_rate, &group_lat, group_batch),
        ("one commit per decision", one_rate, &one_lat, one_batch),
    ] {
        println!(
            "| {clients} clients, {what} | **{rate:.0} durable decisions/s**; p50 {}, p99 {}; {per:.1} decisions per commit |",
            fmt(pct(lat, 0.5)),
            fmt(pct(lat, 0.99)),
        );
    }
    println!("| disk fsync rate, measured again after the concurrent runs | {fsync_again:.0}/s |");
    batch_table();
    println!("\nsingle-writer decisions/s ÷ fsync/s = {:.2}", single_rate / fsync);
    println!(
        "group commit ÷ one commit per decision ({clients} clients) = {:.1}; group commit ÷ fsync/s = {:.2}",
        group_rate / one_rate,
        group_rate / fsync_again
    );
}
