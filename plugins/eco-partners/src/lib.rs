//! 广东省智能制造生态合作伙伴 — smart-manufacturing eco-partners (seed 000: the
//! 2024 Huizhou notice, action plan and guide with annexes 1–3; seed 001: the 2022
//! second batch).
//!
//! Rule by rule from `shared/programs/eco-partners.md`; the rule table in this
//! crate's README maps each rule id to its clause and its example cases.
//! Two editions: `2024` (default) and `2022`, chosen by the round.

pub mod forms;
pub mod selected;

use forms::*;
use shenbao_sdk::prelude::*;
use shenbao_sdk::{Graph, PlatformGraph, SummaryColumn, SummarySection, SummaryTable};

pub const PROGRAM: &str = "eco-partners";
pub const FORM_21: &str = "form-2-1";
pub const FORM_22: &str = "form-2-2";
pub const FORM_23: &str = "form-2-3";

use Severity::{Blocking, Warning};

shenbao_sdk::rules! {
    // Basic conditions (2024 guide 一(一); 2022 notice 一)
    "eco.basic.registered-in-guangdong", Blocking, "000 申报指南 一(一)1（2024）",
        "在广东省内依法注册，具有独立法人资格", "registered in Guangdong with independent legal personality (2024)";
    "eco.basic.case-in-guangdong", Blocking, "000 申报指南 一(一)1；001 一(一)",
        "在广东省内有智能制造典型案例", "a typical smart-manufacturing case in Guangdong";
    "eco.basic.no-major-accident-3y", Blocking, "000 申报指南 一(一)2；001 一(二)",
        "近 3 年内未发生重大安全、环保、质量事故", "no major safety, environmental or quality accident in 3 years";
    "eco.basic.good-credit-3y", Blocking, "000 申报指南 一(一)3；001 一(三)",
        "近 3 年内无不良信用记录", "no bad credit record in 3 years";
    "eco.basic.no-ip-infringement", Blocking, "000 申报指南 一(一)3；001 一(三)",
        "无知识产权侵权行为", "no IP infringement";
    "eco.basic.not-dishonest-debtor", Blocking, "000 申报指南 一(一)3；001 一(三)",
        "未被列入失信被执行人", "not a listed dishonest judgment debtor";
    "eco.basic.truthfulness-commitment", Blocking, "000 附件2 真实性承诺声明",
        "签署真实性承诺声明", "the truthfulness commitment is signed";
    "eco.basic.not-already-selected", Blocking, "000 申报指南 一；已入选名单",
        "已入选第一、二、三批合作伙伴名单的单位无需重复申报", "units already selected in batches 1–3 do not apply again";
    "eco.form.domain-matches-direction", Blocking, "000 附件2 申报领域（限勾选 1 项）",
        "申报书所选领域与申报方向一致", "the form's domain is the application's direction";
    // Direct recognition (2024 guide 一(二); 2022 notice 一)
    "eco.direct.qualification-in-edition-list", Blocking, "000 申报指南 一(二)；001 一",
        "直接认定须持有本年度名单所列资质之一", "direct recognition needs one of this edition's listed qualifications";
    "eco.direct.qualification-valid", Blocking, "000 申报指南 一(二)",
        "直接认定所依据的资质在有效期内", "the qualification for direct recognition is still valid";
    // Materials (2024 guide 三(一))
    "eco.materials.business-licence", Blocking, "000 申报指南 三(一)",
        "上传营业执照", "the business licence is uploaded";
    "eco.materials.audit-reports-3y", Blocking, "000 申报指南 三(一)",
        "上传近 3 年审计报告", "audit reports of the last 3 years are uploaded";
    "eco.materials.credit-report", Blocking, "000 申报指南 三(一)",
        "上传信用中国报告", "the 信用中国 credit report is uploaded";
    // 1 智能制造装备
    "eco.equipment.invention-patents-min-5", Blocking, "000 附件1 一(一)；001 附件1 一(一)",
        "智能装备领域核心发明专利不少于 5 项", "at least 5 core invention patents in smart equipment";
    "eco.equipment.rd-organisation", Blocking, "000 附件1 一(二)",
        "设有或正在建设研发机构", "an R&D organisation exists or is being built";
    "eco.equipment.rd-team-min-20", Blocking, "000 附件1 一(二)",
        "研发技术团队不少于 20 人", "an R&D team of at least 20";
    "eco.equipment.main-revenue-avg-3y-min-1500", Blocking, "000 附件1 一(三)；001 附件1 一(三)",
        "近三年平均主营业务收入 1500 万元以上", "average main-business revenue over 3 years ≥ 1500 万元";
    // 2 关键软件
    "eco.software.copyrights-min-5", Blocking, "000 附件1 二(一)（2024）",
        "所在领域软件著作权不少于 5 项", "at least 5 software copyrights in the field (2024)";
    "eco.software.invention-patents-min-5", Blocking, "001 附件1 二(一)（2022）",
        "所在领域核心发明专利不少于 5 项", "at least 5 core invention patents in the field (2022)";
    "eco.software.cases-3y-min-5", Blocking, "000 附件1 二(二)（2024）",
        "近三年在广东省内有 5 个以上智能制造领域用户服务案例", "at least 5 user cases in Guangdong in 3 years (2024)";
    "eco.software.cases-2021-min-5", Blocking, "001 附件1 二(二)（2022）",
        "2021 年度在广东省内有 5 个以上用户服务案例", "at least 5 user cases in Guangdong in 2021 (2022)";
    "eco.software.rd-team-min-20", Blocking, "000 附件1 二(三)",
        "研发技术团队不少于 20 人", "an R&D team of at least 20";
    "eco.software.dev-environment", Blocking, "000 附件1 二(三)",
        "具有与软件开发相适应的软硬件设施及合法的开发环境", "facilities and a lawful development environment";
    // 3 信息网络基础设施
    "eco.network.third-party-service", Blocking, "000 附件1 三(一)",
        "能够提供第三方独立服务", "independent third-party service";
    "eco.network.cases-3y-min-5", Blocking, "000 附件1 三(一)（2024）",
        "近三年在广东省内有 5 个以上典型案例", "at least 5 typical cases in Guangdong in 3 years (2024)";
    "eco.network.cases-2021-min-5", Blocking, "001 附件1 三(一)（2022）",
        "2021 年度在广东省内有 5 个以上典型案例", "at least 5 typical cases in Guangdong in 2021 (2022)";
    "eco.network.invention-patents-min-5", Blocking, "000 附件1 三(二)",
        "所在领域核心发明专利不少于 5 项", "at least 5 core invention patents in the field";
    // 4 智能制造系统解决方案
    "eco.solutions.cases-3y-min-5", Blocking, "000 附件1 四(一)（2024）",
        "近三年在广东省内有 5 个以上典型案例", "at least 5 typical cases in Guangdong in 3 years (2024)";
    "eco.solutions.cases-2021-min-5", Blocking, "001 附件1 四(一)（2022）",
        "2021 年度在广东省内有 5 个以上典型案例", "at least 5 typical cases in Guangdong in 2021 (2022)";
    "eco.solutions.invention-patents-min-5", Blocking, "000 附件1 四(二)",
        "所在领域核心发明专利不少于 5 项", "at least 5 core invention patents in the field";
    "eco.solutions.rd-organisation", Blocking, "000 附件1 四(三)",
        "设有或正在建设研发机构", "an R&D organisation exists or is being built";
    "eco.solutions.rd-team-min-20", Blocking, "000 附件1 四(三)",
        "研发技术团队不少于 20 人", "an R&D team of at least 20";
    // 5 行业组织
    "eco.org.platform-staff-min-20", Blocking, "000 附件1 五(二)",
        "平台从业人员不少于 20 人", "at least 20 platform staff";
    "eco.org.qualified-staff-min-50pct", Blocking, "000 附件1 五(二)",
        "本科以上学历或中级以上技术职称的科技人员达到 50% 以上", "≥ 50% of staff hold a bachelor's degree or a mid-level title";
    "eco.org.qualified-staff-overlap", Warning, "000 附件1 五(二)",
        "学历与职称人数可能重叠，50% 须由审核人员核实", "degree and title counts may overlap: the reviewer confirms the 50%";
    "eco.org.cases-3y-min-5", Blocking, "000 附件1 五(三)（2024）",
        "近三年有较大影响力的服务案例 5 项以上", "at least 5 influential service cases in 3 years (2024)";
    "eco.org.cases-2021-min-5", Blocking, "001 附件1 五(三)（2022）",
        "2021 年有较大影响力的服务案例 5 项以上", "at least 5 influential service cases in 2021 (2022)";
    // 6 智能制造人才
    "eco.talent.school-partners-min-3", Blocking, "000 附件1 六(一)",
        "院校与 3 个及以上合作企业共同确定专业建设等", "schools: at least 3 partner enterprises";
    "eco.talent.school-internship-base", Blocking, "000 附件1 六(一)",
        "院校与合作企业共建学生实习基地", "schools: an internship base built with a partner";
    "eco.talent.institute-rd-team-min-20", Blocking, "000 附件1 六(二)",
        "科研院所研发技术团队不少于 20 人", "institutes: an R&D team of at least 20";
    "eco.talent.institute-invention-patents-min-5", Blocking, "000 附件1 六(二)",
        "科研院所所在领域核心发明专利不少于 5 项", "institutes: at least 5 core invention patents";
    "eco.talent.enterprise-majors-min-3", Blocking, "000 附件1 六(三)",
        "企业与院校共建 3 个以上智能制造相关学科专业点", "enterprises: at least 3 co-built majors";
    // 7 智能制造金融服务
    "eco.finance.premises-in-guangdong", Blocking, "000 附件1 七(一)",
        "在广东省内有固定的经营服务场所", "fixed premises in Guangdong";
    "eco.finance.staff-min-20", Blocking, "000 附件1 七(二)",
        "稳定的从业人员队伍不少于 20 人", "a stable staff of at least 20";
    "eco.finance.products-min-3", Blocking, "000 附件1 七(二)",
        "可服务于智能制造领域的特色金融产品 3 款以上", "at least 3 financial products for smart manufacturing";
    "eco.finance.cases-3y-min-10", Blocking, "000 附件1 七(三)（2024）",
        "近三年智能制造领域服务案例 10 个以上", "at least 10 service cases in 3 years (2024)";
    "eco.finance.cases-2020-2021-min-10", Blocking, "001 附件1 七(三)（2022）",
        "2020、2021 年度共有 10 个以上服务案例", "at least 10 service cases in 2020–2021 (2022)";
    // 8 智能制造试点示范
    "eco.pilot.elements-met", Blocking, "000 附件1 八(一)、表1.1-1.6",
        "项目符合所属类别的全部要素条件", "the project meets every element condition of its category";
    "eco.pilot.data-collection-min-90", Blocking, "000 附件1 表1.1 第3项",
        "生产工艺数据自动数采率 90% 以上", "automatic process-data collection ≥ 90%";
    "eco.pilot.auto-control-min-90", Blocking, "000 附件1 表1.1 第3项",
        "工厂自控投用率 90% 以上", "automatic-control use ≥ 90%";
    "eco.pilot.ecommerce-share-min-20", Blocking, "000 附件1 表1.6(三) 第1项",
        "电子商务销售收入占主营业务收入比重不低于 20%", "e-commerce sales ≥ 20% of main-business revenue";
    "eco.pilot.built", Blocking, "000 附件1 八(三)",
        "项目已经建成，并取得明显成效", "the project is built and shows results";
    "eco.pilot.cases-3y-min-5", Blocking, "000 附件1 八(二)（2024）",
        "近三年在广东省内有 5 个以上典型案例", "at least 5 typical cases in Guangdong in 3 years (2024)";
    "eco.pilot.cases-2021-min-3", Blocking, "001 附件1 八(二)（2022）",
        "2021 年度在广东省内有 3 个以上典型案例", "at least 3 typical cases in Guangdong in 2021 (2022)";
}

