// The seed platform's approval path as a graph builder — the Rust SDK's `PlatformGraph` in
// JavaScript, with the same stage and action ids (the differential test holds the three
// languages to one graph):
//
//   applicant → (district) → city → province → (experts) → (public notice) → decision,
//   with an optional resource library afterwards.
//
//   import { platformGraph } from "./graph.js";
//   const GRAPH = platformGraph({ citySla: 10, expertReview: 5, publicNotice: 5,
//     library: { annualDue: [3, 31], rectifyMonths: 6, banMonths: 36 }, routes: [...] });
//
// Stages: `draft`, `district-review` (optional: each city switches it on), `city-review`,
// `province-review`, `expert-review`, `public-notice`, then `passed` — or `library` and
// `rectifying` with a library — and `not-passed` (with a library also `removed`,
// `removed-for-cause`, `exited`).
//
// Actions: `save-draft`, `submit`; per review level L in `district`, `city`: `L-recommend`,
// `L-not-recommend`, `L-return`, `L-withdraw`, `L-rank`; the province's `province-recommend`
// / `province-not-recommend` (when experts or a notice follow), `province-return`;
// `assign-experts`, `score`; `publish-notice`, `object`, `resolve-objection`; `approve`,
// `reject`; with a library `annual-report`, `warn`, `rectified`, `remove`,
// `remove-for-cause`, `exit`.

const text = (zh, en) => ({ zh, en });

function stage(id, zh, en, kind, role, scope, more = {}) {
  const out = { id, title: text(zh, en), kind, scope };
  if (role !== null) out.role = role;
  for (const [k, v] of Object.entries(more)) if (v !== null && v !== undefined && v !== false) out[k] = v;
  return out;
}

const REQUIRED = new Set(["recommend", "not-recommend", "return", "decide", "warn", "remove"]);
const OPTIONAL = new Set(["withdraw", "resolve-objection", "object", "exit"]);

