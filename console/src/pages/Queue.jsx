// 审核队列: the caller's lists by tab — 待审核 (optionally one stage), 已推荐,
// 退回待提交, 不受理 — page by page (GET …/queue?view=); in 待审核 several can be recommended at once with one opinion
// (批量推荐), and the quota figures stay in view.
import { useRef, useState } from "react";
import { post } from "../api.js";
import { Problem, stageTitle, useApi, useRegionNames, when, zh } from "../common.jsx";

const VIEWS = [
  { id: "pending", title: "待审核" },
  { id: "recommended", title: "已推荐" },
  { id: "returned", title: "退回待提交" },
  { id: "not-recommended", title: "不受理" },
];
const PAGE = 50;

export function Queue({ user, round: rid }) {
  const r = encodeURIComponent(rid);
  const loaded = useApi([`/v1/rounds/${r}`, `/v1/rounds/${r}/quotas`], [rid]);
  const place = useRegionNames();
  const [view, setView] = useState("pending");
  const [stage, setStage] = useState("");
  // The cursors of the pages before this one (paging back) and of this one.
  const [cursors, setCursors] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [refresh, setRefresh] = useState(0);
  // What is picked is on the page in view: another page, stage or tab starts afresh.
  const turn = (next) => {
    setCursor(next.cursor);
    setCursors(next.cursors);
    setPicked(new Set());
  };
  const pageUrl =
    `/v1/rounds/${r}/queue?view=${view}&limit=${PAGE}` +
    (stage && view === "pending" ? `&stage=${encodeURIComponent(stage)}` : "") +
    (cursor ? `&after=${encodeURIComponent(cursor)}` : "");
  const page = useApi(pageUrl, [pageUrl, refresh]);
  const [picked, setPicked] = useState(new Set());
  const [opinion, setOpinion] = useState("");
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState(null);
  const tabs = useRef([]);
  if (loaded.error) return <Problem error={loaded.error} />;
  if (!loaded.data) return <p>正在加载…</p>;
  const [round, quotas] = loaded.data;
  const roles = new Set(user.grants.filter((g) => ["district", "city", "province"].includes(g.scope?.level)).map((g) => g.role));
  // The stages the caller's roles own (as the kernel's lists count them).
  const myStages = round.graph.stages.filter((s) => roles.has(s.role));
  const items = page.data?.items ?? [];
  const batchActions =
    view === "pending"
      ? round.graph.actions.filter(
          (a) => a.batch && a.roles.some((x) => roles.has(x)) && items.some((i) => a.from_stages.includes(i.stage)),
        )
      : [];
  const go = (v) => {
    setView(v);
    setCursor(null);
    setCursors([]);
    setPicked(new Set());
  };
  // Arrow keys move between the tabs (WAI-ARIA tabs pattern).
  const onTabKey = (e, i) => {
    const n = VIEWS.length;
    const to = e.key === "ArrowRight" ? (i + 1) % n : e.key === "ArrowLeft" ? (i + n - 1) % n : e.key === "Home" ? 0 : e.key === "End" ? n - 1 : null;
    if (to === null) return;
    e.preventDefault();
    go(VIEWS[to].id);
    tabs.current[to]?.focus();
  };
  // Every quota of the round where it applies to the caller (its own region), with
  // what is used — 0 before the first recommendation.
  const quotaRows = [];
  for (const def of round.quotas) {
    const scopes = new Set(quotas.filter((q) => q.quota === def.id).map((q) => q.scope));
    for (const g of user.grants) {
      if (g.scope?.id && g.scope.level === def.group_by) scopes.add(g.scope.id);
      // A quota per city group (珠三角): the group of the officer's city.
      const group = g.scope?.level === "city" && place.region(g.scope.id)?.group;
      if (def.group_by === "city-group" && group) scopes.add(group);
    }
    if (scopes.size === 0) for (const l of def.limits ?? []) scopes.add(l.scope);
    for (const scope of scopes) {
      const used = quotas.find((q) => q.quota === def.id && q.scope === scope)?.used ?? 0;
      quotaRows.push({ def, scope, used });
    }
  }
  async function batch(a) {
    setProblem(null);
    setDone(null);
    try {
      const rs = await post(`/v1/rounds/${r}/batch`, {
        applications: [...picked],
        request: { action: a.id, opinion: opinion || undefined },
      });
      setDone(`已${zh(a.title)} ${rs.length} 项`);
      setPicked(new Set());
      setOpinion("");
      loaded.reload();
      setRefresh((x) => x + 1);
    } catch (e) {
      setProblem(e);
    }
  }
  const direction = (id) => zh(round.directions.find((d) => d.id === id)?.title) || "—";
  return (
    <section aria-labelledby="queue">
      <h2 id="queue">审核队列</h2>
      {quotaRows.length > 0 && (
        <table className="quotas" aria-label="名额">
          <thead>
            <tr>
              <th>名额</th>
              <th>范围</th>
              <th>已用</th>
              <th>上限</th>
            </tr>
          </thead>
          <tbody>
            {quotaRows.map(({ def, scope, used }) => (
              <tr key={`${def.id}/${scope}`}>
                <td>{zh(def.title) || def.id}</td>
                <td>{place(scope)}</td>
                <td>{used}</td>
                <td>{limitOf(def, scope) ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div role="tablist" className="tabs" aria-label="审核队列">
        {VIEWS.map((v, i) => (
          <button
            key={v.id}
            id={`tab-${v.id}`}
            ref={(el) => (tabs.current[i] = el)}
            role="tab"
            aria-selected={v.id === view}
            aria-controls="queue-panel"
            tabIndex={v.id === view ? 0 : -1}
            type="button"
            onClick={() => go(v.id)}
            onKeyDown={(e) => onTabKey(e, i)}
          >
            {v.title}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="queue-panel" aria-labelledby={`tab-${view}`}>
        {view === "pending" && myStages.length > 1 && (
          <label>
            环节
            <select
              value={stage}
              onChange={(e) => {
                setStage(e.target.value);
                turn({ cursor: null, cursors: [] });
              }}
            >
              <option value="">全部环节</option>
              {myStages.map((s) => (
                <option key={s.id} value={s.id}>
                  {zh(s.title)}
                </option>
              ))}
            </select>
          </label>
        )}
        <Problem error={page.error} />
        {!page.data ? (
          <p>正在加载…</p>
        ) : items.length === 0 ? (
          <p>{cursor ? "没有更多了。" : view === "pending" ? "没有待办的申报。" : "暂无。"}</p>
        ) : (
          <table>
            <thead>
              <tr>
                {view === "pending" && <th>选择</th>}
                <th>编号</th>
                <th>申报单位</th>
                <th>项目名称</th>
                <th>申报方向</th>
                <th>地市</th>
                <th>区县</th>
                <th>当前环节</th>
                <th>提交时间</th>
                <th>办理期限</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.application} className={i.overdue ? "overdue-row" : ""}>
                  {view === "pending" && (
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`选择 ${i.application}`}
                        checked={picked.has(i.application)}
                        onChange={(e) => {
                          const next = new Set(picked);
                          e.target.checked ? next.add(i.application) : next.delete(i.application);
                          setPicked(next);
                        }}
                      />
                    </td>
                  )}
                  <td>
                    <a href={`#/app/${encodeURIComponent(i.application)}`}>{i.application}</a>
                  </td>
                  <td>{i.applicant_name ?? i.applicant}</td>
                  <td>{i.project_name ?? "—"}</td>
                  <td>{direction(i.direction)}</td>
                  <td>{place(i.city)}</td>
                  <td>{i.district ? place(i.district) : "—"}</td>
                  <td>{stageTitle(round, i.stage)}</td>
                  <td>{i.submitted_at ? when(i.submitted_at) : "—"}</td>
                  <td className={i.overdue ? "overdue" : ""}>
                    {i.due ?? "—"}
                    {i.overdue && "（已超期）"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <nav className="pager" aria-label="翻页">
          <button
            type="button"
            disabled={cursors.length === 0 && !cursor}
            onClick={() => turn({ cursor: cursors.at(-1) ?? null, cursors: cursors.slice(0, -1) })}
          >
            上一页
          </button>
          <button
            type="button"
            disabled={!page.data?.next}
            onClick={() => turn({ cursor: page.data.next, cursors: [...cursors, cursor] })}
          >
            下一页
          </button>
        </nav>
      </div>
      {batchActions.length > 0 && items.length > 0 && (
        <fieldset>
          <legend>批量办理（已选 {picked.size} 项）</legend>
          <label>
            审核意见
            <textarea value={opinion} onChange={(e) => setOpinion(e.target.value)} rows={2} />
          </label>
          {batchActions.map((a) => (
            <button key={a.id} type="button" disabled={picked.size === 0} onClick={() => batch(a)}>
              批量{zh(a.title)}
            </button>
          ))}
        </fieldset>
      )}
      {done && <p role="status">{done}</p>}
      <Problem error={problem} />
      {summaryLevel(user) && (
        <p>
          下载{LEVEL_ZH[summaryLevel(user)]}推荐汇总表：
          <a href={`/v1/rounds/${r}/summary?level=${summaryLevel(user)}&format=xlsx`} download>
            Excel
          </a>
          {" · "}
          <a href={`/v1/rounds/${r}/summary?level=${summaryLevel(user)}&format=csv`} download>
            CSV
          </a>
        </p>
      )}
    </section>
  );
}

const LEVEL_ZH = { district: "区县", city: "地市", province: "省级" };

/** The summary level a reviewer exports: its own (the highest it holds). */
function summaryLevel(user) {
  const levels = user.grants.map((g) => g.scope?.level);
  if (levels.includes("province")) return "province";
  if (levels.includes("city")) return "city";
  if (levels.includes("district")) return "district";
  return null;
}

function limitOf(def, scope) {
  if (def?.limits) return def.limits.find((l) => l.scope === scope)?.limit ?? def.default_limit ?? null;
  const l = def?.limit;
  if (!l) return null;
  if (typeof l === "number") return l;
  if (l.per_scope) return l.per_scope[scope] ?? l.default ?? null;
  return l.fixed ?? l.default ?? null;
}
