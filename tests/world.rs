//! A small Guangdong for the workflow tests: the real enabling-resources component,
//! a real redb file, invented organisations with valid credit codes, a user per
//! role, a round with district review switched on in Huizhou, and a manual clock.

#![allow(dead_code)]

use serde_json::Value;
use shenbao::contract::{Attachment, Date};
use shenbao::{
    ActionRequest, CityConfig, Draft, HostConfig, Kernel, KernelConfig, ManualClock, Organisation, RoleGrant,
    RoundSpec, Scope, Timestamp, User, Window,
};
use std::sync::Arc;

pub const ROUND: &str = "er-2024q3";
pub const PROGRAM: &str = "enabling-resources";

pub struct World {
    pub dir: tempfile::TempDir,
    pub kernel: Kernel,
    pub clock: ManualClock,
}

/// A valid credit code for invented organisation `n`.
pub fn code(n: u32) -> String {
    shenbao::contract::credit_code::complete(&format!("91441302MA{n:06}0")).unwrap()
}

pub fn t(y: i32, m: u8, d: u8, h: u32) -> Timestamp {
    Timestamp::at(Date::new(y, m, d), h, 0)
}

pub fn org(n: u32, city: Option<&str>, district: Option<&str>, channel: &str) -> Organisation {
    Organisation {
        credit_code: code(n),
        name: format!("示例赋能科技{n}号有限公司"),
        channel: channel.into(),
        city: city.map(Into::into),
        district: district.map(Into::into),
        dishonest: false,
        tags: Vec::new(),
        qualifications: Vec::new(),
        profile: serde_json::json!({ "contact": "示例联系人", "phone": "0752-0000000" }),
    }
}

pub fn user(id: &str, grants: &[(&str, Scope)]) -> User {
    User {
        id: id.into(),
        name: id.into(),
        grants: grants.iter().map(|(r, s)| RoleGrant { role: r.to_string(), scope: s.clone(), office: None }).collect(),
    }
}

pub fn valid_data() -> Value {
    serde_json::from_str(&testkit::example("enabling-resources/application-valid.json")).unwrap()
}

/// The attachments every enabling-resources application needs, stored as blobs.
pub fn attachments(k: &Kernel) -> Vec<Attachment> {
    let uploaders: Vec<String> = (1..=8).map(|n| format!("applicant-{n}")).collect();
    attachments_uploaded_by(k, &uploaders)
}

/// The enabling-resources program's required attachments, each uploaded by every one
/// of `uploaders` (one blob, many uploaders), so any of them may attach them.
pub fn attachments_uploaded_by(k: &Kernel, uploaders: &[String]) -> Vec<Attachment> {
    let mut out = Vec::new();
    for (kind, name, issued) in [
        ("business-licence", "营业执照.pdf", None),
        ("commitment", "承诺书.pdf", None),
        ("audit-report", "2023年度审计报告.pdf", Some(Date::new(2024, 4, 30))),
    ] {
        let content = format!("%PDF-1.7 示例 {kind}");
        let mut blob = None;
        for u in uploaders {
            blob = Some(k.store_blob(u, content.as_bytes(), None).unwrap());
        }
        let blob = blob.expect("at least one uploader");
        out.push(Attachment {
            id: format!("att-{kind}"),
            kind: kind.into(),
            name: name.into(),
            media_type: "application/pdf".into(),
            size: blob.size,
            sha256: blob.sha256,
            issued_on: issued,
            valid_until: None,
            seconds: None,
        });
    }
    out
}

pub fn draft_with(data: Value, attachments: Vec<Attachment>) -> Draft {
    Draft { direction: Some("ai-application".into()), form: None, data, project: None, attachments }
}

pub fn spec() -> RoundSpec {
    let mut cities = std::collections::BTreeMap::new();
    cities.insert(
        "huizhou".to_string(),
        CityConfig {
            applicants: None,
            district_review: true,
            district_deadline: Some(Timestamp::end_of(Date::new(2024, 9, 5))),
        },
    );
    RoundSpec {
        id: ROUND.into(),
        program: PROGRAM.into(),
        plugin_version: "0.1.0".into(),
        year: 2024,
        batch: Some("2024Q3".into()),
        edition: None,
        province: Window { start: t(2024, 8, 1, 0), end: Timestamp::end_of(Date::new(2024, 8, 31)) },
        city_deadline: Some(Timestamp::end_of(Date::new(2024, 9, 15))),
        province_deadline: Some(Timestamp::end_of(Date::new(2024, 10, 31))),
        cities,
        switches: Default::default(),
        graph: None,
        quotas: None,
        config: serde_json::json!({}),
        correction_working_days: None,
        channels: Vec::new(),
    }
}

