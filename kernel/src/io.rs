//! Files administrators bring and take away (feature `io`): regions, organisations,
//! users and credit look-ups imported from CSV or XLSX sheets with Chinese or
//! English headers, and summary tables written as XLSX or CSV.
//!
//! Every import is checked whole before anything is written: a bad row is named
//! (file, row, column, what is wrong) and nothing changes.

use crate::kernel::Kernel;
use crate::model::{Organisation, RoleGrant, Scope, User};
use crate::regions::{Region, RegionKind};
use crate::summary::Summary;
use crate::workflow::AdminError;
use std::collections::BTreeMap;
use std::path::Path;

/// An import refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file} 第 {row} 行「{column}」 / row {row}, column {column:?}: {message}")]
    Row { file: String, row: usize, column: String, message: String },
    #[error(
        "{file}: 缺少必填列「{column}」（可用列名：{accepted}） / missing required column {column:?} (accepted headers: {accepted})"
    )]
    MissingColumn { file: String, column: String, accepted: String },
    /// Several rows refused: each named (the first [`MAX_ROW_ERRORS`]), with how many there were.
    #[error("{file}：共 {total} 处错误 / {total} rows refused: {}", rows_text(rows))]
    Rows { file: String, rows: Vec<ImportError>, total: usize },
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// Rows that would change what routes an organisation's applications (city,
    /// district, channel, tags) while one of them is under review: each named (a
    /// [`ImportError::Row`] or [`ImportError::Rows`]); a conflict with the state,
    /// not bad input.
    #[error("{0}")]
    UnderReview(Box<ImportError>),
    /// The file to import is not there (as a missing plugin file: `not_found`).
    #[error("文件“{file}”不存在 / no such file: {file}")]
    Missing { file: String },
}

impl crate::error::Classified for ImportError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            ImportError::Admin(e) => e.kind(),
            ImportError::UnderReview(_) => crate::ErrorKind::Conflict,
            ImportError::Missing { .. } => crate::ErrorKind::NotFound,
            _ => crate::ErrorKind::Invalid,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ImportError::Admin(e) => e.code(),
            ImportError::UnderReview(_) => "organisation_under_review",
            ImportError::Missing { .. } => "not_found",
            _ => "invalid_import",
        }
    }
    fn advice(&self) -> &'static str {
        match self {
            ImportError::Admin(e) => e.advice(),
            ImportError::UnderReview(_) => {
                "change those organisations once their applications named are decided, returned or withdrawn; nothing was imported"
            }
            ImportError::Missing { .. } => "check the file's path; nothing was imported",
            _ => "fix the file where named; nothing was imported",
        }
    }
}

/// How many refused rows an import names (the rest are counted).
pub const MAX_ROW_ERRORS: usize = 100;

fn rows_text(rows: &[ImportError]) -> String {
    rows.iter()
        .map(|e| match e {
            ImportError::Row { row, column, message, .. } => {
                format!("第 {row} 行「{column}」 / row {row}, column {column:?}: {message}")
            }
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The refused rows of a sheet, gathered so that one import names them all.
struct RowErrors {
    file: String,
    rows: Vec<ImportError>,
    total: usize,
}

impl RowErrors {
    fn new(sheet: &Sheet) -> Self {
        RowErrors { file: sheet.file.clone(), rows: Vec::new(), total: 0 }
    }
    /// The row's value, or `None` with its refusal kept.
    fn take<T>(&mut self, r: Result<T, ImportError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.total += 1;
                if self.rows.len() < MAX_ROW_ERRORS {
                    self.rows.push(e);
                }
                None
            }
        }
    }
    /// Refuse the import if any row was refused: one row as itself, several together.
    fn finish(mut self) -> Result<(), ImportError> {
        match self.total {
            0 => Ok(()),
            1 => Err(self.rows.remove(0)),
            total => Err(ImportError::Rows { file: self.file, rows: self.rows, total }),
        }
    }
}

/// Most rows (below the header) and columns a sheet may have: a workbook that
/// unpacks to more is refused as it is read, before it takes the memory.
pub const MAX_SHEET_ROWS: usize = 200_000;
/// See [`MAX_SHEET_ROWS`].
pub const MAX_SHEET_COLUMNS: usize = 256;

/// A workbook cell as text: whole numbers without ".0", dates as the day (with the
/// time of day when the cell has one), ISO date-times with a space.
fn cell_text(c: &calamine::Data) -> String {
    match c {
        calamine::Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        calamine::Data::Int(n) => n.to_string(),
        calamine::Data::DateTime(d) if d.is_datetime() => excel_date(d.as_f64()).map_or_else(
            || d.to_string(),
            |day| {
                let secs = (d.as_f64().fract() * 86_400.0).round() as u32;
                if secs == 0 || secs >= 86_400 {
                    day.to_string()
                } else {
                    format!("{day} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
                }
            },
        ),
        calamine::Data::DateTimeIso(s) => s.replacen('T', " ", 1),
        other => other.to_string(),
    }
}

/// One sheet: its header and rows (row numbers as a spreadsheet shows them: header = 1).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sheet {
    pub file: String,
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
    /// (row, column index) of every cell a workbook stored as a number — where a
    /// code is expected, that means Excel has already rounded it to 15 digits.
    pub numeric: std::collections::BTreeSet<(usize, usize)>,
}

/// Decode a CSV file as Excel and WPS write it: UTF-8 with or without a BOM,
/// UTF-16 with a BOM (Excel's "Unicode text", tab-separated) or GB18030 (GBK,
/// Chinese Excel's default "CSV"). Returns the text and its field delimiter.
///
/// # Errors
/// Bytes that none of these decode without errors, naming what was tried and how to
/// save the file as CSV UTF-8.
pub fn decode_csv(file: &str, bytes: &[u8]) -> Result<(String, u8), ImportError> {
    let refuse = |found: &str| ImportError::File {
        file: file.to_string(),
        message: format!(
            "文件编码无法识别（{found}）：请在 Excel 或 WPS 中“另存为” CSV UTF-8（逗号分隔） / the file is {found}; \
             save it as \"CSV UTF-8 (comma delimited)\""
        ),
    };
    let (text, utf16) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, bom)) => {
            let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
            if had_errors {
                return Err(refuse(&format!("marked {} but not valid {}", enc.name(), enc.name())));
            }
            (text.into_owned(), enc != encoding_rs::UTF_8)
        }
        None => match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_string(), false),
            Err(_) => {
                let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
                if had_errors {
                    return Err(refuse("neither UTF-8, UTF-16 nor GB18030/GBK"));
                }
                (text.into_owned(), false)
            }
        },
    };
    let first = text.lines().next().unwrap_or("");
    let tab = utf16 || (first.contains('\t') && !first.contains(','));
    Ok((text, if tab { b'\t' } else { b',' }))
}