/// Which qualifications allow direct recognition in an edition.
pub fn direct_list(edition: &str) -> &'static [DirectQualification] {
    use DirectQualification::*;
    if edition == "2022" {
        &[
            RobotBackbone,
            PublicTechPlatform,
            PilotProjectUnit,
            DemonstrationFactoryUnit,
            StandardisationLead,
            BigDataAiBackbone,
            IiotSupplyPool,
            InnovationCentre,
        ]
    } else {
        &[
            RobotBackbone,
            PublicTechPlatform,
            PilotProjectUnit,
            DemonstrationFactoryUnit,
            StandardApplicationPilot,
            StandardisationLead,
            BigDataAiBackbone,
            DigitalTransformationPool,
            InnovationCentre,
        ]
    }
}

fn qualification_zh(q: DirectQualification) -> &'static str {
    use DirectQualification::*;
    match q {
        RobotBackbone => "省级机器人骨干（培育）企业",
        PublicTechPlatform => "广东省智能制造公共技术支撑平台",
        PilotProjectUnit => "国家和省智能制造试点示范项目依托单位",
        DemonstrationFactoryUnit => "国家智能制造试点示范工厂揭榜单位和优秀场景依托单位",
        StandardApplicationPilot => "智能制造标准应用试点项目依托单位",
        StandardisationLead => "国家智能制造综合标准化与新模式应用项目牵头单位",
        BigDataAiBackbone => "省级大数据/人工智能骨干（培育）企业",
        DigitalTransformationPool => "省制造业数字化转型产业生态供给资源池",
        IiotSupplyPool => "工业互联网产业生态供给资源池企业",
        InnovationCentre => "智能制造领域省级及以上制造业创新中心",
    }
}

