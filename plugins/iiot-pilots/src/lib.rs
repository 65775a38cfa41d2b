//! 工业互联网试点示范 2023 — industrial-internet pilot projects (seed 004: the
//! Guangdong notice 粤工信工业互联网函〔2023〕37号 and the MIIT notice
//! 工信厅信管函〔2023〕319号 it forwards).
//!
//! Rule by rule from `shared/programs/iiot-pilots.md` and `iiot-directions.md`.
//! The year's directions are round data: the round configuration lists them
//! (`{"body": "diit", "directions": [{"id", "name", "category", "handled_by"}]}`),
//! `check-round` checks them and returns those the round's body handles.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use shenbao_sdk::prelude::*;
use shenbao_sdk::{
    Graph, HistoryEntry, Outcome, PlatformGraph, Quota, QuotaGroup, QuotaLimit, Route, RouteCondition, SummaryColumn,
    SummaryTable,
};

pub const PROGRAM: &str = "iiot-pilots";
pub const FORM: &str = "project";

use Severity::{Blocking, Warning};

shenbao_sdk::rules! {
    // Round configuration (GD 一; MIIT 一)
    "iiot.round.direction-category-known", Blocking, "004 GD 一；MIIT 一",
        "每个申报方向属于 7 类之一", "every direction belongs to one of the 7 categories";
    "iiot.round.direction-handler-allowed", Blocking, "004 GD 一",
        "方向的受理单位与其类别的分工一致", "a direction is handled only by a body its category allows";
    "iiot.round.direction-id-unique", Blocking, "004 GD 一",
        "方向编号不重复", "direction ids are unique";
    "iiot.round.direction-counts", Warning, "004 GD 一；MIIT 一",
        "2023 年为 27 个方向：省工信厅 25 个、省通信管理局 11 个", "2023 lists 27 directions: DIIT 25, CA 11";
    "iiot.round.body-known", Blocking, "004 GD 一",
        "推荐单位为省工业和信息化厅或省通信管理局", "the recommending body is the DIIT or the CA";
    // The applicant (GD 二(一))
    "iiot.applicant.registered-in-guangdong", Blocking, "004 GD 二(一)",
        "申报主体在广东省境内注册", "the applicant is registered in Guangdong";
    "iiot.applicant.credit-record", Blocking, "004 GD 二(一)",
        "经济实力和信用以“信用中国”查询结果为准（未列入失信名单）", "credit as shown by 信用中国: not listed as dishonest";
    "iiot.applicant.no-major-accident-5y", Blocking, "004 GD 二(一)",
        "近 5 年未发生重大安全、环保、质量事故（出具承诺函）", "no major accident in 5 years (commitment letter)";
    "iiot.applicant.one-direction-per-category", Blocking, "004 GD 二(三)；MIIT 二(四)",
        "同一申报主体同一类型只能申报一个方向", "one direction per category per applicant";
    "iiot.applicant.max-2-projects", Blocking, "004 GD 二(三)；MIIT 二(四)",
        "同一申报主体最多不超过 2 个项目", "at most 2 projects per applicant";
    // The project (GD 二(二)(三))
    "iiot.project.direction-matches-category", Blocking, "004 GD 一",
        "申报书所填类别与申报方向一致", "the form's category is the direction's";
    "iiot.project.not-in-demonstration-period", Blocking, "004 GD 二(二)；MIIT 二(三)",
        "已列入前期试点示范且仍在 2 年示范期内的项目不可重复申报", "no project still inside an earlier 2-year demonstration period";
    "iiot.project.innovation-engineering-accepted", Blocking, "004 GD 二(二)；MIIT 二(三)",
        "未验收或验收未通过的工业互联网创新发展工程项目不可申报", "innovation-engineering projects must have passed acceptance";
    "iiot.project.built", Blocking, "004 GD 二(二)；MIIT 二(三)",
        "未建项目不可申报", "projects not yet built cannot apply";
    "iiot.project.not-duplicate", Blocking, "004 GD 二(三)；MIIT 二(四)",
        "同一项目不能重复申报", "the same project cannot be submitted twice";
    "iiot.project.not-recommended-elsewhere", Blocking, "004 GD 四(二)",
        "已通过省通信管理局、中央企业推荐的项目不再重复推荐", "a project recommended by the CA or a central enterprise is not recommended again";
    // Materials (GD 二(三), 三(一))
    "iiot.materials.video-required", Blocking, "004 GD 二(三)；MIIT 二(四)",
        "必须提供项目相关视频证明材料，否则视为无效申报", "a project video is required, else the application is invalid";
    "iiot.materials.video-5-10-min", Blocking, "004 GD 二(三)；MIIT 二(四)",
        "项目视频时长 5~10 分钟", "the project video runs 5 to 10 minutes";
    "iiot.materials.audit-reports-3y", Blocking, "004 GD 三(一)",
        "提供企业近三年财务审计报告", "audited financial reports of the last three years";
    "iiot.materials.commitment-letter", Blocking, "004 GD 二(一)",
        "提供承诺函", "the commitment letter is uploaded";
}

