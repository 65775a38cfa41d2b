//! Embedding Shenbao: open a database, install a program plugin, check the example
//! applications, verify the plugin. Run it with `cargo xtask demo`.
//!
//! Usage: shenbao-embed-example --plugin PATH.wasm [--db PATH] [--examples DIR]

use shenbao::contract::{Applicant, Attachment, CheckRequest, Date, RoundInfo};
use shenbao::{Kernel, ProgramPlugin};
use std::path::PathBuf;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plugin = PathBuf::from(arg("--plugin").ok_or("--plugin PATH.wasm is required")?);
    let db = arg("--db").map(PathBuf::from).unwrap_or_else(|| {
        let dir = std::env::temp_dir().join(format!("shenbao-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("shenbao.redb")
    });
    let examples = arg("--examples").map(PathBuf::from).unwrap_or_else(|| "examples/enabling-resources".into());
    println!("database: {}", db.display());

    let kernel = Kernel::open(&db)?;
    let installed = kernel.install_plugin(&std::fs::read(&plugin)?)?;
    let m = &installed.record.manifest;
    println!(
        "installed {} — {} · {} rules, {} directions, {} forms, WIT {} (compiled: {:?})",
        installed.record.id, m.name.zh, m.rules.len(), m.directions.len(), m.forms.len(), installed.record.id.wit, installed.cache
    );
    let (program, version) = (installed.record.id.program.clone(), installed.record.id.version.clone());

    let round = RoundInfo { id: "demo-2025q1".into(), program: program.clone(), year: 2025, edition: m.default_edition.clone(), batch: Some("2025Q1".into()), config: "{}".into() };
    let rc = kernel.check_round(&program, &version, &round)?;
    println!("round {}: {} directions in force, {} findings", round.id, rc.value.directions.len(), rc.value.findings.len());

    let applicant = Applicant {
        credit_code: "91441300MA4UXXXX01".into(),
        name: "示例智能装备有限公司".into(),
        channel: "region".into(),
        city: Some("huizhou".into()),
        district: Some("huicheng".into()),
        profile: "{}".into(),
        ..Default::default()
    };
    let mut files: Vec<_> = std::fs::read_dir(&examples)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    for file in files {
        let request = CheckRequest {
            form: m.forms[0].id.clone(),
            direction: m.directions.first().map(|d| d.id.clone()),
            data: std::fs::read_to_string(&file)?,
            applicant: applicant.clone(),
            history: Vec::new(),
            attachments: vec![Attachment { id: "att-1".into(), kind: "audit-report".into(), name: "2023年度审计报告.pdf".into(), ..Default::default() }],
            round: round.clone(),
            as_of: Date::new(2024, 8, 10),
        };
        let report = kernel.check_application(&program, &version, &request)?;
        let verdict = if report.has_blocking() { "REFUSED" } else { "accepted" };
        let fuel = report.plugin.as_ref().map_or(0, |p| p.fuel_used);
        println!("\n{} — {verdict} (fuel {fuel})", file.file_name().unwrap().to_string_lossy());
        for f in report.findings() {
            println!("  [{:?}] {} at {}\n      {}\n      {}", f.severity, f.rule_id, f.path, f.message.zh, f.message.en);
        }
        for s in report.plugin.iter().flat_map(|p| &p.value.signals) {
            println!("  [signal +{}] {} — {}", s.weight, s.id, s.message.zh);
        }
    }

    let v = kernel.verify_plugin(&program, &version)?;
    println!("\nverify {}: bytes intact = {}, manifest reproduced = {}", v.id, v.bytes_intact, v.manifest_matches);
    let loaded = kernel.plugin(&program, &version)?;
    println!("expert-review items (not machine rules): {}", loaded.plugin().manifest().expert_items.iter().map(|e| e.title.zh.as_str()).collect::<Vec<_>>().join("；"));
    Ok(())
}
