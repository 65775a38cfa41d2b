//! 广东省制造业赋能资源 — manufacturing enabling resources (seed 002, draft management measures).
//!
//! Rule by rule from `shared/programs/enabling-resources.md`; the rule table in
//! this crate's README maps each rule id to its clause and tests.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use shenbao_sdk::prelude::*;
use shenbao_sdk::{Graph, Library, MonthDay, PlatformGraph, Route, RouteCondition, SummaryColumn, SummaryTable};

pub const PROGRAM: &str = "enabling-resources";
pub const FORM: &str = "resource";

// ---------------------------------------------------------------- rule table

use Severity::{Blocking, Info, Warning};

pub const RULES: &[RuleDef] = &[
    RuleDef {
        id: "er.basic.not-seriously-dishonest",
        severity: Blocking,
        clause: "002 第四条(五)、第七条(五)",
        zh: "未列入严重失信主体名单",
        en: "not on the list of seriously dishonest entities",
    },
    RuleDef {
        id: "er.basic.no-major-accident-3y",
        severity: Blocking,
        clause: "002 第四条(四)、第九条(五)",
        zh: "申报截止日前 3 年内未发生重大（含）以上安全生产、环境保护、产品质量事故（承诺）",
        en: "no major-or-worse safety, environmental or quality accident in the 3 years (committed)",
    },
    RuleDef {
        id: "er.basic.truthfulness-commitment",
        severity: Blocking,
        clause: "002 第九条(五)",
        zh: "承诺申报材料真实",
        en: "the applicant commits that the materials are true",
    },
    RuleDef {
        id: "er.specific.not-abnormal-operation",
        severity: Blocking,
        clause: "002 第七条(五)",
        zh: "未列入经营异常名录",
        en: "not on the abnormal-operation list",
    },
    RuleDef {
        id: "er.history.not-banned-3y",
        severity: Blocking,
        clause: "002 第二十条、第二十一条",
        zh: "因重大事故、严重失信或提供虚假材料被移出资源库或撤销的，3 年内不得申报",
        en: "removed or revoked for an accident, serious dishonesty or false materials: no application for 3 years",
    },
    RuleDef {
        id: "er.route.innovation-platform-valid",
        severity: Blocking,
        clause: "002 第十七条",
        zh: "直接入库的创新平台须经省级以上政府部门认定且在有效期内",
        en: "a platform entering directly must be recognised at provincial level or above and still valid",
    },
    RuleDef {
        id: "er.scope.matches-direction",
        severity: Blocking,
        clause: "002 第五条",
        zh: "申报表所填赋能范围与申报方向一致",
        en: "the form's scope is the application's direction",
    },
    RuleDef {
        id: "er.specific.years-in-business-min-2",
        severity: Warning,
        clause: "002 第七条(一)",
        zh: "从事相关业务不少于 2 年（颠覆性、前沿突破可经省核实放宽）",
        en: "at least 2 years in the business (the province may relax it for breakthroughs)",
    },
    RuleDef {
        id: "er.specific.revenue-two-years",
        severity: Blocking,
        clause: "002 第七条(二)",
        zh: "填报近 2 年营业收入",
        en: "revenue of the last 2 years is given",
    },
    RuleDef {
        id: "er.specific.revenue-avg-2y-min-1000",
        severity: Blocking,
        clause: "002 第七条(二)",
        zh: "近 2 年年均营业收入不低于 1000 万元",
        en: "average yearly revenue over the last 2 years ≥ 1000 万元",
    },
    RuleDef {
        id: "er.specific.revenue-exempt",
        severity: Info,
        clause: "002 第七条(二)",
        zh: "创新型中小企业、高校、科研院所、新型研发机构不受营业收入限制",
        en: "innovative SMEs, universities, research institutes and new R&D institutions are exempt from the revenue floor",
    },
    RuleDef {
        id: "er.resource.core-ip-or-own-method",
        severity: Blocking,
        clause: "002 第六条(二)",
        zh: "拥有核心知识产权或自有服务体系、方法、运营模式",
        en: "core IP, or an own service system/method/operating model",
    },
    RuleDef {
        id: "er.cases.min-3",
        severity: Blocking,
        clause: "002 第九条(二)",
        zh: "典型案例不少于 3 个",
        en: "at least 3 typical cases",
    },
    RuleDef {
        id: "er.cases.feedback-required",
        severity: Blocking,
        clause: "002 第九条(二)",
        zh: "每个案例附客户反馈",
        en: "each case carries customer feedback",
    },
    RuleDef {
        id: "er.freshness.feedback-within-1y",
        severity: Blocking,
        clause: "002 第十二条",
        zh: "用户反馈等证明材料为近 1 年内",
        en: "user feedback is dated within 1 year",
    },
    RuleDef {
        id: "er.freshness.ip-within-5y",
        severity: Blocking,
        clause: "002 第十二条",
        zh: "知识产权证书为近 5 年内授权",
        en: "IP certificates granted within 5 years",
    },
    RuleDef {
        id: "er.materials.audit-report",
        severity: Blocking,
        clause: "002 第九条(四)",
        zh: "提供上一年度经审计的财务报告（创新型中小企业、高校、科研院所可提供财务报表）",
        en: "last year's audited financial report (innovative SMEs, universities, institutes may give a financial statement)",
    },
];

