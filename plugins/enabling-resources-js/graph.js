// The review path of 第十至二十一条 (see the Rust program's `graph()`).
// Transcribed from the Rust program's manifest (`shenbao plugin show enabling-resources 0.1.0`);
// the differential test requires the three languages' manifests to be equal.
export const GRAPH = {
  "initial": "draft",
  "stages": [
    {
      "id": "draft",
      "title": {
        "zh": "申报人申报",
        "en": "applicant drafting"
      },
      "kind": "draft",
      "role": "applicant",
      "scope": "own-organisation",
      "window": "applicant"
    },
    {
      "id": "district-review",
      "title": {
        "zh": "区县审核",
        "en": "district review"
      },
      "kind": "review",
      "optional": true,
      "role": "district-officer",
      "scope": "district",
      "window": "district"
    },
    {
      "id": "city-review",
      "title": {
        "zh": "市级审核",
        "en": "city review"
      },
      "kind": "review",
      "role": "city-officer",
      "scope": "city",
      "sla_working_days": 10,
      "window": "city"
    },
    {
      "id": "province-review",
      "title": {
        "zh": "省级审核",
        "en": "province review"
      },
      "kind": "review",
      "role": "province-officer",
      "scope": "province",
      "window": "province"
    },
    {
      "id": "expert-review",
      "title": {
        "zh": "专家评审",
        "en": "expert review"
      },
      "kind": "expert",
      "role": "province-officer",
      "scope": "province",
      "sla_working_days": 5
    },
    {
      "id": "public-notice",
      "title": {
        "zh": "公示",
        "en": "public notice"
      },
      "kind": "notice",
      "role": "province-officer",
      "scope": "province",
      "sla_working_days": 5
    },
    {
      "id": "library",
      "title": {
        "zh": "入库",
        "en": "in the library"
      },
      "kind": "library",
      "role": "province-officer",
      "scope": "province"
    },
    {
      "id": "rectifying",
      "title": {
        "zh": "预警整改",
        "en": "warned, rectifying"
      },
      "kind": "library",
      "role": "province-officer",
      "scope": "province"
    },
    {
      "id": "not-passed",
      "title": {
        "zh": "不通过",
        "en": "not passed"
      },
      "kind": "terminal",
      "scope": "province",
      "outcome": "not-passed"
    },
    {
      "id": "removed",
      "title": {
        "zh": "移出资源库",
        "en": "removed from the library"
      },
      "kind": "terminal",
      "scope": "province",
      "outcome": "removed"
    },
    {
      "id": "removed-for-cause",
      "title": {
        "zh": "移出资源库（三年内不得申报）",
        "en": "removed for cause, barred from applying"
      },
      "kind": "terminal",
      "scope": "province",
      "outcome": "removed"
    },
    {
      "id": "exited",
      "title": {
        "zh": "主动退出",
        "en": "exited voluntarily"
      },
      "kind": "terminal",
      "scope": "province",
      "outcome": "exited"
    }
  ],
  "actions": [
    {
      "id": "save-draft",
      "title": {
        "zh": "保存草稿",
        "en": "save draft"
      },
      "kind": "save-draft",
      "from_stages": [
        "draft"
      ],
      "to": "stay",
      "roles": [
        "applicant"
      ],
      "scope": "own-organisation",
      "opinion": "none"
    },
    {
      "id": "submit",
      "title": {
        "zh": "提交",
        "en": "submit"
      },
      "kind": "submit",
      "from_stages": [
        "draft"
      ],
      "to": "next",
      "roles": [
        "applicant"
      ],
      "scope": "own-organisation",
      "opinion": "none",
      "runs_check": true
    },
    {
      "id": "district-recommend",
      "title": {
        "zh": "区县推荐",
        "en": "district recommends"
      },
      "kind": "recommend",
      "from_stages": [
        "district-review"
      ],
      "to": "next",
      "roles": [
        "district-officer"
      ],
      "scope": "district",
      "opinion": "required",
      "batch": true
    },
    {
      "id": "district-not-recommend",
      "title": {
        "zh": "区县不推荐",
        "en": "district does not recommend"
      },
      "kind": "not-recommend",
      "from_stages": [
        "district-review"
      ],
      "to": {
        "stage": "not-passed"
      },
      "roles": [
        "district-officer"
      ],
      "scope": "district",
      "opinion": "required"
    },
    {
      "id": "district-return",
      "title": {
        "zh": "区县回退",
        "en": "district returns"
      },
      "kind": "return",
      "from_stages": [
        "district-review"
      ],
      "to": "previous",
      "roles": [
        "district-officer"
      ],
      "scope": "district",
      "opinion": "required"
    },
    {
      "id": "district-withdraw",
      "title": {
        "zh": "区县撤回",
        "en": "district withdraws its decision"
      },
      "kind": "withdraw",
      "from_stages": [
        "city-review",
        "province-review"
      ],
      "to": "previous",
      "roles": [
        "district-officer"
      ],
      "scope": "district",
      "opinion": "optional"
    },
    {
      "id": "district-rank",
      "title": {
        "zh": "区县推荐排序",
        "en": "district ranks its recommendations"
      },
      "kind": "rank",
      "from_stages": [
        "city-review",
        "province-review"
      ],
      "to": "stay",
      "roles": [
        "district-officer"
      ],
      "scope": "district",
      "opinion": "none"
    },
    {
      "id": "city-recommend",
      "title": {
        "zh": "地市推荐",
        "en": "city recommends"
      },
      "kind": "recommend",
      "from_stages": [
        "city-review"
      ],
      "to": "next",
      "roles": [
        "city-officer",
        "city-leader"
      ],
      "scope": "city",
      "opinion": "required",
      "batch": true
    },
    {
      "id": "city-not-recommend",
      "title": {
        "zh": "地市不推荐",
        "en": "city does not recommend"
      },
      "kind": "not-recommend",
      "from_stages": [
        "city-review"
      ],
      "to": {
        "stage": "not-passed"
      },
      "roles": [
        "city-officer",
        "city-leader"
      ],
      "scope": "city",
      "opinion": "required"
    },
    {
      "id": "city-return",
      "title": {
        "zh": "地市回退",
        "en": "city returns"
      },
      "kind": "return",
      "from_stages": [
        "city-review"
      ],
      "to": "previous",
      "roles": [
        "city-officer",
        "city-leader"
      ],
      "scope": "city",
      "opinion": "required"
    },
    {
      "id": "city-withdraw",
      "title": {
        "zh": "地市撤回",
        "en": "city withdraws its decision"
      },
      "kind": "withdraw",
      "from_stages": [
        "province-review"
      ],
      "to": "previous",
      "roles": [
        "city-officer",
        "city-leader"
      ],
      "scope": "city",
      "opinion": "optional"
    },
    {
      "id": "city-rank",
      "title": {
        "zh": "地市推荐排序",
        "en": "city ranks its recommendations"
      },
      "kind": "rank",
      "from_stages": [
        "province-review"
      ],
      "to": "stay",
      "roles": [
        "city-officer",
        "city-leader"
      ],
      "scope": "city",
      "opinion": "none"
    },
    {
      "id": "province-recommend",
      "title": {
        "zh": "省级推荐",
        "en": "province recommends"
      },
      "kind": "recommend",
      "from_stages": [
        "province-review"
      ],
      "to": "next",
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required",
      "batch": true
    },
    {
      "id": "province-not-recommend",
      "title": {
        "zh": "省级不推荐",
        "en": "province does not recommend"
      },
      "kind": "not-recommend",
      "from_stages": [
        "province-review"
      ],
      "to": {
        "stage": "not-passed"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required"
    },
    {
      "id": "province-return",
      "title": {
        "zh": "省级回退",
        "en": "province returns"
      },
      "kind": "return",
      "from_stages": [
        "province-review"
      ],
      "to": "previous",
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required"
    },
    {
      "id": "assign-experts",
      "title": {
        "zh": "分配专家",
        "en": "assign experts"
      },
      "kind": "assign-experts",
      "from_stages": [
        "expert-review"
      ],
      "to": "stay",
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "none"
    },
    {
      "id": "score",
      "title": {
        "zh": "专家评分",
        "en": "expert scores"
      },
      "kind": "score",
      "from_stages": [
        "expert-review"
      ],
      "to": "stay",
      "roles": [
        "expert"
      ],
      "scope": "assigned",
      "opinion": "none"
    },
    {
      "id": "publish-notice",
      "title": {
        "zh": "发布公示",
        "en": "publish the public notice"
      },
      "kind": "publish-notice",
      "from_stages": [
        "expert-review"
      ],
      "to": {
        "stage": "public-notice"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "none"
    },
    {
      "id": "object",
      "title": {
        "zh": "公示异议",
        "en": "file an objection"
      },
      "kind": "object",
      "from_stages": [
        "public-notice"
      ],
      "to": "stay",
      "roles": [
        "public"
      ],
      "scope": "public",
      "opinion": "optional"
    },
    {
      "id": "resolve-objection",
      "title": {
        "zh": "处理异议",
        "en": "resolve an objection"
      },
      "kind": "resolve-objection",
      "from_stages": [
        "public-notice"
      ],
      "to": "stay",
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "optional"
    },
    {
      "id": "approve",
      "title": {
        "zh": "审定通过",
        "en": "approve"
      },
      "kind": "decide",
      "from_stages": [
        "public-notice"
      ],
      "to": {
        "stage": "library"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required"
    },
    {
      "id": "reject",
      "title": {
        "zh": "审定不通过",
        "en": "reject"
      },
      "kind": "decide",
      "from_stages": [
        "public-notice"
      ],
      "to": {
        "stage": "not-passed"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required"
    },
    {
      "id": "annual-report",
      "title": {
        "zh": "年度报告",
        "en": "yearly report"
      },
      "kind": "annual-report",
      "from_stages": [
        "library",
        "rectifying"
      ],
      "to": "stay",
      "roles": [
        "applicant"
      ],
      "scope": "own-organisation",
      "opinion": "none",
      "annual_due": {
        "month": 3,
        "day": 31
      }
    },
    {
      "id": "warn",
      "title": {
        "zh": "预警",
        "en": "warn"
      },
      "kind": "warn",
      "from_stages": [
        "library"
      ],
      "to": {
        "stage": "rectifying"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required",
      "deadline_months": 6
    },
    {
      "id": "rectified",
      "title": {
        "zh": "整改完成",
        "en": "rectified"
      },
      "kind": "rectify",
      "from_stages": [
        "rectifying"
      ],
      "to": {
        "stage": "library"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "none"
    },
    {
      "id": "remove",
      "title": {
        "zh": "移出",
        "en": "remove"
      },
      "kind": "remove",
      "from_stages": [
        "library",
        "rectifying"
      ],
      "to": {
        "stage": "removed"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required"
    },
    {
      "id": "remove-for-cause",
      "title": {
        "zh": "移出并限制申报",
        "en": "remove and bar from applying"
      },
      "kind": "remove",
      "from_stages": [
        "library",
        "rectifying"
      ],
      "to": {
        "stage": "removed-for-cause"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "required",
      "ban_months": 36
    },
    {
      "id": "exit",
      "title": {
        "zh": "主动退出",
        "en": "voluntary exit"
      },
      "kind": "exit",
      "from_stages": [
        "library",
        "rectifying"
      ],
      "to": {
        "stage": "exited"
      },
      "roles": [
        "province-officer"
      ],
      "scope": "province",
      "opinion": "optional"
    }
  ],
  "routes": [
    {
      "id": "direct-to-province",
      "title": {
        "zh": "省外单位、央企和省属国企由省直接认定",
        "en": "out-of-province applicants, central and provincial SOEs go to the province directly (第十六条)"
      },
      "when": {
        "channel": [
          "out-of-province",
          "central-enterprise",
          "provincial-soe"
        ]
      },
      "skip": [
        "district-review",
        "city-review"
      ]
    },
    {
      "id": "innovation-platform-direct",
      "title": {
        "zh": "省级以上有效创新平台直接入库",
        "en": "valid provincial-or-higher innovation platforms enter the library directly (第十七条)"
      },
      "when": {
        "tag": [
          "innovation-platform"
        ]
      },
      "skip": [
        "district-review",
        "city-review",
        "province-review",
        "expert-review",
        "public-notice"
      ]
    }
  ]
};
