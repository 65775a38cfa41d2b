// 申报详情: the application as the caller may read it, its handling record (办理记录),
// and the actions the caller may take now (from GET …/actions: exactly what the
// kernel would accept), each with what it needs (an opinion, a rank, a score …).
import { useState } from "react";
import { ApiError, post, serverNow } from "../api.js";
import { ProgramForm } from "../form.jsx";
import { Problem, stageTitle, useApi, when, zh } from "../common.jsx";
import { Apply } from "./Apply.jsx";

export function AppView({ user, id }) {
  const app = useApi(`/v1/applications/${encodeURIComponent(id)}`, [id]);
  // What the last action on this page did, kept across the reload it causes.
  const [notice, setNotice] = useState(null);
  if (app.error) return <Problem error={app.error} />;
  if (!app.data) return <p>正在加载…</p>;
  const done = (message) => {
    setNotice(message);
    app.reload();
  };
  return (
    <>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <Loaded user={user} app={app.data} done={done} />
    </>
  );
}

function Loaded({ user, app, done }) {
  const q = encodeURIComponent(app.id);
  const r = encodeURIComponent(app.round);
  const loaded = useApi([`/v1/rounds/${r}`, `/v1/rounds/${r}/forms/${encodeURIComponent(app.form)}`], [app.id, app.state.version]);
  const own = user.grants.some((g) => g.scope?.level === "organisation" && g.scope.id === app.applicant);
  if (loaded.error) return <Problem error={loaded.error} />;
  if (!loaded.data) return <p>正在加载…</p>;
  const [round, schema] = loaded.data;
  if (own && app.state.stage === round.graph.initial) {
    // A returned application: the form again, with why it came back.
    return (
      <>
        <Apply app={app} onSubmitted={done} />
        {app.state.trail.length > 1 && <History id={app.id} round={round} version={app.state.version} />}
      </>
    );
  }
  return (
    <section aria-labelledby="app">
      <h2 id="app">
        申报 {app.id}：{stageTitle(round, app.state.stage)}
      </h2>
      <dl className="facts">
        <dt>申报方向</dt>
        <dd>{zh(round.directions.find((d) => d.id === app.direction)?.title) || "—"}</dd>
        <dt>提交时间</dt>
        <dd>{app.submitted_at ? when(app.submitted_at) : "未提交"}</dd>
        {app.state.due && (
          <>
            <dt>本环节办理期限</dt>
            <dd className={app.state.due < when(serverNow()).slice(0, 10) ? "overdue" : ""}>{app.state.due}</dd>
          </>
        )}
        {app.state.warnings?.length > 0 && (
          <>
            <dt>待省级确认的警告</dt>
            <dd>{app.state.warnings.join("、")}</dd>
          </>
        )}
      </dl>
      <Actions app={app} round={round} onDone={done} />
      <h3>申报内容</h3>
      <ProgramForm schema={schema} data={app.data} disabled>
        <></>
      </ProgramForm>
      {app.attachments.length > 0 && (
        <>
          <h3>附件</h3>
          <ul>
            {app.attachments.map((a) => (
              <li key={a.id}>
                {zh(round.directions.flatMap((d) => d.attachments).find((t) => t.id === a.kind)?.title) || a.kind}：
                <a href={`/v1/applications/${q}/attachments/${a.sha256}`} download={a.name}>
                  {a.name}
                </a>{" "}
                （{formatSize(a.size)}{a.valid_until ? `，有效期至 ${a.valid_until}` : ""}）
              </li>
            ))}
          </ul>
        </>
      )}
      <History id={app.id} round={round} version={app.state.version} />
    </section>
  );
}

