//! `shenbao demo`: a whole round of each of the three programs, end to end, on a
//! fresh embedded database — through the same library calls an integrator makes.
//!
//! Data: `examples/demo/{regions,orgs,users}.csv` (imported as an administrator
//! would), each program's `examples/<program>/round.json` (the round) and its example
//! cases (the form data and attachments the applicants submit). The clock is the
//! kernel's injectable one, set inside each round's windows.

use crate::{Failure, exit};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::Value;
use shenbao::contract::{Attachment, Date, Outcome, QuotaGroup, Severity};
use shenbao::{
    ActError, ActionRequest, Application, CaseSet, Draft, Kernel, KernelConfig, ManualClock, Organisation, Payload,
    Refusal, SummaryLevel, Timestamp,
};
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Folder with the built plugin components (eco_partners.wasm, enabling_resources.wasm, iiot_pilots.wasm).
    #[arg(long, env = "SHENBAO_PLUGINS", default_value = "target/plugins/wasm32-wasip2/plugin")]
    plugins: PathBuf,
    /// The examples folder: `demo/` (regions, organisations, users) and one folder per program.
    #[arg(long, default_value = "examples")]
    examples: PathBuf,
    /// Folder for the database and the exported tables (default: a fresh temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// The programs, in the order their rounds ran (the clock only moves forward).
const PROGRAMS: &[(&str, &str)] = &[
    ("iiot-pilots", "iiot_pilots.wasm"),
    ("eco-partners", "eco_partners.wasm"),
    ("enabling-resources", "enabling_resources.wasm"),
];

/// How many organisations of each city apply, per program. Huizhou's ten pilot
/// projects are more than a Pearl River Delta city may recommend (8).
fn applicants_per_city(program: &str) -> &'static [(&'static str, usize)] {
    match program {
        "iiot-pilots" => &[("huizhou", 10), ("guangzhou", 2), ("shenzhen", 2), ("meizhou", 2)],
        "eco-partners" => &[("huizhou", 6), ("guangzhou", 3), ("shenzhen", 2), ("meizhou", 1)],
        _ => &[("huizhou", 5), ("shenzhen", 2)],
    }
}

#[derive(Serialize, Default)]
pub struct Refused {
    pub case: String,
    pub application: String,
    pub rules: Vec<String>,
}

#[derive(Serialize)]
pub struct QuotaHit {
    pub quota: String,
    pub scope: String,
    pub used: u32,
    pub limit: u32,
    /// What was refused: a batch of n, or one application.
    pub refused: String,
}

#[derive(Serialize)]
pub struct CityLine {
    pub city: String,
    pub recommended: usize,
    pub limit: Option<u32>,
}

#[derive(Serialize)]
pub struct ExportLine {
    pub path: String,
    pub rows: usize,
}

#[derive(Serialize)]
pub struct ProgramReport {
    pub program: String,
    pub name: String,
    pub round: String,
    pub plugin_sha256: String,
    pub submitted: usize,
    pub refused: Vec<Refused>,
    pub quota_hits: Vec<QuotaHit>,
    pub recommended_by_city: Vec<CityLine>,
    /// Final stage → number of applications.
    pub outcomes: BTreeMap<String, usize>,
    /// Stage id → its Chinese title (for the printed report).
    #[serde(skip)]
    pub stage_titles: BTreeMap<String, String>,
    /// What happened, in order (withdraw, return and resubmit, objection …).
    pub events: Vec<String>,
    pub exports: Vec<ExportLine>,
    pub replay_identical: bool,
}

#[derive(Serialize)]
pub struct DemoReport {
    pub database: String,
    pub exports: String,
    pub programs: Vec<ProgramReport>,
    pub decisions: u64,
    pub chain_verified: bool,
    pub chain_head: String,
    pub indexes_consistent: bool,
}

fn fail(e: impl std::fmt::Display, todo: &str) -> Failure {
    Failure::new(exit::REFUSED, e, todo)
}

