// The kernel's findings (`$.revenue[0].year`) as react-jsonschema-form's error
// schema ({revenue: {0: {year: {__errors: […]}}}}), so each shows at its field.

/** `$.a[0].b` → ["a", "0", "b"]; `$` → []. */
export function pathParts(path) {
  const parts = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]|\["([^"]+)"\]/g;
  let m;
  while ((m = re.exec(path.replace(/^\$/, ""))) !== null) parts.push(m[1] ?? m[2] ?? m[3]);
  return parts;
}

/** The Chinese half of a bilingual text object or string. */
export const zh = (t) => (typeof t === "string" ? t.split(" / ")[0] : t?.zh ?? "");

/** Error schema for rjsf's `extraErrors` from blocking findings. */
export function errorSchema(findings) {
  const root = {};
  for (const f of findings) {
    let node = root;
    for (const p of pathParts(f.path ?? "$")) node = node[p] ??= {};
    (node.__errors ??= []).push(zh(f.message));
  }
  return root;
}