/// Qualification ids of innovation platforms that enter the library directly (第十七条).
pub const INNOVATION_PLATFORMS: &[&str] = &[
    "manufacturing-innovation-centre",
    "industrial-design-centre",
    "enterprise-technology-centre",
    "engineering-research-centre",
    "key-laboratory",
];

/// Tags that lift the revenue floor (第七条(二)).
pub const REVENUE_EXEMPT_TAGS: &[&str] = &["innovative-sme", "university", "research-institute", "new-rd-institution"];

/// The Chinese names of [`REVENUE_EXEMPT_TAGS`], for messages.
fn exempt_zh(tag: &str) -> &str {
    match tag {
        "innovative-sme" => "创新型中小企业",
        "university" => "高校",
        "research-institute" => "科研院所",
        "new-rd-institution" => "新型研发机构",
        other => other,
    }
}

/// 赋能范围 (第五条): the directions, one per scope — (id, Chinese, English).
const SCOPES: [(&str, &str, &str); 6] = [
    ("ai-application", "人工智能应用赋能", "AI application"),
    ("rd-innovation", "研发创新", "R&D innovation"),
    ("manufacturing", "制造生产", "manufacturing production"),
    ("brand", "品牌建设", "brand building"),
    ("market-sales", "市场销售", "market sales"),
    ("comprehensive", "综合赋能", "comprehensive"),
];

/// The Chinese name of a scope (or direction) id, for messages.
fn scope_zh(id: &str) -> &str {
    SCOPES.iter().find(|s| s.0 == id).map_or(id, |s| s.1)
}

// ---------------------------------------------------------------- the form

