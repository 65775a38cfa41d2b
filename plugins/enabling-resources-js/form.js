// 赋能资源申报表 (第九条) — the form as TypeBox types; the SDK's `formSchema` turns them into the
// same JSON Schema the Rust program derives from its `ResourceForm` (the differential test
// holds the three languages to one manifest).

import { Type } from "../sdk-js/typebox.js";
import { Field } from "../sdk-js/forms.js";

const choice = (id, options, more = {}) =>
  Type.Union(options.map(([value, title]) => Type.Literal(value, { title })), { $id: id, ...more });

export const Scope = choice("Scope", [
  ["ai-application", "人工智能应用赋能"],
  ["rd-innovation", "研发创新"],
  ["manufacturing", "制造生产"],
  ["brand", "品牌建设"],
  ["market-sales", "市场销售"],
  ["comprehensive", "综合赋能"],
], { description: "按申报通知第五条选择一个赋能范围" });

export const YearRevenue = Type.Object({
  year: Field.u32({ title: "年度", minimum: 2000, maximum: 2100 }),
  revenue: Field.wan({ title: "营业收入（万元）", description: "该年度营业收入，单位：万元" }),
}, { $id: "YearRevenue" });

export const IpKind = choice("IpKind", [
  ["invention-patent", "发明专利"],
  ["utility-model", "实用新型专利"],
  ["software-copyright", "软件著作权"],
]);

export const IpItem = Type.Object({
  kind: Type.Ref(IpKind, { title: "类型" }),
  name: Type.String({ title: "名称", minLength: 1, maxLength: 100 }),
  number: Type.String({ title: "证书号", minLength: 1, maxLength: 50 }),
  granted_on: Field.date({ title: "授权日期" }),
}, { $id: "IpItem" });

export const StandardLevel = choice("StandardLevel", [
  ["national", "国家标准"],
  ["industry", "行业标准"],
  ["local", "地方标准"],
]);

export const StandardItem = Type.Object({
  level: Type.Ref(StandardLevel, { title: "标准级别" }),
  name: Type.String({ title: "标准名称", minLength: 1, maxLength: 200 }),
}, { $id: "StandardItem" });

export const Case = Type.Object({
  customer: Type.String({ title: "服务客户", minLength: 1, maxLength: 100 }),
  implementation: Type.String({ title: "实施内容", minLength: 1, maxLength: 2000 }),
  results: Type.String({ title: "实施成效", minLength: 1, maxLength: 2000 }),
  // Customer feedback; required by 第九条(二).
  feedback: Type.String({
    title: "客户反馈", description: "客户对实施成效的反馈（第九条（二）要求每个案例附客户反馈）", maxLength: 1000, default: "",
  }),
  feedback_on: Type.Optional(Field.date({ title: "反馈日期" })),
}, { $id: "Case" });

export const Commitment = Type.Object({
  no_major_accident_3y: Type.Boolean({ title: "申报截止日前3年内未发生重大（含）以上安全生产、环境保护、产品质量事故" }),
  not_seriously_dishonest: Type.Boolean({ title: "未列入严重失信主体名单" }),
  truthful: Type.Boolean({ title: "申报材料真实、准确、完整" }),
}, { $id: "Commitment", description: "逐条确认承诺内容；签字盖章的承诺书另作附件上传（第九条（五））" });

export const ResourceForm = Type.Object({
  // `x-public`: shown in the public notice (公示); `x-project-key`: the project's name, as
  // reviewers' lists and the applicant's projects show it.
  resource_name: Type.String({ title: "资源名称", minLength: 1, maxLength: 100, "x-public": true, "x-project-key": true }),
  scope: Type.Ref(Scope, { title: "赋能范围" }),
  key_industries: Type.Array(Type.String({ maxLength: 50 }), { title: "重点赋能行业", minItems: 1 }),
  summary: Type.String({ title: "技术简介", minLength: 1, maxLength: 2000 }),
  business_since: Field.date({
    title: "从事相关业务起始日期", description: "开始从事本资源相关业务的日期（第七条（一）：一般须满 2 年）",
  }),
  revenue: Type.Array(Type.Ref(YearRevenue), { title: "近两年营业收入" }),
  ip: Type.Array(Type.Ref(IpItem), { title: "核心知识产权", default: [] }),
  // An own service system, method or operating model, where there is no IP.
  own_method: Type.String({
    title: "自有服务体系、方法或运营模式", description: "没有核心知识产权的，填写自有的服务体系、方法或运营模式", maxLength: 2000,
    default: "",
  }),
  standards: Type.Array(Type.Ref(StandardItem), { title: "参与制定的标准", default: [] }),
  cases: Type.Array(Type.Ref(Case), { title: "典型案例" }),
  commitment: Type.Ref(Commitment, { title: "承诺书" }),
}, { title: "广东省制造业赋能资源申报表", description: "请逐项如实填写，标 * 的为必填项" });

/** The named schemas the form refers to (its `$defs`). */
export const DEFS = [Scope, YearRevenue, IpKind, IpItem, StandardLevel, StandardItem, Case, Commitment];
