//! Recommendation summary tables (推荐汇总表): what a district, city or the province
//! recommended in a round, in priority order, with the columns and sections the
//! program declares in its manifest (`summary`). Pure reading; the spreadsheet and
//! CSV writers live in `io.rs`.

use crate::error::StoreError;
use crate::kernel::Kernel;
use crate::model::{Application, Decision, Organisation, Round};
use crate::tables::{APPS, DECISIONS, DECISIONS_BY_APP, ORGS, QUEUE, ReadableRecords};
use crate::workflow::RoundError;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use shenbao_contract::{ActionKind, ScopeLevel, StageKind, Text};

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

impl Kernel {
    /// The summary table of `round` at `level`, limited to a city or district
    /// (`scope`, a region id) if given: every application whose last pass through
    /// that level's review ended in a recommendation (or a decision, at the province),
    /// in the recommender's priority order, then in the order recommended.
    pub fn summary(&self, round_id: &str, level: SummaryLevel, scope: Option<&str>) -> Result<Summary, RoundError> {
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
                return Err(RoundError::UnknownRegion(s.to_string()));
            }
        }
        let names: std::collections::HashMap<String, String> =
            self.regions()?.into_iter().map(|r| (r.id, r.name)).collect();
        // Each application's form data is parsed once, for its cells and its section.
        // One read transaction for the whole table: the round's applications by the
        // queue index, organisations once each, decisions by the per-application index.
        let tx = self.begin_read()?;
        let queue = tx.open_table(QUEUE)?;
        let apps = APPS.open(&tx)?;
        let orgs = ORGS.open(&tx)?;
        let log = DECISIONS.open(&tx)?;
        let by_app = tx.open_table(DECISIONS_BY_APP)?;
        // What a row needs of each organisation, once per organisation: a 100k-row table
        // must not hold 100k whole organisations (their profiles) in its cache.
        let mut org_cache: std::collections::HashMap<String, Option<std::rc::Rc<Unit>>> = Default::default();
        // Only the row and its section are kept per application: a 100k-row table must
        // not hold 100k parsed applications.
        let section_of = |data: &serde_json::Value| -> Option<usize> {
            if table.sections.is_empty() {
                Some(0)
            } else {
                table.sections.iter().position(|s| match (&s.field, &s.equals) {
                    (Some(f), Some(eq)) => cell(data.pointer(f)) == *eq,
                    (Some(f), None) => data.pointer(f).is_some_and(|v| !v.is_null()),
                    (None, _) => true,
                })
            }
        };
        let mut found: Vec<(Option<usize>, SummaryRow)> = Vec::new();
        for row in queue.range((round_id, "", "", "", "")..)? {
            let (k, _) = row?;
            let k = k.value();
            if k.0 != round_id {
                break;
            }
            let Some(app) = apps.get(k.4)? else { continue };
            let org = match org_cache.get(&app.applicant) {
                Some(o) => o.clone(),
                None => {
                    let o: Option<Organisation> = orgs.get(app.applicant.as_str())?;
                    let unit = o.map(|o| {
                        std::rc::Rc::new(Unit {
                            name: o.name,
                            credit_code: o.credit_code,
                            city: o.city,
                            district: o.district,
                        })
                    });
                    org_cache.insert(app.applicant.clone(), unit.clone());
                    unit
                }
            };
            let Some(org) = org else { continue };
            if let Some(s) = scope {
                if org.city.as_deref() != Some(s) && org.district.as_deref() != Some(s) {
                    continue;
                }
            }
            let Some((decision, rank)) = recommended_at(&log, &by_app, &app, &stages, &level_actions)? else {
                continue;
            };
            let data = app.data.to_value();
            // Experts' scores are the province's (redacted below it, as in the trail).
            let scored = level == SummaryLevel::Province;
            let cells = table
                .columns
                .iter()
                .zip(&labels)
                .map(|(c, l)| {
                    let v = source(&round, &app, &data, &org, &names, &c.source, scored);
                    l.get(&v).cloned().unwrap_or(v)
                })
                .collect();
            let score = expert_mean(app.state.scores.values().copied()).filter(|_| scored);
            found.push((
                section_of(&data),
                SummaryRow { application: app.id, rank, decision: decision.index, score, cells },
            ));
        }
        // The recommender's ranks first; then the experts' scores, highest first; then
        // the order of the recommendations.
        found.sort_by(|(_, a), (_, b)| {
            (a.rank.is_none(), a.rank)
                .cmp(&(b.rank.is_none(), b.rank))
                .then_with(|| match (a.score, b.score) {
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    (x, y) => x.is_none().cmp(&y.is_none()),
                })
                .then(a.decision.cmp(&b.decision))
        });
        let mut sections: Vec<SummarySectionRows> = if table.sections.is_empty() {
            vec![SummarySectionRows { id: "all".into(), title: table.title.clone(), rows: Vec::new() }]
        } else {
            table
                .sections
                .iter()
                .map(|s| SummarySectionRows { id: s.id.clone(), title: s.title.clone(), rows: Vec::new() })
                .collect()
        };
        let mut other =
            SummarySectionRows { id: "other".into(), title: Text::new("其他", "other"), rows: Vec::new() };
        for (target, mut row) in found {
            let section = match target {
                Some(i) => &mut sections[i],
                None => &mut other,
            };
            // 序号: the position in its section.
            let pos = section.rows.len() + 1;
            for (c, col) in row.cells.iter_mut().zip(&table.columns) {
                if col.source == "rank" {
                    *c = pos.to_string();
                }
            }
            section.rows.push(row);
        }
        if !other.rows.is_empty() {
            sections.push(other);
        }
        Ok(Summary {
            title: table.title.clone(),
            round: round_id.to_string(),
            level,
            scope: scope.map(str::to_string),
            columns: table.columns.iter().map(|c| c.title.clone()).collect(),
            sections,
        })
    }
}

/// The decision that ended the application's last pass through `stages` in a
/// recommendation, with the rank given during that pass.
fn recommended_at(
    log: &impl ReadableRecords<u64, Decision>,
    by_app: &impl ReadableTable<(&'static str, u64), ()>,
    app: &Application,
    stages: &[&str],
    level_actions: &[&str],
) -> Result<Option<(Decision, Option<u32>)>, StoreError> {
    let Some(i) = app.state.trail.iter().rposition(|v| stages.contains(&v.stage.as_str())) else {
        return Ok(None);
    };
    let Some(next) = app.state.trail.get(i + 1).and_then(|v| v.decision) else { return Ok(None) };
    let read = |index: u64| -> Result<Option<Decision>, StoreError> { log.get(index) };
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
        if let Some(x) = read(k.value().1)? {
            if level_actions.contains(&x.action.as_str()) {
                if let Some(r) = x.payload.rank {
                    rank = Some(r);
                }
            }
        }
    }
    Ok(Some((d, rank)))
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
    app: &Application,
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
