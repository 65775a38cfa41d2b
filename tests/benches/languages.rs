//! The same program in three languages, side by side in one run: the
//! enabling-resources program as a Rust, a Python (componentize-py) and a
//! JavaScript (componentize-js) component. Run with `cargo xtask bench`; the
//! README quotes the output.
//!
//! Per language: component size, cold compile (open kernel + compile + link, no
//! cache), cached load (open kernel + load the compiled component from the disk
//! cache + link), instantiate (a fresh store and instance, as every call makes),
//! instantiate + check of the typical application (what a submission pays), the
//! check alone in an existing instance, and the fuel one check uses.

use shenbao::{CacheOutcome, HostConfig, Kernel, KernelConfig, ProgramPlugin};
use std::time::Duration;

mod support;
use support::{fmt, measure, request};

struct Row {
    language: &'static str,
    size: usize,
    cold: Duration,
    cached: Duration,
    instantiate: Duration,
    call: Duration,
    exec: Duration,
    fuel: u64,
}

fn main() {
    let valid =
        std::fs::read_to_string(testkit::root().join("examples/enabling-resources/application-valid.json")).unwrap();
    let request = request("resource", valid);
    let mut rows = Vec::new();
    for (language, package) in
        [("Rust", "enabling-resources"), ("Python", "enabling-resources-py"), ("JavaScript", "enabling-resources-js")]
    {
        let bytes = testkit::plugin_bytes(package);
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let db = dir.path().join("bench.redb");
        let open = |cache_dir: Option<std::path::PathBuf>| {
            Kernel::open_with(
                &db,
                KernelConfig { host: HostConfig { cache_dir, ..HostConfig::default() }, ..KernelConfig::default() },
            )
            .unwrap()
        };
        let k = open(Some(cache.path().to_path_buf()));
        k.install_plugin(&bytes).unwrap();
        drop(k);
        let cold = measure(3, 1, || {
            open(None).plugin("enabling-resources", "0.1.0").unwrap();
        });
        let cached = measure(11, 1, || {
            let k = open(Some(cache.path().to_path_buf()));
            assert_eq!(k.plugin("enabling-resources", "0.1.0").unwrap().cache_outcome(), CacheOutcome::Hit);
        });
        let k = open(Some(cache.path().to_path_buf()));
        let p = k.plugin("enabling-resources", "0.1.0").unwrap();
        let instantiate = measure(11, 20, || {
            std::hint::black_box(p.plugin().__bench_instantiate_only(1));
        });
        let call = measure(11, 20, || {
            std::hint::black_box(p.plugin().check_application(&request).unwrap());
        });
        let exec = measure(11, 1, || {
            std::hint::black_box(p.plugin().__bench_execution_only(&request, 50));
        }) / 50;
        let fuel = p.plugin().check_application(&request).unwrap().fuel_used;
        rows.push(Row { language, size: bytes.len(), cold, cached, instantiate, call, exec, fuel });
    }

    println!("\n## One program, three languages (enabling-resources; one run, medians)\n");
    println!(
        "| | component | cold compile | cached load | instantiate | instantiate + check | check only | fuel / check |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} MiB | {} | {} | {} | {} | {} | {} |",
            r.language,
            r.size as f64 / (1024.0 * 1024.0),
            fmt(r.cold),
            fmt(r.cached),
            fmt(r.instantiate),
            fmt(r.call),
            fmt(r.exec),
            r.fuel
        );
    }
    let rust = &rows[0];
    for r in &rows[1..] {
        println!(
            "\n{}: cached load {:.1}× faster than its cold compile; instantiate + check {:.1}× Rust's",
            r.language,
            r.cold.as_secs_f64() / r.cached.as_secs_f64(),
            r.call.as_secs_f64() / rust.call.as_secs_f64()
        );
    }
}
