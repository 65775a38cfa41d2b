"""广东省制造业赋能资源 — manufacturing enabling resources (seed 002), in Python.

The same program as `plugins/enabling-resources` (Rust), rule by rule from
`shared/programs/enabling-resources.md`, with the same rule ids, paths and messages;
`tests/differential.rs` holds the three languages to identical findings.
"""


from shenbao_sdk import BLOCKING, INFO, WARNING, Checker, Day, PluginError, Program, export, msg, path, quoted, wan
from shenbao_sdk import blank, has_tag, rules_json

from shenbao_sdk.forms import form

from er_form import ResourceForm
from er_graph import GRAPH

PROGRAM = "enabling-resources"
FORM = "resource"

# ---------------------------------------------------------------- rule table

RULES = [
    ("er.basic.not-seriously-dishonest", BLOCKING, "002 第四条(五)、第七条(五)",
     "未列入严重失信主体名单", "not on the list of seriously dishonest entities"),
    ("er.basic.no-major-accident-3y", BLOCKING, "002 第四条(四)、第九条(五)",
     "申报截止日前 3 年内未发生重大（含）以上安全生产、环境保护、产品质量事故（承诺）",
     "no major-or-worse safety, environmental or quality accident in the 3 years (committed)"),
    ("er.basic.truthfulness-commitment", BLOCKING, "002 第九条(五)",
     "承诺申报材料真实", "the applicant commits that the materials are true"),
    ("er.specific.not-abnormal-operation", BLOCKING, "002 第七条(五)",
     "未列入经营异常名录", "not on the abnormal-operation list"),
    ("er.history.not-banned-3y", BLOCKING, "002 第二十条、第二十一条",
     "因重大事故、严重失信或提供虚假材料被移出资源库或撤销的，3 年内不得申报",
     "removed or revoked for an accident, serious dishonesty or false materials: no application for 3 years"),
    ("er.route.innovation-platform-valid", BLOCKING, "002 第十七条",
     "直接入库的创新平台须经省级以上政府部门认定且在有效期内",
     "a platform entering directly must be recognised at provincial level or above and still valid"),
    ("er.scope.matches-direction", BLOCKING, "002 第五条",
     "申报表所填赋能范围与申报方向一致", "the form's scope is the application's direction"),
    ("er.specific.years-in-business-min-2", WARNING, "002 第七条(一)",
     "从事相关业务不少于 2 年（颠覆性、前沿突破可经省核实放宽）",
     "at least 2 years in the business (the province may relax it for breakthroughs)"),
    ("er.specific.revenue-two-years", BLOCKING, "002 第七条(二)",
     "填报近 2 年营业收入", "revenue of the last 2 years is given"),
    ("er.specific.revenue-avg-2y-min-1000", BLOCKING, "002 第七条(二)",
     "近 2 年年均营业收入不低于 1000 万元", "average yearly revenue over the last 2 years ≥ 1000 万元"),
    ("er.specific.revenue-exempt", INFO, "002 第七条(二)",
     "创新型中小企业、高校、科研院所、新型研发机构不受营业收入限制",
     "innovative SMEs, universities, research institutes and new R&D institutions are exempt from the revenue floor"),
    ("er.resource.core-ip-or-own-method", BLOCKING, "002 第六条(二)",
     "拥有核心知识产权或自有服务体系、方法、运营模式", "core IP, or an own service system/method/operating model"),
    ("er.cases.min-3", BLOCKING, "002 第九条(二)", "典型案例不少于 3 个", "at least 3 typical cases"),
    ("er.cases.feedback-required", BLOCKING, "002 第九条(二)", "每个案例附客户反馈", "each case carries customer feedback"),
    ("er.freshness.feedback-within-1y", BLOCKING, "002 第十二条",
     "用户反馈等证明材料为近 1 年内", "user feedback is dated within 1 year"),
    ("er.freshness.ip-within-5y", BLOCKING, "002 第十二条",
     "知识产权证书为近 5 年内授权", "IP certificates granted within 5 years"),
    ("er.materials.audit-report", BLOCKING, "002 第九条(四)",
     "提供上一年度经审计的财务报告（创新型中小企业、高校、科研院所可提供财务报表）",
     "last year's audited financial report (innovative SMEs, universities, institutes may give a financial statement)"),
]

