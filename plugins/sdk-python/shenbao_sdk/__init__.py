"""shenbao_sdk — write a Shenbao program plugin in Python.

A program plugin is a WebAssembly component exporting `shenbao:program/plugin@0.1.0`
(`wit/0.1.0/program.wit`). componentize-py generates the bindings (`wit_world`) at
build time; this module hides them:

    from shenbao_sdk import Program, Checker, export, msg, BLOCKING

    RULES = [("demo.staff.min-20", BLOCKING, "demo 第三条", "研发团队不少于 20 人", "an R&D team of at least 20")]

    class Demo(Program):
        def manifest(self):
            return {...}                      # the JSON shape `shenbao plugin show` prints
        def check(self, req):
            form = req.form_data()            # the form data, already schema-valid
            c = Checker(RULES)
            c.ensure("demo.staff.min-20", "$.rd_staff", form["rd_staff"] >= 20,
                     lambda: msg(f"研发人员 {form['rd_staff']} 人，要求不少于 20 人",
                                 f"R&D staff {form['rd_staff']}, at least 20 required"))
            return c.finish()

    Plugin = export(Demo())                   # componentize-py looks for `Plugin`

Forms come from dataclasses (`shenbao_sdk.forms`: `form(id, title, MyForm)`, the same
JSON Schema the Rust SDK derives) and the platform's review path from
`shenbao_sdk.graph.platform_graph(...)` (the Rust SDK's `PlatformGraph`, same ids).

Build: `componentize-py -d wit/0.1.0 -w program componentize app -p . -p vendor -o demo.wasm` (`vendor`:
the folder holding `shenbao_sdk`, as `shenbao plugin new` lays a project out).

Messages that quote text write it as Rust's `{:?}` does ([`quoted`]) and money as the
Rust SDK's `Wan` does ([`wan`]), so a program ported between languages says the same
words.
"""

import dataclasses
import enum
import json
import typing
import unicodedata

try:
    from componentize_py_types import Err
    from wit_world import exports
    from wit_world.imports import types
except ImportError:  # outside componentize-py: `forms` and `graph` still import and run
    Err = exports = None

    class _Text:
        def __init__(self, zh, en):
            self.zh, self.en = zh, en

    class types:  # noqa: N801 — stands in for the generated module
        Text = _Text

        class Severity:
            BLOCKING, WARNING, INFO = "blocking", "warning", "info"

__all__ = [
    "BLOCKING", "WARNING", "INFO", "Program", "Checker", "Day", "PluginError", "Request",
    "export", "from_json", "msg", "quoted", "wan", "wan_en", "path", "has_tag", "blank", "rules_json",
]

BLOCKING = "blocking"
WARNING = "warning"
INFO = "info"

# ------------------------------------------------------------------ JSON → WIT records


def _enum_member(cls, value):
    if isinstance(value, cls):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{cls.__name__}: expected a kebab-case string, got {value!r}")
    try:
        return cls[value.replace("-", "_").upper()]
    except KeyError:
        raise TypeError(f"{cls.__name__}: unknown value {value!r}") from None


def _variant_case(cases, value, where):
    """`"next"` or `{"stage": "x"}` → the generated `Target_Stage("x")` dataclass."""
    if isinstance(value, str):
        tag, payload, has_payload = value, None, False
    elif isinstance(value, dict) and len(value) == 1:
        ((tag, payload),) = value.items()
        has_payload = True
    else:
        raise TypeError(f"{where}: expected a case name or a one-key object, got {value!r}")
    want = tag.replace("-", "").replace("_", "").lower()
    for case in cases:
        if case.__name__.split("_", 1)[-1].lower() == want:
            fields = dataclasses.fields(case)
            if fields and not has_payload:
                raise TypeError(f"{where}: case {tag!r} needs a value")
            return case(from_json(fields[0].type, payload, f"{where}.{tag}")) if fields else case()
    raise TypeError(f"{where}: unknown case {tag!r}")