/// The seven categories and which bodies may handle their directions.
pub const CATEGORIES: &[(&str, &str, &str, &[&str])] = &[
    ("new-technology", "新技术类", "new technology", &["diit"]),
    ("factory", "工厂类", "factory", &["diit", "ca"]),
    ("carrier", "载体类", "carrier", &["diit"]),
    ("park", "园区类", "park", &["diit"]),
    ("network", "网络类", "network", &["ca"]),
    ("platform", "平台类", "platform", &["diit"]),
    ("security", "安全类", "security", &["diit", "ca"]),
];

fn category_zh(id: &str) -> &str {
    CATEGORIES.iter().find(|c| c.0 == id).map_or(id, |c| c.1)
}

// ---------------------------------------------------------------- round configuration

/// One direction of the year, as the administrator loads it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DirectionConfig {
    pub id: String,
    pub name: String,
    pub category: String,
    /// `diit`, `ca`, or both.
    pub handled_by: Vec<String>,
}

/// The program's round configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct RoundConfig {
    /// The recommending body this round is for: `diit` (default) or `ca`.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub directions: Vec<DirectionConfig>,
}

// ---------------------------------------------------------------- the form

// The seven categories of pilot projects (MIIT 一; `CATEGORIES` by id): a choice on
// the form, shown by its label in the summary table. (Not a doc comment: the form's
// schema would carry it to applicants.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectCategory {
    /// 新技术类
    NewTechnology,
    /// 工厂类
    Factory,
    /// 载体类
    Carrier,
    /// 园区类
    Park,
    /// 网络类
    Network,
    /// 平台类
    Platform,
    /// 安全类
    Security,
}

