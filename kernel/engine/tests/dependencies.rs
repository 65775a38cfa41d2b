//! The engine stays pure: nothing in its dependency tree (normal dependencies,
//! transitively) is storage, a wasm runtime, an HTTP server or an async runtime.
//! Read from `cargo metadata`, so a new dependency that drags one in fails here.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

const FORBIDDEN: &[&str] = &["redb", "wasmtime", "axum", "tokio", "hyper", "wasmtime-wasi", "shenbao"];

#[test]
fn the_engine_depends_on_no_storage_runtime_or_server() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    // The host's platform only: the wasm-only packages of the workspace need no download.
    let rustc = std::process::Command::new("rustc").arg("-vV").output().expect("rustc -vV runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc names its host");
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--filter-platform", &host, "--manifest-path", manifest])
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let nodes: HashMap<&str, &Value> =
        meta["resolve"]["nodes"].as_array().unwrap().iter().map(|n| (n["id"].as_str().unwrap(), n)).collect();
    let root = names.iter().find(|(_, n)| **n == "shenbao-engine").map(|(id, _)| *id).expect("the engine package");
    // Walk normal (non-dev, non-build) dependencies from the engine.
    let mut seen = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        for d in nodes[id]["deps"].as_array().unwrap() {
            let normal = d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null());
            let pkg = d["pkg"].as_str().unwrap();
            if normal && seen.insert(names[pkg]) {
                todo.push(pkg);
            }
        }
    }
    assert!(seen.contains("shenbao-contract") && seen.contains("serde"), "the walk found the engine's deps: {seen:?}");
    let bad: Vec<_> = seen.iter().filter(|n| FORBIDDEN.contains(n)).collect();
    assert!(bad.is_empty(), "shenbao-engine depends on {bad:?}; it must stay a pure function of data");
}
