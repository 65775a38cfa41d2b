// 审核队列: the applications waiting at the stages the caller reviews, by stage
// tab, page by page; several can be recommended at once with one opinion
// (批量推荐), and the quota figures stay in view.
import { useState } from "react";
import { ApiError, get, post } from "../api.js";
import { Problem, stageTitle, useApi, useRegionNames, zh } from "../common.jsx";

export function Queue({ user, round: rid }) {
  const r = encodeURIComponent(rid);
  const loaded = useApi([`/v1/rounds/${r}`, `/v1/rounds/${r}/queue?limit=500`, `/v1/rounds/${r}/quotas`], [rid]);
  const place = useRegionNames();
  const [tab, setTab] = useState(null);
  const [picked, setPicked] = useState(new Set());
  const [opinion, setOpinion] = useState("");
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState(null);
  if (loaded.error) return <Problem error={loaded.error} />;
  if (!loaded.data) return <p>正在加载…</p>;
  const [round, page, quotas] = loaded.data;
  const stages = [...new Set(page.items.map((i) => i.stage))];
  const current = tab ?? stages[0];
  const items = page.items.filter((i) => i.stage === current);
  const batchActions = round.graph.actions.filter((a) => a.batch && a.from_stages.includes(current));
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
      loaded.reload();
    } catch (e) {
      setProblem(e);
    }
  }
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
      <div role="tablist" className="tabs">
        {stages.map((s) => (
          <button key={s} role="tab" aria-selected={s === current} type="button" onClick={() => setTab(s)}>
            {stageTitle(round, s)}（{page.items.filter((i) => i.stage === s).length}）
          </button>
        ))}
      </div>
      {items.length === 0 ? (
        <p>没有待办的申报。</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>选择</th>
              <th>编号</th>
              <th>城市</th>
              <th>区县</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.application}>
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
                <td>
                  <a href={`#/app/${encodeURIComponent(i.application)}`}>{i.application}</a>
                </td>
                <td>{place(i.city)}</td>
                <td>{place(i.district)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
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
