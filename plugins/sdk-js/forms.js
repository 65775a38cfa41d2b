// Forms from types: a TypeBox schema (`Type.Object`, `Type.String`, …; TypeBox's schemas
// are JSON Schema) becomes the form's JSON Schema (draft 2020-12), the same schema the Rust
// SDK's `form_schema::<T>()` derives from the same form written as a Rust struct (the
// differential test holds the three languages to it).
//
//   import { Type } from "./typebox.js";
//   import { Field, form } from "./forms.js";
//
//   const Scope = Type.Union([                       // a choice: named by $id, in $defs
//     Type.Literal("brand", { title: "品牌建设" }),
//     Type.Literal("market-sales", { title: "市场销售" }),
//   ], { $id: "Scope", description: "按申报通知第五条选择一个赋能范围" });
//
//   const MyForm = Type.Object({
//     name: Type.String({ title: "名称", minLength: 1, maxLength: 100, "x-project-key": true }),
//     scope: Type.Ref(Scope, { title: "赋能范围" }),
//     staff: Field.u32({ title: "人数" }),
//     since: Type.Optional(Field.date({ title: "起始日期" })),     // optional
//     notes: Type.String({ title: "备注", maxLength: 200, default: "" }),  // has a default: optional
//   }, { title: "申报表" });
//
//   const FORM = form("main", msg("申报表", "application form"), MyForm, { defs: [Scope] });
//
// What `formSchema` does to TypeBox's output, as the Rust SDK's `for_people` does to
// schemars' (so renderers and strict validators take it):
// - every schema with an `$id` (passed in `defs`, or written in place) goes to `$defs`
//   under that name; `Type.Ref(X)` points there (`#/$defs/X`);
// - a union of literals becomes `oneOf` of titled constants with its `type`;
// - `anyOf [X, null]` becomes X (an optional value is absent, not null);
// - a property with a `default` is not required (as `#[serde(default)]` in Rust).
// `Field` gives the Rust SDK's field types: `date` (`YYYY-MM-DD`), `wan` (万元),
// `u8` … `u64`, `i8` … `i64` (integers within the Rust type's bounds).

import { Type } from "./typebox.js";

const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";
const SAFE = 9007199254740991;

function bounded(lo, hi) {
  return (options = {}) => {
    const out = { ...options };
    out.minimum = options.minimum === undefined ? lo : Math.max(lo, options.minimum);
    out.maximum = options.maximum === undefined ? hi : Math.min(hi, options.maximum);
    return Type.Integer(out);
  };
}

