"""A minimal complete program in Python — the author guide's example (plugins/README.md).

One form, one rule, one quota, a two-step review (city → decided). The same program is
written in Rust (`../rust`) and JavaScript (`../js`); the test suite builds all three and
requires the same manifest and findings.
"""

import json

from shenbao_sdk import BLOCKING, Checker, Program, export, msg, path, rules_json

# The rule table: one row per machine-checkable clause — id, severity, clause, zh, en.
RULES = [
    ("minimal.staff.min-20", BLOCKING, "示例通知 第三条", "研发人员不少于 20 人", "at least 20 R&D staff"),
]

# The form: a JSON Schema (draft 2020-12). The kernel validates data against it before `check` runs.
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "研发团队小额资助申报表",
    "type": "object",
    "properties": {
        "project_name": {"title": "项目名称", "type": "string", "minLength": 1, "maxLength": 60},
        "rd_staff": {"title": "研发人员数（人）", "type": "integer", "minimum": 0, "maximum": 4294967295},
    },
    "required": ["project_name", "rd_staff"],
}


def text(zh, en):
    return {"zh": zh, "en": en}


# The review path: the applicant drafts and submits, the city recommends (within its quota)
# or not, and the application ends passed or not passed.
GRAPH = {
    "initial": "draft",
    "stages": [
        {"id": "draft", "title": text("申报人填报", "applicant drafting"), "kind": "draft",
         "role": "applicant", "scope": "own-organisation", "window": "applicant"},
        {"id": "city-review", "title": text("市级审核", "city review"), "kind": "review",
         "role": "city-officer", "scope": "city", "sla_working_days": 10, "window": "city"},
        {"id": "passed", "title": text("通过", "passed"), "kind": "terminal", "scope": "province", "outcome": "passed"},
        {"id": "not-passed", "title": text("不通过", "not passed"), "kind": "terminal", "scope": "province",
         "outcome": "not-passed"},
    ],
    "actions": [
        {"id": "save-draft", "title": text("保存草稿", "save draft"), "kind": "save-draft", "from_stages": ["draft"],
         "to": "stay", "roles": ["applicant"], "scope": "own-organisation", "opinion": "none"},
        {"id": "submit", "title": text("提交", "submit"), "kind": "submit", "from_stages": ["draft"], "to": "next",
         "roles": ["applicant"], "scope": "own-organisation", "opinion": "none", "runs_check": True},
        {"id": "city-recommend", "title": text("市级推荐", "city recommends"), "kind": "recommend",
         "from_stages": ["city-review"], "to": {"stage": "passed"}, "roles": ["city-officer"], "scope": "city",
         "opinion": "required", "batch": True},
        {"id": "city-not-recommend", "title": text("市级不推荐", "city does not recommend"), "kind": "not-recommend",
         "from_stages": ["city-review"], "to": {"stage": "not-passed"}, "roles": ["city-officer"], "scope": "city",
         "opinion": "required"},
        {"id": "city-return", "title": text("退回修改", "return for changes"), "kind": "return",
         "from_stages": ["city-review"], "to": "previous", "roles": ["city-officer"], "scope": "city",
         "opinion": "required"},
    ],
}


class Minimal(Program):
    def manifest(self):
        return {
            "program": "minimal",
            "name": text("研发团队小额资助（示例）", "small grants for R&D teams (example)"),
            "version": "0.1.0",
            "editions": [{"id": "2026", "year": 2026, "title": text("2026 年度", "2026")}],
            "default_edition": "2026",
            "forms": [{"id": "main", "title": text("申报表", "application form"),
                       "schema": json.dumps(SCHEMA, ensure_ascii=False, separators=(",", ":"))}],
            "directions": [{
                "id": "general", "title": text("研发团队", "R&D teams"), "form": "main", "handled_by": ["diit"],
                "attachments": [{"id": "business-licence", "title": text("营业执照", "business licence"), "min_count": 1}],
            }],
            "rules": rules_json(RULES),
            "expert_items": [{"id": "minimal.expert.feasibility", "clause": "示例通知 第四条",
                              "title": text("项目可行性", "feasibility of the project")}],
            "quotas": [{
                "id": "city-cap", "title": text("每市推荐不超过 5 项", "at most 5 per city"),
                "action": "city-recommend", "group_by": "city", "default_limit": 5,
                "message": text("{scope} 已推荐 {used} 项，上限 {limit} 项", "{scope} has recommended {used} of {limit}"),
            }],
            "graph": GRAPH,
            "summary": {"title": text("推荐汇总表", "recommendation summary"), "columns": [
                {"title": text("序号", "rank"), "source": "rank"},
                {"title": text("申报单位", "applicant"), "source": "applicant:name"},
                {"title": text("项目名称", "project"), "source": "/project_name"},
            ]},
        }

    def check(self, req):
        form = req.form_data()
        c = Checker(RULES)
        staff = form["rd_staff"]
        c.ensure("minimal.staff.min-20", path("rd_staff"), staff >= 20,
                 lambda: msg(f"研发人员 {staff} 人，要求不少于 20 人", f"{staff} R&D staff, at least 20 required"))
        return c.finish()


Plugin = export(Minimal())