/// An Excel date serial (1900 system) as a date: serial 1 is 1900-01-01 and Excel
/// counts a 29 February 1900 that never was, so from serial 61 the day is
/// 1899-12-30 plus the serial.
fn excel_date(serial: f64) -> Option<shenbao_contract::Date> {
    let days = serial.floor() as i64;
    if !(1..=2_958_465).contains(&days) {
        return None;
    }
    let epoch = shenbao_contract::Date::new(1899, 12, 30);
    Some(if days >= 61 { epoch.add_days(days) } else { epoch.add_days(days + 1) })
}

/// A date as people type it in a sheet (`2019-05-20`, `2019/5/20`, `2019.5.20`,
/// `2019年5月20日`), as `YYYY-MM-DD`.
fn typed_date(s: &str) -> Option<String> {
    // A date cell with a time of day (`2019-05-20 08:30:00`): the day.
    let s = match s.trim().split_once(' ') {
        Some((day, time)) if time.split(':').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) => day,
        _ => s,
    };
    let t = s.trim().trim_end_matches('日');
    let parts: Vec<&str> = t.split(['-', '/', '.', '年', '月']).collect();
    let [y, m, d] = parts.as_slice() else { return None };
    let (y, m, d): (i32, u8, u8) = (y.trim().parse().ok()?, m.trim().parse().ok()?, d.trim().parse().ok()?);
    if !(1900..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let date = shenbao_contract::Date::new(y, m, d);
    // Reject 2019-02-30 and the like: the date must survive a round trip.
    (date.add_days(0).to_string() == format!("{y:04}-{m:02}-{d:02}")).then(|| date.to_string())
}

/// Whether a column holds dates, by its header (成立日期, 注册日期, founded_date …).
fn is_date_column(header: &str) -> bool {
    header.contains("日期") || header.to_ascii_lowercase().ends_with("date")
}

/// Read the first sheet of an `.xlsx` file or a `.csv` file (see [`decode_csv`]).
pub fn read_sheet(path: &Path) -> Result<Sheet, ImportError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImportError::Missing { file: file.clone() },
        _ => ImportError::File { file: file.clone(), message: e.to_string() },
    })?;
    read_sheet_bytes(&file, &bytes)
}

/// [`read_sheet`] on content already in memory (an upload); `name` gives the type by
/// its extension (`.csv`, `.txt`, `.xlsx`, `.xlsm`) and names the file in errors.
pub fn read_sheet_bytes(name: &str, bytes: &[u8]) -> Result<Sheet, ImportError> {
    let file = name.to_string();
    let err = |message: String| ImportError::File { file: file.clone(), message };
    let ext = Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let mut all: Vec<Vec<String>> = Vec::new();
    let mut numeric_at: Vec<(usize, usize)> = Vec::new();
    match ext.as_str() {
        "xlsx" | "xlsm" => {
            use calamine::{Reader, Xlsx};
            let mut wb = Xlsx::new(std::io::Cursor::new(bytes))
                .map_err(|e| err(format!("不是可读的 Excel 工作簿 / not a readable workbook: {e}")))?;
            let first = wb
                .sheet_names()
                .first()
                .cloned()
                .ok_or_else(|| err("工作簿中没有工作表 / the workbook has no sheet".into()))?;
            // Cell by cell, never the whole sheet at once: a small file can unpack to
            // millions of cells, so rows and columns are bounded as they are read.
            let mut cells = wb
                .worksheet_cells_reader(&first)
                .map_err(|e| err(format!("读取第一个工作表失败 / reading the first sheet: {e}")))?;
            let too_big = |what: &str, n: u64, max: usize| {
                err(format!(
                    "工作表过大：{what}达到 {n}，上限 {max} / the sheet is too large: {n} {what_en}, at most {max}",
                    what_en = if what == "行数" { "rows" } else { "columns" }
                ))
            };
            while let Some(cell) =
                cells.next_cell().map_err(|e| err(format!("读取第一个工作表失败 / reading the first sheet: {e}")))?
            {
                let (r, c) = cell.get_position();
                let (r, c) = (r as usize, c as usize);
                if r >= MAX_SHEET_ROWS + 1 {
                    return Err(too_big("行数", r as u64 + 1, MAX_SHEET_ROWS));
                }
                if c >= MAX_SHEET_COLUMNS {
                    return Err(too_big("列数", c as u64 + 1, MAX_SHEET_COLUMNS));
                }
                let value = calamine::Data::from(cell.get_value().clone());
                if matches!(value, calamine::Data::Empty) {
                    continue;
                }
                while all.len() <= r {
                    all.push(Vec::new());
                }
                let row = &mut all[r];
                while row.len() <= c {
                    row.push(String::new());
                }
                if matches!(value, calamine::Data::Float(_) | calamine::Data::Int(_)) {
                    numeric_at.push((r, c));
                }
                row[c] = cell_text(&value);
            }
            // Rows above the first used one are not there (as a range would start).
            let first_used = all.iter().position(|r| !r.is_empty()).unwrap_or(0);
            all.drain(..first_used);
            numeric_at = numeric_at.into_iter().map(|(r, c)| (r - first_used, c)).collect();
        }
        "csv" | "txt" => {
            let (text, delimiter) = decode_csv(&file, bytes)?;
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(text.as_bytes());
            for rec in r.records() {
                let rec = rec.map_err(|e| err(format!("不是有效的 CSV / not valid CSV: {e}")))?;
                all.push(rec.iter().map(str::to_string).collect());
            }
        }
        other => {
            return Err(err(format!(
                "不支持的文件类型“{other}”，请提供 .csv 或 .xlsx 文件 / unknown file type {other:?}; give a .csv or .xlsx file"
            )));
        }
    }
    let mut it = all.into_iter().enumerate();
    let header: Vec<String> = it
        .by_ref()
        .find(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .map(|(_, r)| r.into_iter().map(|c| c.trim().to_string()).collect())
        .ok_or_else(|| {
            err("文件为空：第一行应为列名 / the file is empty; the first row must be the column headers".into())
        })?;
    let mut rows: Vec<(usize, Vec<String>)> = it
        .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
        .map(|(i, r)| (i + 1, r.into_iter().map(|c| c.trim().to_string()).collect()))
        .collect();
    let numeric = numeric_at.into_iter().map(|(i, j)| (i + 1, j)).collect();
    // Date columns hold dates, whichever way they were typed; anything else is named.
    for (j, h) in header.iter().enumerate().filter(|(_, h)| is_date_column(h)) {
        for (n, r) in rows.iter_mut() {
            let Some(v) = r.get_mut(j).filter(|v| !v.is_empty()) else { continue };
            *v = typed_date(v).ok_or_else(|| ImportError::Row {
                file: file.clone(),
                row: *n,
                column: h.clone(),
                message: format!("“{v}”不是日期（应为 YYYY-MM-DD） / {v:?} is not a date (YYYY-MM-DD)"),
            })?;
        }
    }
    Ok(Sheet { file, header, rows, numeric })
}

/// A column known by several headers (Chinese and English).
struct Col(&'static [&'static str]);

