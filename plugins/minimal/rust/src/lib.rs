//! A minimal complete program in Rust — the author guide's example (`plugins/README.md`).
//!
//! One form in two sections, two rules, one quota, a two-step review (city → decided).
//! The same program is written in Python (`../python`) and JavaScript (`../js`);
//! the test suite builds all three and requires the same manifest and findings.

use schemars::JsonSchema;
use serde::Deserialize;
use shenbao_sdk::prelude::*;
use shenbao_sdk::{
    Action, ActionKind, Graph, OpinionRule, Outcome, Quota, QuotaGroup, ScopeLevel, Stage, StageKind, SummaryColumn,
    SummaryTable, Target,
};

// The rule table: one row per machine-checkable clause — id, severity, clause, zh, en.
shenbao_sdk::rules! {
    "minimal.staff.min-20", Blocking, "示例通知 第三条", "研发人员不少于 20 人", "at least 20 R&D staff";
    "minimal.grant.max-50", Blocking, "示例通知 第五条", "申请资助不超过 50 万元", "a grant of at most 500,000 yuan";
}
use Severity::Blocking;

// The form; its JSON Schema is derived from these types (a doc comment on a type becomes
// its "description"), and the kernel validates data against it before `check` runs. Each
// section is a type of its own: it renders as a titled group.
#[derive(Deserialize, JsonSchema)]
#[schemars(title = "研发团队小额资助申报表")]
pub struct MainForm {
    #[schemars(title = "项目信息")]
    pub project: Project,
    #[schemars(title = "研发团队")]
    pub team: Team,
}

#[derive(Deserialize, JsonSchema)]
pub struct Project {
    // `x-project-key`: the project's name, as reviewers' lists show it.
    #[schemars(title = "项目名称", length(min = 1, max = 60), extend("x-project-key" = true))]
    pub name: String,
    #[schemars(title = "项目类别")]
    pub kind: Kind,
    #[schemars(title = "申请资助金额（万元）", range(min = 0))]
    pub grant: Wan,
}

// A choice: each option's label is its doc comment (the summary table shows the label).
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// 新产品研发
    NewProduct,
    /// 工艺改进
    ProcessImprovement,
}

#[derive(Deserialize, JsonSchema)]
pub struct Team {
    #[schemars(title = "研发人员数（人）")]
    pub rd_staff: u32,
    #[schemars(title = "项目负责人", length(min = 1, max = 30))]
    pub lead: String,
}

fn stage(id: &str, title: Text, kind: StageKind, role: Option<&str>, scope: ScopeLevel) -> Stage {
    Stage {
        id: id.into(),
        title,
        kind,
        optional: false,
        role: role.map(Into::into),
        scope,
        sla_working_days: None,
        window: None,
        outcome: None,
    }
}

fn action(id: &str, title: Text, kind: ActionKind, from: &str, to: Target, role: &str, scope: ScopeLevel) -> Action {
    Action {
        id: id.into(),
        title,
        kind,
        from_stages: vec![from.into()],
        to,
        roles: vec![role.into()],
        scope,
        opinion: OpinionRule::None,
        batch: false,
        runs_check: false,
        deadline_months: None,
        ban_months: None,
        annual_due: None,
    }
}

