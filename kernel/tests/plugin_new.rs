//! Issue 18: `shenbao plugin new` writes a program project that lives outside this
//! repository — in Rust, Python and JavaScript — which builds with the command its
//! README gives, passes `shenbao plugin test` as written, installs, opens a round
//! and takes a submitted application from its own draft.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NAME: &str = "smart-factory";

fn shenbao(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shenbao")).args(args).current_dir(dir).output().expect("shenbao runs")
}

fn ok(out: &Output, what: &str) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: {text}");
    text
}

/// Build the project in `proj` as its README says (with the toolchain this
/// repository pins, already installed) and return the component.
fn build(lang: &str, proj: &Path) -> PathBuf {
    let readme = std::fs::read_to_string(proj.join("README.md")).unwrap();
    let wasm = format!("{}.wasm", NAME.replace('-', "_"));
    match lang {
        "rust" => {
            assert!(readme.contains("cargo build --release --target wasm32-wasip2"), "{readme}");
            testkit::ensure_wasm_target().unwrap();
            // The shared plugin target folder: the dependencies are built once.
            let target = testkit::plugin_target_dir();
            let out = Command::new("cargo")
                .args(["build", "--release", "--target", "wasm32-wasip2"])
                .env("CARGO_TARGET_DIR", &target)
                .current_dir(proj)
                .output()
                .unwrap();
            ok(&out, "cargo build of the scaffold");
            let built = target.join("wasm32-wasip2").join("release").join(&wasm);
            // The project's .cargo/config.toml starts the memory with 1 MiB of heap
            // beyond data and the 1 MiB stack: at least 2 MiB (32 pages of 64 KiB).
            let c = wasmtime::component::Component::from_file(&wasmtime::Engine::default(), &built).unwrap();
            let pages = c.resources_required().unwrap().max_initial_memory_size;
            assert!(pages >= Some(32), "{pages:?}");
            built
        }
        "python" => {
            let tool = testkit::ensure_componentize_py().unwrap();
            let cmd = format!("-d wit/0.1.0 -w program componentize app -p . -p vendor -o {wasm}");
            assert!(readme.contains(&format!("componentize-py {cmd}")), "{readme}");
            let out = Command::new(tool).args(cmd.split(' ')).current_dir(proj).output().unwrap();
            ok(&out, "componentize-py");
            proj.join(&wasm)
        }
        "js" => {
            // The README's command as written: npm installs the project's pinned
            // componentize-js and TypeBox (from the registry, or npm's cache), then builds.
            let cmd = "npm install && npm run build";
            assert!(readme.contains(cmd), "{readme}");
            let install = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(proj)
                .output()
                .unwrap();
            ok(&install, "npm install in the scaffold");
            let out = Command::new("npm").args(["run", "build"]).current_dir(proj).output().unwrap();
            ok(&out, "npm run build");
            proj.join(&wasm)
        }
        other => unreachable!("{other}"),
    }
}

fn walk(lang: &str) {
    let tmp = tempfile::tempdir().unwrap();
    assert!(!tmp.path().starts_with(testkit::root()), "the project is made outside the repository");
    let proj = tmp.path().join(format!("{NAME}-{lang}"));
    let proj_s = proj.to_str().unwrap();
    let text = ok(&shenbao(&["plugin", "new", NAME, "--lang", lang, "--dir", proj_s], tmp.path()), "plugin new");
    assert!(text.contains("plugin test"), "it says what to do next: {text}");
    // Its own copy of the contract, SDK and cases; nothing points back into Shenbao.
    assert!(proj.join("wit/0.1.0/program.wit").is_file());
    for f in walk_files(&proj) {
        let t = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(
            !t.contains("../../sdk")
                && !t.contains("workspace = true")
                && !t.contains("(`../")
                && !t.contains("test suite builds")
                && !t.contains("plugins/sdk-python"),
            "{} refers outside: {t:.200}",
            f.display()
        );
    }
    let component = build(lang, &proj);
    let out = shenbao(&["plugin", "test", component.to_str().unwrap(), "cases"], &proj);
    let text = ok(&out, "plugin test");
    assert!(text.contains("5 passed, 0 failed") && text.contains(&format!("{NAME}@0.1.0")), "{text}");
    // Installed, a round opened, the draft submitted.
    // The project's own demo data, as its README says.
    let demo = proj.join("demo");
    let db = tmp.path().join("trial.redb");
    let db = db.to_str().unwrap();
    let run = |args: &[&str]| {
        ok(&shenbao(&[&["--db", db, "--now", "2026-03-10 09:00"][..], args].concat(), &proj), &args.join(" "))
    };
    run(&["plugin", "install", component.to_str().unwrap()]);
    for (what, file) in [("regions", "regions.csv"), ("orgs", "orgs.csv"), ("users", "users.csv")] {
        run(&["import", what, demo.join(file).to_str().unwrap()]);
    }
    run(&["round", "create", "cases/round.json"]);
    run(&["round", "open", &format!("{NAME}-2026")]);
    run(&["app", "attach", "--as", "org-01", "licence.txt"]);
    let draft = run(&["app", "draft", "--as", "org-01", "--round", &format!("{NAME}-2026"), "draft.json"]);
    assert!(draft.contains("A0000001"), "{draft}");
    let submitted = run(&["app", "submit", "--as", "org-01", "A0000001"]);
    assert!(submitted.contains("city-review") || submitted.contains("市级"), "{submitted}");
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target" || n == "node_modules") {
                continue;
            }
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_new_rust_program_builds_tests_installs_and_takes_an_application() {
    walk("rust");
}

