// 表单预览: a round's form as applicants see it, with sample data pasted in (for
// administrators and program authors: does the form render, in order, and does
// this data pass the browser's validation?).
import { useState } from "react";
import { ProgramForm, validator } from "../form.jsx";
import { Problem, useApi } from "../common.jsx";

export function Preview({ round, form }) {
  const schema = useApi(`/v1/rounds/${encodeURIComponent(round)}/forms/${encodeURIComponent(form)}`, [round, form]);
  const [text, setText] = useState("{}");
  const [data, setData] = useState({});
  const [parseError, setParseError] = useState(null);
  if (schema.error) return <Problem error={schema.error} />;
  if (!schema.data) return <p>正在加载…</p>;
  const result = validator.validateFormData(data, schema.data);
  return (
    <section aria-labelledby="preview">
      <h2 id="preview">表单预览：{schema.data.title ?? form}</h2>
      <label>
        示例数据（JSON）
        <textarea value={text} rows={6} onChange={(e) => setText(e.target.value)} />
      </label>
      <button
        type="button"
        onClick={() => {
          try {
            setData(JSON.parse(text));
            setParseError(null);
          } catch (e) {
            setParseError(String(e));
          }
        }}
      >
        预览
      </button>
      {parseError && (
        <p role="alert" className="problem">
          不是有效的 JSON：{parseError}
        </p>
      )}
      <p role="status">{result.errors.length === 0 ? "数据通过校验" : `数据有 ${result.errors.length} 处不符合表单要求`}</p>
      {result.errors.length > 0 && (
        <ul className="findings" aria-label="不符合之处">
          {result.errors.map((e, i) => (
            <li key={i} className="blocking">
              {e.property || "（整体）"}：{e.message || e.stack || JSON.stringify(e)}
            </li>
          ))}
        </ul>
      )}
      <ProgramForm schema={schema.data} data={data} disabled>
        <></>
      </ProgramForm>
    </section>
  );
}
