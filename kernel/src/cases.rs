//! Example cases: a folder of applications with their expected findings, run
//! through the kernel's whole check (schema, declared attachments, the plugin in
//! its sandbox). The three programs' example sets are such folders, and
//! `shenbao plugin test` runs one.
//!
//! A case folder holds:
//! - `round.json` — the round configuration (a [`RoundSpec`]); cases run in its
//!   year, edition and program configuration;
//! - `cases/*.json` — one [`Case`] per file. A case may say `"extends": "other.json"`
//!   and a JSON Patch (RFC 6902) `"patch"`: it is then that case with the patch
//!   applied, so a failing example shows exactly what it changed;
//! - `expected.json` — per case name, the findings and signals expected
//!   (written by [`CaseSet::write_expected`], reviewed like code).

use crate::kernel::{CheckReport, LoadedPlugin, check_with};
use crate::model::{Organisation, RoundSpec};
use crate::plugin::ProgramPlugin;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shenbao_contract::{
    Applicant, Attachment, CheckRequest, Date, Direction, Finding, HistoryEntry, RoundInfo, Signal,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One example application with everything its check reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows, one line.
    #[serde(default)]
    pub title: String,
    /// Form id; default: the direction's form.
    #[serde(default)]
    pub form: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    /// The applicant organisation as the kernel stores it.
    pub applicant: Organisation,
    /// The applicant's other applications, as the kernel would report them.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The day the check counts from.
    pub as_of: Date,
    /// Edition of the program's rules; default: the round's.
    #[serde(default)]
    pub edition: Option<String>,
    /// Replaces the round's program configuration for this case.
    #[serde(default)]
    pub config: Option<Value>,
    /// The form data.
    pub data: Value,
}

/// What a case is expected to give.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub signals: Vec<Signal>,
}

/// A case folder, loaded.
#[derive(Clone, Debug)]
pub struct CaseSet {
    pub dir: PathBuf,
    pub round: RoundSpec,
    /// By case name (file stem), in name order.
    pub cases: BTreeMap<String, Case>,
    /// Empty when there is no `expected.json` yet.
    pub expected: BTreeMap<String, Expected>,
}

/// The result of running one case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRun {
    pub name: String,
    pub got: Expected,
    pub fuel: u64,
    /// None when the case has no expectation.
    pub expected: Option<Expected>,
    /// The case could not run — the plugin failed (a trap, a panic, fuel), answered
    /// what its manifest does not declare, or refused its input: this case fails,
    /// with this reason, and the others still run ([`CaseSet::run_or_fail`]).
    pub error: Option<String>,
}

impl CaseRun {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.expected.as_ref() == Some(&self.got)
    }

    /// Rule ids of the findings, sorted and deduplicated.
    pub fn rule_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.got.findings.iter().map(|f| f.rule_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// A readable difference between expected and got ("-" expected, "+" got).
    pub fn diff(&self) -> String {
        use crate::text::display;
        let line = |f: &Finding| {
            format!("{} [{:?}] {} — {}", display(&f.rule_id), f.severity, display(&f.path), display(&f.message.zh))
        };
        if let Some(e) = &self.error {
            return format!("  ! the case did not run: {}\n", display(e));
        }
        let Some(expected) = &self.expected else {
            // Show what it gave, so the author can judge before recording it.
            let mut out = String::from("  (no expectation recorded; run with --update to record what it gave:)\n");
            for f in &self.got.findings {
                out.push_str(&format!("  + {}\n", line(f)));
            }
            for s in &self.got.signals {
                out.push_str(&format!("  + signal {} ({}) — {}\n", display(&s.id), s.weight, display(&s.message.zh)));
            }
            if self.got.findings.is_empty() && self.got.signals.is_empty() {
                out.push_str("  + (no findings: the case passes every rule)\n");
            }
            return out;
        };
        let mut out = String::new();
        for f in &expected.findings {
            if !self.got.findings.contains(f) {
                out.push_str(&format!("  - {}\n", line(f)));
            }
        }
        for f in &self.got.findings {
            if !expected.findings.contains(f) {
                out.push_str(&format!("  + {}\n", line(f)));
            }
        }
        if out.is_empty() && expected.findings != self.got.findings {
            out.push_str("  findings in a different order\n");
        }
        let sig = |s: &Signal| format!("signal {} ({}) — {}", display(&s.id), s.weight, display(&s.message.zh));
        for s in &expected.signals {
            if !self.got.signals.contains(s) {
                out.push_str(&format!("  - {}\n", sig(s)));
            }
        }
        for s in &self.got.signals {
            if !expected.signals.contains(s) {
                out.push_str(&format!("  + {}\n", sig(s)));
            }
        }
        out
    }
}