impl Col {
    /// The column's Chinese header (the first accepted name that is not ASCII).
    fn zh(&self) -> &'static str {
        self.0.iter().find(|n| !n.is_ascii()).copied().unwrap_or(self.0[0])
    }
}

impl Sheet {
    fn find(&self, col: &Col) -> Option<usize> {
        self.header.iter().position(|h| col.0.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }
    fn require(&self, col: &Col) -> Result<usize, ImportError> {
        self.find(col).ok_or_else(|| ImportError::MissingColumn {
            file: self.file.clone(),
            column: col.zh().to_string(),
            accepted: col.0.join(" / "),
        })
    }
    /// A refusal of row `row`, naming the column as the file heads it.
    fn bad(&self, row: usize, col: &Col, message: impl Into<String>) -> ImportError {
        let column = self.find(col).map_or_else(|| col.zh().to_string(), |i| self.header[i].clone());
        ImportError::Row { file: self.file.clone(), row, column, message: message.into() }
    }

    /// The credit code in row `n`, column `i`, in its one normalised form
    /// ([`shenbao_contract::credit_code::normalise`]), refused when the workbook
    /// stored it as a number (Excel keeps 15 significant digits: the code is lost)
    /// or when it is not a valid code.
    fn credit_code(&self, n: usize, r: &[String], i: usize, col: &Col) -> Result<String, ImportError> {
        let raw = get(r, Some(i)).ok_or_else(|| self.bad(n, col, "为空 / empty"))?;
        let looks_numeric =
            raw.contains(['E', 'e']) && raw.replace(['E', 'e', '+', '.'], "").chars().all(|c| c.is_ascii_digit());
        if self.numeric.contains(&(n, i)) || looks_numeric {
            return Err(self.bad(
                n,
                col,
                format!(
                    "“{raw}”是数字单元格：Excel 只保留 15 位有效数字，代码已丢失；请将该列设为“文本”后重新录入 / \
                     {raw:?} is a number cell: Excel keeps only 15 significant digits, so the code is lost; \
                     format the column as text and type the codes again"
                ),
            ));
        }
        let code = shenbao_contract::credit_code::normalise(raw);
        shenbao_contract::credit_code::validate(&code).map_err(|e| {
            self.bad(n, col, format!("统一社会信用代码无效：{} / invalid credit code: {}", e.zh(), e.en()))
        })?;
        Ok(code)
    }

    /// Refuse a key that an earlier row of the same file already gave.
    fn unique<'a>(
        &self,
        seen: &mut std::collections::HashMap<String, usize>,
        n: usize,
        key: &str,
        col: &Col,
    ) -> Result<(), ImportError> {
        match seen.insert(key.to_string(), n) {
            Some(first) => Err(self.bad(
                n,
                col,
                format!("与第 {first} 行重复（“{key}”）：同一文件中每个键只能出现一次 / {key:?} repeats row {first}; a file gives each key once"),
            )),
            None => Ok(()),
        }
    }
}

fn get(r: &[String], i: Option<usize>) -> Option<&str> {
    i.and_then(|i| r.get(i)).map(String::as_str).filter(|s| !s.is_empty())
}

fn yes(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "是" | "yes" | "y" | "true" | "1" | "失信")
}

const R_ID: Col = Col(&["id", "编码", "区划编码"]);
const R_NAME: Col = Col(&["name", "名称"]);
const R_KIND: Col = Col(&["kind", "级别"]);
const R_PARENT: Col = Col(&["parent", "上级"]);
const R_GROUP: Col = Col(&["group", "片区"]);
const R_PLANNED: Col = Col(&["separately_planned", "计划单列"]);

