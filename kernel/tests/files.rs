//! Files as officers produce them (issue 16): CSV saved by Chinese Excel and WPS in
//! GBK, UTF-16 or UTF-8; workbooks with date cells and codes typed as numbers; the
//! same key twice in one file; codes as people type them. Each file is written by a
//! library here (encoding_rs, rust_xlsxwriter), then imported by the kernel.

use shenbao::io::same_name;
use shenbao::{Kernel, KernelConfig};
use std::path::{Path, PathBuf};

fn demo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo").join(name)
}

fn kernel(dir: &Path) -> Kernel {
    let k = Kernel::open_with(dir.join("files.redb"), KernelConfig::default()).unwrap();
    k.import_regions_file(&demo("regions.csv")).unwrap();
    k
}

fn orgs_text() -> String {
    std::fs::read_to_string(demo("orgs.csv")).unwrap()
}

#[test]
fn csv_in_every_encoding_excel_and_wps_write_imports_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let reference = {
        let k = kernel(&dir.path().join("ref").tap_mkdir());
        k.import_orgs_file(&demo("orgs.csv")).unwrap();
        k.orgs().unwrap()
    };
    assert_eq!(reference.len(), 23);
    let text = orgs_text();
    let utf16le = |s: &str| {
        let mut b = vec![0xff, 0xfe];
        b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        b
    };
    let utf16be = |s: &str| {
        let mut b = vec![0xfe, 0xff];
        b.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        b
    };
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("gbk", encoding_rs::GBK.encode(&text).0.into_owned()),
        ("gb18030", encoding_rs::GB18030.encode(&text).0.into_owned()),
        ("utf8-bom", [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat()),
        ("utf8", text.clone().into_bytes()),
        // Excel's "Unicode text": UTF-16 with a BOM, tab-separated.
        ("utf16le-tabs", utf16le(&text.replace(',', "\t"))),
        ("utf16be-tabs", utf16be(&text.replace(',', "\t"))),
    ];
    for (name, bytes) in files {
        let sub = dir.path().join(name).tap_mkdir();
        let k = kernel(&sub);
        let f = sub.join("orgs.csv");
        std::fs::write(&f, bytes).unwrap();
        let n = k.import_orgs_file(&f).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(n, 23, "{name}");
        assert_eq!(k.orgs().unwrap(), reference, "{name}");
    }
    // Bytes no encoding reads: refused, naming what to do, nothing imported.
    let sub = dir.path().join("garbage").tap_mkdir();
    let k = kernel(&sub);
    let f = sub.join("orgs.csv");
    std::fs::write(&f, [b"credit_code,name\n".as_slice(), &[0x81, 0x20, 0xff, 0xfe, 0x0a]].concat()).unwrap();
    let e = k.import_orgs_file(&f).unwrap_err().to_string();
    assert!(e.contains("CSV UTF-8") && e.contains("GB18030"), "{e}");
    assert!(k.orgs().unwrap().is_empty());
}

trait Mkdir {
    fn tap_mkdir(self) -> Self;
}
impl Mkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

const HEADER: [&str; 6] = ["统一社会信用代码", "单位名称", "所属市", "所属区县", "成立日期", "注册资本（万元）"];

fn workbook(path: &Path, rows: &[&dyn Fn(&mut rust_xlsxwriter::Worksheet, u32)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, row) in rows.iter().enumerate() {
        row(ws, i as u32 + 1);
    }
    wb.save(path).unwrap();
}

fn base(ws: &mut rust_xlsxwriter::Worksheet, r: u32, code: &str, name: &str) {
    ws.write_string(r, 0, code).unwrap();
    ws.write_string(r, 1, name).unwrap();
    ws.write_string(r, 2, "huizhou").unwrap();
    ws.write_string(r, 3, "huizhou.huicheng").unwrap();
    ws.write_number(r, 5, 500.0).unwrap();
}

