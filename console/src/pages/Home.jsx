// 首页: an applicant's projects and the open rounds to apply to; a reviewer's
// rounds with their queues.
import { useEffect, useState } from "react";
import { get } from "../api.js";
import { Problem, at, countdown, projectPointer, roundName, stageTitle, useApi, when, zh } from "../common.jsx";

const isApplicant = (u) => u.grants.some((g) => g.scope?.level === "organisation");
const isReviewer = (u) => u.grants.some((g) => ["district", "city", "province"].includes(g.scope?.level));
const seesAssigned = (u) => u.grants.some((g) => ["expert", "public"].includes(g.scope?.level));

/** The applications of every round the caller may see (its own, assigned, on
 * notice …), each with its round: `[list or null while loading, error]`. */
function useApplications(rounds) {
  const [apps, setApps] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    Promise.all(rounds.map((r) => get(`/v1/rounds/${encodeURIComponent(r.spec.id)}/applications?limit=500`)))
      .then((pages) => setApps(pages.flatMap((p, i) => p.items.map((a) => ({ app: a, round: rounds[i] })))))
      .catch(setError);
  }, [rounds]);
  return [apps, error];
}

export function Home({ user }) {
  const loaded = useApi(["/v1/rounds", "/v1/plugins"]);
  if (loaded.error) return <Problem error={loaded.error} />;
  if (!loaded.data) return <p>正在加载…</p>;
  const [rounds, plugins] = loaded.data;
  return (
    <>
      {isApplicant(user) && <MyApplications rounds={rounds} plugins={plugins} />}
      {isReviewer(user) && <Review rounds={rounds} plugins={plugins} />}
      {seesAssigned(user) && <Visible user={user} rounds={rounds} plugins={plugins} />}
    </>
  );
}

/** The project-name pointer of each (round, form) the applications use. */
function useProjectPointers(apps) {
  const [pointers, setPointers] = useState({});
  useEffect(() => {
    if (!apps) return;
    const wanted = [...new Set(apps.map(({ app }) => `${app.round}\u0000${app.form}`))];
    Promise.all(
      wanted.map((k) => {
        const [r, f] = k.split("\u0000");
        return get(`/v1/rounds/${encodeURIComponent(r)}/forms/${encodeURIComponent(f)}`).then(
          (schema) => [k, projectPointer(schema)],
          () => [k, null],
        );
      }),
    ).then((entries) => setPointers(Object.fromEntries(entries)));
  }, [apps]);
  return (app) => at(app.data, pointers[`${app.round}\u0000${app.form}`]);
}

/** The deadline an applicant works to: a rectification or correction deadline, the
 * stage's due date, or — while drafting — the end of the applicant window. */
function deadlineOf(app, round) {
  if (app.state.deadline) return app.state.deadline;
  if (app.state.correction_until) return app.state.correction_until;
  if (app.state.stage === round.graph.initial && app.state.outcome === "pending") return round.spec.province?.end;
  return app.state.due ?? null;
}

function MyApplications({ rounds, plugins }) {
  const [apps, error] = useApplications(rounds);
  const project = useProjectPointers(apps);
  const open = rounds.filter((r) => r.status === "open");
  return (
    <section aria-labelledby="mine">
      <h2 id="mine">我的申报</h2>
      <Problem error={error} />
      {open.length > 0 && (
        <p className="actions">
          {open.map((r) => (
            <a key={r.spec.id} className="button" href={`#/apply/${encodeURIComponent(r.spec.id)}`}>
              新建申报：{roundName(r, plugins)}
            </a>
          ))}
        </p>
      )}
      {apps === null ? (
        <p>正在加载…</p>
      ) : apps.length === 0 ? (
        <p>还没有申报。</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>编号</th>
              <th>年度</th>
              <th>专项</th>
              <th>申报方向</th>
              <th>项目名称</th>
              <th>提交时间</th>
              <th>办理期限</th>
              <th>当前环节</th>
            </tr>
          </thead>
          <tbody>
            {apps.map(({ app, round }) => {
              const deadline = deadlineOf(app, round);
              const left = countdown(deadline);
              return (
              <tr key={app.id}>
                <td>
                  <a href={`#/app/${encodeURIComponent(app.id)}`}>{app.id}</a>
                </td>
                <td>{round.spec.year}</td>
                <td>{roundName(round, plugins)}</td>
                <td>{zh(round.directions.find((d) => d.id === app.direction)?.title) || "—"}</td>
                <td>{project(app) ?? "—"}</td>
                <td>{app.submitted_at ? when(app.submitted_at) : "未提交"}</td>
                <td className={left?.overdue ? "overdue" : ""}>
                  {deadline ? `${typeof deadline === "number" ? when(deadline) : String(deadline).slice(0, 16)}（${left?.text ?? ""}）` : "—"}
                </td>
                <td>{stageTitle(round, app.state.stage)}</td>
              </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Review({ rounds, plugins }) {
  return (
    <section aria-labelledby="review">
      <h2 id="review">审核</h2>
      <ul>
        {rounds.map((r) => (
          <li key={r.spec.id}>
            <a href={`#/queue/${encodeURIComponent(r.spec.id)}`}>
              {roundName(r, plugins)}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Experts: the applications assigned to them; the public: those on notice (公示). */
function Visible({ user, rounds, plugins }) {
  const [apps, error] = useApplications(rounds);
  const expert = user.grants.some((g) => g.scope?.level === "expert");
  return (
    <section aria-labelledby="visible">
      <h2 id="visible">{expert ? "待评审的申报" : "公示中的申报"}</h2>
      <Problem error={error} />
      {apps === null ? (
        <p>正在加载…</p>
      ) : apps.length === 0 ? (
        <p>{expert ? "暂无分配给您的申报。" : "暂无公示中的申报。"}</p>
      ) : (
        <ul>
          {apps.map(({ app, round }) => (
            <li key={app.id}>
              <a href={`#/app/${encodeURIComponent(app.id)}`}>{app.id}</a> {roundName(round, plugins)} ·{" "}
              {stageTitle(round, app.state.stage)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