/// Regions from a sheet: `id, name, kind (province|city|district), parent, group, separately_planned`.
pub fn parse_regions(sheet: &Sheet) -> Result<Vec<Region>, ImportError> {
    let (id, name, kind) = (sheet.require(&R_ID)?, sheet.require(&R_NAME)?, sheet.require(&R_KIND)?);
    let (parent, group, planned) = (sheet.find(&R_PARENT), sheet.find(&R_GROUP), sheet.find(&R_PLANNED));
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut errors = RowErrors::new(sheet);
    for (n, r) in &sheet.rows {
        let row = (|| -> Result<Region, ImportError> {
            let kind = match get(r, Some(kind)) {
                Some("province" | "省") => RegionKind::Province,
                Some("city" | "市" | "地市") => RegionKind::City,
                Some("district" | "区县" | "区") => RegionKind::District,
                other => Err(sheet.bad(
                    *n,
                    &R_KIND,
                    format!("“{}”不是省、市或区县 / {other:?} is not province, city or district", other.unwrap_or("")),
                ))?,
            };
            let id = get(r, Some(id)).ok_or_else(|| sheet.bad(*n, &R_ID, "为空 / empty"))?.to_string();
            sheet.unique(&mut seen, *n, &id, &R_ID)?;
            let region = Region {
                name: get(r, Some(name)).ok_or_else(|| sheet.bad(*n, &R_NAME, "为空 / empty"))?.to_string(),
                parent: get(r, parent).map(str::to_string),
                group: get(r, group).map(str::to_string),
                separately_planned: get(r, planned).is_some_and(yes),
                kind,
                id,
            };
            if region.kind != RegionKind::Province && region.parent.is_none() {
                return Err(sheet.bad(
                    *n,
                    &R_PARENT,
                    "市或区县须填写上级区域 / a city or district needs its parent region",
                ));
            }
            Ok(region)
        })();
        if let Some(region) = errors.take(row) {
            out.push(region);
        }
    }
    errors.finish()?;
    Ok(out)
}

const O_CODE: Col = Col(&["credit_code", "统一社会信用代码"]);
const O_NAME: Col = Col(&["name", "单位名称", "企业名称", "名称"]);
const O_CHANNEL: Col = Col(&["channel", "渠道"]);
const O_CITY: Col = Col(&["city", "所属市", "地市"]);
const O_DISTRICT: Col = Col(&["district", "所属区县", "区县"]);
const O_DISHONEST: Col = Col(&["dishonest", "失信情况", "失信"]);
const O_TAGS: Col = Col(&["tags", "标签"]);

/// Organisations from a sheet: `credit_code, name, channel, city, district, dishonest,
/// tags` (separated by `;` or `；`); every other column goes into the profile under its header.
/// City and district may be given by id or by name.
pub fn parse_orgs(sheet: &Sheet, regions: &[Region]) -> Result<Vec<Organisation>, ImportError> {
    parse_orgs_checked(sheet, regions, &Ok)
}

