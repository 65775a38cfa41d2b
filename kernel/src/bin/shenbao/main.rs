//! `shenbao`: the kernel at a terminal. Every subcommand works on the database named
//! by `--db` (or `SHENBAO_DB`). Errors are one line — the cause, then what to do —
//! with exit codes that mean something (see `exit` below).

/// One line of human output (`format!` arguments), with every control and
/// bidirectional character escaped by [`shenbao::text::display`]: nothing a plugin,
/// an applicant or an imported file wrote can move the cursor, forge a line or
/// reorder what is shown. Every human printer goes through it, [`row`] or `esay!`.
macro_rules! say {
    ($($t:tt)*) => { crate::emit(&shenbao::text::display(&format!($($t)*)), true) };
}

/// [`say!`] on standard error.
macro_rules! esay {
    ($($t:tt)*) => { eprintln!("{}", shenbao::text::display(&format!($($t)*))) };
}

mod demo;
mod runner;
mod scaffold;

use clap::{Args, Parser, Subcommand};
use shenbao::{ActionRequest, Classified, Draft, InstallError, Kernel, Payload, RoundSpec, StoreError, SummaryLevel};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes.
/// Exit codes: each is [`shenbao::ErrorKind::exit_code`] of a kind, so the CLI and
/// the HTTP API (`shenbao::http::status_of`) map every error the same way.
mod exit {
    use shenbao::ErrorKind;
    /// Bad usage (clap's own, and a malformed value clap cannot check).
    pub const USAGE: u8 = 2;
    /// What was named does not exist.
    pub const NOT_FOUND: u8 = ErrorKind::NotFound.exit_code();
    /// The input was refused (invalid data, blocking findings, a missing opinion).
    pub const REFUSED: u8 = ErrorKind::Invalid.exit_code();
    /// The database or a file could not be read or written.
    pub const STORAGE: u8 = ErrorKind::Storage.exit_code();
    /// A verification failed (chain, plugin bytes, replay).
    pub const VERIFY_FAILED: u8 = ErrorKind::Corrupt.exit_code();
    /// Refused by the state of things: quota, window, stage, permissions.
    pub const CONFLICT: u8 = ErrorKind::Conflict.exit_code();
    /// `plugin test`: a case's findings differ from its expectation.
    pub const CASES_FAILED: u8 = 1;
}

/// `--version`: the release and the database schema version it writes (and
/// upgrades older files to).
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{} (database schema version {})", env!("CARGO_PKG_VERSION"), shenbao::SCHEMA_VERSION)
});

#[derive(Parser)]
#[command(
    name = "shenbao",
    version = VERSION.as_str(),
    about = "Shenbao (申报): program applications and approvals on an embedded database",
    after_help = "Example:\n  shenbao demo                      # a whole round of each program on a fresh database\n  shenbao --db round.redb round show iiot-2023\n\nExit codes: 0 ok, 1 a failing `plugin test` case, 2 usage, 3 not found, 4 refused input, 5 storage, 6 verification failed, 7 refused by state or permission (quota, window, stage, role), 8 a plugin failed, 9 internal error."
)]
struct Cli {
    /// The database file (created if missing; default shenbao.redb, or the demo's own folder).
    #[arg(long, global = true, env = "SHENBAO_DB")]
    db: Option<PathBuf>,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Act as if it were this Beijing time, e.g. "2024-08-10 09:00" (rehearsals and
    /// scripted tests on a copy of a database; every decision records this time).
    #[arg(long, global = true, env = "SHENBAO_NOW")]
    now: Option<shenbao::Timestamp>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole round of each of the three programs on a fresh database and report.
    #[command(
        after_help = "Example:\n  shenbao demo --plugins target/plugins/wasm32-wasip2/plugin --examples examples\n  cargo xtask demo      # builds the plugins first, then runs this"
    )]
    Demo(demo::DemoArgs),
    /// Install, list, show and verify program plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Create, configure, open, close and show rounds.
    #[command(subcommand)]
    Round(RoundCommand),
    /// Import regions, organisations, users (CSV or XLSX) and run credit look-ups.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Set or show a year's working-day calendar (holidays and make-up days).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Users: their list, console passwords, one-time sign-in codes and API tokens.
    #[command(subcommand)]
    User(UserCommand),
    /// Applicants' work: drafts, submission, the handling record.
    #[command(subcommand)]
    App(AppCommand),
    /// Reviewers' work: any action of the graph, batches, ranking.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// A reviewer's lists in a round: what waits for it (待审核), or what it handled —
    /// recommended (已推荐), returned (退回待提交), not recommended (不受理).
    #[command(
        after_help = "Example:\n  shenbao queue --as huizhou --round iiot-2023\n  shenbao queue --as huizhou --round iiot-2023 --view recommended --limit 50 --after 'city-review|huizhou|huizhou.huicheng|A0000120'"
    )]
    Queue {
        #[arg(long = "as")]
        user: String,
        #[arg(long)]
        round: String,
        /// Which list: pending, recommended, returned or not-recommended.
        #[arg(long, default_value = "pending", value_parser = parse_view)]
        view: shenbao::QueueView,
        /// Only the applications now at this stage.
        #[arg(long)]
        stage: Option<String>,
        /// The next page: the cursor printed after a full page (`stage|city|district|application`).
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Summary tables and whole rounds.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Verify the decision chain and the indexes.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Re-run every recorded check of an application with its pinned plugin.
    #[command(after_help = "Example:\n  shenbao replay A0000003")]
    Replay { application: String },
    /// A consistent copy of the database. The database must not be open elsewhere; while `shenbao serve` runs on it, back up with `POST /v1/admin/backup` instead.
    #[command(after_help = "Example:\n  shenbao --db live.redb backup backups/2024-09-01.redb")]
    Backup { dest: PathBuf },
    /// Remove attachment files no application references, uploaded more than --older-than-hours ago.
    #[command(after_help = "Example:\n  shenbao --db live.redb clean-blobs --older-than-hours 168")]
    CleanBlobs {
        #[arg(long, default_value_t = 168)]
        older_than_hours: u64,
    },
    /// Check a backup and put it in place as the database named by --db (which must not exist).
    #[command(after_help = "Example:\n  shenbao --db restored.redb restore backups/2024-09-01.redb")]
    Restore { backup: PathBuf },
    /// Serve the HTTP API on the same database.
    #[command(after_help = "Example:\n  shenbao --db live.redb serve --listen 127.0.0.1:8080")]
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// The only folder `POST /v1/admin/backup` writes into (default: `backups/`
        /// beside the database).
        #[arg(long)]
        backup_dir: Option<PathBuf>,
        /// Connections one client address may hold at once (behind a reverse proxy,
        /// where every client has the proxy's address, raise it to 1024).
        #[arg(long, default_value_t = 256)]
        max_connections_per_client: usize,
        /// Session cookies without `Secure` (and without the `__Host-` prefix), for a
        /// console served over plain HTTP — on loopback, or behind a proxy on the
        /// same host that terminates TLS. Off by default: browsers then send the
        /// cookie over HTTPS only.
        #[arg(long)]
        insecure_cookies: bool,
    },
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
    /// Show a plugin's manifest as JSON — what its `describe` returned.
    #[command(
        after_help = "Example:\n  shenbao --db round.redb plugin show enabling-resources 0.1.0\n  shenbao --db round.redb plugin show enabling-resources 0.1.0 --record   # id, sha256, size, limits, manifest"
    )]
    Show {
        program: String,
        version: String,
        /// The installed record instead: id and sha256, size, install time, limits and the manifest.
        #[arg(long)]
        record: bool,
    },
    /// Run a plugin (not installed; no database) against a folder of cases and compare with expected.json.
    #[command(
        after_help = "Example:\n  shenbao plugin test target/plugins/wasm32-wasip2/plugin/enabling_resources.wasm examples/enabling-resources\n  shenbao plugin test my_program.wasm cases/ --case fail- --update\n\nA folder holds round.json (the round), cases/*.json (one application each: applicant, history,\nattachments, as_of, data; or `extends` another case with a JSON Patch) and expected.json.\nExit code 1 when a case fails."
    )]
    Test(runner::TestArgs),
    /// Write a new program project (Rust, Python or JavaScript) outside this
    /// repository: the program, its cases, round and draft, the SDK and the WIT.
    #[command(
        after_help = "Example:\n  shenbao plugin new smart-factory --lang rust --dir ~/smart-factory\n  shenbao plugin new smart-factory --lang python\n\nThe project's README gives its build command; `shenbao plugin test COMPONENT cases` passes as written."
    )]
    New(scaffold::NewArgs),
    /// Re-hash a plugin's stored bytes and check it still describes itself as recorded.
    #[command(after_help = "Example:\n  shenbao --db round.redb plugin verify enabling-resources 0.1.0")]
    Verify { program: String, version: String },
}

