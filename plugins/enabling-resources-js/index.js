// 广东省制造业赋能资源 — manufacturing enabling resources (seed 002), in JavaScript.
//
// The same program as `plugins/enabling-resources` (Rust), rule by rule from
// `shared/programs/enabling-resources.md`, with the same rule ids, paths and messages;
// `tests/differential.rs` holds the three languages to identical findings.

import {
  BLOCKING, INFO, WARNING, Checker, Day, PluginError, Program, blank, exportProgram, hasTag, msg, path, quoted,
  rulesJson, wan,
} from "../sdk-js/shenbao.js";
import { form } from "../sdk-js/forms.js";
import { DEFS, ResourceForm } from "./form.js";
import { GRAPH } from "./graph.js";

const PROGRAM = "enabling-resources";
const FORM = "resource";

// ---------------------------------------------------------------- rule table

const RULES = [
  ["er.basic.not-seriously-dishonest", BLOCKING, "002 第四条(五)、第七条(五)",
    "未列入严重失信主体名单", "not on the list of seriously dishonest entities"],
  ["er.basic.no-major-accident-3y", BLOCKING, "002 第四条(四)、第九条(五)",
    "申报截止日前 3 年内未发生重大（含）以上安全生产、环境保护、产品质量事故（承诺）",
    "no major-or-worse safety, environmental or quality accident in the 3 years (committed)"],
  ["er.basic.truthfulness-commitment", BLOCKING, "002 第九条(五)",
    "承诺申报材料真实", "the applicant commits that the materials are true"],
  ["er.specific.not-abnormal-operation", BLOCKING, "002 第七条(五)",
    "未列入经营异常名录", "not on the abnormal-operation list"],
  ["er.history.not-banned-3y", BLOCKING, "002 第二十条、第二十一条",
    "因重大事故、严重失信或提供虚假材料被移出资源库或撤销的，3 年内不得申报",
    "removed or revoked for an accident, serious dishonesty or false materials: no application for 3 years"],
  ["er.route.innovation-platform-valid", BLOCKING, "002 第十七条",
    "直接入库的创新平台须经省级以上政府部门认定且在有效期内",
    "a platform entering directly must be recognised at provincial level or above and still valid"],
  ["er.scope.matches-direction", BLOCKING, "002 第五条",
    "申报表所填赋能范围与申报方向一致", "the form's scope is the application's direction"],
  ["er.specific.years-in-business-min-2", WARNING, "002 第七条(一)",
    "从事相关业务不少于 2 年（颠覆性、前沿突破可经省核实放宽）",
    "at least 2 years in the business (the province may relax it for breakthroughs)"],
  ["er.specific.revenue-two-years", BLOCKING, "002 第七条(二)",
    "填报近 2 年营业收入", "revenue of the last 2 years is given"],
  ["er.specific.revenue-avg-2y-min-1000", BLOCKING, "002 第七条(二)",
    "近 2 年年均营业收入不低于 1000 万元", "average yearly revenue over the last 2 years ≥ 1000 万元"],
  ["er.specific.revenue-exempt", INFO, "002 第七条(二)",
    "创新型中小企业、高校、科研院所、新型研发机构不受营业收入限制",
    "innovative SMEs, universities, research institutes and new R&D institutions are exempt from the revenue floor"],
  ["er.resource.core-ip-or-own-method", BLOCKING, "002 第六条(二)",
    "拥有核心知识产权或自有服务体系、方法、运营模式", "core IP, or an own service system/method/operating model"],
  ["er.cases.min-3", BLOCKING, "002 第九条(二)", "典型案例不少于 3 个", "at least 3 typical cases"],
  ["er.cases.feedback-required", BLOCKING, "002 第九条(二)", "每个案例附客户反馈", "each case carries customer feedback"],
  ["er.freshness.feedback-within-1y", BLOCKING, "002 第十二条",
    "用户反馈等证明材料为近 1 年内", "user feedback is dated within 1 year"],
  ["er.freshness.ip-within-5y", BLOCKING, "002 第十二条",
    "知识产权证书为近 5 年内授权", "IP certificates granted within 5 years"],
  ["er.materials.audit-report", BLOCKING, "002 第九条(四)",
    "提供上一年度经审计的财务报告（创新型中小企业、高校、科研院所可提供财务报表）",
    "last year's audited financial report (innovative SMEs, universities, institutes may give a financial statement)"],
];

