//! `shenbao plugin new NAME --lang rust|python|js`: a standalone program project,
//! outside this repository, that builds with one command and passes `shenbao plugin
//! test` as written. The template is the author guide's complete small program
//! (`plugins/minimal`) with its cases; the SDK and the WIT travel with it, copied
//! from what this binary carries (so it builds with only the language's toolchain
//! and its public package registry).

use std::path::{Path, PathBuf};

/// A file of the project: its path in the project and its text. `{{name}}`-free:
/// the program id is put in by [`rename`].
type File = (&'static str, &'static str);

macro_rules! files {
    ($($path:literal => $src:literal),* $(,)?) => {
        &[$(($path, include_str!($src))),*]
    };
}

/// The WIT contract the components implement (frozen 0.1.0).
const WIT: &[File] = files! {
    "wit/0.1.0/program.wit" => "../../../../wit/0.1.0/program.wit",
};

/// The cases, the round and a draft (`plugin test`'s folder; `app draft`'s file).
const CASES: &[File] = files! {
    "cases/round.json" => "../../../../plugins/minimal/cases/round.json",
    "cases/expected.json" => "../../../../plugins/minimal/cases/expected.json",
    "cases/cases/pass.json" => "../../../../plugins/minimal/cases/cases/pass.json",
    "cases/cases/fail-minimal.staff.min-20.json" => "../../../../plugins/minimal/cases/cases/fail-minimal.staff.min-20.json",
    "cases/cases/fail-minimal.grant.max-50.json" => "../../../../plugins/minimal/cases/cases/fail-minimal.grant.max-50.json",
    "cases/cases/schema-missing-project-name.json" => "../../../../plugins/minimal/cases/cases/schema-missing-project-name.json",
    "cases/cases/declared-attachment-missing-licence.json" => "../../../../plugins/minimal/cases/cases/declared-attachment-missing-licence.json",
    "draft.json" => "../../../../plugins/minimal/draft.json",
    "licence.txt" => "../../../../plugins/minimal/licence.txt",
    "demo/regions.csv" => "../../../../examples/demo/regions.csv",
    "demo/orgs.csv" => "../../../../examples/demo/orgs.csv",
    "demo/users.csv" => "../../../../examples/demo/users.csv",
};

/// The Rust SDK and the contract crate it re-exports, vendored.
const RUST: &[File] = files! {
    "src/lib.rs" => "../../../../plugins/minimal/rust/src/lib.rs",
    "vendor/shenbao-sdk/src/arena.rs" => "../../../../plugins/sdk/src/arena.rs",
    "vendor/shenbao-sdk/src/checker.rs" => "../../../../plugins/sdk/src/checker.rs",
    "vendor/shenbao-sdk/src/glue.rs" => "../../../../plugins/sdk/src/glue.rs",
    "vendor/shenbao-sdk/src/graph.rs" => "../../../../plugins/sdk/src/graph.rs",
    "vendor/shenbao-sdk/src/helpers.rs" => "../../../../plugins/sdk/src/helpers.rs",
    "vendor/shenbao-sdk/src/lib.rs" => "../../../../plugins/sdk/src/lib.rs",
    "vendor/shenbao-sdk/src/manifest.rs" => "../../../../plugins/sdk/src/manifest.rs",
    "vendor/shenbao-sdk/src/money.rs" => "../../../../plugins/sdk/src/money.rs",
    "vendor/shenbao-sdk/src/testing.rs" => "../../../../plugins/sdk/src/testing.rs",
    "vendor/shenbao-contract/src/convert.rs" => "../../../../kernel/contract/src/convert.rs",
    "vendor/shenbao-contract/src/credit_code.rs" => "../../../../kernel/contract/src/credit_code.rs",
    "vendor/shenbao-contract/src/date.rs" => "../../../../kernel/contract/src/date.rs",
    "vendor/shenbao-contract/src/lib.rs" => "../../../../kernel/contract/src/lib.rs",
    "vendor/shenbao-contract/src/types.rs" => "../../../../kernel/contract/src/types.rs",
};

const PYTHON: &[File] = files! {
    "app.py" => "../../../../plugins/minimal/python/app.py",
    "vendor/shenbao_sdk/__init__.py" => "../../../../plugins/sdk-python/shenbao_sdk/__init__.py",
    "vendor/shenbao_sdk/forms.py" => "../../../../plugins/sdk-python/shenbao_sdk/forms.py",
    "vendor/shenbao_sdk/graph.py" => "../../../../plugins/sdk-python/shenbao_sdk/graph.py",
};