#[derive(Subcommand)]
enum RoundCommand {
    /// Create a round from a JSON round specification (see examples/<program>/round.json).
    #[command(after_help = "Example:\n  shenbao round create examples/iiot-pilots/round.json")]
    Create { file: PathBuf },
    /// Replace the configuration of a round that is not open yet.
    #[command(after_help = "Example:\n  shenbao round configure examples/iiot-pilots/round.json")]
    Configure { file: PathBuf },
    /// Open a round for applications.
    #[command(after_help = "Example:\n  shenbao round open iiot-2023")]
    Open { id: String },
    /// Close a round: no more submissions or reviews. Refused (exit 7,
    /// round_under_review) while applications are at a review, expert or notice
    /// stage, unless --force.
    #[command(after_help = "Example:\n  shenbao round close iiot-2023")]
    Close {
        id: String,
        /// Close even so: those applications stay where they are, for good.
        #[arg(long)]
        force: bool,
    },
    /// Show a round: status, pinned plugin, stages, quotas and their use.
    #[command(after_help = "Example:\n  shenbao round show iiot-2023")]
    Show { id: String },
    /// List rounds.
    #[command(after_help = "Example:\n  shenbao round list")]
    List,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Regions: id, name, kind (province|city|district), parent, group, separately_planned.
    #[command(after_help = "Example:\n  shenbao import regions examples/demo/regions.csv")]
    Regions { file: PathBuf },
    /// Organisations: 统一社会信用代码, 单位名称, 渠道, 所属市, 所属区县, 失信情况, 标签, and profile columns.
    #[command(after_help = "Example:\n  shenbao import orgs examples/demo/orgs.csv")]
    Orgs { file: PathBuf },
    /// Users, one row per grant: id, name, role, scope (province | city:ID | district:ID | organisation:CODE | expert | public), office.
    #[command(after_help = "Example:\n  shenbao import users examples/demo/users.csv")]
    Users { file: PathBuf },
    /// A round exported with `export round`, into this database (its plugin installed first).
    #[command(after_help = "Example:\n  shenbao --db archive.redb import round iiot-2023.jsonl")]
    Round { file: PathBuf },
    /// Credit look-up from the template (统一社会信用代码 required, 单位名称 optional).
    #[command(
        after_help = "Example:\n  shenbao import credit 信用查询.xlsx\n  shenbao import credit 失信名单.csv --mark-dishonest"
    )]
    Credit {
        file: PathBuf,
        /// Mark every registered organisation listed as dishonest (失信).
        #[arg(long)]
        mark_dishonest: bool,
    },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Set a year's holidays and make-up working days (dates as YYYY-MM-DD, comma-separated).
    #[command(
        after_help = "Example:\n  shenbao calendar set 2024 --holidays 2024-10-01,2024-10-02 --makeup 2024-09-29"
    )]
    Set {
        year: i32,
        #[arg(long, value_delimiter = ',')]
        holidays: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        makeup: Vec<String>,
    },
    /// Show a year's calendar.
    #[command(after_help = "Example:\n  shenbao calendar show 2024")]
    Show { year: i32 },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Issue, list or revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// List users and their grants.
    #[command(after_help = "Example:\n  shenbao user list")]
    List,
    /// Set a user's console password (12–128 characters), read from standard input
    /// (one line); ends the user's sessions.
    #[command(after_help = "Example:\n  printf '%s\\n' 'correct horse battery' | shenbao user password org-01")]
    Password { user: String },
    /// Issue a one-time sign-in code (valid 72 h, printed once): the user signs in to
    /// the console with it and sets a password.
    #[command(after_help = "Example:\n  shenbao user sign-in-code org-01")]
    SignInCode { user: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token for a user; the secret is printed once.
    #[command(after_help = "Example:\n  shenbao user token issue huizhou --label \"惠州市工信局前端\"")]
    Issue {
        user: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token by its id.
    #[command(after_help = "Example:\n  shenbao user token revoke 3f2a9c0d1e4b5a6c")]
    Revoke { id: String },
    /// List tokens (without secrets).
    #[command(after_help = "Example:\n  shenbao user token list")]
    List { user: Option<String> },
}

#[derive(Args)]
struct ActArgs {
    /// The acting user.
    #[arg(long = "as")]
    user: String,
    /// Opinion (审核意见).
    #[arg(long)]
    opinion: Option<String>,
    /// Refuse unless the application is at this stage.
    #[arg(long)]
    if_stage: Option<String>,
    /// Priority rank, from 1 (for rank actions: `city-rank`, `district-rank`).
    #[arg(long)]
    rank: Option<u32>,
    /// Experts to assign (comma-separated user ids).
    #[arg(long, value_delimiter = ',')]
    experts: Vec<String>,
    /// An expert's score.
    #[arg(long)]
    score: Option<f64>,
    /// An expert's score for one expert-review item, as ITEM=SCORE (repeat for each
    /// item; scoring by item scores every item, the total is their mean).
    #[arg(long = "item-score", value_parser = item_score)]
    item_scores: Vec<(String, f64)>,
    /// Warning rule ids the province confirms.
    #[arg(long, value_delimiter = ',')]
    confirm: Vec<String>,
    /// Idempotency key: a repeat with the same key returns the first decision.
    #[arg(long)]
    key: Option<String>,
}

/// `ITEM=SCORE` of `--item-score`.
fn item_score(s: &str) -> Result<(String, f64), String> {
    let (item, score) =
        s.split_once('=').ok_or_else(|| format!("{s:?}: write ITEM=SCORE, e.g. er.expert.technology-advanced=85"))?;
    let score = score.trim().parse::<f64>().map_err(|e| format!("{s:?}: the score is not a number ({e})"))?;
    Ok((item.trim().to_string(), score))
}

impl ActArgs {
    fn request(&self, action: &str) -> ActionRequest {
        ActionRequest {
            action: action.to_string(),
            opinion: self.opinion.clone(),
            if_stage: self.if_stage.clone(),
            payload: Payload {
                rank: self.rank,
                experts: self.experts.clone(),
                score: self.score,
                item_scores: self.item_scores.iter().cloned().collect(),
                confirm: self.confirm.clone(),
            },
        }
    }
}

#[derive(Subcommand)]
enum AppCommand {
    /// Save a draft from a JSON file ({"direction", "data", "attachments", …}); new unless --app.
    #[command(
        after_help = "Example:\n  shenbao app draft --as org-01 --round iiot-2023 draft.json\n  shenbao app draft --as org-01 --round iiot-2023 --app A0000001 draft.json"
    )]
    Draft {
        #[arg(long = "as")]
        user: String,
        #[arg(long)]
        round: String,
        #[arg(long)]
        app: Option<String>,
        file: PathBuf,
    },
    /// Submit a draft (runs the form schema and the program's rules).
    #[command(after_help = "Example:\n  shenbao app submit --as org-01 A0000001")]
    Submit {
        application: String,
        #[command(flatten)]
        act: ActArgs,
    },
    /// Store an attachment's content; prints its sha256 and size for the draft's metadata.
    /// Only the uploading user may attach it to a draft.
    #[command(after_help = "Example:\n  shenbao app attach --as org-03 营业执照.pdf")]
    Attach {
        /// The user uploading (the applicant's user who will attach it).
        #[arg(long = "as")]
        user: String,
        file: PathBuf,
    },
    /// Show an application.
    #[command(after_help = "Example:\n  shenbao app show A0000001")]
    Show { application: String },
    /// The handling record (办理记录): every decision with handler, time and opinion.
    #[command(after_help = "Example:\n  shenbao app history A0000001")]
    History { application: String },
    /// List the applications of a round.
    #[command(after_help = "Example:\n  shenbao app list --round iiot-2023")]
    List {
        #[arg(long)]
        round: String,
    },
}