/// The review path: the applicant drafts and submits, the city recommends (within its
/// quota) or not, and the application ends passed or not passed.
pub fn graph() -> Graph {
    use ScopeLevel::{City, OwnOrganisation, Province};
    let t = Text::new;
    Graph {
        initial: "draft".into(),
        stages: vec![
            Stage {
                window: Some("applicant".into()),
                ..stage(
                    "draft",
                    t("申报人填报", "applicant drafting"),
                    StageKind::Draft,
                    Some("applicant"),
                    OwnOrganisation,
                )
            },
            Stage {
                sla_working_days: Some(10),
                window: Some("city".into()),
                ..stage("city-review", t("市级审核", "city review"), StageKind::Review, Some("city-officer"), City)
            },
            Stage {
                outcome: Some(Outcome::Passed),
                ..stage("passed", t("通过", "passed"), StageKind::Terminal, None, Province)
            },
            Stage {
                outcome: Some(Outcome::NotPassed),
                ..stage("not-passed", t("不通过", "not passed"), StageKind::Terminal, None, Province)
            },
        ],
        actions: vec![
            action(
                "save-draft",
                t("保存草稿", "save draft"),
                ActionKind::SaveDraft,
                "draft",
                Target::Stay,
                "applicant",
                OwnOrganisation,
            ),
            Action {
                runs_check: true,
                ..action(
                    "submit",
                    t("提交", "submit"),
                    ActionKind::Submit,
                    "draft",
                    Target::Next,
                    "applicant",
                    OwnOrganisation,
                )
            },
            Action {
                opinion: OpinionRule::Required,
                batch: true,
                ..action(
                    "city-recommend",
                    t("市级推荐", "city recommends"),
                    ActionKind::Recommend,
                    "city-review",
                    Target::Stage("passed".into()),
                    "city-officer",
                    City,
                )
            },
            Action {
                opinion: OpinionRule::Required,
                ..action(
                    "city-not-recommend",
                    t("市级不推荐", "city does not recommend"),
                    ActionKind::NotRecommend,
                    "city-review",
                    Target::Stage("not-passed".into()),
                    "city-officer",
                    City,
                )
            },
            Action {
                opinion: OpinionRule::Required,
                ..action(
                    "city-return",
                    t("退回修改", "return for changes"),
                    ActionKind::Return,
                    "city-review",
                    Target::Previous,
                    "city-officer",
                    City,
                )
            },
        ],
        routes: Vec::new(),
    }
}

pub struct Minimal;

impl Program for Minimal {
    fn manifest() -> Manifest {
        let t = Text::new;
        ManifestBuilder::new("minimal", t("研发团队小额资助（示例）", "small grants for R&D teams (example)"), "0.1.0")
            .edition("2026", 2026, t("2026 年度", "2026"))
            .form(form::<MainForm>("main", t("申报表", "application form")))
            .direction(Direction {
                id: "general".into(),
                title: t("研发团队", "R&D teams"),
                category: None,
                form: "main".into(),
                handled_by: vec!["diit".into()],
                attachments: vec![AttachmentType {
                    id: "business-licence".into(),
                    title: t("营业执照", "business licence"),
                    min_count: 1,
                    ..Default::default()
                }],
                editions: Vec::new(),
            })
            .rules(RULES)
            .expert_item(
                "minimal.expert.feasibility",
                "示例通知 第四条",
                t("项目可行性", "feasibility of the project"),
                &[],
            )
            .quota(Quota {
                id: "city-cap".into(),
                title: t("每市推荐不超过 5 项", "at most 5 per city"),
                action: "city-recommend".into(),
                stage: None,
                group_by: QuotaGroup::City,
                default_limit: Some(5),
                limits: Vec::new(),
                channels: Vec::new(),
                message: t("{scope} 已推荐 {used} 项，上限 {limit} 项", "{scope} has recommended {used} of {limit}"),
            })
            .graph(graph())
            .summary(SummaryTable {
                title: t("推荐汇总表", "recommendation summary"),
                sections: Vec::new(),
                columns: vec![
                    SummaryColumn { title: t("序号", "rank"), source: "rank".into() },
                    SummaryColumn { title: t("申报单位", "applicant"), source: "applicant:name".into() },
                    SummaryColumn { title: t("项目名称", "project"), source: "/project/name".into() },
                    SummaryColumn { title: t("项目类别", "kind"), source: "/project/kind".into() },
                ],
            })
            .build()
    }

    fn check(req: &CheckRequest) -> Result<CheckResult, PluginError> {
        let form: MainForm = parse_form(req)?;
        let mut c = Checker::new(RULES);
        let staff = form.team.rd_staff;
        c.ensure("minimal.staff.min-20", JsonPath::root().key("team").key("rd_staff"), staff >= 20, || {
            msg(format!("研发人员 {staff} 人，要求不少于 20 人"), format!("{staff} R&D staff, at least 20 required"))
        });
        let grant = form.project.grant;
        c.ensure("minimal.grant.max-50", JsonPath::root().key("project").key("grant"), grant.0 <= 50.0, || {
            msg(
                format!("申请资助 {grant}，要求不超过 50 万元"),
                format!("a grant of {} asked, at most 500,000 yuan", grant.en()),
            )
        });
        Ok(c.finish())
    }
}

shenbao_sdk::export_program!(Minimal);