/// [`parse_orgs`], each row's organisation completed and checked by `check` (its
/// refusal named with the row and the column it is about).
fn parse_orgs_checked(
    sheet: &Sheet,
    regions: &[Region],
    check: &dyn Fn(Organisation) -> Result<Organisation, AdminError>,
) -> Result<Vec<Organisation>, ImportError> {
    let (code, name) = (sheet.require(&O_CODE)?, sheet.require(&O_NAME)?);
    let cols = [&O_CODE, &O_NAME, &O_CHANNEL, &O_CITY, &O_DISTRICT, &O_DISHONEST, &O_TAGS];
    let known: Vec<Option<usize>> = cols.iter().map(|c| sheet.find(c)).collect();
    let region = |v: &str, kind: RegionKind| {
        regions.iter().find(|r| r.kind == kind && (r.id == v || r.name == v)).map(|r| r.id.clone())
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::new();
    let mut errors = RowErrors::new(sheet);
    for (n, r) in &sheet.rows {
        let row = (|| -> Result<Organisation, ImportError> {
            let credit_code = sheet.credit_code(*n, r, code, &O_CODE)?;
            sheet.unique(&mut seen, *n, &credit_code, &O_CODE)?;
            let city = match get(r, known[3]) {
                Some(v) => Some(
                    region(v, RegionKind::City)
                        .ok_or_else(|| sheet.bad(*n, &O_CITY, format!("没有城市“{v}” / no city {v:?}")))?,
                ),
                None => None,
            };
            let district = match get(r, known[4]) {
                Some(v) => Some(region(v, RegionKind::District).ok_or_else(|| {
                    sheet.bad(
                        *n,
                        &O_DISTRICT,
                        format!("没有区县“{v}”（请先导入行政区划） / no district {v:?} (import regions first)"),
                    )
                })?),
                None => None,
            };
            let mut profile = serde_json::Map::new();
            for (i, h) in sheet.header.iter().enumerate() {
                if known.contains(&Some(i)) || h.is_empty() {
                    continue;
                }
                // An empty cell clears the key (null until the stored profile is merged).
                let v = get(r, Some(i)).map_or(serde_json::Value::Null, |v| serde_json::Value::String(v.to_string()));
                profile.insert(h.clone(), v);
            }
            let org = Organisation {
                credit_code,
                name: get(r, Some(name)).ok_or_else(|| sheet.bad(*n, &O_NAME, "为空 / empty"))?.to_string(),
                channel: get(r, known[2]).unwrap_or("region").to_string(),
                city,
                district,
                dishonest: get(r, known[5]).is_some_and(yes),
                tags: get(r, known[6])
                    .map(|t| t.split([';', '；']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default(),
                qualifications: Vec::new(),
                profile: serde_json::Value::Object(profile).into(),
            };
            let mut org = check(org).map_err(|e| sheet.bad(*n, org_column(&e), e.to_string()))?;
            if let serde_json::Value::Object(mut p) = org.profile.to_value() {
                p.retain(|_, v| !v.is_null());
                org.profile = serde_json::Value::Object(p).into();
            }
            Ok(org)
        })();
        if let Some(org) = errors.take(row) {
            out.push(org);
        }
    }
    errors.finish()?;
    Ok(out)
}

/// The column of an organisation's sheet an [`AdminError`] is about.
fn org_column(e: &AdminError) -> &'static Col {
    match e {
        AdminError::CreditCode { .. } => &O_CODE,
        AdminError::UnknownChannel(_) => &O_CHANNEL,
        AdminError::DistrictOutsideCity { .. } => &O_DISTRICT,
        AdminError::UnknownRegion { what, .. } if what.starts_with("district") => &O_DISTRICT,
        AdminError::UnknownRegion { .. } | AdminError::RegionChangeUnderReview { .. } => &O_CITY,
        _ => &O_NAME,
    }
}

/// The first of the columns that decide an organisation's path that `new` changes.
fn changed_column(old: &Organisation, new: &Organisation) -> &'static Col {
    if old.city != new.city {
        &O_CITY
    } else if old.district != new.district {
        &O_DISTRICT
    } else if old.channel != new.channel {
        &O_CHANNEL
    } else {
        &O_TAGS
    }
}

const U_ID: Col = Col(&["id", "用户", "账号"]);
const U_NAME: Col = Col(&["name", "姓名"]);
const U_ROLE: Col = Col(&["role", "角色"]);
const U_SCOPE: Col = Col(&["scope", "范围"]);
const U_OFFICE: Col = Col(&["office", "科室"]);

/// Parse a scope as written in a sheet or on the command line: `province`,
/// `city:huizhou`, `district:huizhou.huicheng`, `organisation:<credit code>`, `expert`, `public`.
pub fn parse_scope(s: &str) -> Result<Scope, String> {
    let (level, id) = s.split_once(':').map_or((s, None), |(l, i)| (l, Some(i.to_string())));
    match (level, id) {
        ("province", None) => Ok(Scope::Province),
        ("expert", None) => Ok(Scope::Expert),
        ("public", None) => Ok(Scope::Public),
        ("city", Some(c)) => Ok(Scope::City(c)),
        ("district", Some(d)) => Ok(Scope::District(d)),
        ("organisation" | "org", Some(o)) => Ok(Scope::Organisation(shenbao_contract::credit_code::normalise(&o))),
        _ => Err(format!(
            "“{s}”不是有效的范围，应为 province、city:编码、district:编码、organisation:统一社会信用代码、expert 或 public / {s:?} is not a scope; write province, city:ID, district:ID, organisation:CREDIT-CODE, expert or public"
        )),
    }
}

/// Users from a sheet: one row per grant (`id, name, role, scope, office`); rows of
/// the same id add grants to one user.
pub fn parse_users(sheet: &Sheet) -> Result<Vec<User>, ImportError> {
    let (id, role, scope) = (sheet.require(&U_ID)?, sheet.require(&U_ROLE)?, sheet.require(&U_SCOPE)?);
    let (name, office) = (sheet.find(&U_NAME), sheet.find(&U_OFFICE));
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    let mut first_row: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = RowErrors::new(sheet);
    for (n, r) in &sheet.rows {
        let row = (|| -> Result<(), ImportError> {
            let uid = get(r, Some(id)).ok_or_else(|| sheet.bad(*n, &U_ID, "为空 / empty"))?.to_string();
            let first = *first_row.entry(uid.clone()).or_insert(*n);
            if let (Some(u), Some(given)) = (users.get(&uid), get(r, name)) {
                if u.name != given {
                    return Err(sheet.bad(
                    *n,
                    &U_NAME,
                    format!("用户“{uid}”在第 {first} 行名为“{}”，此处为“{given}” / user {uid:?} is named {:?} in row {first}, {given:?} here", u.name, u.name),
                ));
                }
            }
            let grant = RoleGrant {
                role: get(r, Some(role)).ok_or_else(|| sheet.bad(*n, &U_ROLE, "为空 / empty"))?.to_string(),
                scope: parse_scope(get(r, Some(scope)).unwrap_or("")).map_err(|e| sheet.bad(*n, &U_SCOPE, e))?,
                office: get(r, office).map(str::to_string),
            };
            let u = users.entry(uid.clone()).or_insert_with(|| User {
                id: uid.clone(),
                name: get(r, name).unwrap_or(&uid).to_string(),
                grants: Vec::new(),
            });
            if !u.grants.contains(&grant) {
                u.grants.push(grant);
            }
            Ok(())
        })();
        errors.take(row);
    }
    errors.finish()?;
    Ok(users.into_values().collect())
}

/// One line of a credit look-up (信用查询).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CreditRow {
    pub row: usize,
    pub credit_code: String,
    /// The name as given in the template, if any.
    pub given_name: Option<String>,
    /// The code's check digit and structure are valid (GB 32100-2015).
    pub valid: bool,
    /// The organisation as registered here, if it is.
    pub registered_name: Option<String>,
    pub name_matches: Option<bool>,
    pub dishonest: Option<bool>,
    /// Marked dishonest by this import (`mark_dishonest`).
    pub marked: bool,
}

const C_CODE: Col = Col(&["统一社会信用代码", "credit_code"]);

/// Whether two organisation names are the same name: compared after Unicode NFKC
/// (full-width brackets, letters and digits become their plain forms) with all white
/// space removed — 示例科技（深圳）有限公司 is 示例科技(深圳)有限公司.
pub fn same_name(a: &str, b: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    let norm = |s: &str| s.nfkc().filter(|c| !c.is_whitespace()).collect::<String>();
    norm(a) == norm(b)
}
const C_NAME: Col = Col(&["单位名称", "企业名称", "名称", "name"]);

impl Kernel {
    /// Import regions from a sheet. Nothing is written if a row is bad.
    pub fn import_regions_file(&self, path: &Path) -> Result<usize, ImportError> {
        self.import_regions_sheet(&read_sheet(path)?)
    }

