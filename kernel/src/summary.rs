//! Recommendation summary tables (推荐汇总表): what a district, city or the province
//! recommended in a round, in priority order, with the columns and sections the
//! program declares in its manifest (`summary`). Pure reading; the spreadsheet and
//! CSV writers live in `io.rs`.

use crate::error::StoreError;
use crate::kernel::Kernel;
use crate::model::{Decision, Organisation, Round};
use crate::tables::{APPS, DECISIONS, DECISIONS_BY_APP, ORGS, QUEUE, TextKey};
use crate::workflow::RoundError;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use shenbao_contract::{ActionKind, ScopeLevel, StageKind, Text};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Whose recommendations a summary lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SummaryLevel {
    District,
    City,
    Province,
}

impl SummaryLevel {
    /// The level of the recommendations the table lists.
    pub fn scope_level(self) -> ScopeLevel {
        match self {
            SummaryLevel::District => ScopeLevel::District,
            SummaryLevel::City => ScopeLevel::City,
            SummaryLevel::Province => ScopeLevel::Province,
        }
    }

    /// Its name: `district`, `city` or `province` (as in JSON and queries).
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryLevel::District => "district",
            SummaryLevel::City => "city",
            SummaryLevel::Province => "province",
        }
    }

    /// The name, without extension, a table of `round` at this level, limited to
    /// `scope` if given, is written or sent under: `ROUND-LEVEL[-SCOPE]-summary` —
    /// the same from `shenbao export summary` and the HTTP API.
    pub fn file_stem(self, round: &str, scope: Option<&str>) -> String {
        match scope {
            Some(s) => format!("{round}-{}-{s}-summary", self.as_str()),
            None => format!("{round}-{}-summary", self.as_str()),
        }
    }
}

impl std::str::FromStr for SummaryLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "district" => Ok(SummaryLevel::District),
            "city" => Ok(SummaryLevel::City),
            "province" => Ok(SummaryLevel::Province),
            other => Err(format!("level {other:?} is not one of district, city, province")),
        }
    }
}

/// One recommended application.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SummaryRow {
    pub application: String,
    /// The rank the recommender gave (按推荐优先顺序), if any.
    pub rank: Option<u32>,
    /// Index of the recommending decision.
    pub decision: u64,
    /// The experts' mean total (百分制, 0–100), once experts scored it: rows the
    /// recommender did not rank follow in this order, highest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// One cell per column, as text.
    pub cells: Vec<String>,
}

/// One section of the table (e.g. 遴选加入单位 / 直接认定单位).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SummarySectionRows {
    pub id: String,
    pub title: Text,
    pub rows: Vec<SummaryRow>,
}

/// A summary table ready to print or write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub title: Text,
    pub round: String,
    pub level: SummaryLevel,
    /// The city or district it is limited to (none: everything at that level).
    pub scope: Option<String>,
    pub columns: Vec<Text>,
    pub sections: Vec<SummarySectionRows>,
}

impl Summary {
    pub fn row_count(&self) -> usize {
        self.sections.iter().map(|s| s.rows.len()).sum()
    }

    /// Write the whole table into a sink, as [`Kernel::summary_to`] would have sent it.
    ///
    /// # Errors
    /// The sink's.
    pub fn write_to<S: SummarySink + ?Sized>(&self, sink: &mut S) -> Result<(), S::Error> {
        sink.head(&SummaryHead {
            title: self.title.clone(),
            round: self.round.clone(),
            level: self.level,
            scope: self.scope.clone(),
            columns: self.columns.clone(),
            sections: self
                .sections
                .iter()
                .map(|s| SummarySection { id: s.id.clone(), title: s.title.clone() })
                .collect(),
        })?;
        for s in &self.sections {
            sink.section(&SummarySection { id: s.id.clone(), title: s.title.clone() })?;
            for r in &s.rows {
                sink.row(r.clone())?;
            }
        }
        Ok(())
    }
}

fn cell(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Bool(b)) => (if *b { "是" } else { "否" }).to_string(),
        Some(serde_json::Value::Array(a)) => a.iter().map(|x| cell(Some(x))).collect::<Vec<_>>().join("、"),
        Some(other) => other.to_string(),
    }
}

