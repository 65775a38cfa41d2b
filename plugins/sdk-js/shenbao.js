// shenbao.js — write a Shenbao program plugin in JavaScript.
//
// A program plugin is a WebAssembly component exporting `shenbao:program/plugin@0.1.0`
// (`wit/0.1.0/program.wit`). componentize-js builds it from an ES module that exports
// `plugin`; this module hides the binding conventions (camelCase fields, `{tag, val}`
// variants, BigInt for u64, thrown payloads for `result` errors):
//
//   import { Checker, Program, exportProgram, msg, BLOCKING } from "../sdk-js/shenbao.js";
//   const RULES = [["demo.staff.min-20", BLOCKING, "demo 第三条", "研发团队不少于 20 人", "an R&D team of at least 20"]];
//   class Demo extends Program {
//     manifest() { return { /* the JSON shape `shenbao plugin show` prints */ }; }
//     check(req) {
//       const form = req.formData();
//       const c = new Checker(RULES);
//       c.ensure("demo.staff.min-20", "$.rd_staff", form.rd_staff >= 20, () =>
//         msg(`研发人员 ${form.rd_staff} 人，要求不少于 20 人`, `R&D staff ${form.rd_staff}, at least 20 required`));
//       return c.finish();
//     }
//   }
//   export const plugin = exportProgram(new Demo());
//
// Build: `componentize-js index.js --wit wit/0.1.0 --world-name program --disable http fetch-event -o demo.wasm`.
//
// Messages that quote text write it as Rust's `{:?}` does (`quoted`) and money as the
// Rust SDK's `Wan` does (`wan`), so a program ported between languages says the same words.

import { ESCAPED_RANGES } from "./unicode.js";

export const BLOCKING = "blocking";
export const WARNING = "warning";
export const INFO = "info";

// ------------------------------------------------------------------ JSON → WIT values

/// Fields of type u64 in the manifest (they cross the boundary as BigInt).
const U64_FIELDS = new Set(["max_bytes"]);
/// Fields whose values are WIT variants: `"next"` or `{ "stage": "x" }` in JSON.
const VARIANT_FIELDS = new Set(["to", "when"]);

function camel(key) {
  return key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function variant(value, where) {
  if (typeof value === "string") return { tag: value };
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1) return { tag: keys[0], val: toWit(value[keys[0]], `${where}.${keys[0]}`) };
  }
  throw new TypeError(`${where}: expected a case name or a one-key object, got ${JSON.stringify(value)}`);
}

/// Convert JSON-shaped data (snake_case keys, kebab-case enum values, `"next"` /
/// `{"stage": "x"}` variants) into the values componentize-js lowers: camelCase keys,
/// `{tag, val}` variants, BigInt for u64. `null` stands for an absent option.
export function toWit(value, where = "$") {
  if (Array.isArray(value)) return value.map((v, i) => toWit(v, `${where}[${i}]`));
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const at = `${where}.${k}`;
    if (v === null || v === undefined) continue;
    if (VARIANT_FIELDS.has(k)) out[camel(k)] = variant(v, at);
    else if (U64_FIELDS.has(k)) out[camel(k)] = BigInt(v);
    else out[camel(k)] = toWit(v, at);
  }
  return out;
}

/// Fill in what a WIT record needs but JSON may leave out (lists empty, options none,
/// booleans false), so a manifest can be written as compactly as `shenbao plugin show` reads.
const DEFAULTS = {
  manifest: { editions: [], categories: [], directions: [], rules: [], signals: [], expertItems: [], quotas: [], forms: [], funded: false, directionsFromRound: false, defaultEdition: "" },
  direction: { handledBy: [], attachments: [], editions: [] },
  attachment: { minCount: 0, mediaTypes: [], mustBeValid: false },
  category: { handledBy: [] },
  expertItem: { directions: [] },
  quota: { limits: [], channels: [] },
  stage: { optional: false },
  action: { fromStages: [], roles: [], batch: false, runsCheck: false, opinion: "none" },
  graph: { routes: [] },
  summary: { sections: [], columns: [] },
};

function withDefaults(kind, obj) {
  return Object.assign({}, DEFAULTS[kind], obj);
}

/// The manifest in JSON shape → the WIT `manifest` record.
export function manifestToWit(json) {
  const m = withDefaults("manifest", toWit(json));
  m.directions = m.directions.map((d) => {
    const dir = withDefaults("direction", d);
    dir.attachments = dir.attachments.map((a) => withDefaults("attachment", a));
    return dir;
  });
  m.categories = m.categories.map((c) => withDefaults("category", c));
  m.expertItems = m.expertItems.map((e) => withDefaults("expertItem", e));
  m.quotas = m.quotas.map((q) => withDefaults("quota", q));
  m.graph = withDefaults("graph", m.graph);
  m.graph.stages = (m.graph.stages || []).map((s) => withDefaults("stage", s));
  m.graph.actions = (m.graph.actions || []).map((a) => withDefaults("action", a));
  m.summary = withDefaults("summary", m.summary);
  return m;
}

