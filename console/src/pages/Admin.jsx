// 系统管理: what an administrator does — install program plugins, create, open
// and close rounds with each city's settings, import regions / organisations /
// users / credit lists (every refused row shown), working-day calendars, users'
// passwords, sign-in codes and API tokens, the audit chain, backups. All through
// the public API (admin endpoints), as `shenbao` on the command line does.
import { useState } from "react";
import { ApiError, call, del, get, post, put } from "../api.js";
import { Problem, roundName, useApi, useRegionNames, when, zh } from "../common.jsx";

const SECTIONS = [
  ["plugins", "申报程序"],
  ["rounds", "申报批次"],
  ["imports", "数据导入"],
  ["calendar", "工作日历"],
  ["users", "用户与令牌"],
  ["audit", "审计与备份"],
];

export function Admin({ section }) {
  const current = SECTIONS.some(([id]) => id === section) ? section : "plugins";
  return (
    <>
      <nav className="subnav" aria-label="系统管理">
        {SECTIONS.map(([id, title]) => (
          <a key={id} href={`#/admin/${id}`} aria-current={id === current ? "page" : undefined}>
            {title}
          </a>
        ))}
      </nav>
      {current === "plugins" && <Plugins />}
      {current === "rounds" && <Rounds />}
      {current === "imports" && <Imports />}
      {current === "calendar" && <CalendarEditor />}
      {current === "users" && <Users />}
      {current === "audit" && <AuditAndBackup />}
    </>
  );
}

/** Run `f`, keeping its answer or its refusal for the page. */
function useAction() {
  const [state, setState] = useState({ busy: false, error: null, result: null });
  const run = async (f) => {
    setState({ busy: true, error: null, result: null });
    try {
      const result = await f();
      setState({ busy: false, error: null, result });
      return result;
    } catch (e) {
      setState({ busy: false, error: e, result: null });
      return undefined;
    }
  };
  return [state, run];
}

