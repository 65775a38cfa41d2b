//! The three application forms (申报书, seed 000 annex 2.1–2.3), section by section.
//! Titles and help text (`description`) are Chinese: applicants read them in the
//! form. Comments for readers of this code are English.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use shenbao_sdk::{Date, Wan};

// 加入方式: selection (遴选加入) or direct recognition (直接认定).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "选择遴选加入或直接认定")]
pub enum Route {
    /// 遴选加入
    Selection,
    /// 直接认定
    DirectRecognition,
}

// The qualifications that allow direct recognition (2024 guide 一(二); 2022 notice 一).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "可申请直接认定的资质（2024 年指南一（二）；2022 年通知一）")]
pub enum DirectQualification {
    /// 省级机器人骨干（培育）企业
    RobotBackbone,
    /// 广东省智能制造公共技术支撑平台
    PublicTechPlatform,
    /// 国家和省智能制造试点示范项目依托单位
    PilotProjectUnit,
    /// 国家智能制造试点示范工厂揭榜单位和优秀场景依托单位
    DemonstrationFactoryUnit,
    /// 智能制造标准应用试点项目依托单位（2024 年）
    StandardApplicationPilot,
    /// 国家智能制造综合标准化与新模式应用项目牵头单位
    StandardisationLead,
    /// 省级大数据/人工智能骨干（培育）企业
    BigDataAiBackbone,
    /// 省制造业数字化转型产业生态供给资源池（2024 年）
    DigitalTransformationPool,
    /// 工业互联网产业生态供给资源池企业（2022 年）
    IiotSupplyPool,
    /// 智能制造领域省级及以上制造业创新中心
    InnovationCentre,
}

