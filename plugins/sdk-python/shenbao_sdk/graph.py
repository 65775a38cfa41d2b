"""The seed platform's approval path as a graph builder — the Rust SDK's `PlatformGraph`
in Python, with the same stage and action ids (the differential test holds the two to
one graph):

    applicant → (district) → city → province → (experts) → (public notice) → decision,
    with an optional resource library afterwards.

    from shenbao_sdk.graph import platform_graph, library

    GRAPH = platform_graph(city_sla=10, expert_review=5, public_notice=5,
                           library=library(annual_due=(3, 31), rectify_months=6, ban_months=36),
                           routes=[...])

Stages: `draft`, `district-review` (optional: each city switches it on), `city-review`,
`province-review`, `expert-review`, `public-notice`, then `passed` — or `library` and
`rectifying` with a library — and `not-passed` (with a library also `removed`,
`removed-for-cause`, `exited`).

Actions: `save-draft`, `submit`; per review level L in `district`, `city`:
`L-recommend`, `L-not-recommend`, `L-return`, `L-withdraw`, `L-rank`; the province's
`province-recommend` / `province-not-recommend` (when experts or a notice follow),
`province-return`; `assign-experts`, `score`; `publish-notice`, `object`,
`resolve-objection`; `approve`, `reject`; with a library `annual-report`, `warn`,
`rectified`, `remove`, `remove-for-cause`, `exit`.
"""

__all__ = ["platform_graph", "library"]


def library(annual_due, rectify_months, ban_months):
    """The library's duties (enabling resources, 第十八至二十一条): the yearly report's due
    day `(month, day)`, months to rectify after a warning, months barred after removal."""
    month, day = annual_due
    return {"annual_due": {"month": month, "day": day}, "rectify_months": rectify_months, "ban_months": ban_months}


def _text(zh, en):
    return {"zh": zh, "en": en}


def _stage(id, zh, en, kind, role, scope, **more):
    out = {"id": id, "title": _text(zh, en), "kind": kind, "scope": scope}
    if role is not None:
        out["role"] = role
    out.update({k: v for k, v in more.items() if v is not None and v is not False})
    return out


_REQUIRED = {"recommend", "not-recommend", "return", "decide", "warn", "remove"}
_OPTIONAL = {"withdraw", "resolve-objection", "object", "exit"}


def _action(id, zh, en, kind, from_stages, to, roles, scope, **more):
    out = {
        "id": id, "title": _text(zh, en), "kind": kind, "from_stages": list(from_stages), "to": to,
        "roles": list(roles), "scope": scope,
        "opinion": "required" if kind in _REQUIRED else "optional" if kind in _OPTIONAL else "none",
    }
    if kind == "recommend":
        out["batch"] = True
    if kind == "submit":
        out["runs_check"] = True
    out.update({k: v for k, v in more.items() if v is not None})
    return out