#[derive(Subcommand)]
enum ReviewCommand {
    /// Take any action of the round's graph (recommend, return, withdraw, rank, assign-experts, score, object, approve …).
    #[command(
        after_help = "Example:\n  shenbao review act --as huizhou A0000001 city-recommend --opinion 同意推荐\n  shenbao review act --as huizhou A0000001 city-rank --rank 1\n  shenbao review act --as province A0000001 assign-experts --experts expert-1,expert-2"
    )]
    Act {
        application: String,
        action: String,
        #[command(flatten)]
        act: ActArgs,
    },
    /// The same action on many applications, all or none (批量推荐).
    #[command(
        after_help = "Example:\n  shenbao review batch --as huizhou city-recommend A0000001 A0000002 --opinion 同意推荐"
    )]
    Batch {
        action: String,
        #[arg(required = true)]
        applications: Vec<String>,
        #[command(flatten)]
        act: ActArgs,
    },
    /// The actions a user may take on an application now — exactly what `review act`
    /// would accept (from the same engine code), with what each still needs, and the
    /// actions of the user's roles refused now, with the reason.
    #[command(after_help = "Example:\n  shenbao review actions --as huizhou A0000001")]
    Actions {
        application: String,
        /// The user who would act.
        #[arg(long = "as")]
        user: String,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The recommendation summary table (推荐汇总表) of a round at a level.
    #[command(
        after_help = "Example:\n  shenbao export summary --round iiot-2023 --level city --scope huizhou --format xlsx --out 惠州汇总表.xlsx"
    )]
    Summary {
        #[arg(long)]
        round: String,
        #[arg(long)]
        level: SummaryLevel,
        /// Limit to a city or district id.
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, default_value = "xlsx")]
        format: String,
        /// Output file (default: <round>-<level>[-<scope>].<format>); `-` for standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Everything about a round as JSON lines (round, plugin, applicants, applications, decisions, quotas).
    #[command(after_help = "Example:\n  shenbao export round iiot-2023 --out iiot-2023.jsonl")]
    Round {
        id: String,
        /// Output file (default: <round>.jsonl); `-` for standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash-chained decision log and check every index against the records.
    #[command(after_help = "Example:\n  shenbao audit verify")]
    Verify,
}

/// A failure: exit code, cause, what to do.
pub struct Failure(u8, String, String);

impl Failure {
    pub fn new(code: u8, cause: impl std::fmt::Display, todo: impl Into<String>) -> Self {
        Failure(code, cause.to_string(), todo.into())
    }
}

/// A failure writing an output file.
fn store(e: impl std::fmt::Display) -> Failure {
    Failure::new(exit::STORAGE, format!("[store] {e}"), shenbao::ErrorKind::Storage.advice())
}

/// Every kernel error: the exit code of its kind, `[code] message`, and what to do.
impl<E: Classified> From<E> for Failure {
    fn from(e: E) -> Self {
        let kind = e.kind();
        Failure::new(kind.exit_code(), format!("[{}] {e}", e.code()), e.advice())
    }
}

type Res = Result<(), Failure>;

/// A file that could not be read, in Chinese and English.
fn unreadable(path: &std::path::Path, e: &std::io::Error) -> String {
    let zh = match e.kind() {
        std::io::ErrorKind::NotFound => "文件不存在",
        std::io::ErrorKind::PermissionDenied => "没有读取权限",
        _ => "读取失败",
    };
    format!("无法读取 {}：{zh} / cannot read {}: {e}", path.display(), path.display())
}

/// A file or folder that could not be written, in Chinese and English.
fn unwritable(path: &std::path::Path, e: &std::io::Error) -> String {
    let zh = match e.kind() {
        std::io::ErrorKind::NotFound => "所在文件夹不存在",
        std::io::ErrorKind::PermissionDenied => "没有写入权限",
        std::io::ErrorKind::AlreadyExists => "已存在",
        _ => "写入失败",
    };
    format!("无法写入 {}：{zh} / cannot write {}: {e}", path.display(), path.display())
}