/// A summary table before its rows: what a writer needs to lay it out.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryHead {
    pub title: Text,
    pub round: String,
    pub level: SummaryLevel,
    /// The city or district it is limited to (none: everything at that level).
    pub scope: Option<String>,
    pub columns: Vec<Text>,
    /// Every section that will follow, in order: the manifest's (each, even when
    /// empty), or `all` when it declares none; then `other` if some row fits none.
    pub sections: Vec<SummarySection>,
}

impl SummaryHead {
    /// Whether the table is divided (more than one section, or one of the manifest's):
    /// writers then show each section's title.
    pub fn sectioned(&self) -> bool {
        self.sections.len() > 1 || self.sections.iter().any(|s| s.id != "all")
    }
}

/// A section's id and title (e.g. 遴选加入单位).
#[derive(Clone, Debug, PartialEq)]
pub struct SummarySection {
    pub id: String,
    pub title: Text,
}

/// Receives a summary table as [`Kernel::summary_to`] reads it: [`SummarySink::head`]
/// once, then for each section of the head, in order, [`SummarySink::section`] and
/// that section's rows. Nothing else of the table is held meanwhile, so a writer that
/// writes each row out keeps a 100k-row table out of memory.
pub trait SummarySink {
    /// What writing can fail with.
    type Error;

    /// The table's title, columns and sections.
    ///
    /// # Errors
    /// The writer's.
    fn head(&mut self, head: &SummaryHead) -> Result<(), Self::Error>;

    /// The next section begins.
    ///
    /// # Errors
    /// The writer's.
    fn section(&mut self, section: &SummarySection) -> Result<(), Self::Error>;

    /// The next row of the current section.
    ///
    /// # Errors
    /// The writer's.
    fn row(&mut self, row: SummaryRow) -> Result<(), Self::Error>;
}

/// Why [`Kernel::summary_to`] stopped: reading the table, or the writer.
#[derive(Debug)]
pub enum SummaryError<E> {
    /// The round, its plugin, a region (before anything reached the sink) or the
    /// store (at any point: what the sink received so far is not the whole table).
    Read(RoundError),
    /// The sink's own error.
    Write(E),
}

impl<E> From<RoundError> for SummaryError<E> {
    fn from(e: RoundError) -> Self {
        SummaryError::Read(e)
    }
}

impl<E> From<StoreError> for SummaryError<E> {
    fn from(e: StoreError) -> Self {
        SummaryError::Read(e.into())
    }
}

impl<E> From<redb::Error> for SummaryError<E> {
    fn from(e: redb::Error) -> Self {
        SummaryError::Read(StoreError::from(e).into())
    }
}

/// The whole table in memory: [`Kernel::summary`].
impl SummarySink for Summary {
    type Error = std::convert::Infallible;

    fn head(&mut self, head: &SummaryHead) -> Result<(), Self::Error> {
        self.title = head.title.clone();
        self.round = head.round.clone();
        self.level = head.level;
        self.scope = head.scope.clone();
        self.columns = head.columns.clone();
        Ok(())
    }

    fn section(&mut self, s: &SummarySection) -> Result<(), Self::Error> {
        self.sections.push(SummarySectionRows { id: s.id.clone(), title: s.title.clone(), rows: Vec::new() });
        Ok(())
    }

    fn row(&mut self, row: SummaryRow) -> Result<(), Self::Error> {
        if let Some(s) = self.sections.last_mut() {
            s.rows.push(row);
        }
        Ok(())
    }
}

/// A summary written as JSON row by row, in exactly the shape of [`Summary`]'s
/// serialisation (the API's `format=json`), into `W`: bytes in memory by default
/// ([`SummaryJson::default`]), or any writer ([`SummaryJson::to`]; the HTTP API's
/// is the response body). The rows themselves are not kept.
pub struct SummaryJson<W: std::io::Write = Vec<u8>> {
    out: W,
    /// Rows written in the current section (for the commas).
    rows: usize,
    sections: usize,
}

impl Default for SummaryJson<Vec<u8>> {
    fn default() -> Self {
        SummaryJson::to(Vec::new())
    }
}

impl SummaryJson<Vec<u8>> {
    /// The JSON document (closing what is open).
    pub fn finish(self) -> Vec<u8> {
        self.end().expect("writing to memory does not fail")
    }
}

