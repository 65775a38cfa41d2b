//! Plugin-boundary benchmarks, side by side in one run so ratios are fair on a
//! noisy machine. Run with `cargo xtask bench`; the README quotes the output.
//!
//! Measures: cold compile, cached load, fresh instance + check (typical and
//! minimal), the same rules compiled natively into the host, and the WASM/native
//! ratio.

use enabling_resources::EnablingResources;
use shenbao::{HostConfig, Kernel, KernelConfig, ProgramPlugin};
use shenbao_sdk::Program;
use std::time::{Duration, Instant};

mod support;
use support::{fmt, measure, request};

fn main() {
    // `cargo bench` passes --bench; a filter argument is not supported.
    let er = testkit::plugin_bytes("enabling-resources");
    let hostile = testkit::plugin_bytes("hostile");
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let open = |name: &str, cache_dir: Option<std::path::PathBuf>| {
        Kernel::open_with(
            dir.path().join(name),
            KernelConfig { host: HostConfig { cache_dir, ..HostConfig::default() }, ..KernelConfig::default() },
        )
        .unwrap()
    };

    // Install once into a database that later kernels reopen.
    let k = open("bench.redb", Some(cache.path().to_path_buf()));
    k.install_plugin(&er).unwrap();
    k.install_plugin(&hostile).unwrap();
    drop(k);

    // `cargo bench … -- --profile-loop` spins on the minimal call for 5 s (for perf
    // record); `--profile-loop-typical` on the typical one.
    let typical_loop = std::env::args().any(|a| a == "--profile-loop-typical");
    if typical_loop || std::env::args().any(|a| a == "--profile-loop") {
        let k = open("bench.redb", Some(cache.path().to_path_buf()));
        let (p, req) = if typical_loop {
            let valid =
                std::fs::read_to_string(testkit::root().join("examples/enabling-resources/application-valid.json"))
                    .unwrap();
            (k.plugin("enabling-resources", "0.1.0").unwrap(), request("resource", valid))
        } else {
            (k.plugin("hostile", "0.1.0").unwrap(), request("ok", "{}".into()))
        };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            std::hint::black_box(p.plugin().check_application(&req).unwrap());
        }
        return;
    }
    let cold = measure(5, 1, || {
        let k = open("bench.redb", None);
        k.plugin("enabling-resources", "0.1.0").unwrap();
    });
    let cached = measure(11, 1, || {
        let k = open("bench.redb", Some(cache.path().to_path_buf()));
        assert_eq!(k.plugin("enabling-resources", "0.1.0").unwrap().cache_outcome(), shenbao::CacheOutcome::Hit);
    });
    let open_only = measure(11, 1, || {
        open("bench.redb", Some(cache.path().to_path_buf()));
    });

    let k = open("bench.redb", Some(cache.path().to_path_buf()));
    let er_loaded = k.plugin("enabling-resources", "0.1.0").unwrap();
    let small = k.plugin("hostile", "0.1.0").unwrap();
    let valid =
        std::fs::read_to_string(testkit::root().join("examples/enabling-resources/application-valid.json")).unwrap();
    let typical = request("resource", valid.clone());
    let minimal = request("ok", "{}".into());

    let wasm_typical = measure(21, 200, || {
        std::hint::black_box(er_loaded.plugin().check_application(&typical).unwrap());
    });
    let native_typical = measure(21, 200, || {
        std::hint::black_box(EnablingResources::check(std::hint::black_box(&typical)).unwrap());
    });
    let exec_typical = measure(21, 1, || {
        std::hint::black_box(er_loaded.plugin().__bench_execution_only(&typical, 200));
    }) / 200;
    let wasm_minimal = measure(21, 500, || {
        std::hint::black_box(small.plugin().check_application(&minimal).unwrap());
    });
    let kernel_typical = measure(21, 200, || {
        std::hint::black_box(shenbao::check_with(&er_loaded, &typical).unwrap());
    });
    let fuel = er_loaded.plugin().check_application(&typical).unwrap().fuel_used;
    let fuel_min = small.plugin().check_application(&minimal).unwrap().fuel_used;

    println!("\n## Plugin boundary (one run, median per operation)\n");
    println!("| what | time |");
    println!("|---|---|");
    println!(
        "| cold compile of enabling-resources ({} KiB component; open db + compile + link) | {} |",
        er.len() / 1024,
        fmt(cold)
    );
    println!("| cached load (open db + load compiled component from disk + link) | {} |", fmt(cached));
    println!("| … of which opening the kernel (redb + engine) | {} |", fmt(open_only));
    println!(
        "| fresh instance + check, minimal plugin call (`hostile`/`ok`, {fuel_min} fuel) | {} |",
        fmt(wasm_minimal)
    );
    println!(
        "| fresh instance + check, typical application (enabling-resources, {fuel} fuel) | {} |",
        fmt(wasm_typical)
    );
    println!(
        "| same check in an already-created instance (execution only; benchmark-only path) | {} |",
        fmt(exec_typical)
    );
    println!("| same rules compiled natively into the host | {} |", fmt(native_typical));
    println!("| kernel check: JSON Schema validation + fresh instance + check | {} |", fmt(kernel_typical));
    println!(
        "\nWASM/native, typical check, fresh instance per check: {:.2}×",
        wasm_typical.as_secs_f64() / native_typical.as_secs_f64()
    );
    println!(
        "WASM/native, typical check, execution only: {:.2}×",
        exec_typical.as_secs_f64() / native_typical.as_secs_f64()
    );
}