// The twenty strategic clusters (十大战略性支柱产业集群 and 十大战略性新兴产业集群).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "十大战略性支柱产业集群和十大战略性新兴产业集群")]
pub enum Cluster {
    电子信息,
    绿色石化,
    智能家电,
    汽车产业,
    先进材料,
    现代轻工纺织,
    软件与信息服务,
    超高清视频显示,
    生物医药与健康,
    现代农业与食品,
    半导体与集成电路,
    高端装备制造,
    智能机器人,
    区块链与量子信息,
    前沿新材料,
    新能源,
    激光与增材制造,
    数字创意,
    安全应急与环保,
    精密仪器设备,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Contact {
    #[schemars(title = "联系人", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "联系电话", length(min = 5, max = 30))]
    pub phone: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EnterpriseType {
    /// 国有企业
    StateOwned,
    /// 私营企业
    Private,
    /// 股份制企业
    JointStock,
    /// 外商投资企业
    ForeignInvested,
    /// 其他
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Listing {
    /// 上交所
    Shanghai,
    /// 深交所
    Shenzhen,
    /// 港交所
    HongKong,
    /// 海外
    Overseas,
    /// 尚未上市
    NotListed,
}

// 一(一) 基本情况, common to the three forms.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "一（一）基本情况（三类申报书通用）")]
pub struct BasicInfo {
    #[schemars(title = "单位名称", length(min = 1, max = 100), extend("x-public" = true))]
    pub unit_name: String,
    #[schemars(title = "地址", length(min = 1, max = 200))]
    pub address: String,
    // Six-digit postcode.
    #[schemars(title = "邮编", length(max = 6), regex(pattern = r"^[0-9]{6}$"))]
    #[schemars(description = "6 位数字邮政编码")]
    pub postcode: String,
    #[schemars(title = "法人代表", length(min = 1, max = 100))]
    pub legal_representative: String,
    #[schemars(title = "国籍", length(min = 1, max = 100))]
    pub nationality: String,
    #[schemars(title = "联系人")]
    pub contact: Contact,
    #[schemars(title = "传真", length(max = 30))]
    #[serde(default)]
    pub fax: Option<String>,
    // At most five of the twenty clusters (最多选 5 项).
    #[schemars(title = "涉及产业类别（最多选 5 项）", length(min = 1, max = 5), extend("uniqueItems" = true))]
    #[schemars(description = "从二十个战略性产业集群中最多选 5 项")]
    pub clusters: Vec<Cluster>,
    // Year and month of registration, `YYYY-MM`.
    #[schemars(title = "注册时间", length(max = 7), regex(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$"))]
    #[schemars(description = "注册年月，格式如 2018-05")]
    pub registered: String,
    #[schemars(title = "注册资金（万元）")]
    pub registered_capital: Wan,
    // Foreign share of the capital, in percent.
    #[schemars(title = "外资比例（%）", range(min = 0.0, max = 100.0))]
    #[schemars(description = "外资占注册资本的比例（%）")]
    pub foreign_share_pct: f64,
    #[schemars(title = "资产总额（万元）")]
    pub total_assets: Wan,
    #[schemars(title = "固定资产（万元）")]
    pub fixed_assets: Wan,
    #[schemars(title = "职工总数（人）")]
    pub staff: u32,
}

/// 相关资质或认定情况（每项一行）
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct QualificationRow {
    #[schemars(title = "授予或认定部门", length(min = 1, max = 100))]
    pub granted_by: String,
    #[schemars(title = "资质或认定名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "授予或认定时间")]
    pub granted_on: Date,
    #[schemars(title = "有效期至")]
    #[serde(default)]
    pub valid_until: Option<Date>,
}

// The qualification an application for direct recognition rests on.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "直接认定所依据的资质")]
pub struct DirectBasis {
    #[schemars(title = "直接认定资质")]
    pub qualification: DirectQualification,
    #[schemars(title = "认定部门", length(min = 1, max = 100))]
    pub granted_by: String,
    #[schemars(title = "认定时间")]
    pub granted_on: Date,
    #[schemars(title = "有效期至")]
    #[serde(default)]
    pub valid_until: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StandardLevel {
    /// 国际标准
    International,
    /// 国家标准
    National,
    /// 行业标准
    Industry,
    /// 地方标准
    Local,
    /// 团体标准
    Group,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StandardRow {
    #[schemars(title = "标准类型")]
    pub level: StandardLevel,
    #[schemars(title = "标准名称", length(min = 1, max = 200))]
    pub name: String,
    #[schemars(title = "发布时间")]
    pub issued_on: Date,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PatentKind {
    /// 发明专利
    InventionPatent,
    /// 实用新型
    UtilityModel,
    /// 软件著作权
    SoftwareCopyright,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PatentRow {
    /// 发明专利/实用新型/软件著作权
    #[schemars(title = "类型")]
    pub kind: PatentKind,
    #[schemars(title = "名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "证书号", length(min = 1, max = 50))]
    pub number: String,
    #[schemars(title = "颁发时间")]
    pub granted_on: Date,
}

/// 知识产权情况.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct IntellectualProperty {
    #[schemars(title = "标准")]
    #[serde(default)]
    pub standards: Vec<StandardRow>,
    #[schemars(title = "专利和软件著作权")]
    #[serde(default)]
    pub patents: Vec<PatentRow>,
}

impl IntellectualProperty {
    pub fn count(&self, kind: PatentKind) -> usize {
        self.patents.iter().filter(|p| p.kind == kind).count()
    }
}

// 真实性承诺声明: each sentence of the commitment, ticked.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "真实性承诺声明：逐条确认")]
pub struct Commitment {
    /// 近 3 年内未发生重大安全、环保、质量事故
    #[schemars(title = "近3年内未发生重大安全、环保、质量事故")]
    pub no_major_accident_3y: bool,
    /// 近 3 年内无不良信用记录，未被列入失信被执行人
    #[schemars(title = "近3年内无不良信用记录，未被列入失信被执行人")]
    pub good_credit_3y: bool,
    #[schemars(title = "无知识产权侵权行为")]
    pub no_ip_infringement: bool,
    #[schemars(title = "填报信息真实、合法")]
    pub truthful: bool,
}

/// 牵头或参与过的市级及以上政府项目.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct GovernmentProject {
    #[schemars(title = "项目名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "项目介绍", length(max = 2000))]
    #[serde(default)]
    pub introduction: String,
    #[schemars(title = "管理单位", length(min = 1, max = 100))]
    pub managed_by: String,
}

// A typical case (典型案例 / 服务案例).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "典型案例（服务案例）")]
pub struct Case {
    #[schemars(title = "案例名称", length(min = 1, max = 100))]
    pub name: String,
    // The customer (or, in form 2.3, the industry segment served).
    #[schemars(title = "销售或服务的单位（细分行业）", length(min = 1, max = 100))]
    #[schemars(description = "服务的客户（申报书 2.3 填写服务的行业领域）")]
    pub customer: String,
    #[schemars(title = "解决的主要问题", length(min = 1, max = 2000))]
    pub problem: String,
    #[schemars(title = "主要途径和做法", length(min = 1, max = 2000))]
    pub approach: String,
    #[schemars(title = "方案整体架构描述", length(max = 2000))]
    #[serde(default)]
    pub architecture: String,
    #[schemars(title = "方案推广应用成效", length(min = 1, max = 2000))]
    pub results: String,
    // Carried out in Guangdong (在广东省内).
    #[schemars(title = "是否在广东省内")]
    #[schemars(description = "案例是否在广东省内实施")]
    pub in_guangdong: bool,
    #[schemars(title = "实施年份", range(min = 2000, max = 2100))]
    pub year: i32,
}

/// 主要经济指标（每年一行）
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct YearEconomics {
    #[schemars(title = "年度", range(min = 2000, max = 2100))]
    pub year: i32,
    #[schemars(title = "营业收入（万元）")]
    pub revenue: Wan,
    #[schemars(title = "主营业务收入（万元）")]
    pub main_revenue: Wan,
    #[schemars(title = "研发投入（万元）")]
    pub rd_spending: Wan,
    #[schemars(title = "利润率（%）", range(min = -100.0, max = 100.0))]
    pub profit_margin_pct: f64,
}

/// 主要产品或服务.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Product {
    #[schemars(title = "名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "前年销售收入（万元）")]
    pub sales_year_before: Wan,
    #[schemars(title = "上年销售收入（万元）")]
    pub sales_last_year: Wan,
    #[schemars(title = "简介", length(min = 1, max = 2000))]
    pub description: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RdOrganisation {
    /// 已设立研发机构
    Existing,
    /// 正在建设研发机构
    Building,
    /// 无
    None,
}

// ------------------------------------------------------------------ 2.1

// Domains of form 2.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "申报书 2.1 的申报领域")]
pub enum Domain21 {
    /// 智能制造装备
    Equipment,
    /// 关键软件
    KeySoftware,
    /// 信息网络基础设施
    NetworkInfrastructure,
    /// 智能制造系统解决方案
    SystemSolutions,
}

/// 附件 2.1 申报书 (智能制造装备、关键软件、信息网络基础设施、智能制造系统解决方案领域).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "广东省智能制造生态合作伙伴申报书（附件2.1）")]
pub struct Form21 {
    #[schemars(title = "申报领域（限 1 项）")]
    pub domain: Domain21,
    #[schemars(title = "加入方式")]
    pub route: Route,
    #[schemars(title = "直接认定资质")]
    #[serde(default)]
    pub direct: Option<DirectBasis>,
    #[schemars(title = "基本情况")]
    pub basic: BasicInfo,
    #[schemars(title = "企业类型")]
    pub enterprise_type: EnterpriseType,
    #[schemars(title = "上市情况")]
    pub listing: Listing,
    #[schemars(title = "研发人员数（人）")]
    pub rd_staff: u32,
    // Required for equipment and system solutions.
    #[schemars(title = "研发机构")]
    #[serde(default)]
    #[schemars(description = "智能制造装备、智能制造系统解决方案领域必填")]
    pub rd_organisation: Option<RdOrganisation>,
    // Key software: lawful development tools and environment.
    #[schemars(title = "具有与软件开发相适应的软硬件设施及合法的开发环境")]
    #[serde(default)]
    #[schemars(description = "关键软件领域：使用合法的开发工具和环境")]
    pub lawful_dev_environment: Option<bool>,
    // Network infrastructure: independent third-party service.
    #[schemars(title = "提供第三方独立服务")]
    #[serde(default)]
    #[schemars(description = "信息网络基础设施领域：提供独立第三方服务")]
    pub third_party_service: Option<bool>,
    #[schemars(title = "经营情况（近三年）", length(min = 1))]
    pub economics: Vec<YearEconomics>,
    #[schemars(title = "主要产品或服务")]
    #[serde(default)]
    pub products: Vec<Product>,
    #[schemars(title = "相关资质或认定情况")]
    #[serde(default)]
    pub qualifications: Vec<QualificationRow>,
    #[schemars(title = "知识产权情况")]
    #[serde(default)]
    pub ip: IntellectualProperty,
    #[schemars(title = "真实性承诺声明")]
    pub commitment: Commitment,
    #[schemars(title = "企业简介", length(min = 1, max = 2000))]
    pub introduction: String,
    #[schemars(title = "服务能力（典型案例）")]
    #[serde(default)]
    pub cases: Vec<Case>,
    #[schemars(title = "承担政府项目情况")]
    #[serde(default)]
    pub government_projects: Vec<GovernmentProject>,
}

// ------------------------------------------------------------------ 2.2

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Domain22 {
    /// 行业组织
    IndustryOrganisation,
    /// 智能制造人才
    Talent,
    /// 智能制造金融服务
    FinancialServices,
}

// What kind of unit applies in the talent domain (annex 1 六(一)–(三)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "智能制造人才领域的申报单位类型（附件 1 六（一）至（三））")]
pub enum TalentUnit {
    /// 高等院校、技工院校、职业学校
    School,
    /// 科研院所
    ResearchInstitute,
    /// 企业
    Enterprise,
}

// 校企合作: a partner and what is done together.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "校企合作：合作单位及合作内容")]
pub struct Cooperation {
    #[schemars(title = "合作单位", length(min = 1, max = 100))]
    pub partner: String,
    #[schemars(title = "合作内容", length(min = 1, max = 2000))]
    pub content: String,
    // Schools: a student internship base built with the partner.
    #[schemars(title = "共建学生实习基地")]
    #[serde(default)]
    #[schemars(description = "院校填写：与合作单位共建的学生实习基地")]
    pub internship_base: bool,
    // Enterprises: the co-built major (订单班、现代学徒制专业点).
    #[schemars(title = "共建学科专业点", length(max = 100))]
    #[serde(default)]
    #[schemars(description = "企业填写：共建的专业（订单班、现代学徒制专业点）")]
    pub major: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct FinancialProduct {
    #[schemars(title = "产品名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "产品简介", length(min = 1, max = 2000))]
    pub description: String,
}

/// 附件 2.2 申报书 (行业组织、智能制造人才、智能制造金融服务领域).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "广东省智能制造生态合作伙伴申报书（附件2.2）")]
pub struct Form22 {
    #[schemars(title = "申报领域（限 1 项）")]
    pub domain: Domain22,
    #[schemars(title = "加入方式")]
    pub route: Route,
    #[schemars(title = "直接认定资质")]
    #[serde(default)]
    pub direct: Option<DirectBasis>,
    #[schemars(title = "基本情况")]
    pub basic: BasicInfo,
    #[schemars(title = "行业类别", length(min = 1, max = 100))]
    pub industry: String,
    #[schemars(title = "行业代码", length(min = 1, max = 50))]
    pub industry_code: String,
    #[schemars(title = "单位类型", length(min = 1, max = 100))]
    pub unit_type: String,
    #[schemars(title = "上市情况")]
    pub listing: Listing,
    #[schemars(title = "领域内专职服务人员数（人）")]
    pub service_staff: u32,
    #[schemars(title = "本科及以上学历人员数（人）")]
    pub bachelor_staff: u32,
    // Not asked of financial services.
    #[schemars(title = "中级以上技术职称人员数（人）")]
    #[serde(default)]
    #[schemars(description = "金融服务领域不填")]
    pub mid_title_staff: Option<u32>,
    // Talent domain only.
    #[schemars(title = "人才领域单位类别")]
    #[serde(default)]
    #[schemars(description = "仅智能制造人才领域填写")]
    pub talent_unit: Option<TalentUnit>,
    // Research institutes in the talent domain.
    #[schemars(title = "研发人员数（人）")]
    #[serde(default)]
    #[schemars(description = "智能制造人才领域的科研院所填写")]
    pub rd_staff: Option<u32>,
    #[schemars(title = "知识产权情况")]
    #[serde(default)]
    pub ip: IntellectualProperty,
    // Financial services: fixed premises in Guangdong.
    #[schemars(title = "在广东省内有固定的经营服务场所")]
    #[serde(default)]
    #[schemars(description = "金融服务领域：在广东省内有固定经营场所")]
    pub premises_in_guangdong: Option<bool>,
    #[schemars(title = "相关资质或认定情况")]
    #[serde(default)]
    pub qualifications: Vec<QualificationRow>,
    #[schemars(title = "真实性承诺声明")]
    pub commitment: Commitment,
    #[schemars(title = "单位简介", length(min = 1, max = 2000))]
    pub introduction: String,
    #[schemars(title = "服务案例")]
    #[serde(default)]
    pub cases: Vec<Case>,
    #[schemars(title = "校企合作")]
    #[serde(default)]
    pub cooperations: Vec<Cooperation>,
    #[schemars(title = "特色金融产品")]
    #[serde(default)]
    pub financial_products: Vec<FinancialProduct>,
    #[schemars(title = "承担政府项目情况")]
    #[serde(default)]
    pub government_projects: Vec<GovernmentProject>,
    #[schemars(title = "未来五年服务计划", length(min = 1, max = 2000))]
    pub five_year_plan: String,
}

// ------------------------------------------------------------------ 2.3

// Pilot-demonstration categories, tables 1.1–1.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "试点示范类别（表 1.1 至表 1.6）")]
pub enum PilotCategory {
    /// 表 1.1 流程型行业
    Process,
    /// 表 1.2 离散型行业
    Discrete,
    /// 表 1.3 智能制造装备
    Equipment,
    /// 表 1.4 智能产品
    Product,
    /// 表 1.5 智能服务和管理
    ServiceManagement,
    /// 表 1.6 新业态和新模式
    NewModel,
}

// Sub-types of tables 1.5 and 1.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "表 1.5、表 1.6 的细分类型")]
pub enum PilotSubtype {
    /// 1.5(一) 智能服务
    SmartService,
    /// 1.5(二) 物流管理
    Logistics,
    /// 1.5(三) 能源管理
    Energy,
    /// 1.6(一) 个性化定制
    Customisation,
    /// 1.6(二) 协同开发/云制造
    Collaborative,
    /// 1.6(三) 电子商务
    ECommerce,
}

// One element condition (要素条件) and how the project meets it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(description = "一项要素条件及项目的满足情况")]
pub struct Element {
    // Its number in the category's table.
    #[schemars(title = "要素条件序号", range(min = 1, max = 5))]
    #[schemars(description = "该要素条件在类别表中的序号")]
    pub no: u8,
    #[schemars(title = "是否满足")]
    pub met: bool,
    #[schemars(title = "实施情况", length(min = 1, max = 2000))]
    pub how: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DemonstrationTitle {
    #[schemars(title = "示范称号", length(min = 1, max = 100))]
    pub title: String,
    #[schemars(title = "获评年份", range(min = 2000, max = 2100))]
    pub year: i32,
}

/// 项目实施成效.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PilotResults {
    #[schemars(title = "生产效率提升（%）")]
    pub efficiency_gain_pct: f64,
    #[schemars(title = "能源利用率提升（%）")]
    pub energy_gain_pct: f64,
    #[schemars(title = "运营成本降低（%）")]
    pub cost_cut_pct: f64,
    #[schemars(title = "产品不良品率降低（%）")]
    pub defect_cut_pct: f64,
    #[schemars(title = "产品研制周期缩短（%）")]
    pub cycle_cut_pct: f64,
}

/// 三、试点示范项目情况.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PilotProject {
    #[schemars(title = "项目名称", length(min = 1, max = 100))]
    pub name: String,
    #[schemars(title = "项目类别（表1.1-1.6）")]
    pub category: PilotCategory,
    // Tables 1.5 and 1.6 only.
    #[schemars(title = "细分类别")]
    #[serde(default)]
    #[schemars(description = "仅表 1.5、表 1.6 类别填写")]
    pub subtype: Option<PilotSubtype>,
    #[schemars(title = "要素条件满足情况", length(min = 1))]
    pub elements: Vec<Element>,
    // Table 1.1 element 3: automatic collection of process data.
    #[schemars(title = "生产工艺数据自动数采率（%）", range(min = 0.0, max = 100.0))]
    #[serde(default)]
    #[schemars(description = "表 1.1 要素 3：生产过程数据自动采集率（%）")]
    pub data_collection_pct: Option<f64>,
    // Table 1.1 element 3: automatic-control use.
    #[schemars(title = "工厂自控投用率（%）", range(min = 0.0, max = 100.0))]
    #[serde(default)]
    #[schemars(description = "表 1.1 要素 3：自动控制投用率（%）")]
    pub auto_control_pct: Option<f64>,
    // Table 1.6(三) element 1: e-commerce share of main-business revenue.
    #[schemars(title = "电子商务销售收入占主营业务收入比重（%）", range(min = 0.0, max = 100.0))]
    #[serde(default)]
    #[schemars(description = "表 1.6（三）要素 1：电子商务收入占主营业务收入的比例（%）")]
    pub ecommerce_share_pct: Option<f64>,
    /// 项目已经建成.
    #[schemars(title = "项目已经建成")]
    pub built: bool,
    #[schemars(title = "项目概述", length(min = 1, max = 2000))]
    pub overview: String,
    #[schemars(title = "已获示范称号")]
    #[serde(default)]
    pub demonstration_titles: Vec<DemonstrationTitle>,
    #[schemars(title = "项目的先进性", length(min = 1, max = 2000))]
    pub advancement: String,
    #[schemars(title = "项目自主安全可控性", length(min = 1, max = 2000))]
    pub autonomy: String,
    #[schemars(title = "项目实施方案", length(min = 1, max = 2000))]
    pub implementation: String,
    #[schemars(title = "项目实施经济性分析", length(min = 1, max = 2000))]
    pub economics: String,
    #[schemars(title = "项目实施成效")]
    pub results: PilotResults,
    #[schemars(title = "项目示范带动作用", length(min = 1, max = 2000))]
    pub demonstration_value: String,
}

/// 附件 2.3 申报书 (智能制造试点示范领域).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "广东省智能制造生态合作伙伴申报书（附件2.3）")]
pub struct Form23 {
    #[schemars(title = "加入方式")]
    pub route: Route,
    #[schemars(title = "直接认定资质")]
    #[serde(default)]
    pub direct: Option<DirectBasis>,
    #[schemars(title = "基本情况")]
    pub basic: BasicInfo,
    #[schemars(title = "所处行业", length(min = 1, max = 100))]
    pub industry: String,
    #[schemars(title = "行业代码", length(min = 1, max = 50))]
    pub industry_code: String,
    #[schemars(title = "企业类型")]
    pub enterprise_type: EnterpriseType,
    #[schemars(title = "上市情况")]
    pub listing: Listing,
    #[schemars(title = "研发人员数（人）")]
    pub rd_staff: u32,
    #[schemars(title = "经营情况（近三年）", length(min = 1))]
    pub economics: Vec<YearEconomics>,
    #[schemars(title = "相关资质或认定情况")]
    #[serde(default)]
    pub qualifications: Vec<QualificationRow>,
    #[schemars(title = "知识产权情况")]
    #[serde(default)]
    pub ip: IntellectualProperty,
    #[schemars(title = "真实性承诺声明")]
    pub commitment: Commitment,
    #[schemars(title = "单位简介", length(min = 1, max = 2000))]
    pub introduction: String,
    #[schemars(title = "试点示范项目情况")]
    pub pilot: PilotProject,
    #[schemars(title = "承担政府项目情况")]
    #[serde(default)]
    pub government_projects: Vec<GovernmentProject>,
    #[schemars(title = "典型案例")]
    #[serde(default)]
    pub cases: Vec<Case>,
}
