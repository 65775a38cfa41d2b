//! `cargo xtask <task>`: the project's commands, each doing its own set-up.
//!
//! - `test`    install the wasm32-wasip2 target if missing, build every plugin from
//!             source (Rust; Python and JavaScript with componentize-py / componentize-js
//!             installed at their pinned versions into target/tools), run the whole
//!             workspace's tests.
//! - `demo`    build the plugins and run `shenbao demo`: a whole round of each program
//!             on a fresh database (extra arguments go to `shenbao demo`, e.g. `--json`).
//!             It builds exactly what `test` builds, so either reuses the other's build.
//! - `bench`   build the plugins and run the benchmarks (figures for the README).
//! - `plugins` build every plugin only and print where they are.
//! - `load`    build the plugins and run the load harness (`kernel/benches/load.rs`):
//!             a 1 M-application database, a real `shenbao serve`, 64 HTTP clients.
//! - `fuzz [TARGET] [SECONDS]`  run a cargo-fuzz target (default: each for 60 s);
//!             installs cargo-fuzz from crates.io if missing. Stable Rust: no
//!             sanitizer, `RUSTC_BOOTSTRAP=1` for cargo-fuzz's flags.

use std::process::{Command, ExitCode};

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(mut cmd: Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.current_dir(testkit::root()).status().map_err(|e| format!("{shown}: {e}"))?;
    status.success().then_some(()).ok_or_else(|| format!("{shown} failed ({status})"))
}

fn plugins() -> Result<std::path::PathBuf, String> {
    eprintln!("xtask: building plugins for {} …", testkit::WASM_TARGET);
    let dir = testkit::build_plugins()?;
    eprintln!("xtask: plugins are in {}", dir.display());
    Ok(dir)
}

/// The Rust plugins, then the Python and JavaScript ones (installing their pinned toolchains).
fn all_plugins() -> Result<std::path::PathBuf, String> {
    let dir = plugins()?;
    eprintln!("xtask: building the Python and JavaScript plugins …");
    testkit::build_guests()?;
    Ok(dir)
}

/// The console's assets, which the binary embeds (npm from the lock file, then Vite).
fn console() -> Result<(), String> {
    let dist = testkit::build_console()?;
    eprintln!("xtask: the console is in {}", dist.display());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match task {
        "plugins" => all_plugins().map(|_| ()),
        "console" => console(),
        "test" => {
            all_plugins().and_then(|_| console()).and_then(|_| testkit::ensure_chromium().map(|_| ())).and_then(|_| {
                let mut c = cargo();
                c.args(["test", "--workspace", "--all-features"]).args(rest);
                run(c)
            })
        }
        "demo" => plugins().and_then(|dir| console().map(|_| dir)).and_then(|dir| {
            // The very build `test` makes (same command, same features): after one,
            // the other builds nothing. The binary is the one the CLI tests run.
            let mut build = cargo();
            build.args(["test", "--workspace", "--all-features", "--no-run", "--quiet"]);
            run(build)?;
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| testkit::root().join("target"));
            let mut c = Command::new(target.join("debug").join(format!("shenbao{}", std::env::consts::EXE_SUFFIX)));
            // `cargo xtask demo -- --json`: what follows `--` goes to `shenbao demo`.
            let rest = rest.strip_prefix(&["--".to_string()][..]).unwrap_or(rest);
            c.args(["demo", "--plugins"]).arg(&dir).arg("--examples").arg(testkit::root().join("examples")).args(rest);
            run(c)
        }),
        "bench" => all_plugins().and_then(|_| {
            let mut c = cargo();
            c.args([
                "bench",
                "-p",
                "shenbao-tests",
                "--bench",
                "plugin_calls",
                "--bench",
                "languages",
                "--bench",
                "kernel_ops",
            ])
            .args(rest);
            run(c)
        }),
        "load" => all_plugins().and_then(|_| {
            let mut c = cargo();
            c.args(["bench", "-p", "shenbao", "--features", "cli", "--bench", "load"]).args(rest);
            run(c)
        }),
        "fuzz" => fuzz(rest),
        _ => {
            eprintln!("usage: cargo xtask <test|demo|bench|load|plugins|console|fuzz> [args…]");
            return if task == "help" || task == "--help" { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

const FUZZ_TARGETS: &[&str] =
    &["form_data", "organisation", "round_config", "graph", "import", "plugin_output", "manifest", "form_schema"];

fn fuzz(args: &[String]) -> Result<(), String> {
    let have = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !have {
        let mut c = cargo();
        c.args(["install", "cargo-fuzz", "--locked"]);
        run(c)?;
    }
    let targets: Vec<&str> = match args.first() {
        Some(t) => vec![t.as_str()],
        None => FUZZ_TARGETS.to_vec(),
    };
    let secs = args.get(1).map_or("60", String::as_str);
    for t in targets {
        let mut c = cargo();
        c.current_dir(testkit::root()).env("RUSTC_BOOTSTRAP", "1").args([
            "fuzz",
            "run",
            "--sanitizer",
            "none",
            t,
            "--",
            &format!("-max_total_time={secs}"),
        ]);
        run(c)?;
    }
    Ok(())
}