#[test]
fn date_cells_are_dates_and_a_date_column_refuses_what_is_not_a_date() {
    let dir = tempfile::tempdir().unwrap();
    let k = kernel(dir.path());
    let f = dir.path().join("orgs.xlsx");
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let a = |ws: &mut rust_xlsxwriter::Worksheet, r: u32| {
        base(ws, r, "91441302MA5D00001E", "示例一号");
        let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2019, 5, 20).unwrap();
        ws.write_datetime_with_format(r, 4, &d, &date_format).unwrap();
        // A date-time cell in a column that is not a date column keeps its time.
        ws.write_string(0, 6, "最近更新").unwrap();
        let t = rust_xlsxwriter::ExcelDateTime::from_ymd(2020, 1, 2).unwrap().and_hms(3, 4, 5).unwrap();
        let dt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        ws.write_datetime_with_format(r, 6, &t, &dt).unwrap();
    };
    let b = |ws: &mut rust_xlsxwriter::Worksheet, r: u32| {
        base(ws, r, "91441302MA5D00002H", "示例二号");
        ws.write_string(r, 4, "2020年3月1日").unwrap();
    };
    let c = |ws: &mut rust_xlsxwriter::Worksheet, r: u32| {
        base(ws, r, "91441302MA5D00003L", "示例三号");
        ws.write_string(r, 4, "2021/12/31").unwrap();
    };
    workbook(&f, &[&a, &b, &c]);
    assert_eq!(k.import_orgs_file(&f).unwrap(), 3);
    let dates: Vec<String> =
        k.orgs().unwrap().iter().map(|o| o.profile.to_value()["成立日期"].as_str().unwrap().to_string()).collect();
    assert_eq!(dates, ["2019-05-20", "2020-03-01", "2021-12-31"], "not Excel's serial 43605");
    assert_eq!(k.orgs().unwrap()[0].profile.to_value()["注册资本（万元）"], "500");
    assert_eq!(k.orgs().unwrap()[0].profile.to_value()["最近更新"], "2020-01-02 03:04:05");

    for bad in ["明年", "2019-02-30", "43605x"] {
        let k = kernel(&dir.path().join(bad).tap_mkdir());
        let row = |ws: &mut rust_xlsxwriter::Worksheet, r: u32| {
            base(ws, r, "91441302MA5D00001E", "示例一号");
            ws.write_string(r, 4, bad).unwrap();
        };
        workbook(&f, &[&a, &row]);
        let e = k.import_orgs_file(&f).unwrap_err().to_string();
        assert!(e.contains("row 3") && e.contains("成立日期") && e.contains("not a date"), "{bad}: {e}");
        assert!(k.orgs().unwrap().is_empty(), "nothing imported");
    }
}

#[test]
fn codes_typed_as_numbers_and_repeated_keys_are_refused_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("orgs.xlsx");
    // Two codes Excel rounded to the same 15 significant digits.
    let a = |ws: &mut rust_xlsxwriter::Worksheet, r: u32| {
        base(ws, r, "", "示例甲");
        ws.write_number(r, 0, 914413021234028000.0).unwrap();
    };
    let b = |ws: &mut rust_xlsxwriter::Worksheet, r: u32| {
        base(ws, r, "", "示例乙");
        ws.write_number(r, 0, 914413021234028000.0).unwrap();
    };
    workbook(&f, &[&a, &b]);
    let k = kernel(dir.path());
    let e = k.import_orgs_file(&f).unwrap_err().to_string();
    assert!(e.contains("row 2") && e.contains("format the column as text"), "{e}");
    assert!(k.orgs().unwrap().is_empty());

    // The CSV Excel writes from such a column: scientific notation.
    let csv = dir.path().join("sci.csv");
    std::fs::write(&csv, "统一社会信用代码,单位名称\n9.14413E+17,示例甲\n").unwrap();
    assert!(k.import_orgs_file(&csv).unwrap_err().to_string().contains("format the column as text"));

    // The same code twice in one file (once typed in lower case): both rows named.
    let dup = dir.path().join("dup.csv");
    std::fs::write(&dup, "统一社会信用代码,单位名称\n91441302MA5D00001E,示例甲\n91441302ma5d00001e,示例乙\n").unwrap();
    let e = k.import_orgs_file(&dup).unwrap_err().to_string();
    assert!(e.contains("row 3") && e.contains("repeats row 2"), "{e}");
    assert!(k.orgs().unwrap().is_empty(), "nothing is overwritten by a row of the same file");

    // Regions and users: the same kinds of repeat.
    let regions = dir.path().join("regions.csv");
    std::fs::write(&regions, "id,name,kind,parent\nx1,甲市,city,guangdong\nx1,乙市,city,guangdong\n").unwrap();
    assert!(k.import_regions_file(&regions).unwrap_err().to_string().contains("repeats row 2"));
    let users = dir.path().join("users.csv");
    std::fs::write(&users, "id,name,role,scope\nu1,张三,city-officer,city:huizhou\nu1,李四,expert,expert\n").unwrap();
    let e = k.import_users_file(&users).unwrap_err().to_string();
    assert!(e.contains("row 3") && e.contains("row 2"), "{e}");
}

