"""赋能资源申报表 (第九条) — the form as Python types; `shenbao_sdk.forms` derives its JSON
Schema, the same schema the Rust program derives from its `ResourceForm` (the differential
test holds the three languages to one manifest)."""

import dataclasses
from typing import Annotated, Optional

from shenbao_sdk.forms import U32, Choice, Date, Field, Wan, form_meta


class Scope(Choice):
    """按申报通知第五条选择一个赋能范围"""

    AI_APPLICATION = "ai-application", "人工智能应用赋能"
    RD_INNOVATION = "rd-innovation", "研发创新"
    MANUFACTURING = "manufacturing", "制造生产"
    BRAND = "brand", "品牌建设"
    MARKET_SALES = "market-sales", "市场销售"
    COMPREHENSIVE = "comprehensive", "综合赋能"


@dataclasses.dataclass
class YearRevenue:
    year: Annotated[U32, Field(title="年度", minimum=2000, maximum=2100)]
    revenue: Annotated[Wan, Field(title="营业收入（万元）", description="该年度营业收入，单位：万元")]


class IpKind(Choice):
    INVENTION_PATENT = "invention-patent", "发明专利"
    UTILITY_MODEL = "utility-model", "实用新型专利"
    SOFTWARE_COPYRIGHT = "software-copyright", "软件著作权"


@dataclasses.dataclass
class IpItem:
    kind: Annotated[IpKind, Field(title="类型")]
    name: Annotated[str, Field(title="名称", min_length=1, max_length=100)]
    number: Annotated[str, Field(title="证书号", min_length=1, max_length=50)]
    granted_on: Annotated[Date, Field(title="授权日期")]


class StandardLevel(Choice):
    NATIONAL = "national", "国家标准"
    INDUSTRY = "industry", "行业标准"
    LOCAL = "local", "地方标准"


@dataclasses.dataclass
class StandardItem:
    level: Annotated[StandardLevel, Field(title="标准级别")]
    name: Annotated[str, Field(title="标准名称", min_length=1, max_length=200)]


@dataclasses.dataclass
class Case:
    customer: Annotated[str, Field(title="服务客户", min_length=1, max_length=100)]
    implementation: Annotated[str, Field(title="实施内容", min_length=1, max_length=2000)]
    results: Annotated[str, Field(title="实施成效", min_length=1, max_length=2000)]
    # Customer feedback; required by 第九条(二).
    feedback: Annotated[str, Field(
        title="客户反馈", description="客户对实施成效的反馈（第九条（二）要求每个案例附客户反馈）", max_length=1000)] = ""
    feedback_on: Annotated[Optional[Date], Field(title="反馈日期")] = None


@dataclasses.dataclass
class Commitment:
    """逐条确认承诺内容；签字盖章的承诺书另作附件上传（第九条（五））"""

    no_major_accident_3y: Annotated[bool, Field(title="申报截止日前3年内未发生重大（含）以上安全生产、环境保护、产品质量事故")]
    not_seriously_dishonest: Annotated[bool, Field(title="未列入严重失信主体名单")]
    truthful: Annotated[bool, Field(title="申报材料真实、准确、完整")]


# `kw_only`: fields with defaults may stand anywhere, so the form keeps the seed form's order.
@form_meta(title="广东省制造业赋能资源申报表", description="请逐项如实填写，标 * 的为必填项")
@dataclasses.dataclass(kw_only=True)
class ResourceForm:
    # `x-public`: shown in the public notice (公示); `x-project-key`: the project's name,
    # as reviewers' lists and the applicant's projects show it.
    resource_name: Annotated[str, Field(title="资源名称", min_length=1, max_length=100,
                                        extra={"x-public": True, "x-project-key": True})]
    scope: Annotated[Scope, Field(title="赋能范围")]
    key_industries: Annotated[list[Annotated[str, Field(max_length=50)]], Field(title="重点赋能行业", min_items=1)]
    summary: Annotated[str, Field(title="技术简介", min_length=1, max_length=2000)]
    business_since: Annotated[Date, Field(
        title="从事相关业务起始日期", description="开始从事本资源相关业务的日期（第七条（一）：一般须满 2 年）")]
    revenue: Annotated[list[YearRevenue], Field(title="近两年营业收入")]
    ip: Annotated[list[IpItem], Field(title="核心知识产权")] = dataclasses.field(default_factory=list)
    # An own service system, method or operating model, where there is no IP.
    own_method: Annotated[str, Field(
        title="自有服务体系、方法或运营模式", description="没有核心知识产权的，填写自有的服务体系、方法或运营模式",
        max_length=2000)] = ""
    standards: Annotated[list[StandardItem], Field(title="参与制定的标准")] = dataclasses.field(default_factory=list)
    cases: Annotated[list[Case], Field(title="典型案例")]
    commitment: Annotated[Commitment, Field(title="承诺书")]