// Qualification ids of innovation platforms that enter the library directly (第十七条).
const INNOVATION_PLATFORMS = [
  "manufacturing-innovation-centre",
  "industrial-design-centre",
  "enterprise-technology-centre",
  "engineering-research-centre",
  "key-laboratory",
];

// Tags that lift the revenue floor (第七条(二)).
const REVENUE_EXEMPT_TAGS = ["innovative-sme", "university", "research-institute", "new-rd-institution"];
const EXEMPT_ZH = {
  "innovative-sme": "创新型中小企业",
  "university": "高校",
  "research-institute": "科研院所",
  "new-rd-institution": "新型研发机构",
};

const SCOPES = [
  ["ai-application", "人工智能应用赋能", "AI application"],
  ["rd-innovation", "研发创新", "R&D innovation"],
  ["manufacturing", "制造生产", "manufacturing production"],
  ["brand", "品牌建设", "brand building"],
  ["market-sales", "市场销售", "market sales"],
  ["comprehensive", "综合赋能", "comprehensive"],
];

// The Chinese name of a scope (or direction) id, for messages.
const scopeZh = (id) => (SCOPES.find(([i]) => i === id) ?? [id, id])[1];

const attachment = (id, zh, en, min_count, rest = {}) => ({ id, title: { zh, en }, min_count, ...rest });

const ATTACHMENTS = [
  attachment("business-licence", "营业执照或事业单位法人证书", "business licence or public-institution certificate", 1),
  attachment("audit-report", "上一年度审计报告", "last year's audit report", 0, { max_age_months: 12 }),
  attachment("financial-statement", "财务报表", "financial statement", 0, { max_age_months: 12 }),
  attachment("certificate", "资质证书", "qualification certificate", 0, { must_be_valid: true }),
  attachment("ip-certificate", "知识产权证书", "IP certificate", 0, { max_age_months: 60 }),
  attachment("test-report", "检测报告", "test report", 0, { max_age_months: 24 }),
  attachment("customer-feedback", "用户反馈", "customer feedback", 0, { max_age_months: 12 }),
  attachment("commitment", "承诺书", "signed commitment", 1),
];

const column = (zh, en, source) => ({ title: { zh, en }, source });

class EnablingResources extends Program {
  manifest() {
    return {
      program: PROGRAM,
      name: { zh: "广东省制造业赋能资源", en: "Guangdong manufacturing enabling resources" },
      version: "0.1.0",
      editions: [{ id: "2025", year: 2025, title: { zh: "管理办法（送审稿）", en: "draft management measures" } }],
      default_edition: "2025",
      forms: [form(FORM, msg("赋能资源申报表", "enabling-resource application"), ResourceForm, { defs: DEFS })],
      directions: SCOPES.map(([id, zh, en]) => ({
        id, title: { zh, en }, form: FORM, handled_by: ["diit"], attachments: ATTACHMENTS,
      })),
      rules: rulesJson(RULES),
      signals: [{
        id: "er.signal.standards",
        clause: "002 第七条(三)",
        title: { zh: "参与国家、行业或地方标准制定，优先认定", en: "took part in national, industry or local standards: priority" },
      }],
      expert_items: [
        {
          id: "er.expert.technology-advanced", clause: "002 第七条(四)",
          title: { zh: "技术国内先进或省内领先，具备服务保障体系", en: "technology domestically advanced or provincially leading, with service assurance" },
        },
        {
          id: "er.expert.mature-and-promotable", clause: "002 第二条、第六条",
          title: { zh: "成熟、可推广，经济社会效益明显", en: "mature, promotable, with clear economic and social benefit" },
        },
      ],
      graph: GRAPH,
      summary: {
        title: { zh: "赋能资源推荐汇总表", en: "enabling-resource recommendation summary" },
        columns: [
          column("序号", "rank", "rank"),
          column("申报单位名称", "applicant", "applicant:name"),
          column("资源名称", "resource", "/resource_name"),
          column("赋能范围", "scope", "direction:title"),
        ],
      },
    };
  }