impl<W: std::io::Write> SummaryJson<W> {
    /// A summary written into `out` as its rows arrive.
    pub fn to(out: W) -> Self {
        SummaryJson { out, rows: 0, sections: 0 }
    }

    /// Close what is open and give the writer back.
    ///
    /// # Errors
    /// The writer's.
    pub fn end(mut self) -> std::io::Result<W> {
        if self.sections > 0 {
            self.out.write_all(b"]}")?;
        }
        self.out.write_all(b"]}")?;
        Ok(self.out)
    }

    fn put<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut self.out, v)
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        self.out.write_all(bytes).map_err(serde_json::Error::io)
    }
}

impl<W: std::io::Write> SummarySink for SummaryJson<W> {
    type Error = serde_json::Error;

    fn head(&mut self, h: &SummaryHead) -> Result<(), Self::Error> {
        self.raw(b"{\"title\":")?;
        self.put(&h.title)?;
        self.raw(b",\"round\":")?;
        self.put(&h.round)?;
        self.raw(b",\"level\":")?;
        self.put(&h.level)?;
        self.raw(b",\"scope\":")?;
        self.put(&h.scope)?;
        self.raw(b",\"columns\":")?;
        self.put(&h.columns)?;
        self.raw(b",\"sections\":[")?;
        Ok(())
    }

    fn section(&mut self, s: &SummarySection) -> Result<(), Self::Error> {
        if self.sections > 0 {
            self.raw(b"]},")?;
        }
        self.sections += 1;
        self.rows = 0;
        self.raw(b"{\"id\":")?;
        self.put(&s.id)?;
        self.raw(b",\"title\":")?;
        self.put(&s.title)?;
        self.raw(b",\"rows\":[")?;
        Ok(())
    }

    fn row(&mut self, row: SummaryRow) -> Result<(), Self::Error> {
        if self.rows > 0 {
            self.raw(b",")?;
        }
        self.rows += 1;
        self.put(&row)
    }
}

/// Where a row goes and in what order, kept for every row between the two passes of
/// [`Kernel::summary_to`], with its cells while they fit the budget.
struct Placed {
    section: Option<usize>,
    rank: Option<u32>,
    score: Option<f64>,
    decision: u64,
    application: String,
    /// The row's cells, packed (each a u32 length and its UTF-8), while the kept
    /// cells of the whole table stay within [`SUMMARY_KEPT_BYTES`]; past that, none,
    /// and the second pass reads the application again.
    cells: Option<Box<[u8]>>,
}

/// Application ids the first pass of [`Kernel::summary_to`] hands a thread at a time.
const CHUNK_IDS: usize = 1024;

/// Call `f` with the id of each application of `round_id` in the queue index's order
/// (by stage, city, district, id), until `f` says stop (`Err(None)`) or fails.
fn for_each_id(
    tx: &redb::ReadTransaction,
    round_id: &str,
    mut f: impl FnMut(&str) -> Result<(), Option<StoreError>>,
) -> Result<(), Option<StoreError>> {
    let stored = |e: redb::Error| Some(StoreError::from(e));
    let queue = tx.open_table(QUEUE).map_err(|e| stored(e.into()))?;
    for row in queue.range((round_id, "", "", "", "")..).map_err(|e| stored(e.into()))? {
        let (k, _) = row.map_err(|e| stored(e.into()))?;
        let k = k.value();
        if k.0 != round_id {
            break;
        }
        f(k.4)?;
    }
    Ok(())
}

/// What every row of one summary shares: the round, its table and what its cells
/// look up. Shared by the threads of the first pass.
struct Rows<'a> {
    round: &'a Round,
    table: &'a shenbao_contract::SummaryTable,
    /// Each column's choice labels (value → label).
    labels: &'a [std::collections::HashMap<String, String>],
    /// Region names by id.
    names: &'a std::collections::HashMap<String, String>,
    /// The level's review stages.
    stages: &'a [&'a str],
    /// The level's own actions.
    level_actions: &'a [&'a str],
    /// The city or district the table is limited to.
    scope: Option<&'a str>,
    /// Experts' scores are shown (the province's table).
    scored: bool,
    /// Bytes of cells the first pass keeps for the second.
    budget: usize,
}