/// One compiled-component cache per test process: each world loads, not compiles.
pub fn shared_cache() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path().to_path_buf()
}

/// Organisations 1–6 in Huizhou (Huicheng), 7 in Shenzhen (Nanshan), 8 out of province.
pub fn world_with(spec: RoundSpec) -> World {
    world_configured(spec, |_| {})
}

/// [`world_with`] with the kernel's settings adjusted.
pub fn world_configured(spec: RoundSpec, tweak: impl FnOnce(&mut KernelConfig)) -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(t(2024, 8, 10, 9));
    let mut config = KernelConfig {
        host: HostConfig { cache_dir: Some(shared_cache()), ..HostConfig::default() },
        clock: Arc::new(clock.clone()),
        blob_dir: None,
        ..KernelConfig::default()
    };
    tweak(&mut config);
    let kernel = Kernel::open_with(dir.path().join("shenbao.redb"), config).unwrap();
    kernel.install_plugin(&testkit::plugin_bytes("enabling-resources")).unwrap();
    kernel.import_regions(&shenbao::guangdong()).unwrap();
    for n in 1..=6 {
        kernel.upsert_org(&org(n, Some("huizhou"), Some("huizhou.huicheng"), "region")).unwrap();
    }
    kernel.upsert_org(&org(7, Some("shenzhen"), Some("shenzhen.nanshan"), "region")).unwrap();
    kernel.upsert_org(&org(8, None, None, "out-of-province")).unwrap();
    for n in 1..=8 {
        kernel.upsert_user(&user(&format!("applicant-{n}"), &[("applicant", Scope::Organisation(code(n)))])).unwrap();
    }
    kernel
        .upsert_user(&user("district-huicheng", &[("district-officer", Scope::District("huizhou.huicheng".into()))]))
        .unwrap();
    kernel
        .upsert_user(&user("district-huiyang", &[("district-officer", Scope::District("huizhou.huiyang".into()))]))
        .unwrap();
    kernel.upsert_user(&user("city-huizhou", &[("city-officer", Scope::City("huizhou".into()))])).unwrap();
    kernel.upsert_user(&user("city-shenzhen", &[("city-officer", Scope::City("shenzhen".into()))])).unwrap();
    kernel.upsert_user(&user("province", &[("province-officer", Scope::Province)])).unwrap();
    kernel.upsert_user(&user("expert-1", &[("expert", Scope::Expert)])).unwrap();
    kernel.upsert_user(&user("expert-2", &[("expert", Scope::Expert)])).unwrap();
    kernel.upsert_user(&user("someone", &[])).unwrap();
    kernel.create_round(spec).unwrap();
    kernel.open_round(ROUND).unwrap();
    World { dir, kernel, clock }
}

pub fn world() -> World {
    world_with(spec())
}

impl World {
    /// A draft by applicant `n`, submitted; returns the application id.
    pub fn submitted(&self, n: u32) -> String {
        let r = self.kernel.save_draft(&format!("applicant-{n}"), ROUND, None, self.draft(valid_data())).unwrap();
        let id = r.application.id.clone();
        self.kernel.act(&format!("applicant-{n}"), &id, &ActionRequest::new("submit")).unwrap();
        id
    }

    /// A draft with the required attachments stored.
    pub fn draft(&self, data: Value) -> Draft {
        draft_with(data, attachments(&self.kernel))
    }

    pub fn act(
        &self,
        user: &str,
        app: &str,
        action: &str,
        opinion: Option<&str>,
    ) -> Result<shenbao::Receipt, shenbao::ActError> {
        let req = ActionRequest { action: action.into(), opinion: opinion.map(Into::into), ..Default::default() };
        self.kernel.act(user, app, &req)
    }

    pub fn stage(&self, app: &str) -> String {
        self.kernel.application(app).unwrap().state.stage
    }

    pub fn decisions(&self) -> u64 {
        self.kernel.decision_count().unwrap()
    }
}
