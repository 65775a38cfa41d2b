// 填写申报: choose a direction, fill the program's form section by section, attach
// the declared documents, save a draft at any time, submit. Findings from the
// kernel show at the fields they concern.
import { useEffect, useRef, useState } from "react";
import { ApiError, call, get, post, put } from "../api.js";
import { errorSchema } from "../findings.js";
import { ProgramForm, prune, validator } from "../form.jsx";
import { Problem, zh } from "../common.jsx";

/** A new application in `round` (no `app`), or the draft `app` (an Application). */
export function Apply({ round: roundId, app: existing, onSubmitted }) {
  const [round, setRound] = useState(null);
  const [direction, setDirection] = useState(existing?.direction ?? "");
  const [schema, setSchema] = useState(null);
  const [data, setDataState] = useState(existing?.data ?? {});
  // The latest data, read when saving: a click right after typing saves what was typed.
  const latest = useRef(data);
  const setData = (d) => {
    latest.current = d;
    setDataState(d);
  };
  const [attachments, setAttachments] = useState(existing?.attachments ?? []);
  const [app, setApp] = useState(existing ?? null);
  const [errors, setErrors] = useState({});
  const [findings, setFindings] = useState([]);
  const [notice, setNotice] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const rid = existing?.round ?? roundId;

  useEffect(() => {
    get(`/v1/rounds/${encodeURIComponent(rid)}`).then(setRound, setProblem);
  }, [rid]);
  const dir = round?.directions.find((d) => d.id === direction);
  const form = dir?.form ?? existing?.form;
  useEffect(() => {
    if (!form) return;
    get(`/v1/rounds/${encodeURIComponent(rid)}/forms/${encodeURIComponent(form)}`).then(setSchema, setProblem);
  }, [rid, form]);

  async function save() {
    const draft = { direction: direction || null, data: prune(latest.current), attachments };
    const r = app
      ? await put(`/v1/applications/${encodeURIComponent(app.id)}`, draft)
      : await post(`/v1/rounds/${encodeURIComponent(rid)}/applications`, draft);
    setApp(r.application);
    if (!app) window.history.replaceState(null, "", `#/app/${encodeURIComponent(r.application.id)}`);
    return r.application;
  }

  async function run(what) {
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      const saved = await save();
      if (what === "submit" && schema) {
        // The form's own rules first, in the browser (the same JSON Schema the
        // kernel checks): what fails is shown at its field and nothing is submitted.
        const local = validator.validateFormData(prune(latest.current), schema);
        if (local.errors.length > 0) {
          setErrors(local.errorSchema);
          setFindings(local.errors.map((e) => ({ severity: "blocking", message: e.stack })));
          setProblem(
            new ApiError(422, {
              message: `草稿已保存；有 ${local.errors.length} 处不符合填写要求，请修改后再提交 / fix the form first`,
            }),
          );
          return;
        }
      }
      if (what === "submit") {
        const r = await post(`/v1/applications/${encodeURIComponent(saved.id)}/actions`, { action: "submit" });
        setErrors({});
        setFindings([]);
        const message = `已提交，当前环节：${zh(round.graph.stages.find((s) => s.id === r.application.state.stage)?.title)}`;
        // Shown by the page that shows the submitted application, or here.
        if (onSubmitted) onSubmitted(message);
        else setNotice(message);
      } else {
        setNotice(`草稿已保存（${saved.id}）`);
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === "blocking_findings") {
        const f = e.details?.findings ?? [];
        setFindings(f);
        setErrors(errorSchema(f.filter((x) => x.severity === "blocking")));
        setProblem(new ApiError(422, { message: "提交未通过检查，请按提示修改 / blocking findings" }));
      } else {
        setProblem(e);
      }
    } finally {
      setBusy(false);
    }
  }

  if (!round) return <Problem error={problem} />;
  const editable = !app || app.state.stage === round.graph.initial;
  return (
    <section aria-labelledby="apply">
      <h2 id="apply">{app ? `申报 ${app.id}` : "新建申报"}</h2>
      <label>
        申报方向
        <select value={direction} onChange={(e) => setDirection(e.target.value)} disabled={!editable || !!app?.direction}>
          <option value="">请选择</option>
          {round.directions.map((d) => (
            <option key={d.id} value={d.id}>
              {zh(d.title)}
            </option>
          ))}
        </select>
      </label>
      {dir && <Attachments types={dir.attachments} value={attachments} onChange={setAttachments} disabled={!editable} />}
      {findings.length > 0 && (
        <ul className="findings" aria-label="检查结果">
          {findings.map((f, i) => (
            <li key={i} className={f.severity}>
              {zh(f.message)}
            </li>
          ))}
        </ul>
      )}
      {schema && (
        <ProgramForm schema={schema} data={data} onChange={setData} errors={errors} disabled={!editable}>
          <></>
        </ProgramForm>
      )}
      {schema && (
        // Outside the form: its buttons would keep the state of its last render.
        <div className="actions">
          <button type="button" disabled={busy || !editable} onClick={() => run("save")}>
            保存草稿
          </button>
          <button type="button" disabled={busy || !editable} onClick={() => run("submit")}>
            提交
          </button>
        </div>
      )}
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <Problem error={problem} />
    </section>
  );
}

