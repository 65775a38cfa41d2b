//! The `shenbao` program, run as a process on a real database with a real plugin.

use std::process::Command;

fn shenbao(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("SHENBAO_CACHE_DIR", db.parent().unwrap().join("cache"))
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plugin_install_list_show_verify_and_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.redb");
    let wasm = testkit::plugin_path("enabling-resources");

    let out = shenbao(&db, &["plugin", "install", wasm.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("installed enabling-resources@0.1.0"), "{}", text(&out.stdout));
    let again = shenbao(&db, &["plugin", "install", wasm.to_str().unwrap()]);
    assert!(text(&again.stdout).starts_with("already installed"));

    let list = text(&shenbao(&db, &["plugin", "list"]).stdout);
    assert_eq!(list.lines().count(), 1);
    assert!(list.starts_with("enabling-resources\t0.1.0\t"));

    let show = shenbao(&db, &["plugin", "show", "enabling-resources", "0.1.0"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["manifest"]["program"], "enabling-resources");

    let verify = shenbao(&db, &["plugin", "verify", "enabling-resources", "0.1.0"]);
    assert!(verify.status.success() && text(&verify.stdout).starts_with("ok "));

    // Errors: one line, cause and what to do, meaningful exit codes.
    let missing = shenbao(&db, &["plugin", "show", "nope", "9.9.9"]);
    assert_eq!(missing.status.code(), Some(3));
    let err = text(&missing.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no plugin nope@9.9.9 is installed") && err.contains("shenbao plugin list"), "{err}");

    let future = shenbao(&db, &["plugin", "install", testkit::plugin_path("future-version").to_str().unwrap()]);
    assert_eq!(future.status.code(), Some(4));
    assert!(text(&future.stderr).contains("2.0.0"), "{}", text(&future.stderr));

    let nofile = shenbao(&db, &["plugin", "install", "/nonexistent.wasm"]);
    assert_eq!(nofile.status.code(), Some(3));

    // --help on every subcommand carries an example.
    for sub in ["install", "list", "show", "verify"] {
        let help = Command::new(env!("CARGO_BIN_EXE_shenbao")).args(["plugin", sub, "--help"]).output().unwrap();
        assert!(text(&help.stdout).contains("Example:"), "{sub}");
    }
}