#[test]
fn a_new_python_program_builds_tests_installs_and_takes_an_application() {
    walk("python");
}

#[test]
fn a_new_javascript_program_builds_tests_installs_and_takes_an_application() {
    walk("js");
}

/// What the scaffold carries is everything the SDKs are made of: a file added to an
/// SDK without being added to `plugin new` fails here.
#[test]
fn the_scaffold_carries_every_sdk_file() {
    let tmp = tempfile::tempdir().unwrap();
    for (lang, ext, dirs) in [
        (
            "rust",
            ".rs",
            vec![("plugins/sdk/src", "vendor/shenbao-sdk/src"), ("kernel/contract/src", "vendor/shenbao-contract/src")],
        ),
        ("python", ".py", vec![("plugins/sdk-python/shenbao_sdk", "vendor/shenbao_sdk")]),
        ("js", ".js", vec![("plugins/sdk-js", "vendor")]),
    ] {
        let proj = tmp.path().join(lang);
        ok(&shenbao(&["plugin", "new", NAME, "--lang", lang, "--dir", proj.to_str().unwrap()], tmp.path()), lang);
        for (src, dst) in dirs {
            for e in std::fs::read_dir(testkit::root().join(src)).unwrap().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_dir() || !name.ends_with(ext) {
                    continue;
                }
                let copied = std::fs::read(proj.join(dst).join(&name))
                    .unwrap_or_else(|_| panic!("{lang}: {src}/{name} is not carried"));
                let mut original = std::fs::read_to_string(e.path()).unwrap();
                if name == "typebox.js" {
                    // The one rewrite: TypeBox from the project's own node_modules.
                    original = original.replace("../../target/tools/js/node_modules/", "../node_modules/");
                }
                assert_eq!(String::from_utf8(copied).unwrap(), original, "{lang}: {src}/{name} is carried as it is");
            }
        }
    }
    // Every case of the template travels (renamed to the program).
    let count = |d: PathBuf| std::fs::read_dir(d).unwrap().count();
    assert_eq!(
        count(tmp.path().join("rust/cases/cases")),
        count(testkit::root().join("plugins/minimal/cases/cases")),
        "a case of plugins/minimal/cases is not carried by plugin new"
    );
    // A bad name or a folder in use writes nothing.
    std::fs::write(tmp.path().join("a-file"), "x").unwrap();
    for (args, why) in [
        (vec!["plugin", "new", "Smart_Factory", "--lang", "rust"], "an id with capitals"),
        (vec!["plugin", "new", "self", "--lang", "rust"], "a Rust keyword"),
        (vec!["plugin", "new", "a--b", "--lang", "js"], "a double dash"),
        (vec!["plugin", "new", NAME, "--lang", "rust", "--dir", "rust"], "a folder that is not empty"),
        (vec!["plugin", "new", NAME, "--lang", "rust", "--dir", "a-file"], "a file"),
    ] {
        let out = shenbao(&args, tmp.path());
        assert!(!out.status.success(), "{why}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("无效") || said.contains("不为空") || said.contains("不是文件夹"), "{why}: {said}");
    }
    assert!(!tmp.path().join("Smart_Factory").exists());
    // A program named like an SDK type gets a type of its own (`CheckerProgram`).
    for (lang, file, decl) in [
        ("python", "app.py", "class CheckerProgram(Program)"),
        ("js", "index.js", "class CheckerProgram extends Program"),
    ] {
        let proj = tmp.path().join(format!("checker-{lang}"));
        ok(&shenbao(&["plugin", "new", "checker", "--lang", lang, "--dir", proj.to_str().unwrap()], tmp.path()), lang);
        let text = std::fs::read_to_string(proj.join(file)).unwrap();
        assert!(text.contains(decl) && !text.contains("class Checker("), "{lang}: {text:.400}");
        let readme = std::fs::read_to_string(proj.join("README.md")).unwrap();
        assert!(readme.contains("import users demo/users.csv") && readme.contains("SHENBAO_NOW"), "{readme}");
    }
}