fn read_json<T: serde::de::DeserializeOwned>(file: &PathBuf) -> Result<T, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::new(exit::NOT_FOUND, unreadable(&file, &e), "give the path of a JSON file"))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::new(
            exit::REFUSED,
            format!("{} 不是有效的 JSON：{e} / {}: {e}", file.display(), file.display()),
            "fix the JSON at the line named",
        )
    })
}

/// One tab-separated row of human output, each cell escaped on its own (a tab or
/// newline inside a cell cannot make a column or a line).
fn row(cells: &[&dyn std::fmt::Display]) {
    let cells: Vec<String> = cells.iter().map(|c| shenbao::text::display(&c.to_string()).into_owned()).collect();
    emit(&cells.join("\t"), true);
}

/// Write `text` (and a newline) to standard output. A reader that went away (`shenbao
/// app list | head`) ends the program quietly (exit 0), as Unix tools do, instead
/// of a panic; any other failure to write is exit 5.
fn emit(text: &str, newline: bool) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let written = o.write_all(text.as_bytes()).and_then(|()| if newline { o.write_all(b"\n") } else { Ok(()) });
    match written.and_then(|()| o.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("shenbao: writing the output failed: {e}");
            std::process::exit(i32::from(exit::STORAGE));
        }
    }
}

/// `v` as pretty JSON. serde_json escapes C0 controls; DEL, C1 controls and the
/// bidirectional controls it writes as they are, so they are escaped here too
/// (`\uXXXX`, still the same JSON: they occur only inside strings).
fn print_json<T: serde::Serialize>(v: &T) {
    let text = serde_json::to_string_pretty(v).expect("serialisable");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if shenbao::text::is_unsafe(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    emit(&out, true);
}

fn open(db: &PathBuf, now: Option<shenbao::Timestamp>) -> Result<Kernel, Failure> {
    let mut config = shenbao::KernelConfig::default();
    if let Some(t) = now {
        config.clock = std::sync::Arc::new(shenbao::ManualClock::new(t));
    }
    let k = Kernel::open_with(db, config).map_err(|e| match e {
        InstallError::Store(StoreError::InUse) => Failure::new(
            exit::CONFLICT,
            format!("[database_in_use] {} is in use by another process (a running `shenbao serve`?)", db.display()),
            "stop it, or do this through its HTTP API (e.g. POST /v1/admin/backup, POST /v1/users/{id}/tokens)",
        ),
        InstallError::Store(e @ StoreError::Upgrade { .. }) => {
            let f = Failure::from(InstallError::Store(e));
            Failure::new(
                f.0,
                f.1,
                format!(
                    "free disk space about twice the size of {} (its folder), then run the command again; the \
                     file is unchanged",
                    db.display()
                ),
            )
        }
        other => {
            let f = Failure::from(other);
            Failure::new(f.0, f.1, format!("check that {} is a Shenbao database you may write", db.display()))
        }
    })?;
    if let Some(u) = k.upgrade() {
        say_upgraded(db, u);
    }
    Ok(k)
}

/// Tell the administrator (stderr) that opening `db` upgraded it.
fn say_upgraded(db: &std::path::Path, u: shenbao::Upgrade) {
    esay!(
        "shenbao: 数据库 {} 已从第 {} 版升级到第 {} 版，旧版 shenbao 不能再打开它 / upgraded the database {} from \
         schema version {} to {}; older versions of shenbao no longer open it",
        db.display(),
        u.from,
        u.to,
        db.display(),
        u.from,
        u.to
    );
    if !u.compacted {
        esay!(
            "shenbao: 升级后压缩数据库文件失败（磁盘空间不足？），文件有效但较大 / compacting the file after the upgrade \
             failed (disk full?): it is valid, only larger"
        );
    }
}

/// glibc gives each thread its own malloc arena and keeps what a thread freed in it:
/// a server whose blocking pool ran three 100k-row exports on three threads held
/// ~250 MiB of freed memory afterwards (issue 19: peak RSS 304 MiB). Two arenas — one
/// per core of the machines we measure on — bound that; one arena (session 13's
/// choice) made every thread wait for the same lock: side by side in session 15's load
/// runs, one arena served 852–888 requests/s against 983–1 307 with two, and a summary
/// export read on two threads took longer than on one. An operator's
/// `MALLOC_ARENA_MAX` wins; an embedder of the library chooses its own allocator
/// settings. (mimalloc, tried instead, held more: 490 MiB.)
fn bound_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of glibc's allocator; called
    // first thing in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// A command line clap refuses, said in Chinese before clap's own English (which
/// names the argument and shows the usage): exit 2. Help and the version print as
/// clap prints them.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ErrorKind};
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let named = |kind| e.get(kind).map(|v| format!("“{v}”")).unwrap_or_default();
    let arg = named(ContextKind::InvalidArg);
    let what = match e.kind() {
        ErrorKind::InvalidSubcommand => format!("没有子命令{}", named(ContextKind::InvalidSubcommand)),
        ErrorKind::UnknownArgument => format!("不认识的参数{arg}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!("参数{arg}的取值{}无效", named(ContextKind::InvalidValue))
        }
        ErrorKind::MissingRequiredArgument => format!("缺少必需的参数{arg}"),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => "缺少子命令".into(),
        ErrorKind::ArgumentConflict => format!("参数{arg}与其他参数冲突"),
        ErrorKind::TooManyValues | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("参数{arg}的取值个数不对")
        }
        ErrorKind::NoEquals => format!("参数{arg}需要用 = 给出取值"),
        ErrorKind::InvalidUtf8 => "参数不是合法的 UTF-8 文本".into(),
        _ => "命令行有误".into(),
    };
    esay!("shenbao：用法错误：{what}；运行 shenbao --help（或在子命令后加 --help）查看用法 / usage error:");
    let _ = e.print();
    ExitCode::from(2)
}

