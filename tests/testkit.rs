//! Test support: build the plugins from source for `wasm32-wasip2` (once per
//! process; cargo's own lock serialises processes) and hand out their bytes,
//! plus the example data under `examples/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Every plugin the tests and benchmarks use, by package name.
pub const PLUGINS: &[&str] = &[
    "enabling-resources",
    "eco-partners",
    "iiot-pilots",
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

/// The built component of a plugin package, e.g. `enabling-resources`.
pub fn plugin_path(package: &str) -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR.get_or_init(build_plugins).as_ref().unwrap_or_else(|e| panic!("{e}"));
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
