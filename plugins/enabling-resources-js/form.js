// 赋能资源申报表 — the form's JSON Schema (draft 2020-12).
// Transcribed from the Rust program's manifest (`shenbao plugin show enabling-resources 0.1.0`);
// the differential test requires the three languages' manifests to be equal.
export const SCHEMA = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "广东省制造业赋能资源申报表",
  "description": "赋能资源申报表.",
  "type": "object",
  "properties": {
    "business_since": {
      "title": "从事相关业务起始日期",
      "description": "Date the applicant started in this business.",
      "type": "string",
      "format": "date",
      "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    },
    "cases": {
      "title": "典型案例",
      "type": "array",
      "items": {
        "$ref": "#/$defs/Case"
      }
    },
    "commitment": {
      "title": "承诺书",
      "$ref": "#/$defs/Commitment"
    },
    "ip": {
      "title": "核心知识产权",
      "type": "array",
      "default": [],
      "items": {
        "$ref": "#/$defs/IpItem"
      }
    },
    "key_industries": {
      "title": "重点赋能行业",
      "type": "array",
      "items": {
        "type": "string",
        "maxLength": 50
      },
      "minItems": 1
    },
    "own_method": {
      "title": "自有服务体系、方法或运营模式",
      "description": "An own service system, method or operating model, where there is no IP.",
      "type": "string",
      "maxLength": 2000,
      "default": ""
    },
    "resource_name": {
      "title": "资源名称",
      "x-public": true,
      "type": "string",
      "maxLength": 100,
      "minLength": 1
    },
    "revenue": {
      "title": "近两年营业收入",
      "type": "array",
      "items": {
        "$ref": "#/$defs/YearRevenue"
      }
    },
    "scope": {
      "title": "赋能范围",
      "$ref": "#/$defs/Scope"
    },
    "standards": {
      "title": "参与制定的标准",
      "type": "array",
      "default": [],
      "items": {
        "$ref": "#/$defs/StandardItem"
      }
    },
    "summary": {
      "title": "技术简介",
      "type": "string",
      "maxLength": 2000,
      "minLength": 1
    }
  },
  "required": [
    "resource_name",
    "scope",
    "key_industries",
    "summary",
    "business_since",
    "revenue",
    "cases",
    "commitment"
  ],
  "$defs": {
    "Case": {
      "type": "object",
      "properties": {
        "customer": {
          "title": "服务客户",
          "type": "string",
          "maxLength": 100,
          "minLength": 1
        },
        "feedback": {
          "title": "客户反馈",
          "description": "Customer feedback (客户反馈); required by 第九条(二).",
          "type": "string",
          "maxLength": 1000,
          "default": ""
        },
        "feedback_on": {
          "title": "反馈日期",
          "type": [
            "string",
            "null"
          ],
          "format": "date",
          "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        },
        "implementation": {
          "title": "实施内容",
          "type": "string",
          "maxLength": 2000,
          "minLength": 1
        },
        "results": {
          "title": "实施成效",
          "type": "string",
          "maxLength": 2000,
          "minLength": 1
        }
      },
      "required": [
        "customer",
        "implementation",
        "results"
      ]
    },
    "Commitment": {
      "description": "承诺书 (第九条(五)): each sentence, ticked; the signed copy is an attachment.",
      "type": "object",
      "properties": {
        "no_major_accident_3y": {
          "title": "申报截止日前3年内未发生重大（含）以上安全生产、环境保护、产品质量事故",
          "type": "boolean"
        },
        "not_seriously_dishonest": {
          "title": "未列入严重失信主体名单",
          "type": "boolean"
        },
        "truthful": {
          "title": "申报材料真实、准确、完整",
          "type": "boolean"
        }
      },
      "required": [
        "no_major_accident_3y",
        "not_seriously_dishonest",
        "truthful"
      ]
    },
    "IpItem": {
      "type": "object",
      "properties": {
        "granted_on": {
          "title": "授权日期",
          "type": "string",
          "format": "date",
          "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        },
        "kind": {
          "title": "类型",
          "$ref": "#/$defs/IpKind"
        },
        "name": {
          "title": "名称",
          "type": "string",
          "maxLength": 100,
          "minLength": 1
        },
        "number": {
          "title": "证书号",
          "type": "string",
          "maxLength": 50,
          "minLength": 1
        }
      },
      "required": [
        "kind",
        "name",
        "number",
        "granted_on"
      ]
    },
    "IpKind": {
      "type": "string",
      "enum": [
        "invention-patent",
        "utility-model",
        "software-copyright"
      ]
    },
    "Scope": {
      "description": "赋能范围 (第五条).",
      "oneOf": [
        {
          "description": "人工智能应用赋能",
          "type": "string",
          "const": "ai-application"
        },
        {
          "description": "研发创新",
          "type": "string",
          "const": "rd-innovation"
        },
        {
          "description": "制造生产",
          "type": "string",
          "const": "manufacturing"
        },
        {
          "description": "品牌建设",
          "type": "string",
          "const": "brand"
        },
        {
          "description": "市场销售",
          "type": "string",
          "const": "market-sales"
        },
        {
          "description": "综合赋能",
          "type": "string",
          "const": "comprehensive"
        }
      ]
    },
    "StandardItem": {
      "type": "object",
      "properties": {
        "level": {
          "title": "标准级别",
          "$ref": "#/$defs/StandardLevel"
        },
        "name": {
          "title": "标准名称",
          "type": "string",
          "maxLength": 200,
          "minLength": 1
        }
      },
      "required": [
        "level",
        "name"
      ]
    },
    "StandardLevel": {
      "type": "string",
      "enum": [
        "national",
        "industry",
        "local"
      ]
    },
    "YearRevenue": {
      "type": "object",
      "properties": {
        "revenue": {
          "title": "营业收入（万元）",
          "description": "Revenue of the year.",
          "type": "number",
          "x-unit": "万元"
        },
        "year": {
          "title": "年度",
          "type": "integer",
          "format": "uint32",
          "maximum": 2100,
          "minimum": 2000
        }
      },
      "required": [
        "year",
        "revenue"
      ]
    }
  }
};