    /// Import organisations from a sheet, all or none.
    pub fn import_orgs_file(&self, path: &Path) -> Result<usize, ImportError> {
        self.import_orgs_sheet(&read_sheet(path)?)
    }

    /// Import users (one row per grant) from a sheet, all or none.
    pub fn import_users_file(&self, path: &Path) -> Result<usize, ImportError> {
        self.import_users_sheet(&read_sheet(path)?)
    }

    /// Import regions from a sheet already read ([`read_sheet_bytes`]): every bad
    /// row is named and nothing is written. Returns how many were imported.
    ///
    /// # Errors
    /// The refused rows ([`ImportError::Row`] or [`ImportError::Rows`]) or a missing column.
    pub fn import_regions_sheet(&self, sheet: &Sheet) -> Result<usize, ImportError> {
        let regions = parse_regions(sheet)?;
        // Each row's parent exists (stored or in the file) and is of the level above.
        let stored = self.regions().map_err(AdminError::from)?;
        let mut errors = RowErrors::new(sheet);
        for ((n, _), r) in sheet.rows.iter().zip(&regions) {
            let parent = r
                .parent
                .as_ref()
                .and_then(|p| regions.iter().find(|x| &x.id == p).or_else(|| stored.iter().find(|x| &x.id == p)));
            if let Some(problem) = crate::regions::parent_problem(r, parent) {
                errors.take::<()>(Err(sheet.bad(*n, &R_PARENT, problem)));
            }
        }
        errors.finish()?;
        Ok(self.import_regions(&regions)?)
    }

    /// Import organisations from a sheet already read, all or none (see
    /// [`Kernel::import_regions_sheet`]).
    ///
    /// # Errors
    /// As [`Kernel::import_regions_sheet`].
    pub fn import_orgs_sheet(&self, sheet: &Sheet) -> Result<usize, ImportError> {
        let regions = self.regions().map_err(AdminError::from)?;
        // A column the sheet does not have keeps what is stored (a sheet of codes and
        // names renames; it does not move anyone or clear a profile), and the
        // profile's keys the sheet has replace the stored ones.
        let has = |c: &Col| sheet.find(c).is_some();
        let (city, district, channel, dishonest, tags) =
            (has(&O_CITY), has(&O_DISTRICT), has(&O_CHANNEL), has(&O_DISHONEST), has(&O_TAGS));
        // The stored record of each row's organisation, read once.
        let stored: std::cell::RefCell<std::collections::HashMap<String, Organisation>> = Default::default();
        let complete = |mut o: Organisation| -> Result<Organisation, AdminError> {
            if let Some(old) = self.org(&o.credit_code)? {
                if !city {
                    o.city = old.city.clone();
                }
                if !district {
                    // The stored district stays in its city; moved to another city
                    // by a sheet that says no district, it has none (the old one is
                    // not in the new city).
                    o.district = if o.city == old.city { old.district.clone() } else { None };
                }
                if !channel {
                    o.channel = old.channel.clone();
                }
                if !dishonest {
                    o.dishonest = old.dishonest;
                }
                if !tags {
                    o.tags = old.tags.clone();
                }
                o.qualifications = old.qualifications.clone();
                if let (serde_json::Value::Object(mut kept), serde_json::Value::Object(new)) =
                    (old.profile.to_value(), o.profile.to_value())
                {
                    kept.extend(new);
                    o.profile = serde_json::Value::Object(kept).into();
                }
                stored.borrow_mut().insert(o.credit_code.clone(), old);
            }
            if !city {
                // A sheet that names the district but not the city: the district's.
                if let Some(d) = o.district.as_deref() {
                    o.city = regions.iter().find(|r| r.id == d).and_then(|r| r.parent.clone()).or(o.city);
                }
            }
            self.check_org(&o)?;
            Ok(o)
        };
        // Each row as the import checks it, so that every bad row is named with its
        // column; then every row that would change the path of an organisation with
        // an application under review (a conflict, not bad input); then the import.
        let orgs = parse_orgs_checked(sheet, &regions, &complete)?;
        let stored = stored.into_inner();
        let rows: Vec<(usize, &Organisation)> = sheet.rows.iter().map(|(n, _)| *n).zip(&orgs).collect();
        let mut refused = RowErrors::new(sheet);
        for (n, o) in &rows {
            let Some(old) = stored.get(&o.credit_code) else { continue };
            if crate::workflow::same_path(old, o) {
                continue;
            }
            if let Some(e) = self.path_change_refusal(old).map_err(AdminError::from)? {
                refused.take::<()>(Err(sheet.bad(*n, changed_column(old, o), e.to_string())));
            }
        }
        refused.finish().map_err(|e| ImportError::UnderReview(Box::new(e)))?;
        self.upsert_orgs(&orgs).map_err(|e| {
            let row = match &e {
                AdminError::RegionChangeUnderReview { org, .. } => rows.iter().find(|(_, o)| &o.credit_code == org),
                _ => None,
            };
            match row {
                Some((n, o)) => {
                    let column = stored.get(&o.credit_code).map_or(&O_CITY, |old| changed_column(old, o));
                    ImportError::UnderReview(Box::new(sheet.bad(*n, column, e.to_string())))
                }
                None => e.into(),
            }
        })?;
        Ok(orgs.len())
    }

    /// Import users (one row per grant) from a sheet already read, all or none.
    /// Returns how many users (not rows) were imported.
    ///
    /// # Errors
    /// As [`Kernel::import_regions_sheet`].
    pub fn import_users_sheet(&self, sheet: &Sheet) -> Result<usize, ImportError> {
        let users = parse_users(sheet)?;
        // Each grant's place (organisation, city, district) exists: checked row by
        // row, so that every row naming one that does not is listed.
        let mut errors = RowErrors::new(sheet);
        if let Some(scope_col) = sheet.find(&U_SCOPE) {
            for (n, r) in &sheet.rows {
                let Some(scope) = get(r, Some(scope_col)).and_then(|s| parse_scope(s).ok()) else { continue };
                let probe = User {
                    id: "probe".into(),
                    name: String::new(),
                    grants: vec![RoleGrant { role: "probe".into(), scope, office: None }],
                };
                errors.take(self.check_user(&probe).map_err(|e| sheet.bad(*n, &U_SCOPE, e.to_string())));
            }
        }
        errors.finish()?;
        self.upsert_users(&users)?;
        Ok(users.len())
    }

