//! `shenbao plugin test PLUGIN.wasm DIR`: the plugin runner — a program author's
//! quickest loop. Loads the component without a database (same sandbox, same checks
//! as install), runs every case of the folder through the kernel's whole check and
//! prints a readable diff for each failing case, the fuel each case used and a summary.

use crate::{Failure, Res, exit, print_json};
use shenbao::{CaseRun, CaseSet, HostConfig, LoadedPlugin, PluginLimits, ProgramPlugin, WasmHost};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct TestArgs {
    /// The component (.wasm) to test.
    pub plugin: PathBuf,
    /// A case folder: round.json, cases/*.json, expected.json.
    pub dir: PathBuf,
    /// Write the current findings as the expectation (expected.json) instead of comparing.
    #[arg(long)]
    pub update: bool,
    /// Only the cases whose name contains this text.
    #[arg(long)]
    pub case: Option<String>,
    /// Fuel one check may use (default: the kernel's per-call limit).
    #[arg(long)]
    pub fuel: Option<u64>,
}

/// Thousands separated, for fuel figures.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

pub fn run(args: TestArgs, json: bool) -> Res {
    let bytes = std::fs::read(&args.plugin).map_err(|e| {
        Failure::new(exit::NOT_FOUND, crate::unreadable(&args.plugin, &e), "give the path of a built .wasm component")
    })?;
    let set = CaseSet::load(&args.dir)
        .map_err(|e| Failure::new(exit::REFUSED, e, "fix the case folder where named (round.json, cases/*.json)"))?;
    let host = Arc::new(WasmHost::new(HostConfig::default())?);
    let mut limits = PluginLimits::default();
    if let Some(fuel) = args.fuel {
        limits.fuel = fuel;
    }
    let plugin = LoadedPlugin::standalone(host, &bytes, limits)?;
    let id = plugin.plugin().id().clone();
    if set.round.program != id.program {
        return Err(Failure::new(
            exit::REFUSED,
            format!("{} is a round of {:?}, but the plugin is {:?}", args.dir.display(), set.round.program, id.program),
            "give the case folder of this program",
        ));
    }
    if set.round.plugin_version != id.version {
        return Err(Failure::new(
            exit::REFUSED,
            format!(
                "{} pins plugin_version {:?}, but the component is version {:?}",
                args.dir.join("round.json").display(),
                set.round.plugin_version,
                id.version
            ),
            format!("set \"plugin_version\": \"{}\" in round.json, or build the version it names", id.version),
        ));
    }
    let mut runs: Vec<CaseRun> = Vec::new();
    for (name, case) in &set.cases {
        if args.case.as_ref().is_some_and(|only| !name.contains(only.as_str())) {
            continue;
        }
        // A case that cannot run (a panicking plugin, an undeclared rule) is that
        // case's failure; the others still run.
        runs.push(set.run_or_fail(&plugin, name, case));
    }
    if runs.is_empty() {
        return Err(Failure::new(exit::NOT_FOUND, "no case matched", "check --case and the folder's cases/"));
    }

    let broken: Vec<&CaseRun> = runs.iter().filter(|r| r.error.is_some()).collect();
    // The program's declared rules no case fires (only when every case ran).
    let uncovered: Vec<&shenbao::contract::Rule> = if args.case.is_none() {
        let fired: std::collections::BTreeSet<&str> = runs.iter().flat_map(|r| r.rule_ids()).collect();
        plugin.plugin().manifest().rules.iter().filter(|r| !fired.contains(r.id.as_str())).collect()
    } else {
        Vec::new()
    };
    let form_problems = shenbao::form_problems(plugin.plugin().manifest());
    let note_uncovered = || {
        for p in &form_problems {
            say!("note: form {p}");
        }
        for r in &uncovered {
            let file = set.dir.join("cases").join(format!("fail-{}.json", r.id));
            if file.exists() {
                say!(
                    "note: rule {} ({}) fires in no case — {} exists but does not fire it (see what it gave above: a schema refusal, or a patch that misses the field)",
                    r.id,
                    r.title.zh,
                    file.display()
                );
            } else {
                say!(
                    "note: rule {} ({}) fires in no case — add {} (\"extends\": \"pass.json\", a patch that breaks it) and run --update, unless it checks the round (check-round)",
                    r.id,
                    r.title.zh,
                    file.display()
                );
            }
        }
        for name in set.stale_expectations() {
            say!("note: expected.json has {name}, whose case file is gone (--update drops it)");
        }
    };
    if args.update {
        let stale = set.stale_expectations();
        let changed: Vec<&CaseRun> = runs.iter().filter(|r| !r.passed() && r.error.is_none()).collect();
        set.write_expected(&runs).map_err(|e| Failure::new(exit::STORAGE, e, "check the folder may be written"))?;
        if json {
            print_json(&serde_json::json!({
                "plugin": id,
                "updated": changed.iter().map(|r| &r.name).collect::<Vec<_>>(),
                "dropped": stale,
                "cases": runs.len(),
                "uncovered_rules": uncovered.iter().map(|r| &r.id).collect::<Vec<_>>(),
            }));
        } else {
            for name in &stale {
                say!("dropped {name} — its case file is gone");
            }
            note_uncovered();
            for r in &changed {
                match r.expected {
                    None => say!("new     {}", r.name),
                    Some(_) => {
                        say!("updated {}", r.name);
                        crate::emit(&r.diff(), false);
                    }
                }
            }
            for r in &broken {
                say!("FAIL    {} — not recorded", r.name);
                crate::emit(&r.diff(), false);
            }
            say!(
                "{}: wrote the findings of {} case(s) to {} ({} changed) — review the diff like code",
                id,
                runs.len() - broken.len(),
                set.dir.join("expected.json").display(),
                changed.len()
            );
        }
        if !broken.is_empty() {
            return Err(Failure::new(
                exit::CASES_FAILED,
                format!(
                    "{} case(s) did not run and were not recorded: {}",
                    broken.len(),
                    broken.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
                "fix the plugin (its message is shown under each case), then run again",
            ));
        }
        return Ok(());
    }

    let failed: Vec<&CaseRun> = runs.iter().filter(|r| !r.passed()).collect();
    let total_fuel: u64 = runs.iter().map(|r| r.fuel).sum();
    let max = runs.iter().max_by_key(|r| r.fuel).expect("not empty");
    if json {
        print_json(&serde_json::json!({
            "plugin": id,
            "cases": runs.iter().map(|r| serde_json::json!({
                "name": r.name,
                "passed": r.passed(),
                "fuel": r.fuel,
                "rules": r.rule_ids(),
                "diff": (!r.passed()).then(|| r.diff()),
                "error": r.error,
            })).collect::<Vec<_>>(),
            "passed": runs.len() - failed.len(),
            "failed": failed.len(),
            "fuel_total": total_fuel,
            "uncovered_rules": uncovered.iter().map(|r| &r.id).collect::<Vec<_>>(),
            "form_problems": form_problems,
        }));
    } else {
        say!("{} (WIT {}) · {} · {} case(s)", id, id.wit, set.dir.display(), runs.len());
        let width = runs.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
        for r in &runs {
            let mark = if r.passed() { "ok  " } else { "FAIL" };
            say!("  {mark}  {:<width$}  {:>15} fuel", r.name, grouped(r.fuel));
            if !r.passed() {
                crate::emit(&r.diff(), false);
            }
        }
        note_uncovered();
        say!(
            "{} passed, {} failed; fuel {} in all, {} at most ({})",
            runs.len() - failed.len(),
            failed.len(),
            grouped(total_fuel),
            grouped(max.fuel),
            max.name
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            exit::CASES_FAILED,
            format!(
                "{} of {} case(s) failed: {}",
                failed.len(),
                runs.len(),
                failed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
            "fix the plugin, or run with --update and review the change to expected.json",
        ))
    }
}
