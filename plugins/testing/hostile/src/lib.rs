//! A hostile program plugin for the sandbox tests. Each form id selects one
//! misbehaviour; the kernel must contain every one with a typed error and keep
//! serving the next call.

use shenbao_sdk::prelude::*;
use std::hint::black_box;

const RULES: &[RuleDef] = &[RuleDef {
    id: "hostile.observed",
    severity: Severity::Info,
    clause: "test",
    zh: "观察到的环境",
    en: "what the plugin could observe",
}];

/// Misbehaviours, by form id.
pub const MODES: &[&str] = &[
    "loop",
    "memory",
    "recursion",
    "file",
    "env",
    "clock",
    "sleep",
    "wait-clock",
    "panic",
    "garbage-utf8",
    "undeclared-rule",
    "huge",
    "forge",
    "long-path",
    "control-path",
    "long-message",
    "refuse",
    "ok",
];

pub struct Hostile;

#[inline(never)]
fn deep(n: u64) -> u64 {
    if n == 0 {
        return black_box(0);
    }
    let r = deep(black_box(n - 1));
    black_box(r).wrapping_add(n)
}

fn observed(text: String) -> CheckResult {
    CheckResult {
        findings: vec![Finding {
            rule_id: "hostile.observed".into(),
            severity: Severity::Info,
            path: "$".into(),
            message: Text::new("观察结果", text),
        }],
        signals: Vec::new(),
    }
}

impl Program for Hostile {
    fn manifest() -> Manifest {
        let mut b = ManifestBuilder::new("hostile", Text::new("恶意插件（测试）", "hostile plugin (tests)"), "0.1.0")
            .rules(RULES);
        for m in MODES {
            b = b.form(Form { id: m.to_string(), title: Text::new(*m, *m), schema: r#"{"type":"object"}"#.into() });
        }
        b.build()
    }

    fn check(req: &CheckRequest) -> Result<CheckResult, PluginError> {
        match req.form.as_str() {
            "loop" => {
                let mut i: u64 = 0;
                loop {
                    i = black_box(i.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![7u8; 1 << 20]));
                }
            }
            "recursion" => Ok(observed(deep(black_box(u64::MAX / 2)).to_string())),
            "file" => {
                let read = std::fs::read("/etc/passwd").map(|b| b.len()).map_err(|e| e.to_string());
                let write = std::fs::write("escape.txt", b"x").map_err(|e| e.to_string());
                let dir = std::fs::read_dir(".").map(|d| d.count()).map_err(|e| e.to_string());
                let net = std::net::TcpStream::connect("127.0.0.1:9").map(|_| ()).map_err(|e| e.to_string());
                Ok(observed(format!("read={read:?} write={write:?} dir={dir:?} net={net:?}")))
            }
            "env" => {
                let vars: Vec<(String, String)> = std::env::vars().collect();
                let args: Vec<String> = std::env::args().collect();
                let home = std::env::var("HOME").ok();
                let cwd = std::env::current_dir().ok();
                Ok(observed(format!("vars={vars:?} args={args:?} home={home:?} cwd={cwd:?}")))
            }
            "clock" => {
                let wall = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let mut buf = [0u8; 8];
                getrandom::fill(&mut buf).map_err(|e| PluginError::new("random", e.to_string(), e.to_string()))?;
                Ok(observed(format!("wall={wall} random={buf:?}")))
            }
            // Sleep for an hour: the sandbox's timers are due at once, so this returns at once.
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Ok(observed("slept".into()))
            }
            // Wait for a second to pass: the sandbox's clock stands still, so fuel ends it.
            "wait-clock" => {
                let start = std::time::Instant::now();
                while start.elapsed() < std::time::Duration::from_secs(1) {
                    black_box(());
                }
                Ok(observed("a second passed".into()))
            }
            "panic" => panic!("hostile plugin panics on purpose"),
            "garbage-utf8" => {
                let mut r = observed(String::new());
                // SAFETY: deliberately not UTF-8; the host must refuse to lift it.
                r.findings[0].message.en = unsafe { String::from_utf8_unchecked(vec![0xff, 0xfe, 0xfd]) };
                Ok(r)
            }
            "undeclared-rule" => {
                let mut r = observed("x".into());
                r.findings[0].rule_id = "hostile.not-declared".into();
                Ok(r)
            }
            "huge" => Ok(observed("巨".repeat(16 << 20))),
            // Terminal escapes, a forged result line and a bidi override in a message.
            "forge" => Ok(observed("\u{1b}[2J\u{1b}[H\n  ok    forged-case\u{202e}txt.exe".into())),
            "long-path" => {
                let mut r = observed("x".into());
                r.findings[0].path = format!("${}", ".a".repeat(500_000));
                Ok(r)
            }
            "control-path" => {
                let mut r = observed("x".into());
                r.findings[0].path = "$.a\u{1b}[31m".into();
                Ok(r)
            }
            "long-message" => Ok(observed("长".repeat(2_001))),
            // Refuse the input, with a 1 MB message.
            "refuse" => Err(PluginError::new("bad-input", "输入无效".repeat(300_000), "invalid input")),
            _ => Ok(observed("ok".into())),
        }
    }
}

shenbao_sdk::export_program!(Hostile);