/// 赋能范围 (第五条).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "按申报通知第五条选择一个赋能范围")]
pub enum Scope {
    /// 人工智能应用赋能
    AiApplication,
    /// 研发创新
    RdInnovation,
    /// 制造生产
    Manufacturing,
    /// 品牌建设
    Brand,
    /// 市场销售
    MarketSales,
    /// 综合赋能
    Comprehensive,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct YearRevenue {
    #[schemars(title = "年度", range(min = 2000, max = 2100))]
    pub year: u32,
    // Revenue of the year.
    #[schemars(title = "营业收入（万元）", description = "该年度营业收入，单位：万元")]
    pub revenue: Wan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IpKind {
    /// 发明专利
    InventionPatent,
    /// 实用新型专利
    UtilityModel,
    /// 软件著作权
    SoftwareCopyright,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct IpItem {
    #[schemars(title = "类型")]
    pub kind: IpKind,
    #[schemars(title = "名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "证书号", length(min = 1, max = 50))]
    pub number: String,
    #[schemars(title = "授权日期")]
    pub granted_on: Date,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StandardLevel {
    /// 国家标准
    National,
    /// 行业标准
    Industry,
    /// 地方标准
    Local,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StandardItem {
    #[schemars(title = "标准级别")]
    pub level: StandardLevel,
    #[schemars(title = "标准名称", length(min = 1, max = 200))]
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Case {
    #[schemars(title = "服务客户", length(min = 1, max = 100))]
    pub customer: String,
    #[schemars(title = "实施内容", length(min = 1, max = 2000))]
    pub implementation: String,
    #[schemars(title = "实施成效", length(min = 1, max = 2000))]
    pub results: String,
    // Customer feedback; required by 第九条(二).
    #[schemars(
        title = "客户反馈",
        description = "客户对实施成效的反馈（第九条（二）要求每个案例附客户反馈）",
        length(max = 1000)
    )]
    #[serde(default)]
    pub feedback: String,
    #[schemars(title = "反馈日期")]
    pub feedback_on: Option<Date>,
}

/// 承诺书 (第九条(五)): each sentence, ticked; the signed copy is an attachment.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "逐条确认承诺内容；签字盖章的承诺书另作附件上传（第九条（五））")]
pub struct Commitment {
    #[schemars(title = "申报截止日前3年内未发生重大（含）以上安全生产、环境保护、产品质量事故")]
    pub no_major_accident_3y: bool,
    #[schemars(title = "未列入严重失信主体名单")]
    pub not_seriously_dishonest: bool,
    #[schemars(title = "申报材料真实、准确、完整")]
    pub truthful: bool,
}

/// 赋能资源申报表.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "广东省制造业赋能资源申报表", description = "请逐项如实填写，标 * 的为必填项")]
pub struct ResourceForm {
    // `x-public`: shown in the public notice (公示); `x-project-key`: the project's
    // name, as reviewers' lists and the applicant's projects show it.
    #[schemars(title = "资源名称", length(min = 1, max = 100), extend("x-public" = true, "x-project-key" = true))]
    pub resource_name: String,
    #[schemars(title = "赋能范围")]
    pub scope: Scope,
    #[schemars(title = "重点赋能行业", length(min = 1), inner(length(max = 50)))]
    pub key_industries: Vec<String>,
    #[schemars(title = "技术简介", length(min = 1, max = 2000))]
    pub summary: String,
    // Date the applicant started in this business.
    #[schemars(
        title = "从事相关业务起始日期",
        description = "开始从事本资源相关业务的日期（第七条（一）：一般须满 2 年）"
    )]
    pub business_since: Date,
    #[schemars(title = "近两年营业收入")]
    pub revenue: Vec<YearRevenue>,
    #[schemars(title = "核心知识产权")]
    #[serde(default)]
    pub ip: Vec<IpItem>,
    // An own service system, method or operating model, where there is no IP.
    #[schemars(
        title = "自有服务体系、方法或运营模式",
        description = "没有核心知识产权的，填写自有的服务体系、方法或运营模式",
        length(max = 2000)
    )]
    #[serde(default)]
    pub own_method: String,
    #[schemars(title = "参与制定的标准")]
    #[serde(default)]
    pub standards: Vec<StandardItem>,
    #[schemars(title = "典型案例")]
    pub cases: Vec<Case>,
    #[schemars(title = "承诺书")]
    pub commitment: Commitment,
}

// ---------------------------------------------------------------- the program

pub struct EnablingResources;

fn attachment(id: &str, zh: &str, en: &str, min: u32) -> AttachmentType {
    AttachmentType { id: id.into(), title: Text::new(zh, en), min_count: min, ..Default::default() }
}

fn attachments() -> Vec<AttachmentType> {
    vec![
        attachment(
            "business-licence",
            "营业执照或事业单位法人证书",
            "business licence or public-institution certificate",
            1,
        ),
        AttachmentType {
            max_age_months: Some(12),
            ..attachment("audit-report", "上一年度审计报告", "last year's audit report", 0)
        },
        AttachmentType {
            max_age_months: Some(12),
            ..attachment("financial-statement", "财务报表", "financial statement", 0)
        },
        AttachmentType {
            must_be_valid: true, ..attachment("certificate", "资质证书", "qualification certificate", 0)
        },
        AttachmentType {
            max_age_months: Some(60),
            ..attachment("ip-certificate", "知识产权证书", "IP certificate", 0)
        },
        AttachmentType { max_age_months: Some(24), ..attachment("test-report", "检测报告", "test report", 0) },
        AttachmentType {
            max_age_months: Some(12),
            ..attachment("customer-feedback", "用户反馈", "customer feedback", 0)
        },
        attachment("commitment", "承诺书", "signed commitment", 1),
    ]
}

fn scope_direction(id: &str, zh: &str, en: &str) -> Direction {
    Direction {
        id: id.into(),
        title: Text::new(zh, en),
        category: None,
        form: FORM.into(),
        handled_by: vec!["diit".into()],
        attachments: attachments(),
        editions: Vec::new(),
    }
}

