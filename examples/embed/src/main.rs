//! Embedding Shenbao: a small enabling-resources round on an embedded database —
//! install the program plugin, import regions, organisations and users, open a
//! round, then draft, submit (one refused with its findings), review at district
//! and city level, hit a quota, withdraw, and verify the decision chain and a
//! replayed check. Run it with `cargo xtask demo`.
//!
//! Usage: shenbao-embed-example --plugin PATH.wasm [--db PATH] [--examples DIR]

use shenbao::contract::{Attachment, Date, Quota, QuotaGroup, QuotaLimit, Text};
use shenbao::{
    ActionRequest, CityConfig, Draft, Kernel, KernelConfig, ManualClock, Organisation, RoleGrant, RoundSpec, Scope,
    Timestamp, User, Window,
};
use std::path::PathBuf;
use std::sync::Arc;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn user(id: &str, role: &str, scope: Scope) -> User {
    User { id: id.into(), name: id.into(), grants: vec![RoleGrant { role: role.into(), scope, office: None }] }
}

/// The files every application carries, stored content-addressed beside the database.
fn attachments(kernel: &Kernel, uploader: &str) -> Result<Vec<Attachment>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for (kind, name, issued) in [
        ("business-licence", "营业执照.pdf", None),
        ("commitment", "承诺书.pdf", None),
        ("audit-report", "2023年度审计报告.pdf", Some(Date::new(2024, 4, 30))),
    ] {
        let blob = kernel.store_blob(uploader, format!("%PDF-1.7 示例{name}").as_bytes(), Some(20 << 20))?;
        out.push(Attachment {
            id: kind.into(),
            kind: kind.into(),
            name: name.into(),
            media_type: "application/pdf".into(),
            size: blob.size,
            sha256: blob.sha256,
            issued_on: issued,
            ..Default::default()
        });
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plugin = PathBuf::from(arg("--plugin").ok_or("--plugin PATH.wasm is required")?);
    let examples = PathBuf::from(arg("--examples").unwrap_or_else(|| "examples/enabling-resources".into()));
    let db = arg("--db").map(PathBuf::from).unwrap_or_else(|| {
        let dir = std::env::temp_dir().join(format!("shenbao-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("shenbao.redb")
    });
    println!("database: {}", db.display());
    // The demo's clock stands on 10 August 2024, inside the round's window.
    let clock = ManualClock::new(Timestamp::at(Date::new(2024, 8, 10), 9, 0));
    let kernel = Kernel::open_with(&db, KernelConfig { clock: Arc::new(clock.clone()), ..Default::default() })?;

    // 1. The program plugin, the regions, organisations and users.
    let installed = kernel.install_plugin(&std::fs::read(&plugin)?)?;
    println!(
        "plugin {} — {} ({} rules)",
        installed.record.id,
        installed.record.manifest.name.zh,
        installed.record.manifest.rules.len()
    );
    kernel.import_regions(&shenbao::guangdong())?;
    let code = |n: u32| shenbao::contract::credit_code::complete(&format!("91441302MA{n:06}0")).unwrap();
    for n in 1..=3 {
        let org = Organisation {
            credit_code: code(n),
            name: format!("示例赋能科技{n}号有限公司"),
            channel: "region".into(),
            city: Some("huizhou".into()),
            district: Some("huizhou.huicheng".into()),
            dishonest: false,
            tags: Vec::new(),
            qualifications: Vec::new(),
            profile: serde_json::json!({}).into(),
        };
        kernel.upsert_org(&org)?;
        kernel.upsert_user(&user(&format!("applicant-{n}"), "applicant", Scope::Organisation(code(n))))?;
    }
    kernel.upsert_user(&user("huicheng", "district-officer", Scope::District("huizhou.huicheng".into())))?;
    kernel.upsert_user(&user("huizhou", "city-officer", Scope::City("huizhou".into())))?;

    // 2. A round: August window, Huizhou's districts review first, 2 city recommendations.
    let day_end = |m, d| Timestamp::end_of(Date::new(2024, m, d));
    let mut cities = std::collections::BTreeMap::new();
    cities.insert(
        "huizhou".to_string(),
        CityConfig { applicants: None, district_review: true, district_deadline: Some(day_end(9, 5)) },
    );
    let quota = Quota {
        id: "city-recommend".into(),
        title: Text::new("地市推荐名额", "city recommendation quota"),
        action: "city-recommend".into(),
        stage: Some("city-review".into()),
        group_by: QuotaGroup::City,
        default_limit: Some(5),
        limits: vec![QuotaLimit { scope: "huizhou".into(), limit: 1 }],
        channels: Vec::new(),
        message: Text::new("{scope} 已推荐 {used}/{limit}", "{scope} has recommended {used}/{limit}"),
    };
    kernel.create_round(RoundSpec {
        id: "er-2024q3".into(),
        program: installed.record.id.program.clone(),
        plugin_version: installed.record.id.version.clone(),
        year: 2024,
        batch: Some("2024Q3".into()),
        edition: None,
        province: Window { start: Timestamp::at(Date::new(2024, 8, 1), 0, 0), end: day_end(8, 31) },
        city_deadline: Some(day_end(9, 15)),
        province_deadline: Some(day_end(10, 31)),
        cities,
        switches: Default::default(),
        graph: None,
        quotas: Some(vec![quota]),
        config: serde_json::json!({}),
        // 补正期限: a return after a window closed gives five working days to correct.
        correction_working_days: Some(5),
        channels: Vec::new(),
    })?;
    kernel.open_round("er-2024q3")?;

    // 3. Each example application: draft, then submit.
    // The example set: each case's form data, submitted by one of three applicants.
    let set = shenbao::CaseSet::load(&examples)?;
    let mut accepted = Vec::new();
    // Only cases that differ from the reference case in their form data: the demo's
    // applicants, attachments and history are its own.
    let reference = set.cases.get("pass-ai-application").or_else(|| set.cases.values().next()).cloned();
    let same_setting = |c: &shenbao::Case| {
        reference
            .as_ref()
            .is_some_and(|r| r.applicant == c.applicant && r.history == c.history && r.attachments == c.attachments)
    };
    for (i, (name, case)) in set.cases.iter().filter(|(_, c)| same_setting(c)).enumerate() {
        let who = format!("applicant-{}", 1 + i % 3);
        let draft = Draft {
            direction: case.direction.clone(),
            form: None,
            data: case.data.clone(),
            project: None,
            attachments: attachments(&kernel, &who)?,
        };
        let id = kernel.save_draft(&who, "er-2024q3", None, draft)?.application.id;
        match kernel.act(&who, &id, &ActionRequest::new("submit")) {
            Ok(r) => {
                println!("{id} {name}: submitted → {}", r.decision.to);
                accepted.push(id);
            }
            Err(shenbao::ActError::BlockingFindings { findings }) => {
                println!("{id} {name}: REFUSED");
                for f in findings {
                    println!("    {} {} — {}", f.rule_id, f.path, f.message.zh);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }

    // 4. Reviews: the district recommends everything valid, the city one (its quota is 1).
    for id in &accepted {
        kernel.act("huicheng", id, &ActionRequest::with_opinion("district-recommend", "材料齐全，同意推荐"))?;
    }
    let queue = kernel.queue("huizhou", "er-2024q3", None, 50)?;
    println!("city queue: {}", queue.iter().map(|q| q.application.as_str()).collect::<Vec<_>>().join(", "));
    if let Some(first) = accepted.first() {
        kernel.act("huizhou", first, &ActionRequest::with_opinion("city-recommend", "同意推荐"))?;
        if let Some(second) = accepted.get(1) {
            let e =
                kernel.act("huizhou", second, &ActionRequest::with_opinion("city-recommend", "同意推荐")).unwrap_err();
            println!("{second}: {e}");
        }
        kernel.act("huizhou", first, &ActionRequest::new("city-withdraw"))?;
        println!("{first}: withdrawn by the city, back at {}", kernel.application(first)?.state.stage);
    }

    // 5. The record: chain, and a submission's check replayed from the pinned plugin.
    let chain = kernel.verify_chain()?;
    println!(
        "decision chain: {} records, first broken: {:?}, head {}",
        chain.length,
        chain.first_broken,
        &chain.head[..16]
    );
    if let Some(first) = accepted.first() {
        let submit = kernel.decisions_of(first)?.into_iter().find(|d| d.check.is_some()).expect("a submission");
        let replay = kernel.replay(submit.index)?;
        println!(
            "replay of decision #{}: identical = {} (fuel {})",
            submit.index, replay.identical, replay.fuel_replayed
        );
    }
    let problems = kernel.verify_indexes()?;
    println!("indexes: {}", if problems.is_empty() { "consistent".to_string() } else { problems.join("; ") });
    Ok(())
}
