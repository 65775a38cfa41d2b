"""Forms from Python types: a dataclass (or a TypedDict) becomes the form's JSON Schema
(draft 2020-12), the same schema the Rust SDK's `form_schema::<T>()` derives from the
same form written as a Rust struct (the differential test holds the two to it).

    from dataclasses import dataclass, field
    from typing import Annotated, Optional
    from shenbao_sdk.forms import Choice, Date, Field, U32, form, form_meta

    class Scope(Choice):
        \"\"\"按申报通知第五条选择一个赋能范围\"\"\"      # → description
        BRAND = "brand", "品牌建设"                  # value, label (→ a titled `const`)
        SALES = "market-sales", "市场销售"

    @form_meta(title="申报表", description="请逐项如实填写")
    @dataclass
    class MyForm:
        name: Annotated[str, Field(title="名称", min_length=1, max_length=100,
                                   extra={"x-project-key": True})]
        scope: Annotated[Scope, Field(title="赋能范围")]
        staff: Annotated[U32, Field(title="人数")]
        since: Annotated[Optional[Date], Field(title="起始日期")] = None     # optional
        notes: Annotated[str, Field(title="备注", max_length=200)] = ""     # optional, default ""

    FORM = form("main", msg("申报表", "application form"), MyForm)

How types map (as `schemars` and the Rust SDK's `for_people` map the Rust ones):
- `str` → string; `bool` → boolean; `float` / [`Wan`] → number; `int` → integer
  within ±(2**53 − 1) (Rust `i64`); [`U8`] … [`U64`], [`I32`] → integer within the
  Rust type's bounds; `datetime.date` / [`Date`] → a `YYYY-MM-DD` string.
- `list[X]` → array of X; `Optional[X]` → X, not required.
- a dataclass or TypedDict → an object in `$defs` (named by the class), referred to
  with `$ref`; its docstring is the description, [`form_meta`] gives a title.
- a [`Choice`] → a choice among constants, each with its label, in `$defs`; a plain
  `enum.Enum` of strings, or `Literal["a", "b"]` → `{"type": "string", "enum": [...]}`.
- a field is required unless it is `Optional` or has a default; a default other than
  `None` is written as the field's `default`.
- [`Field`] gives titles (shown to applicants: Chinese), help text and bounds;
  `extra` adds keywords as written (`x-public`, `x-project-key`).
"""

import dataclasses
import datetime
import enum
import json
import types
import typing

__all__ = [
    "Choice", "Field", "form_meta", "form_schema", "form", "Date", "Wan",
    "U8", "U16", "U32", "U64", "I8", "I16", "I32", "I64",
]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_SAFE = 9_007_199_254_740_991


class Field:
    """A field's title, help text and bounds, given with `typing.Annotated`:
    `Annotated[str, Field(title="名称", max_length=100)]`. Keyword names are Python's
    spelling of JSON Schema's (`min_length` → `minLength`); `extra` is merged as
    written. Several `Field`s on one type merge, later ones winning."""

    _KEYS = {
        "title": "title", "description": "description", "min_length": "minLength",
        "max_length": "maxLength", "minimum": "minimum", "maximum": "maximum",
        "exclusive_minimum": "exclusiveMinimum", "exclusive_maximum": "exclusiveMaximum",
        "min_items": "minItems", "max_items": "maxItems", "pattern": "pattern", "format": "format",
    }

    def __init__(self, *, extra=None, **keywords):
        unknown = sorted(set(keywords) - set(self._KEYS))
        if unknown:
            raise TypeError(f"Field: unknown keyword {unknown[0]!r}; known: {', '.join(self._KEYS)}, extra")
        self.keywords = {self._KEYS[k]: v for k, v in keywords.items() if v is not None}
        self.keywords.update(extra or {})

    def __repr__(self):
        return f"Field({self.keywords!r})"


def _bounded(lo, hi):
    return typing.Annotated[int, Field(minimum=lo, maximum=hi)]