const JS: &[File] = files! {
    "index.js" => "../../../../plugins/minimal/js/index.js",
    "vendor/shenbao.js" => "../../../../plugins/sdk-js/shenbao.js",
    "vendor/unicode.js" => "../../../../plugins/sdk-js/unicode.js",
    "vendor/forms.js" => "../../../../plugins/sdk-js/forms.js",
    "vendor/graph.js" => "../../../../plugins/sdk-js/graph.js",
    "vendor/typebox.js" => "../../../../plugins/sdk-js/typebox.js",
};

/// The language a program is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

#[derive(clap::Args)]
pub struct NewArgs {
    /// The program's id: lower-case letters, digits and '-', starting with a letter
    /// (it names the project, the component and every rule id).
    pub name: String,
    /// The language to write it in.
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// Where to write the project (default: ./NAME); must not exist or be empty.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// The component tools the Python and JavaScript builds use, pinned as Shenbao's
/// own builds pin them (`plugins/toolchains/`).
const PY_PINS: &str = include_str!("../../../../plugins/toolchains/requirements.txt");
const JS_PINS: &str = include_str!("../../../../plugins/toolchains/package.json");

/// `componentize-py==X.Y.Z`, as pinned.
fn componentize_py() -> &'static str {
    PY_PINS.lines().map(str::trim).find(|l| l.starts_with("componentize-py")).unwrap_or("componentize-py")
}

/// The template's header sentences that describe it in Shenbao's repository.
const TEMPLATE_NOTES: &[(&str, &str)] = &[
    (" — the author guide's example (`plugins/README.md`).", " (made by `shenbao plugin new`)."),
    (" — the author guide's example (plugins/README.md).", " (made by `shenbao plugin new`)."),
    ("A minimal complete program", "A complete program"),
];

/// The template's two header lines about its siblings in Shenbao's repository (`The
/// same program is written in …` / `the test suite builds all three …`), replaced by
/// where to start.
fn without_sibling_note(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let body = line.trim_start_matches(['/', '!', ' ', '#']);
        if body.starts_with("The same program is written in") {
            let prefix = &line[..line.len() - body.len()];
            out.push(format!(
                "{prefix}Start from it: the manifest in `describe`, the rules in `check`, the cases in `cases/`."
            ));
        } else if !body.starts_with("the test suite builds all three") {
            out.push(line.to_string());
        }
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// A project's text with the template's program id replaced by `name`; its type is
/// `<Name>Program` (never an SDK or language name: `checker` → `CheckerProgram`).
fn rename(text: &str, name: &str) -> String {
    let mut text = without_sibling_note(text);
    for (from, to) in TEMPLATE_NOTES {
        text = text.replace(from, to);
    }
    text.replace("Minimal", &format!("{}Program", pascal(name))).replace("minimal", name)
}

fn pascal(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// Whether `name` may be a program id (and so a Cargo package, a file name, a
/// rule-id prefix): lower-case letters, digits and single '-' between them,
/// starting with a letter, at most 40 characters, and not a name Cargo keeps for
/// itself (Rust's keywords and built-in crates).
pub fn valid_name(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "self",
        "super",
        "crate",
        "std",
        "core",
        "alloc",
        "test",
        "proc-macro",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "enum",
        "extern",
        "false",
        "fn",
        "for",
        "if",
        "impl",
        "in",
        "let",
        "loop",
        "match",
        "mod",
        "move",
        "mut",
        "pub",
        "ref",
        "return",
        "static",
        "struct",
        "trait",
        "true",
        "type",
        "unsafe",
        "use",
        "where",
        "while",
        "async",
        "await",
        "dyn",
        "abstract",
        "become",
        "box",
        "do",
        "final",
        "macro",
        "override",
        "priv",
        "typeof",
        "unsized",
        "virtual",
        "yield",
        "try",
        "gen",
    ];
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
        && !RESERVED.contains(&name)
}

/// Write the project; returns its folder and the files written.
///
/// # Errors
/// A bad name, a folder that exists and is not empty, or a write that failed, each
/// as a message naming what to do.
pub fn scaffold(args: &NewArgs) -> Result<(PathBuf, Vec<PathBuf>), String> {
    let name = args.name.as_str();
    if !valid_name(name) {
        return Err(format!(
            "程序标识“{name}”无效：只能含小写字母、数字和单个 -（不在末尾），以字母开头，不超过 40 个字符，不能是 Rust \
             保留字 / program id {name:?} must be lower-case letters and digits with single '-' between them, start \
             with a letter, be at most 40 characters and not a Rust keyword or built-in crate name (e.g. smart-factory; \
             the year goes in the round's id)"
        ));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "{} 已存在且不是文件夹 / {} exists and is not a folder: choose another --dir",
            dir.display(),
            dir.display()
        ));
    }
    if dir.is_symlink() && !dir.exists() {
        return Err(format!(
            "{} 是指向不存在位置的链接 / {} is a link to nothing: choose another --dir",
            dir.display(),
            dir.display()
        ));
    }
    if dir.exists() && std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(format!(
            "{} 已存在且不为空 / {} exists and is not empty: choose another --dir",
            dir.display(),
            dir.display()
        ));
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for (p, t) in WIT {
        files.push((p.to_string(), t.to_string()));
    }
    for (p, t) in CASES {
        files.push((rename(p, name), rename(t, name)));
    }
    let lang_files = match args.lang {
        Lang::Rust => RUST,
        Lang::Python => PYTHON,
        Lang::Js => JS,
    };
    for (p, t) in lang_files {
        // The SDK is copied as it is; the program itself gets the new id.
        let text = if p.starts_with("vendor/") { t.to_string() } else { rename(t, name) };
        files.push((p.to_string(), text));
    }
    match args.lang {
        Lang::Rust => {
            files.push(("Cargo.toml".into(), rust_manifest(name)));
            files.push(("vendor/shenbao-sdk/Cargo.toml".into(), SDK_MANIFEST.into()));
            files.push(("vendor/shenbao-contract/Cargo.toml".into(), CONTRACT_MANIFEST.into()));
            files.push((".gitignore".into(), "/target\n".into()));
            files.push((".cargo/config.toml".into(), RUST_CARGO_CONFIG.into()));
            // The versions the SDK was built and tested with (cargo drops what this
            // project does not use).
            files.push(("Cargo.lock".into(), include_str!("../../../../Cargo.lock").into()));
        }
        Lang::Python => {
            files.push((".gitignore".into(), "*.wasm\n__pycache__/\n".into()));
        }
        Lang::Js => {
            // The SDK sits in vendor/, not two folders up as in Shenbao's repository.
            let (p, t) = files.iter_mut().find(|(p, _)| p == "index.js").expect("the JS template");
            debug_assert_eq!(p, "index.js");
            *t = t.replace("\"../../sdk-js/", "\"./vendor/");
            // TypeBox is the project's own npm dependency (package.json), not the repository's toolchain's.
            let (_, t) = files.iter_mut().find(|(p, _)| p == "vendor/typebox.js").expect("the TypeBox shim");
            *t = t.replace("\"../../target/tools/js/node_modules/", "\"../node_modules/");
            files.push(("package.json".into(), js_package(name)));
            files.push((".gitignore".into(), "*.wasm\nnode_modules/\n".into()));
        }
    }
    files.push(("README.md".into(), readme(name, args.lang)));
    let mut written = Vec::new();
    for (p, t) in &files {
        let path = dir.join(p);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, t).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok((dir, written))
}