/// A summary's tables in its read transaction, and what a row needs of each
/// organisation, read once per organisation (a 100k-row table must not hold 100k
/// whole organisations — their profiles — in a cache).
struct Reader {
    apps: crate::tables::RecordTable<redb::ReadOnlyTable<TextKey, &'static [u8]>, TextKey, crate::model::Application>,
    orgs: crate::tables::RecordTable<redb::ReadOnlyTable<TextKey, &'static [u8]>, TextKey, Organisation>,
    log: crate::tables::RecordTable<redb::ReadOnlyTable<u64, &'static [u8]>, u64, Decision>,
    by_app: redb::ReadOnlyTable<(TextKey, u64), ()>,
    units: std::collections::HashMap<String, Option<std::rc::Rc<Unit>>>,
}

impl Reader {
    fn open(tx: &redb::ReadTransaction) -> Result<Reader, StoreError> {
        Ok(Reader {
            apps: APPS.open(tx)?,
            orgs: ORGS.open(tx)?,
            log: DECISIONS.open(tx)?,
            by_app: tx.open_table(DECISIONS_BY_APP)?,
            units: Default::default(),
        })
    }

    /// What a row shows of the organisation `code`, if there is one.
    fn get(&mut self, code: &str) -> Result<Option<std::rc::Rc<Unit>>, StoreError> {
        if let Some(o) = self.units.get(code) {
            return Ok(o.clone());
        }
        let o: Option<Organisation> = self.orgs.get(code)?;
        let unit = o.map(|o| {
            std::rc::Rc::new(Unit { name: o.name, credit_code: o.credit_code, city: o.city, district: o.district })
        });
        self.units.insert(code.to_string(), unit.clone());
        Ok(unit)
    }
}

impl Rows<'_> {
    /// The section a row with form data `data` goes into (none: "other").
    fn section(&self, data: &serde_json::Value) -> Option<usize> {
        self.table.sections.iter().position(|s| match (&s.field, &s.equals) {
            (Some(f), Some(eq)) => cell(data.pointer(f)) == *eq,
            (Some(f), None) => data.pointer(f).is_some_and(|v| !v.is_null()),
            (None, _) => true,
        })
    }

    /// A row's cells (序号, its position in its section, is filled in as it is written).
    fn cells(&self, app: &AppGist, data: &serde_json::Value, org: &Unit) -> Vec<String> {
        self.table
            .columns
            .iter()
            .zip(self.labels)
            .map(|(c, l)| {
                let v = source(self.round, app, data, org, self.names, &c.source, self.scored);
                l.get(&v).cloned().unwrap_or(v)
            })
            .collect()
    }

    /// The first pass for the application `id`: its row, placed, into `found` if it
    /// has one, with its cells packed while the cells kept so far (`kept`, shared by
    /// the pass's threads) are within the budget.
    fn place(&self, r: &mut Reader, id: &str, kept: &AtomicUsize, found: &mut Vec<Placed>) -> Result<(), StoreError> {
        let Some(app) = r.apps.get_part::<AppGist>(id)? else { return Ok(()) };
        let Some(org) = r.get(&app.applicant)? else { return Ok(()) };
        if let Some(s) = self.scope {
            if org.city.as_deref() != Some(s) && org.district.as_deref() != Some(s) {
                return Ok(());
            }
        }
        let Some((decision, rank)) = recommended_at(&r.log, &r.by_app, &app, self.stages, self.level_actions)? else {
            return Ok(());
        };
        let score = expert_mean(app.state.scores.values().copied()).filter(|_| self.scored);
        // The cells, kept packed while they fit the budget (序号 is filled in later);
        // the form data is parsed only for them or for the section.
        let keep = kept.load(Ordering::Relaxed) < self.budget;
        let (section, cells) = if self.table.sections.is_empty() && !keep {
            (Some(0), None)
        } else {
            let data = app.data()?;
            let section = if self.table.sections.is_empty() { Some(0) } else { self.section(&data) };
            (section, keep.then(|| pack(&self.cells(&app, &data, &org))))
        };
        kept.fetch_add(cells.as_ref().map_or(0, |c| c.len()), Ordering::Relaxed);
        found.push(Placed { section, rank, score, decision, application: app.id, cells });
        Ok(())
    }
}

