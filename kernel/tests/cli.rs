//! The `shenbao` program, run as a process on a real database with a real plugin.

use std::process::Command;

fn shenbao(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("SHENBAO_CACHE_DIR", db.parent().unwrap().join("cache"))
        .output()
        .unwrap()
}

/// An opinion as a hostile reviewer might write it: clear screen, right-to-left
/// override, a forged line and column, C1 CSI and DEL.
const HOSTILE: &str = "名额已满\u{1b}[2J\u{202e}\nok\tforged\u{9b}31m\u{7f}";
/// Text that may be stored but must not forge lines or columns when printed.
const FORGING: &str = "名额已满\nok\tforged";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plugin_install_list_show_verify_and_the_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.redb");
    let wasm = testkit::plugin_path("enabling-resources");

    let out = shenbao(&db, &["plugin", "install", wasm.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("installed enabling-resources@0.1.0"), "{}", text(&out.stdout));
    let again = shenbao(&db, &["plugin", "install", wasm.to_str().unwrap()]);
    assert!(text(&again.stdout).starts_with("already installed"));
    // --json: the id's fields, whether this install added it, and the form warnings as
    // data (none for this program's forms), nothing on standard error.
    let j = shenbao(&db, &["--json", "plugin", "install", wasm.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!((v["program"].as_str(), v["version"].as_str()), (Some("enabling-resources"), Some("0.1.0")), "{v}");
    assert_eq!((v["newly_installed"].as_bool(), v["form_warnings"].as_array().map(Vec::len)), (Some(false), Some(0)));
    assert!(v["sha256"].as_str().is_some_and(|h| h.len() == 64) && j.stderr.is_empty(), "{}", text(&j.stderr));

    let list = text(&shenbao(&db, &["plugin", "list"]).stdout);
    assert_eq!(list.lines().count(), 1);
    assert!(list.starts_with("enabling-resources\t0.1.0\t"));

    // The manifest as the program describes it (issue 18); --record the installed record.
    let show = shenbao(&db, &["plugin", "show", "enabling-resources", "0.1.0"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!((v["program"].as_str(), v["version"].as_str()), (Some("enabling-resources"), Some("0.1.0")), "{v}");
    assert!(v["forms"][0]["schema"].is_string() && v.get("manifest").is_none(), "{v}");
    let record = shenbao(&db, &["plugin", "show", "enabling-resources", "0.1.0", "--record"]);
    let v: serde_json::Value = serde_json::from_slice(&record.stdout).unwrap();
    assert_eq!(v["manifest"]["program"], "enabling-resources");
    assert_eq!(v["id"]["sha256"].as_str().map(str::len), Some(64), "{v}");

    let verify = shenbao(&db, &["plugin", "verify", "enabling-resources", "0.1.0"]);
    assert!(verify.status.success() && text(&verify.stdout).starts_with("ok "));

    // Errors: one line, cause and what to do, meaningful exit codes.
    let missing = shenbao(&db, &["plugin", "show", "nope", "9.9.9"]);
    assert_eq!(missing.status.code(), Some(3));
    let err = text(&missing.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no plugin nope@9.9.9 is installed") && err.contains("shenbao plugin list"), "{err}");

    let future = shenbao(&db, &["plugin", "install", testkit::plugin_path("future-version").to_str().unwrap()]);
    assert_eq!(future.status.code(), Some(4));
    assert!(text(&future.stderr).contains("2.0.0"), "{}", text(&future.stderr));

    let nofile = shenbao(&db, &["plugin", "install", "/nonexistent.wasm"]);
    assert_eq!(nofile.status.code(), Some(3));

    // --help on every subcommand carries an example.
    for sub in ["install", "list", "show", "verify", "test"] {
        let help = Command::new(env!("CARGO_BIN_EXE_shenbao")).args(["plugin", sub, "--help"]).output().unwrap();
        assert!(text(&help.stdout).contains("Example:"), "{sub}");
    }
}

/// `shenbao demo` on a temporary folder: its JSON report, the summary tables it
/// wrote (read back with calamine) against the round's state, the chain.
#[test]
fn demo_runs_all_three_programs_and_its_report_holds() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = testkit::plugin_path("enabling-resources").parent().unwrap().to_path_buf();
    let out = Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .args(["demo", "--json", "--dir"])
        .arg(dir.path())
        .arg("--plugins")
        .arg(&plugins)
        .arg("--examples")
        .arg(testkit::root().join("examples"))
        .env("SHENBAO_CACHE_DIR", dir.path().join("cache"))
        .env_remove("SHENBAO_DB")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["chain_verified"], true);
    assert_eq!(report["indexes_consistent"], true);
    let programs = report["programs"].as_array().unwrap();
    let names: Vec<&str> = programs.iter().map(|p| p["program"].as_str().unwrap()).collect();
    assert_eq!(names, ["iiot-pilots", "eco-partners", "enabling-resources"]);

    for p in programs {
        let program = p["program"].as_str().unwrap();
        assert_eq!(p["replay_identical"], true, "{program}");
        assert!(p["submitted"].as_u64().unwrap() >= 7, "{program}");
        // Each refused case is refused for the rule it is named after.
        let refused = p["refused"].as_array().unwrap();
        assert_eq!(refused.len(), 3, "{program}: {refused:?}");
        for r in refused {
            let case = r["case"].as_str().unwrap();
            let rule = case.strip_prefix("fail-").unwrap();
            let rules: Vec<&str> = r["rules"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
            assert_eq!(rules, [rule], "{program} {case}");
        }
        assert!(p["outcomes"]["not-passed"].as_u64().unwrap() >= 1, "{program}: a rejection");
    }

    // The pilot round: Huizhou's ten projects meet the Pearl River Delta limit of 8.
    let iiot = &programs[0];
    let hits = iiot["quota_hits"].as_array().unwrap();
    assert!(hits.iter().all(|h| h["quota"] == "iiot.quota.city" && h["scope"] == "huizhou" && h["limit"] == 8));
    assert_eq!(hits.len(), 3, "the whole batch, then each of the two left over: {hits:?}");
    let huizhou = iiot["recommended_by_city"].as_array().unwrap().iter().find(|c| c["city"] == "huizhou").unwrap();
    assert_eq!((huizhou["recommended"].as_u64(), huizhou["limit"].as_u64()), (Some(8), Some(8)));
    assert_eq!(iiot["outcomes"]["passed"].as_u64().unwrap() + iiot["outcomes"]["not-passed"].as_u64().unwrap(), 16);

    // Eco-partners and enabling resources: withdraw, return and resubmit, the objection.
    for p in &programs[1..] {
        let events: Vec<&str> = p["events"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
        // What people read is Chinese with the English beside it.
        for e in &events {
            let zh = e.split(" / ").next().unwrap();
            assert!(e.contains(" / ") && zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{e}");
        }
        for needle in ["withdrew", "resubmitted", "did not recommend", "objections_open", "resolved"] {
            assert!(events.iter().any(|e| e.contains(needle)), "{}: no {needle:?} in {events:?}", p["program"]);
        }
    }
    let er = &programs[2];
    let events = er["events"].to_string();
    assert!(events.contains("yearly report") && events.contains("warned"), "{events}");
    assert_eq!(er["outcomes"]["library"], 5);

    // The city summary the demo wrote, read back, equals the round's state: the
    // organisations Huizhou recommended and did not withdraw, in the order it ranked them.
    let db = dir.path().join("shenbao.redb");
    let xlsx = dir.path().join("exports/iiot-2023-city-huizhou.xlsx");
    let rows = read_xlsx(&xlsx);
    assert_eq!(rows[0][0], "2023年工业互联网试点示范推荐项目汇总表");
    assert_eq!(rows[1], ["序号", "项目名称", "申报单位", "申报类别", "申报方向", "联系人", "联系电话"]);
    let k = shenbao::Kernel::open(&db).unwrap();
    let mut expected: Vec<(u32, String)> = Vec::new();
    for a in k.applications_in("iiot-2023").unwrap() {
        let org = k.org(&a.applicant).unwrap().unwrap();
        if org.city.as_deref() != Some("huizhou") {
            continue;
        }
        let ds = k.decisions_of(&a.id).unwrap();
        let recommended = ds.iter().any(|d| d.action == "city-recommend");
        let rank = ds.iter().filter(|d| d.action == "city-rank").filter_map(|d| d.payload.rank).next_back();
        if recommended {
            expected.push((rank.expect("every recommended project is ranked"), org.name.clone()));
        }
    }
    expected.sort();
    let got: Vec<(u32, String)> = rows[2..].iter().map(|r| (r[0].parse().unwrap(), r[2].clone())).collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 8);
    // A choice on the form shows its label: 申报类别 is 工厂类, not `factory`.
    let categories = ["新技术类", "工厂类", "载体类", "园区类", "网络类", "平台类", "安全类"];
    for r in &rows[2..] {
        assert!(categories.contains(&r[3].as_str()), "申报类别 {:?}", r[3]);
    }

    // The eco-partner province table keeps the seed's two sections.
    let eco = read_xlsx(&dir.path().join("exports/eco-2024-province.xlsx"));
    let flat: Vec<&str> = eco.iter().map(|r| r[0].as_str()).collect();
    assert!(flat.contains(&"遴选加入单位") && flat.contains(&"直接认定单位"), "{flat:?}");

    // The database stands on its own: the CLI verifies it.
    drop(k);
    let audit = shenbao(&db, &["audit", "verify"]);
    assert!(audit.status.success(), "{}", text(&audit.stderr));
}

fn read_xlsx(path: &std::path::Path) -> Vec<Vec<String>> {
    use calamine::{Reader, open_workbook_auto};
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// A small round driven only through the command line, as an administrator would
/// script it: imports (CSV and XLSX), round, drafts, a refused submission, reviews,
/// the queue, a quota refusal, exports, audit, replay, tokens, backup and restore.
#[test]
fn a_round_scripted_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.redb");
    let demo = testkit::root().join("examples/demo");
    let p = |x: &std::path::Path| x.to_str().unwrap().to_string();
    ok(&shenbao(&db, &["plugin", "install", &p(&testkit::plugin_path("enabling-resources"))]));
    assert!(ok(&shenbao(&db, &["import", "regions", &p(&demo.join("regions.csv"))])).contains("imported 43 regions"));

    // A bad organisation sheet names the row and column and imports nothing.
    let bad = dir.path().join("bad-orgs.csv");
    std::fs::write(&bad, "统一社会信用代码,单位名称,所属市,所属区县\n91441302MA5D00001E,甲公司,huizhou,huizhou.huicheng\n91441302MA5D00001X,乙公司,huizhou,huizhou.huicheng\n").unwrap();
    let out = shenbao(&db, &["import", "orgs", &p(&bad)]);
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    // The column as the file heads it, in the Chinese half too.
    assert!(err.contains("第 3 行「统一社会信用代码」") && err.contains("nothing was imported"), "{err}");
    // An unknown file type, in Chinese with its English twin.
    let odd = dir.path().join("orgs.pdf");
    std::fs::write(&odd, "x").unwrap();
    let err = text(&shenbao(&db, &["import", "orgs", &p(&odd)]).stderr);
    assert!(err.contains("不支持的文件类型") && err.contains("unknown file type"), "{err}");
    assert_eq!(shenbao::io::read_sheet(&bad).unwrap().rows.len(), 2);
    // Organisations from an XLSX sheet (Chinese headers), users from CSV.
    let xlsx = dir.path().join("orgs.xlsx");
    {
        let sheet = shenbao::io::read_sheet(&demo.join("orgs.csv")).unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write(0, c as u16, h.as_str()).unwrap();
        }
        for (r, (_, row)) in sheet.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write(r as u32 + 1, c as u16, v.as_str()).unwrap();
            }
        }
        wb.save(&xlsx).unwrap();
    }
    assert!(ok(&shenbao(&db, &["import", "orgs", &p(&xlsx)])).contains("imported 23 organisations"));
    assert!(ok(&shenbao(&db, &["import", "users", &p(&demo.join("users.csv"))])).contains("imported 41 users"));

    // The credit template: code required, name optional.
    let credit = dir.path().join("credit.csv");
    std::fs::write(&credit, "统一社会信用代码,单位名称\n91441302MA5D00001E,示例惠城智能装备1号有限公司\n91441302MA5D00002H,别名公司\n91441302MA5D0000ZZ,\n").unwrap();
    let rows: serde_json::Value =
        serde_json::from_str(&ok(&shenbao(&db, &["--json", "import", "credit", &p(&credit), "--mark-dishonest"])))
            .unwrap();
    assert_eq!(rows[0]["name_matches"], true);
    assert_eq!(rows[1]["name_matches"], false);
    assert_eq!(rows[2]["valid"], false);
    assert_eq!((rows[0]["marked"].as_bool(), rows[0]["dishonest"].as_bool()), (Some(true), Some(true)));

    // The dishonest cannot apply: org-01 and org-02 were just marked.
    // A round with a city quota of 1 for Huizhou, from a file.
    let mut spec: serde_json::Value = serde_json::from_str(&testkit::example("enabling-resources/round.json")).unwrap();
    spec["cities"]["huizhou"] = serde_json::json!({ "district_review": false });
    spec["quotas"] = serde_json::json!([{
        "id": "city", "title": {"zh": "地市推荐名额", "en": "city quota"}, "action": "city-recommend",
        "stage": "city-review", "group_by": "city", "default_limit": null,
        "limits": [{"scope": "huizhou", "limit": 1}], "channels": [],
        "message": {"zh": "{scope} 已推荐 {used}/{limit}", "en": "{scope} has recommended {used}/{limit}"}
    }]);
    let round_file = dir.path().join("round.json");
    std::fs::write(&round_file, spec.to_string()).unwrap();
    ok(&shenbao(&db, &["round", "create", &p(&round_file)]));
    assert_eq!(shenbao(&db, &["round", "create", &p(&round_file)]).status.code(), Some(7));
    ok(&shenbao(&db, &["round", "open", "er-2024q3"]));

    // Drafts from the example case, attachments stored with `app attach`.
    let case: serde_json::Value =
        serde_json::from_str(&testkit::example("enabling-resources/cases/pass-ai-application.json")).unwrap();
    let mut attachments = Vec::new();
    for a in case["attachments"].as_array().unwrap() {
        let f = dir.path().join(a["name"].as_str().unwrap());
        std::fs::write(&f, format!("%PDF-1.7 {}", a["kind"])).unwrap();
        // Each applicant's user uploads the file: only the uploader may attach it.
        let mut b = serde_json::Value::Null;
        for user in ["org-03", "org-04", "org-05"] {
            b = serde_json::from_str(&ok(&shenbao(&db, &["--json", "app", "attach", "--as", user, &p(&f)]))).unwrap();
        }
        let mut a = a.clone();
        a["sha256"] = b["sha256"].clone();
        a["size"] = b["size"].clone();
        attachments.push(a);
    }
    let draft = |data: &serde_json::Value| {
        serde_json::json!({ "direction": case["direction"], "data": data, "attachments": attachments }).to_string()
    };
    let mut ids = Vec::new();
    for (user, n) in [("org-03", 1), ("org-04", 2), ("org-05", 3)] {
        let f = dir.path().join(format!("draft-{n}.json"));
        std::fs::write(&f, draft(&case["data"])).unwrap();
        // `--now`: a rehearsal clock inside the round's window.
        let out: serde_json::Value = serde_json::from_str(&ok(&shenbao(
            &db,
            &["--now", "2024-08-09 15:00", "--json", "app", "draft", "--as", user, "--round", "er-2024q3", &p(&f)],
        )))
        .unwrap();
        ids.push((user, out["application"]["id"].as_str().unwrap().to_string()));
    }
    // Today is past the 2024 window: submission is refused by the state, exit 7.
    let out = shenbao(&db, &["app", "submit", "--as", "org-03", &ids[0].1]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("window_closed"), "{}", text(&out.stderr));
    // In the window (a rehearsal clock): two submitted, one with broken data refused, exit 4.
    let at = |t: &str, args: &[&str]| {
        let mut v = vec!["--now", t];
        v.extend_from_slice(args);
        shenbao(&db, &v)
    };
    let aug = "2024-08-10 09:00";
    ok(&at(aug, &["app", "submit", "--as", "org-03", &ids[0].1]));
    ok(&at(aug, &["app", "submit", "--as", "org-04", &ids[1].1]));
    let mut broken = case["data"].clone();
    broken.as_object_mut().unwrap().remove("commitment");
    let f = dir.path().join("broken.json");
    std::fs::write(&f, draft(&broken)).unwrap();
    ok(&at(aug, &["app", "draft", "--as", "org-05", "--round", "er-2024q3", "--app", &ids[2].1, &p(&f)]));
    let out = at(aug, &["app", "submit", "--as", "org-05", &ids[2].1]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("blocking_findings"), "{}", text(&out.stderr));
    // The city: its queue, one recommendation, the quota refusing the second (exit 7).
    let queue = ok(&at("2024-09-02 10:00", &["queue", "--as", "huizhou", "--round", "er-2024q3"]));
    assert_eq!(queue.lines().count(), 2, "{queue}");
    // Each line: id, stage, city, district, the applicant's name, the project, the due date.
    for line in queue.lines() {
        let cells: Vec<&str> = line.split('\t').collect();
        assert_eq!(cells.len(), 7, "{line}");
        assert!(!cells[4].is_empty(), "the applicant's name: {line}");
    }
    // A missing object is exit 3 with the same code the API gives (404 not_found);
    // an action the graph lacks is refused input, exit 4 (422 over HTTP).
    for args in [
        vec!["queue", "--as", "huizhou", "--round", "nope"],
        vec!["round", "show", "nope"],
        vec!["round", "open", "nope"],
        vec!["app", "show", "A9999999"],
        vec!["app", "history", "A9999999"],
        vec!["app", "list", "--round", "nope"],
        vec!["user", "token", "issue", "nobody"],
    ] {
        let out = shenbao(&db, &args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("[not_found]"), "{args:?}: {}", text(&out.stderr));
    }
    // Another organisation's application answers exactly like a missing one, as over HTTP.
    for args in [
        vec!["app", "submit", "--as", "org-04", ids[2].1.as_str()],
        vec!["review", "act", "--as", "org-04", ids[0].1.as_str(), "submit"],
        vec!["review", "act", "--as", "guangzhou", ids[0].1.as_str(), "city-recommend", "--opinion", "同意"],
    ] {
        let out = at("2024-09-02 10:00", &args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("[not_found]"), "{args:?}: {}", text(&out.stderr));
    }
    let out = at("2024-09-02 10:00", &["review", "act", "--as", "huizhou", &ids[0].1, "fly-to-the-moon"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("[unknown_action]"), "{}", text(&out.stderr));
    ok(&at(
        "2024-09-02 10:00",
        &["review", "act", "--as", "huizhou", &ids[0].1, "city-recommend", "--opinion", "同意推荐"],
    ));
    // The city's lists from the command line: what waits, what it recommended, a
    // page after a row, an empty page, a list that does not exist (usage, exit 2).
    let list = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["queue", "--as", "huizhou", "--round", "er-2024q3"];
        args.extend_from_slice(extra);
        ok(&at("2024-09-02 10:01", &args)).lines().map(|l| l.split('\t').next().unwrap().to_string()).collect()
    };
    assert_eq!(list(&[]), [ids[1].1.clone()]);
    assert_eq!(list(&["--view", "recommended"]), [ids[0].1.clone()]);
    assert_eq!(list(&["--view", "recommended", "--stage", "province-review"]), [ids[0].1.clone()]);
    assert!(list(&["--view", "recommended", "--stage", "city-review"]).is_empty());
    // A full page ends with the next page's cursor; a page after it goes on from that
    // place, and text that is no cursor, or a stage the round lacks, is refused (4).
    let page = at(
        "2024-09-02 10:01",
        &["queue", "--as", "huizhou", "--round", "er-2024q3", "--view", "recommended", "--limit", "1"],
    );
    let cursor = text(&page.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("next page: --after '").map(|c| c.trim_end_matches('\'').to_string()))
        .unwrap_or_else(|| panic!("{}", text(&page.stderr)));
    assert!(cursor.ends_with(&format!("|{}", ids[0].1)), "{cursor}");
    assert!(list(&["--view", "recommended", "--after", &cursor]).is_empty());
    for bad in [vec!["--after", ids[0].1.as_str()], vec!["--stage", "nowhere"]] {
        let mut args = vec!["queue", "--as", "huizhou", "--round", "er-2024q3"];
        args.extend_from_slice(&bad);
        let out = at("2024-09-02 10:01", &args);
        assert_eq!(out.status.code(), Some(4), "{bad:?}: {}", text(&out.stderr));
    }
    assert!(list(&["--view", "not-recommended"]).is_empty());
    assert!(list(&["--limit", "0"]).is_empty());
    let out = at("2024-09-02 10:01", &["queue", "--as", "huizhou", "--round", "er-2024q3", "--view", "approved"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not-recommended"), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("shenbao：用法错误：参数“--view <VIEW>”的取值“approved”无效"),
        "{}",
        text(&out.stderr)
    );
    // Every usage error is said in Chinese first, naming what is wrong, then clap's
    // English with the usage (exit 2); help is not an error.
    for (args, said) in [
        (vec!["round", "frob"], "没有子命令“frob”"),
        (vec!["round", "show", "x", "--frobnicate"], "不认识的参数“--frobnicate”"),
        (vec!["round", "show"], "缺少必需的参数"),
        (vec!["round"], "缺少子命令"),
        (
            vec!["queue", "--as", "huizhou", "--round", "er-2024q3", "--limit", "many"],
            "参数“--limit <LIMIT>”的取值“many”无效",
        ),
    ] {
        let out = shenbao(&db, &args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("shenbao：用法错误：{said}")) && first.ends_with("/ usage error:"),
            "{args:?}: {err}"
        );
        let rest = err.split_once('\n').map(|(_, r)| r).unwrap_or_default();
        assert!(rest.contains("--help") || rest.contains("Usage:"), "clap's English follows: {err}");
    }
    let help = shenbao(&db, &["round", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Usage:") && help.stderr.is_empty());
    let out = at(
        "2024-09-02 10:05",
        &["review", "batch", "--as", "huizhou", "city-recommend", &ids[1].1, "--opinion", "同意"],
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("quota_exceeded") && text(&out.stderr).contains("1/1"), "{}", text(&out.stderr));
    let out = at("2024-09-02 10:06", &["review", "act", "--as", "huizhou", &ids[1].1, "city-not-recommend"]);
    assert_eq!(out.status.code(), Some(4), "an opinion is required: {}", text(&out.stderr));
    // Idempotency keys from the command line: the repeat returns the first decision.
    // An opinion with control or bidi characters is refused (exit 4, nothing recorded);
    // line breaks and tabs are text.
    let out =
        shenbao(&db, &["review", "act", "--as", "huizhou", &ids[1].1, "city-not-recommend", "--opinion", HOSTILE]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("控制字符"), "{}", text(&out.stderr));
    let args =
        ["review", "act", "--as", "huizhou", &ids[1].1, "city-not-recommend", "--opinion", FORGING, "--key", "k-1"];
    let first = ok(&at("2024-09-02 10:07", &args));
    let again = ok(&at("2024-09-02 10:08", &args));
    assert!(again.contains("repeated key") && again.starts_with(first.trim_end()), "{first} / {again}");
    // Replay every recorded check of an application.
    assert!(ok(&shenbao(&db, &["replay", &ids[0].1])).contains("identical"));

    // Text from outside prints escaped: no escape sequence, bidi control or forged
    // line or column reaches the terminal; the JSON keeps the text itself.
    let history = ok(&shenbao(&db, &["app", "history", &ids[1].1]));
    assert!(!history.contains(['\u{1b}', '\u{202e}', '\u{9b}', '\u{7f}']), "{history:?}");
    assert!(history.contains("名额已满\\u{a}ok\\u{9}forged"), "{history:?}");
    assert!(history.lines().filter(|l| !l.starts_with("  ")).all(|l| l.split('\t').count() == 7), "{history:?}");
    let json = ok(&shenbao(&db, &["--json", "app", "history", &ids[1].1]));
    assert!(!json.contains(['\u{1b}', '\u{202e}', '\u{9b}', '\u{7f}']), "{json:?}");
    let ds: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert!(ds.iter().any(|d| d["opinion"] == FORGING));

    // The human history shows each recorded check's findings and signals, one line each.
    let human = ok(&shenbao(&db, &["app", "history", &ids[0].1]));
    let recorded: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&shenbao(&db, &["--json", "app", "history", &ids[0].1]))).unwrap();
    let n: usize = recorded
        .iter()
        .filter_map(|d| d["check"].as_object())
        .map(|c| {
            ["findings", "kernel_findings", "signals"]
                .iter()
                .map(|k| c[*k].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        })
        .sum();
    assert!(n > 0, "the submission's check recorded something: {recorded:?}");
    assert_eq!(human.lines().filter(|l| l.starts_with("  ")).count(), n, "{human}");

    // History, show, list, actions.
    assert!(ok(&shenbao(&db, &["app", "history", &ids[0].1])).contains("save-draft"));
    // What `review act` would accept, from the engine: submit in the window, refused
    // (with the reason) after it; nothing for a user who may not see it.
    let listed = ok(&at(aug, &["review", "actions", "--as", "org-05", &ids[2].1]));
    assert!(listed.lines().any(|l| l.starts_with("submit\t") && l.contains("needs: -")), "{listed}");
    let listed = ok(&shenbao(&db, &["review", "actions", "--as", "org-05", &ids[2].1]));
    assert!(listed.lines().any(|l| l.starts_with("submit\t") && l.contains("refused [window_closed]")), "{listed}");
    assert_eq!(shenbao(&db, &["review", "actions", "--as", "org-03", &ids[2].1]).status.code(), Some(3));
    assert_eq!(ok(&shenbao(&db, &["app", "list", "--round", "er-2024q3"])).lines().count(), 3);

    // Tokens: issued once, listed without the secret, revoked.
    let t: serde_json::Value =
        serde_json::from_str(&ok(&shenbao(&db, &["--json", "user", "token", "issue", "huizhou", "--label", "前端"])))
            .unwrap();
    let secret = t["secret"].as_str().unwrap();
    assert!(secret.starts_with("sb_") && secret.len() == 67);
    let list = ok(&shenbao(&db, &["user", "token", "list"]));
    assert!(list.contains(t["info"]["id"].as_str().unwrap()) && !list.contains(secret));
    ok(&shenbao(&db, &["user", "token", "revoke", t["info"]["id"].as_str().unwrap()]));
    assert!(ok(&shenbao(&db, &["user", "token", "list"])).contains("revoked"));

    // Exports and audit, backup and restore.
    let out_csv = dir.path().join("summary.csv");
    ok(&shenbao(
        &db,
        &[
            "export",
            "summary",
            "--round",
            "er-2024q3",
            "--level",
            "city",
            "--scope",
            "huizhou",
            "--format",
            "csv",
            "--out",
            &p(&out_csv),
        ],
    ));
    let csv = std::fs::read_to_string(&out_csv).unwrap();
    assert_eq!(csv.trim_start_matches('\u{feff}').lines().next(), Some("序号,申报单位名称,资源名称,赋能范围"));
    // `--out -`: the same table on standard output, and no file named "-".
    let piped = ok(&shenbao(
        &db,
        &[
            "export",
            "summary",
            "--round",
            "er-2024q3",
            "--level",
            "city",
            "--scope",
            "huizhou",
            "--format",
            "csv",
            "--out",
            "-",
        ],
    ));
    assert_eq!(piped, csv);
    assert!(!std::path::Path::new("-").exists());
    // JSON on standard output ends its line; the file's default name is the HTTP API's.
    let args = ["export", "summary", "--round", "er-2024q3", "--level", "city", "--scope", "huizhou", "--format"];
    let json = ok(&shenbao(&db, &[&args[..], &["json", "--out", "-"]].concat()));
    assert!(json.ends_with("}\n") && serde_json::from_str::<serde_json::Value>(&json).is_ok(), "{json}");
    let written = std::process::Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .current_dir(dir.path())
        .arg("--db")
        .arg(&db)
        .args([&args[..], &["csv"]].concat())
        .env("SHENBAO_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    let n = csv.trim_start_matches('\u{feff}').lines().count() - 1;
    let said = format!("{n} {} in 1 section", if n == 1 { "row" } else { "rows" });
    assert!(text(&written.stdout).contains(&said), "{said}: {}", text(&written.stdout));
    assert_eq!(std::fs::read_to_string(dir.path().join("er-2024q3-city-huizhou-summary.csv")).unwrap(), csv);
    // A year without a calendar says so.
    let cal = ok(&shenbao(&db, &["calendar", "show", "2031"]));
    assert!(cal.contains("no holidays or make-up days set for 2031"), "{cal}");
    let jsonl = dir.path().join("round.jsonl");
    ok(&shenbao(&db, &["export", "round", "er-2024q3", "--out", &p(&jsonl)]));
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["type"], "round");
    assert_eq!(lines.iter().filter(|l| l["type"] == "application").count(), 3);
    assert_eq!(lines.iter().filter(|l| l["type"] == "decision").count(), 8);
    assert!(ok(&shenbao(&db, &["audit", "verify"])).starts_with("ok: 8 decisions"));
    assert!(lines.iter().any(|l| l["type"] == "check-input"), "replay needs the check inputs");
    // The export read into another database: the round's decisions chained there,
    // their origins kept, the recorded checks replayable.
    let archive = dir.path().join("archive.redb");
    ok(&shenbao(&archive, &["plugin", "install", &p(&testkit::plugin_path("enabling-resources"))]));
    ok(&shenbao(&archive, &["import", "regions", &p(&demo.join("regions.csv"))]));
    let imported: serde_json::Value =
        serde_json::from_str(&ok(&shenbao(&archive, &["--json", "import", "round", &p(&jsonl)]))).unwrap();
    assert_eq!((imported["applications"].as_u64(), imported["decisions"].as_u64()), (Some(3), Some(8)));
    assert!(ok(&shenbao(&archive, &["audit", "verify"])).starts_with("ok: 8 decisions"));
    let renamed = imported["renamed"][&ids[0].1].as_str().unwrap();
    assert!(ok(&shenbao(&archive, &["replay", renamed])).contains("identical"));
    let again = shenbao(&archive, &["import", "round", &p(&jsonl)]);
    assert_eq!(again.status.code(), Some(7), "the round exists now: {}", text(&again.stderr));
    // An altered export is refused whole.
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, std::fs::read_to_string(&jsonl).unwrap().replace("同意推荐", "不同意")).unwrap();
    let other = dir.path().join("other.redb");
    ok(&shenbao(&other, &["plugin", "install", &p(&testkit::plugin_path("enabling-resources"))]));
    let out = shenbao(&other, &["import", "round", &p(&tampered)]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("altered"), "{}", text(&out.stderr));
    // So is one whose applications contradict their decisions: a stage no decision
    // led to, or form data other than what the last check read.
    let exported = std::fs::read_to_string(&jsonl).unwrap();
    let app_line = exported.lines().find(|l| l.contains(r#""type":"application""#)).unwrap();
    let stage =
        serde_json::from_str::<serde_json::Value>(app_line).unwrap()["state"]["stage"].as_str().unwrap().to_string();
    let edits = [
        (format!(r#""stage":"{stage}""#), r#""stage":"passed""#.to_string(), "moved it to"),
        (r#""resource_name":""#.to_string(), r#""resource_name":"改过的"#.to_string(), "not what its last check read"),
    ];
    let applicant =
        serde_json::from_str::<serde_json::Value>(app_line).unwrap()["applicant"].as_str().unwrap().to_string();
    let another = exported
        .lines()
        .filter(|l| l.contains(r#""type":"organisation""#))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["credit_code"].as_str().unwrap().to_string())
        .find(|c| *c != applicant)
        .unwrap_or_else(|| "91441302MA5D00002H".into());
    let edits = edits.into_iter().chain([(
        format!(r#""applicant":"{applicant}""#),
        format!(r#""applicant":"{another}""#),
        "not what its last check read",
    )]);
    let try_import = |text_of_export: String, says: &str| {
        let edited = dir.path().join("edited.jsonl");
        std::fs::write(&edited, text_of_export).unwrap();
        let out = shenbao(&other, &["import", "round", &p(&edited)]);
        assert_eq!(out.status.code(), Some(6), "{says}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    };
    for (from, to, says) in edits {
        assert!(app_line.contains(&from), "{from} in {app_line}");
        try_import(exported.replacen(app_line, &app_line.replacen(&from, &to, 1), 1), says);
    }
    // A decision taken out of the middle of an application's history.
    let first_decision = exported.lines().find(|l| l.contains(r#""type":"decision""#)).unwrap();
    try_import(exported.replacen(&format!("{first_decision}\n"), "", 1), "decisions are missing");
    // A quota counter no application holds.
    try_import(
        exported.clone() + r#"{"type":"quota","quota":"made-up","scope":"huizhou","used":5}"# + "\n",
        "quota counters",
    );
    // A round whose graph does not verify.
    let round_line = exported.lines().find(|l| l.contains(r#""type":"round""#)).unwrap();
    assert!(round_line.contains(r#""initial":"draft""#));
    try_import(
        exported.replacen(round_line, &round_line.replacen(r#""initial":"draft""#, r#""initial":"nowhere""#, 1), 1),
        "graph",
    );
    // A file that is no export at all is wrong input (4), not damage (6).
    let out = shenbao(&other, &["import", "round", &p(dir.path())]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let truncated = dir.path().join("truncated.jsonl");
    std::fs::write(&truncated, &exported[..exported.len() / 2]).unwrap();
    let out = shenbao(&other, &["import", "round", &p(&truncated)]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let backup = dir.path().join("backup.redb");
    let made: serde_json::Value = serde_json::from_str(&ok(&shenbao(&db, &["--json", "backup", &p(&backup)]))).unwrap();
    let refused = shenbao(&db, &["backup", &p(&backup)]);
    assert_eq!(refused.status.code(), Some(7), "a backup never overwrites");
    assert!(text(&refused.stderr).contains("move the existing one away"), "{}", text(&refused.stderr));
    // A restore reports what it restored: the backup's records, decisions and chain.
    let check = dir.path().join("check.redb");
    let back: serde_json::Value =
        serde_json::from_str(&ok(&shenbao(&check, &["--json", "restore", &p(&backup)]))).unwrap();
    assert!(made["records"].as_u64().unwrap() > 0, "{made}");
    for field in ["records", "decisions", "chain_head"] {
        assert_eq!(back[field], made[field], "{field}: {back} / {made}");
    }
    let again = shenbao(&check, &["restore", &p(&backup)]);
    assert_eq!(again.status.code(), Some(7), "a restore never overwrites");
    assert!(!text(&again.stderr).contains("review actions"), "advice about restoring: {}", text(&again.stderr));
    let restored = dir.path().join("restored.redb");
    // A backup is only read by a restore, and a read-only one restores.
    let before = std::fs::read(&backup).unwrap();
    let mut mode = std::fs::metadata(&backup).unwrap().permissions();
    mode.set_readonly(true);
    std::fs::set_permissions(&backup, mode).unwrap();
    let said = ok(&shenbao(&restored, &["restore", &p(&backup)]));
    assert!(said.contains(&format!("{} records", made["records"])), "{said}");
    assert!(std::fs::read(&backup).unwrap() == before, "the backup is unchanged");
    assert_eq!(ok(&shenbao(&restored, &["app", "list", "--round", "er-2024q3"])).lines().count(), 3);
    // Attachments came along with the restore.
    let k = shenbao::Kernel::open(&restored).unwrap();
    let app = k.application(&ids[0].1).unwrap();
    assert!(k.blob_path(&app.attachments[0].sha256).exists());
    // While a process holds the database, the CLI says so and where to go instead.
    let busy = shenbao(&restored, &["backup", &p(&dir.path().join("b2.redb"))]);
    assert_eq!(busy.status.code(), Some(7));
    assert!(
        text(&busy.stderr).contains("in use") && text(&busy.stderr).contains("/v1/admin/backup"),
        "{}",
        text(&busy.stderr)
    );
    // Console passwords: set from standard input, refused when too short; a
    // one-time code is printed once.
    let set_password = |user: &str, password: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shenbao"))
            .args(["--db", &p(&restored), "user", "password", user])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    drop(k);
    let out = set_password("org-01", "short");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("至少 12 个字符"), "{}", text(&out.stderr));
    ok(&set_password("org-01", "correct horse battery"));
    let out = set_password("nobody", "correct horse battery");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let code: serde_json::Value =
        serde_json::from_str(&ok(&shenbao(&restored, &["--json", "user", "sign-in-code", "org-01"]))).unwrap();
    assert_eq!(code["code"].as_str().unwrap().len(), 24, "{code}");
    let k = shenbao::Kernel::open(&restored).unwrap();
    k.sign_in("org-01", "correct horse battery", "cli-test").unwrap();
    k.sign_in_with_code("org-01", code["code"].as_str().unwrap(), "a new horse battery", "cli-test").unwrap();
    // Restoring from a database a process holds says so (not "invalid backup").
    let held = shenbao(&dir.path().join("r2.redb"), &["restore", &p(&restored)]);
    assert_eq!(held.status.code(), Some(7), "{}", text(&held.stderr));
    assert!(text(&held.stderr).contains("database_in_use"), "{}", text(&held.stderr));
    drop(k);
    // A backup that is not there is not found, and nothing is created on either side.
    let (missing, target) = (dir.path().join("no-such-backup.redb"), dir.path().join("r3.redb"));
    let out = shenbao(&target, &["restore", &p(&missing)]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(!missing.exists() && !target.exists());
    // A file that is no database: a storage error naming the file, with redb's cause.
    let junk = dir.path().join("junk.redb");
    std::fs::write(&junk, b"this is not a database, only text that is long enough to read").unwrap();
    let out = shenbao(&junk, &["round", "list"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("无法打开数据库") && text(&out.stderr).contains("junk.redb"),
        "{}",
        text(&out.stderr)
    );
    // A round export whose form data holds a number no value holds is refused whole.
    let huge = dir.path().join("huge.jsonl");
    let exported = std::fs::read_to_string(&jsonl).unwrap();
    assert!(exported.contains("1180.5"));
    std::fs::write(&huge, exported.replace("1180.5", "1e400")).unwrap();
    let fresh = dir.path().join("fresh.redb");
    ok(&shenbao(&fresh, &["plugin", "install", &p(&testkit::plugin_path("enabling-resources"))]));
    let out = shenbao(&fresh, &["import", "round", &p(&huge)]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("form data"), "{}", text(&out.stderr));
    assert_eq!(ok(&shenbao(&fresh, &["round", "list"])).trim(), "");

    // --help on every subcommand carries an example.
    for sub in [
        vec!["demo"],
        vec!["round", "create"],
        vec!["round", "show"],
        vec!["import", "orgs"],
        vec!["import", "credit"],
        vec!["calendar", "set"],
        vec!["user", "token", "issue"],
        vec!["app", "draft"],
        vec!["app", "submit"],
        vec!["review", "act"],
        vec!["review", "batch"],
        vec!["queue"],
        vec!["export", "summary"],
        vec!["export", "round"],
        vec!["audit", "verify"],
        vec!["replay"],
        vec!["backup"],
        vec!["restore"],
        vec!["serve"],
    ] {
        let help = Command::new(env!("CARGO_BIN_EXE_shenbao")).args(&sub).arg("--help").output().unwrap();
        assert!(text(&help.stdout).contains("Example:"), "{sub:?}");
    }
    // Closing the round with applications under review is refused (exit 7) naming
    // them; --force closes it.
    let out = shenbao(&db, &["round", "close", "er-2024q3"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("[round_under_review]") && text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    let closed: serde_json::Value =
        serde_json::from_str(&ok(&shenbao(&db, &["--json", "round", "close", "er-2024q3", "--force"]))).unwrap();
    assert_eq!(closed["status"], "closed");
    // The version names the database schema it writes.
    let version = Command::new(env!("CARGO_BIN_EXE_shenbao")).arg("--version").output().unwrap();
    assert!(
        text(&version.stdout).contains(&format!("database schema version {}", shenbao::SCHEMA_VERSION)),
        "{}",
        text(&version.stdout)
    );
}

/// A copy of the minimal program's case folder under `into` (`into/cases`), without the
/// case files named in `leave_out`; its path.
fn minimal_cases_copy(into: &std::path::Path, leave_out: &[&str]) -> std::path::PathBuf {
    let dir = into.join("cases");
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    let src = testkit::root().join("plugins/minimal/cases");
    for f in ["round.json", "expected.json"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    for e in std::fs::read_dir(src.join("cases")).unwrap() {
        let e = e.unwrap();
        if !leave_out.iter().any(|l| e.file_name() == *l) {
            std::fs::copy(e.path(), dir.join("cases").join(e.file_name())).unwrap();
        }
    }
    dir
}

/// `shenbao plugin test`: the plugin runner, with no database. The three programs'
/// example sets pass with their Rust plugins, the enabling-resources set with the
/// Python and JavaScript plugins too, and the minimal program's set in all three
/// languages; a changed expectation fails with a readable diff and exit code 1;
/// `--update` writes the findings back.
#[test]
fn plugin_test_runs_case_folders() {
    fn runner(args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_shenbao"))
            .args(["plugin", "test"])
            .args(args)
            // The compiled-component cache the other tests of the workspace share.
            .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
            .env("SHENBAO_DB", "/nonexistent/never-opened.redb")
            .output()
            .unwrap()
    }
    let p = |package: &str| testkit::plugin_path(package).to_str().unwrap().to_string();
    let examples = testkit::root().join("examples");
    let runs = [
        ("enabling-resources", examples.join("enabling-resources")),
        ("enabling-resources-py", examples.join("enabling-resources")),
        ("enabling-resources-js", examples.join("enabling-resources")),
        ("eco-partners", examples.join("eco-partners")),
        ("iiot-pilots", examples.join("iiot-pilots")),
        ("minimal", testkit::root().join("plugins/minimal/cases")),
        ("minimal-py", testkit::root().join("plugins/minimal/cases")),
        ("minimal-js", testkit::root().join("plugins/minimal/cases")),
    ];
    for (package, dir) in &runs {
        let out = runner(&[&p(package), dir.to_str().unwrap()]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{package}: {stdout}{}", text(&out.stderr));
        let cases = std::fs::read_dir(dir.join("cases")).unwrap().count();
        let summary = stdout.lines().last().unwrap();
        assert!(summary.starts_with(&format!("{cases} passed, 0 failed; fuel ")), "{package}: {summary}");
        // Fuel per case: a case the plugin ran used some; a schema failure never reaches it.
        let fuel = |name: &str| -> u64 {
            let line = stdout.lines().find(|l| l.split_whitespace().nth(1) == Some(name)).unwrap();
            line.split_whitespace().nth(2).unwrap().replace(',', "").parse().unwrap()
        };
        let first_pass = stdout.lines().filter_map(|l| l.split_whitespace().nth(1)).find(|n| n.starts_with("pass"));
        assert!(fuel(first_pass.unwrap()) > 0, "{package}: {stdout}");
        if let Some(schema) =
            stdout.lines().filter_map(|l| l.split_whitespace().nth(1)).find(|n| n.starts_with("schema-"))
        {
            assert_eq!(fuel(schema), 0, "{package}: {schema} never reaches the plugin");
        }
    }
    assert!(!std::path::Path::new("/nonexistent/never-opened.redb").exists());

    // A changed expectation: exit 1, the case named, the difference shown line by line.
    let tmp = tempfile::tempdir().unwrap();
    let dir = minimal_cases_copy(tmp.path(), &[]);
    let expected_path = dir.join("expected.json");
    let original = std::fs::read_to_string(&expected_path).unwrap();
    std::fs::write(&expected_path, original.replace("12 R&D staff, at least 20 required", "12 R&D staff")).unwrap();
    let d = dir.to_str().unwrap();
    let out = runner(&[&p("minimal-py"), d]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL  fail-minimal.staff.min-20"), "{stdout}");
    assert!(stdout.contains("  - minimal.staff.min-20 [Blocking] $.team.rd_staff — 研发人员 12 人"), "{stdout}");
    assert!(stdout.contains("  + minimal.staff.min-20 [Blocking] $.team.rd_staff"), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("4 passed, 1 failed"), "{stdout}");
    assert!(text(&out.stderr).contains("fail-minimal.staff.min-20"));
    // --json: the same verdicts, machine-readable.
    let json = Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .args(["--json", "plugin", "test", &p("minimal-js"), d])
        .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((v["passed"].as_u64(), v["failed"].as_u64()), (Some(4), Some(1)));

    // --update with a filter rewrites that case's expectation and keeps the others.
    let upd = runner(&[&p("minimal"), d, "--update", "--case", "fail-"]);
    assert!(upd.status.success(), "{}", text(&upd.stderr));
    assert!(text(&upd.stdout).contains("updated fail-minimal.staff.min-20"), "{}", text(&upd.stdout));
    let rewritten: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    let original: serde_json::Value = serde_json::from_str(&original).unwrap();
    assert_eq!(rewritten, original, "the update restored the true findings and kept the other cases");
    assert!(runner(&[&p("minimal-py"), d]).status.success());

    // A folder of another program, and a missing file, are refused by name.
    let other = runner(&[&p("minimal"), examples.join("eco-partners").to_str().unwrap()]);
    assert_eq!(other.status.code(), Some(4));
    assert!(text(&other.stderr).contains("\"eco-partners\""), "{}", text(&other.stderr));
    assert_eq!(runner(&["/nonexistent.wasm", d]).status.code(), Some(3));

    // Issue 18: a round.json pinning another version is refused, saying what to set.
    let round: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("round.json")).unwrap()).unwrap();
    let mut other_version = round.clone();
    other_version["plugin_version"] = "0.2.0".into();
    std::fs::write(dir.join("round.json"), other_version.to_string()).unwrap();
    let out = runner(&[&p("minimal"), d]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("\"plugin_version\": \"0.1.0\""), "{}", text(&out.stderr));
    std::fs::write(dir.join("round.json"), round.to_string()).unwrap();

    // Issue 18: a case that cannot run (a panicking plugin, an undeclared rule id) is
    // that case's FAIL with the plugin's message; the others run, a summary, exit 1.
    // A case without an expectation shows what it gave.
    let hostile = tmp.path().join("hostile");
    std::fs::create_dir_all(hostile.join("cases")).unwrap();
    let mut hround = round.clone();
    hround["program"] = "hostile".into();
    hround["id"] = "hostile-2026".into();
    std::fs::write(hostile.join("round.json"), hround.to_string()).unwrap();
    let base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases/pass.json")).unwrap()).unwrap();
    for (name, form) in [("a-panics", "panic"), ("b-undeclared", "undeclared-rule"), ("c-fine", "ok")] {
        let mut case = base.clone();
        case["form"] = form.into();
        case.as_object_mut().unwrap().remove("direction");
        std::fs::write(hostile.join("cases").join(format!("{name}.json")), case.to_string()).unwrap();
    }
    let out = runner(&[&p("hostile"), hostile.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("FAIL  a-panics") && stdout.contains("! the case did not run"), "{stdout}");
    assert!(stdout.contains("FAIL  b-undeclared") && stdout.contains("hostile.not-declared"), "{stdout}");
    assert!(stdout.contains("FAIL  c-fine") && stdout.contains("no expectation recorded"), "{stdout}");
    assert!(stdout.contains("  + hostile.observed [Info]"), "what it gave is shown: {stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("0 passed, 3 failed"), "{stdout}");
    // --update records the case that ran, not the broken ones, and says so (exit 1).
    let upd = runner(&[&p("hostile"), hostile.to_str().unwrap(), "--update"]);
    assert_eq!(upd.status.code(), Some(1), "{}", text(&upd.stdout));
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(hostile.join("expected.json")).unwrap()).unwrap();
    assert_eq!(recorded.as_object().unwrap().keys().collect::<Vec<_>>(), ["c-fine"]);
    let out = runner(&[&p("hostile"), hostile.to_str().unwrap()]);
    assert!(text(&out.stdout).lines().last().unwrap().starts_with("1 passed, 2 failed"), "{}", text(&out.stdout));
}

/// Issue 18: the runner points at what a newcomer forgot — a declared rule no case
/// fires (a note naming the file to add), an expectation whose case is gone (`--update`
/// says it drops it), a case extending a file that is not there (the extending case is
/// named).
#[test]
fn plugin_test_names_uncovered_rules_stale_expectations_and_broken_extends() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_shenbao"))
            .args(["plugin", "test"])
            .args(args)
            .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
            .output()
            .unwrap()
    };
    let wasm = testkit::plugin_path("minimal");
    let wasm = wasm.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = minimal_cases_copy(tmp.path(), &["fail-minimal.grant.max-50.json"]);
    let d = dir.to_str().unwrap();
    let out = run(&[wasm, d]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "the cases that are there pass: {stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("note: rule minimal.grant.max-50 (申请资助不超过 50 万元) fires in no case")
            && stdout.contains("cases/fail-minimal.grant.max-50.json"),
        "{stdout}"
    );
    assert!(!stdout.contains("note: rule minimal.staff.min-20"), "{stdout}");
    let json = Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .args(["--json", "plugin", "test", wasm, d])
        .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["uncovered_rules"], serde_json::json!(["minimal.grant.max-50"]));
    // --update drops the removed case's expectation, and says so.
    let upd = run(&[wasm, d, "--update"]);
    assert!(upd.status.success(), "{}", text(&upd.stderr));
    assert!(
        text(&upd.stdout).contains("dropped fail-minimal.grant.max-50 — its case file is gone"),
        "{}",
        text(&upd.stdout)
    );
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    assert!(expected.get("fail-minimal.grant.max-50").is_none());
    // A case extending a file that is not there: that case is named, and what to do.
    std::fs::write(dir.join("cases/broken.json"), r#"{"extends": "pas.json", "patch": []}"#).unwrap();
    let out = run(&[wasm, d]);
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(err.contains("broken.json") && err.contains("\"pas.json\"") && err.contains("name a case file"), "{err}");
}

/// Issue 18: a reader that goes away (`| head`) ends the command quietly — no panic,
/// no backtrace, exit 0.
#[test]
fn a_closed_pipe_ends_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .args(["plugin", "test", testkit::plugin_path("enabling-resources").to_str().unwrap()])
        .arg(testkit::root().join("examples/enabling-resources"))
        .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close the pipe, as `head -c1` does.
    let mut out = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    out.read_exact(&mut one).unwrap();
    drop(out);
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    assert_eq!(status.code(), Some(0), "{err}");
}

/// The author guide's walkthrough (`plugins/README.md`, between the `guide:walkthrough`
/// markers) runs verbatim in a shell: test, install, import, open a round, draft, submit,
/// recommend — and the application ends passed.
#[test]
fn the_author_guides_walkthrough_runs_verbatim() {
    let guide = std::fs::read_to_string(testkit::root().join("plugins").join("README.md")).unwrap();
    let block = guide
        .split("<!-- guide:walkthrough:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- guide:walkthrough:end -->").next())
        .expect("the guide marks its walkthrough");
    let script: String = block.lines().filter(|l| !l.starts_with("```")).collect::<Vec<_>>().join("\n");
    assert!(script.contains("shenbao plugin install") && script.contains("app submit"), "{script}");
    testkit::plugin_path("minimal-py");
    // A folder that looks like the workspace root (the guide's relative paths) but is not it.
    let dir = tempfile::tempdir().unwrap();
    for entry in ["target", "plugins", "examples"] {
        std::os::unix::fs::symlink(testkit::root().join(entry), dir.path().join(entry)).unwrap();
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_shenbao")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
        .env_remove("SHENBAO_DB")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(dir.path().join("guide.redb").exists(), "the walkthrough's database is in its own folder");
    assert!(stdout.contains("5 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("installed minimal@0.1.0"), "{stdout}");
    assert!(stdout.contains("city-recommend"), "the history shows the recommendation: {stdout}");
    // The application ended in the terminal stage `passed`.
    let show = Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .args(["--json", "app", "show", "A0000001"])
        .env("SHENBAO_DB", dir.path().join("guide.redb"))
        .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        (&v["state"]["stage"], &v["state"]["outcome"]),
        (&serde_json::json!("passed"), &serde_json::json!("passed")),
        "{v}"
    );
    // The city's summary table: the choice column shows the option's label.
    let table = Command::new(env!("CARGO_BIN_EXE_shenbao"))
        .args(["export", "summary", "--round", "minimal-2026", "--level", "city", "--format", "csv", "--out", "-"])
        .env("SHENBAO_DB", dir.path().join("guide.redb"))
        .env("SHENBAO_CACHE_DIR", testkit::shared_cache_dir())
        .output()
        .unwrap();
    let csv = text(&table.stdout);
    assert!(csv.contains("项目类别") && csv.contains("新产品研发") && !csv.contains("new-product"), "{csv}");
}