// ------------------------------------------------------------------ text

/// A message in Chinese (applicants, reviewers) and English (integrators).
export function msg(zh, en) {
  return { zh, en };
}

/// Whether Rust's `{:?}` writes code point `c` as `\u{..}`: controls, format characters,
/// separators other than the space, private-use and unassigned code points, and grapheme
/// extenders (a generated table: the embedded engine has no `\p{..}` in regular expressions).
function escaped(c) {
  let lo = 0;
  let hi = ESCAPED_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = ESCAPED_RANGES[mid];
    if (c < first) hi = mid - 1;
    else if (c > last) lo = mid + 1;
    else return true;
  }
  return false;
}

/// `s` in double quotes, escaped as Rust's `{:?}` writes it (`"a\"b"`, `"\u{3000}"`).
export function quoted(s) {
  let out = '"';
  for (const ch of s) {
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\0") out += "\\0";
    else if (escaped(ch.codePointAt(0))) out += `\\u{${ch.codePointAt(0).toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

/// `x` with two decimals, rounded exactly as Rust's `{:.2}` (and C's `%.2f`): the exact
/// binary value, ties to even. `Number.prototype.toFixed` rounds ties up instead.
export function fixed2(x) {
  if (!Number.isFinite(x)) return String(x);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent;
  if (biased === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  // |x| * 100 = mantissa * 100 * 2^exponent, rounded to an integer, ties to even.
  let hundredths;
  if (exponent >= 0) hundredths = mantissa * 100n << BigInt(exponent);
  else {
    const den = 1n << BigInt(-exponent);
    const num = mantissa * 100n;
    hundredths = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && hundredths % 2n === 1n)) hundredths += 1n;
  }
  const whole = (hundredths / 100n).toString();
  const frac = (hundredths % 100n).toString().padStart(2, "0");
  return `${negative ? "-" : ""}${whole}.${frac}`;
}

/// An amount in 万元 as the forms write it: `1500 万元`, `987.5 万元`, `1234.57 万元`.
export function wan(amount) {
  return fixed2(amount).replace(/0+$/, "").replace(/\.$/, "") + " 万元";
}

/// An amount in 万元 as English messages write it, in yuan: `80` → `800,000 yuan`,
/// `123.45678` → `1,234,567.8 yuan` (the Rust SDK's `Wan::en`).
export function wanEn(amount) {
  let s = fixed2(amount * 10000).replace(/0+$/, "").replace(/\.$/, "");
  const sign = s.startsWith("-") ? "-" : "";
  if (sign) s = s.slice(1);
  const [whole, frac] = s.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}${grouped}${frac ? "." + frac : ""} yuan`;
}

/// Unicode White_Space: what Rust's `str::trim` removes (JavaScript's `trim` also removes U+FEFF and keeps U+0085).
const WHITE_SPACE = new Set(
  "\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);

/// True when `s` is empty or only white space.
export function blank(s) {
  for (const ch of s) if (!WHITE_SPACE.has(ch)) return false;
  return true;
}

/// A JSON path into the form data: `path("cases", 2, "customer")` → `$.cases[2].customer`.
export function path(...parts) {
  return parts.reduce((out, p) => (typeof p === "number" ? `${out}[${p}]` : `${out}.${p}`), "$");
}

export function hasTag(applicant, tag) {
  return applicant.tags.includes(tag);
}

// ------------------------------------------------------------------ dates

function leap(y) {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y, m) {
  if (m === 2) return leap(y) ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/// A calendar date with the arithmetic the notices use (month ends clamp: 2024-02-29 + 1 year = 2025-02-28).
export class Day {
  constructor(year, month, day) {
    this.year = year;
    this.month = month;
    this.day = day;
  }

  /// From a WIT `date`, a `Day`, or `YYYY-MM-DD` text (form data; the kernel validated it).
  static of(d) {
    if (d === null || d === undefined) return null;
    if (typeof d === "string") return new Day(Number(d.slice(0, 4)), Number(d.slice(5, 7)), Number(d.slice(8, 10)));
    return new Day(d.year, d.month, d.day);
  }

  addMonths(n) {
    const total = this.year * 12 + this.month - 1 + n;
    const year = Math.floor(total / 12);
    const month = total - year * 12 + 1;
    return new Day(year, month, Math.min(this.day, daysInMonth(year, month)));
  }

  addYears(n) {
    return this.addMonths(12 * n);
  }

  /// -1, 0 or 1.
  compare(o) {
    return Math.sign(this.year - o.year || this.month - o.month || this.day - o.day);
  }

  /// Whole years from this day to `later`, birthday-style.
  yearsUntil(later) {
    let y = later.year - this.year;
    if (later.month < this.month || (later.month === this.month && later.day < this.day)) y -= 1;
    return y;
  }

  /// On or before `asOf` and not before `asOf` minus `years` years.
  withinYearsBefore(asOf, years) {
    return this.compare(asOf) <= 0 && this.compare(asOf.addYears(-years)) >= 0;
  }

  withinMonthsBefore(asOf, months) {
    return this.compare(asOf) <= 0 && this.compare(asOf.addMonths(-months)) >= 0;
  }

  toString() {
    const pad = (n, w) => String(n).padStart(w, "0");
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }
}

// ------------------------------------------------------------------ findings

/// The manifest's `rules` from a rule table of `[id, severity, clause, zh, en]` rows.
export function rulesJson(rules) {
  return rules.map(([id, severity, clause, zh, en]) => ({ id, severity, clause, title: { zh, en } }));
}

/// Collects findings and signals for one check, taking each rule's severity from the table.
export class Checker {
  constructor(rules) {
    this.severity = new Map(rules.map((r) => [r[0], r[1]]));
    this.findings = [];
    this.signals = [];
  }

  /// Record that rule `ruleId` fails at JSON path `at`.
  fail(ruleId, at, message) {
    const severity = this.severity.get(ruleId);
    if (severity === undefined) throw new Error(`rule ${ruleId} is not in the rule table`);
    this.findings.push({ ruleId, severity, path: at, message });
  }

  /// When `ok` is false, record rule `ruleId` at `at` with `message()`. Returns `ok`.
  ensure(ruleId, at, ok, message) {
    if (!ok) this.fail(ruleId, at, message());
    return ok;
  }

  /// A ranking signal (declared in the manifest's `signals`).
  signal(id, weight, message) {
    this.signals.push({ id, weight, message });
  }

  finish() {
    return { findings: this.findings, signals: this.signals };
  }
}

/// Throw it from `check` or `checkRound` to refuse the input: the kernel shows `code` and the message.
/// (componentize-js lowers whatever a `result`-returning export throws as its error value, so
/// this is the WIT `plugin-error` record itself.)
export class PluginError {
  constructor(code, zh, en) {
    this.code = code;
    this.message = { zh, en };
  }
}

/// Any other error escaping the program: componentize-js cannot trap on it, so it becomes a
/// `plugin-error` with code `internal-error` naming the error and where it was thrown.
function internalError(e) {
  if (e instanceof PluginError) return e;
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const where = e instanceof Error && e.stack ? ` (${e.stack.split("\n")[0]})` : "";
  return new PluginError("internal-error", `插件内部错误：${what}${where}`, `the plugin failed: ${what}${where}`);
}

/// The check request with its JSON texts parsed on demand and `asOf` as a `Day`.
export class Request {
  constructor(raw) {
    this.raw = raw;
    this.form = raw.form;
    this.direction = raw.direction ?? null;
    this.applicant = raw.applicant;
    this.history = raw.history;
    this.attachments = raw.attachments;
    this.round = raw.round;
    this.asOf = Day.of(raw.asOf);
  }
  formData() {
    return JSON.parse(this.raw.data);
  }
  profile() {
    return JSON.parse(this.applicant.profile);
  }
  roundConfig() {
    return JSON.parse(this.round.config);
  }
}

/// A yearly program, as a plugin author writes it.
export class Program {
  /// The program's manifest as JSON-shaped data (see `shenbao plugin show`).
  manifest() {
    throw new Error("a program describes itself: implement manifest()");
  }

  /// Check one application (a `Request`); return `Checker.finish()`. Pure: dates come from `request.asOf`.
  check(_request) {
    throw new Error("a program checks applications: implement check(request)");
  }

  /// Check a round's configuration; return `{ findings, directions }` (WIT values). The default
  /// accepts any configuration of a known edition and returns the manifest's directions for it.
  checkRound(round, manifest) {
    const editions = manifest.editions.map((e) => e.id);
    if (editions.length > 0 && !editions.includes(round.edition)) {
      throw new PluginError("unknown-edition", `未知的版本“${round.edition}”`, `unknown edition ${quoted(round.edition)}`);
    }
    const directions = manifest.directions.filter((d) => d.editions.length === 0 || d.editions.includes(round.edition));
    return { findings: [], directions };
  }
}

/// The component's export for `program`: `export const plugin = exportProgram(new MyProgram())`.
export function exportProgram(program) {
  const describe = () => manifestToWit(program.manifest());
  return {
    describe,
    checkApplication(request) {
      try {
        return program.check(new Request(request));
      } catch (e) {
        throw internalError(e);
      }
    },
    checkRound(round) {
      try {
        return program.checkRound(round, describe());
      } catch (e) {
        throw internalError(e);
      }
    },
  };
}