def from_json(tp, value, where="$"):
    """Convert JSON-shaped data (dicts, lists, snake_case keys, kebab-case enum values,
    `"next"` / `{"stage": "x"}` variants) into the generated WIT dataclasses of type `tp`.
    Lists, options and booleans left out of a record default to empty, none and false."""
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) < len(typing.get_args(tp)):  # Optional[...]
            return None if value is None else from_json(args[0] if len(args) == 1 else typing.Union[tuple(args)], value, where)
        return _variant_case(args, value, where)
    if origin in (list, typing.List):
        if not isinstance(value, list):
            raise TypeError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [from_json(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_member(tp, value)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected an object for {tp.__name__}, got {value!r}")
        known = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise TypeError(f"{where}: {tp.__name__} has no field {unknown[0]!r}")
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in value:
                kwargs[f.name] = from_json(f.type, value[f.name], f"{where}.{f.name}")
            elif typing.get_origin(f.type) in (list, typing.List):
                kwargs[f.name] = []
            elif typing.get_origin(f.type) is typing.Union and type(None) in typing.get_args(f.type):
                kwargs[f.name] = None
            elif f.type is bool:
                kwargs[f.name] = False
            else:
                raise TypeError(f"{where}: {tp.__name__} needs {f.name!r}")
        return tp(**kwargs)
    if tp is str and isinstance(value, str):
        return value
    if tp is bool and isinstance(value, bool):
        return value
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


# ------------------------------------------------------------------ text


def msg(zh, en):
    """A message in Chinese (applicants, reviewers) and English (integrators)."""
    return types.Text(zh, en)


# Other_Grapheme_Extend code points that are not Mn/Me (spacing marks Rust escapes too).
_OTHER_GRAPHEME_EXTEND = frozenset(
    [0x09BE, 0x09D7, 0x0B3E, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6, 0x0D3E, 0x0D57, 0x0DCF, 0x0DDF,
     0x1B35, 0x302E, 0x302F, 0xFF9E, 0xFF9F, 0x1D165, 0x1D16E, 0x1D16F, 0x1D170, 0x1D171, 0x1D172]
)


def _escaped(ch):
    """Whether Rust's `{:?}` writes `ch` as `\\u{..}`: controls, format characters, separators other
    than the space, private-use and unassigned code points, and grapheme extenders."""
    if ch == " ":
        return False
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Co", "Cn", "Cs", "Zs", "Zl", "Zp", "Mn", "Me") or ord(ch) in _OTHER_GRAPHEME_EXTEND


def quoted(s):
    """`s` in double quotes, escaped as Rust's `{:?}` writes it (`"a\\"b"`, `"\\u{3000}"`)."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            out.append("\\0")
        elif _escaped(ch):
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def wan(amount):
    """An amount in 万元 as the forms write it: `1500 万元`, `987.5 万元`, `1234.57 万元`."""
    s = "%.2f" % amount
    return s.rstrip("0").rstrip(".") + " 万元"


def wan_en(amount):
    """An amount in 万元 as English messages write it, in yuan: `80` → `800,000 yuan`,
    `123.45678` → `1,234,567.8 yuan` (the Rust SDK's `Wan::en`)."""
    s = "%.2f" % (amount * 10_000.0)
    s = s.rstrip("0").rstrip(".")
    sign, s = ("-", s[1:]) if s.startswith("-") else ("", s)
    whole, _, frac = s.partition(".")
    return f"{sign}{int(whole):,}{'.' + frac if frac else ''} yuan"


# Unicode White_Space: what Rust's `str::trim` removes (Python's `str.strip` also removes U+001C–U+001F).
_WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def blank(s):
    """True when `s` is empty or only white space (Unicode White_Space, as Rust's `trim`)."""
    return all(ch in _WHITE_SPACE for ch in s)


def path(*parts):
    """A JSON path into the form data: `path("cases", 2, "customer")` → `$.cases[2].customer`."""
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def has_tag(applicant, tag):
    return tag in applicant.tags


# ------------------------------------------------------------------ dates


def _leap(y):
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def _days_in_month(y, m):
    if m == 2:
        return 29 if _leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


@dataclasses.dataclass(frozen=True, order=True)
class Day:
    """A calendar date with the arithmetic the notices use (month ends clamp: 2024-02-29 + 1 year = 2025-02-28)."""

    year: int
    month: int
    day: int

    @staticmethod
    def of(d):
        """From a WIT `date`, a `Day`, or `YYYY-MM-DD` text (form data; the kernel validated it)."""
        if d is None:
            return None
        if isinstance(d, str):
            return Day(int(d[0:4]), int(d[5:7]), int(d[8:10]))
        return Day(d.year, d.month, d.day)

    def add_months(self, n):
        total = self.year * 12 + self.month - 1 + n
        year, month = total // 12, total % 12 + 1
        return Day(year, month, min(self.day, _days_in_month(year, month)))

    def add_years(self, n):
        return self.add_months(12 * n)

    def years_until(self, later):
        """Whole years from this day to `later`, birthday-style."""
        y = later.year - self.year
        if (later.month, later.day) < (self.month, self.day):
            y -= 1
        return y

    def within_years_before(self, as_of, years):
        """On or before `as_of` and not before `as_of` minus `years` years."""
        return as_of.add_years(-years) <= self <= as_of

    def within_months_before(self, as_of, months):
        return as_of.add_months(-months) <= self <= as_of

    def __str__(self):
        return "%04d-%02d-%02d" % (self.year, self.month, self.day)


# ------------------------------------------------------------------ findings


_SEVERITY = {BLOCKING: types.Severity.BLOCKING, WARNING: types.Severity.WARNING, INFO: types.Severity.INFO}


def rules_json(rules):
    """The manifest's `rules` from a rule table of `(id, severity, clause, zh, en)` rows."""
    return [{"id": r[0], "severity": r[1], "clause": r[2], "title": {"zh": r[3], "en": r[4]}} for r in rules]


class Checker:
    """Collects findings and signals for one check, taking each rule's severity from the table."""

    def __init__(self, rules):
        self._severity = {r[0]: r[1] for r in rules}
        self.findings = []
        self.signals = []

    def fail(self, rule_id, at, message):
        """Record that rule `rule_id` fails at JSON path `at`."""
        if rule_id not in self._severity:
            raise KeyError(f"rule {rule_id!r} is not in the rule table")
        self.findings.append(types.Finding(rule_id, _SEVERITY[self._severity[rule_id]], at, message))

    def ensure(self, rule_id, at, ok, message):
        """When `ok` is false, record rule `rule_id` at `at` with `message()`. Returns `ok`."""
        if not ok:
            self.fail(rule_id, at, message())
        return ok

    def signal(self, signal_id, weight, message):
        """A ranking signal (declared in the manifest's `signals`)."""
        self.signals.append(types.Signal(signal_id, weight, message))

    def finish(self):
        return types.CheckResult(self.findings, self.signals)


class PluginError(Exception):
    """Raise it from `check` or `check_round` to refuse the input: the kernel shows `code` and the message."""

    def __init__(self, code, zh, en):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


class Request:
    """The check request (`types.CheckRequest`) with its JSON texts parsed on demand."""

    def __init__(self, raw):
        self.raw = raw
        self.form = raw.form
        self.direction = raw.direction
        self.applicant = raw.applicant
        self.history = raw.history
        self.attachments = raw.attachments
        self.round = raw.round
        self.as_of = Day.of(raw.as_of)

    def form_data(self):
        return json.loads(self.raw.data)

    def profile(self):
        return json.loads(self.applicant.profile)

    def round_config(self):
        return json.loads(self.round.config)


class Program:
    """A yearly program, as a plugin author writes it."""

    def manifest(self):
        """The program's manifest as JSON-shaped data (see `shenbao plugin show`)."""
        raise NotImplementedError

    def check(self, request):
        """Check one application (a `Request`); return `Checker.finish()`. Pure: dates come from `request.as_of`."""
        raise NotImplementedError

    def check_round(self, round_info, manifest):
        """Check a round's configuration; return `(findings, directions)`. The default accepts any
        configuration of a known edition and returns the manifest's directions for that edition."""
        editions = [e.id for e in manifest.editions]
        if editions and round_info.edition not in editions:
            raise PluginError(
                "unknown-edition", f"未知的版本“{round_info.edition}”", f"unknown edition {quoted(round_info.edition)}"
            )
        directions = [d for d in manifest.directions if not d.editions or round_info.edition in d.editions]
        return [], directions


def _refuse(e):
    return Err(types.PluginError(e.code, types.Text(e.zh, e.en)))


def export(program):
    """The component's export for `program`: assign it to a module-level name `Plugin`.
    Outside componentize-py (plain Python, to print a manifest or try a form) it returns
    `program` itself."""
    if exports is None:
        return program

    class Plugin(exports.Plugin):
        def describe(self):
            return from_json(types.Manifest, program.manifest())

        def check_application(self, request):
            try:
                return program.check(Request(request))
            except PluginError as e:
                raise _refuse(e)

        def check_round(self, round_info):
            try:
                findings, directions = program.check_round(round_info, self.describe())
            except PluginError as e:
                raise _refuse(e)
            return types.RoundCheck(findings, directions)

    return Plugin
