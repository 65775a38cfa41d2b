"""The review path of 第十至二十一条 (see the Rust program's `graph()`): the platform's path
with a 10-working-day city review, 5 days each for experts and the public notice, the
resource library, and the two direct routes."""

from shenbao_sdk.graph import library, platform_graph

GRAPH = platform_graph(
    district_review=True,
    city_sla=10,
    expert_review=5,
    public_notice=5,
    library=library(annual_due=(3, 31), rectify_months=6, ban_months=36),
    routes=[{'id': 'direct-to-province',
             'title': {'zh': '省外单位、央企和省属国企由省直接认定',
                       'en': 'out-of-province applicants, central and provincial SOEs go to the province '
                             'directly (第十六条)'},
             'when': {'channel': ['out-of-province', 'central-enterprise', 'provincial-soe']},
             'skip': ['district-review', 'city-review']},
            {'id': 'innovation-platform-direct',
             'title': {'zh': '省级以上有效创新平台直接入库',
                       'en': 'valid provincial-or-higher innovation platforms enter the library directly '
                             '(第十七条)'},
             'when': {'tag': ['innovation-platform']},
             'skip': ['district-review',
                      'city-review',
                      'province-review',
                      'expert-review',
                      'public-notice']}],
)