fn main() -> ExitCode {
    bound_malloc_arenas();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, cause, todo)) => {
            let cause = cause.replace('\n', " ");
            esay!("shenbao: {cause} — {todo}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> Res {
    let json = cli.json;
    let db = cli.db.clone().unwrap_or_else(|| PathBuf::from("shenbao.redb"));
    match cli.command {
        Command::Demo(args) => demo::run(args, cli.db, json),
        Command::Plugin(PluginCommand::Test(args)) => runner::run(args, json),
        Command::Plugin(PluginCommand::New(args)) => scaffold::run(&args, json)
            .map_err(|e| Failure::new(exit::REFUSED, e, "nothing was written; fix what is named and run it again")),
        Command::Restore { backup } => {
            let r = Kernel::restore(&backup, &db)?;
            if let Some(u) = r.upgrade {
                say_upgraded(&db, u);
            }
            if json {
                print_json(&r);
            } else {
                say!(
                    "restored {} → {} ({} records, {} decisions, {} attachment files, chain head {})",
                    backup.display(),
                    r.path,
                    r.records,
                    r.decisions,
                    r.blobs,
                    r.chain_head
                );
            }
            Ok(())
        }
        Command::Serve { listen, backup_dir, max_connections_per_client, insecure_cookies } => {
            let kernel = std::sync::Arc::new(open(&db, cli.now)?);
            // Load the plugin of every open round now, so no applicant's first
            // submission waits for it.
            for round in kernel.rounds()?.iter().filter(|r| r.status == shenbao::RoundStatus::Open) {
                match kernel.plugin_by_sha(&round.plugin.sha256) {
                    Ok(p) => esay!(
                        "shenbao: round {} — plugin {}@{} loaded ({:?})",
                        round.spec.id,
                        round.plugin.program,
                        round.plugin.version,
                        p.cache_outcome()
                    ),
                    Err(e) => esay!("shenbao: round {} — plugin not loaded: {e}", round.spec.id),
                }
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::new(exit::STORAGE, e, "check the machine's resources"))?;
            let backup_dir = backup_dir
                .unwrap_or_else(|| db.parent().map_or_else(|| PathBuf::from("backups"), |p| p.join("backups")));
            let config = shenbao::http::ApiConfig {
                backup_dir: Some(backup_dir),
                max_connections_per_client,
                secure_cookies: !insecure_cookies,
                ..Default::default()
            };
            rt.block_on(shenbao::http::serve(kernel, &listen, config)).map_err(|e| {
                Failure::new(exit::CONFLICT, format!("{listen}: {e}"), "choose a free address with --listen")
            })
        }
        command => {
            let k = open(&db, cli.now)?;
            run_on(&k, command, json)
        }
    }
}

fn run_on(k: &Kernel, command: Command, json: bool) -> Res {
    match command {
        Command::Demo(_) | Command::Restore { .. } | Command::Serve { .. } => unreachable!("handled before opening"),
        Command::Plugin(p) => plugin(k, p, json),
        Command::Round(r) => round(k, r, json),
        Command::Import(i) => import(k, i, json),
        Command::Calendar(c) => calendar(k, c, json),
        Command::User(u) => user(k, u, json),
        Command::App(a) => app(k, a, json),
        Command::Review(r) => review(k, r, json),
        Command::CleanBlobs { older_than_hours } => {
            let (n, bytes) = k.remove_unreferenced_blobs(std::time::Duration::from_secs(older_than_hours * 3600))?;
            if json {
                print_json(&serde_json::json!({ "removed": n, "bytes": bytes }));
            } else {
                say!("removed {n} unreferenced attachment file(s), {bytes} bytes");
            }
            Ok(())
        }
        Command::Queue { user, round, view, stage, after, limit } => {
            // A page goes on from the place the last page ended (its cursor), even when
            // that application has moved on since.
            let usage = |message: String| Failure::new(exit::REFUSED, message, "fix what is named and try again");
            let after = match after {
                None => None,
                Some(c) => Some(shenbao::QueueItem::from_cursor(&c).ok_or_else(|| {
                    usage(format!(
                        "--after {:?} 不是列表给出的续页位置 / is not a cursor a list printed (stage|city|district|application)",
                        c.chars().take(100).collect::<String>()
                    ))
                })?),
            };
            if let Some(s) = &stage {
                if !k.round(&round)?.graph.stages.iter().any(|x| x.id == *s) {
                    return Err(usage(format!(
                        "环节 {s:?} 不属于轮次 {round:?} / stage {s:?} is not a stage of round {round:?}"
                    )));
                }
            }
            let query = shenbao::QueueQuery { view, stage, after, limit };
            let items = k.queue_page(&user, &round, &query)?;
            if json {
                print_json(&items);
            } else {
                // What the console's queue shows: the applicant, the project, the due
                // date (逾期 / overdue past it).
                for q in &items {
                    let due = match (q.due, q.overdue) {
                        (Some(d), true) => format!("{d} 逾期/overdue"),
                        (Some(d), false) => d.to_string(),
                        (None, true) => "逾期/overdue".into(),
                        (None, false) => String::new(),
                    };
                    row(&[
                        &q.application,
                        &q.stage,
                        &q.city,
                        &q.district,
                        &q.applicant_name.as_deref().unwrap_or(""),
                        &q.project_name.as_deref().unwrap_or(""),
                        &due,
                    ]);
                }
                match view {
                    shenbao::QueueView::Pending => esay!("{} waiting for {user}", items.len()),
                    _ => esay!("{} in {user}'s {} list", items.len(), view_name(view)),
                }
                if let Some(last) = items.last().filter(|_| items.len() == limit) {
                    esay!("next page: --after '{}'", last.cursor());
                }
            }
            Ok(())
        }
        Command::Export(e) => export(k, e, json),
        Command::Audit(AuditCommand::Verify) => {
            let chain = k.verify_chain()?;
            let problems = k.verify_indexes()?;
            if json {
                print_json(&serde_json::json!({ "chain": chain, "index_problems": problems }));
            }
            match (chain.first_broken, problems.is_empty()) {
                (None, true) => {
                    if !json {
                        say!("ok: {} decisions chained, head {}; indexes consistent", chain.length, chain.head);
                    }
                    Ok(())
                }
                (broken, _) => Err(Failure::new(
                    exit::VERIFY_FAILED,
                    match broken {
                        Some(i) => format!(
                            "决定链在第 {i} 号决定处断开 / the decision chain breaks at decision #{i}; index problems: {}",
                            problems.join("; ")
                        ),
                        None => format!(
                            "决定链完好，索引有误 / the chain verifies, the indexes do not: {}",
                            problems.join("; ")
                        ),
                    },
                    "restore the last good backup (`shenbao restore`)",
                )),
            }
        }
        Command::Replay { application } => {
            k.application(&application)?;
            let mut all_identical = true;
            let mut reports = Vec::new();
            for d in k.decisions_of(&application)?.into_iter().filter(|d| d.check.is_some()) {
                let r = k.replay(d.index)?;
                all_identical &= r.identical;
                if !json {
                    say!(
                        "decision #{} ({}): {} — {} findings, fuel {}",
                        r.decision,
                        d.action,
                        if r.identical { "identical" } else { "DIFFERENT" },
                        r.replayed.len(),
                        r.fuel_replayed
                    );
                }
                reports.push(r);
            }
            if json {
                print_json(&reports);
            }
            if reports.is_empty() {
                return Err(Failure::new(
                    exit::NOT_FOUND,
                    format!("{application} has no recorded check"),
                    "submit it first",
                ));
            }
            if all_identical {
                Ok(())
            } else {
                Err(Failure::new(exit::VERIFY_FAILED, "a replayed check differs from its record", "verify the plugin"))
            }
        }
        Command::Backup { dest } => {
            let r = k.backup(&dest)?;
            if json {
                print_json(&r);
            } else {
                say!(
                    "backup {}: {} records, {} decisions, {} attachment files, chain head {}",
                    r.path,
                    r.records,
                    r.decisions,
                    r.blobs,
                    r.chain_head
                );
            }
            Ok(())
        }
    }
}

fn plugin(k: &Kernel, p: PluginCommand, json: bool) -> Res {
    match p {
        PluginCommand::Install { file } => {
            let bytes = std::fs::read(&file).map_err(|e| {
                Failure::new(exit::NOT_FOUND, crate::unreadable(&file, &e), "give the path of a built .wasm component")
            })?;
            let i = k.install_plugin(&bytes)?;
            let m = &i.record.manifest;
            let what = if i.newly_installed { "installed" } else { "already installed" };
            // Installed, but a form standard renderers show badly: say where and what to do.
            let form_warnings = &i.form_warnings;
            if json {
                // The plugin's id with what the install found (the warnings are data here,
                // not lines on standard error).
                #[derive(serde::Serialize)]
                struct Installed<'a> {
                    #[serde(flatten)]
                    id: &'a shenbao::PluginId,
                    newly_installed: bool,
                    form_warnings: &'a [String],
                }
                print_json(&Installed { id: &i.record.id, newly_installed: i.newly_installed, form_warnings });
                return Ok(());
            } else {
                say!(
                    "{what} {} — {} ({} forms, {} directions, {} rules, WIT {})",
                    i.record.id,
                    m.name.zh,
                    m.forms.len(),
                    m.directions.len(),
                    m.rules.len(),
                    i.record.id.wit
                );
            }
            for p in form_warnings {
                esay!("warning: form {p}");
            }
        }
        PluginCommand::List => {
            let list = k.plugins()?;
            if json {
                print_json(&list.iter().map(|r| &r.id).collect::<Vec<_>>());
            } else {
                for r in list {
                    row(&[
                        &r.id.program,
                        &r.id.version,
                        &r.id.sha256,
                        &format!("WIT {}", r.id.wit),
                        &r.manifest.name.zh,
                    ]);
                }
            }
        }
        PluginCommand::Test(_) | PluginCommand::New(_) => unreachable!("runs without a database"),
        PluginCommand::Show { program, version, record } => {
            let r = k.plugin_record(&program, &version)?;
            if record { print_json(&r) } else { print_json(&r.manifest) }
        }
        PluginCommand::Verify { program, version } => {
            let v = k.verify_plugin(&program, &version)?;
            if !(v.bytes_intact && v.manifest_matches) {
                return Err(Failure::new(
                    exit::VERIFY_FAILED,
                    format!(
                        "{}: bytes intact = {}, manifest reproduced = {}",
                        v.id, v.bytes_intact, v.manifest_matches
                    ),
                    "restore the database from a backup and reinstall the plugin",
                ));
            }
            say!("ok {}: bytes intact, manifest reproduced", v.id);
        }
    }
    Ok(())
}

