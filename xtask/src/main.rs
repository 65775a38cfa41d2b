//! `cargo xtask <task>`: the project's commands, each doing its own set-up.
//!
//! - `test`    install the wasm32-wasip2 target if missing, build every plugin from
//!             source (Rust; Python and JavaScript with componentize-py / componentize-js
//!             installed at their pinned versions into target/tools), run the whole
//!             workspace's tests.
//! - `demo`    build the plugins and run `shenbao demo`: a whole round of each program
//!             on a fresh database (extra arguments go to `shenbao demo`, e.g. `--json`).
//!             It builds exactly what `test` builds, so either reuses the other's build.
//! - `bench`   build the plugins and run every benchmark of the README's section in one
//!             run — the plugin boundary, the three languages, the kernel core (with
//!             the batch and group-commit tables), then the load harness — each table
//!             beside its baseline measured in the same run (fsync rate, native check,
//!             raw redb); the report is also written to `target/bench/<date>-<commit>.md`.
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

/// Every benchmark in one run, the report teed to `target/bench/`.
fn bench(rest: &[String]) -> Result<(), String> {
    use std::io::{BufRead, Write};
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(testkit::root())
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let date = Command::new("date")
        .arg("+%Y-%m-%d %H:%M %Z")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let dir = testkit::root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stamp: String = date.chars().take(16).map(|c| if c.is_ascii_digit() || c == '-' { c } else { '-' }).collect();
    let path = dir.join(format!("{stamp}-{commit}.md"));
    let mut report = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let head = format!("# `cargo xtask bench`, {date}, code {commit}, {cpus} CPUs\n");
    println!("{head}");
    writeln!(report, "{head}").map_err(|e| e.to_string())?;
    let runs: [&[&str]; 2] = [
        &["bench", "-p", "shenbao-tests", "--bench", "plugin_calls", "--bench", "languages", "--bench", "kernel_ops"],
        &["bench", "-p", "shenbao", "--features", "cli", "--bench", "load"],
    ];
    // Extra arguments (`cargo xtask bench -- ARGS`) go to the benchmark binaries of
    // `tests/`; the load harness takes its settings from SHENBAO_LOAD_* variables.
    for (i, args) in runs.iter().enumerate() {
        let mut c = cargo();
        c.args(*args)
            .args(if i == 0 { rest } else { &[] })
            .current_dir(testkit::root())
            .stdout(std::process::Stdio::piped());
        let shown = format!("{c:?}");
        let mut child = c.spawn().map_err(|e| format!("{shown}: {e}"))?;
        let out = child.stdout.take().expect("piped");
        for line in std::io::BufReader::new(out).lines() {
            let line = line.map_err(|e| e.to_string())?;
            println!("{line}");
            writeln!(report, "{line}").map_err(|e| e.to_string())?;
        }
        let status = child.wait().map_err(|e| format!("{shown}: {e}"))?;
        if !status.success() {
            return Err(format!("{shown} failed ({status})"));
        }
    }
    eprintln!("xtask: the report is in {}", path.display());
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
        "bench" => all_plugins().and_then(|_| bench(rest)),
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