pub fn run(args: DemoArgs, db: Option<PathBuf>, json: bool) -> Result<(), Failure> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        std::env::temp_dir().join(format!("shenbao-demo-{stamp}-{}", std::process::id()))
    });
    let db = db.unwrap_or_else(|| dir.join("shenbao.redb"));
    if db.exists() {
        return Err(Failure::new(
            exit::CONFLICT,
            format!("{} already exists", db.display()),
            "the demo runs on a fresh database: give a new --db or --dir",
        ));
    }
    let exports = dir.join("exports");
    std::fs::create_dir_all(&exports)
        .map_err(|e| Failure::new(exit::STORAGE, crate::unwritable(&exports, &e), "choose a writable --dir"))?;
    if let Some(parent) = db.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if !json {
        say!("申报演示 / Shenbao demo — 数据库 / database {}", db.display());
        crate::emit("", true);
    }
    let clock = ManualClock::new(Timestamp::at(Date::new(2023, 11, 1), 9, 0));
    let kernel = Kernel::open_with(&db, KernelConfig { clock: Arc::new(clock.clone()), ..Default::default() })
        .map_err(|e| Failure::new(exit::STORAGE, e, "check the folder is writable"))?;
    let k = &kernel;

    // Reference data, imported as an administrator would.
    let data = args.examples.join("demo");
    let n_regions = k.import_regions_file(&data.join("regions.csv"))?;
    let n_orgs = k.import_orgs_file(&data.join("orgs.csv"))?;
    let n_users = k.import_users_file(&data.join("users.csv"))?;
    if !json {
        say!(
            "已从 {} 导入 {n_regions} 个地区、{n_orgs} 个单位、{n_users} 个用户 / imported {n_regions} regions, {n_orgs} organisations, {n_users} users",
            data.display()
        );
        crate::emit("", true);
    }
    let orgs = k.orgs()?;
    let applicants = applicant_users(k)?;

    let mut programs = Vec::new();
    for (program, file) in PROGRAMS {
        let wasm = args.plugins.join(file);
        let bytes = std::fs::read(&wasm).map_err(|e| {
            Failure::new(
                exit::NOT_FOUND,
                crate::unreadable(&wasm, &e),
                "build the plugins first (`cargo xtask plugins`, or run `cargo xtask demo`), or give --plugins",
            )
        })?;
        let installed = k.install_plugin(&bytes)?;
        let report = Demo {
            k,
            clock: &clock,
            orgs: &orgs,
            applicants: &applicants,
            json,
            exports: &exports,
            events: Vec::new(),
        }
        .program(program, &args.examples.join(program), installed.record.manifest.name.zh.clone())?;
        if !json {
            print_program(&report);
        }
        programs.push(report);
    }

    let chain = k.verify_chain()?;
    let problems = k.verify_indexes()?;
    let report = DemoReport {
        database: db.display().to_string(),
        exports: exports.display().to_string(),
        decisions: chain.length,
        chain_verified: chain.first_broken.is_none(),
        chain_head: chain.head.clone(),
        indexes_consistent: problems.is_empty(),
        programs,
    };
    if json {
        crate::print_json(&report);
    } else {
        say!(
            "决定链 / decision chain: {n} 个决定 / {n} decisions, {}; 链头 / head {}",
            if report.chain_verified { "已验证 / verified" } else { "已断开 / BROKEN" },
            &report.chain_head[..16],
            n = report.decisions,
        );
        say!(
            "索引 / indexes: {}",
            if report.indexes_consistent { "一致 / consistent".into() } else { problems.join("; ") }
        );
        say!("汇总表 / summary tables: {}", report.exports);
        let me = std::env::current_exe().map_or_else(|_| "shenbao".to_string(), |p| p.display().to_string());
        say!(
            "数据库保留在 / database kept at {} — 查看 / look around: {me} --db {} round list",
            report.database,
            report.database
        );
    }
    if !report.chain_verified || !report.indexes_consistent || report.programs.iter().any(|p| !p.replay_identical) {
        return Err(Failure::new(exit::VERIFY_FAILED, "the demo's record does not verify", "report this as a bug"));
    }
    Ok(())
}

