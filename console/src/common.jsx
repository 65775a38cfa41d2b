// Shared pieces of the console's pages.
import { useCallback, useEffect, useState } from "react";
import { ApiError, get, serverNow } from "./api.js";

/** Who the user is, as people say it: 申报单位 / 区县 / 地市 / 省级 / 专家 / 管理员. */
export function roleNames(user) {
  const names = {
    applicant: "申报单位",
    "district-officer": "区县审核",
    "city-officer": "地市审核",
    "city-leader": "地市分管领导",
    "province-officer": "省级审核",
    expert: "评审专家",
    admin: "管理员",
    public: "公众",
  };
  return [...new Set(user.grants.map((g) => names[g.role] ?? g.role))].join("、");
}

/** Load `path` (or several) and keep the result; errors shown in Chinese. */
export function useApi(paths, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null });
  const reload = useCallback(() => {
    const list = Array.isArray(paths) ? paths : [paths];
    Promise.all(list.map((p) => get(p)))
      .then((r) => setState({ data: Array.isArray(paths) ? r : r[0], error: null }))
      .catch((e) => setState({ data: undefined, error: e }));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

export function Problem({ error }) {
  if (!error) return null;
  return (
    <div role="alert" className="problem">
      {error instanceof ApiError ? error.zh : String(error)}
    </div>
  );
}


/** The Chinese half of a bilingual text (`{zh, en}` or "中文 / English"). */
export const zh = (t) => (typeof t === "string" ? t.split(" / ")[0] : (t?.zh ?? ""));

/** A timestamp (seconds since the epoch) as Beijing time, `2024-08-10 09:00`. */
export function when(ts) {
  if (ts === null || ts === undefined) return "";
  const secs = typeof ts === "number" ? ts : Date.parse(ts) / 1000;
  const d = new Date((secs + 8 * 3600) * 1000);
  return d.toISOString().slice(0, 16).replace("T", " ");
}

/** The title of `stage` in `round`'s graph. */
export function stageTitle(round, stage) {
  return zh(round?.graph?.stages?.find((s) => s.id === stage)?.title) || stage;
}

/** A round as people name it: the program's name, the year and the batch. */
export function roundName(round, plugins) {
  const p = plugins?.find((x) => x.id.program === round.spec.program && x.id.sha256 === round.plugin.sha256);
  const name = zh(p?.manifest?.name) || round.spec.program;
  return `${name} ${round.spec.year}${round.spec.batch ? ` ${round.spec.batch}` : ""}`;
}

const GROUP_NAMES = { prd: "珠三角", east: "粤东", west: "粤西", north: "粤北" };

/** Region names by id (惠州市 for `huizhou`, 珠三角 for its group), for showing
 * places, not ids; `.region(id)` gives the region itself. */
export function useRegionNames() {
  const regions = useApi("/v1/regions");
  const region = (id) => regions.data?.find((r) => r.id === id);
  const name = (id) => region(id)?.name ?? GROUP_NAMES[id] ?? id;
  name.region = region;
  return name;
}

/** The JSON pointer of the field a form's schema marks `"x-project-key": true`
 * (the project's name), following `properties`, `$ref` and `anyOf`/`oneOf`. */
export function projectPointer(schema, node = schema, at = "", depth = 0) {
  if (!node || depth > 8) return null;
  if (node.$ref?.startsWith("#/")) {
    node = node.$ref.slice(2).split("/").reduce((n, k) => n?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], schema);
    if (!node) return null;
  }
  for (const [name, prop] of Object.entries(node.properties ?? {})) {
    const here = `${at}/${name}`;
    if (prop?.["x-project-key"] === true) return here;
    const found = projectPointer(schema, prop, here, depth + 1);
    if (found) return found;
  }
  for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) {
    const found = projectPointer(schema, alt, at, depth + 1);
    if (found) return found;
  }
  return null;
}

/** The value at JSON pointer `p` in `data`. */
export function at(data, p) {
  return p?.split("/").slice(1).reduce((d, k) => d?.[k], data);
}

/** Days from today (Beijing) to `date` (`YYYY-MM-DD` or a timestamp), as people
 * read a deadline: 剩 3 天 / 今天截止 / 已超期 2 天. */
export function countdown(date) {
  if (!date) return null;
  const day = typeof date === "number" ? when(date).slice(0, 10) : String(date).slice(0, 10);
  const today = when(serverNow()).slice(0, 10);
  const days = Math.round((Date.parse(day) - Date.parse(today)) / 86400e3);
  if (Number.isNaN(days)) return null;
  if (days > 0) return { text: `剩 ${days} 天`, overdue: false };
  if (days === 0) return { text: "今天截止", overdue: false };
  return { text: `已超期 ${-days} 天`, overdue: true };
}