    /// A credit look-up from the seed's template (统一社会信用代码 required, 单位名称
    /// optional): each code's validity, whether it is registered, its name and
    /// dishonesty. With `mark_dishonest`, every registered organisation listed is
    /// marked dishonest (a dishonest-list import), all in one transaction.
    pub fn credit_lookup_file(&self, path: &Path, mark_dishonest: bool) -> Result<Vec<CreditRow>, ImportError> {
        self.credit_lookup_sheet(&read_sheet(path)?, mark_dishonest)
    }

    /// [`Kernel::credit_lookup_file`] on a sheet already read ([`read_sheet_bytes`]).
    ///
    /// # Errors
    /// A missing 统一社会信用代码 column or an empty code; storage errors.
    pub fn credit_lookup_sheet(&self, sheet: &Sheet, mark_dishonest: bool) -> Result<Vec<CreditRow>, ImportError> {
        let code = sheet.require(&C_CODE)?;
        let name = sheet.find(&C_NAME);
        let mut out = Vec::new();
        let mut marks = Vec::new();
        for (n, r) in &sheet.rows {
            let credit_code = shenbao_contract::credit_code::normalise(
                get(r, Some(code)).ok_or_else(|| sheet.bad(*n, &C_CODE, "必填 / required"))?,
            );
            let valid = shenbao_contract::credit_code::validate(&credit_code).is_ok();
            let org = if valid { self.org(&credit_code).map_err(AdminError::from)? } else { None };
            let given_name = get(r, name).map(str::to_string);
            let marked = mark_dishonest && org.as_ref().is_some_and(|o| !o.dishonest);
            if marked {
                let mut o = org.clone().expect("marked only when registered");
                o.dishonest = true;
                marks.push(o);
            }
            out.push(CreditRow {
                row: *n,
                name_matches: match (&given_name, &org) {
                    (Some(g), Some(o)) => Some(same_name(g, &o.name)),
                    _ => None,
                },
                registered_name: org.as_ref().map(|o| o.name.clone()),
                dishonest: org.as_ref().map(|o| o.dishonest || marked),
                given_name,
                credit_code,
                valid,
                marked,
            });
        }
        if !marks.is_empty() {
            self.upsert_orgs(&marks)?;
        }
        Ok(out)
    }
}

/// Write a summary as an XLSX workbook: a title row, then per section its title,
/// the column headers and the rows ([`SummaryXlsx`] over the whole table).
///
/// # Errors
/// The spreadsheet writer's, as text.
pub fn summary_xlsx(summary: &Summary) -> Result<Vec<u8>, String> {
    let mut w = SummaryXlsx::new()?;
    summary.write_to(&mut w)?;
    w.finish()
}

/// A summary written into an XLSX workbook row by row ([`crate::SummarySink`]): each
/// row goes straight to a temporary file (`constant_memory`), so a 100k-row table is
/// never held; [`SummaryXlsx::finish`] zips the workbook.
pub struct SummaryXlsx {
    wb: rust_xlsxwriter::Workbook,
    bold: rust_xlsxwriter::Format,
    row: u32,
    columns: Vec<String>,
    sectioned: bool,
    /// Cells cut at Excel's limit: "application「column」".
    cut: Vec<String>,
}

impl SummaryXlsx {
    /// A workbook with one constant-memory sheet named 汇总表.
    ///
    /// # Errors
    /// The spreadsheet writer's (its temporary file), as text.
    pub fn new() -> Result<SummaryXlsx, String> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        // zlib's fastest level: zipping was an eighth of a 100k-row export at the
        // default (6); at 1 the export takes 0.83 of the time for a file 1.6× larger
        // (3.3 MB instead of 2.1 MB) — still a small download.
        wb.set_zip_compression_level(1);
        wb.add_worksheet_with_constant_memory()
            .map_err(|e| e.to_string())?
            .set_name("汇总表")
            .map_err(|e| e.to_string())?;
        Ok(SummaryXlsx {
            wb,
            bold: rust_xlsxwriter::Format::new().set_bold(),
            row: 0,
            columns: Vec::new(),
            sectioned: false,
            cut: Vec::new(),
        })
    }

    fn sheet(&mut self) -> Result<&mut rust_xlsxwriter::Worksheet, String> {
        self.wb.worksheet_from_index(0).map_err(|e| e.to_string())
    }

    /// The workbook's bytes; a note under the table names any cell cut at Excel's
    /// limit (one too-long cell does not fail the export).
    ///
    /// # Errors
    /// The spreadsheet writer's, as text.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        if !self.cut.is_empty() {
            let note = format!(
                "注：以下内容超过 Excel 单元格 {XLSX_CELL_CHARS} 字符上限，已截断（完整内容见 CSV 或系统）：{} / \
                 cells cut at Excel's limit: {}",
                self.cut.join("、"),
                self.cut.join(", ")
            );
            let row = self.row + 1;
            self.sheet()?
                .write_string(row, 0, note.chars().take(XLSX_CELL_CHARS).collect::<String>())
                .map_err(|e| e.to_string())?;
        }
        self.wb.save_to_buffer().map_err(|e| e.to_string())
    }
}

impl crate::SummarySink for SummaryXlsx {
    type Error = String;

