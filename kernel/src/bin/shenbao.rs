//! `shenbao`: the kernel at a terminal. Every subcommand works on the database named
//! by `--db` (or `SHENBAO_DB`). Errors are one line — the cause, then what to do —
//! with exit codes that mean something (see `ExitCode` below).
//!
//! This first cut administers program plugins; rounds, imports, reviews, exports
//! and `serve` follow (issue 5).

use clap::{Parser, Subcommand};
use shenbao::{InstallError, Kernel, LookupError};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes: 0 ok, 2 usage (clap), 3 not found, 4 refused input, 5 storage, 6 verification failed.
const NOT_FOUND: u8 = 3;
const REFUSED: u8 = 4;
const STORAGE: u8 = 5;
const VERIFY_FAILED: u8 = 6;

#[derive(Parser)]
#[command(name = "shenbao", version, about = "Shenbao (申报): program applications and approvals", long_about = None)]
struct Cli {
    /// The database file (created if missing).
    #[arg(long, global = true, env = "SHENBAO_DB", default_value = "shenbao.redb")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install, list, show and verify program plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Install a program plugin from its component file.
    #[command(
        after_help = "Example:\n  shenbao --db round.redb plugin install target/plugins/wasm32-wasip2/plugin/enabling_resources.wasm"
    )]
    Install {
        /// The component (.wasm) built for wasm32-wasip2.
        file: PathBuf,
    },
    /// List installed plugins.
    #[command(after_help = "Example:\n  shenbao --db round.redb plugin list")]
    List,
    /// Show a plugin's manifest as JSON.
    #[command(after_help = "Example:\n  shenbao --db round.redb plugin show enabling-resources 0.1.0")]
    Show { program: String, version: String },
    /// Re-hash a plugin's stored bytes and check it still describes itself as recorded.
    #[command(after_help = "Example:\n  shenbao --db round.redb plugin verify enabling-resources 0.1.0")]
    Verify { program: String, version: String },
}

fn fail(code: u8, cause: impl std::fmt::Display, todo: &str) -> ExitCode {
    let cause = cause.to_string().replace('\n', " ");
    eprintln!("shenbao: {cause} — {todo}");
    ExitCode::from(code)
}

fn lookup_failure(e: LookupError) -> ExitCode {
    match e {
        LookupError::NotInstalled { .. } | LookupError::UnknownSha { .. } => {
            fail(NOT_FOUND, e, "see `shenbao plugin list` for what is installed")
        }
        other => fail(STORAGE, other, "check the database file and its permissions"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let kernel = match Kernel::open(&cli.db) {
        Ok(k) => k,
        Err(e) => {
            return fail(STORAGE, e, &format!("check that {} is a Shenbao database you may write", cli.db.display()));
        }
    };
    match cli.command {
        Command::Plugin(PluginCommand::Install { file }) => {
            let bytes = match std::fs::read(&file) {
                Ok(b) => b,
                Err(e) => {
                    return fail(
                        NOT_FOUND,
                        format!("{}: {e}", file.display()),
                        "give the path of a built .wasm component",
                    );
                }
            };
            match kernel.install_plugin(&bytes) {
                Ok(i) => {
                    let m = &i.record.manifest;
                    let what = if i.newly_installed { "installed" } else { "already installed" };
                    println!(
                        "{what} {} — {} ({} forms, {} directions, {} rules, WIT {})",
                        i.record.id,
                        m.name.zh,
                        m.forms.len(),
                        m.directions.len(),
                        m.rules.len(),
                        i.record.id.wit
                    );
                    ExitCode::SUCCESS
                }
                Err(e @ InstallError::Store(_)) => fail(STORAGE, e, "check the database file and its permissions"),
                Err(e) => fail(REFUSED, e, "rebuild the plugin or fix what is named, then install again"),
            }
        }
        Command::Plugin(PluginCommand::List) => match kernel.plugins() {
            Ok(list) => {
                for r in list {
                    println!(
                        "{}\t{}\t{}\tWIT {}\t{}",
                        r.id.program, r.id.version, r.id.sha256, r.id.wit, r.manifest.name.zh
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(STORAGE, e, "check the database file and its permissions"),
        },
        Command::Plugin(PluginCommand::Show { program, version }) => match kernel.plugin_record(&program, &version) {
            Ok(r) => {
                println!("{}", serde_json::to_string_pretty(&r).expect("records serialise"));
                ExitCode::SUCCESS
            }
            Err(e) => lookup_failure(e),
        },
        Command::Plugin(PluginCommand::Verify { program, version }) => match kernel.verify_plugin(&program, &version) {
            Ok(v) if v.bytes_intact && v.manifest_matches => {
                println!("ok {}: bytes intact, manifest reproduced", v.id);
                ExitCode::SUCCESS
            }
            Ok(v) => fail(
                VERIFY_FAILED,
                format!("{}: bytes intact = {}, manifest reproduced = {}", v.id, v.bytes_intact, v.manifest_matches),
                "restore the database from a backup and reinstall the plugin",
            ),
            Err(e) => lookup_failure(e),
        },
    }
}