# Qualification ids of innovation platforms that enter the library directly (第十七条).
INNOVATION_PLATFORMS = [
    "manufacturing-innovation-centre",
    "industrial-design-centre",
    "enterprise-technology-centre",
    "engineering-research-centre",
    "key-laboratory",
]

# Tags that lift the revenue floor (第七条(二)).
REVENUE_EXEMPT_TAGS = ["innovative-sme", "university", "research-institute", "new-rd-institution"]
EXEMPT_ZH = {"innovative-sme": "创新型中小企业", "university": "高校", "research-institute": "科研院所",
             "new-rd-institution": "新型研发机构"}

SCOPES = [
    ("ai-application", "人工智能应用赋能", "AI application"),
    ("rd-innovation", "研发创新", "R&D innovation"),
    ("manufacturing", "制造生产", "manufacturing production"),
    ("brand", "品牌建设", "brand building"),
    ("market-sales", "市场销售", "market sales"),
    ("comprehensive", "综合赋能", "comprehensive"),
]


def scope_zh(id):
    """The Chinese name of a scope (or direction) id, for messages."""
    return next((zh for i, zh, _ in SCOPES if i == id), id)


def attachment(id, zh, en, min_count, **rest):
    return {"id": id, "title": {"zh": zh, "en": en}, "min_count": min_count, **rest}


ATTACHMENTS = [
    attachment("business-licence", "营业执照或事业单位法人证书", "business licence or public-institution certificate", 1),
    attachment("audit-report", "上一年度审计报告", "last year's audit report", 0, max_age_months=12),
    attachment("financial-statement", "财务报表", "financial statement", 0, max_age_months=12),
    attachment("certificate", "资质证书", "qualification certificate", 0, must_be_valid=True),
    attachment("ip-certificate", "知识产权证书", "IP certificate", 0, max_age_months=60),
    attachment("test-report", "检测报告", "test report", 0, max_age_months=24),
    attachment("customer-feedback", "用户反馈", "customer feedback", 0, max_age_months=12),
    attachment("commitment", "承诺书", "signed commitment", 1),
]


def column(zh, en, source):
    return {"title": {"zh": zh, "en": en}, "source": source}