    fn head(&mut self, head: &crate::SummaryHead) -> Result<(), String> {
        self.columns = head.columns.iter().map(|c| c.zh.clone()).collect();
        self.sectioned = head.sectioned();
        let ncols = head.columns.len().max(1) as u16;
        let bold = self.bold.clone();
        let ws = self.sheet()?;
        for c in 0..ncols {
            ws.set_column_width(c, 22).map_err(|e| e.to_string())?;
        }
        // One column: the title is a cell (a range of one cell cannot be merged).
        if ncols > 1 {
            ws.merge_range(0, 0, 0, ncols - 1, &head.title.zh, &bold).map_err(|e| e.to_string())?;
        } else {
            ws.write_with_format(0, 0, &head.title.zh, &bold).map_err(|e| e.to_string())?;
        }
        self.row = 1;
        Ok(())
    }

    fn section(&mut self, section: &crate::SummarySection) -> Result<(), String> {
        let (bold, sectioned, columns) = (self.bold.clone(), self.sectioned, self.columns.clone());
        let mut row = self.row;
        let ws = self.sheet()?;
        if sectioned {
            ws.write_with_format(row, 0, &section.title.zh, &bold).map_err(|e| e.to_string())?;
            row += 1;
        }
        for (c, title) in columns.iter().enumerate() {
            ws.write_with_format(row, c as u16, title, &bold).map_err(|e| e.to_string())?;
        }
        self.row = row + 1;
        Ok(())
    }

    fn row(&mut self, r: crate::SummaryRow) -> Result<(), String> {
        let row = self.row;
        let mut cut = Vec::new();
        let ws = self.wb.worksheet_from_index(0).map_err(|e| e.to_string())?;
        for (c, v) in r.cells.iter().enumerate() {
            let w = match xlsx_number(v) {
                Some(n) => ws.write_number(row, c as u16, n).map(drop),
                None if v.chars().count() > XLSX_CELL_CHARS => {
                    let column = self.columns.get(c).map_or("", String::as_str);
                    cut.push(format!("{}「{column}」", r.application));
                    let kept: String = v.chars().take(XLSX_CELL_CHARS - CUT_MARK.chars().count()).collect();
                    ws.write_string(row, c as u16, format!("{kept}{CUT_MARK}")).map(drop)
                }
                None => ws.write_string(row, c as u16, v.as_str()).map(drop),
            };
            w.map_err(|e| e.to_string())?;
        }
        self.cut.extend(cut);
        self.row += 1;
        Ok(())
    }
}

/// Most characters an Excel cell holds.
pub const XLSX_CELL_CHARS: usize = 32_767;
const CUT_MARK: &str = "…（已截断）";

/// A cell written as a number: plain decimal numbers that Excel keeps exactly (at
/// most 15 significant digits, no leading zero such as a telephone area code).
fn xlsx_number(v: &str) -> Option<f64> {
    let digits = v.trim_start_matches('-');
    let plain = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.')
        && !(digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0."))
        && digits.chars().filter(char::is_ascii_digit).count() <= 15;
    plain.then(|| v.parse().ok()).flatten()
}

/// Write a summary as CSV (UTF-8 with a BOM so spreadsheet programs read the
/// Chinese): a `分组 section` column first when the table has sections
/// ([`SummaryCsv`] over the whole table).
///
/// # Errors
/// The CSV writer's, as text.
pub fn summary_csv(summary: &Summary) -> Result<Vec<u8>, String> {
    let mut w = SummaryCsv::new();
    summary.write_to(&mut w)?;
    w.finish()
}

/// A summary written as CSV row by row ([`crate::SummarySink`]); see [`summary_csv`].
pub struct SummaryCsv<W: std::io::Write = Vec<u8>> {
    w: csv::Writer<W>,
    sectioned: bool,
    section: String,
}

impl Default for SummaryCsv {
    fn default() -> Self {
        SummaryCsv::new()
    }
}

impl SummaryCsv {
    /// An empty CSV in memory (its BOM).
    pub fn new() -> SummaryCsv {
        SummaryCsv::to(Vec::new()).expect("writing to memory does not fail")
    }
}

impl<W: std::io::Write> SummaryCsv<W> {
    /// A CSV written into `out` as its rows arrive, starting with the BOM.
    ///
    /// # Errors
    /// The writer's, writing the BOM.
    pub fn to(mut out: W) -> std::io::Result<SummaryCsv<W>> {
        out.write_all("\u{feff}".as_bytes())?;
        Ok(SummaryCsv { w: csv::Writer::from_writer(out), sectioned: false, section: String::new() })
    }

    /// The writer, every row written into it (for [`SummaryCsv::new`], the CSV's bytes).
    ///
    /// # Errors
    /// The CSV writer's, as text.
    pub fn finish(self) -> Result<W, String> {
        self.w.into_inner().map_err(|e| e.to_string())
    }
}

impl<W: std::io::Write> crate::SummarySink for SummaryCsv<W> {
    type Error = String;

    fn head(&mut self, head: &crate::SummaryHead) -> Result<(), String> {
        self.sectioned = head.sectioned();
        let mut header: Vec<&str> = Vec::new();
        if self.sectioned {
            header.push("分组");
        }
        header.extend(head.columns.iter().map(|c| c.zh.as_str()));
        self.w.write_record(&header).map_err(|e| e.to_string())
    }

    fn section(&mut self, section: &crate::SummarySection) -> Result<(), String> {
        self.section = crate::text::csv_cell(&section.title.zh).into_owned();
        Ok(())
    }

    fn row(&mut self, r: crate::SummaryRow) -> Result<(), String> {
        let mut rec: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        if self.sectioned {
            rec.push(std::borrow::Cow::Borrowed(self.section.as_str()));
        }
        // Applicants' text: no control characters, no formulas (crate::text).
        rec.extend(r.cells.iter().map(|c| crate::text::csv_cell(c)));
        self.w.write_record(rec.iter().map(|c| c.as_bytes())).map_err(|e| e.to_string())
    }
}