/// Cargo settings of a Rust plugin project: the linear memory starts with 1 MiB of
/// heap beyond the program's data and stack (as Shenbao's own Rust plugins, in the
/// repository's `.cargo/config.toml`).
const RUST_CARGO_CONFIG: &str = r#"# Start the plugin's linear memory with 1 MiB of heap beyond its data and stack
# (wasm-ld's default leaves almost none). Shenbao runs every call in a fresh
# instance: a call that grows memory past its initial size pays for changing page
# protections twice (when it grows, and when the next instance resets the slot) —
# about a sixth of a typical check. Raise it if your checks still grow memory; each
# instance's memory stays capped by the plugin's limits. A RUSTFLAGS environment
# variable replaces this setting: add the flag there too if you set one.
[target.wasm32-wasip2]
rustflags = ["-C", "link-arg=--initial-heap=1048576"]
"#;

fn rust_manifest(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
shenbao-sdk = {{ path = "vendor/shenbao-sdk" }}
serde = {{ version = "1", features = ["derive"] }}
schemars = "1.2"

# A project of its own, even when written inside another Cargo workspace.
[workspace]

[profile.release]
opt-level = 3
strip = true
"#
    )
}

const SDK_MANIFEST: &str = r#"[package]
name = "shenbao-sdk"
description = "Guest SDK for Shenbao program plugins (vendored by `shenbao plugin new`)."
version = "0.1.0"
edition = "2024"
publish = false

[features]
default = ["arena"]
# The plugin's heap is a bump arena (src/arena.rs); without it, wasi-libc's malloc.
arena = []

[dependencies]
shenbao-contract = { path = "../shenbao-contract" }
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["raw_value", "float_roundtrip", "preserve_order"] }
schemars = "1.2"
wit-bindgen = { version = "0.61", default-features = false, features = ["macros", "realloc"] }
"#;

