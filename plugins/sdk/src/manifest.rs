//! Building a manifest: forms from Rust types, rule tables, a default graph.

use crate::checker::RuleDef;
use schemars::JsonSchema;
use shenbao_contract::*;

/// The JSON Schema (draft 2020-12) of a form type, as JSON text.
///
/// Titles come from `#[schemars(title = "…")]` (Chinese, shown to applicants),
/// descriptions from doc comments (English, for integrators).
pub fn form_schema<T: JsonSchema>() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    serde_json::to_string(&schema).expect("a schema is always JSON")
}

/// A [`Form`] whose schema is derived from `T`.
pub fn form<T: JsonSchema>(id: &str, title: Text) -> Form {
    Form { id: id.to_string(), title, schema: form_schema::<T>() }
}

fn stage(id: &str, zh: &str, en: &str, kind: StageKind, role: Option<&str>, scope: ScopeLevel) -> Stage {
    Stage {
        id: id.into(),
        title: Text::new(zh, en),
        kind,
        optional: false,
        role: role.map(Into::into),
        scope,
        sla_working_days: None,
        window: None,
        outcome: None,
    }
}

fn action(id: &str, zh: &str, en: &str, kind: ActionKind, from: &[&str], to: Target, roles: &[&str], scope: ScopeLevel) -> Action {
    Action {
        id: id.into(),
        title: Text::new(zh, en),
        kind,
        from_stages: from.iter().map(|s| s.to_string()).collect(),
        to,
        roles: roles.iter().map(|s| s.to_string()).collect(),
        scope,
        opinion: match kind {
            ActionKind::Recommend | ActionKind::NotRecommend | ActionKind::Return | ActionKind::Decide => OpinionRule::Required,
            _ => OpinionRule::None,
        },
        batch: kind == ActionKind::Recommend,
        runs_check: kind == ActionKind::Submit,
        deadline_months: None,
        ban_months: None,
        annual_due: None,
    }
}

/// The smallest graph of the seed platform: the applicant drafts and submits, the
/// city reviews, the province decides. Programs normally declare their own.
pub fn simple_graph() -> Graph {
    use ScopeLevel::*;
    let mut passed = stage("passed", "通过", "passed", StageKind::Terminal, None, Province);
    passed.outcome = Some(Outcome::Passed);
    let mut failed = stage("not-passed", "不通过", "not passed", StageKind::Terminal, None, Province);
    failed.outcome = Some(Outcome::NotPassed);
    Graph {
        initial: "draft".into(),
        stages: vec![
            stage("draft", "申报人申报", "applicant drafting", StageKind::Draft, Some("applicant"), OwnOrganisation),
            stage("city-review", "市级审核", "city review", StageKind::Review, Some("city-officer"), City),
            stage("province-review", "省级审核", "province review", StageKind::Review, Some("province-officer"), Province),
            passed,
            failed,
        ],
        actions: vec![
            action("save-draft", "保存草稿", "save draft", ActionKind::SaveDraft, &["draft"], Target::Stay, &["applicant"], OwnOrganisation),
            action("submit", "提交", "submit", ActionKind::Submit, &["draft"], Target::Next, &["applicant"], OwnOrganisation),
            action("recommend", "推荐", "recommend", ActionKind::Recommend, &["city-review"], Target::Next, &["city-officer"], City),
            action("not-recommend", "不推荐", "not recommend", ActionKind::NotRecommend, &["city-review"], Target::Stage("not-passed".into()), &["city-officer"], City),
            action("return", "回退", "return", ActionKind::Return, &["city-review", "province-review"], Target::Previous, &["city-officer", "province-officer"], City),
            action("withdraw", "撤回", "withdraw", ActionKind::Withdraw, &["province-review"], Target::Previous, &["city-officer"], City),
            action("approve", "审定通过", "approve", ActionKind::Decide, &["province-review"], Target::Stage("passed".into()), &["province-officer"], Province),
            action("reject", "审定不通过", "reject", ActionKind::Decide, &["province-review"], Target::Stage("not-passed".into()), &["province-officer"], Province),
        ],
        routes: Vec::new(),
    }
}

/// Builds a [`Manifest`] with sensible empties; every `Vec` field has an adder.
pub struct ManifestBuilder(Manifest);

impl ManifestBuilder {
    pub fn new(program: &str, name: Text, version: &str) -> Self {
        ManifestBuilder(Manifest {
            program: program.into(),
            name: name.clone(),
            version: version.into(),
            editions: Vec::new(),
            default_edition: String::new(),
            funded: false,
            forms: Vec::new(),
            categories: Vec::new(),
            directions: Vec::new(),
            directions_from_round: false,
            rules: Vec::new(),
            signals: Vec::new(),
            expert_items: Vec::new(),
            quotas: Vec::new(),
            graph: simple_graph(),
            summary: SummaryTable { title: name, sections: Vec::new(), columns: Vec::new() },
        })
    }
    pub fn edition(mut self, id: &str, year: u32, title: Text) -> Self {
        if self.0.default_edition.is_empty() {
            self.0.default_edition = id.into();
        }
        self.0.editions.push(Edition { id: id.into(), year, title });
        self
    }
    pub fn default_edition(mut self, id: &str) -> Self {
        self.0.default_edition = id.into();
        self
    }
    pub fn funded(mut self, funded: bool) -> Self {
        self.0.funded = funded;
        self
    }
    pub fn form(mut self, form: Form) -> Self {
        self.0.forms.push(form);
        self
    }
    pub fn category(mut self, category: Category) -> Self {
        self.0.categories.push(category);
        self
    }
    pub fn direction(mut self, direction: Direction) -> Self {
        self.0.directions.push(direction);
        self
    }
    pub fn directions_from_round(mut self, yes: bool) -> Self {
        self.0.directions_from_round = yes;
        self
    }
    pub fn rules(mut self, rules: &[RuleDef]) -> Self {
        self.0.rules.extend(rules.iter().map(RuleDef::to_rule));
        self
    }
    pub fn signal(mut self, id: &str, clause: &str, title: Text) -> Self {
        self.0.signals.push(SignalType { id: id.into(), clause: clause.into(), title });
        self
    }
    pub fn expert_item(mut self, id: &str, clause: &str, title: Text, directions: &[&str]) -> Self {
        self.0.expert_items.push(ExpertItem {
            id: id.into(),
            clause: clause.into(),
            title,
            directions: directions.iter().map(|d| d.to_string()).collect(),
        });
        self
    }
    pub fn quota(mut self, quota: Quota) -> Self {
        self.0.quotas.push(quota);
        self
    }
    pub fn graph(mut self, graph: Graph) -> Self {
        self.0.graph = graph;
        self
    }
    pub fn summary(mut self, summary: SummaryTable) -> Self {
        self.0.summary = summary;
        self
    }
    pub fn build(self) -> Manifest {
        self.0
    }
}
