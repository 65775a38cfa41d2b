//! Test support: build the plugins from source for `wasm32-wasip2` (once per
//! process; cargo's own lock serialises processes) and hand out their bytes,
//! plus the example data under `examples/`.
//!
//! Rust plugins are cargo packages. Python and JavaScript plugins ([`GUESTS`]) are
//! built by componentize-py and componentize-js, installed from PyPI and npm at the
//! versions pinned in `plugins/toolchains/` into `target/tools/` (a file lock
//! serialises processes; a marker file skips the install when the pins are unchanged).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

/// Every plugin the tests and benchmarks use, by package name.
pub const PLUGINS: &[&str] = &[
    "enabling-resources",
    "eco-partners",
    "iiot-pilots",
    "minimal",
    "hostile",
    "bad-manifest",
    "future-version",
    "not-a-program",
    "mismatched",
];

pub const WASM_TARGET: &str = "wasm32-wasip2";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

/// Where plugin builds go (kept apart from the host build so the two never wait on each other).
pub fn plugin_target_dir() -> PathBuf {
    root().join("target").join("plugins")
}

/// Install the wasm32-wasip2 target through rustup if it is missing.
pub fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == WASM_TARGET) => Ok(()),
        Ok(_) => {
            let status = Command::new("rustup")
                .args(["target", "add", WASM_TARGET])
                .status()
                .map_err(|e| format!("running rustup: {e}"))?;
            status.success().then_some(()).ok_or_else(|| format!("`rustup target add {WASM_TARGET}` failed"))
        }
        // No rustup: trust that the toolchain has the target; cargo will say if not.
        Err(_) => Ok(()),
    }
}

/// Build all plugins (a no-op when up to date). Returns the output directory.
pub fn build_plugins() -> Result<PathBuf, String> {
    ensure_wasm_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root())
        .args(["build", "--quiet", "--target", WASM_TARGET, "--profile", "plugin", "--target-dir"])
        .arg(plugin_target_dir());
    for p in PLUGINS {
        cmd.args(["-p", p]);
    }
    // Settings meant for the host build must not leak into the wasm build.
    for var in ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_MAKEFLAGS"] {
        cmd.env_remove(var);
    }
    let status = cmd.status().map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err("building the plugins for wasm32-wasip2 failed (see cargo's output above)".into());
    }
    Ok(plugin_target_dir().join(WASM_TARGET).join("plugin"))
}

/// The language a non-Rust plugin is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Built with componentize-py; `entry` is the app module's name.
    Python,
    /// Built with componentize-js; `entry` is the module file.
    JavaScript,
}

/// A plugin written in Python or JavaScript, built from `dir` with its language's SDK.
#[derive(Clone, Copy, Debug)]
pub struct Guest {
    pub name: &'static str,
    pub lang: Lang,
    /// Relative to the workspace root.
    pub dir: &'static str,
    pub entry: &'static str,
}

/// Every Python and JavaScript plugin the tests and benchmarks use.
pub const GUESTS: &[Guest] = &[
    Guest { name: "enabling-resources-py", lang: Lang::Python, dir: "plugins/enabling-resources-py", entry: "app" },
    Guest {
        name: "enabling-resources-js",
        lang: Lang::JavaScript,
        dir: "plugins/enabling-resources-js",
        entry: "index.js",
    },
    Guest { name: "minimal-py", lang: Lang::Python, dir: "plugins/minimal/python", entry: "app" },
    Guest { name: "minimal-js", lang: Lang::JavaScript, dir: "plugins/minimal/js", entry: "index.js" },
];

/// The compiled-component cache the tests of the workspace share across processes and
/// runs (so the Python and JavaScript components are compiled once, not per test binary).
pub fn shared_cache_dir() -> PathBuf {
    root().join("target").join("test-cache")
}

/// Where the pinned plugin toolchains are installed.
pub fn tools_dir() -> PathBuf {
    root().join("target").join("tools")
}

fn toolchain_file(name: &str) -> PathBuf {
    root().join("plugins").join("toolchains").join(name)
}

fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("running {shown}: {e}"))?;
    status.success().then_some(()).ok_or_else(|| format!("{shown} failed ({status})"))
}