/// The eight domains: (direction id, form, zh, en).
pub const DOMAINS: &[(&str, &str, &str, &str)] = &[
    ("equipment", FORM_21, "智能制造装备", "smart-manufacturing equipment"),
    ("key-software", FORM_21, "关键软件", "key software"),
    ("network-infrastructure", FORM_21, "信息网络基础设施", "network infrastructure"),
    ("system-solutions", FORM_21, "智能制造系统解决方案", "system solutions"),
    ("industry-organisation", FORM_22, "行业组织", "industry organisation"),
    ("talent", FORM_22, "智能制造人才", "smart-manufacturing talent"),
    ("financial-services", FORM_22, "智能制造金融服务", "financial services"),
    ("pilot-demonstration", FORM_23, "智能制造试点示范", "pilot demonstration"),
];

/// The Chinese name of a domain (direction) id, for messages.
fn domain_zh(id: &str) -> &str {
    DOMAINS.iter().find(|d| d.0 == id).map_or(id, |d| d.2)
}

/// How many element conditions a category (or sub-type) has: tables 1.1–1.6.
pub fn element_count(category: PilotCategory) -> u8 {
    match category {
        PilotCategory::ServiceManagement | PilotCategory::NewModel => 3,
        _ => 5,
    }
}

fn table_name(category: PilotCategory, subtype: Option<PilotSubtype>) -> &'static str {
    use PilotCategory as C;
    use PilotSubtype as S;
    match (category, subtype) {
        (C::Process, _) => "表1.1 流程型行业",
        (C::Discrete, _) => "表1.2 离散型行业",
        (C::Equipment, _) => "表1.3 智能制造装备",
        (C::Product, _) => "表1.4 智能产品",
        (C::ServiceManagement, Some(S::Logistics)) => "表1.5(二) 物流管理",
        (C::ServiceManagement, Some(S::Energy)) => "表1.5(三) 能源管理",
        (C::ServiceManagement, _) => "表1.5(一) 智能服务",
        (C::NewModel, Some(S::Collaborative)) => "表1.6(二) 协同开发/云制造",
        (C::NewModel, Some(S::ECommerce)) => "表1.6(三) 电子商务",
        (C::NewModel, _) => "表1.6(一) 个性化定制",
    }
}

fn attachment(id: &str, zh: &str, en: &str) -> AttachmentType {
    AttachmentType {
        id: id.into(),
        title: Text::new(zh, en),
        media_types: vec!["application/pdf".into(), "image/jpeg".into(), "image/png".into()],
        max_bytes: Some(50 << 20),
        ..Default::default()
    }
}

/// The attachment types of 三(一). Presence is checked by the program's rules
/// (`eco.materials.*`), so the declarations carry no minimum counts.
fn attachments() -> Vec<AttachmentType> {
    vec![
        attachment("business-licence", "营业执照", "business licence"),
        attachment("audit-report", "近3年审计报告", "audit report (one per year)"),
        attachment("qualification", "资质认定", "qualification evidence"),
        attachment("ip", "知识产权", "IP evidence"),
        attachment("credit-report", "信用中国报告", "信用中国 credit report"),
        attachment("project", "承担项目", "government project evidence"),
        attachment("service-case", "服务案例", "service case evidence"),
    ]
}

/// The path of seed 000: applicant → district first review (by 15 August in
/// Huizhou; each city may switch the district stage off) → city → province →
/// expert review and re-check → public notice → decision. The seeds give no
/// working-day limits for experts and notice, so the stages carry none.
pub fn graph() -> Graph {
    PlatformGraph {
        district_review: true,
        city_sla: None,
        expert_review: Some(0),
        public_notice: Some(0),
        library: None,
        routes: Vec::new(),
    }
    .build()
}

/// Conditional requirements the schema states itself.
fn direct_needs_basis() -> serde_json::Value {
    serde_json::json!({
        "if": {"properties": {"route": {"const": "direct-recognition"}}, "required": ["route"]},
        "then": {"required": ["direct"], "properties": {"direct": {"type": "object"}}}
    })
}