#[test]
fn a_code_is_read_one_way_everywhere_and_checked_as_the_standard_says() {
    let dir = tempfile::tempdir().unwrap();
    let k = kernel(dir.path());
    k.import_orgs_file(&demo("orgs.csv")).unwrap();
    // The user import accepts what the organisation import accepts: lower case, full width.
    let users = dir.path().join("users.csv");
    std::fs::write(&users, "id,name,role,scope\nu1,张三,applicant,organisation: ９１４４１３０２ma5d00001e\n").unwrap();
    k.import_users_file(&users).unwrap();
    let u = k.user("u1").unwrap().unwrap();
    assert_eq!(u.grants[0].scope, shenbao::Scope::Organisation("91441302MA5D00001E".into()));
    // The library normalises the same way.
    let mut o = k.org("91441302MA5D00002H").unwrap().unwrap();
    o.credit_code = o.credit_code.to_lowercase();
    k.upsert_org(&o).unwrap();
    // Stored under the one form, and found by any spelling of it.
    let found = k.org(&o.credit_code).unwrap().unwrap();
    assert_eq!(found.credit_code, "91441302MA5D00002H");
    assert!(k.orgs().unwrap().iter().all(|x| x.credit_code != o.credit_code));

    // Valid check digit, impossible structure (GB 32100-2015): refused naming the clause.
    for first17 in ["00000000000000000", "94441302MA5D00001", "91000000MA5D00001"] {
        let code = shenbao::contract::credit_code::complete(first17).unwrap();
        let mut bad = o.clone();
        bad.credit_code = code.clone();
        let e = k.upsert_org(&bad).unwrap_err().to_string();
        assert!(e.contains("GB 32100-2015"), "{code}: {e}");
    }
}

#[test]
fn names_match_after_unicode_normalisation() {
    assert!(same_name("示例科技（深圳）有限公司", "示例科技(深圳)有限公司"));
    assert!(same_name("示例 科技 有限公司", "示例科技有限公司"));
    assert!(same_name("ＡＢＣ示例公司", "ABC示例公司"));
    assert!(!same_name("示例科技（深圳）有限公司", "示例科技（广州）有限公司"));
    // Through the credit look-up (信用查询) as officers fill the template.
    let dir = tempfile::tempdir().unwrap();
    let k = kernel(dir.path());
    k.import_orgs_file(&demo("orgs.csv")).unwrap();
    let org = k.org("91441302MA5D00001E").unwrap().unwrap();
    let f = dir.path().join("credit.csv");
    let fullwidth: String = org
        .name
        .chars()
        .map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c })
        .collect();
    std::fs::write(&f, format!("统一社会信用代码,单位名称\n91441302MA5D00001E, {fullwidth} \n")).unwrap();
    let rows = k.credit_lookup_file(&f, false).unwrap();
    assert_eq!(rows[0].name_matches, Some(true), "{fullwidth} vs {}", org.name);
}

