//! A small Guangdong for the workflow tests: the real enabling-resources component,
//! a real redb file, invented organisations with valid credit codes, a user per
//! role, a round with district review switched on in Huizhou, and a manual clock.

#![allow(dead_code)]

use serde_json::Value;
use shenbao::contract::{Attachment, Date};
use shenbao::{
    ActionRequest, Application, CityConfig, Draft, HostConfig, Kernel, KernelConfig, ManualClock, Organisation,
    RoleGrant, Round, RoundSpec, Scope, Timestamp, User, Window,
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
        profile: serde_json::json!({ "contact": "示例联系人", "phone": "0752-0000000" }).into(),
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

/// The key type of the kernel's text-keyed tables as redb records it (schema
/// version 3: `shenbao::TextKey`, bytes compared as bytes), so a test can open them
/// with redb directly.
#[derive(Debug)]
pub enum TextKey {}

impl redb::Value for TextKey {
    type SelfType<'a>
        = &'a str
    where
        Self: 'a;
    type AsBytes<'a>
        = &'a [u8]
    where
        Self: 'a;
    fn fixed_width() -> Option<usize> {
        None
    }
    fn from_bytes<'a>(data: &'a [u8]) -> &'a str
    where
        Self: 'a,
    {
        std::str::from_utf8(data).unwrap()
    }
    fn as_bytes<'a, 'b: 'a>(value: &'a &'b str) -> &'a [u8]
    where
        Self: 'b,
    {
        value.as_bytes()
    }
    fn type_name() -> redb::TypeName {
        redb::TypeName::new("shenbao::TextKey")
    }
}

impl redb::Key for TextKey {
    fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        a.cmp(b)
    }
}

/// Every table of schema version 3, each dumped as (key bytes, value bytes) rows,
/// by name — to compare a database before and after a round trip through an older
/// layout.
pub type Dump = std::collections::BTreeMap<String, Vec<(Vec<u8>, Vec<u8>)>>;

fn dump_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    tx: &redb::ReadTransaction,
    name: &str,
    out: &mut Dump,
) {
    use redb::ReadableTable;
    let t = match tx.open_table(redb::TableDefinition::<K, V>::new(name)) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return,
        Err(e) => panic!("{name}: {e}"),
    };
    let rows = t
        .iter()
        .unwrap()
        .map(|r| {
            let (k, v) = r.unwrap();
            (K::as_bytes(&k.value()).as_ref().to_vec(), V::as_bytes(&v.value()).as_ref().to_vec())
        })
        .collect();
    out.insert(name.to_string(), rows);
}

/// Move a table between key types `O` and `N` (same bytes), keeping its rows.
fn retype<O, N, V>(tx: &redb::WriteTransaction, name: &str)
where
    O: redb::Key + 'static,
    N: redb::Key + 'static,
    V: redb::Value + 'static,
    for<'a> O::SelfType<'a>: std::borrow::Borrow<N::SelfType<'a>>,
{
    use redb::ReadableTable;
    let old = redb::TableDefinition::<O, V>::new(name);
    let src = match tx.open_table(old) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return,
        Err(e) => panic!("{name}: {e}"),
    };
    let tmp = format!("{name}.tmp");
    let new = redb::TableDefinition::<N, V>::new(&tmp);
    {
        let mut dst = tx.open_table(new).unwrap();
        for row in src.iter().unwrap() {
            let (k, v) = row.unwrap();
            dst.insert(k.value(), v.value()).unwrap();
        }
    }
    drop(src);
    tx.delete_table(old).unwrap();
    tx.rename_table(new, redb::TableDefinition::<N, V>::new(name)).unwrap();
}

type S = &'static str;
type B = &'static [u8];
pub type T = TextKey;

/// The text-keyed tables of schema version 3 (the applicant index with its history
/// rows, `by_applicant`, which version 4 keeps as keys alone) by their types: `$f!` is called with
/// (version-3 key type, version-2 key type, value type, table name, the extra
/// arguments) for each.
macro_rules! each_text_table {
    ($f:ident, $($args:expr),*) => {
        for name in ["plugin_blobs", "regions", "orgs", "users", "rounds", "apps", "check_inputs", "tokens", "passwords", "sessions", "signin_codes"] {
            $f!(T, S, B, name, $($args),*);
        }
        for name in ["plugins", "by_applicant", "bans", "idempotency", "api_responses"] {
            $f!((T, T), (S, S), B, name, $($args),*);
        }
        $f!((T, T, T, T, T), (S, S, S, S, S), (), "queue", $($args),*);
        $f!((T, T, T), (S, S, S), u32, "quota_used", $($args),*);
        $f!((T, u64), (S, u64), (), "decisions_by_app", $($args),*);
        $f!((T, T), (S, S), u64, "blob_owners", $($args),*);
        for name in ["counters", "round_versions"] {
            $f!(T, S, u64, name, $($args),*);
        }
        $f!(T, S, (u64, S), "chain_head", $($args),*);
    };
}