function action(id, zh, en, kind, fromStages, to, roles, scope, more = {}) {
  const out = {
    id, title: text(zh, en), kind, from_stages: [...fromStages], to, roles: [...roles], scope,
    opinion: REQUIRED.has(kind) ? "required" : OPTIONAL.has(kind) ? "optional" : "none",
  };
  if (kind === "recommend") out.batch = true;
  if (kind === "submit") out.runs_check = true;
  for (const [k, v] of Object.entries(more)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

/**
 * The graph (in the manifest's JSON shape) of the platform's path.
 * - `districtReview` (default true): a district stage each city may switch on (是否需要区县审核);
 * - `citySla`: working days the city has for its review;
 * - `expertReview` / `publicNotice`: that stage after the province, with its working days
 *   (0: no service level); left out, no such stage;
 * - `library`: `{ annualDue: [month, day], rectifyMonths, banMonths }` to keep admitted
 *   applications with yearly duties (enabling resources, 第十八至二十一条);
 * - `routes`: the program's routes (`{ id, title, when, skip }`), as written.
 */
const OPTIONS = ["districtReview", "citySla", "expertReview", "publicNotice", "library", "routes"];

export function platformGraph(options = {}) {
  const unknown = Object.keys(options).filter((k) => !OPTIONS.includes(k));
  if (unknown.length > 0) {
    throw new Error(`platformGraph: unknown option ${JSON.stringify(unknown[0])}; the options are ${OPTIONS.join(", ")}`);
  }
  if (options.library) {
    const lib = Object.keys(options.library).filter((k) => !["annualDue", "rectifyMonths", "banMonths"].includes(k));
    if (lib.length > 0) {
      throw new Error(`platformGraph: unknown library option ${JSON.stringify(lib[0])}; ` +
        "the options are annualDue ([month, day]), rectifyMonths, banMonths");
    }
  }
  const {
    districtReview = true, citySla = null, expertReview = null, publicNotice = null, library = null, routes = [],
  } = options;
  const days = (name, v) => {
    if (v !== null && v !== undefined && !(Number.isInteger(v) && v >= 0)) {
      throw new Error(`platformGraph: ${name} is working days, a whole number ≥ 0 (or left out), not ${JSON.stringify(v)}`);
    }
  };
  if (typeof districtReview !== "boolean") throw new Error("platformGraph: districtReview is true or false");
  days("citySla", citySla);
  days("expertReview", expertReview);
  days("publicNotice", publicNotice);
  if (library !== null && library !== undefined) {
    const ok = typeof library === "object" && Array.isArray(library.annualDue) && library.annualDue.length === 2
      && Number.isInteger(library.rectifyMonths) && Number.isInteger(library.banMonths);
    if (!ok) {
      throw new Error("platformGraph: library is { annualDue: [month, day], rectifyMonths, banMonths } (whole numbers)");
    }
  }
  if (!Array.isArray(routes)) throw new Error("platformGraph: routes is a list of { id, title, when, skip }");
  const hasExperts = expertReview !== null && expertReview !== undefined;
  const hasNotice = publicNotice !== null && publicNotice !== undefined;
  const stages = [stage("draft", "申报人申报", "applicant drafting", "draft", "applicant", "own-organisation",
    { window: "applicant" })];
  const levels = [];
  if (districtReview) {
    stages.push(stage("district-review", "区县审核", "district review", "review", "district-officer", "district",
      { optional: true, window: "district" }));
    levels.push(["district", "区县", "district", ["district-officer"], "district"]);
  }
  stages.push(stage("city-review", "市级审核", "city review", "review", "city-officer", "city",
    { window: "city", sla_working_days: citySla }));
  levels.push(["city", "地市", "city", ["city-officer", "city-leader"], "city"]);
  stages.push(stage("province-review", "省级审核", "province review", "review", "province-officer", "province",
    { window: "province" }));
  if (hasExperts) {
    stages.push(stage("expert-review", "专家评审", "expert review", "expert", "province-officer", "province",
      { sla_working_days: expertReview || null }));
  }
  if (hasNotice) {
    stages.push(stage("public-notice", "公示", "public notice", "notice", "province-officer", "province",
      { sla_working_days: publicNotice || null }));
  }
  if (library) {
    stages.push(stage("library", "入库", "in the library", "library", "province-officer", "province"));
    stages.push(stage("rectifying", "预警整改", "warned, rectifying", "library", "province-officer", "province"));
  }
  const admitted = library ? "library" : "passed";
  const terminal = (id, zh, en, outcome) => stage(id, zh, en, "terminal", null, "province", { outcome });
  if (!library) stages.push(terminal("passed", "通过", "passed", "passed"));
  stages.push(terminal("not-passed", "不通过", "not passed", "not-passed"));
  if (library) {
    stages.push(terminal("removed", "移出资源库", "removed from the library", "removed"));
    stages.push(terminal("removed-for-cause", "移出资源库（三年内不得申报）", "removed for cause, barred from applying",
      "removed"));
    stages.push(terminal("exited", "主动退出", "exited voluntarily", "exited"));
  }

  const to = (s) => ({ stage: s });
  const own = "own-organisation";
  const actions = [
    action("save-draft", "保存草稿", "save draft", "save-draft", ["draft"], "stay", ["applicant"], own),
    action("submit", "提交", "submit", "submit", ["draft"], "next", ["applicant"], own),
  ];
  const reviewIds = stages.filter((s) => s.kind === "review").map((s) => s.id);
  levels.forEach(([prefix, zh, en, roles, scope], i) => {
    const here = `${prefix}-review`;
    const start = reviewIds.indexOf(here) + 1;
    // Stages an application can sit at after this level recommended it.
    const after = reviewIds.slice(start, start + (i + 1 < levels.length ? 2 : 1));
    actions.push(
      action(`${prefix}-recommend`, `${zh}推荐`, `${en} recommends`, "recommend", [here], "next", roles, scope),
      action(`${prefix}-not-recommend`, `${zh}不推荐`, `${en} does not recommend`, "not-recommend", [here],
        to("not-passed"), roles, scope),
      action(`${prefix}-return`, `${zh}回退`, `${en} returns`, "return", [here], "previous", roles, scope),
      action(`${prefix}-withdraw`, `${zh}撤回`, `${en} withdraws its decision`, "withdraw", after, "previous", roles,
        scope),
      action(`${prefix}-rank`, `${zh}推荐排序`, `${en} ranks its recommendations`, "rank", after, "stay", roles, scope),
    );
  });
  const p = ["province-officer"];
  const ids = stages.map((s) => s.id);
  const afterProvince = ids[ids.indexOf("province-review") + 1];
  const decideFrom = hasNotice ? "public-notice" : hasExperts ? "expert-review" : "province-review";
  if (afterProvince === "expert-review" || afterProvince === "public-notice") {
    actions.push(
      action("province-recommend", "省级推荐", "province recommends", "recommend", ["province-review"], "next", p,
        "province"),
      action("province-not-recommend", "省级不推荐", "province does not recommend", "not-recommend",
        ["province-review"], to("not-passed"), p, "province"),
    );
  }
  actions.push(action("province-return", "省级回退", "province returns", "return", ["province-review"], "previous", p,
    "province"));
  if (hasExperts) {
    actions.push(
      action("assign-experts", "分配专家", "assign experts", "assign-experts", ["expert-review"], "stay", p, "province"),
      action("score", "专家评分", "expert scores", "score", ["expert-review"], "stay", ["expert"], "assigned"),
    );
  }
  if (hasNotice) {
    const source = hasExperts ? "expert-review" : "province-review";
    actions.push(
      action("publish-notice", "发布公示", "publish the public notice", "publish-notice", [source],
        to("public-notice"), p, "province"),
      action("object", "公示异议", "file an objection", "object", ["public-notice"], "stay", ["public"], "public"),
      action("resolve-objection", "处理异议", "resolve an objection", "resolve-objection", ["public-notice"], "stay",
        p, "province"),
    );
  }
  actions.push(
    action("approve", "审定通过", "approve", "decide", [decideFrom], to(admitted), p, "province"),
    action("reject", "审定不通过", "reject", "decide", [decideFrom], to("not-passed"), p, "province"),
  );
  if (library) {
    const held = ["library", "rectifying"];
    const [month, day] = library.annualDue;
    actions.push(
      action("annual-report", "年度报告", "yearly report", "annual-report", held, "stay", ["applicant"], own,
        { annual_due: { month, day } }),
      action("warn", "预警", "warn", "warn", ["library"], to("rectifying"), p, "province",
        { deadline_months: library.rectifyMonths }),
      action("rectified", "整改完成", "rectified", "rectify", ["rectifying"], to("library"), p, "province"),
      // Removal after a failed rectification: no ban.
      action("remove", "移出", "remove", "remove", held, to("removed"), p, "province"),
      // Removal for a major accident, serious dishonesty or false materials: barred.
      action("remove-for-cause", "移出并限制申报", "remove and bar from applying", "remove", held,
        to("removed-for-cause"), p, "province", { ban_months: library.banMonths }),
      action("exit", "主动退出", "voluntary exit", "exit", held, to("exited"), p, "province"),
    );
  }
  return { initial: "draft", stages, actions, routes: [...routes] };
}