/** The Rust SDK's field types as TypeBox schemas; each takes TypeBox's options (title, …). */
export const Field = Object.freeze({
  /** A day, `YYYY-MM-DD` (the Rust SDK's `Date`). */
  date: (options = {}) => Type.String({ format: "date", pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", ...options }),
  /** An amount in 万元 (the Rust SDK's `Wan`). */
  wan: (options = {}) => Type.Number({ description: "单位：万元", ...options }),
  u8: bounded(0, 255),
  u16: bounded(0, 65535),
  u32: bounded(0, 4294967295),
  u64: bounded(0, SAFE),
  i8: bounded(-128, 127),
  i16: bounded(-32768, 32767),
  i32: bounded(-2147483648, 2147483647),
  i64: bounded(-SAFE, SAFE),
});

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isNull = (o) => isObject(o) && Object.keys(o).length === 1 && o.type === "null";

function constType(value) {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return "";
}

/**
 * Rewrite one (already plain JSON) schema node in place, then its children. `ctx`:
 * `defs` (the `$defs` found so far), `named` (the `defs` option by `$id`), `origins`
 * (each `$id` written in place, as first met: two different ones are refused).
 */
function forPeople(node, ctx, where) {
  const { defs, named, origins } = ctx;
  if (Array.isArray(node)) {
    node.forEach((n, i) => forPeople(n, ctx, `${where}[${i}]`));
    return;
  }
  if (!isObject(node)) return;
  // A named schema written in place goes to $defs.
  if (typeof node.$id === "string") {
    const id = node.$id;
    const body = { ...node };
    delete body.$id;
    const written = JSON.stringify(node);
    if (!(id in defs)) {
      origins.set(id, written);
      defs[id] = body;
      forPeople(body, ctx, `$defs/${id}`);
    } else if (origins.has(id) && origins.get(id) !== written) {
      throw new Error(`form: two different schemas have the $id ${JSON.stringify(id)} (one at ${where}); ` +
        "a form's sections and choices need distinct $ids");
    }
    for (const k of Object.keys(node)) delete node[k];
    node.$ref = `#/$defs/${id}`;
    return;
  }
  if (typeof node.$ref === "string" && !node.$ref.startsWith("#")) {
    const id = node.$ref;
    if (!(id in named)) {
      throw new Error(`form: ${where} refers to ${JSON.stringify(id)}, which is not among the form's defs; ` +
        `pass the schema with that $id in { defs: [...] }`);
    }
    node.$ref = `#/$defs/${id}`;
    if (!(id in defs)) {
      const body = JSON.parse(JSON.stringify(named[id]));
      delete body.$id;
      defs[id] = body;
      forPeople(body, ctx, `$defs/${id}`);
    }
  }
  // `anyOf [X, null]` → X.
  if (Array.isArray(node.anyOf) && node.anyOf.length === 2 && node.anyOf.filter(isNull).length === 1) {
    const x = node.anyOf.find((o) => !isNull(o));
    delete node.anyOf;
    for (const [k, v] of Object.entries(x)) if (!(k in node)) node[k] = v;
  }
  // TypeBox types that are not JSON (Type.Date, Type.Uint8Array, Type.BigInt …), also
  // behind a null alternative.
  const JSON_TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"];
  if (typeof node.type === "string" && !JSON_TYPES.includes(node.type)) {
    throw new Error(`form: ${where} is a ${node.type}, which JSON cannot hold — ` +
      `use Field.date() for a day, Field.wan() for money, Type.String/Number/Integer/Boolean/Array/Object`);
  }
  // `type: [T, "null"]` → T.
  if (Array.isArray(node.type) && node.type.length === 2 && node.type.includes("null")) {
    node.type = node.type.find((t) => t !== "null");
  }
  // A choice among constants (a union of literals): `oneOf`, typed, each option titled.
  for (const key of ["anyOf", "oneOf"]) {
    const opts = node[key];
    if (!Array.isArray(opts) || opts.length === 0 || !opts.every((o) => isObject(o) && "const" in o)) continue;
    const types = new Set();
    for (const o of opts) {
      if (!("title" in o) && "description" in o) {
        o.title = o.description;
        delete o.description;
      }
      types.add(constType(o.const));
    }
    delete node[key];
    node.oneOf = opts;
    if (types.size === 1 && !types.has("") && !("type" in node)) node.type = [...types][0];
  }
  // Properties with a default are optional.
  if (isObject(node.properties) && Array.isArray(node.required)) {
    node.required = node.required.filter((k) => !(isObject(node.properties[k]) && "default" in node.properties[k]));
    if (node.required.length === 0) delete node.required;
  }
  for (const [k, v] of Object.entries(node)) {
    if (k === "const" || k === "default" || k === "enum") continue;
    forPeople(v, ctx, `${where}/${k}`);
  }
}

function merge(into, extra) {
  for (const [k, v] of Object.entries(extra)) {
    if (isObject(v) && isObject(into[k])) merge(into[k], v);
    else into[k] = v;
  }
}

/**
 * The JSON Schema (a plain object) of form `root`, a TypeBox `Type.Object`.
 * `defs`: the named schemas (each with an `$id`) the form refers to with `Type.Ref`;
 * `extra`: deep-merged afterwards (objects key by key, anything else replaces) — for
 * what types cannot say (`allOf` of `if`/`then`, `dependentRequired`).
 * Throws an `Error` naming a reference to a schema not in `defs`.
 */
export function formSchema(root, { defs = [], extra } = {}) {
  const named = {};
  for (const d of defs) {
    if (typeof d?.$id !== "string") throw new Error("form: every schema in defs needs an $id (its name in $defs)");
    if (d.$id in named && named[d.$id] !== d) {
      throw new Error(`form: two schemas in defs have the $id ${JSON.stringify(d.$id)}; give each its own`);
    }
    named[d.$id] = d;
  }
  // JSON round trip: TypeBox's symbols go, the schema stays. The root stays in place
  // even when it was given an `$id` (it is the form, not a section).
  const out = JSON.parse(JSON.stringify(root));
  delete out.$id;
  if (out.type !== "object" || !isObject(out.properties)) {
    throw new Error("form: the root is a Type.Object({...}) of the form's fields");
  }
  const found = {};
  forPeople(out, { defs: found, named, origins: new Map() }, "#");
  out.$schema = DRAFT_2020_12;
  if (Object.keys(found).length > 0) out.$defs = found;
  if (extra) merge(out, extra);
  return out;
}

/** A manifest's form entry `{ id, title, schema }` with the schema of `root` ([`formSchema`]). */
export function form(id, title, root, options = {}) {
  return { id, title, schema: JSON.stringify(formSchema(root, options)) };
}