U8 = _bounded(0, 255)
U16 = _bounded(0, 65_535)
U32 = _bounded(0, 4_294_967_295)
U64 = _bounded(0, _SAFE)
I8 = _bounded(-128, 127)
I16 = _bounded(-32_768, 32_767)
I32 = _bounded(-2_147_483_648, 2_147_483_647)
I64 = _bounded(-_SAFE, _SAFE)
#: A day, `YYYY-MM-DD` (the Rust SDK's `Date`).
Date = typing.Annotated[str, Field(format="date", pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
#: An amount in 万元 (the Rust SDK's `Wan`).
Wan = typing.Annotated[float, Field(description="单位：万元")]


class Choice(str, enum.Enum):
    """A choice among labelled constants: each member is `NAME = "value", "label"`.
    The class docstring, if any, is the choice's description."""

    def __new__(cls, value, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def form_meta(title=None, description=None):
    """Class decorator: the title (and description, else the docstring) of a form or
    of a section written as its own class."""

    def mark(cls):
        cls.__shenbao_title__ = title
        if description is not None:
            cls.__shenbao_description__ = description
        return cls

    return mark


def _own_doc(cls):
    if "__shenbao_description__" in cls.__dict__:
        return cls.__shenbao_description__
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return None
    # The docstring `@dataclass` writes for a class without one is its signature.
    if dataclasses.is_dataclass(cls) and doc.startswith(cls.__name__ + "("):
        return None
    if isinstance(cls, type) and issubclass(cls, enum.Enum) and doc in (Choice.__doc__, "An enumeration."):
        return None
    return " ".join(line.strip() for line in doc.strip().splitlines())


def _is_typeddict(tp):
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


class _Schemas:
    def __init__(self):
        self.defs = {}
        self.classes = {}

    def reference(self, cls, build):
        name = cls.__name__
        seen = self.classes.setdefault(name, cls)
        if seen is not cls:
            raise TypeError(f"two different types are named {name} ({seen.__module__}.{seen.__qualname__} and "
                            f"{cls.__module__}.{cls.__qualname__}): a form's sections and choices need distinct names")
        if name not in self.defs:
            self.defs[name] = None  # reserve first: a recursive type refers to itself
            self.defs[name] = build(cls)
        return {"$ref": f"#/$defs/{name}"}

    def of(self, tp, where):
        """The schema of annotation `tp` (fields' `Field`s applied)."""
        keywords = {}
        tp = _unwrap_required(tp)
        while typing.get_origin(tp) is typing.Annotated:
            args = typing.get_args(tp)
            tp = _unwrap_required(args[0])
            level = {}
            for meta in args[1:]:
                if isinstance(meta, Field):
                    # Python flattens nested `Annotated`s: later `Field`s are the outer ones.
                    level.update(meta.keywords)
            keywords = {**level, **keywords}
        schema = self.bare(tp, where)
        if "$ref" in schema:
            return {**schema, **keywords}
        schema.update(keywords)
        return schema

    def bare(self, tp, where):
        origin = typing.get_origin(tp)
        if origin is typing.Union or origin is getattr(types, "UnionType", None):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                return self.of(args[0], where)
            raise TypeError(f"{where}: a union of several types is not a form field; use a Choice")
        if origin in (list, typing.List) or tp in (list, typing.List):
            (item,) = typing.get_args(tp) or (None,)
            if item is None:
                raise TypeError(f"{where}: say what the list holds, list[X]")
            return {"type": "array", "items": self.of(item, f"{where}[]")}
        if origin is typing.Literal:
            values = list(typing.get_args(tp))
            return {"type": _json_type(values, where), "enum": values}
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer", "minimum": -_SAFE, "maximum": _SAFE}
        if tp is float:
            return {"type": "number"}
        if tp is datetime.date:
            return self.of(Date, where)
        if isinstance(tp, type) and issubclass(tp, Choice):
            return self.reference(tp, self.choice)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self.reference(tp, self.enumeration)
        if dataclasses.is_dataclass(tp) or _is_typeddict(tp):
            return self.reference(tp, self.obj)
        raise TypeError(
            f"{where}: {getattr(tp, '__name__', tp)!s} is not a form type — use str, bool, float or Wan (money in "
            "万元), int or U8…U64/I8…I64, Date or datetime.date, list[X], Optional[X], a dataclass or TypedDict "
            "(a section), a Choice (labelled options) or Literal[...]"
        )

    def choice(self, cls):
        options = [{"type": "string", "const": m.value, "title": m.label} for m in cls]
        out = {"oneOf": options, "type": "string"}
        return self.described(cls, out)

    def enumeration(self, cls):
        values = [m.value for m in cls]
        return self.described(cls, {"type": _json_type(values, cls.__name__), "enum": values})

    def described(self, cls, out):
        title = getattr(cls, "__dict__", {}).get("__shenbao_title__")
        if title:
            out["title"] = title
        doc = _own_doc(cls)
        if doc:
            out["description"] = doc
        return out

    def obj(self, cls):
        hints = typing.get_type_hints(cls, include_extras=True)
        properties, required = {}, []
        if dataclasses.is_dataclass(cls):
            for f in dataclasses.fields(cls):
                tp = hints[f.name]
                prop = self.of(tp, f"{cls.__name__}.{f.name}")
                if f.default is not dataclasses.MISSING:
                    default = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    default = f.default_factory()
                else:
                    default = dataclasses.MISSING
                if default is dataclasses.MISSING and not _optional(tp):
                    required.append(f.name)
                elif default is not dataclasses.MISSING and default is not None:
                    prop["default"] = _json_default(default, f"{cls.__name__}.{f.name}")
                properties[f.name] = prop
        else:
            for name, tp in hints.items():
                properties[name] = self.of(tp, f"{cls.__name__}.{name}")
                # `total=False`, `NotRequired[...]` and `Optional[...]` keys are optional.
                if name in cls.__required_keys__ and not _optional(_unwrap_required(tp)):
                    required.append(name)
        out = {"type": "object", "properties": properties}
        if required:
            out["required"] = required
        return self.described(cls, out)


def _unwrap_required(tp):
    """`Required[X]` / `NotRequired[X]` (a TypedDict's key markers) → X."""
    while typing.get_origin(tp) in (getattr(typing, "Required", None), getattr(typing, "NotRequired", None)) \
            and typing.get_origin(tp) is not None:
        tp = typing.get_args(tp)[0]
    return tp


def _json_default(value, where):
    """A field's default as JSON: dates as `YYYY-MM-DD`, choices as their value."""
    if isinstance(value, enum.Enum):
        return _json_default(value.value, where)
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_default(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_default(v, where) for k, v in value.items()}
    if dataclasses.is_dataclass(value):
        return _json_default(dataclasses.asdict(value), where)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"{where}: its default {value!r} cannot be written as JSON")


def _optional(tp):
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    origin = typing.get_origin(tp)
    return (origin is typing.Union or origin is getattr(types, "UnionType", None)) and type(None) in typing.get_args(tp)


def _json_type(values, where):
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return "string"
    if kinds == {int}:
        return "integer"
    raise TypeError(f"{where}: choices are all strings or all whole numbers")


def form_schema(cls, extra=None):
    """The JSON Schema (a dict) of form class `cls`: a dataclass or TypedDict, its
    sections and choices in `$defs`. `extra` is deep-merged afterwards (objects key by
    key, anything else replaces) — for what types cannot say: `allOf` of `if`/`then`,
    `dependentRequired`.

    Raises `TypeError` naming the field whose type is not a form type."""
    schemas = _Schemas()
    root = dict(schemas.obj(cls))
    title = cls.__dict__.get("__shenbao_title__")
    out = {"type": "object", "properties": root["properties"]}
    if "required" in root:
        out["required"] = root["required"]
    if title:
        out["title"] = title
    if "description" in root:
        out["description"] = root["description"]
    out["$schema"] = DRAFT_2020_12
    schemas.defs.pop(cls.__name__, None)
    if schemas.defs:
        out["$defs"] = schemas.defs
    if extra:
        _merge(out, extra)
    return out


def _merge(into, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def form(id, title, cls, extra=None):
    """A manifest's form entry (`{"id", "title", "schema"}`) with the schema of `cls`
    ([`form_schema`]); `title` is a `{"zh", "en"}` dict or `msg(...)`."""
    if not isinstance(title, dict):
        title = {"zh": title.zh, "en": title.en}
    schema = form_schema(cls, extra)
    return {"id": id, "title": title, "schema": json.dumps(schema, ensure_ascii=False, separators=(",", ":"))}