/// `componentize-py`, installed into a virtual environment at the pinned version.
pub fn ensure_componentize_py() -> Result<PathBuf, String> {
    let dir = tools_dir().join("python");
    let exe = dir.join("bin").join("componentize-py");
    let pins = toolchain_file("requirements.txt");
    let want = std::fs::read_to_string(&pins).map_err(|e| format!("{}: {e}", pins.display()))?;
    let marker = dir.join("installed-requirements.txt");
    if exe.exists() && std::fs::read_to_string(&marker).is_ok_and(|m| m == want) {
        return Ok(exe);
    }
    let python = std::env::var("SHENBAO_PYTHON").unwrap_or_else(|_| "python3".into());
    eprintln!("testkit: installing {} into {} …", pins.display(), dir.display());
    run_tool(Command::new(&python).args(["-m", "venv", "--clear"]).arg(&dir))?;
    run_tool(
        Command::new(dir.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&pins),
    )?;
    std::fs::write(&marker, want).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(exe)
}

/// `componentize-js`, installed by npm from the committed lock file.
pub fn ensure_componentize_js() -> Result<PathBuf, String> {
    let dir = tools_dir().join("js");
    let exe = dir.join("node_modules").join(".bin").join("componentize-js");
    let lock =
        std::fs::read_to_string(toolchain_file("package-lock.json")).map_err(|e| format!("package-lock.json: {e}"))?;
    let marker = dir.join("installed-package-lock.json");
    if exe.exists() && std::fs::read_to_string(&marker).is_ok_and(|m| m == lock) {
        return Ok(exe);
    }
    eprintln!("testkit: installing componentize-js (plugins/toolchains/package-lock.json) into {} …", dir.display());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for f in ["package.json", "package-lock.json"] {
        std::fs::copy(toolchain_file(f), dir.join(f)).map_err(|e| format!("copying {f}: {e}"))?;
    }
    // `npm install` with the lock file present installs the locked versions (`npm ci` refuses
    // this lock: npm 11 wants entries for optional packages of other platforms).
    run_tool(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir))?;
    std::fs::write(&marker, lock).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(exe)
}

/// The console's JavaScript dependencies (`console/package-lock.json`), installed by
/// npm into `console/node_modules`; returns the console folder.
pub fn ensure_console_deps() -> Result<PathBuf, String> {
    let dir = root().join("console");
    let lock = std::fs::read_to_string(dir.join("package-lock.json"))
        .map_err(|e| format!("console/package-lock.json: {e}"))?;
    let marker = dir.join("node_modules").join(".shenbao-installed-lock.json");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == lock) {
        return Ok(dir);
    }
    eprintln!("testkit: installing the console's dependencies (console/package-lock.json) …");
    run_tool(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir))?;
    std::fs::write(&marker, lock).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(dir)
}

/// Build the console (`console/` → `target/console/dist`, which the kernel's
/// `console` feature embeds): its pinned dependencies, then Vite. Skipped when the
/// build is newer than every source of it.
pub fn build_console() -> Result<PathBuf, String> {
    let dir = ensure_console_deps()?;
    let dist = root().join("target").join("console").join("dist");
    let inputs = ["src", "index.html", "vite.config.js", "package-lock.json"].map(|p| newest(&dir.join(p)));
    let built = std::fs::metadata(dist.join("index.html")).and_then(|m| m.modified()).ok();
    if built.is_some_and(|b| inputs.iter().all(|i| *i <= b)) {
        return Ok(dist);
    }
    eprintln!("testkit: building the console (console/ → {}) …", dist.display());
    let vite = dir.join("node_modules").join(".bin").join("vite");
    run_tool(
        Command::new(vite).args(["build", "--logLevel", "warn"]).env("SHENBAO_CONSOLE_OUT", &dist).current_dir(&dir),
    )?;
    Ok(dist)
}

/// The Chromium the browser tests drive: `SHENBAO_CHROMIUM`, else Debian's
/// `/usr/bin/chromium` — installed with apt when missing (browsers cannot be
/// downloaded here; Debian's package can).
pub fn ensure_chromium() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SHENBAO_CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Ok(path);
    }
    // With a Chinese font, so the screenshots can be read (the console fetches none).
    eprintln!("testkit: installing Debian's chromium and a Chinese font for the browser tests (apt-get) …");
    let apt = |args: &[&str]| run_tool(Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive"));
    let install = ["install", "-y", "--no-install-recommends", "chromium", "fonts-wqy-microhei"];
    if apt(&install).is_err() {
        apt(&["update"])?;
        apt(&install)?;
    }
    path.exists().then_some(path).ok_or_else(|| "chromium is not at /usr/bin/chromium after apt-get".into())
}

