// A minimal complete program in JavaScript — the author guide's example (plugins/README.md).
//
// One form in two sections, two rules, one quota, a two-step review (city → decided).
// The same program is written in Rust (`../rust`) and Python (`../python`);
// the test suite builds all three and requires the same manifest and findings.

import { BLOCKING, Checker, Program, exportProgram, msg, path, rulesJson, wan, wanEn } from "../../sdk-js/shenbao.js";
import { Field, form } from "../../sdk-js/forms.js";
import { Type } from "../../sdk-js/typebox.js";

// The rule table: one row per machine-checkable clause — id, severity, clause, zh, en.
const RULES = [
  ["minimal.staff.min-20", BLOCKING, "示例通知 第三条", "研发人员不少于 20 人", "at least 20 R&D staff"],
  ["minimal.grant.max-50", BLOCKING, "示例通知 第五条", "申请资助不超过 50 万元", "a grant of at most 500,000 yuan"],
];

// The form, as TypeBox types: the SDK derives its JSON Schema, and the kernel validates data
// against it before `check` runs. Each section is a named type (`$id`) of its own: it renders
// as a titled group.
// A choice: each option is a value and its label (the summary table shows the label).
const Kind = Type.Union([
  Type.Literal("new-product", { title: "新产品研发" }),
  Type.Literal("process-improvement", { title: "工艺改进" }),
], { $id: "Kind" });

const Project = Type.Object({
  // `x-project-key`: the project's name, as reviewers' lists show it.
  name: Type.String({ title: "项目名称", minLength: 1, maxLength: 60, "x-project-key": true }),
  kind: Type.Ref(Kind, { title: "项目类别" }),
  grant: Field.wan({ title: "申请资助金额（万元）", minimum: 0 }),
}, { $id: "Project" });

const Team = Type.Object({
  rd_staff: Field.u32({ title: "研发人员数（人）" }),
  lead: Type.String({ title: "项目负责人", minLength: 1, maxLength: 30 }),
}, { $id: "Team" });

const MainForm = Type.Object({
  project: Type.Ref(Project, { title: "项目信息" }),
  team: Type.Ref(Team, { title: "研发团队" }),
}, { title: "研发团队小额资助申报表" });

const text = (zh, en) => ({ zh, en });

// The review path: the applicant drafts and submits, the city recommends (within its quota)
// or not, and the application ends passed or not passed.
const GRAPH = {
  initial: "draft",
  stages: [
    { id: "draft", title: text("申报人填报", "applicant drafting"), kind: "draft", role: "applicant", scope: "own-organisation", window: "applicant" },
    { id: "city-review", title: text("市级审核", "city review"), kind: "review", role: "city-officer", scope: "city", sla_working_days: 10, window: "city" },
    { id: "passed", title: text("通过", "passed"), kind: "terminal", scope: "province", outcome: "passed" },
    { id: "not-passed", title: text("不通过", "not passed"), kind: "terminal", scope: "province", outcome: "not-passed" },
  ],
  actions: [
    { id: "save-draft", title: text("保存草稿", "save draft"), kind: "save-draft", from_stages: ["draft"], to: "stay", roles: ["applicant"], scope: "own-organisation", opinion: "none" },
    { id: "submit", title: text("提交", "submit"), kind: "submit", from_stages: ["draft"], to: "next", roles: ["applicant"], scope: "own-organisation", opinion: "none", runs_check: true },
    { id: "city-recommend", title: text("市级推荐", "city recommends"), kind: "recommend", from_stages: ["city-review"], to: { stage: "passed" }, roles: ["city-officer"], scope: "city", opinion: "required", batch: true },
    { id: "city-not-recommend", title: text("市级不推荐", "city does not recommend"), kind: "not-recommend", from_stages: ["city-review"], to: { stage: "not-passed" }, roles: ["city-officer"], scope: "city", opinion: "required" },
    { id: "city-return", title: text("退回修改", "return for changes"), kind: "return", from_stages: ["city-review"], to: "previous", roles: ["city-officer"], scope: "city", opinion: "required" },
  ],
};

class Minimal extends Program {
  manifest() {
    return {
      program: "minimal",
      name: text("研发团队小额资助（示例）", "small grants for R&D teams (example)"),
      version: "0.1.0",
      editions: [{ id: "2026", year: 2026, title: text("2026 年度", "2026") }],
      default_edition: "2026",
      forms: [form("main", text("申报表", "application form"), MainForm, { defs: [Project, Team, Kind] })],
      directions: [{
        id: "general", title: text("研发团队", "R&D teams"), form: "main", handled_by: ["diit"],
        attachments: [{ id: "business-licence", title: text("营业执照", "business licence"), min_count: 1 }],
      }],
      rules: rulesJson(RULES),
      expert_items: [{ id: "minimal.expert.feasibility", clause: "示例通知 第四条", title: text("项目可行性", "feasibility of the project") }],
      quotas: [{
        id: "city-cap", title: text("每市推荐不超过 5 项", "at most 5 per city"),
        action: "city-recommend", group_by: "city", default_limit: 5,
        message: text("{scope} 已推荐 {used} 项，上限 {limit} 项", "{scope} has recommended {used} of {limit}"),
      }],
      graph: GRAPH,
      summary: {
        title: text("推荐汇总表", "recommendation summary"),
        columns: [
          { title: text("序号", "rank"), source: "rank" },
          { title: text("申报单位", "applicant"), source: "applicant:name" },
          { title: text("项目名称", "project"), source: "/project/name" },
          { title: text("项目类别", "kind"), source: "/project/kind" },
        ],
      },
    };
  }

  check(req) {
    const form = req.formData();
    const c = new Checker(RULES);
    const staff = form.team.rd_staff;
    c.ensure("minimal.staff.min-20", path("team", "rd_staff"), staff >= 20, () =>
      msg(`研发人员 ${staff} 人，要求不少于 20 人`, `${staff} R&D staff, at least 20 required`));
    const grant = form.project.grant;
    c.ensure("minimal.grant.max-50", path("project", "grant"), grant <= 50, () =>
      msg(`申请资助 ${wan(grant)}，要求不超过 50 万元`, `a grant of ${wanEn(grant)} asked, at most 500,000 yuan`));
    return c.finish();
  }
}

export const plugin = exportProgram(new Minimal());