  check(req) {
    if (req.form !== FORM) {
      throw new PluginError("unknown-form", `未知的申报表“${req.form}”`, `unknown form ${quoted(req.form)}`);
    }
    const f = req.formData();
    const c = new Checker(RULES);
    const asOf = req.asOf;
    const applicant = req.applicant;

    // 第四条(五) / 第七条(五)
    c.ensure("er.basic.not-seriously-dishonest", "$applicant.dishonest", !applicant.dishonest, () =>
      msg("申报单位列入严重失信主体名单，不得申报", "the applicant is listed as seriously dishonest and cannot apply"));

    // 第五条: the form's scope is the direction
    const scope = f.scope;
    const direction = req.direction ?? "";
    c.ensure("er.scope.matches-direction", path("scope"), scope === direction, () =>
      msg(`申报表所填赋能范围“${scopeZh(scope)}”与申报方向“${scopeZh(direction)}”不一致`,
        `the form's scope ${quoted(scope)} differs from the direction ${quoted(direction)}`));
    // 第四条(四), 第九条(五)
    c.ensure("er.basic.no-major-accident-3y", path("commitment", "no_major_accident_3y"), f.commitment.no_major_accident_3y, () =>
      msg("未承诺申报截止日前 3 年内未发生重大（含）以上安全生产、环境保护、产品质量事故",
        "no commitment that there was no major-or-worse accident in the 3 years"));
    c.ensure("er.basic.truthfulness-commitment", path("commitment", "truthful"), f.commitment.truthful, () =>
      msg("未承诺申报材料真实、准确、完整", "no commitment that the materials are true"));
    // 第七条(五)
    c.ensure("er.specific.not-abnormal-operation", "$applicant.tags", !hasTag(applicant, "abnormal-operation"), () =>
      msg("申报单位列入经营异常名录，不得申报", "the applicant is on the abnormal-operation list"));

    // 第二十条(二)、第二十一条: removed (or recognition revoked) for cause within 3 years.
    for (const h of req.history) {
      const on = Day.of(h.decidedOn);
      if (h.program === PROGRAM && h.stage === "removed-for-cause" && on && on.withinYearsBefore(asOf, 3)) {
        const until = on.addYears(3);
        c.fail("er.history.not-banned-3y", "$history", msg(
          `申报单位的赋能资源（${h.application}）于 ${on} 被移出或撤销，${until} 前不得申报`,
          `the applicant's resource ${h.application} was removed or revoked on ${on}; no application before ${until}`));
        break;
      }
    }

    // 第十七条: a platform that enters directly must hold a valid recognition
    if (hasTag(applicant, "innovation-platform")) {
      const valid = applicant.qualifications.some((q) =>
        INNOVATION_PLATFORMS.includes(q.id) && (q.validUntil == null || Day.of(q.validUntil).compare(asOf) >= 0));
      c.ensure("er.route.innovation-platform-valid", "$applicant.qualifications", valid, () =>
        msg("申报单位按创新平台直接入库，但没有在有效期内的省级以上创新平台认定",
          "the applicant enters as an innovation platform but holds no valid provincial-or-higher recognition"));
    }

    // 第七条(一)
    const since = Day.of(f.business_since);
    const years = since.yearsUntil(asOf);
    c.ensure("er.specific.years-in-business-min-2", path("business_since"), years >= 2, () =>
      msg(`从事相关业务 ${years} 年（自 ${since}），要求不少于 2 年；如属颠覆性、前沿突破，需经省核实放宽`,
        `${years} year(s) in the business (since ${since}), at least 2 required unless the province grants the breakthrough exemption`));

    // 第七条(二)
    const wanted = [asOf.year - 1, asOf.year - 2];
    const lastTwo = [];
    for (const y of wanted) {
      const found = f.revenue.find((r) => r.year === y);
      if (found !== undefined) lastTwo.push(found.revenue);
    }
    const exempt = REVENUE_EXEMPT_TAGS.find((t) => hasTag(applicant, t));
    if (exempt !== undefined) {
      c.fail("er.specific.revenue-exempt", path("revenue"), msg(
        `申报单位属${EXEMPT_ZH[exempt]}，不受年均营业收入 1000 万元限制`,
        `the applicant is ${exempt}: exempt from the 1000 万元 revenue floor`));
    } else if (c.ensure("er.specific.revenue-two-years", path("revenue"), lastTwo.length === 2, () =>
      msg(`须填报 ${wanted[1]} 年和 ${wanted[0]} 年营业收入`, `revenue for ${wanted[1]} and ${wanted[0]} is required`))) {
      const avg = (lastTwo[0] + lastTwo[1]) / 2;
      c.ensure("er.specific.revenue-avg-2y-min-1000", path("revenue"), avg >= 1000.0, () =>
        msg(`近 2 年年均营业收入 ${wan(avg)}，要求不低于 1000 万元`,
          `average revenue over the last 2 years is ${wan(avg)}, at least 1000 万元 required`));
    }

    // 第六条(二)
    const ip = f.ip ?? [];
    c.ensure("er.resource.core-ip-or-own-method", path("ip"), ip.length > 0 || !blank(f.own_method ?? ""), () =>
      msg("未填报核心知识产权，也未说明自有服务体系、方法或运营模式",
        "neither core IP nor an own service system/method/model is given"));
    // 第十二条: IP granted within 5 years
    ip.forEach((item, i) => {
      const granted = Day.of(item.granted_on);
      const after = asOf.addYears(-5);
      c.ensure("er.freshness.ip-within-5y", path("ip", i, "granted_on"), granted.withinYearsBefore(asOf, 5), () =>
        msg(`知识产权“${item.name}”授权于 ${granted}，须为 ${after} 之后 5 年内授权`,
          `IP ${quoted(item.name)} was granted on ${granted}, must be granted within 5 years (after ${after})`));
    });

    // 第九条(二): at least 3 cases, each with customer feedback, feedback within 1 year
    const cases = f.cases;
    c.ensure("er.cases.min-3", path("cases"), cases.length >= 3, () =>
      msg(`典型案例 ${cases.length} 个，要求不少于 3 个`, `${cases.length} typical case(s), at least 3 required`));
    cases.forEach((item, i) => {
      const customer = item.customer;
      const feedbackOn = Day.of(item.feedback_on);
      if (c.ensure("er.cases.feedback-required", path("cases", i, "feedback"), !blank(item.feedback ?? "") && feedbackOn !== null, () =>
        msg(`案例“${customer}”缺少客户反馈或反馈日期`, `case ${quoted(customer)} lacks customer feedback or its date`))) {
        const after = asOf.addYears(-1);
        c.ensure("er.freshness.feedback-within-1y", path("cases", i, "feedback_on"), feedbackOn.withinYearsBefore(asOf, 1), () =>
          msg(`案例“${customer}”的客户反馈日期 ${feedbackOn}，须在近 1 年内（${after} 之后）`,
            `feedback of case ${quoted(customer)} is dated ${feedbackOn}, must be within 1 year (after ${after})`));
      }
    });

    // 第九条(四): audited report, or a statement for the exempt kinds
    const kinds = new Set(req.attachments.map((a) => a.kind));
    const statementOk = exempt !== undefined && kinds.has("financial-statement");
    c.ensure("er.materials.audit-report", "$attachments.audit-report", kinds.has("audit-report") || statementOk, () =>
      msg("缺少上一年度经审计的财务报告", "last year's audited financial report is missing"));

    // 第七条(三): standards give priority
    const levels = { national: [3, "国家标准"], industry: [2, "行业标准"], local: [1, "地方标准"] };
    for (const s of f.standards ?? []) {
      const [weight, zh] = levels[s.level];
      c.signal("er.signal.standards", weight, msg(`参与制定${zh}《${s.name}》`, `took part in standard ${quoted(s.name)}`));
    }
    return c.finish();
  }
}

export const plugin = exportProgram(new EnablingResources());