/// A case folder that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: not a valid case: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: extends {base:?}, which would loop")]
    ExtendsLoop { path: PathBuf, base: String },
    #[error("{path}: patch does not apply: {message}")]
    Patch { path: PathBuf, message: String },
    #[error("case {case}: {message}")]
    Run { case: String, message: String },
}

fn read_json(path: &Path) -> Result<Value, CaseError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| CaseError::Read { path: path.into(), message: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| CaseError::Invalid { path: path.into(), message: e.to_string() })
}

/// A case file with `extends` resolved and `patch` applied.
fn resolve(path: &Path, depth: usize) -> Result<Value, CaseError> {
    let mut v = read_json(path)?;
    let Some(obj) = v.as_object_mut() else {
        return Err(CaseError::Invalid { path: path.into(), message: "a case is a JSON object".into() });
    };
    let Some(base) = obj.remove("extends") else {
        if obj.contains_key("patch") {
            return Err(CaseError::Invalid { path: path.into(), message: "\"patch\" needs \"extends\"".into() });
        }
        return Ok(v);
    };
    let base = base
        .as_str()
        .ok_or_else(|| CaseError::Invalid { path: path.into(), message: "\"extends\" names a file".into() })?
        .to_string();
    if depth > 8 {
        return Err(CaseError::ExtendsLoop { path: path.into(), base });
    }
    let patch = obj.remove("patch").unwrap_or(Value::Array(Vec::new()));
    let title = obj.remove("title");
    if let Some(k) = obj.keys().next() {
        return Err(CaseError::Invalid {
            path: path.into(),
            message: format!("a case that extends another has only title, extends and patch (found {k:?})"),
        });
    }
    let base_path = path.with_file_name(&base);
    let mut doc = resolve(&base_path, depth + 1).map_err(|e| match e {
        // A base that cannot be read is the extending case's mistake: name that case.
        CaseError::Read { path: p, message } if p == base_path => CaseError::Invalid {
            path: path.into(),
            message: format!("\"extends\": {base:?} cannot be read ({message}); name a case file beside it"),
        },
        other => other,
    })?;
    let patch: json_patch::Patch = serde_json::from_value(patch)
        .map_err(|e| CaseError::Invalid { path: path.into(), message: format!("patch: {e}") })?;
    json_patch::patch(&mut doc, &patch).map_err(|e| CaseError::Patch { path: path.into(), message: e.to_string() })?;
    if let (Some(t), Some(o)) = (title, doc.as_object_mut()) {
        o.insert("title".into(), t);
    }
    Ok(doc)
}

impl CaseSet {
    /// Read `round.json`, `cases/*.json` and (if present) `expected.json` under `dir`.
    pub fn load(dir: impl AsRef<Path>) -> Result<CaseSet, CaseError> {
        let dir = dir.as_ref().to_path_buf();
        let round_path = dir.join("round.json");
        let round: RoundSpec = serde_json::from_value(read_json(&round_path)?)
            .map_err(|e| CaseError::Invalid { path: round_path, message: e.to_string() })?;
        let cases_dir = dir.join("cases");
        let entries = std::fs::read_dir(&cases_dir)
            .map_err(|e| CaseError::Read { path: cases_dir.clone(), message: e.to_string() })?;
        let mut cases = BTreeMap::new();
        for entry in entries {
            let path = entry.map_err(|e| CaseError::Read { path: cases_dir.clone(), message: e.to_string() })?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            let case: Case = serde_json::from_value(resolve(&path, 0)?)
                .map_err(|e| CaseError::Invalid { path: path.clone(), message: e.to_string() })?;
            cases.insert(name, case);
        }
        let expected_path = dir.join("expected.json");
        let expected = if expected_path.exists() {
            serde_json::from_value(read_json(&expected_path)?)
                .map_err(|e| CaseError::Invalid { path: expected_path, message: e.to_string() })?
        } else {
            BTreeMap::new()
        };
        Ok(CaseSet { dir, round, cases, expected })
    }

    /// The round as the plugin sees it for `case`.
    pub fn round_info(&self, case: &Case) -> RoundInfo {
        RoundInfo {
            id: self.round.id.clone(),
            program: self.round.program.clone(),
            year: self.round.year,
            edition: case.edition.clone().or_else(|| self.round.edition.clone()).unwrap_or_default(),
            batch: self.round.batch.clone(),
            config: case.config.as_ref().unwrap_or(&self.round.config).to_string(),
        }
    }