fn round(k: &Kernel, r: RoundCommand, json: bool) -> Res {
    let show = |r: &shenbao::Round| {
        if json {
            print_json(r);
        } else {
            row(&[
                &r.spec.id,
                &format!("{:?}", r.status),
                &format!("{}@{} ({})", r.plugin.program, r.plugin.version, &r.plugin.sha256[..12]),
                &format!("edition {}", r.edition),
                &format!("{} stages", r.graph.stages.len()),
                &format!("{} directions", r.directions.len()),
            ]);
        }
    };
    match r {
        RoundCommand::Create { file } => show(&k.create_round(read_json::<RoundSpec>(&file)?)?),
        RoundCommand::Configure { file } => show(&k.configure_round(read_json::<RoundSpec>(&file)?)?),
        RoundCommand::Open { id } => show(&k.open_round(&id)?),
        RoundCommand::Close { id, force: false } => show(&k.close_round(&id)?),
        RoundCommand::Close { id, force: true } => show(&k.force_close_round(&id)?),
        RoundCommand::List => {
            for r in k.rounds()? {
                show(&r);
            }
        }
        RoundCommand::Show { id } => {
            let r = k.round(&id)?;
            show(&r);
            if !json {
                say!("stages: {}", r.graph.stages.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(" → "));
                let groups: std::collections::HashMap<String, String> = k
                    .regions()?
                    .into_iter()
                    .filter_map(|region| region.group.clone().map(|g| (region.id, g)))
                    .collect();
                for (q, scope, used) in k.quota_usage(&id)? {
                    let limit =
                        r.quotas.iter().find(|x| x.id == q).and_then(|x| shenbao::quota_limit_of(x, &scope, &groups));
                    say!("quota {q} {scope}: {used}/{}", limit.map_or("不限 / unlimited".into(), |l| l.to_string()));
                }
            }
        }
    }
    Ok(())
}

fn import(k: &Kernel, i: ImportCommand, json: bool) -> Res {
    let (what, n) = match i {
        ImportCommand::Regions { file } => ("regions", k.import_regions_file(&file)?),
        ImportCommand::Orgs { file } => ("organisations", k.import_orgs_file(&file)?),
        ImportCommand::Users { file } => ("users", k.import_users_file(&file)?),
        ImportCommand::Round { file } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| Failure::new(exit::NOT_FOUND, unreadable(&file, &e), "give an export file"))?;
            let r = k.import_round(std::io::BufReader::new(f))?;
            if json {
                print_json(&r);
            } else {
                say!(
                    "imported round {}: {} applications, {} decisions (chained here, origins kept), {} organisations added",
                    r.round,
                    r.applications,
                    r.decisions,
                    r.organisations_added
                );
            }
            return Ok(());
        }
        ImportCommand::Credit { file, mark_dishonest } => {
            let rows = k.credit_lookup_file(&file, mark_dishonest)?;
            if json {
                print_json(&rows);
            } else {
                row(&[&"行", &"统一社会信用代码", &"有效", &"已登记单位", &"名称一致", &"失信"]);
                for r in &rows {
                    let b = |v: Option<bool>| v.map_or("-", |b| if b { "是" } else { "否" });
                    row(&[
                        &r.row,
                        &r.credit_code,
                        &if r.valid { "是" } else { "否" },
                        &r.registered_name.as_deref().unwrap_or("-"),
                        &b(r.name_matches),
                        &format!("{}{}", b(r.dishonest), if r.marked { "（本次标记）" } else { "" }),
                    ]);
                }
            }
            return Ok(());
        }
    };
    if json {
        print_json(&serde_json::json!({ "imported": n, "what": what }));
    } else {
        say!("imported {n} {what}");
    }
    Ok(())
}