/// Most bytes of cell text the first pass of [`Kernel::summary_to`] keeps for the
/// second by default (about the CSV of 300,000 typical rows; see
/// [`crate::KernelConfig::summary_kept_bytes`]): a table past it costs a second read
/// of its later rows' applications instead of memory.
pub const SUMMARY_KEPT_BYTES: usize = 32 << 20;

fn pack(cells: &[String]) -> Box<[u8]> {
    let mut out = Vec::with_capacity(cells.iter().map(|c| c.len() + 4).sum());
    for c in cells {
        out.extend_from_slice(&(c.len() as u32).to_le_bytes());
        out.extend_from_slice(c.as_bytes());
    }
    out.into_boxed_slice()
}

fn unpack(mut b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        out.push(String::from_utf8_lossy(&b[4..4 + n]).into_owned());
        b = &b[4 + n..];
    }
    out
}

impl Kernel {
    /// The summary table of `round` at `level`, limited to a city or district
    /// (`scope`, a region id) if given: every application whose last pass through
    /// that level's review ended in a recommendation (or a decision, at the province),
    /// in the recommender's priority order, then in the order recommended. The whole
    /// table in memory; [`Kernel::summary_to`] streams it.
    ///
    /// # Errors
    /// [`RoundError`]: an unknown round or region, the plugin, the store.
    pub fn summary(&self, round_id: &str, level: SummaryLevel, scope: Option<&str>) -> Result<Summary, RoundError> {
        let mut table = Summary {
            title: Text::new("", ""),
            round: String::new(),
            level,
            scope: None,
            columns: Vec::new(),
            sections: Vec::new(),
        };
        self.summary_to(round_id, level, scope, &mut table).map_err(|e| match e {
            SummaryError::Read(e) => e,
            SummaryError::Write(never) => match never {},
        })?;
        Ok(table)
    }