/// Issue 16 (spreadsheets going out): numbers are numbers, codes and telephone
/// numbers stay text, one cell past Excel's 32,767 characters is cut with a mark and
/// named below the table instead of failing the whole export, and a formula typed
/// by an applicant is text in the CSV.
#[test]
fn exports_keep_numbers_cut_what_excel_cannot_hold_and_defuse_formulas() {
    use calamine::{Data, Reader};
    use shenbao::contract::Text;
    let row = |app: &str, cells: [&str; 4]| shenbao::SummaryRow {
        application: app.into(),
        rank: None,
        decision: 0,
        score: None,
        cells: cells.iter().map(|c| c.to_string()).collect(),
    };
    let long = "长".repeat(40_000);
    let summary = shenbao::Summary {
        title: Text::new("汇总表", "summary"),
        round: "r".into(),
        level: shenbao::SummaryLevel::City,
        scope: Some("huizhou".into()),
        columns: ["序号", "统一社会信用代码", "联系电话", "资源名称"].iter().map(|t| Text::new(*t, *t)).collect(),
        sections: vec![shenbao::SummarySectionRows {
            id: "all".into(),
            title: Text::new("全部", "all"),
            rows: vec![
                row("A0000001", ["1", "91441302MA5D00001E", "0752-80000001", "=HYPERLINK(\"http://x\",\"点此\")"]),
                row("A0000002", ["2", "914413021234028000", "13800000000", &long]),
            ],
        }],
    };
    let bytes = shenbao::io::summary_xlsx(&summary).unwrap();
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    assert_eq!(cells[2][0], Data::Float(1.0), "序号 is a number");
    assert_eq!(cells[3][2], Data::Float(13800000000.0));
    assert_eq!(cells[2][1], Data::String("91441302MA5D00001E".into()));
    assert_eq!(cells[3][1], Data::String("914413021234028000".into()), "18 digits stay text");
    assert_eq!(cells[2][2], Data::String("0752-80000001".into()));
    let Data::String(cut) = &cells[3][3] else { panic!("{:?}", cells[3][3]) };
    assert!(cut.chars().count() <= 32_767 && cut.ends_with("（已截断）"));
    let note = cells.iter().flatten().find_map(|c| match c {
        Data::String(s) if s.starts_with("注：") => Some(s.clone()),
        _ => None,
    });
    assert!(note.unwrap().contains("A0000002「资源名称」"));

    let csv = String::from_utf8(shenbao::io::summary_csv(&summary).unwrap()).unwrap();
    assert!(csv.contains("'=HYPERLINK") && !csv.contains(",=HYPERLINK"), "{}", &csv[..200]);
}

/// Issue 19: the export writers take a summary row by row (`SummarySink`), and what
/// they write is the whole table — the JSON exactly `Summary`'s serialisation
/// (sections that are empty, the `other` section, rows with and without ranks and
/// scores), the CSV one line per row with its section, the workbook every row under
/// its section's title.
#[test]
fn the_streaming_summary_writers_write_the_whole_table() {
    use calamine::{Data, Reader};
    use shenbao::contract::Text;
    use shenbao::{SummaryJson, SummaryRow, SummarySectionRows};
    let row = |app: &str, rank: Option<u32>, score: Option<f64>, cells: [&str; 3]| SummaryRow {
        application: app.into(),
        rank,
        decision: 7,
        score,
        cells: cells.iter().map(|c| c.to_string()).collect(),
    };
    let section = |id: &str, zh: &str, rows: Vec<SummaryRow>| SummarySectionRows {
        id: id.into(),
        title: Text::new(zh, id),
        rows,
    };
    let summary = shenbao::Summary {
        title: Text::new("生态合作伙伴推荐汇总表", "summary"),
        round: "eco-2024".into(),
        level: shenbao::SummaryLevel::Province,
        scope: None,
        columns: ["序号", "单位名称", "评分"].iter().map(|t| Text::new(*t, *t)).collect(),
        sections: vec![
            section("selected", "遴选加入单位", vec![row("A1", Some(1), None, ["1", "甲公司", ""])]),
            section("direct", "直接认定单位", vec![]),
            section(
                "other",
                "其他",
                vec![
                    row("A2", None, Some(92.5), ["1", "乙公司", "92.5"]),
                    row("A3", None, None, ["2", "丙\"公司", ""]),
                ],
            ),
        ],
    };
    let mut json = SummaryJson::default();
    summary.write_to(&mut json).unwrap();
    let streamed: serde_json::Value = serde_json::from_slice(&json.finish()).unwrap();
    assert_eq!(streamed, serde_json::to_value(&summary).unwrap());
    // One section without rows, too.
    let mut empty = summary.clone();
    empty.sections.truncate(2);
    empty.sections[0].rows.clear();
    let mut json = SummaryJson::default();
    empty.write_to(&mut json).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&json.finish()).unwrap(),
        serde_json::to_value(&empty).unwrap()
    );

    let csv = String::from_utf8(shenbao::io::summary_csv(&summary).unwrap()).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines,
        ["分组,序号,单位名称,评分", "遴选加入单位,1,甲公司,", "其他,1,乙公司,92.5", "其他,2,\"丙\"\"公司\","]
    );

    let bytes = shenbao::io::summary_xlsx(&summary).unwrap();
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let first: Vec<String> = range.rows().map(|r| r[0].to_string()).collect();
    assert_eq!(
        first,
        ["生态合作伙伴推荐汇总表", "遴选加入单位", "序号", "1", "直接认定单位", "序号", "其他", "序号", "1", "2"],
        "every section's title and header, its rows below"
    );
    assert_eq!(range.rows().nth(8).unwrap()[2], Data::Float(92.5));

    // A table of one column: its title is a cell, not a merge of one cell.
    let mut narrow = summary.clone();
    narrow.columns.truncate(1);
    for s in &mut narrow.sections {
        for r in &mut s.rows {
            r.cells.truncate(1);
        }
    }
    let bytes = shenbao::io::summary_xlsx(&narrow).unwrap();
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.get((0, 0)), Some(&Data::String("生态合作伙伴推荐汇总表".into())));
    assert_eq!(range.width(), 1);
}