/// The review path of 第十至二十一条: city first review (10 working days),
/// province review, expert review (5), public notice (5), then the resource
/// library with its yearly report by 31 March, warning with 6 months to rectify,
/// removal with a 3-year ban, and voluntary exit. Out-of-province applicants and
/// central/provincial SOEs go to the province directly (第十六条); valid provincial
/// innovation platforms enter the library directly (第十七条).
pub fn graph() -> Graph {
    PlatformGraph {
        district_review: true,
        city_sla: Some(10),
        expert_review: Some(5),
        public_notice: Some(5),
        library: Some(Library { annual_due: MonthDay { month: 3, day: 31 }, rectify_months: 6, ban_months: 36 }),
        routes: vec![
            Route {
                id: "direct-to-province".into(),
                title: Text::new(
                    "省外单位、央企和省属国企由省直接认定",
                    "out-of-province applicants, central and provincial SOEs go to the province directly (第十六条)",
                ),
                when: RouteCondition::Channel(vec![
                    "out-of-province".into(),
                    "central-enterprise".into(),
                    "provincial-soe".into(),
                ]),
                skip: vec!["district-review".into(), "city-review".into()],
            },
            Route {
                id: "innovation-platform-direct".into(),
                title: Text::new(
                    "省级以上有效创新平台直接入库",
                    "valid provincial-or-higher innovation platforms enter the library directly (第十七条)",
                ),
                when: RouteCondition::Tag(vec!["innovation-platform".into()]),
                skip: vec![
                    "district-review".into(),
                    "city-review".into(),
                    "province-review".into(),
                    "expert-review".into(),
                    "public-notice".into(),
                ],
            },
        ],
    }
    .build()
}

impl Program for EnablingResources {
    fn manifest() -> Manifest {
        let mut b = ManifestBuilder::new(
            PROGRAM,
            Text::new("广东省制造业赋能资源", "Guangdong manufacturing enabling resources"),
            env!("CARGO_PKG_VERSION"),
        )
        .edition("2025", 2025, Text::new("管理办法（送审稿）", "draft management measures"))
        .form(form::<ResourceForm>(FORM, Text::new("赋能资源申报表", "enabling-resource application")))
        .rules(RULES)
        .signal(
            "er.signal.standards",
            "002 第七条(三)",
            Text::new(
                "参与国家、行业或地方标准制定，优先认定",
                "took part in national, industry or local standards: priority",
            ),
        )
        .expert_item(
            "er.expert.technology-advanced",
            "002 第七条(四)",
            Text::new(
                "技术国内先进或省内领先，具备服务保障体系",
                "technology domestically advanced or provincially leading, with service assurance",
            ),
            &[],
        )
        .expert_item(
            "er.expert.mature-and-promotable",
            "002 第二条、第六条",
            Text::new("成熟、可推广，经济社会效益明显", "mature, promotable, with clear economic and social benefit"),
            &[],
        )
        .graph(graph())
        .summary(SummaryTable {
            title: Text::new("赋能资源推荐汇总表", "enabling-resource recommendation summary"),
            sections: Vec::new(),
            columns: vec![
                SummaryColumn { title: Text::new("序号", "rank"), source: "rank".into() },
                SummaryColumn { title: Text::new("申报单位名称", "applicant"), source: "applicant:name".into() },
                SummaryColumn { title: Text::new("资源名称", "resource"), source: "/resource_name".into() },
                SummaryColumn { title: Text::new("赋能范围", "scope"), source: "direction:title".into() },
            ],
        });
        for (id, zh, en) in SCOPES {
            b = b.direction(scope_direction(id, zh, en));
        }
        b.build()
    }