    /// [`Kernel::summary`] row by row into `sink`, from one read transaction, in two
    /// passes: the first finds the rows and their order and keeps only that (section,
    /// rank, score, decision and id) and each row's cells packed into one buffer,
    /// while all of them fit [`crate::KernelConfig::summary_kept_bytes`]; the second
    /// hands the rows to the sink in order, reading again the applications whose cells
    /// were not kept. Memory is bounded by that budget, not by the table.
    ///
    /// # Errors
    /// [`SummaryError::Read`] before anything reaches the sink for an unknown round or
    /// region or a plugin that cannot load, and for storage errors at any point;
    /// [`SummaryError::Write`] with the sink's error.
    pub fn summary_to<S: SummarySink + ?Sized>(
        &self,
        round_id: &str,
        level: SummaryLevel,
        scope: Option<&str>,
        sink: &mut S,
    ) -> Result<(), SummaryError<S::Error>> {
        let round = self.round(round_id)?;
        let record = self.plugin_record_by_sha(&round.plugin.sha256).map_err(|e| RoundError::Plugin(e.into()))?;
        let table = &record.manifest.summary;
        // A column of a choice field shows the option's label (品牌建设), not its value.
        let schemas: Vec<serde_json::Value> =
            record.manifest.forms.iter().filter_map(|f| serde_json::from_str(&f.schema).ok()).collect();
        let labels: Vec<std::collections::HashMap<String, String>> = table
            .columns
            .iter()
            .map(|c| {
                let mut out = std::collections::HashMap::new();
                if c.source.starts_with('/') {
                    for s in &schemas {
                        if let Some(node) = crate::forms::schema_at_instance(s, &c.source) {
                            out.extend(crate::forms::choice_labels(s, node));
                        }
                    }
                }
                out
            })
            .collect();
        let stages: Vec<&str> = round
            .graph
            .stages
            .iter()
            .filter(|s| s.kind == StageKind::Review && s.scope == level.scope_level())
            .map(|s| s.id.as_str())
            .collect();
        // The actions of this level (its recommendations and ranks, by their scope).
        let level_actions: Vec<&str> =
            round.graph.actions.iter().filter(|a| a.scope == level.scope_level()).map(|a| a.id.as_str()).collect();
        if let Some(s) = scope {
            if self.region(s)?.is_none() {
                return Err(RoundError::UnknownRegion(s.to_string()).into());
            }
        }
        let names: std::collections::HashMap<String, String> =
            self.regions()?.into_iter().map(|r| (r.id, r.name)).collect();
        // One read transaction for the whole table: the round's applications by the
        // queue index, organisations once each, decisions by the per-application index.
        let tx = self.begin_read()?;
        let rows = Rows {
            round: &round,
            table,
            labels: &labels,
            names: &names,
            stages: &stages,
            level_actions: &level_actions,
            scope,
            // Experts' scores are the province's (redacted below it, as in the trail).
            scored: level == SummaryLevel::Province,
            budget: self.summary_kept_bytes,
        };
        // The first pass: which applications, in which section and order, and (within
        // the budget) their cells. The round's applications in the queue index's
        // order, handed in chunks to up to `summary_threads` threads sharing the one
        // read transaction (at most two chunks a thread wait: what the pass holds grows
        // with the rows found and the organisations met, not with the round's ids).
        let kept = AtomicUsize::new(0);
        let threads = self.summary_threads.max(1);
        let one_thread = || -> Result<Vec<Placed>, StoreError> {
            let mut r = Reader::open(&tx)?;
            let mut found = Vec::new();
            for_each_id(&tx, round_id, |id| rows.place(&mut r, id, &kept, &mut found).map_err(Some))
                .map_err(|e| e.expect("only a failure stops the scan here"))?;
            Ok(found)
        };
        let mut found: Vec<Placed> = if threads == 1 {
            one_thread()?
        } else {
            let failed = AtomicBool::new(false);
            let (tx, rows, kept, failed) = (&tx, &rows, &kept, &failed);
            std::thread::scope(|sc| {
                let (send, chunks) = std::sync::mpsc::sync_channel::<Vec<String>>(threads * 2);
                // Held by the threads only: when they have all stopped (a storage error,
                // a panic), sending fails and the scan stops.
                let chunks = Arc::new(Mutex::new(chunks));
                let running: Vec<_> = (0..threads)
                    .filter_map(|_| {
                        let chunks = chunks.clone();
                        let work = move || -> Result<Vec<Placed>, StoreError> {
                            let mut found = Vec::new();
                            let mut r = Reader::open(tx)?;
                            loop {
                                let chunk = chunks.lock().unwrap_or_else(|e| e.into_inner()).recv();
                                let Ok(chunk) = chunk else { return Ok(found) };
                                for id in &chunk {
                                    rows.place(&mut r, id, kept, &mut found)?;
                                }
                            }
                        };
                        let run = move || {
                            let out = work();
                            if out.is_err() {
                                failed.store(true, Ordering::Relaxed);
                            }
                            out
                        };
                        // A thread the system refuses is one fewer (none: see below).
                        std::thread::Builder::new().name("summary".into()).spawn_scoped(sc, run).ok()
                    })
                    .collect();
                drop(chunks);
                if running.is_empty() {
                    drop(send);
                    return one_thread();
                }
                let mut chunk = Vec::with_capacity(CHUNK_IDS);
                let scanned = for_each_id(tx, round_id, |id| {
                    chunk.push(id.to_string());
                    if chunk.len() == CHUNK_IDS {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_IDS));
                        if send.send(full).is_err() || failed.load(Ordering::Relaxed) {
                            return Err(None);
                        }
                    }
                    Ok(())
                });
                if !chunk.is_empty() {
                    let _ = send.send(chunk);
                }
                drop(send);
                let mut parts = Vec::with_capacity(running.len());
                let mut error = scanned.err().flatten();
                for r in running {
                    match r.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                        Ok(part) => parts.push(part),
                        Err(e) => error = error.or(Some(e)),
                    }
                }
                if let Some(e) = error {
                    return Err(e);
                }
                let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
                parts.into_iter().for_each(|p| all.extend(p));
                Ok(all)
            })?
        };
        // The recommender's ranks first; then the experts' scores, highest first; then
        // the order of the recommendations.
        found.sort_unstable_by(|a, b| {
            (a.rank.is_none(), a.rank)
                .cmp(&(b.rank.is_none(), b.rank))
                .then_with(|| match (a.score, b.score) {
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    (x, y) => x.is_none().cmp(&y.is_none()),
                })
                .then(a.decision.cmp(&b.decision))
                // Total whatever the threads' order: one decision moves one
                // application, but a damaged trail could name another's.
                .then_with(|| a.application.cmp(&b.application))
        });
        let mut sections: Vec<SummarySection> = if table.sections.is_empty() {
            vec![SummarySection { id: "all".into(), title: table.title.clone() }]
        } else {
            table.sections.iter().map(|s| SummarySection { id: s.id.clone(), title: s.title.clone() }).collect()
        };
        let other = sections.len();
        if found.iter().any(|p| p.section.is_none()) {
            sections.push(SummarySection { id: "other".into(), title: Text::new("其他", "other") });
        }
        let head = SummaryHead {
            title: table.title.clone(),
            round: round_id.to_string(),
            level,
            scope: scope.map(str::to_string),
            columns: table.columns.iter().map(|c| c.title.clone()).collect(),
            sections,
        };
        sink.head(&head).map_err(SummaryError::Write)?;
        // The second pass, section by section in the order found: each row's cells.
        let mut reader = Reader::open(&tx)?;
        for (i, section) in head.sections.iter().enumerate() {
            sink.section(section).map_err(SummaryError::Write)?;
            let mine = found.iter().filter(|p| p.section.unwrap_or(other) == i);
            for (pos, placed) in mine.enumerate() {
                let mut cells = match &placed.cells {
                    Some(packed) => unpack(packed),
                    None => {
                        // The same read transaction found both in the first pass.
                        let gone = || StoreError::Corrupt {
                            key: format!("apps/{}", placed.application),
                            message: "read in the summary's first pass but not in its second".into(),
                        };
                        let app = reader.apps.get_part::<AppGist>(placed.application.as_str())?.ok_or_else(gone)?;
                        let org = reader.get(&app.applicant)?.ok_or_else(gone)?;
                        rows.cells(&app, &app.data()?, &org)
                    }
                };
                // 序号: the position in its section.
                for (c, col) in cells.iter_mut().zip(&table.columns) {
                    if col.source == "rank" {
                        *c = (pos + 1).to_string();
                    }
                }
                let row = SummaryRow {
                    application: placed.application.clone(),
                    rank: placed.rank,
                    decision: placed.decision,
                    score: placed.score,
                    cells,
                };
                sink.row(row).map_err(SummaryError::Write)?;
            }
        }
        Ok(())
    }
}