fn calendar(k: &Kernel, c: CalendarCommand, json: bool) -> Res {
    match c {
        CalendarCommand::Set { year, holidays, makeup } => {
            let parse = |v: &[String]| -> Result<std::collections::BTreeSet<shenbao::contract::Date>, Failure> {
                v.iter()
                    .map(|d| {
                        d.parse().map_err(|_| {
                            Failure::new(exit::REFUSED, format!("{d:?} is not a date"), "write dates as YYYY-MM-DD")
                        })
                    })
                    .collect()
            };
            let cal = shenbao::Calendar {
                holidays: parse(&holidays)?,
                makeup_workdays: parse(&makeup)?,
                ..Default::default()
            };
            k.set_calendar(year, &cal)?;
            say!(
                "calendar {year}: {} holidays, {} make-up working days",
                cal.holidays.len(),
                cal.makeup_workdays.len()
            );
        }
        CalendarCommand::Show { year } => {
            let cal = k.calendar(year)?;
            if json {
                print_json(&cal);
            } else {
                let j = |s: &std::collections::BTreeSet<shenbao::contract::Date>| {
                    s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
                };
                if cal.holidays.is_empty() && cal.makeup_workdays.is_empty() {
                    say!(
                        "{year} 年未设置节假日和调休：仅周末不上班 / no holidays or make-up days set for {year}: \
                         only weekends are off (set them with `shenbao calendar set {year}`)"
                    );
                } else {
                    say!("节假日 / holidays: {}", j(&cal.holidays));
                    say!("调休上班日 / make-up working days: {}", j(&cal.makeup_workdays));
                }
            }
        }
    }
    Ok(())
}

fn user(k: &Kernel, u: UserCommand, json: bool) -> Res {
    match u {
        UserCommand::List => {
            let users = k.users()?;
            if json {
                print_json(&users);
            } else {
                for u in users {
                    let grants: Vec<String> = u.grants.iter().map(|g| format!("{}@{}", g.role, g.scope)).collect();
                    row(&[&u.id, &u.name, &grants.join(", ")]);
                }
            }
        }
        UserCommand::Token(TokenCommand::Issue { user, label }) => {
            let t = k.issue_token(&user, &label)?;
            if json {
                print_json(&t);
            } else {
                say!("token {} for {user} (shown once; send as `Authorization: Bearer …`):", t.info.id);
                say!("{}", t.secret);
            }
        }
        UserCommand::Password { user } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| {
                Failure::new(exit::REFUSED, format!("reading the password: {e}"), "give it on standard input")
            })?;
            k.set_password(&user, line.trim_end_matches(['\r', '\n']))?;
            say!("password set for {user}; the user's sessions ended");
        }
        UserCommand::SignInCode { user } => {
            let code = k.issue_sign_in_code(&user)?;
            if json {
                print_json(&serde_json::json!({ "user": user, "code": code }));
            } else {
                say!(
                    "one-time sign-in code for {user} (shown once, valid 72 h; give it to the person by another channel):"
                );
                say!("{code}");
            }
        }
        UserCommand::Token(TokenCommand::Revoke { id }) => {
            let t = k.revoke_token(&id)?;
            say!("revoked {} of {}", t.id, t.user);
        }
        UserCommand::Token(TokenCommand::List { user }) => {
            let list = k.tokens(user.as_deref())?;
            if json {
                print_json(&list);
            } else {
                for t in list {
                    row(&[&t.id, &t.user, &t.label, &if t.revoked_at.is_some() { "revoked" } else { "active" }]);
                }
            }
        }
    }
    Ok(())
}

fn receipt(r: &shenbao::Receipt, json: bool) {
    if json {
        print_json(
            &serde_json::json!({ "decision": r.decision, "application": r.application, "replayed": r.replayed }),
        );
    } else {
        say!(
            "{} #{} {}: {} → {}{}",
            r.application.id,
            r.decision.index,
            r.decision.action,
            r.decision.from,
            r.decision.to,
            if r.replayed { " (repeated key: first result)" } else { "" }
        );
        if let Some(c) = &r.check {
            for f in c.findings() {
                say!("  {:?} {} {} — {}", f.severity, f.rule_id, f.path, f.message.zh);
            }
        }
    }
}

fn app(k: &Kernel, a: AppCommand, json: bool) -> Res {
    match a {
        AppCommand::Draft { user, round, app, file } => {
            let draft: Draft = read_json(&file)?;
            receipt(&k.save_draft(&user, &round, app.as_deref(), draft)?, json);
        }
        AppCommand::Submit { application, act } => {
            let req = act.request("submit");
            let r = match &act.key {
                Some(key) => k.act_idempotent(&act.user, &application, &req, key)?,
                None => k.act(&act.user, &application, &req)?,
            };
            receipt(&r, json);
        }
        AppCommand::Attach { user, file } => {
            let f = std::fs::File::open(&file)
                .map_err(|e| Failure::new(exit::NOT_FOUND, unreadable(&file, &e), "give a readable file"))?;
            // The same limit and refusals as the HTTP upload; each kind its exit code.
            let b = k.store_blob(&user, f, Some(shenbao::http::ApiConfig::default().max_upload))?;
            if json {
                print_json(&b);
            } else {
                row(&[&b.sha256, &b.size]);
            }
        }
        AppCommand::Show { application } => print_json(&k.application(&application)?),
        AppCommand::History { application } => {
            k.application(&application)?;
            let ds = k.decisions_of(&application)?;
            if json {
                print_json(&ds);
            } else {
                row(&[&"#", &"时间", &"办理人", &"角色", &"操作", &"环节", &"意见"]);
                for d in ds {
                    row(&[
                        &d.index,
                        &d.at,
                        &d.actor.user,
                        &d.actor.role,
                        &d.action,
                        &format!("{} → {}", d.from, d.to),
                        &d.opinion.clone().unwrap_or_default(),
                    ]);
                    // What the submission check found, as recorded with the decision.
                    if let Some(c) = &d.check {
                        for f in c.findings.iter().chain(&c.kernel_findings) {
                            say!("  {:?} {} {} — {}", f.severity, f.rule_id, f.path, f.message.zh);
                        }
                        for s in &c.signals {
                            say!("  signal {} ({}) — {}", s.id, s.weight, s.message.zh);
                        }
                    }
                }
            }
        }
        AppCommand::List { round } => {
            k.round(&round)?;
            let apps = k.applications_in(&round)?;
            if json {
                print_json(&apps);
            } else {
                for a in apps {
                    row(&[
                        &a.id,
                        &a.applicant,
                        &a.direction.unwrap_or_default(),
                        &a.state.stage,
                        &format!("{:?}", a.state.outcome),
                    ]);
                }
            }
        }
    }
    Ok(())
}