fn when_then(field: &str, values: &[&str], required: &[&str]) -> serde_json::Value {
    let props: serde_json::Map<String, serde_json::Value> =
        required.iter().map(|r| (r.to_string(), serde_json::json!({"not": {"type": "null"}}))).collect();
    serde_json::json!({
        "if": {"properties": {field: {"enum": values}}, "required": [field]},
        "then": {"required": required, "properties": props}
    })
}

pub fn form21() -> Form {
    form_with::<Form21>(
        FORM_21,
        Text::new("申报书（装备、软件、网络、解决方案领域）", "form 2.1 (equipment, software, network, solutions)"),
        serde_json::json!({"allOf": [
            direct_needs_basis(),
            when_then("domain", &["equipment", "system-solutions"], &["rd_organisation"]),
            when_then("domain", &["key-software"], &["lawful_dev_environment"]),
            when_then("domain", &["network-infrastructure"], &["third_party_service"]),
        ]}),
    )
}

pub fn form22() -> Form {
    form_with::<Form22>(
        FORM_22,
        Text::new("申报书（行业组织、人才、金融服务领域）", "form 2.2 (organisations, talent, finance)"),
        serde_json::json!({"allOf": [
            direct_needs_basis(),
            when_then("domain", &["industry-organisation", "talent"], &["mid_title_staff"]),
            when_then("domain", &["talent"], &["talent_unit"]),
            when_then("domain", &["financial-services"], &["premises_in_guangdong"]),
            when_then("talent_unit", &["research-institute"], &["rd_staff"]),
        ]}),
    )
}

pub fn form23() -> Form {
    // The sub-types a category allows, each with the name its table gives it (the
    // schema's error then names them as people do).
    let subtypes = |allowed: &[(&str, &str)]| {
        let alternatives: Vec<serde_json::Value> =
            allowed.iter().map(|(id, zh)| serde_json::json!({"const": id, "title": zh})).collect();
        serde_json::json!({"required": ["subtype"], "properties": {"subtype": {"oneOf": alternatives}}})
    };
    form_with::<Form23>(
        FORM_23,
        Text::new("申报书（智能制造试点示范领域）", "form 2.3 (pilot demonstration)"),
        serde_json::json!({
            "allOf": [direct_needs_basis()],
            "$defs": {"PilotProject": {
                "properties": {"name": {"x-project-key": true}},
                "allOf": [
                    when_then("category", &["process"], &["data_collection_pct", "auto_control_pct"]),
                    {"if": {"properties": {"category": {"const": "service-management"}}, "required": ["category"]},
                     "then": subtypes(&[("smart-service", "智能服务"), ("logistics", "物流管理"), ("energy", "能源管理")])},
                    {"if": {"properties": {"category": {"const": "new-model"}}, "required": ["category"]},
                     "then": subtypes(&[("customisation", "个性化定制"), ("collaborative", "协同开发/云制造"), ("e-commerce", "电子商务")])},
                    {"if": {"properties": {"category": {"enum": ["process", "discrete", "equipment", "product"]}}, "required": ["category"]},
                     "then": {"properties": {"subtype": {"type": "null"}}}},
                    when_then("subtype", &["e-commerce"], &["ecommerce_share_pct"]),
                ]
            }}
        }),
    )
}

pub struct EcoPartners;

impl Program for EcoPartners {
    fn manifest() -> Manifest {
        let mut b = ManifestBuilder::new(
            PROGRAM,
            Text::new("广东省智能制造生态合作伙伴", "Guangdong smart-manufacturing eco-partners"),
            env!("CARGO_PKG_VERSION"),
        )
        .edition("2024", 2024, Text::new("2024 年申报指南", "2024 application guide"))
        .edition("2022", 2022, Text::new("第二批（2022 年）", "second batch (2022)"))
        .default_edition("2024")
        .form(form21())
        .form(form22())
        .form(form23())
        .rules(RULES)
        .graph(graph())
        .summary(SummaryTable {
            title: Text::new("广东省智能制造生态合作伙伴推荐汇总表", "eco-partner recommendation summary (annex 3)"),
            sections: vec![
                SummarySection {
                    id: "selection".into(),
                    title: Text::new("遴选加入单位", "selection"),
                    field: Some("/route".into()),
                    equals: Some("selection".into()),
                },
                SummarySection {
                    id: "direct-recognition".into(),
                    title: Text::new("直接认定单位", "direct recognition"),
                    field: Some("/route".into()),
                    equals: Some("direct-recognition".into()),
                },
            ],
            columns: vec![
                SummaryColumn { title: Text::new("序号", "rank"), source: "rank".into() },
                SummaryColumn { title: Text::new("申报单位名称", "applicant"), source: "applicant:name".into() },
                SummaryColumn { title: Text::new("申报领域", "domain"), source: "direction:title".into() },
                SummaryColumn { title: Text::new("企业联系人", "contact"), source: "/basic/contact/name".into() },
                SummaryColumn { title: Text::new("联系电话", "phone"), source: "/basic/contact/phone".into() },
            ],
        });
        for (id, clause, zh, en, dirs) in [
            (
                "eco.expert.technology-leading",
                "000 附件1 一(一)、四(二)",
                "技术水平国内领先，具有较强的带动性，代表行业发展方向",
                "technology leads the country and the industry",
                &["equipment", "system-solutions"][..],
            ),
            (
                "eco.expert.core-technology",
                "000 附件1 二(一)、三(二)",
                "拥有核心关键技术；产品或服务具备 OT/IT 深度融合特点",
                "core technology; OT/IT fusion",
                &["key-software", "network-infrastructure"][..],
            ),
            (
                "eco.expert.market-scale",
                "000 附件1 一(三)、二(二)",
                "具有较广阔的应用市场和一定的销售规模",
                "a broad market and real sales",
                &["equipment", "key-software"][..],
            ),
            (
                "eco.expert.organisation-governance",
                "000 附件1 五(一)",
                "运作规范、规章制度健全，有明确的发展规划与年度目标",
                "sound rules, plans and yearly goals",
                &["industry-organisation"][..],
            ),
            (
                "eco.expert.finance-reputation",
                "000 附件1 七(二)、(三)",
                "融资服务创新能力、实践经验和管理水平；用户满意度",
                "financing innovation, experience, satisfaction",
                &["financial-services"][..],
            ),
            (
                "eco.expert.pilot-demonstration-value",
                "000 附件1 八(二)、(三)",
                "智能制造模式具有示范意义和推广价值，取得明显成效",
                "the model is exemplary and shows clear results",
                &["pilot-demonstration"][..],
            ),
            (
                "eco.expert.elements-substance",
                "000 附件1 表1.1-1.6",
                "要素条件的实施情况是否属实、达到要求",
                "whether the element conditions are really met",
                &["pilot-demonstration"][..],
            ),
        ] {
            b = b.expert_item(id, clause, Text::new(zh, en), dirs);
        }
        for (id, form, zh, en) in DOMAINS {
            b = b.direction(Direction {
                id: id.to_string(),
                title: Text::new(*zh, *en),
                category: None,
                form: form.to_string(),
                handled_by: vec!["diit".into()],
                attachments: attachments(),
                editions: Vec::new(),
            });
        }
        b.build()
    }