function Plugins() {
  const plugins = useApi("/v1/plugins");
  const [file, setFile] = useState(null);
  const [state, run] = useAction();
  return (
    <section aria-labelledby="plugins">
      <h2 id="plugins">申报程序（插件）</h2>
      <Problem error={plugins.error} />
      {plugins.data && (
        <table>
          <thead>
            <tr>
              <th>程序</th>
              <th>名称</th>
              <th>版本</th>
              <th>SHA-256</th>
              <th>安装时间</th>
            </tr>
          </thead>
          <tbody>
            {plugins.data.map((p) => (
              <tr key={p.id.sha256}>
                <td>{p.id.program}</td>
                <td>{zh(p.manifest?.name)}</td>
                <td>{p.id.version}</td>
                <td>
                  <code className="hash">{p.id.sha256}</code>
                </td>
                <td>{when(p.installed_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (!file) return;
          const r = await run(() => call("POST", "/v1/plugins", file, { headers: { "Content-Type": "application/wasm" } }));
          if (r) plugins.reload();
        }}
      >
        <label>
          安装插件（WebAssembly 组件 .wasm）
          <input type="file" accept=".wasm,application/wasm" onChange={(e) => setFile(e.target.files[0] ?? null)} />
        </label>
        <button type="submit" disabled={!file || state.busy}>
          安装
        </button>
      </form>
      {state.result && (
        <p role="status" className="notice">
          {state.result.newly_installed ? "已安装" : "此前已安装（未改变）"} {state.result.id.program}{" "}
          {state.result.id.version}（{state.result.id.sha256}）
        </p>
      )}
      {state.result?.form_warnings?.length > 0 && (
        <section aria-labelledby="form-warnings" className="findings">
          <h3 id="form-warnings">
            表单问题：插件已安装，但以下表单在标准表单工具中显示不佳，请插件作者修改 / form warnings
          </h3>
          <ul>
            {state.result.form_warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </section>
      )}
      <Problem error={state.error} />
    </section>
  );
}

const STATUS_ZH = { configured: "未开启", open: "进行中", closed: "已关闭" };

function Rounds() {
  const loaded = useApi(["/v1/rounds", "/v1/plugins"]);
  const [state, run] = useAction();
  const [editing, setEditing] = useState(null);
  // The round whose closing was refused because applications are still under review.
  const [refusedClose, setRefusedClose] = useState(null);
  if (loaded.error) return <Problem error={loaded.error} />;
  if (!loaded.data) return <p>正在加载…</p>;
  const [rounds, plugins] = loaded.data;
  const act = async (r, what, body) => {
    setRefusedClose(null);
    const ok = await run(() => post(`/v1/rounds/${encodeURIComponent(r.spec.id)}/${what}`, body));
    if (ok) loaded.reload();
    return ok;
  };
  const close = async (r) => {
    const ok = await act(r, "close");
    if (!ok) setRefusedClose(r);
  };
  const forceClose = async (r) => {
    const sure = window.confirm(
      `强制关闭批次 ${r.spec.id}？仍在评审、专家评审或公示环节的申报将停留在当前环节，无法继续办理，批次也不能再开启。`,
    );
    if (sure) await act(r, "close", { force: true });
  };
  return (
    <section aria-labelledby="rounds">
      <h2 id="rounds">申报批次</h2>
      <table>
        <thead>
          <tr>
            <th>批次</th>
            <th>名称</th>
            <th>状态</th>
            <th>申报时间</th>
            <th>操作</th>
          </tr>
        </thead>
        <tbody>
          {rounds.map((r) => (
            <tr key={r.spec.id}>
              <td>{r.spec.id}</td>
              <td>{roundName(r, plugins)}</td>
              <td>{STATUS_ZH[r.status] ?? r.status}</td>
              <td>
                {r.spec.province.start} 至 {r.spec.province.end}
              </td>
              <td>
                {r.status !== "open" && r.status !== "closed" && (
                  <button type="button" onClick={() => setEditing(r.spec)}>
                    修改
                  </button>
                )}
                {r.status !== "open" && r.status !== "closed" && (
                  <button type="button" disabled={state.busy} onClick={() => act(r, "open")}>
                    开启
                  </button>
                )}
                {r.status === "open" && (
                  <button type="button" disabled={state.busy} onClick={() => close(r)}>
                    关闭
                  </button>
                )}
                <button type="button" className="link" onClick={() => setEditing({ ...r.spec, id: "" })}>
                  以此为模板新建
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Problem error={state.error} />
      {refusedClose && state.error?.code === "round_under_review" && (
        <button type="button" disabled={state.busy} onClick={() => forceClose(refusedClose)}>
          仍然关闭批次 {refusedClose.spec.id}
        </button>
      )}
      {!editing && (
        <button type="button" onClick={() => setEditing(blankSpec(plugins))}>
          新建批次
        </button>
      )}
      {editing && (
        <RoundEditor
          key={JSON.stringify(editing).slice(0, 200)}
          initial={editing}
          exists={rounds.some((r) => r.spec.id === editing.id)}
          plugins={plugins}
          onDone={() => {
            setEditing(null);
            loaded.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
    </section>
  );
}

function blankSpec(plugins) {
  const p = plugins[0];
  const y = new Date().getFullYear();
  return {
    id: "",
    program: p?.id.program ?? "",
    plugin_version: p?.id.version ?? "",
    year: y,
    province: { start: `${y}-01-01 00:00`, end: `${y}-12-31 23:59:59` },
    cities: {},
  };
}

/** A round's spec: the common fields and each city's settings as a form; the rest
 * (switches, quotas, graph, the program's config) as JSON, checked by the kernel. */
function RoundEditor({ initial, exists, plugins, onDone, onCancel }) {
  const place = useRegionNames();
  const regions = useApi("/v1/regions");
  const { id, program, plugin_version, year, batch, edition, province, city_deadline, province_deadline, cities, correction_working_days, ...rest } = initial;
  const [f, setF] = useState({
    id,
    program,
    plugin_version,
    year,
    batch: batch ?? "",
    edition: edition ?? "",
    start: province?.start ?? "",
    end: province?.end ?? "",
    city_deadline: city_deadline ?? "",
    province_deadline: province_deadline ?? "",
    correction_working_days: correction_working_days ?? "",
  });
  const [cityCfg, setCityCfg] = useState(cities ?? {});
  const [restText, setRestText] = useState(JSON.stringify(rest, null, 2));
  const [state, run] = useAction();
  const [jsonError, setJsonError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const versions = plugins.filter((p) => p.id.program === f.program);
  const cityList = (regions.data ?? []).filter((r) => r.kind === "city");
  const setCity = (c, patch) => {
    const next = { ...cityCfg, [c]: { ...(cityCfg[c] ?? {}), ...patch } };
    for (const [k, v] of Object.entries(next[c])) if (v === undefined || v === "") delete next[c][k];
    if (Object.keys(next[c]).length === 0) delete next[c];
    setCityCfg(next);
  };
  async function save(e) {
    e.preventDefault();
    let extra;
    try {
      extra = restText.trim() ? JSON.parse(restText) : {};
      setJsonError(null);
    } catch (err) {
      setJsonError(`其他设置不是有效的 JSON：${err.message}`);
      return;
    }
    const spec = {
      ...extra,
      id: f.id,
      program: f.program,
      plugin_version: f.plugin_version,
      year: Number(f.year),
      province: { start: f.start, end: f.end },
      cities: cityCfg,
    };
    if (f.batch) spec.batch = f.batch;
    if (f.edition) spec.edition = f.edition;
    if (f.city_deadline) spec.city_deadline = f.city_deadline;
    if (f.province_deadline) spec.province_deadline = f.province_deadline;
    if (f.correction_working_days !== "") spec.correction_working_days = Number(f.correction_working_days);
    const ok = await run(() =>
      exists ? put(`/v1/rounds/${encodeURIComponent(f.id)}`, spec) : post("/v1/rounds", spec),
    );
    if (ok) onDone();
  }
  return (
    <form onSubmit={save} aria-label={exists ? "修改批次" : "新建批次"} className="editor">
      <h3>{exists ? `修改批次 ${f.id}` : "新建批次"}</h3>
      <label>
        批次编号
        <input required value={f.id} onChange={set("id")} disabled={exists} placeholder="iiot-2024" />
      </label>
      <label>
        申报程序
        <select value={f.program} onChange={set("program")}>
          {[...new Set(plugins.map((p) => p.id.program))].map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <label>
        插件版本
        <select value={f.plugin_version} onChange={set("plugin_version")}>
          <option value="">请选择</option>
          {versions.map((p) => (
            <option key={p.id.sha256} value={p.id.version}>
              {p.id.version}
            </option>
          ))}
        </select>
      </label>
      <label>
        申报年度
        <input type="number" required value={f.year} onChange={set("year")} />
      </label>
      <label>
        批次（可选）
        <input value={f.batch} onChange={set("batch")} placeholder="2024Q3" />
      </label>
      <label>
        规则版本（可选）
        <input value={f.edition} onChange={set("edition")} />
      </label>
      <fieldset>
        <legend>时间（北京时间，如 2024-08-10 09:00）</legend>
        <label>
          省厅申报开始时间
          <input required value={f.start} onChange={set("start")} />
        </label>
        <label>
          省厅申报结束时间
          <input required value={f.end} onChange={set("end")} />
        </label>
        <label>
          地市审核截止时间
          <input value={f.city_deadline} onChange={set("city_deadline")} />
        </label>
        <label>
          省级审核截止时间
          <input value={f.province_deadline} onChange={set("province_deadline")} />
        </label>
        <label>
          补正期限（工作日）
          <input type="number" min="0" value={f.correction_working_days} onChange={set("correction_working_days")} />
        </label>
      </fieldset>
      <fieldset>
        <legend>各地市设置</legend>
        <table>
          <thead>
            <tr>
              <th>地市</th>
              <th>需要区县审核</th>
              <th>区县审核截止</th>
              <th>本市申报开始</th>
              <th>本市申报结束</th>
            </tr>
          </thead>
          <tbody>
            {cityList.map((c) => {
              const cfg = cityCfg[c.id] ?? {};
              return (
                <tr key={c.id}>
                  <td>{place(c.id)}</td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`${c.name} 需要区县审核`}
                      checked={!!cfg.district_review}
                      onChange={(e) => setCity(c.id, { district_review: e.target.checked || undefined })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`${c.name} 区县审核截止`}
                      value={cfg.district_deadline ?? ""}
                      onChange={(e) => setCity(c.id, { district_deadline: e.target.value || undefined })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`${c.name} 申报开始`}
                      value={cfg.applicants?.start ?? ""}
                      onChange={(e) => setCity(c.id, { applicants: windowOf(e.target.value, cfg.applicants?.end) })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`${c.name} 申报结束`}
                      value={cfg.applicants?.end ?? ""}
                      onChange={(e) => setCity(c.id, { applicants: windowOf(cfg.applicants?.start, e.target.value) })}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </fieldset>
      <label>
        其他设置（JSON：环节开关 switches、名额 quotas、流程 graph、程序配置 config）
        <textarea className="code" rows={8} value={restText} onChange={(e) => setRestText(e.target.value)} />
      </label>
      {jsonError && (
        <p role="alert" className="problem">
          {jsonError}
        </p>
      )}
      <Problem error={state.error} />
      <button type="submit" disabled={state.busy}>
        保存
      </button>
      <button type="button" className="link" onClick={onCancel}>
        取消
      </button>
    </form>
  );
}

function windowOf(start, end) {
  return start || end ? { start: start ?? "", end: end ?? "" } : undefined;
}

const IMPORT_KINDS = [
  ["orgs", "申报单位（统一社会信用代码、单位名称、渠道、所属市、所属区县 …）"],
  ["users", "用户（账号、姓名、角色、范围，一行一个授权）"],
  ["regions", "行政区划（编码、名称、级别、上级 …）"],
  ["credit", "信用查询（统一社会信用代码、单位名称）"],
];

function Imports() {
  const [kind, setKind] = useState("orgs");
  const [file, setFile] = useState(null);
  const [dishonest, setDishonest] = useState(false);
  const [state, run] = useAction();
  async function send(e) {
    e.preventDefault();
    if (!file) return;
    const q = new URLSearchParams({ file: file.name });
    if (kind === "credit" && dishonest) q.set("mark_dishonest", "true");
    await run(async () => ({ kind, answer: await call("POST", `/v1/imports/${kind}?${q}`, file) }));
  }
  const rows = state.error instanceof ApiError ? rowErrors(state.error) : [];
  return (
    <section aria-labelledby="imports">
      <h2 id="imports">数据导入</h2>
      <p>CSV（UTF-8、UTF-16 或 GBK）或 Excel（.xlsx）文件，首行为列名。整份文件全部通过才导入；有误的每一行都会列出。</p>
      <form onSubmit={send}>
        <label>
          导入内容
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            {IMPORT_KINDS.map(([id, title]) => (
              <option key={id} value={id}>
                {title}
              </option>
            ))}
          </select>
        </label>
        <label>
          文件
          <input type="file" accept=".csv,.txt,.xlsx,.xlsm" onChange={(e) => setFile(e.target.files[0] ?? null)} />
        </label>
        {kind === "credit" && (
          <label>
            <input type="checkbox" checked={dishonest} onChange={(e) => setDishonest(e.target.checked)} />{" "}
            这是失信名单：将名单中已登记的单位标记为失信
          </label>
        )}
        <button type="submit" disabled={!file || state.busy}>
          导入
        </button>
      </form>
      {state.result && state.result.kind !== "credit" && (
        <p role="status" className="notice">
          已导入 {state.result.answer.imported} 条
        </p>
      )}
      {state.result?.kind === "credit" && <CreditRows rows={state.result.answer} />}
      {state.error && (
        <div role="alert" className="problem">
          <p>
            导入未进行：
            {rows.length > 1
              ? `共 ${state.error.details?.total ?? rows.length} 处错误${
                  (state.error.details?.total ?? 0) > rows.length ? `（列出前 ${rows.length} 处）` : ""
                }`
              : state.error.zh}
          </p>
          {rows.length > 1 && (
            <table aria-label="有误的行">
              <thead>
                <tr>
                  <th>行</th>
                  <th>列</th>
                  <th>问题</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i}>
                    <td>{r.row}</td>
                    <td>{r.column}</td>
                    <td>{r.message.split(" / ")[0]}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}

/** The refused rows an import answered (`details.rows`). */
function rowErrors(e) {
  return e.details?.rows ?? [];
}

function CreditRows({ rows }) {
  return (
    <table aria-label="信用查询结果">
      <thead>
        <tr>
          <th>行</th>
          <th>统一社会信用代码</th>
          <th>代码有效</th>
          <th>登记名称</th>
          <th>名称一致</th>
          <th>失信</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.row}>
            <td>{r.row}</td>
            <td>{r.credit_code}</td>
            <td>{r.valid ? "是" : "否"}</td>
            <td>{r.registered_name ?? "未登记"}</td>
            <td>{r.name_matches === null || r.name_matches === undefined ? "—" : r.name_matches ? "是" : "否"}</td>
            <td>{r.dishonest ? (r.marked ? "是（本次标记）" : "是") : r.dishonest === false ? "否" : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CalendarEditor() {
  const [year, setYear] = useState(new Date().getFullYear());
  const cal = useApi(`/v1/calendars/${year}`, [year]);
  return (
    <section aria-labelledby="calendar">
      <h2 id="calendar">工作日历</h2>
      <label>
        年度
        <input type="number" value={year} onChange={(e) => setYear(Number(e.target.value))} />
      </label>
      <Problem error={cal.error} />
      {/* Keyed by what it was loaded with: another year's data starts it afresh. After a
          save it holds what was saved, so it is not reloaded. */}
      {cal.data && <CalendarForm key={`${year}/${JSON.stringify(cal.data)}`} year={year} cal={cal.data} />}
    </section>
  );
}

function CalendarForm({ year, cal }) {
  const [holidays, setHolidays] = useState((cal.holidays ?? []).join(", "));
  const [makeup, setMakeup] = useState((cal.makeup_workdays ?? []).join(", "));
  const [state, run] = useAction();
  const list = (s) => s.split(/[,，\s]+/).filter(Boolean);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        const body = { holidays: list(holidays), makeup_workdays: list(makeup) };
        await run(() => put(`/v1/calendars/${year}`, body));
      }}
    >
      <label>
        法定节假日（YYYY-MM-DD，逗号分隔）
        <textarea rows={3} value={holidays} onChange={(e) => setHolidays(e.target.value)} />
      </label>
      <label>
        调休上班日（YYYY-MM-DD，逗号分隔）
        <textarea rows={2} value={makeup} onChange={(e) => setMakeup(e.target.value)} />
      </label>
      <button type="submit" disabled={state.busy}>
        保存 {year} 年日历
      </button>
      {state.result && (
        <p role="status" className="notice">
          已保存 {year} 年日历
        </p>
      )}
      <Problem error={state.error} />
    </form>
  );
}

function Users() {
  const loaded = useApi(["/v1/users", "/v1/tokens"]);
  const [state, run] = useAction();
  const [shown, setShown] = useState(null);
  const [password, setPassword] = useState({ user: "", value: "" });
  if (loaded.error) return <Problem error={loaded.error} />;
  if (!loaded.data) return <p>正在加载…</p>;
  const [users, tokens] = loaded.data;
  const code = async (u) => {
    const r = await run(() => post(`/v1/users/${encodeURIComponent(u.id)}/sign-in-code`));
    if (r) setShown({ what: `${u.name || u.id} 的一次性登录码（72 小时内有效，只显示这一次）`, secret: r.code });
  };
  const token = async (u) => {
    const label = window.prompt("令牌用途（如：对接系统名称）", "") ?? "";
    const r = await run(() => post(`/v1/users/${encodeURIComponent(u.id)}/tokens`, { label }));
    if (r) {
      setShown({ what: `${u.name || u.id} 的 API 令牌（只显示这一次）`, secret: r.secret });
      loaded.reload();
    }
  };
  return (
    <section aria-labelledby="users">
      <h2 id="users">用户与令牌</h2>
      <p>用户通过“数据导入”导入。密码由管理员设置，或由用户凭一次性登录码首次登录时自行设置。</p>
      {shown && (
        <div role="status" className="notice">
          {shown.what}：<code className="secret">{shown.secret}</code>
        </div>
      )}
      <Problem error={state.error} />
      <table>
        <thead>
          <tr>
            <th>账号</th>
            <th>姓名</th>
            <th>授权</th>
            <th>操作</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>{u.id}</td>
              <td>{u.name}</td>
              <td>{u.grants.map((g) => `${g.role}@${g.scope.level}${g.scope.id ? `:${g.scope.id}` : ""}`).join("；")}</td>
              <td>
                <button type="button" className="link" onClick={() => setPassword({ user: u.id, value: "" })}>
                  设置密码
                </button>
                <button type="button" className="link" onClick={() => code(u)}>
                  一次性登录码
                </button>
                <button type="button" className="link" onClick={() => token(u)}>
                  签发令牌
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {password.user && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const ok = await run(() =>
              put(`/v1/users/${encodeURIComponent(password.user)}/password`, { password: password.value }),
            );
            if (ok !== undefined) {
              setShown({ what: `已设置 ${password.user} 的密码`, secret: "" });
              setPassword({ user: "", value: "" });
            }
          }}
        >
          <label>
            {password.user} 的新密码（12–128 个字符；设置后该用户的登录会话全部失效）
            <input
              type="password"
              autoComplete="new-password"
              minLength={12}
              maxLength={128}
              required
              value={password.value}
              onChange={(e) => setPassword({ ...password, value: e.target.value })}
            />
          </label>
          <button type="submit">保存密码</button>
        </form>
      )}
      <h3>API 令牌</h3>
      <table>
        <thead>
          <tr>
            <th>编号</th>
            <th>用户</th>
            <th>用途</th>
            <th>签发时间</th>
            <th>状态</th>
            <th>操作</th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id}>
              <td>{t.id}</td>
              <td>{t.user}</td>
              <td>{t.label}</td>
              <td>{when(t.issued_at)}</td>
              <td>{t.revoked_at ? `已撤销（${when(t.revoked_at)}）` : "有效"}</td>
              <td>
                {!t.revoked_at && (
                  <button
                    type="button"
                    className="link"
                    onClick={async () => {
                      if (await run(() => del(`/v1/tokens/${encodeURIComponent(t.id)}`))) loaded.reload();
                    }}
                  >
                    撤销
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function AuditAndBackup() {
  const [audit, runAudit] = useAction();
  const [backup, runBackup] = useAction();
  const stamp = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 16).replace(/[-:T]/g, "");
  const [name, setName] = useState(`shenbao-${stamp}.redb`);
  return (
    <section aria-labelledby="audit">
      <h2 id="audit">审计与备份</h2>
      <h3>决定链校验</h3>
      <p>逐条核对每项办理决定的哈希链，发现任何改动或缺失。</p>
      <button type="button" disabled={audit.busy} onClick={() => runAudit(() => get("/v1/audit/chain"))}>
        校验
      </button>
      {audit.result && (
        <p role="status" className={audit.result.first_broken === null ? "notice" : "problem"}>
          {audit.result.first_broken === null
            ? `决定链完整：共 ${audit.result.length} 条，链头 ${audit.result.head.slice(0, 16)}…`
            : `决定链有误：共 ${audit.result.length} 条，第 ${audit.result.first_broken} 条起不符`}
        </p>
      )}
      <Problem error={audit.error} />
      <h3>备份</h3>
      <p>在运行中写出数据库的一致备份（服务器的备份目录中），然后下载。</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          runBackup(() => post("/v1/admin/backup", { name }));
        }}
      >
        <label>
          备份文件名
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" disabled={backup.busy}>
          备份
        </button>
      </form>
      {backup.result && (
        <p role="status" className="notice">
          已备份（{backup.result.records} 条记录、{backup.result.decisions} 项决定、{backup.result.blobs} 个附件）：
          <a href={`/v1/admin/backups/${encodeURIComponent(name)}`} download>
            下载 {name}
          </a>
        </p>
      )}
      <Problem error={backup.error} />
    </section>
  );
}