/// What the summary reads of an application: a part of the stored record (its
/// attachments, history and times are skipped; the form data is kept as its JSON
/// text until a row needs it).
#[derive(Deserialize)]
struct AppGist {
    id: String,
    applicant: String,
    #[serde(default)]
    direction: Option<String>,
    data: Box<serde_json::value::RawValue>,
    state: StateGist,
}

#[derive(Deserialize)]
struct StateGist {
    stage: String,
    #[serde(default)]
    trail: Vec<VisitGist>,
    #[serde(default)]
    scores: std::collections::BTreeMap<String, f64>,
    #[serde(default)]
    item_scores: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
}

#[derive(Deserialize)]
struct VisitGist {
    stage: String,
    #[serde(default)]
    decision: Option<u64>,
}

impl AppGist {
    /// The form data.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the application when the stored data is not a
    /// value (as reading the whole record would say).
    fn data(&self) -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(self.data.get())
            .map_err(|e| StoreError::Corrupt { key: format!("apps/{}", self.id), message: format!("form data: {e}") })
    }
}

/// What the summary reads of a decision: a part of the stored record (the rest —
/// opinion, check, explanation — is skipped, not built).
#[derive(Deserialize)]
struct DecisionGist {
    action: String,
    kind: ActionKind,
    to: String,
    #[serde(default)]
    payload: RankOnly,
}

#[derive(Default, Deserialize)]
struct RankOnly {
    rank: Option<u32>,
}