    fn check(req: &CheckRequest) -> Result<CheckResult, PluginError> {
        let edition = if req.round.edition.is_empty() { "2024" } else { req.round.edition.as_str() };
        let mut c = Checker::new(RULES);
        let ctx = Ctx { req, edition, year: req.round.year as i32 };
        match req.form.as_str() {
            FORM_21 => {
                let f: Form21 = parse_form(req)?;
                let domain = match f.domain {
                    Domain21::Equipment => "equipment",
                    Domain21::KeySoftware => "key-software",
                    Domain21::NetworkInfrastructure => "network-infrastructure",
                    Domain21::SystemSolutions => "system-solutions",
                };
                ctx.common(&mut c, domain, f.route, f.direct.as_ref(), &f.basic, &f.commitment, &f.cases);
                if f.route == Route::Selection {
                    ctx.form21(&mut c, &f);
                }
            }
            FORM_22 => {
                let f: Form22 = parse_form(req)?;
                let domain = match f.domain {
                    Domain22::IndustryOrganisation => "industry-organisation",
                    Domain22::Talent => "talent",
                    Domain22::FinancialServices => "financial-services",
                };
                let cases = if f.domain == Domain22::Talent { &[][..] } else { &f.cases[..] };
                ctx.common(&mut c, domain, f.route, f.direct.as_ref(), &f.basic, &f.commitment, cases);
                if f.route == Route::Selection {
                    ctx.form22(&mut c, &f);
                }
            }
            FORM_23 => {
                let f: Form23 = parse_form(req)?;
                ctx.common(
                    &mut c,
                    "pilot-demonstration",
                    f.route,
                    f.direct.as_ref(),
                    &f.basic,
                    &f.commitment,
                    &f.cases,
                );
                if f.route == Route::Selection {
                    ctx.form23(&mut c, &f);
                }
            }
            other => {
                return Err(PluginError::new(
                    "unknown-form",
                    format!("未知的申报书“{other}”"),
                    format!("unknown form {other:?}"),
                ));
            }
        }
        Ok(c.finish())
    }
}

struct Ctx<'a> {
    req: &'a CheckRequest,
    edition: &'a str,
    /// The round's year: "近三年" counts back from it.
    year: i32,
}

/// A case-count clause: which cases count, how many are needed.
struct CaseRule {
    id: &'static str,
    min: usize,
    /// Inclusive range of years.
    years: (i32, i32),
    zh_when: String,
    en_when: String,
}