    fn check(req: &CheckRequest) -> Result<CheckResult, PluginError> {
        if req.form != FORM {
            return Err(PluginError::new(
                "unknown-form",
                format!("未知的申报表“{}”", req.form),
                format!("unknown form {:?}", req.form),
            ));
        }
        let f: ResourceForm = parse_form(req)?;
        let mut c = Checker::new(RULES);
        let as_of = req.as_of;
        let root = JsonPath::root();

        // 第四条(五) / 第七条(五)
        c.ensure("er.basic.not-seriously-dishonest", "$applicant.dishonest", !req.applicant.dishonest, || {
            msg(
                "申报单位列入严重失信主体名单，不得申报",
                "the applicant is listed as seriously dishonest and cannot apply",
            )
        });

        // 第五条: the form's scope is the direction
        let scope = serde_json::to_value(f.scope).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        let direction = req.direction.clone().unwrap_or_default();
        c.ensure("er.scope.matches-direction", root.key("scope"), scope == direction, || {
            msg(
                format!("申报表所填赋能范围“{}”与申报方向“{}”不一致", scope_zh(&scope), scope_zh(&direction)),
                format!("the form's scope {scope:?} differs from the direction {direction:?}"),
            )
        });
        // 第四条(四), 第九条(五)
        c.ensure(
            "er.basic.no-major-accident-3y",
            root.key("commitment").key("no_major_accident_3y"),
            f.commitment.no_major_accident_3y,
            || {
                msg(
                    "未承诺申报截止日前 3 年内未发生重大（含）以上安全生产、环境保护、产品质量事故",
                    "no commitment that there was no major-or-worse accident in the 3 years",
                )
            },
        );
        c.ensure(
            "er.basic.truthfulness-commitment",
            root.key("commitment").key("truthful"),
            f.commitment.truthful,
            || msg("未承诺申报材料真实、准确、完整", "no commitment that the materials are true"),
        );
        // 第七条(五)
        c.ensure(
            "er.specific.not-abnormal-operation",
            "$applicant.tags",
            !has_tag(&req.applicant, "abnormal-operation"),
            || msg("申报单位列入经营异常名录，不得申报", "the applicant is on the abnormal-operation list"),
        );
        // 第二十条(二)、第二十一条: removed (or recognition revoked) for cause within 3 years.
        // An application voided during review (第二十一条, 取消本次申报资格) bars nothing more.
        let barred = req.history.iter().find(|h| {
            h.program == PROGRAM
                && h.stage == "removed-for-cause"
                && h.decided_on.is_some_and(|d| d.within_years_before(as_of, 3))
        });
        if let Some(h) = barred {
            let on = h.decided_on.expect("filtered above");
            c.fail(
                "er.history.not-banned-3y",
                "$history",
                msg(
                    format!(
                        "申报单位的赋能资源（{}）于 {on} 被移出或撤销，{} 前不得申报",
                        h.application,
                        on.add_years(3)
                    ),
                    format!(
                        "the applicant's resource {} was removed or revoked on {on}; no application before {}",
                        h.application,
                        on.add_years(3)
                    ),
                ),
            );
        }
        // 第十七条: a platform that enters directly must hold a valid recognition
        if has_tag(&req.applicant, "innovation-platform") {
            let valid = req
                .applicant
                .qualifications
                .iter()
                .any(|q| INNOVATION_PLATFORMS.contains(&q.id.as_str()) && q.valid_until.is_none_or(|u| u >= as_of));
            c.ensure("er.route.innovation-platform-valid", "$applicant.qualifications", valid, || {
                msg(
                    "申报单位按创新平台直接入库，但没有在有效期内的省级以上创新平台认定",
                    "the applicant enters as an innovation platform but holds no valid provincial-or-higher recognition",
                )
            });
        }

        // 第七条(一)
        let years = f.business_since.years_until(as_of);
        c.ensure("er.specific.years-in-business-min-2", root.key("business_since"), years >= 2, || {
            msg(
                format!("从事相关业务 {years} 年（自 {}），要求不少于 2 年；如属颠覆性、前沿突破，需经省核实放宽", f.business_since),
                format!("{years} year(s) in the business (since {}), at least 2 required unless the province grants the breakthrough exemption", f.business_since),
            )
        });

        // 第七条(二)
        let wanted = [as_of.year as u32 - 1, as_of.year as u32 - 2];
        let last_two: Vec<Wan> =
            wanted.iter().filter_map(|y| f.revenue.iter().find(|r| r.year == *y).map(|r| r.revenue)).collect();
        let exempt = REVENUE_EXEMPT_TAGS.iter().find(|t| has_tag(&req.applicant, t));
        if let Some(tag) = exempt {
            c.fail(
                "er.specific.revenue-exempt",
                root.key("revenue"),
                msg(
                    format!("申报单位属{}，不受年均营业收入 1000 万元限制", exempt_zh(tag)),
                    format!("the applicant is {tag}: exempt from the 1000 万元 revenue floor"),
                ),
            );
        } else if c.ensure("er.specific.revenue-two-years", root.key("revenue"), last_two.len() == 2, || {
            msg(
                format!("须填报 {} 年和 {} 年营业收入", wanted[1], wanted[0]),
                format!("revenue for {} and {} is required", wanted[1], wanted[0]),
            )
        }) {
            let avg = Wan::average(&last_two).expect("two years");
            c.ensure("er.specific.revenue-avg-2y-min-1000", root.key("revenue"), avg.0 >= 1000.0, || {
                msg(
                    format!("近 2 年年均营业收入 {avg}，要求不低于 1000 万元"),
                    format!("average revenue over the last 2 years is {avg}, at least 1000 万元 required"),
                )
            });
        }

        // 第六条(二)
        c.ensure(
            "er.resource.core-ip-or-own-method",
            root.key("ip"),
            !f.ip.is_empty() || !f.own_method.trim().is_empty(),
            || {
                msg(
                    "未填报核心知识产权，也未说明自有服务体系、方法或运营模式",
                    "neither core IP nor an own service system/method/model is given",
                )
            },
        );
        // 第十二条: IP granted within 5 years
        for (i, ip) in f.ip.iter().enumerate() {
            c.ensure(
                "er.freshness.ip-within-5y",
                root.key("ip").index(i).key("granted_on"),
                ip.granted_on.within_years_before(as_of, 5),
                || {
                    msg(
                        format!(
                            "知识产权“{}”授权于 {}，须为 {} 之后 5 年内授权",
                            ip.name,
                            ip.granted_on,
                            as_of.add_years(-5)
                        ),
                        format!(
                            "IP {} was granted on {}, must be granted within 5 years (after {})",
                            quoted(&ip.name),
                            ip.granted_on,
                            as_of.add_years(-5)
                        ),
                    )
                },
            );
        }

        // 第九条(二): at least 3 cases, each with customer feedback, feedback within 1 year
        let cases = at_least(3, &f.cases, |_| true);
        c.ensure("er.cases.min-3", root.key("cases"), cases.ok(), || {
            msg(
                format!("典型案例 {} 个，要求不少于 3 个", cases.found),
                format!("{} typical case(s), at least 3 required", cases.found),
            )
        });
        for (i, case) in f.cases.iter().enumerate() {
            let p = root.key("cases").index(i);
            if c.ensure(
                "er.cases.feedback-required",
                p.key("feedback"),
                !case.feedback.trim().is_empty() && case.feedback_on.is_some(),
                || {
                    msg(
                        format!("案例“{}”缺少客户反馈或反馈日期", case.customer),
                        format!("case {} lacks customer feedback or its date", quoted(&case.customer)),
                    )
                },
            ) {
                let on = case.feedback_on.expect("checked above");
                c.ensure(
                    "er.freshness.feedback-within-1y",
                    p.key("feedback_on"),
                    on.within_years_before(as_of, 1),
                    || {
                        msg(
                            format!(
                                "案例“{}”的客户反馈日期 {on}，须在近 1 年内（{} 之后）",
                                case.customer,
                                as_of.add_years(-1)
                            ),
                            format!(
                                "feedback of case {} is dated {on}, must be within 1 year (after {})",
                                quoted(&case.customer),
                                as_of.add_years(-1)
                            ),
                        )
                    },
                );
            }
        }

        // 第九条(四): audited report, or a statement for the exempt kinds
        let has = |kind: &str| req.attachments.iter().any(|a| a.kind == kind);
        let statement_ok = exempt.is_some() && has("financial-statement");
        c.ensure("er.materials.audit-report", "$attachments.audit-report", has("audit-report") || statement_ok, || {
            msg("缺少上一年度经审计的财务报告", "last year's audited financial report is missing")
        });

        // 第七条(三): standards give priority
        for s in &f.standards {
            let (weight, zh) = match s.level {
                StandardLevel::National => (3, "国家标准"),
                StandardLevel::Industry => (2, "行业标准"),
                StandardLevel::Local => (1, "地方标准"),
            };
            c.signal(
                "er.signal.standards",
                weight,
                msg(format!("参与制定{zh}《{}》", s.name), format!("took part in standard {}", quoted(&s.name))),
            );
        }
        Ok(c.finish())
    }
}

shenbao_sdk::export_program!(EnablingResources);

#[cfg(test)]
mod tests;