function Actions({ app, round, onDone }) {
  const options = useApi(`/v1/applications/${encodeURIComponent(app.id)}/actions`, [app.id, app.state.version]);
  const [opinion, setOpinion] = useState("");
  const [rank, setRank] = useState("");
  const [score, setScore] = useState("");
  const [itemScores, setItemScores] = useState({});
  const [experts, setExperts] = useState("");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  if (options.error) return <Problem error={options.error} />;
  if (!options.data) return null;
  const { available, refused } = options.data;
  if (available.length === 0 && refused.length === 0) return null;
  const needs = new Set(available.flatMap((a) => a.needs));
  // The program's expert-review items that apply to this application's direction.
  const items = (round.expert_items ?? []).filter((i) => i.directions.length === 0 || i.directions.includes(app.direction));
  // The public's objection (公示异议) is not a review: its text is the objection.
  const kindOf = (a) => round.graph.actions.find((x) => x.id === a.id)?.kind;
  const objecting = available.length > 0 && available.every((a) => kindOf(a) === "object");
  const opinionLabel = objecting ? "异议内容（请写明异议事实与理由）" : "审核意见";
  async function take(a) {
    setBusy(true);
    setProblem(null);
    try {
      const body = { action: a.id };
      if (opinion.trim()) body.opinion = opinion;
      const payload = {};
      // An empty field is not a 0: left out, the kernel names what is missing.
      if (a.needs.includes("rank") && rank.trim() !== "") payload.rank = Number(rank);
      if (a.needs.includes("score") && items.length > 0) {
        // Scored item by item (专家评审要点): the kernel takes their mean as the total.
        const given = Object.entries(itemScores).filter(([, v]) => v.trim() !== "");
        if (given.length) payload.item_scores = Object.fromEntries(given.map(([k, v]) => [k, Number(v)]));
      } else if (a.needs.includes("score") && score.trim() !== "") payload.score = Number(score);
      if (a.needs.includes("experts")) payload.experts = experts.split(/[,，\s]+/).filter(Boolean);
      if (a.needs.includes("confirm")) payload.confirm = app.state.warnings;
      if (Object.keys(payload).length) body.payload = payload;
      const r = await post(`/v1/applications/${encodeURIComponent(app.id)}/actions`, body);
      setOpinion("");
      onDone(`已${zh(a.title)}，当前环节：${stageTitle(round, r.application.state.stage)}`);
    } catch (e) {
      setProblem(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <fieldset className="decide">
      <legend>{objecting ? "提出异议" : "办理"}</legend>
      {(needs.has("opinion") || available.length > 0) && (
        <label>
          {opinionLabel}{needs.has("opinion") ? "（必填）" : ""}
          <textarea value={opinion} onChange={(e) => setOpinion(e.target.value)} maxLength={5000} rows={3} />
        </label>
      )}
      {needs.has("rank") && (
        <label>
          推荐排序
          <input type="number" min="1" value={rank} onChange={(e) => setRank(e.target.value)} />
        </label>
      )}
      {needs.has("score") && items.length > 0 && (
        <fieldset>
          <legend>逐项评分（每项百分制，总分为各项平均分）</legend>
          {items.map((i) => (
            <label key={i.id}>
              {zh(i.title)}
              <input
                type="number"
                min="0"
                max="100"
                step="0.5"
                value={itemScores[i.id] ?? ""}
                onChange={(e) => setItemScores({ ...itemScores, [i.id]: e.target.value })}
              />
            </label>
          ))}
        </fieldset>
      )}
      {needs.has("score") && items.length === 0 && (
        <label>
          评分（百分制）
          <input type="number" min="0" max="100" step="0.5" value={score} onChange={(e) => setScore(e.target.value)} />
        </label>
      )}
      {needs.has("experts") && (
        <label>
          分配专家（用户名，逗号分隔）
          <input value={experts} onChange={(e) => setExperts(e.target.value)} />
        </label>
      )}
      <div className="actions">
        {available.map((a) => (
          <button key={a.id} type="button" disabled={busy} onClick={() => take(a)}>
            {zh(a.title)}
          </button>
        ))}
      </div>
      {refused.length > 0 && (
        <ul className="refused" aria-label="暂不能办理">
          {refused.map((r) => (
            <li key={r.id}>
              {zh(r.title)}：{zh(r.message)}
            </li>
          ))}
        </ul>
      )}
      <Problem error={problem} />
    </fieldset>
  );
}

function History({ id, round, version }) {
  const decisions = useApi(`/v1/applications/${encodeURIComponent(id)}/decisions`, [id, version]);
  if (decisions.error) return decisions.error instanceof ApiError && decisions.error.status === 403 ? null : <Problem error={decisions.error} />;
  if (!decisions.data) return null;
  // The last check the kernel ran (at submission): its findings and signals, as recorded.
  const checked = [...decisions.data].reverse().find((d) => d.check);
  const found = checked ? [...checked.check.findings, ...(checked.check.kernel_findings ?? [])] : [];
  const SEVERITY = { blocking: "阻断", warning: "警告", info: "提示" };
  return (
    <>
      {checked && (
        <>
          <h3>检查结果（{when(checked.at)} 提交时）</h3>
          {found.length === 0 && checked.check.signals.length === 0 ? (
            <p>未发现问题。</p>
          ) : (
            <ul className="findings" aria-label="提交时的检查结果">
              {found.map((f, i) => (
                <li key={`f${i}`} className={f.severity}>
                  【{SEVERITY[f.severity] ?? f.severity}】{zh(f.message)}
                </li>
              ))}
              {checked.check.signals.map((x, i) => (
                <li key={`s${i}`} className="signal">
                  【关注】{zh(x.message)}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <h3>办理记录</h3>
      <table className="history">
        <thead>
          <tr>
            <th>时间</th>
            <th>办理人</th>
            <th>办理</th>
            <th>从</th>
            <th>到</th>
            <th>意见</th>
          </tr>
        </thead>
        <tbody>
          {decisions.data.filter((d) => d.kind !== "save-draft").map((d) => (
            <tr key={d.index}>
              <td>{when(d.at)}</td>
              <td>{d.actor?.user ?? ""}</td>
              <td>{zh(round.graph.actions.find((a) => a.id === d.action)?.title) || d.action}</td>
              <td>{stageTitle(round, d.from)}</td>
              <td>{stageTitle(round, d.to)}</td>
              <td>{d.opinion ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A size in bytes as people read it: 812 B, 45.2 KB, 3.1 MB. */
function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