impl Ctx<'_> {
    fn edition_2022(&self) -> bool {
        self.edition == "2022"
    }

    /// Cases "in the last three years" (2024) or in the named year(s) (2022).
    fn case_rule(&self, id_3y: &'static str, id_2022: &'static str, min: usize, years_2022: (i32, i32)) -> CaseRule {
        if self.edition_2022() {
            let (a, b) = years_2022;
            let en_when = if a == b { format!("in {a}") } else { format!("in {a}–{b}") };
            let zh_when = if a == b { format!("{a} 年度") } else { format!("{a}–{b} 年度") };
            CaseRule { id: id_2022, min, years: years_2022, zh_when, en_when }
        } else {
            CaseRule {
                id: id_3y,
                min,
                years: (self.year - 3, self.year),
                zh_when: format!("近三年（{}–{} 年）", self.year - 3, self.year),
                en_when: format!("in the last three years ({}–{})", self.year - 3, self.year),
            }
        }
    }

    /// Count the cases of the rule's years — in Guangdong only, unless the clause names
    /// no place (financial services, 七(三)).
    fn count_cases(&self, c: &mut Checker, rule: CaseRule, cases: &[Case], what_zh: &str, in_guangdong: bool) {
        let found = cases
            .iter()
            .filter(|k| (k.in_guangdong || !in_guangdong) && (rule.years.0..=rule.years.1).contains(&k.year))
            .count();
        let (where_zh, where_en) = if in_guangdong { ("在广东省内的", " in Guangdong") } else { ("", "") };
        c.ensure(rule.id, "$.cases", found >= rule.min, || {
            msg(
                format!("{}{where_zh}{what_zh} {found} 个，要求不少于 {} 个", rule.zh_when, rule.min),
                format!("{found} case(s){where_en} {}, at least {} required", rule.en_when, rule.min),
            )
        });
    }

    /// Clauses every application answers to, whatever the domain and route.
    #[allow(clippy::too_many_arguments)]
    fn common(
        &self,
        c: &mut Checker,
        domain: &str,
        route: Route,
        direct: Option<&DirectBasis>,
        basic: &BasicInfo,
        commitment: &Commitment,
        cases: &[Case],
    ) {
        let req = self.req;
        let direction = req.direction.as_deref().unwrap_or("");
        c.ensure("eco.form.domain-matches-direction", "$.domain", direction == domain, || {
            msg(
                format!("申报书所选领域“{}”与申报方向“{}”不一致", domain_zh(domain), domain_zh(direction)),
                format!("the form's domain {domain:?} differs from the application's direction {direction:?}"),
            )
        });
        if let Some(s) = selected::find(&req.applicant.name) {
            c.fail(
                "eco.basic.not-already-selected",
                "$applicant.name",
                msg(
                    format!(
                        "“{}”已入选第{}批省智能制造生态合作伙伴（{}），无需重复申报",
                        s.name,
                        ["一", "二", "三"][(s.batch - 1) as usize],
                        s.domains
                    ),
                    format!(
                        "{} was already selected in batch {} ({}) and does not apply again",
                        quoted(&s.name),
                        s.batch,
                        s.domains
                    ),
                ),
            );
        }
        c.ensure("eco.basic.not-dishonest-debtor", "$applicant.dishonest", !req.applicant.dishonest, || {
            msg("申报单位被列入失信被执行人，不得申报", "the applicant is a listed dishonest judgment debtor")
        });
        c.ensure("eco.basic.truthfulness-commitment", "$.commitment.truthful", commitment.truthful, || {
            msg("未签署真实性承诺（填报信息真实、合法）", "the truthfulness commitment is not signed")
        });
        // Materials (三(一)): for both routes.
        let count = |kind: &str| attachments_of(req, kind).len();
        c.ensure(
            "eco.materials.business-licence",
            "$attachments.business-licence",
            count("business-licence") >= 1,
            || msg("缺少营业执照", "the business licence is missing"),
        );
        let audits = count("audit-report");
        c.ensure("eco.materials.audit-reports-3y", "$attachments.audit-report", audits >= 3, || {
            msg(
                format!("近 3 年审计报告已上传 {audits} 份，需要 3 份（每年 1 份）"),
                format!("{audits} audit report(s) uploaded, 3 required (one per year)"),
            )
        });
        c.ensure("eco.materials.credit-report", "$attachments.credit-report", count("credit-report") >= 1, || {
            msg("缺少信用中国报告", "the 信用中国 credit report is missing")
        });

        match route {
            Route::DirectRecognition => {
                let Some(d) = direct else { return };
                let list = direct_list(self.edition);
                c.ensure(
                    "eco.direct.qualification-in-edition-list",
                    "$.direct.qualification",
                    list.contains(&d.qualification),
                    || {
                        msg(
                            format!(
                                "“{}”不在 {} 年直接认定资质名单内",
                                qualification_zh(d.qualification),
                                self.edition
                            ),
                            format!("{:?} is not on the {} direct-recognition list", d.qualification, self.edition),
                        )
                    },
                );
                if let Some(until) = d.valid_until {
                    c.ensure("eco.direct.qualification-valid", "$.direct.valid_until", until >= req.as_of, || {
                        msg(
                            format!(
                                "“{}”有效期至 {until}，已过期（申报日 {}）",
                                qualification_zh(d.qualification),
                                req.as_of
                            ),
                            format!("the qualification expired on {until} (application date {})", req.as_of),
                        )
                    });
                }
            }
            Route::Selection => {
                if !self.edition_2022() {
                    c.ensure(
                        "eco.basic.registered-in-guangdong",
                        "$applicant.channel",
                        req.applicant.channel != "out-of-province",
                        || {
                            msg(
                                format!("“{}”不在广东省内注册（2024 年要求在广东省内依法注册）", basic.unit_name),
                                format!(
                                    "{} is not registered in Guangdong (required in 2024)",
                                    quoted(&basic.unit_name)
                                ),
                            )
                        },
                    );
                }
                if domain != "talent" {
                    c.ensure("eco.basic.case-in-guangdong", "$.cases", cases.iter().any(|k| k.in_guangdong), || {
                        msg("没有在广东省内的智能制造典型案例", "no typical smart-manufacturing case in Guangdong")
                    });
                }
                c.ensure(
                    "eco.basic.no-major-accident-3y",
                    "$.commitment.no_major_accident_3y",
                    commitment.no_major_accident_3y,
                    || {
                        msg(
                            "未承诺近 3 年内未发生重大安全、环保、质量事故",
                            "no commitment that there was no major accident in 3 years",
                        )
                    },
                );
                c.ensure("eco.basic.good-credit-3y", "$.commitment.good_credit_3y", commitment.good_credit_3y, || {
                    msg("未承诺近 3 年内无不良信用记录", "no commitment to a clean credit record in 3 years")
                });
                c.ensure(
                    "eco.basic.no-ip-infringement",
                    "$.commitment.no_ip_infringement",
                    commitment.no_ip_infringement,
                    || msg("未承诺无知识产权侵权行为", "no commitment that there is no IP infringement"),
                );
            }
        }
    }

    fn patents(&self, c: &mut Checker, id: &str, ip: &IntellectualProperty, kind: PatentKind, field_zh: &str) {
        let (zh, en) = match kind {
            PatentKind::InventionPatent => ("核心发明专利", "core invention patent(s)"),
            PatentKind::SoftwareCopyright => ("软件著作权", "software copyright(s)"),
            PatentKind::UtilityModel => ("实用新型专利", "utility model(s)"),
        };
        let n = ip.count(kind);
        c.ensure(id, "$.ip.patents", n >= 5, || {
            msg(format!("{zh} {n} 项，{field_zh}要求不少于 5 项"), format!("{n} {en}, at least 5 required"))
        });
    }

    fn rd_team(&self, c: &mut Checker, id: &str, path: &str, rd_staff: u32) {
        c.ensure(id, path, rd_staff >= 20, || {
            msg(
                format!("研发技术团队 {rd_staff} 人，要求不少于 20 人"),
                format!("an R&D team of {rd_staff}, at least 20 required"),
            )
        });
    }

    fn rd_org(&self, c: &mut Checker, id: &str, org: Option<RdOrganisation>) {
        c.ensure(id, "$.rd_organisation", org.is_some_and(|o| o != RdOrganisation::None), || {
            msg("未设立也未在建设研发机构", "no R&D organisation, existing or being built")
        });
    }

    fn form21(&self, c: &mut Checker, f: &Form21) {
        match f.domain {
            Domain21::Equipment => {
                self.patents(
                    c,
                    "eco.equipment.invention-patents-min-5",
                    &f.ip,
                    PatentKind::InventionPatent,
                    "智能制造装备领域",
                );
                self.rd_org(c, "eco.equipment.rd-organisation", f.rd_organisation);
                self.rd_team(c, "eco.equipment.rd-team-min-20", "$.rd_staff", f.rd_staff);
                let years = [self.year - 3, self.year - 2, self.year - 1];
                let found: Vec<Wan> = years
                    .iter()
                    .filter_map(|y| f.economics.iter().find(|e| e.year == *y).map(|e| e.main_revenue))
                    .collect();
                let ok = found.len() == 3 && Wan::average(&found).is_some_and(|a| a.0 >= 1500.0);
                c.ensure("eco.equipment.main-revenue-avg-3y-min-1500", "$.economics", ok, || {
                    if found.len() < 3 {
                        msg(
                            format!("须填报 {}–{} 年主营业务收入（已填 {} 年）", years[0], years[2], found.len()),
                            format!(
                                "main-business revenue for {}–{} is required ({} year(s) given)",
                                years[0],
                                years[2],
                                found.len()
                            ),
                        )
                    } else {
                        let avg = Wan::average(&found).expect("three years");
                        msg(
                            format!("近三年平均主营业务收入 {avg}，智能制造装备领域要求 1500 万元以上"),
                            format!("average main-business revenue over 3 years is {avg}, at least 1500 万元 required"),
                        )
                    }
                });
            }
            Domain21::KeySoftware => {
                if self.edition_2022() {
                    self.patents(
                        c,
                        "eco.software.invention-patents-min-5",
                        &f.ip,
                        PatentKind::InventionPatent,
                        "关键软件领域（2022 年）",
                    );
                } else {
                    self.patents(
                        c,
                        "eco.software.copyrights-min-5",
                        &f.ip,
                        PatentKind::SoftwareCopyright,
                        "关键软件领域",
                    );
                }
                let rule =
                    self.case_rule("eco.software.cases-3y-min-5", "eco.software.cases-2021-min-5", 5, (2021, 2021));
                self.count_cases(c, rule, &f.cases, "用户服务案例", true);
                self.rd_team(c, "eco.software.rd-team-min-20", "$.rd_staff", f.rd_staff);
                c.ensure(
                    "eco.software.dev-environment",
                    "$.lawful_dev_environment",
                    f.lawful_dev_environment == Some(true),
                    || msg("不具备与软件开发相适应的软硬件设施及合法的开发环境", "no lawful development environment"),
                );
            }
            Domain21::NetworkInfrastructure => {
                c.ensure(
                    "eco.network.third-party-service",
                    "$.third_party_service",
                    f.third_party_service == Some(true),
                    || msg("不能提供第三方独立服务", "no independent third-party service"),
                );
                let rule =
                    self.case_rule("eco.network.cases-3y-min-5", "eco.network.cases-2021-min-5", 5, (2021, 2021));
                self.count_cases(c, rule, &f.cases, "典型案例", true);
                self.patents(
                    c,
                    "eco.network.invention-patents-min-5",
                    &f.ip,
                    PatentKind::InventionPatent,
                    "信息网络基础设施领域",
                );
            }
            Domain21::SystemSolutions => {
                let rule =
                    self.case_rule("eco.solutions.cases-3y-min-5", "eco.solutions.cases-2021-min-5", 5, (2021, 2021));
                self.count_cases(c, rule, &f.cases, "典型案例", true);
                self.patents(
                    c,
                    "eco.solutions.invention-patents-min-5",
                    &f.ip,
                    PatentKind::InventionPatent,
                    "智能制造系统解决方案领域",
                );
                self.rd_org(c, "eco.solutions.rd-organisation", f.rd_organisation);
                self.rd_team(c, "eco.solutions.rd-team-min-20", "$.rd_staff", f.rd_staff);
            }
        }
    }

    fn form22(&self, c: &mut Checker, f: &Form22) {
        match f.domain {
            Domain22::IndustryOrganisation => {
                let staff = f.service_staff;
                c.ensure("eco.org.platform-staff-min-20", "$.service_staff", staff >= 20, || {
                    msg(
                        format!("平台从业人员 {staff} 人，要求不少于 20 人"),
                        format!("{staff} platform staff, at least 20 required"),
                    )
                });
                let b = f.bachelor_staff;
                let m = f.mid_title_staff.unwrap_or(0);
                let half = |n: u32| n * 2 >= staff;
                if staff > 0 && !half(b.max(m)) {
                    if half(b + m) {
                        c.fail(
                            "eco.org.qualified-staff-overlap",
                            "$.bachelor_staff",
                            msg(
                                format!("本科以上 {b} 人、中级以上职称 {m} 人，各自不足 {staff} 人的 50%，合计达到但可能重复计算，请审核人员核实"),
                                format!("{b} with degrees and {m} with titles, each under 50% of {staff}; together over it but they may overlap"),
                            ),
                        );
                    } else {
                        c.fail(
                            "eco.org.qualified-staff-min-50pct",
                            "$.bachelor_staff",
                            msg(
                                format!("本科以上 {b} 人、中级以上职称 {m} 人，合计也不足从业人员 {staff} 人的 50%"),
                                format!("{b} with degrees and {m} with titles: even together under 50% of {staff}"),
                            ),
                        );
                    }
                }
                let rule = self.case_rule("eco.org.cases-3y-min-5", "eco.org.cases-2021-min-5", 5, (2021, 2021));
                self.count_cases(c, rule, &f.cases, "服务案例", true);
            }
            Domain22::Talent => match f.talent_unit {
                Some(TalentUnit::School) => {
                    let n = f.cooperations.len();
                    c.ensure("eco.talent.school-partners-min-3", "$.cooperations", n >= 3, || {
                        msg(
                            format!("合作企业 {n} 个，要求 3 个及以上"),
                            format!("{n} partner enterprise(s), at least 3 required"),
                        )
                    });
                    c.ensure(
                        "eco.talent.school-internship-base",
                        "$.cooperations",
                        f.cooperations.iter().any(|k| k.internship_base),
                        || msg("未与合作企业共建学生实习基地", "no internship base built with a partner"),
                    );
                }
                Some(TalentUnit::ResearchInstitute) => {
                    self.rd_team(c, "eco.talent.institute-rd-team-min-20", "$.rd_staff", f.rd_staff.unwrap_or(0));
                    self.patents(
                        c,
                        "eco.talent.institute-invention-patents-min-5",
                        &f.ip,
                        PatentKind::InventionPatent,
                        "科研院所",
                    );
                }
                Some(TalentUnit::Enterprise) => {
                    let n = f
                        .cooperations
                        .iter()
                        .filter(|k| k.major.as_deref().is_some_and(|m| !m.trim().is_empty()))
                        .count();
                    c.ensure("eco.talent.enterprise-majors-min-3", "$.cooperations", n >= 3, || {
                        msg(
                            format!("共建智能制造相关学科专业点 {n} 个，要求 3 个以上"),
                            format!("{n} co-built major(s), at least 3 required"),
                        )
                    });
                }
                None => {}
            },
            Domain22::FinancialServices => {
                c.ensure(
                    "eco.finance.premises-in-guangdong",
                    "$.premises_in_guangdong",
                    f.premises_in_guangdong == Some(true),
                    || msg("在广东省内没有固定的经营服务场所", "no fixed premises in Guangdong"),
                );
                let staff = f.service_staff;
                c.ensure("eco.finance.staff-min-20", "$.service_staff", staff >= 20, || {
                    msg(
                        format!("从业人员 {staff} 人，要求不少于 20 人"),
                        format!("{staff} staff, at least 20 required"),
                    )
                });
                let n = f.financial_products.len();
                c.ensure("eco.finance.products-min-3", "$.financial_products", n >= 3, || {
                    msg(
                        format!("特色金融产品 {n} 款，要求 3 款以上"),
                        format!("{n} financial product(s), at least 3 required"),
                    )
                });
                let rule = self.case_rule(
                    "eco.finance.cases-3y-min-10",
                    "eco.finance.cases-2020-2021-min-10",
                    10,
                    (2020, 2021),
                );
                self.count_cases(c, rule, &f.cases, "智能制造领域服务案例", false);
            }
        }
    }

    fn form23(&self, c: &mut Checker, f: &Form23) {
        let p = &f.pilot;
        let table = table_name(p.category, p.subtype);
        let n = element_count(p.category);
        let missing: Vec<String> =
            (1..=n).filter(|no| !p.elements.iter().any(|e| e.no == *no && e.met)).map(|no| no.to_string()).collect();
        c.ensure("eco.pilot.elements-met", "$.pilot.elements", missing.is_empty(), || {
            msg(
                format!("{table}共 {n} 项要素条件，第 {} 项未满足或未填写", missing.join("、")),
                format!("{table}: element condition(s) {} of {n} not met or not described", missing.join(", ")),
            )
        });
        if p.category == PilotCategory::Process {
            let rate = p.data_collection_pct.unwrap_or(0.0);
            c.ensure("eco.pilot.data-collection-min-90", "$.pilot.data_collection_pct", rate >= 90.0, || {
                msg(
                    format!("生产工艺数据自动数采率 {rate}%，要求 90% 以上"),
                    format!("automatic data collection {rate}%, at least 90% required"),
                )
            });
            let rate = p.auto_control_pct.unwrap_or(0.0);
            c.ensure("eco.pilot.auto-control-min-90", "$.pilot.auto_control_pct", rate >= 90.0, || {
                msg(
                    format!("工厂自控投用率 {rate}%，要求 90% 以上"),
                    format!("automatic-control use {rate}%, at least 90% required"),
                )
            });
        }
        if p.subtype == Some(PilotSubtype::ECommerce) {
            let share = p.ecommerce_share_pct.unwrap_or(0.0);
            c.ensure("eco.pilot.ecommerce-share-min-20", "$.pilot.ecommerce_share_pct", share >= 20.0, || {
                msg(
                    format!("电子商务销售收入占主营业务收入 {share}%，要求不低于 20%"),
                    format!("e-commerce sales are {share}% of main-business revenue, at least 20% required"),
                )
            });
        }
        c.ensure("eco.pilot.built", "$.pilot.built", p.built, || {
            msg(format!("项目“{}”尚未建成", p.name), format!("project {} is not built yet", quoted(&p.name)))
        });
        let min = if self.edition_2022() { 3 } else { 5 };
        let rule = self.case_rule("eco.pilot.cases-3y-min-5", "eco.pilot.cases-2021-min-3", min, (2021, 2021));
        self.count_cases(c, rule, &f.cases, "典型案例", true);
    }
}

shenbao_sdk::export_program!(EcoPartners);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_consistent() {
        let m = EcoPartners::manifest();
        assert_eq!(m.forms.len(), 3);
        assert_eq!(m.directions.len(), 8);
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "rule ids are unique");
        assert!(RULES.iter().all(|r| r.id.starts_with("eco.")));
        let schema: serde_json::Value = serde_json::from_str(&m.forms[2].schema).unwrap();
        assert_eq!(schema["$defs"]["PilotProject"]["properties"]["name"]["x-project-key"], true);
    }

    #[test]
    fn editions_differ_in_the_direct_list() {
        assert!(direct_list("2024").contains(&DirectQualification::DigitalTransformationPool));
        assert!(!direct_list("2022").contains(&DirectQualification::DigitalTransformationPool));
        assert!(direct_list("2022").contains(&DirectQualification::IiotSupplyPool));
        assert_eq!((direct_list("2024").len(), direct_list("2022").len()), (9, 8));
    }
}