const CONTRACT_MANIFEST: &str = r#"[package]
name = "shenbao-contract"
description = "The Rust mirror of Shenbao's WIT contract (vendored by `shenbao plugin new`)."
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = { version = "1", features = ["raw_value", "float_roundtrip"] }
schemars = "1.2"
"#;

fn js_package(name: &str) -> String {
    format!(
        r#"{{
  "name": "{name}",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {{
    "build": "componentize-js index.js --wit wit/0.1.0 --world-name program --disable http fetch-event -o {wasm}.wasm"
  }},
  "devDependencies": {deps}
}}
"#,
        wasm = name.replace('-', "_"),
        deps = serde_json::from_str::<serde_json::Value>(JS_PINS)
            .ok()
            .and_then(|v| v.get("dependencies").cloned())
            .map(|d| serde_json::to_string_pretty(&d).unwrap_or_default().replace('\n', "\n  "))
            .unwrap_or_else(|| "{}".into()),
    )
}

/// The build command for a project, and where its component lands.
pub fn build_command(name: &str, lang: Lang) -> (String, String) {
    let wasm = name.replace('-', "_");
    match lang {
        Lang::Rust => (
            "rustup target add wasm32-wasip2 && cargo build --release --target wasm32-wasip2".into(),
            format!("target/wasm32-wasip2/release/{wasm}.wasm"),
        ),
        Lang::Python => (
            format!(
                "pip install {} && componentize-py -d wit/0.1.0 -w program componentize app -p . -p vendor -o {wasm}.wasm",
                componentize_py()
            ),
            format!("{wasm}.wasm"),
        ),
        Lang::Js => ("npm install && npm run build".into(), format!("{wasm}.wasm")),
    }
}

fn readme(name: &str, lang: Lang) -> String {
    let (build, out) = build_command(name, lang);
    let source = match lang {
        Lang::Rust => "`src/lib.rs`",
        Lang::Python => "`app.py`",
        Lang::Js => "`index.js`",
    };
    format!(
        r#"# {name}

A Shenbao program (申报程序) plugin, made by `shenbao plugin new`. The program is in
{source}: its manifest (form, rules, quota, review graph, summary table) and the check
it runs at each submission. The SDK and the WIT contract (`wit/0.1.0`) it builds
against are in this folder (`vendor/`, `wit/`), so it needs only the language's
toolchain and its package registry.

## Build

```sh
{build}
```

The component is `{out}`.

## Test

```sh
shenbao plugin test {out} cases
```

`cases/round.json` is the round the cases run in (its `plugin_version` must be the
component's), `cases/cases/*.json` one application each, `cases/expected.json` what
each must give (`--update` records what they give now). A case that fails prints
what it got; the run ends with a summary and exit code 1.

## Try it in a database

`demo/` holds regions, organisations and users to try it with (`org-01` applies for
an organisation in Huizhou, `huizhou` is its city's officer). The round's applicant
window is in March 2026: `--now` sets the clock for a rehearsal.

```sh
export SHENBAO_DB=trial.redb SHENBAO_NOW="2026-03-10 09:00"
shenbao plugin install {out}
shenbao import regions demo/regions.csv
shenbao import orgs demo/orgs.csv
shenbao import users demo/users.csv
shenbao round create cases/round.json
shenbao round open {name}-2026
shenbao app attach --as org-01 licence.txt      # prints the sha256 and size draft.json names
shenbao app draft --as org-01 --round {name}-2026 draft.json
shenbao app submit --as org-01 A0000001
shenbao queue --as huizhou --round {name}-2026
```

An installed version never changes (rounds pin it): after changing the program,
give it a new version (in its manifest and in `cases/round.json`) or use a fresh
database.

The author guide (Shenbao's `plugins/README.md`) explains every part: the manifest,
rule tables, `PlatformGraph` and its action ids, the summary column sources, the
round file's schema (`schemas/round.schema.json`).
"#
    )
}

/// `plugin new`: write the project and say what to do next.
pub fn run(args: &NewArgs, json: bool) -> Result<(), String> {
    let (dir, written) = scaffold(args)?;
    let (build, out) = build_command(&args.name, args.lang);
    if json {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        println!(
            "{}",
            serde_json::json!({ "dir": dir.display().to_string(), "files": files, "build": build, "component": out })
        );
    } else {
        println!("已创建 / created {} ({} files)", dir.display(), written.len());
        println!("  cd {}", shell_path(&dir));
        println!("  {build}");
        println!("  shenbao plugin test {out} cases");
    }
    Ok(())
}

fn shell_path(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c)) {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