/// A small workbook can unpack to millions of cells: the reader bounds rows and
/// columns as it reads, and refuses a sheet past them naming the bound.
#[test]
fn a_workbook_past_the_bounds_is_refused_as_it_is_read() {
    for (row, col, what) in [(250_000u32, 0u16, "rows"), (1, 300, "columns")] {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "统一社会信用代码").unwrap();
        ws.write_string(row, col, "x").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let e = shenbao::io::read_sheet_bytes("big.xlsx", &bytes).unwrap_err();
        assert!(e.to_string().contains("too large") && e.to_string().contains(what), "{e}");
    }
    // Within them, the same workbook reads (a header and a row after blank rows).
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(2, 1, "统一社会信用代码").unwrap();
    ws.write_string(3, 1, "91441302MA5D00001E").unwrap();
    let sheet = shenbao::io::read_sheet_bytes("ok.xlsx", &wb.save_to_buffer().unwrap()).unwrap();
    assert!(sheet.header.iter().any(|h| h == "统一社会信用代码"), "{sheet:?}");
    assert_eq!(sheet.rows.len(), 1, "{sheet:?}");
}

/// A region's parent is the level above (a city's the province, a district's a
/// city), stored or in the same file; every row that is not is named.
#[test]
fn region_parents_are_the_level_above_and_every_bad_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let k = Kernel::open(dir.path().join("r.redb")).unwrap();
    k.import_regions_file(&testkit::root().join("examples/demo/regions.csv")).unwrap();
    let csv = "id,name,kind,parent\nbar,巴,district,guangdong\nfoo,福,district,nowhere\nqux,曲,city,huizhou\nok,好,district,huizhou\n";
    let sheet = shenbao::io::read_sheet_bytes("regions.csv", csv.as_bytes()).unwrap();
    let e = k.import_regions_sheet(&sheet).unwrap_err();
    let shenbao::io::ImportError::Rows { rows, total, .. } = &e else { panic!("{e}") };
    assert_eq!(*total, 3, "{e}");
    let named: Vec<usize> = rows
        .iter()
        .map(|r| match r {
            shenbao::io::ImportError::Row { row, .. } => *row,
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(named, [2, 3, 4], "{e}");
    assert!(k.region("ok").unwrap().is_none(), "all or none");
}

/// An organisations' sheet whose rows the import's own checks refuse (a district of
/// another city, a channel that is no channel id, a district no one imported):
/// every bad row is named with its column, and nothing is imported.
#[test]
fn every_refused_organisation_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let k = kernel(dir.path());
    let mut lines: Vec<String> = orgs_text().lines().take(5).map(String::from).collect();
    lines[2] = lines[2].replace("huizhou,huizhou.huicheng", "huizhou,shenzhen.futian");
    lines[3] = lines[3].replace(",region,", ",Central Enterprise,");
    lines[4] = lines[4].replace("huizhou.huicheng", "huizhou.nowhere");
    let f = dir.path().join("orgs.csv");
    std::fs::write(&f, lines.join("\n")).unwrap();
    let e = k.import_orgs_file(&f).unwrap_err();
    let text = e.to_string();
    match &e {
        shenbao::io::ImportError::Rows { rows, total, .. } => {
            assert_eq!(*total, 3, "{text}");
            let named: Vec<(usize, String)> = rows
                .iter()
                .map(|r| match r {
                    shenbao::io::ImportError::Row { row, column, .. } => (*row, column.clone()),
                    other => panic!("{other}"),
                })
                .collect();
            assert_eq!(named, [(3, "所属区县".to_string()), (4, "渠道".into()), (5, "所属区县".into())], "{text}");
        }
        other => panic!("{other}"),
    }
    assert!(text.contains("not in the organisation's city") && text.contains("not a channel id"), "{text}");
    assert!(k.orgs().unwrap().is_empty());
}