impl ProjectCategory {
    /// Its id, as [`CATEGORIES`] and the round's directions name it.
    pub fn id(self) -> &'static str {
        match self {
            ProjectCategory::NewTechnology => "new-technology",
            ProjectCategory::Factory => "factory",
            ProjectCategory::Carrier => "carrier",
            ProjectCategory::Park => "park",
            ProjectCategory::Network => "network",
            ProjectCategory::Platform => "platform",
            ProjectCategory::Security => "security",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApplicantKind {
    /// 工业企业
    IndustrialEnterprise,
    /// 基础电信企业
    TelecomOperator,
    /// 信息技术企业
    ItEnterprise,
    /// 互联网企业
    InternetEnterprise,
    /// 高校及科研院所
    UniversityOrInstitute,
    /// 园区运营管理机构
    ParkOperator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BuildStatus {
    /// 已建成
    Built,
    /// 在建
    UnderConstruction,
    /// 未建
    NotStarted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Acceptance {
    /// 已通过验收
    Passed,
    /// 未验收
    NotYet,
    /// 验收未通过
    Failed,
}

// 工业互联网创新发展工程 status, when the project is one.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "项目属于工业互联网创新发展工程的，填写工程情况")]
pub struct InnovationEngineering {
    #[schemars(title = "工程项目名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "验收情况")]
    pub acceptance: Acceptance,
}

// An earlier pilot list the project is on.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "项目已入选的往年试点示范名单")]
pub struct EarlierPilot {
    #[schemars(title = "入选年份", range(min = 2015, max = 2100))]
    pub year: i32,
    #[schemars(title = "试点示范名单名称", length(min = 1, max = 100))]
    pub list: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotableResult {
    /// 绿色低碳
    GreenLowCarbon,
    /// 安全生产
    SafetyProduction,
    /// 国际合作
    InternationalCooperation,
    /// 军民融合
    CivilMilitary,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Contact {
    #[schemars(title = "联系人", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "联系电话", length(min = 5, max = 30))]
    pub phone: String,
}

/// 2023 年工业互联网试点示范项目申报书.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "2023年工业互联网试点示范项目申报书")]
pub struct ProjectForm {
    // The project's name; it keys "the same project cannot be submitted twice".
    #[schemars(description = "同一项目不得重复申报，请使用项目的正式名称")]
    #[schemars(title = "项目名称", length(min = 1, max = 100), extend("x-project-key" = true, "x-public" = true))]
    pub project_name: String,
    /// 须与所选申报方向的类别一致
    #[schemars(title = "申报类别")]
    pub category: ProjectCategory,
    #[schemars(title = "申报主体类型")]
    pub applicant_kind: ApplicantKind,
    #[schemars(title = "建设状态")]
    pub status: BuildStatus,
    // When the project went into operation (已建成).
    #[schemars(title = "建成时间", description = "项目建成投入运行的日期")]
    #[serde(default)]
    pub completed_on: Option<Date>,
    #[schemars(title = "属于工业互联网创新发展工程项目")]
    #[serde(default)]
    pub innovation_engineering: Option<InnovationEngineering>,
    #[schemars(title = "曾列入的试点示范名单")]
    #[serde(default)]
    pub earlier_pilots: Vec<EarlierPilot>,
    // The applicant's commitment letter: no major accident in 5 years.
    #[schemars(title = "承诺近5年未发生重大安全、环保、质量事故", description = "与申报单位的承诺书一致")]
    pub no_major_accident_5y: bool,
    #[schemars(title = "项目概述", length(min = 1, max = 2000))]
    pub summary: String,
    #[schemars(title = "建设内容", length(min = 1, max = 2000))]
    pub content: String,
    #[schemars(title = "应用成效", length(min = 1, max = 2000))]
    pub results: String,
    #[schemars(title = "项目总投资（万元）")]
    pub investment: Wan,
    // Priority (MIIT 二(二)): in a national new-industrialisation demonstration base
    // or a city commended for steady growth.
    #[schemars(
        title = "位于国家新型工业化产业示范基地或稳增长成效明显市",
        description = "属于此情形的优先推荐（工信部通知二（二））"
    )]
    #[serde(default)]
    pub in_demonstration_base: bool,
    #[schemars(title = "位于革命老区")]
    #[serde(default)]
    pub old_revolutionary_area: bool,
    #[schemars(title = "显著成效领域", extend("uniqueItems" = true))]
    #[serde(default)]
    pub notable_results: Vec<NotableResult>,
    #[schemars(title = "项目联系人")]
    pub contact: Contact,
}

// ---------------------------------------------------------------- the program

pub struct IiotPilots;

fn attachment(id: &str, zh: &str, en: &str, media: &[&str]) -> AttachmentType {
    AttachmentType {
        id: id.into(),
        title: Text::new(zh, en),
        media_types: media.iter().map(|m| m.to_string()).collect(),
        ..Default::default()
    }
}

/// Declared for upload (media types, size); presence and length are the program's rules.
fn attachments() -> Vec<AttachmentType> {
    let docs = &["application/pdf"];
    vec![
        AttachmentType {
            max_bytes: Some(2 << 30),
            ..attachment("project-video", "项目视频（5~10分钟）", "project video (5–10 minutes)", &["video/mp4"])
        },
        attachment("audit-report", "近三年财务审计报告", "audited financial report (one per year)", docs),
        attachment("commitment-letter", "承诺函", "commitment letter", docs),
        attachment("results", "工业互联网领域相关成果材料", "results in industrial internet", docs),
        attachment("usage-proof", "应用单位盖章的使用证明", "proof of use sealed by users", docs),
        attachment("index", "材料分类及索引目录", "classified index of the materials", docs),
    ]
}

/// Applicant → district (optional) → city → province (ranks and recommends to MIIT)
/// → MIIT's review of forms and videos → decision. Central enterprises send
/// directly (no district, city or province step); Shenzhen sends directly to MIIT
/// after its own review.
pub fn graph() -> Graph {
    let mut g = PlatformGraph {
        district_review: true,
        city_sla: None,
        expert_review: Some(0),
        public_notice: None,
        library: None,
        routes: vec![
            Route {
                id: "central-enterprise-direct".into(),
                title: Text::new("中央企业不占属地指标，可直接报送", "central enterprises send directly"),
                when: RouteCondition::Channel(vec!["central-enterprise".into()]),
                skip: vec!["district-review".into(), "city-review".into(), "province-review".into()],
            },
            Route {
                id: "shenzhen-direct".into(),
                title: Text::new("深圳市可直接报送", "Shenzhen sends directly"),
                when: RouteCondition::City(vec!["shenzhen".into()]),
                skip: vec!["province-review".into()],
            },
        ],
    }
    .build();
    if let Some(s) = g.stages.iter_mut().find(|s| s.id == "expert-review") {
        s.title = Text::new("工业和信息化部评审（申报书及视频）", "MIIT review of forms and videos");
    }
    g
}

pub fn quotas() -> Vec<Quota> {
    let limit = |scope: &str, limit: u32| QuotaLimit { scope: scope.into(), limit };
    vec![
        Quota {
            id: "iiot.quota.city".into(),
            title: Text::new(
                "地市推荐名额：珠三角各市不超过 8 个，粤东西北各市不超过 5 个",
                "city recommendations: 8 per Pearl River Delta city, 5 per east/west/north city",
            ),
            action: "city-recommend".into(),
            stage: Some("city-review".into()),
            group_by: QuotaGroup::City,
            default_limit: None,
            limits: vec![limit("prd", 8), limit("east", 5), limit("west", 5), limit("north", 5), limit("shenzhen", 15)],
            channels: vec!["region".into()],
            message: Text::new(
                "{scope} 已推荐 {used}/{limit} 个项目，已达推荐名额",
                "{scope} has recommended {used}/{limit} projects: the quota is used up",
            ),
        },
        Quota {
            id: "iiot.quota.province".into(),
            title: Text::new("省向工业和信息化部推荐不超过 30 个", "the province recommends at most 30 to MIIT"),
            action: "province-recommend".into(),
            stage: Some("province-review".into()),
            group_by: QuotaGroup::Round,
            default_limit: Some(30),
            limits: Vec::new(),
            channels: vec!["region".into()],
            message: Text::new(
                "省级已推荐 {used}/{limit} 个项目",
                "the province has recommended {used}/{limit} projects",
            ),
        },
    ]
}

fn round_config(round: &RoundInfo) -> Result<RoundConfig, PluginError> {
    if round.config.trim().is_empty() || round.config.trim() == "null" {
        return Ok(RoundConfig::default());
    }
    parse_json(&round.config, "round configuration")
}

fn body_of(cfg: &RoundConfig) -> &str {
    cfg.body.as_deref().unwrap_or("diit")
}

impl Program for IiotPilots {
    fn manifest() -> Manifest {
        let mut b = ManifestBuilder::new(
            PROGRAM,
            Text::new("工业互联网试点示范", "industrial-internet pilot projects"),
            env!("CARGO_PKG_VERSION"),
        )
        .edition("2023", 2023, Text::new("2023 年", "2023"))
        .form(form::<ProjectForm>(FORM, Text::new("项目申报书", "project application form")))
        .directions_from_round(true)
        .rules(RULES)
        .signal(
            "iiot.signal.demonstration-base",
            "004 MIIT 二(二)一",
            Text::new("位于国家新型工业化产业示范基地或稳增长成效明显市", "in a demonstration base or commended city"),
        )
        .signal(
            "iiot.signal.innovation-engineering-accepted",
            "004 MIIT 二(二)二",
            Text::new("完成工业互联网创新发展工程验收", "innovation-engineering project accepted"),
        )
        .signal(
            "iiot.signal.old-revolutionary-area",
            "004 MIIT 二(二)三",
            Text::new("革命老区的项目", "in an old revolutionary base area"),
        )
        .signal(
            "iiot.signal.notable-results",
            "004 MIIT 二(二)四",
            Text::new(
                "绿色低碳、安全生产、国际合作、军民融合等方面成效显著",
                "notable green, safety, international or civil-military results",
            ),
        )
        .expert_item(
            "iiot.expert.strength",
            "004 GD 二(一)",
            Text::new("具有较好的经济实力、技术研发和融合创新能力", "economic strength, R&D and integration capacity"),
            &[],
        )
        .expert_item(
            "iiot.expert.video",
            "004 MIIT 三(二)",
            Text::new("申报书及视频材料的评审", "review of the form and the video"),
            &[],
        )
        .graph(graph())
        .summary(SummaryTable {
            title: Text::new("2023年工业互联网试点示范推荐项目汇总表", "2023 recommended pilot projects (annex 4)"),
            sections: Vec::new(),
            columns: vec![
                SummaryColumn { title: Text::new("序号", "rank"), source: "rank".into() },
                SummaryColumn { title: Text::new("项目名称", "project"), source: "/project_name".into() },
                SummaryColumn { title: Text::new("申报单位", "applicant"), source: "applicant:name".into() },
                SummaryColumn { title: Text::new("申报类别", "category"), source: "/category".into() },
                SummaryColumn { title: Text::new("申报方向", "direction"), source: "direction:title".into() },
                SummaryColumn { title: Text::new("联系人", "contact"), source: "/contact/name".into() },
                SummaryColumn { title: Text::new("联系电话", "phone"), source: "/contact/phone".into() },
            ],
        });
        for (id, zh, en, bodies) in CATEGORIES {
            b = b.category(Category {
                id: id.to_string(),
                title: Text::new(*zh, *en),
                handled_by: bodies.iter().map(|s| s.to_string()).collect(),
            });
        }
        for q in quotas() {
            b = b.quota(q);
        }
        b.build()
    }

    fn check_round(round: &RoundInfo) -> Result<RoundCheck, PluginError> {
        let cfg = round_config(round)?;
        let mut c = Checker::new(RULES);
        let body = body_of(&cfg);
        c.ensure("iiot.round.body-known", "$round.config.body", body == "diit" || body == "ca", || {
            msg(format!("推荐单位“{body}”未知：应为 diit 或 ca"), format!("unknown body {body:?}: diit or ca"))
        });
        let mut seen = std::collections::BTreeSet::new();
        for (i, d) in cfg.directions.iter().enumerate() {
            let path = format!("$round.config.directions[{i}]");
            c.ensure("iiot.round.direction-id-unique", format!("{path}.id"), seen.insert(d.id.as_str()), || {
                msg(format!("方向编号“{}”重复", d.id), format!("direction id {:?} appears twice", d.id))
            });
            match CATEGORIES.iter().find(|k| k.0 == d.category) {
                None => c.fail(
                    "iiot.round.direction-category-known",
                    format!("{path}.category"),
                    msg(
                        format!("方向“{}”的类别“{}”不在 7 类之中", d.name, d.category),
                        format!("direction {} has category {}, not one of the 7", quoted(&d.name), quoted(&d.category)),
                    ),
                ),
                Some(k) => {
                    let bad: Vec<&str> = d.handled_by.iter().map(String::as_str).filter(|h| !k.3.contains(h)).collect();
                    c.ensure(
                        "iiot.round.direction-handler-allowed",
                        format!("{path}.handled_by"),
                        bad.is_empty() && !d.handled_by.is_empty(),
                        || {
                            msg(
                                format!(
                                    "方向“{}”（{}）的受理单位 {:?} 与分工不符：{}只能由 {:?} 受理",
                                    d.name, k.1, d.handled_by, k.1, k.3
                                ),
                                format!(
                                    "direction {} ({}) is handled by {:?}; its category allows only {:?}",
                                    quoted(&d.name),
                                    k.2,
                                    d.handled_by,
                                    k.3
                                ),
                            )
                        },
                    );
                }
            }
        }
        let n = cfg.directions.len();
        let diit = cfg.directions.iter().filter(|d| d.handled_by.iter().any(|h| h == "diit")).count();
        let ca = cfg.directions.iter().filter(|d| d.handled_by.iter().any(|h| h == "ca")).count();
        c.ensure("iiot.round.direction-counts", "$round.config.directions", (n, diit, ca) == (27, 25, 11), || {
            msg(
                format!(
                    "配置了 {n} 个方向（省工信厅 {diit} 个、省通信管理局 {ca} 个），2023 年通知为 27 个（25 个、11 个）"
                ),
                format!("{n} directions configured (DIIT {diit}, CA {ca}); the 2023 notice has 27 (25, 11)"),
            )
        });
        // A repeated id was reported above; only its first entry is returned.
        let mut returned = std::collections::BTreeSet::new();
        let directions = cfg
            .directions
            .iter()
            .filter(|d| returned.insert(d.id.as_str()))
            .filter(|d| d.handled_by.iter().any(|h| h == body))
            .map(|d| Direction {
                id: d.id.clone(),
                title: Text::new(d.name.clone(), d.name.clone()),
                category: Some(d.category.clone()),
                form: FORM.into(),
                handled_by: d.handled_by.clone(),
                attachments: attachments(),
                editions: Vec::new(),
            })
            .collect();
        Ok(RoundCheck { findings: c.finish().findings, directions })
    }

    fn check(req: &CheckRequest) -> Result<CheckResult, PluginError> {
        if req.form != FORM {
            return Err(PluginError::new(
                "unknown-form",
                format!("未知的申报书“{}”", req.form),
                format!("unknown form {:?}", req.form),
            ));
        }
        let f: ProjectForm = parse_form(req)?;
        let cfg = round_config(&req.round)?;
        let mut c = Checker::new(RULES);
        let category_of =
            |direction: &str| cfg.directions.iter().find(|d| d.id == direction).map(|d| d.category.clone());
        let direction = req.direction.clone().unwrap_or_default();
        let my_category = category_of(&direction);
        // A direction as people name it (the round's list), for messages.
        let direction_name =
            |id: &str| cfg.directions.iter().find(|d| d.id == id).map_or_else(|| id.to_string(), |d| d.name.clone());

        // The applicant (GD 二(一))
        let a = &req.applicant;
        c.ensure(
            "iiot.applicant.registered-in-guangdong",
            "$applicant.channel",
            a.channel != "out-of-province",
            || msg("申报主体不在广东省境内注册", "the applicant is not registered in Guangdong"),
        );
        c.ensure("iiot.applicant.credit-record", "$applicant.dishonest", !a.dishonest, || {
            msg("申报主体在“信用中国”被列为失信主体", "the applicant is listed as dishonest on 信用中国")
        });
        c.ensure("iiot.applicant.no-major-accident-5y", "$.no_major_accident_5y", f.no_major_accident_5y, || {
            msg(
                "未承诺近 5 年未发生重大安全、环保、质量事故",
                "no commitment that there was no major accident in 5 years",
            )
        });

        // The project
        c.ensure(
            "iiot.project.direction-matches-category",
            "$.category",
            my_category.as_deref() == Some(f.category.id()),
            || {
                msg(
                    format!(
                        "申报书所填类别“{}”与方向“{}”的类别“{}”不一致",
                        category_zh(f.category.id()),
                        direction_name(&direction),
                        my_category.as_deref().map_or("未知", category_zh)
                    ),
                    format!(
                        "the form's category {:?} differs from direction {direction:?}'s ({:?})",
                        f.category.id(),
                        my_category
                    ),
                )
            },
        );
        let year = req.round.year as i32;
        for (i, p) in f.earlier_pilots.iter().enumerate() {
            // Named in year Y: the demonstration period covers Y+1 and Y+2.
            c.ensure(
                "iiot.project.not-in-demonstration-period",
                format!("$.earlier_pilots[{i}].year"),
                year > p.year + 2,
                || {
                    msg(
                        format!(
                            "项目已列入 {} 年“{}”，仍在 2 年示范期内（至 {} 年），不可重复申报",
                            p.year,
                            p.list,
                            p.year + 2
                        ),
                        format!(
                            "the project is on the {} list {:?} and inside its 2-year period (to {})",
                            p.year,
                            p.list,
                            p.year + 2
                        ),
                    )
                },
            );
        }
        if let Some(e) = &f.innovation_engineering {
            c.ensure(
                "iiot.project.innovation-engineering-accepted",
                "$.innovation_engineering.acceptance",
                e.acceptance == Acceptance::Passed,
                || {
                    let state = if e.acceptance == Acceptance::Failed { "验收未通过" } else { "尚未验收" };
                    msg(
                        format!("工业互联网创新发展工程项目“{}”{state}，不可申报", e.name),
                        format!("innovation-engineering project {} has not passed acceptance", quoted(&e.name)),
                    )
                },
            );
        }
        c.ensure("iiot.project.built", "$.status", f.status == BuildStatus::Built, || {
            let state = if f.status == BuildStatus::UnderConstruction { "在建" } else { "未建" };
            msg(
                format!("项目“{}”{state}，未建项目不可申报", f.project_name),
                format!("project {} is not built", quoted(&f.project_name)),
            )
        });

        // Against the applicant's other applications (GD 二(三), 四(二))
        let key = project_key(&f.project_name);
        let live = |h: &&HistoryEntry| {
            h.program == req.round.program
                && h.stage != "draft"
                && matches!(h.outcome, Outcome::Pending | Outcome::Passed)
        };
        let this_round: Vec<&HistoryEntry> =
            req.history.iter().filter(|h| h.round == req.round.id).filter(live).collect();
        let same = this_round.iter().find(|h| h.project.as_deref() == Some(key.as_str()));
        c.ensure("iiot.project.not-duplicate", "$.project_name", same.is_none(), || {
            msg(
                format!(
                    "项目“{}”已在本轮申报（{}），同一项目不能重复申报",
                    f.project_name,
                    same.map_or("", |h| h.application.as_str())
                ),
                format!(
                    "project {} is already submitted in this round ({})",
                    quoted(&f.project_name),
                    same.map_or("", |h| h.application.as_str())
                ),
            )
        });
        let elsewhere = req
            .history
            .iter()
            .filter(|h| {
                h.round != req.round.id && h.year == req.round.year && h.project.as_deref() == Some(key.as_str())
            })
            .find(live);
        c.ensure("iiot.project.not-recommended-elsewhere", "$.project_name", elsewhere.is_none(), || {
            msg(
                format!(
                    "项目“{}”已通过其他渠道申报推荐（申报编号 {}），不再重复推荐",
                    f.project_name,
                    elsewhere.map_or("", |h| h.application.as_str())
                ),
                format!(
                    "project {} is already put forward through round {}",
                    quoted(&f.project_name),
                    elsewhere.map_or("", |h| h.round.as_str())
                ),
            )
        });
        let projects = this_round.iter().filter(|h| h.project.as_deref() != Some(key.as_str())).count() + 1;
        c.ensure("iiot.applicant.max-2-projects", "$", projects <= 2, || {
            msg(
                format!("本单位本轮已有 {} 个项目在申报，加上本项目共 {projects} 个，最多不超过 2 个", projects - 1),
                format!(
                    "{} other project(s) already submitted; with this one {projects}, at most 2 allowed",
                    projects - 1
                ),
            )
        });
        if let Some(cat) = &my_category {
            let other = this_round.iter().find(|h| {
                h.direction.as_deref().and_then(category_of).as_deref() == Some(cat.as_str())
                    && h.direction.as_deref() != Some(direction.as_str())
            });
            c.ensure("iiot.applicant.one-direction-per-category", "$.category", other.is_none(), || {
                let d = other.and_then(|h| h.direction.clone()).unwrap_or_default();
                msg(
                    format!("本单位已在{}申报方向“{}”，同一类型只能申报一个方向", category_zh(cat), direction_name(&d)),
                    format!("already applying in direction {d:?} of category {cat:?}: one direction per category"),
                )
            });
        }

        // Materials
        let videos = attachments_of(req, "project-video");
        if c.ensure("iiot.materials.video-required", "$attachments.project-video", !videos.is_empty(), || {
            msg(
                "缺少项目视频（5~10 分钟），视为无效申报材料",
                "the project video (5–10 minutes) is missing: the application is invalid",
            )
        }) {
            for v in videos {
                let secs = v.seconds.unwrap_or(0);
                c.ensure(
                    "iiot.materials.video-5-10-min",
                    "$attachments.project-video",
                    (300..=600).contains(&secs),
                    || {
                        msg(
                            format!("项目视频“{}”时长 {} 分 {} 秒，要求 5~10 分钟", v.name, secs / 60, secs % 60),
                            format!(
                                "video {} runs {}:{:02}, 5 to 10 minutes required",
                                quoted(&v.name),
                                secs / 60,
                                secs % 60
                            ),
                        )
                    },
                );
            }
        }
        let audits = attachments_of(req, "audit-report").len();
        c.ensure("iiot.materials.audit-reports-3y", "$attachments.audit-report", audits >= 3, || {
            msg(
                format!("近三年财务审计报告已上传 {audits} 份，需要 3 份"),
                format!("{audits} audit report(s), 3 required"),
            )
        });
        c.ensure(
            "iiot.materials.commitment-letter",
            "$attachments.commitment-letter",
            !attachments_of(req, "commitment-letter").is_empty(),
            || msg("缺少承诺函", "the commitment letter is missing"),
        );

        // Priority signals (MIIT 二(二))
        if f.in_demonstration_base {
            c.signal(
                "iiot.signal.demonstration-base",
                1,
                msg("位于国家新型工业化产业示范基地或稳增长成效明显市", "in a demonstration base or commended city"),
            );
        }
        if f.innovation_engineering.as_ref().is_some_and(|e| e.acceptance == Acceptance::Passed) {
            c.signal(
                "iiot.signal.innovation-engineering-accepted",
                1,
                msg("完成工业互联网创新发展工程验收", "innovation-engineering project accepted"),
            );
        }
        if f.old_revolutionary_area {
            c.signal(
                "iiot.signal.old-revolutionary-area",
                1,
                msg("革命老区的项目", "in an old revolutionary base area"),
            );
        }
        if !f.notable_results.is_empty() {
            let zh: Vec<&str> = f
                .notable_results
                .iter()
                .map(|r| match r {
                    NotableResult::GreenLowCarbon => "绿色低碳",
                    NotableResult::SafetyProduction => "安全生产",
                    NotableResult::InternationalCooperation => "国际合作",
                    NotableResult::CivilMilitary => "军民融合",
                })
                .collect();
            c.signal(
                "iiot.signal.notable-results",
                f.notable_results.len() as i32,
                msg(format!("在{}方面成效显著", zh.join("、")), format!("notable results: {:?}", f.notable_results)),
            );
        }
        Ok(c.finish())
    }
}

shenbao_sdk::export_program!(IiotPilots);

#[cfg(test)]
mod tests {
    use super::*;

    /// The form's choice is the seven categories, each stored as its id and labelled
    /// with its Chinese name (what the summary table shows).
    #[test]
    fn the_form_offers_the_seven_categories_by_name() {
        let all = [
            ProjectCategory::NewTechnology,
            ProjectCategory::Factory,
            ProjectCategory::Carrier,
            ProjectCategory::Park,
            ProjectCategory::Network,
            ProjectCategory::Platform,
            ProjectCategory::Security,
        ];
        assert_eq!(all.map(|c| c.id()).to_vec(), CATEGORIES.iter().map(|c| c.0).collect::<Vec<_>>());
        let schema: serde_json::Value = serde_json::from_str(&shenbao_sdk::form_schema::<ProjectForm>()).unwrap();
        let text = schema.to_string();
        for (c, (id, zh, ..)) in all.iter().zip(CATEGORIES) {
            assert_eq!(serde_json::to_value(c).unwrap(), *id);
            assert!(
                text.contains(&format!("\"const\":\"{id}\"")) && text.contains(&format!("\"title\":\"{zh}\"")),
                "{id}"
            );
        }
    }

    #[test]
    fn manifest_and_categories() {
        let m = IiotPilots::manifest();
        assert_eq!(m.categories.len(), 7);
        assert!(m.directions_from_round);
        assert_eq!(m.quotas.len(), 2);
        let schema: serde_json::Value = serde_json::from_str(&m.forms[0].schema).unwrap();
        assert_eq!(schema["properties"]["project_name"]["x-project-key"], true);
    }
}