    /// Run every case through `plugin`.
    pub fn run(&self, plugin: &LoadedPlugin) -> Result<Vec<CaseRun>, CaseError> {
        self.cases.iter().map(|(name, case)| self.run_one(plugin, name, case)).collect()
    }

    /// [`CaseSet::run_one`], with a case that cannot run (the plugin trapped,
    /// panicked, ran out of fuel, answered an undeclared rule, or the case names a
    /// direction not open) turned into that case's failure ([`CaseRun::error`]), so
    /// one bad case never stops the others.
    pub fn run_or_fail(&self, plugin: &LoadedPlugin, name: &str, case: &Case) -> CaseRun {
        self.run_one(plugin, name, case).unwrap_or_else(|e| CaseRun {
            name: name.to_string(),
            got: Expected::default(),
            fuel: 0,
            expected: self.expected.get(name).cloned(),
            error: Some(match e {
                CaseError::Run { message, .. } => message,
                other => other.to_string(),
            }),
        })
    }

    /// Run one case: the round check (its findings, and the directions in force),
    /// then the application check exactly as submission runs it.
    pub fn run_one(&self, plugin: &LoadedPlugin, name: &str, case: &Case) -> Result<CaseRun, CaseError> {
        let err = |message: String| CaseError::Run { case: name.to_string(), message };
        let mut round = self.round_info(case);
        if round.edition.is_empty() {
            round.edition = plugin.plugin().manifest().default_edition.clone();
        }
        let round_check = plugin.plugin().check_round(&round).map_err(|e| err(e.to_string()))?.value;
        let directions: Vec<Direction> = round_check.directions;
        let direction = match &case.direction {
            Some(d) => Some(directions.iter().find(|x| &x.id == d).ok_or_else(|| {
                err(format!(
                    "direction {d:?} is not open in this round (open: {})",
                    directions.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?),
            None => None,
        };
        let form = case
            .form
            .clone()
            .or_else(|| direction.map(|d| d.form.clone()))
            .or_else(|| plugin.plugin().manifest().forms.first().map(|f| f.id.clone()))
            .unwrap_or_default();
        let a = &case.applicant;
        let request = CheckRequest {
            form,
            direction: case.direction.clone(),
            data: case.data.to_string(),
            applicant: Applicant {
                credit_code: a.credit_code.clone(),
                name: a.name.clone(),
                channel: a.channel.clone(),
                city: a.city.clone(),
                district: a.district.clone(),
                dishonest: a.dishonest,
                tags: a.tags.clone(),
                qualifications: a.qualifications.clone(),
                profile: a.profile.to_value().to_string(),
            },
            history: case.history.clone(),
            attachments: case.attachments.clone(),
            round,
            as_of: case.as_of,
        };
        let mut report: CheckReport = check_with(plugin, &request).map_err(|e| err(e.to_string()))?;
        if let Some(d) = direction {
            report.kernel_findings = crate::attachments::check(d, &case.attachments, case.as_of);
        }
        let fuel = report.plugin.as_ref().map_or(0, |p| p.fuel_used);
        let signals = report.plugin.as_ref().map(|p| p.value.signals.clone()).unwrap_or_default();
        Ok(CaseRun {
            name: name.to_string(),
            // The round's own findings first (a case may bring its own configuration).
            got: Expected {
                findings: round_check.findings.into_iter().chain(report.findings().cloned()).collect(),
                signals,
            },
            fuel,
            expected: self.expected.get(name).cloned(),
            error: None,
        })
    }

    /// Write what `runs` got as the expectation (`expected.json`). Expectations of
    /// cases not run (or that failed to run) are kept while the case exists; those of
    /// deleted cases are dropped.
    /// Expectations in `expected.json` whose case file is gone (`--update` drops them).
    pub fn stale_expectations(&self) -> Vec<&str> {
        self.expected.keys().filter(|name| !self.cases.contains_key(name.as_str())).map(String::as_str).collect()
    }

    pub fn write_expected(&self, runs: &[CaseRun]) -> Result<(), CaseError> {
        let mut map: BTreeMap<&str, &Expected> = self
            .expected
            .iter()
            .filter(|(name, _)| self.cases.contains_key(name.as_str()))
            .map(|(name, e)| (name.as_str(), e))
            .collect();
        // A case that did not run records nothing (its earlier expectation stays).
        map.extend(runs.iter().filter(|r| r.error.is_none()).map(|r| (r.name.as_str(), &r.got)));
        let path = self.dir.join("expected.json");
        let text = serde_json::to_string_pretty(&map).expect("findings serialise") + "\n";
        std::fs::write(&path, text).map_err(|e| CaseError::Read { path, message: e.to_string() })
    }
}
