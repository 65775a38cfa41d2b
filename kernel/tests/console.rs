//! The console in a real browser (Debian's Chromium through playwright-core, from
//! `console/tests/browser.mjs`) against a real server on loopback with the real
//! programs: sign-in, an applicant's blocking finding shown at its field and fixed,
//! a district return and a resubmission, a city quota refusal, and every form of
//! every program rendered with its example cases — screenshots into
//! `target/console/shots` (the README's).

use shenbao::contract::{Quota, QuotaGroup, QuotaLimit, Text};
use shenbao::http::ApiConfig;
use shenbao::{ActionRequest, CaseSet, Draft, Kernel, KernelConfig, ManualClock, Timestamp};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery";

fn city_quota() -> Quota {
    Quota {
        id: "city-recommend".into(),
        title: Text::new("地市推荐名额", "city recommendation quota"),
        action: "city-recommend".into(),
        stage: Some("city-review".into()),
        group_by: QuotaGroup::City,
        default_limit: Some(5),
        limits: vec![QuotaLimit { scope: "huizhou".into(), limit: 1 }],
        channels: vec!["region".into()],
        message: Text::new("{scope} 已推荐 {used}/{limit}", "{scope} has recommended {used}/{limit}"),
    }
}

/// The example application of `org`'s user, its attachments stored; `edit` changes its data.
fn example_draft(k: &Kernel, user: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Draft {
    let case: serde_json::Value =
        serde_json::from_str(&testkit::example("enabling-resources/cases/pass-ai-application.json")).unwrap();
    let mut attachments = Vec::new();
    for a in case["attachments"].as_array().unwrap() {
        let blob = k.store_blob(user, format!("%PDF-1.7 {}", a["kind"]).as_bytes(), None).unwrap();
        let mut a = a.clone();
        a["sha256"] = blob.sha256.into();
        a["size"] = blob.size.into();
        attachments.push(serde_json::from_value(a).unwrap());
    }
    let mut data = case["data"].clone();
    edit(&mut data);
    Draft { direction: case["direction"].as_str().map(Into::into), form: None, data, project: None, attachments }
}

#[test]
fn the_console_walks_a_round_in_a_real_browser() {
    let chromium = testkit::ensure_chromium().unwrap();
    let console = testkit::ensure_console_deps().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::at(shenbao::contract::Date::new(2024, 8, 10), 9, 0));
    let mut kc = KernelConfig { clock: Arc::new(clock), ..Default::default() };
    kc.host.cache_dir = Some(testkit::shared_cache_dir());
    let k = Arc::new(Kernel::open_with(dir.path().join("console.redb"), kc).unwrap());
    let demo = testkit::root().join("examples/demo");
    k.import_regions_file(&demo.join("regions.csv")).unwrap();
    k.import_orgs_file(&demo.join("orgs.csv")).unwrap();
    k.import_users_file(&demo.join("users.csv")).unwrap();
    for user in ["org-01", "org-02", "huicheng", "huizhou", "province", "expert-1", "public", "admin"] {
        k.set_password(user, PASSWORD).unwrap();
    }
    // The three programs, each with the round of its examples, open.
    let mut forms = Vec::new();
    for program in ["enabling-resources", "eco-partners", "iiot-pilots"] {
        let installed = k.install_plugin(&testkit::plugin_bytes(program)).unwrap();
        let mut spec: shenbao::RoundSpec =
            serde_json::from_str(&testkit::example(&format!("{program}/round.json"))).unwrap();
        if program == "enabling-resources" {
            spec.quotas = Some(vec![city_quota()]);
        }
        let round = k.create_round(spec).unwrap();
        k.open_round(&round.spec.id).unwrap();
        // Each form with a few example cases: one the kernel finds valid, one it does not.
        let loaded = k.plugin(program, &installed.record.id.version).unwrap();
        let set = CaseSet::load(testkit::root().join("examples").join(program)).unwrap();
        let runs = set.run(&loaded).unwrap();
        for f in &installed.record.manifest.forms {
            let mut cases = Vec::new();
            for valid in [true, false] {
                let pick = runs.iter().find(|r| {
                    let case = &set.cases[&r.name];
                    let form = case.form.clone().or_else(|| {
                        let d = case.direction.as_deref()?;
                        installed.record.manifest.directions.iter().find(|x| x.id == d).map(|x| x.form.clone())
                    });
                    form.as_deref().unwrap_or(&installed.record.manifest.forms[0].id) == f.id
                        && r.got.findings.iter().all(|x| !x.rule_id.starts_with("schema.")) == valid
                });
                if let Some(r) = pick {
                    cases.push(serde_json::json!({ "name": r.name, "data": set.cases[&r.name].data, "valid": valid }));
                }
            }
            forms.push(serde_json::json!({ "round": round.spec.id, "form": f.id, "cases": cases }));
        }
    }
    // org-01's draft, with a resource name over its limit; org-02's application, at the city.
    let long_name = "很长的资源名称".repeat(20);
    let draft = example_draft(&k, "org-01", |d| d["resource_name"] = long_name.clone().into());
    let mine = k.save_draft("org-01", "er-2024q3", None, draft).unwrap().application.id;
    let other = k.save_draft("org-02", "er-2024q3", None, example_draft(&k, "org-02", |_| {})).unwrap().application.id;
    k.act("org-02", &other, &ActionRequest::new("submit")).unwrap();
    let rec = ActionRequest { opinion: Some("同意推荐".into()), ..ActionRequest::new("district-recommend") };
    k.act("huicheng", &other, &rec).unwrap();

    let er_sha256 = k.plugins().unwrap().into_iter().find(|p| p.id.program == "enabling-resources").unwrap().id.sha256;
    let new_org = shenbao::contract::credit_code::complete("91441302MA5D00099").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config =
        ApiConfig { secure_cookies: false, backup_dir: Some(dir.path().join("backups")), ..ApiConfig::default() };
    rt.spawn(shenbao::http::serve_on(listener, k.clone(), config, std::future::pending()));

    let shots = testkit::root().join("target").join("console").join("shots");
    let scenario = serde_json::json!({
        "base": base,
        "chromium": chromium,
        "shots": shots,
        "round": "er-2024q3",
        "eco_round": "eco-2024",
        "draft": mine,
        "other": other,
        "applicant": { "user": "org-01", "password": PASSWORD, "name": "示例惠城智能装备1号有限公司" },
        "admin": { "user": "admin", "password": PASSWORD },
        "er_sha256": er_sha256,
        "minimal_wasm": testkit::plugin_path("minimal"),
        "hostile_wasm": testkit::plugin_path("hostile"),
        "bad_orgs_csv": "统一社会信用代码,单位名称,所属市\n91441302MA5D0009XX,坏代码单位,huizhou\n91441302MA5D00001E,,huizhou\n",
        "good_orgs_csv": format!("统一社会信用代码,单位名称,所属市\n{new_org},浏览器导入的单位,惠州市\n"),
        "code_user": "org-03",
        "expert_items": { "技术国内先进或省内领先，具备服务保障体系": "90", "成熟、可推广，经济社会效益明显": "85" },
        "new_round": "er-2024q4",
        "backup_file": dir.path().join("backup.zip"),
        "district": { "user": "huicheng", "password": PASSWORD },
        "city": { "user": "huizhou", "password": PASSWORD },
        "province": { "user": "province", "password": PASSWORD },
        "expert": { "user": "expert-1", "password": PASSWORD },
        "public": { "user": "public", "password": PASSWORD },
        "summary_file": dir.path().join("summary.xlsx"),
        "fix": { "field_id": "root_resource_name", "finding": "资源名称", "value": "示例视觉质检赋能方案" },
        "return_title": "区县回退",
        "recommend_title": "区县推荐",
        "draft_stage_title": "申报人申报",
        "city_recommend_title": "地市推荐",
        "city_batch": [mine, other],
        "quota_refusal": "已推荐 1/1",
        "forms": forms,
    });
    let file = dir.path().join("scenario.json");
    std::fs::write(&file, serde_json::to_vec(&scenario).unwrap()).unwrap();
    let out = std::process::Command::new("node")
        .arg(console.join("tests").join("browser.mjs"))
        .arg(&file)
        .current_dir(&console)
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("ok: console walk passed"), "{text}");
    // What the browser did, the kernel recorded: the application waits at the
    // notice with the public's objection open.
    let app = k.application(&mine).unwrap();
    assert_eq!((app.state.stage.as_str(), app.state.open_objections), ("public-notice", 1));
    let decisions: Vec<String> = k.decisions_of(&mine).unwrap().into_iter().map(|d| d.action).collect();
    for a in [
        "submit",
        "district-return",
        "district-recommend",
        "city-recommend",
        "province-recommend",
        "assign-experts",
        "score",
        "publish-notice",
        "object",
    ] {
        assert!(decisions.iter().any(|d| d == a), "{a} in {decisions:?}");
    }
    // The summary table the province downloaded lists the application by its name.
    use calamine::{Reader, open_workbook_auto};
    let mut book = open_workbook_auto(dir.path().join("summary.xlsx")).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = sheet.rows().flatten().map(|c| c.to_string()).collect();
    assert!(cells.iter().any(|c| c.contains("示例视觉质检赋能方案")), "{cells:?}");
    assert_eq!(k.application(&mine).unwrap().data.to_value()["resource_name"], "示例视觉质检赋能方案");
    // The fresh eco draft holds nothing the applicant did not fill in.
    let org01 = k.user("org-01").unwrap().unwrap();
    let code = org01
        .grants
        .iter()
        .find_map(|g| match &g.scope {
            shenbao::Scope::Organisation(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    let eco = k.applications_of(&code).unwrap().into_iter().find(|a| a.round == "eco-2024").expect("the eco draft");
    let data = eco.data.to_value();
    fn no_nulls(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Null => false,
            serde_json::Value::Array(xs) => xs.iter().all(no_nulls),
            serde_json::Value::Object(m) => m.values().all(no_nulls),
            _ => true,
        }
    }
    assert!(no_nulls(&data), "{data}");
    for preset in ["enterprise_type", "listing", "direct", "rd_organisation"] {
        assert!(data.get(preset).is_none(), "{preset} was not filled in: {data}");
    }
    // The expert's item scores, and their mean as its score.
    let scored = k.application(&mine).unwrap().state;
    assert_eq!(scored.scores["expert-1"], 87.5, "{scored:?}");
    assert_eq!(scored.item_scores["expert-1"].len(), 2, "{scored:?}");
    // What the administrator did in the browser, the kernel holds.
    assert_eq!(k.org(&new_org).unwrap().unwrap().name, "浏览器导入的单位");
    assert!(
        k.org("91441302MA5D00001E").unwrap().unwrap().name.starts_with("示例惠城"),
        "the refused import wrote nothing"
    );
    let cal = k.calendar(2025).unwrap();
    assert!(cal.holidays.contains(&shenbao::contract::Date::new(2025, 10, 1)), "{cal:?}");
    // The walk's round, closed in the browser after its refusal, keeps its application
    // where it was.
    assert_eq!(k.round("er-2024q3").unwrap().status, shenbao::RoundStatus::Closed);
    assert_eq!(k.application(&mine).unwrap().state.stage, "public-notice");
    let made = k.round("er-2024q4").unwrap();
    assert_eq!(made.status, shenbao::RoundStatus::Open);
    assert!(made.spec.cities["guangzhou"].district_review, "{:?}", made.spec.cities);
    assert_eq!(
        made.spec.cities["huizhou"],
        k.round("er-2024q3").unwrap().spec.cities["huizhou"],
        "the template's settings"
    );
    assert!(k.plugins().unwrap().iter().any(|p| p.id.program == "minimal"), "the plugin installed in the browser");
    // The backup downloads as a ZIP of the database and its attachments.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(dir.path().join("backup.zip")).unwrap()).unwrap();
    let unpacked = dir.path().join("unpacked");
    zip.extract(&unpacked).unwrap();
    let db = std::fs::read_dir(&unpacked)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "redb"))
        .unwrap();
    assert!(db.with_file_name(format!("{}.blobs", db.file_name().unwrap().to_string_lossy())).is_dir());
    let restored = dir.path().join("restored.redb");
    Kernel::restore(&db, &restored).unwrap();
    let copy = Kernel::open(&restored).unwrap();
    assert!(copy.decision_count().unwrap() > 0);
    assert_eq!(copy.application(&mine).unwrap().id, mine);
    // The attachment uploaded in the browser, with its date, is on the application.
    let uploaded = app.attachments.iter().find(|a| a.name == "用户反馈.pdf").expect("the browser's upload");
    assert_eq!(
        (uploaded.kind.as_str(), uploaded.issued_on.map(|d| d.to_string())),
        ("customer-feedback", Some("2024-07-01".into()))
    );
    assert!(k.blob_path(&uploaded.sha256).exists());
    for shot in ["applicant-form.png", "applicant-finding.png", "officer-queue.png", "quota-refusal.png"] {
        assert!(shots.join(shot).is_file(), "{shot}");
        // The README's screenshots are this run's.
        if std::env::var_os("SHENBAO_BLESS").is_some() {
            let docs = testkit::root().join("docs").join("screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::copy(shots.join(shot), docs.join(shot)).unwrap();
        }
    }
}