/// The newest modification time of the files under `path`.
fn newest(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else { return SystemTime::UNIX_EPOCH };
    if !meta.is_dir() {
        return meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    }
    let entries = std::fs::read_dir(path).into_iter().flatten().flatten();
    entries
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !(name.starts_with('.') || name == "__pycache__" || name == "node_modules")
        })
        .map(|e| newest(&e.path()))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The SDK folder a guest language builds with.
pub fn guest_sdk(lang: Lang) -> PathBuf {
    root().join("plugins").join(match lang {
        Lang::Python => "sdk-python",
        Lang::JavaScript => "sdk-js",
    })
}

/// Build one Python or JavaScript plugin into `out` (skipped when `out` is newer than
/// its sources, its SDK, the WIT and the toolchain).
pub fn build_guest(guest: &Guest, out: &Path) -> Result<(), String> {
    let tool = match guest.lang {
        Lang::Python => ensure_componentize_py()?,
        Lang::JavaScript => ensure_componentize_js()?,
    };
    let src = root().join(guest.dir);
    let wit = root().join("wit").join("0.1.0");
    let inputs = [newest(&src), newest(&guest_sdk(guest.lang)), newest(&wit), newest(&tool)];
    let built = std::fs::metadata(out).and_then(|m| m.modified()).ok();
    if built.is_some_and(|b| inputs.iter().all(|i| *i <= b)) {
        return Ok(());
    }
    let tmp = out.with_extension("wasm.tmp");
    let mut cmd = Command::new(&tool);
    match guest.lang {
        Lang::Python => {
            cmd.arg("-d").arg(&wit).args(["-w", "program", "componentize", guest.entry, "-p"]).arg(&src);
            cmd.arg("-p").arg(guest_sdk(Lang::Python)).arg("-o").arg(&tmp);
        }
        Lang::JavaScript => {
            // componentize-js reads modules only below its working directory (the workspace
            // root here), so the SDK at `plugins/sdk-js` is reachable from every plugin.
            cmd.arg(Path::new(guest.dir).join(guest.entry)).arg("--wit").arg(&wit).args(["--world-name", "program"]);
            // No HTTP: the sandbox links WASI without it.
            cmd.args(["--disable", "http", "fetch-event", "-o"]).arg(&tmp);
        }
    }
    cmd.current_dir(if guest.lang == Lang::JavaScript { root() } else { src.clone() });
    // Quiet unless it fails.
    let output = cmd.output().map_err(|e| format!("running {}: {e}", tool.display()))?;
    if !output.status.success() {
        return Err(format!(
            "building {} failed:\n{}{}",
            guest.name,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::rename(&tmp, out).map_err(|e| format!("{}: {e}", out.display()))
}

/// Build every Python and JavaScript plugin (each skipped when up to date), one
/// process at a time. Returns the output directory (the Rust plugins' directory).
pub fn build_guests() -> Result<PathBuf, String> {
    let dir = plugin_target_dir().join(WASM_TARGET).join("plugin");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::create_dir_all(tools_dir()).map_err(|e| format!("{}: {e}", tools_dir().display()))?;
    let lock_path = tools_dir().join(".lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock().map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    for g in GUESTS {
        build_guest(g, &dir.join(format!("{}.wasm", g.name.replace('-', "_"))))?;
    }
    Ok(dir)
}

/// The built component of a plugin package, e.g. `enabling-resources` or `enabling-resources-py`.
pub fn plugin_path(package: &str) -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static GUEST_DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = if GUESTS.iter().any(|g| g.name == package) {
        GUEST_DIR.get_or_init(build_guests)
    } else {
        DIR.get_or_init(build_plugins)
    };
    let dir = dir.as_ref().unwrap_or_else(|e| panic!("{e}"));
    dir.join(format!("{}.wasm", package.replace('-', "_")))
}

/// The bytes of a built plugin.
pub fn plugin_bytes(package: &str) -> Vec<u8> {
    let p = plugin_path(package);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A file under `examples/`.
pub fn example(rel: &str) -> String {
    let p = root().join("examples").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The disk's rate of small durable writes in `dir` (4 KiB write + fdatasync, for
/// 2 s), per second: the benchmarks' baseline for durable decisions/s.
pub fn fsync_rate(dir: &Path) -> f64 {
    use std::io::{Seek, Write};
    let probe = dir.join("fsync.probe");
    let mut f = std::fs::File::create(&probe).unwrap();
    let block = [7u8; 4096];
    let start = std::time::Instant::now();
    let mut n = 0u64;
    while start.elapsed() < std::time::Duration::from_secs(2) {
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.write_all(&block).unwrap();
        f.sync_data().unwrap();
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop(f);
    let _ = std::fs::remove_file(probe);
    rate
}