fn review(k: &Kernel, r: ReviewCommand, json: bool) -> Res {
    match r {
        ReviewCommand::Act { application, action, act } => {
            let req = act.request(&action);
            let r = match &act.key {
                Some(key) => k.act_idempotent(&act.user, &application, &req, key)?,
                None => k.act(&act.user, &application, &req)?,
            };
            receipt(&r, json);
        }
        ReviewCommand::Batch { action, applications, act } => {
            let req = act.request(&action);
            let ids: Vec<&str> = applications.iter().map(String::as_str).collect();
            let rs = match &act.key {
                Some(key) => k.act_batch_idempotent(&act.user, &ids, &req, key),
                None => k.act_batch(&act.user, &ids, &req),
            }
            .map_err(|b| {
                let f: Failure = b.error.into();
                // A failure before any item (an unknown user) names no item.
                let at = if b.application.is_empty() {
                    String::new()
                } else {
                    format!(" (batch item {} of the list, {})", b.position + 1, b.application)
                };
                Failure::new(f.0, format!("{}{at}", f.1), f.2)
            })?;
            for r in &rs {
                receipt(r, json);
            }
        }
        ReviewCommand::Actions { application, user } => {
            let options = k.actions_for(&user, &application)?;
            if json {
                print_json(&options);
            } else {
                for x in &options.available {
                    let needs = if x.needs.is_empty() { "-".to_string() } else { x.needs.join(",") };
                    let check = if x.runs_check { " (runs the submission check)" } else { "" };
                    row(&[&x.id, &x.title.zh, &format!("needs: {needs}{check}")]);
                }
                for x in &options.refused {
                    row(&[&x.id, &x.title.zh, &format!("refused [{}]: {}", x.code, x.message)]);
                }
                esay!("{} action(s) for {user} at {}", options.available.len(), options.stage);
            }
        }
    }
    Ok(())
}

/// A summary sink that counts what passes through it.
struct Counted<S> {
    inner: S,
    rows: usize,
    sections: usize,
}

impl<S: shenbao::SummarySink> shenbao::SummarySink for Counted<S> {
    type Error = S::Error;

    fn head(&mut self, head: &shenbao::SummaryHead) -> Result<(), S::Error> {
        self.inner.head(head)
    }

    fn section(&mut self, section: &shenbao::SummarySection) -> Result<(), S::Error> {
        self.sections += 1;
        self.inner.section(section)
    }

    fn row(&mut self, row: shenbao::SummaryRow) -> Result<(), S::Error> {
        self.rows += 1;
        self.inner.row(row)
    }
}

/// The summary streamed into `sink`, counted.
fn counted<S: shenbao::SummarySink>(
    k: &Kernel,
    round: &str,
    level: shenbao::SummaryLevel,
    scope: Option<&str>,
    sink: S,
) -> Result<Counted<S>, Failure>
where
    S::Error: std::fmt::Display,
{
    let mut c = Counted { inner: sink, rows: 0, sections: 0 };
    k.summary_to(round, level, scope, &mut c).map_err(|e| match e {
        shenbao::SummaryError::Read(e) => Failure::from(e),
        shenbao::SummaryError::Write(e) => store(e),
    })?;
    Ok(c)
}

fn export(k: &Kernel, e: ExportCommand, json: bool) -> Res {
    match e {
        ExportCommand::Summary { round, level, scope, format, out } => {
            // The rows stream into the format's writer: the table is never built.
            let sc = scope.as_deref();
            let (bytes, rows, sections) = match format.as_str() {
                "xlsx" => {
                    let c = counted(k, &round, level, sc, shenbao::io::SummaryXlsx::new().map_err(store)?)?;
                    (c.inner.finish().map_err(store)?, c.rows, c.sections)
                }
                "csv" => {
                    let c = counted(k, &round, level, sc, shenbao::io::SummaryCsv::new())?;
                    (c.inner.finish().map_err(store)?, c.rows, c.sections)
                }
                "json" => {
                    let c = counted(k, &round, level, sc, shenbao::SummaryJson::default())?;
                    (c.inner.finish(), c.rows, c.sections)
                }
                other => {
                    return Err(Failure::new(
                        exit::USAGE,
                        format!("format {other:?}"),
                        "use --format xlsx, csv or json",
                    ));
                }
            };
            let out =
                out.unwrap_or_else(|| PathBuf::from(format!("{}.{format}", level.file_stem(&round, scope.as_deref()))));
            // `--out -`: the table on standard output (nothing else is printed there).
            if out.as_os_str() == "-" {
                use std::io::Write;
                let mut o = std::io::stdout().lock();
                // JSON ends its line on a terminal like every other output (CSV rows end
                // theirs; XLSX is bytes).
                let newline: &[u8] = if format == "json" && !bytes.ends_with(b"\n") { b"\n" } else { b"" };
                return match o.write_all(&bytes).and_then(|()| o.write_all(newline)).and_then(|()| o.flush()) {
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(store(e)),
                    _ => Ok(()),
                };
            }
            std::fs::write(&out, bytes)
                .map_err(|e| Failure::new(exit::STORAGE, unwritable(&out, &e), "choose a writable path"))?;
            if json {
                print_json(&serde_json::json!({ "path": out, "rows": rows }));
            } else {
                let plural = |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
                say!(
                    "{}：{rows} 行，{sections} 节 / {rows} {} in {sections} {}",
                    out.display(),
                    plural(rows, "row", "rows"),
                    plural(sections, "section", "sections")
                );
            }
        }
        ExportCommand::Round { id, out } => {
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{id}.jsonl")));
            if out.as_os_str() == "-" {
                let n = k.export_round(&id, std::io::BufWriter::new(std::io::stdout().lock()))?;
                esay!("{n} lines");
                return Ok(());
            }
            // Written beside the target and renamed when whole: a failed export (an
            // unknown round, a full disk) leaves no file behind.
            let partial = out.with_extension("jsonl.partial");
            let f = std::fs::File::create(&partial)
                .map_err(|e| Failure::new(exit::STORAGE, unwritable(&out, &e), "choose a writable path"))?;
            let n = match k.export_round(&id, std::io::BufWriter::new(f)) {
                Ok(n) => n,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e.into());
                }
            };
            std::fs::rename(&partial, &out)
                .map_err(|e| Failure::new(exit::STORAGE, unwritable(&out, &e), "choose a writable path"))?;
            say!("{}: {n} lines", out.display());
        }
    }
    Ok(())
}

/// `--view`: a list by its API name.
fn parse_view(s: &str) -> Result<shenbao::QueueView, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("{s:?}: one of pending, recommended, returned, not-recommended"))
}

/// A list's API name (what `--view` takes).
fn view_name(view: shenbao::QueueView) -> String {
    serde_json::to_value(view).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