/** The direction's declared attachment types: upload files (type and size checked
 * before the upload), each stored content-addressed and named on the draft. */
function Attachments({ types, value, onChange, disabled }) {
  const [problem, setProblem] = useState(null);
  async function add(type, file) {
    setProblem(null);
    if (type.media_types.length && !type.media_types.includes(file.type)) {
      setProblem(new ApiError(422, { message: `“${file.name}”的类型不是 ${type.media_types.join("、")}` }));
      return;
    }
    if (type.max_bytes && file.size > type.max_bytes) {
      setProblem(new ApiError(413, { message: `“${file.name}”超过 ${Math.floor(type.max_bytes / 1048576)} MB` }));
      return;
    }
    try {
      const blob = await call("POST", "/v1/attachments", file, { headers: { "Content-Type": "application/octet-stream" } });
      // A new id, never one already on the draft.
      let n = value.filter((a) => a.kind === type.id).length + 1;
      while (value.some((a) => a.id === `${type.id}-${n}`)) n += 1;
      onChange([
        ...value,
        { id: `${type.id}-${n}`, kind: type.id, name: file.name, media_type: file.type || "application/octet-stream", size: blob.size, sha256: blob.sha256 },
      ]);
    } catch (e) {
      setProblem(e);
    }
  }
  return (
    <fieldset className="attachments">
      <legend>附件</legend>
      {types.map((t) => (
        <div key={t.id}>
          <strong>
            {zh(t.title)}
            {t.min_count > 0 ? " *" : ""}
          </strong>
          <ul>
            {value
              .filter((a) => a.kind === t.id)
              .map((a) => (
                <li key={a.id}>
                  {a.name}（{Math.ceil(a.size / 1024)} KB）
                  {!disabled && (
                    <button type="button" className="link" onClick={() => onChange(value.filter((x) => x !== a))}>
                      删除
                    </button>
                  )}
                  {t.max_age_months && (
                    <label>
                      出具日期（须在 {t.max_age_months} 个月内）
                      <input
                        type="date"
                        value={a.issued_on ?? ""}
                        disabled={disabled}
                        onChange={(e) => onChange(value.map((x) => (x === a ? { ...x, issued_on: e.target.value || null } : x)))}
                      />
                    </label>
                  )}
                  {t.must_be_valid && (
                    <label>
                      有效期至
                      <input
                        type="date"
                        value={a.valid_until ?? ""}
                        disabled={disabled}
                        onChange={(e) => onChange(value.map((x) => (x === a ? { ...x, valid_until: e.target.value || null } : x)))}
                      />
                    </label>
                  )}
                </li>
              ))}
          </ul>
          {!disabled && (
            <input
              type="file"
              aria-label={`上传${zh(t.title)}`}
              accept={t.media_types.join(",")}
              onChange={(e) => e.target.files[0] && add(t, e.target.files[0])}
            />
          )}
        </div>
      ))}
      <Problem error={problem} />
    </fieldset>
  );
}