def platform_graph(district_review=True, city_sla=None, expert_review=None, public_notice=None, library=None,
                   routes=()):
    """The graph (a dict in the manifest's JSON shape) of the platform's path.

    - `district_review`: a district stage each city may switch on (是否需要区县审核);
    - `city_sla`: working days the city has for its review;
    - `expert_review` / `public_notice`: that stage after the province, with its working
      days (0: no service level), or `None` for no such stage;
    - `library`: [`library`]`(...)` to keep admitted applications with yearly duties;
    - `routes`: the program's routes (`{"id", "title", "when", "skip"}`), as written.
    """
    def days(name, v):
        if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
            raise TypeError(f"platform_graph: {name} is working days, a whole number >= 0 (or None), not {v!r}")

    if not isinstance(district_review, bool):
        raise TypeError("platform_graph: district_review is True or False")
    days("city_sla", city_sla)
    days("expert_review", expert_review)
    days("public_notice", public_notice)
    if library is not None and not (isinstance(library, dict)
                                    and set(library) == {"annual_due", "rectify_months", "ban_months"}):
        raise TypeError("platform_graph: library is library(annual_due=(month, day), rectify_months=, ban_months=)")
    stages = [_stage("draft", "申报人申报", "applicant drafting", "draft", "applicant", "own-organisation",
                     window="applicant")]
    levels = []
    if district_review:
        stages.append(_stage("district-review", "区县审核", "district review", "review", "district-officer", "district",
                             optional=True, window="district"))
        levels.append(("district", "区县", "district", ["district-officer"], "district"))
    stages.append(_stage("city-review", "市级审核", "city review", "review", "city-officer", "city",
                         window="city", sla_working_days=city_sla))
    levels.append(("city", "地市", "city", ["city-officer", "city-leader"], "city"))
    stages.append(_stage("province-review", "省级审核", "province review", "review", "province-officer", "province",
                         window="province"))
    if expert_review is not None:
        stages.append(_stage("expert-review", "专家评审", "expert review", "expert", "province-officer", "province",
                             sla_working_days=expert_review or None))
    if public_notice is not None:
        stages.append(_stage("public-notice", "公示", "public notice", "notice", "province-officer", "province",
                             sla_working_days=public_notice or None))
    if library is not None:
        stages.append(_stage("library", "入库", "in the library", "library", "province-officer", "province"))
        stages.append(_stage("rectifying", "预警整改", "warned, rectifying", "library", "province-officer", "province"))
        admitted = "library"
    else:
        admitted = "passed"

    def terminal(id, zh, en, outcome):
        return _stage(id, zh, en, "terminal", None, "province", outcome=outcome)

    if library is None:
        stages.append(terminal("passed", "通过", "passed", "passed"))
    stages.append(terminal("not-passed", "不通过", "not passed", "not-passed"))
    if library is not None:
        stages.append(terminal("removed", "移出资源库", "removed from the library", "removed"))
        stages.append(terminal("removed-for-cause", "移出资源库（三年内不得申报）", "removed for cause, barred from applying",
                               "removed"))
        stages.append(terminal("exited", "主动退出", "exited voluntarily", "exited"))

    def to(stage):
        return {"stage": stage}

    own = ("own-organisation",)
    actions = [
        _action("save-draft", "保存草稿", "save draft", "save-draft", ["draft"], "stay", ["applicant"], *own),
        _action("submit", "提交", "submit", "submit", ["draft"], "next", ["applicant"], *own),
    ]
    review_ids = [s["id"] for s in stages if s["kind"] == "review"]
    for i, (prefix, zh, en, roles, scope) in enumerate(levels):
        here = f"{prefix}-review"
        start = review_ids.index(here) + 1
        # Stages an application can sit at after this level recommended it.
        after = review_ids[start:start + (2 if i + 1 < len(levels) else 1)]
        actions += [
            _action(f"{prefix}-recommend", f"{zh}推荐", f"{en} recommends", "recommend", [here], "next", roles, scope),
            _action(f"{prefix}-not-recommend", f"{zh}不推荐", f"{en} does not recommend", "not-recommend", [here],
                    to("not-passed"), roles, scope),
            _action(f"{prefix}-return", f"{zh}回退", f"{en} returns", "return", [here], "previous", roles, scope),
            _action(f"{prefix}-withdraw", f"{zh}撤回", f"{en} withdraws its decision", "withdraw", after, "previous",
                    roles, scope),
            _action(f"{prefix}-rank", f"{zh}推荐排序", f"{en} ranks its recommendations", "rank", after, "stay", roles,
                    scope),
        ]
    p = ["province-officer"]
    ids = [s["id"] for s in stages]
    after_province = ids[ids.index("province-review") + 1] if ids.index("province-review") + 1 < len(ids) else None
    decide_from = ("public-notice" if public_notice is not None
                   else "expert-review" if expert_review is not None else "province-review")
    if after_province in ("expert-review", "public-notice"):
        actions.append(_action("province-recommend", "省级推荐", "province recommends", "recommend",
                               ["province-review"], "next", p, "province"))
        actions.append(_action("province-not-recommend", "省级不推荐", "province does not recommend", "not-recommend",
                               ["province-review"], to("not-passed"), p, "province"))
    actions.append(_action("province-return", "省级回退", "province returns", "return", ["province-review"], "previous",
                           p, "province"))
    if expert_review is not None:
        actions.append(_action("assign-experts", "分配专家", "assign experts", "assign-experts", ["expert-review"],
                               "stay", p, "province"))
        actions.append(_action("score", "专家评分", "expert scores", "score", ["expert-review"], "stay", ["expert"],
                               "assigned"))
    if public_notice is not None:
        source = "expert-review" if expert_review is not None else "province-review"
        actions.append(_action("publish-notice", "发布公示", "publish the public notice", "publish-notice", [source],
                               to("public-notice"), p, "province"))
        actions.append(_action("object", "公示异议", "file an objection", "object", ["public-notice"], "stay",
                               ["public"], "public"))
        actions.append(_action("resolve-objection", "处理异议", "resolve an objection", "resolve-objection",
                               ["public-notice"], "stay", p, "province"))
    actions.append(_action("approve", "审定通过", "approve", "decide", [decide_from], to(admitted), p, "province"))
    actions.append(_action("reject", "审定不通过", "reject", "decide", [decide_from], to("not-passed"), p, "province"))
    if library is not None:
        held = ["library", "rectifying"]
        actions += [
            _action("annual-report", "年度报告", "yearly report", "annual-report", held, "stay", ["applicant"], *own,
                    annual_due=library["annual_due"]),
            _action("warn", "预警", "warn", "warn", ["library"], to("rectifying"), p, "province",
                    deadline_months=library["rectify_months"]),
            _action("rectified", "整改完成", "rectified", "rectify", ["rectifying"], to("library"), p, "province"),
            # Removal after a failed rectification: no ban.
            _action("remove", "移出", "remove", "remove", held, to("removed"), p, "province"),
            # Removal for a major accident, serious dishonesty or false materials: barred.
            _action("remove-for-cause", "移出并限制申报", "remove and bar from applying", "remove", held,
                    to("removed-for-cause"), p, "province", ban_months=library["ban_months"]),
            _action("exit", "主动退出", "voluntary exit", "exit", held, to("exited"), p, "province"),
        ]
    return {"initial": "draft", "stages": stages, "actions": actions, "routes": list(routes)}