class EnablingResources(Program):
    def manifest(self):
        return {
            "program": PROGRAM,
            "name": {"zh": "广东省制造业赋能资源", "en": "Guangdong manufacturing enabling resources"},
            "version": "0.1.0",
            "editions": [{"id": "2025", "year": 2025, "title": {"zh": "管理办法（送审稿）", "en": "draft management measures"}}],
            "default_edition": "2025",
            "forms": [form(FORM, msg("赋能资源申报表", "enabling-resource application"), ResourceForm)],
            "directions": [
                {"id": id, "title": {"zh": zh, "en": en}, "form": FORM, "handled_by": ["diit"], "attachments": ATTACHMENTS}
                for id, zh, en in SCOPES
            ],
            "rules": rules_json(RULES),
            "signals": [{
                "id": "er.signal.standards",
                "clause": "002 第七条(三)",
                "title": {"zh": "参与国家、行业或地方标准制定，优先认定",
                          "en": "took part in national, industry or local standards: priority"},
            }],
            "expert_items": [
                {"id": "er.expert.technology-advanced", "clause": "002 第七条(四)",
                 "title": {"zh": "技术国内先进或省内领先，具备服务保障体系",
                           "en": "technology domestically advanced or provincially leading, with service assurance"}},
                {"id": "er.expert.mature-and-promotable", "clause": "002 第二条、第六条",
                 "title": {"zh": "成熟、可推广，经济社会效益明显",
                           "en": "mature, promotable, with clear economic and social benefit"}},
            ],
            "graph": GRAPH,
            "summary": {
                "title": {"zh": "赋能资源推荐汇总表", "en": "enabling-resource recommendation summary"},
                "columns": [
                    column("序号", "rank", "rank"),
                    column("申报单位名称", "applicant", "applicant:name"),
                    column("资源名称", "resource", "/resource_name"),
                    column("赋能范围", "scope", "direction:title"),
                ],
            },
        }

    def check(self, req):
        if req.form != FORM:
            raise PluginError("unknown-form", f"未知的申报表“{req.form}”", f"unknown form {quoted(req.form)}")
        f = req.form_data()
        c = Checker(RULES)
        as_of = req.as_of
        applicant = req.applicant

        # 第四条(五) / 第七条(五)
        c.ensure("er.basic.not-seriously-dishonest", "$applicant.dishonest", not applicant.dishonest,
                 lambda: msg("申报单位列入严重失信主体名单，不得申报",
                             "the applicant is listed as seriously dishonest and cannot apply"))

        # 第五条: the form's scope is the direction
        scope = f["scope"]
        direction = req.direction or ""
        c.ensure("er.scope.matches-direction", path("scope"), scope == direction,
                 lambda: msg(f"申报表所填赋能范围“{scope_zh(scope)}”与申报方向“{scope_zh(direction)}”不一致",
                             f"the form's scope {quoted(scope)} differs from the direction {quoted(direction)}"))
        # 第四条(四), 第九条(五)
        commitment = f["commitment"]
        c.ensure("er.basic.no-major-accident-3y", path("commitment", "no_major_accident_3y"),
                 commitment["no_major_accident_3y"],
                 lambda: msg("未承诺申报截止日前 3 年内未发生重大（含）以上安全生产、环境保护、产品质量事故",
                             "no commitment that there was no major-or-worse accident in the 3 years"))
        c.ensure("er.basic.truthfulness-commitment", path("commitment", "truthful"), commitment["truthful"],
                 lambda: msg("未承诺申报材料真实、准确、完整", "no commitment that the materials are true"))
        # 第七条(五)
        c.ensure("er.specific.not-abnormal-operation", "$applicant.tags", not has_tag(applicant, "abnormal-operation"),
                 lambda: msg("申报单位列入经营异常名录，不得申报", "the applicant is on the abnormal-operation list"))

        # 第二十条(二)、第二十一条: removed (or recognition revoked) for cause within 3 years.
        for h in req.history:
            on = Day.of(h.decided_on)
            if h.program == PROGRAM and h.stage == "removed-for-cause" and on and on.within_years_before(as_of, 3):
                until = on.add_years(3)
                c.fail("er.history.not-banned-3y", "$history", msg(
                    f"申报单位的赋能资源（{h.application}）于 {on} 被移出或撤销，{until} 前不得申报",
                    f"the applicant's resource {h.application} was removed or revoked on {on}; no application before {until}",
                ))
                break

        # 第十七条: a platform that enters directly must hold a valid recognition
        if has_tag(applicant, "innovation-platform"):
            valid = any(
                q.id in INNOVATION_PLATFORMS and (q.valid_until is None or Day.of(q.valid_until) >= as_of)
                for q in applicant.qualifications
            )
            c.ensure("er.route.innovation-platform-valid", "$applicant.qualifications", valid,
                     lambda: msg("申报单位按创新平台直接入库，但没有在有效期内的省级以上创新平台认定",
                                 "the applicant enters as an innovation platform but holds no valid provincial-or-higher recognition"))

        # 第七条(一)
        since = Day.of(f["business_since"])
        years = since.years_until(as_of)
        c.ensure("er.specific.years-in-business-min-2", path("business_since"), years >= 2,
                 lambda: msg(f"从事相关业务 {years} 年（自 {since}），要求不少于 2 年；如属颠覆性、前沿突破，需经省核实放宽",
                             f"{years} year(s) in the business (since {since}), at least 2 required unless the province grants the breakthrough exemption"))

        # 第七条(二)
        wanted = [as_of.year - 1, as_of.year - 2]
        last_two = []
        for y in wanted:
            found = next((r for r in f["revenue"] if r["year"] == y), None)
            if found is not None:
                last_two.append(found["revenue"])
        exempt = next((t for t in REVENUE_EXEMPT_TAGS if has_tag(applicant, t)), None)
        if exempt is not None:
            c.fail("er.specific.revenue-exempt", path("revenue"), msg(
                f"申报单位属{EXEMPT_ZH[exempt]}，不受年均营业收入 1000 万元限制",
                f"the applicant is {exempt}: exempt from the 1000 万元 revenue floor"))
        elif c.ensure("er.specific.revenue-two-years", path("revenue"), len(last_two) == 2,
                      lambda: msg(f"须填报 {wanted[1]} 年和 {wanted[0]} 年营业收入",
                                  f"revenue for {wanted[1]} and {wanted[0]} is required")):
            avg = (float(last_two[0]) + float(last_two[1])) / 2
            c.ensure("er.specific.revenue-avg-2y-min-1000", path("revenue"), avg >= 1000.0,
                     lambda: msg(f"近 2 年年均营业收入 {wan(avg)}，要求不低于 1000 万元",
                                 f"average revenue over the last 2 years is {wan(avg)}, at least 1000 万元 required"))

        # 第六条(二)
        ip = f.get("ip", [])
        own_method = f.get("own_method", "")
        c.ensure("er.resource.core-ip-or-own-method", path("ip"), bool(ip) or not blank(own_method),
                 lambda: msg("未填报核心知识产权，也未说明自有服务体系、方法或运营模式",
                             "neither core IP nor an own service system/method/model is given"))
        # 第十二条: IP granted within 5 years
        for i, item in enumerate(ip):
            granted = Day.of(item["granted_on"])
            after = as_of.add_years(-5)
            c.ensure("er.freshness.ip-within-5y", path("ip", i, "granted_on"), granted.within_years_before(as_of, 5),
                     lambda: msg(f"知识产权“{item['name']}”授权于 {granted}，须为 {after} 之后 5 年内授权",
                                 f"IP {quoted(item['name'])} was granted on {granted}, must be granted within 5 years (after {after})"))

        # 第九条(二): at least 3 cases, each with customer feedback, feedback within 1 year
        cases = f["cases"]
        c.ensure("er.cases.min-3", path("cases"), len(cases) >= 3,
                 lambda: msg(f"典型案例 {len(cases)} 个，要求不少于 3 个", f"{len(cases)} typical case(s), at least 3 required"))
        for i, case in enumerate(cases):
            customer = case["customer"]
            feedback_on = Day.of(case.get("feedback_on"))
            if c.ensure("er.cases.feedback-required", path("cases", i, "feedback"),
                        not blank(case.get("feedback", "")) and feedback_on is not None,
                        lambda: msg(f"案例“{customer}”缺少客户反馈或反馈日期",
                                    f"case {quoted(customer)} lacks customer feedback or its date")):
                after = as_of.add_years(-1)
                c.ensure("er.freshness.feedback-within-1y", path("cases", i, "feedback_on"),
                         feedback_on.within_years_before(as_of, 1),
                         lambda: msg(f"案例“{customer}”的客户反馈日期 {feedback_on}，须在近 1 年内（{after} 之后）",
                                     f"feedback of case {quoted(customer)} is dated {feedback_on}, must be within 1 year (after {after})"))

        # 第九条(四): audited report, or a statement for the exempt kinds
        kinds = {a.kind for a in req.attachments}
        statement_ok = exempt is not None and "financial-statement" in kinds
        c.ensure("er.materials.audit-report", "$attachments.audit-report", "audit-report" in kinds or statement_ok,
                 lambda: msg("缺少上一年度经审计的财务报告", "last year's audited financial report is missing"))

        # 第七条(三): standards give priority
        levels = {"national": (3, "国家标准"), "industry": (2, "行业标准"), "local": (1, "地方标准")}
        for s in f.get("standards", []):
            weight, zh = levels[s["level"]]
            c.signal("er.signal.standards", weight,
                     msg(f"参与制定{zh}《{s['name']}》", f"took part in standard {quoted(s['name'])}"))
        return c.finish()


Plugin = export(EnablingResources())