fn print_program(r: &ProgramReport) {
    say!("━━ {} {} — 批次 / round {} (插件 / plugin {})", r.program, r.name, r.round, &r.plugin_sha256[..12]);
    say!("  已提交 / submitted: {}", r.submitted);
    for x in &r.refused {
        say!("  未通过检查 / refused: {} ({}) — {}", x.application, x.case, x.rules.join(", "));
    }
    for e in &r.events {
        say!("  • {e}");
    }
    for q in &r.quota_hits {
        say!("  名额已满 / quota hit: {} {} {}/{} — 拒绝 / refused {}", q.quota, q.scope, q.used, q.limit, q.refused);
    }
    let cities: Vec<String> = r
        .recommended_by_city
        .iter()
        .map(|c| match c.limit {
            Some(l) => format!("{} {}/{}", c.city, c.recommended, l),
            None => format!("{} {}", c.city, c.recommended),
        })
        .collect();
    say!("  各市推荐 / recommended by city: {}", cities.join(", "));
    // The stage as people name it, with its id: 通过 (passed) 13.
    let outcomes: Vec<String> = r
        .outcomes
        .iter()
        .map(|(s, n)| match r.stage_titles.get(s) {
            Some(t) => format!("{t} ({s}) {n}"),
            None => format!("{s} {n}"),
        })
        .collect();
    say!("  结果 / decided: {}", outcomes.join(", "));
    for e in &r.exports {
        say!("  导出 / export: {} ({} 行 / {} {})", e.path, e.rows, e.rows, if e.rows == 1 { "row" } else { "rows" });
    }
    say!(
        "  重放一次提交的检查 / replayed a submission's check: {}",
        if r.replay_identical { "结果一致 / identical" } else { "结果不同 / DIFFERENT" }
    );
    crate::emit("", true);
}

struct Demo<'a> {
    k: &'a Kernel,
    clock: &'a ManualClock,
    orgs: &'a [Organisation],
    applicants: &'a HashMap<String, String>,
    json: bool,
    exports: &'a Path,
    events: Vec<String>,
}

/// Who acts for each organisation: credit code → user id (users.csv: `org-NN`).
fn applicant_users(k: &Kernel) -> Result<HashMap<String, String>, Failure> {
    let mut out = HashMap::new();
    for u in k.users()? {
        for g in &u.grants {
            if let shenbao::Scope::Organisation(code) = &g.scope {
                out.entry(code.clone()).or_insert_with(|| u.id.clone());
            }
        }
    }
    Ok(out)
}

/// A district officer's id in users.csv is the district's own part (`huizhou.huicheng` → `huicheng`).
fn district_user(district: &str) -> String {
    district.rsplit('.').next().unwrap_or(district).to_string()
}

fn replace_all(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s.contains(from) && !from.is_empty() => *s = s.replace(from, to),
        Value::Array(a) => a.iter_mut().for_each(|x| replace_all(x, from, to)),
        Value::Object(o) => o.values_mut().for_each(|x| replace_all(x, from, to)),
        _ => {}
    }
}