/// Every table of the database at `path` (schema version 5, or 4, or 3), dumped.
pub fn dump(path: &std::path::Path) -> Dump {
    use redb::ReadableDatabase;
    let db = redb::Database::open(path).unwrap();
    let tx = db.begin_read().unwrap();
    let mut out = Dump::new();
    macro_rules! go {
        ($new:ty, $old:ty, $v:ty, $name:expr, $tx:expr, $out:expr) => {
            dump_table::<$new, $v>($tx, $name, $out)
        };
    }
    each_text_table!(go, &tx, &mut out);
    dump_table::<(T, T, T), ()>(&tx, "applications_by_applicant", &mut out);
    dump_table::<(T, T, T, T, T, T), ()>(&tx, "handled", &mut out);
    dump_table::<&str, &str>(&tx, "meta", &mut out);
    dump_table::<u64, &[u8]>(&tx, "decisions", &mut out);
    dump_table::<i32, &[u8]>(&tx, "calendars", &mut out);
    out
}

/// Rewrite the database at `path` (closed, schema version 5) into version 4's layout:
/// no handled index, and version 4 in `meta`.
pub fn downgrade_to_v4(path: &std::path::Path) {
    let db = redb::Database::open(path).unwrap();
    let tx = db.begin_write().unwrap();
    tx.delete_table(redb::TableDefinition::<(T, T, T, T, T, T), ()>::new("handled")).unwrap();
    tx.open_table(redb::TableDefinition::<&str, &str>::new("meta")).unwrap().insert("schema_version", "4").unwrap();
    tx.commit().unwrap();
}

/// Rewrite the database at `path` (closed, schema version 5) into version 3's layout
/// (version 4's, [`downgrade_to_v4`], and then):
/// the applicant index as `by_applicant` with each application's history row (what
/// a check shows a plugin), and version 3 in `meta`.
pub fn downgrade_to_v3(path: &std::path::Path) {
    use redb::ReadableTable;
    downgrade_to_v4(path);
    let db = redb::Database::open(path).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let index = redb::TableDefinition::<(T, T, T), ()>::new("applications_by_applicant");
        let apps = tx.open_table(redb::TableDefinition::<T, B>::new("apps")).unwrap();
        let rounds = tx.open_table(redb::TableDefinition::<T, B>::new("rounds")).unwrap();
        let mut rows = tx.open_table(redb::TableDefinition::<(T, T), B>::new("by_applicant")).unwrap();
        for row in tx.open_table(index).unwrap().iter().unwrap() {
            let (k, _) = row.unwrap();
            let (code, _, id) = k.value();
            let app: Application = serde_json::from_slice(apps.get(id).unwrap().unwrap().value()).unwrap();
            let round: Round =
                serde_json::from_slice(rounds.get(app.round.as_str()).unwrap().unwrap().value()).unwrap();
            // Version 3's history row, as `tables::history_row` made it.
            let decided = app.state.outcome != shenbao::contract::Outcome::Pending;
            let entry = shenbao::contract::HistoryEntry {
                application: app.id.clone(),
                round: app.round.clone(),
                program: app.program.clone(),
                year: round.spec.year,
                direction: app.direction.clone(),
                project: app.project.clone(),
                stage: app.state.stage.clone(),
                outcome: app.state.outcome,
                decided_on: decided.then(|| app.state.trail.last().map(|v| v.entered_at.local_date())).flatten(),
            };
            rows.insert((code, id), serde_json::to_vec(&entry).unwrap().as_slice()).unwrap();
        }
        tx.delete_table(index).unwrap();
        tx.open_table(redb::TableDefinition::<&str, &str>::new("meta")).unwrap().insert("schema_version", "3").unwrap();
    }
    tx.commit().unwrap();
}

/// Rewrite the database at `path` (closed, schema version 5) into schema version 2's
/// layout: version 3's ([`downgrade_to_v3`]) with every text-keyed table back under
/// redb's `&str` keys, and version 2 in `meta`.
pub fn downgrade_to_v2(path: &std::path::Path) {
    downgrade_to_v3(path);
    let db = redb::Database::open(path).unwrap();
    let tx = db.begin_write().unwrap();
    macro_rules! go {
        ($new:ty, $old:ty, $v:ty, $name:expr, $tx:expr) => {
            retype::<$new, $old, $v>($tx, $name)
        };
    }
    each_text_table!(go, &tx);
    tx.open_table(redb::TableDefinition::<&str, &str>::new("meta")).unwrap().insert("schema_version", "2").unwrap();
    tx.commit().unwrap();
}