/// The index of the decision that ended the application's last pass through
/// `stages` in a recommendation, with the rank given during that pass.
fn recommended_at(
    log: &crate::tables::RecordTable<redb::ReadOnlyTable<u64, &'static [u8]>, u64, Decision>,
    by_app: &impl ReadableTable<(TextKey, u64), ()>,
    app: &AppGist,
    stages: &[&str],
    level_actions: &[&str],
) -> Result<Option<(u64, Option<u32>)>, StoreError> {
    let Some(i) = app.state.trail.iter().rposition(|v| stages.contains(&v.stage.as_str())) else {
        return Ok(None);
    };
    let Some(next) = app.state.trail.get(i + 1).and_then(|v| v.decision) else { return Ok(None) };
    let read = |index: u64| -> Result<Option<DecisionGist>, StoreError> { log.get_part(index) };
    let Some(d) = read(next)? else { return Ok(None) };
    if !matches!(d.kind, ActionKind::Recommend | ActionKind::Decide) || d.to == "not-passed" {
        return Ok(None);
    }
    // The rank: the last one this level's own actions gave during this pass — a city
    // ranks its recommendations after making them (`city-rank`, while they wait at the
    // province), so the pass runs from entering the level's stage to now, and a rank is
    // the level's by the action that gave it, not by the stage it was given at.
    let entered = app.state.trail[i].decision.unwrap_or(0);
    let mut rank = None;
    for row in by_app.range((app.id.as_str(), entered)..=(app.id.as_str(), u64::MAX))? {
        let (k, _) = row?;
        let index = k.value().1;
        let gist = if index == next { None } else { read(index)? };
        if let Some(x) = gist.as_ref().or((index == next).then_some(&d)) {
            if level_actions.contains(&x.action.as_str()) {
                if let Some(r) = x.payload.rank {
                    rank = Some(r);
                }
            }
        }
    }
    Ok(Some((next, rank)))
}

/// The sources a summary column may name besides a JSON pointer into the form data
/// (`/contact/name`): the recommender's order, the application id, the applicant's
/// name, credit code, city and district (their names), the direction's title, the
/// stage's title, the experts' mean total (`expert:score`, 0–100, in the province's
/// table only) — and [`ITEM_SCORE_SOURCE`]`ITEM` for one expert-review item's mean.
/// Install refuses any other (`manifest_check`).
pub const COLUMN_SOURCES: &[&str] = &[
    "rank",
    "application",
    "applicant:name",
    "applicant:credit_code",
    "applicant:city",
    "applicant:district",
    "direction:title",
    "stage",
    "expert:score",
];

/// The prefix of a column of one expert-review item's mean score: `expert:score:ITEM`,
/// ITEM one of the manifest's `expert_items`.
pub const ITEM_SCORE_SOURCE: &str = "expert:score:";

/// The mean of some scores rounded to 0.01 (百分制), none for none.
fn expert_mean(scores: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, sum) = scores.fold((0u32, 0.0), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| (sum / f64::from(n) * 100.0).round() / 100.0)
}

/// A score as the table writes it: `87.5`, `90`, `86.33`.
fn score_text(x: Option<f64>) -> String {
    x.map(|x| {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    })
    .unwrap_or_default()
}

/// One cell of a row: a column's `source` (`rank` is filled in by position later).
/// What a summary row shows of its organisation.
struct Unit {
    name: String,
    credit_code: String,
    city: Option<String>,
    district: Option<String>,
}

fn source(
    round: &Round,
    app: &AppGist,
    data: &serde_json::Value,
    org: &Unit,
    names: &std::collections::HashMap<String, String>,
    source: &str,
    scored: bool,
) -> String {
    let region = |id: &Option<String>| {
        id.as_ref().map(|r| names.get(r).cloned().unwrap_or_else(|| r.clone())).unwrap_or_default()
    };
    match source {
        "rank" => String::new(),
        "application" => app.id.clone(),
        "applicant:name" => org.name.clone(),
        "applicant:credit_code" => org.credit_code.clone(),
        "applicant:city" => region(&org.city),
        "applicant:district" => region(&org.district),
        "direction:title" => app
            .direction
            .as_ref()
            .and_then(|d| round.directions.iter().find(|x| &x.id == d))
            .map(|d| d.title.zh.clone())
            .unwrap_or_default(),
        "stage" => round
            .graph
            .stages
            .iter()
            .find(|s| s.id == app.state.stage)
            .map_or_else(|| app.state.stage.clone(), |s| s.title.zh.clone()),
        _ if source.starts_with("expert:score") && !scored => String::new(),
        "expert:score" => score_text(expert_mean(app.state.scores.values().copied())),
        item if item.starts_with(ITEM_SCORE_SOURCE) => {
            let item = &item[ITEM_SCORE_SOURCE.len()..];
            score_text(expert_mean(app.state.item_scores.values().filter_map(|by_item| by_item.get(item).copied())))
        }
        pointer if pointer.starts_with('/') => cell(data.pointer(pointer)),
        _ => String::new(),
    }
}