impl Demo<'_> {
    fn note(&mut self, e: impl Into<String>) {
        self.events.push(e.into());
    }

    fn act(&self, user: &str, app: &str, action: &str, opinion: Option<&str>) -> Result<shenbao::Receipt, ActError> {
        let req = ActionRequest { action: action.into(), opinion: opinion.map(Into::into), ..Default::default() };
        self.k.act(user, app, &req)
    }

    fn must(&self, r: Result<shenbao::Receipt, ActError>) -> Result<shenbao::Receipt, Failure> {
        r.map_err(Failure::from)
    }

    fn at(&self, round: &str, stage: &str) -> Result<Vec<Application>, Failure> {
        Ok(self.k.applications_in(round)?.into_iter().filter(|a| a.state.stage == stage).collect())
    }

    /// The user who acts for an organisation.
    fn applicant_user(&self, org: &Organisation) -> Result<String, Failure> {
        self.applicants
            .get(&org.credit_code)
            .cloned()
            .ok_or_else(|| fail(format!("no user acts for {}", org.name), "add one to examples/demo/users.csv"))
    }

    fn org_of(&self, app: &Application) -> &Organisation {
        self.orgs.iter().find(|o| o.credit_code == app.applicant).expect("applicants are imported organisations")
    }

    /// Store a case's attachments as blobs of their own (metadata kept, content invented).
    fn attachments(&self, user: &str, case: &[Attachment]) -> Result<Vec<Attachment>, Failure> {
        let mut out = Vec::new();
        for a in case {
            let content = format!("%PDF-1.7 示例附件 {} {}", a.kind, a.name);
            let blob = self.k.store_blob(user, content.as_bytes(), None).map_err(|e| fail(e, "check the folder"))?;
            out.push(Attachment { size: blob.size, sha256: blob.sha256, ..a.clone() });
        }
        Ok(out)
    }

    /// A case's draft as submitted by `org`: its own name and code in the form data,
    /// its own project name.
    fn draft(&self, case: &shenbao::Case, org: &Organisation, n: usize) -> Result<Draft, Failure> {
        let mut data = case.data.clone();
        replace_all(&mut data, &case.applicant.name, &org.name);
        replace_all(&mut data, &case.applicant.credit_code, &org.credit_code);
        for key in ["project_name", "resource_name"] {
            if let Some(Value::String(s)) = data.get_mut(key) {
                *s = format!("{s}（{n}）");
            }
        }
        Ok(Draft {
            direction: case.direction.clone(),
            form: case.form.clone(),
            data,
            project: None,
            attachments: self.attachments(&self.applicant_user(org)?, &case.attachments)?,
        })
    }

    fn program(mut self, program: &str, folder: &Path, name: String) -> Result<ProgramReport, Failure> {
        let k = self.k;
        let set = CaseSet::load(folder).map_err(|e| fail(e, "check the example folder"))?;
        let spec = set.round.clone();
        let round_id = spec.id.clone();
        // Applicants fill in two days after the window opens.
        self.clock.set(spec.province.start.plus_secs(2 * 86400 + 9 * 3600));
        let round = k.create_round(spec.clone())?;
        k.open_round(&round_id)?;
        self.note(format!(
            "批次 {round_id} 已按 {} 创建并开放 / round {round_id} created from it and opened",
            folder.join("round.json").display()
        ));

        // Which organisations apply: the first n of each city.
        let mut applicants: Vec<&Organisation> = Vec::new();
        for (city, n) in applicants_per_city(program) {
            applicants.extend(self.orgs.iter().filter(|o| o.city.as_deref() == Some(city)).take(*n));
        }
        let spare: Vec<&Organisation> =
            self.orgs.iter().filter(|o| !applicants.iter().any(|a| a.credit_code == o.credit_code)).collect();
        let passes: Vec<(&String, &shenbao::Case)> = set
            .cases
            .iter()
            .filter(|(n, c)| {
                n.starts_with("pass-") && c.config.is_none() && c.edition.as_deref().is_none_or(|e| e == round.edition)
            })
            .collect();
        if passes.is_empty() {
            return Err(fail(
                format!("{} has no pass-* case for edition {}", folder.display(), round.edition),
                "add one",
            ));
        }
        // Failing cases that differ from a passing one only in what they submit.
        let failing: Vec<(&String, &shenbao::Case)> = set
            .cases
            .iter()
            .filter(|(n, c)| {
                n.starts_with("fail-")
                    && c.history.is_empty()
                    && passes.iter().any(|(_, p)| p.applicant == c.applicant)
                    && c.config.is_none()
                    && c.edition.as_deref().is_none_or(|e| e == round.edition)
            })
            .take(3)
            .collect();

        // 1. Drafts and submissions.
        let bar = if self.json || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::new((applicants.len() + failing.len()) as u64)
        };
        bar.set_style(ProgressStyle::with_template("  {msg:24} {bar:40} {pos}/{len}").expect("a valid template"));
        bar.set_message(format!("{program}: submitting"));
        let mut submitted = 0;
        let mut refused = Vec::new();
        let mut first_submission = None;
        for (i, org) in applicants.iter().enumerate() {
            let (_, case) = passes[i % passes.len()];
            let who = self.applicant_user(org)?;
            let draft = self.draft(case, org, i + 1)?;
            let id = self.must(k.save_draft(&who, &round_id, None, draft))?.application.id;
            match self.act(&who, &id, "submit", None) {
                Ok(r) => {
                    submitted += 1;
                    first_submission.get_or_insert(r.decision.index);
                }
                Err(ActError::BlockingFindings { findings }) => refused.push(Refused {
                    case: passes[i % passes.len()].0.clone(),
                    application: id,
                    rules: findings
                        .iter()
                        .filter(|f| f.severity == Severity::Blocking)
                        .map(|f| f.rule_id.clone())
                        .collect(),
                }),
                Err(e) => return Err(e.into()),
            }
            bar.inc(1);
        }
        for (j, (name, case)) in failing.iter().enumerate() {
            let org = spare.get(j).ok_or_else(|| fail("not enough organisations for the refused cases", "add some"))?;
            let who = self.applicant_user(org)?;
            let draft = self.draft(case, org, 100 + j)?;
            let id = self.must(k.save_draft(&who, &round_id, None, draft))?.application.id;
            match self.act(&who, &id, "submit", None) {
                Err(ActError::BlockingFindings { findings }) => refused.push(Refused {
                    case: (*name).clone(),
                    application: id,
                    rules: findings
                        .iter()
                        .filter(|f| f.severity == Severity::Blocking)
                        .map(|f| f.rule_id.clone())
                        .collect(),
                }),
                Ok(_) => {
                    submitted += 1;
                    self.note(format!(
                        "{name} 以 {org} 的名义通过检查（该项检查结果取决于申报单位本身） / {name} was accepted under {org} (its finding depends on its own applicant)",
                        org = org.name
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            bar.inc(1);
        }
        bar.finish_and_clear();

        // 2. District review (cities that switched it on).
        let mut by_district: BTreeMap<String, Vec<Application>> = BTreeMap::new();
        for a in self.at(&round_id, "district-review")? {
            by_district.entry(self.org_of(&a).district.clone().unwrap_or_default()).or_default().push(a);
        }
        let mut scripted = false;
        for (district, apps) in &by_district {
            let officer = district_user(district);
            let mut rest: Vec<&str> = apps.iter().map(|a| a.id.as_str()).collect();
            if !scripted && apps.len() >= 4 {
                scripted = true;
                let (a, b, c) = (rest.remove(0), rest.remove(0), rest.remove(0));
                // Recommend, then withdraw while the city has not acted, then recommend again.
                self.must(self.act(&officer, a, "district-recommend", Some("材料齐全，同意推荐")))?;
                self.must(self.act(&officer, a, "district-withdraw", Some("补充核实经营数据")))?;
                self.note(format!(
                    "{officer} 推荐了 {a}，并在市级处理前撤回 / {officer} recommended {a}, withdrew it before the city acted"
                ));
                rest.push(a);
                // Return to the applicant, who resubmits.
                self.must(self.act(&officer, b, "district-return", Some("请补充项目投资明细")))?;
                let app = k.application(b)?;
                let who = self.applicant_user(self.org_of(&app))?;
                let again = Draft {
                    direction: app.direction.clone(),
                    form: Some(app.form.clone()),
                    data: app.data.to_value(),
                    project: app.project.clone(),
                    attachments: app.attachments.clone(),
                };
                self.must(k.save_draft(&who, &round_id, Some(b), again))?;
                self.must(self.act(&who, b, "submit", None))?;
                self.note(format!(
                    "{officer} 退回 {b}；{who} 补充后重新提交 / {officer} returned {b}; {who} completed it and resubmitted"
                ));
                rest.push(b);
                self.must(self.act(&officer, c, "district-not-recommend", Some("项目尚未建成投运，不予推荐")))?;
                self.note(format!("{officer} 不予推荐 {c} / {officer} did not recommend {c}"));
            }
            k.act_batch(&officer, &rest, &ActionRequest::with_opinion("district-recommend", "经审核，同意推荐"))
                .map_err(|b| Failure::from(b.error))?;
            self.note(format!(
                "{officer} 向市级批量推荐 {n} 个 / {officer} batch-recommended {n} to the city",
                n = rest.len()
            ));
        }

        // 3. City review: batch recommend within the quota, then rank.
        let mut quota_hits = Vec::new();
        let mut by_city: BTreeMap<String, Vec<Application>> = BTreeMap::new();
        for a in self.at(&round_id, "city-review")? {
            by_city.entry(self.org_of(&a).city.clone().unwrap_or_default()).or_default().push(a);
        }
        for (city, apps) in &by_city {
            let leader = format!("{city}-leader");
            let ids: Vec<&str> = apps.iter().map(|a| a.id.as_str()).collect();
            let req = ActionRequest::with_opinion("city-recommend", "经市级审核，同意推荐");
            let accepted: Vec<&str> = match k.act_batch(&leader, &ids, &req) {
                Ok(_) => ids.clone(),
                Err(b) => match b.error {
                    ActError::Refused(Refusal::QuotaExceeded { quota, scope, used, limit, .. }) => {
                        quota_hits.push(QuotaHit {
                            quota: quota.clone(),
                            scope: scope.clone(),
                            used,
                            limit,
                            refused: format!(
                                "{n} 个的整批（全部或全不） / a batch of {n} (all or none)",
                                n = ids.len()
                            ),
                        });
                        // The batch changed nothing: the room is what was used before it.
                        let before = k
                            .quota_usage(&round_id)?
                            .into_iter()
                            .find(|(q, s, _)| *q == quota && *s == scope)
                            .map_or(0, |x| x.2);
                        let room = limit.saturating_sub(before) as usize;
                        let (fit, over) = ids.split_at(room.min(ids.len()));
                        k.act_batch(&leader, fit, &req).map_err(|b| Failure::from(b.error))?;
                        self.note(format!(
                            "{leader} 批量推荐 {ids} 个中的 {fit} 个（{scope} 名额 {limit} 个） / {leader} batch-recommended {fit} of {ids} ({scope}: {limit} places)",
                            fit = fit.len(),
                            ids = ids.len()
                        ));
                        for id in over {
                            match self.act(city, id, "city-recommend", Some("同意推荐")) {
                                Err(ActError::Refused(Refusal::QuotaExceeded {
                                    quota, scope, used, limit, ..
                                })) => {
                                    quota_hits.push(QuotaHit { quota, scope, used, limit, refused: id.to_string() });
                                }
                                other => {
                                    self.must(other)?;
                                }
                            }
                            self.must(self.act(city, id, "city-not-recommend", Some("超出本市推荐名额，不予推荐")))?;
                        }
                        fit.to_vec()
                    }
                    other => return Err(other.into()),
                },
            };
            // Priority order (按推荐优先顺序): the order recommended.
            for (i, id) in accepted.iter().enumerate() {
                let req = ActionRequest {
                    action: "city-rank".into(),
                    payload: Payload { rank: Some(i as u32 + 1), ..Default::default() },
                    ..Default::default()
                };
                if k.application(id)?.state.stage == "province-review" {
                    self.must(k.act(city, id, &req))?;
                }
            }
        }

        // 4. The province recommends onward (or decides, where nothing follows).
        let province_ids: Vec<String> = self.at(&round_id, "province-review")?.into_iter().map(|a| a.id).collect();
        if !province_ids.is_empty() {
            let ids: Vec<&str> = province_ids.iter().map(String::as_str).collect();
            let has = |a: &str| round.graph.actions.iter().any(|x| x.id == a);
            let action = if has("province-recommend") { "province-recommend" } else { "approve" };
            k.act_batch("province", &ids, &ActionRequest::with_opinion(action, "省级审核通过"))
                .map_err(|b| Failure::from(b.error))?;
            self.note(format!(
                "省级对 {n} 个申报执行 {action} / province: {action} for {n} applications",
                n = ids.len()
            ));
        }

        // 5. Expert review: two experts each, scores.
        let experts = self.at(&round_id, "expert-review")?;
        for (i, a) in experts.iter().enumerate() {
            let assign = ActionRequest {
                action: "assign-experts".into(),
                payload: Payload { experts: vec!["expert-1".into(), "expert-2".into()], ..Default::default() },
                ..Default::default()
            };
            self.must(k.act("province", &a.id, &assign))?;
            for (e, base) in [("expert-1", 80.0), ("expert-2", 78.0)] {
                let score = ActionRequest {
                    action: "score".into(),
                    payload: Payload { score: Some(base + (i % 7) as f64 * 2.5), ..Default::default() },
                    ..Default::default()
                };
                self.must(k.act(e, &a.id, &score))?;
            }
        }
        if !experts.is_empty() {
            self.note(format!(
                "专家评审了 {n} 个申报（每个两位专家） / experts scored {n} applications (two each)",
                n = experts.len()
            ));
        }

        // 6. Public notice with an objection (programs that publish one).
        let mut decide_stage = "expert-review";
        if round.graph.actions.iter().any(|a| a.id == "publish-notice") {
            for a in &experts {
                self.must(self.act("province", &a.id, "publish-notice", None))?;
            }
            decide_stage = "public-notice";
            if let Some(first) = experts.first() {
                self.must(self.act("public", &first.id, "object", Some("对申报材料中的业绩数据有异议")))?;
                match self.act("province", &first.id, "approve", Some("同意")) {
                    Err(ActError::Refused(r @ Refusal::ObjectionsOpen { .. })) => self.note(format!(
                        "{id} 有异议：批准被拒绝（{code}） / objection to {id}: approve refused ({code})",
                        id = first.id,
                        code = r.code()
                    )),
                    other => {
                        self.must(other)?;
                    }
                }
                self.must(self.act("province", &first.id, "resolve-objection", Some("经核实，异议不成立")))?;
                self.note(format!("{id} 的异议已处理 / objection to {id} resolved", id = first.id));
            }
        }

        // 7. Final decisions: all approved but the lowest-placed, rejected.
        let deciding = self.at(&round_id, decide_stage)?;
        for (i, a) in deciding.iter().enumerate() {
            if i + 1 == deciding.len() && deciding.len() > 1 {
                self.must(self.act("province", &a.id, "reject", Some("综合评审得分较低，不予通过")))?;
                self.note(format!("{id} 在最终决定时未获通过 / {id} rejected at the final decision", id = a.id));
            } else {
                self.must(self.act("province", &a.id, "approve", Some("同意")))?;
            }
        }

        // 8. Enabling resources: the library's yearly report and a warning.
        let library = self.at(&round_id, "library")?;
        if let [first, second, ..] = library.as_slice() {
            let who = self.applicant_user(self.org_of(first))?;
            self.clock.set(Timestamp::at(Date::new(spec.year as i32 + 1, 3, 10), 10, 0));
            self.must(self.act(&who, &first.id, "annual-report", Some("2024年度赋能服务报告")))?;
            self.note(format!("{who} 提交了 {id} 的年度报告 / {who} filed the yearly report for {id}", id = first.id));
            self.must(self.act("province", &second.id, "warn", Some("年度服务企业数量未达承诺，限期整改")))?;
            let deadline = k.application(&second.id)?.state.deadline;
            self.must(self.act("province", &second.id, "rectified", Some("整改完成")))?;
            self.note(format!(
                "{id} 被警告（限 {by} 前整改），整改完成，回到资源库 / {id} warned (rectify by {by}), rectified, back in the library",
                id = second.id,
                by = deadline.map_or("-".into(), |d| d.to_string())
            ));
        }

        // Summary tables: per city, and the province's.
        let mut exports = Vec::new();
        let mut recommended_by_city = Vec::new();
        let city_quota = round.quotas.iter().find(|q| q.group_by == QuotaGroup::City && q.action == "city-recommend");
        for city in by_city.keys() {
            let table = k.summary(&round_id, SummaryLevel::City, Some(city))?;
            let limit = city_quota.and_then(|q| city_limit(k, q, city));
            recommended_by_city.push(CityLine { city: city.clone(), recommended: table.row_count(), limit });
            exports.push(self.write(&round_id, &format!("city-{city}"), &table, "xlsx")?);
        }
        let province = k.summary(&round_id, SummaryLevel::Province, None)?;
        exports.push(self.write(&round_id, "province", &province, "xlsx")?);
        exports.push(self.write(&round_id, "province", &province, "csv")?);

        let mut outcomes = BTreeMap::new();
        for a in k.applications_in(&round_id)? {
            if a.state.outcome != Outcome::Pending || a.state.stage == "library" {
                *outcomes.entry(a.state.stage.clone()).or_insert(0) += 1;
            }
        }
        let replay_identical = match first_submission {
            Some(i) => k.replay(i)?.identical,
            None => false,
        };
        Ok(ProgramReport {
            program: program.to_string(),
            name,
            round: round_id,
            plugin_sha256: round.plugin.sha256.clone(),
            submitted,
            refused,
            quota_hits,
            recommended_by_city,
            outcomes,
            stage_titles: round.graph.stages.iter().map(|s| (s.id.clone(), s.title.zh.clone())).collect(),
            events: self.events,
            exports,
            replay_identical,
        })
    }

    fn write(&self, round: &str, what: &str, table: &shenbao::Summary, format: &str) -> Result<ExportLine, Failure> {
        let bytes = match format {
            "csv" => shenbao::io::summary_csv(table),
            _ => shenbao::io::summary_xlsx(table),
        }
        .map_err(|e| Failure::new(exit::STORAGE, e, "check the folder"))?;
        let path = self.exports.join(format!("{round}-{what}.{format}"));
        std::fs::write(&path, bytes)
            .map_err(|e| Failure::new(exit::STORAGE, crate::unwritable(&path, &e), "check the folder"))?;
        Ok(ExportLine { path: path.display().to_string(), rows: table.row_count() })
    }
}

/// A city's limit under a city-grouped quota: its own, else its group's, else the default.
fn city_limit(k: &Kernel, q: &shenbao::contract::Quota, city: &str) -> Option<u32> {
    let group = k.region(city).ok().flatten().and_then(|r| r.group);
    q.limits
        .iter()
        .find(|l| l.scope == city)
        .or_else(|| q.limits.iter().find(|l| Some(&l.scope) == group.as_ref()))
        .map(|l| l.limit)
        .or(q.default_limit)
}
