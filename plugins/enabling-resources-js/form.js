// 赋能资源申报表 — the form's JSON Schema (draft 2020-12).
// Transcribed from the Rust program's manifest (`shenbao plugin show enabling-resources 0.1.0`);
// the differential test requires the three languages' manifests to be equal.
export const SCHEMA = {
  "type": "object",
  "properties": {
    "resource_name": {
      "type": "string",
      "title": "资源名称",
      "minLength": 1,
      "maxLength": 100,
      "x-public": true,
      "x-project-key": true
    },
    "scope": {
      "$ref": "#/$defs/Scope",
      "title": "赋能范围"
    },
    "key_industries": {
      "type": "array",
      "items": {
        "type": "string",
        "maxLength": 50
      },
      "title": "重点赋能行业",
      "minItems": 1
    },
    "summary": {
      "type": "string",
      "title": "技术简介",
      "minLength": 1,
      "maxLength": 2000
    },
    "business_since": {
      "type": "string",
      "format": "date",
      "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
      "title": "从事相关业务起始日期",
      "description": "开始从事本资源相关业务的日期（第七条（一）：一般须满 2 年）"
    },
    "revenue": {
      "type": "array",
      "items": {
        "$ref": "#/$defs/YearRevenue"
      },
      "title": "近两年营业收入"
    },
    "ip": {
      "type": "array",
      "items": {
        "$ref": "#/$defs/IpItem"
      },
      "title": "核心知识产权",
      "default": []
    },
    "own_method": {
      "type": "string",
      "title": "自有服务体系、方法或运营模式",
      "description": "没有核心知识产权的，填写自有的服务体系、方法或运营模式",
      "maxLength": 2000,
      "default": ""
    },
    "standards": {
      "type": "array",
      "items": {
        "$ref": "#/$defs/StandardItem"
      },
      "title": "参与制定的标准",
      "default": []
    },
    "cases": {
      "type": "array",
      "items": {
        "$ref": "#/$defs/Case"
      },
      "title": "典型案例"
    },
    "commitment": {
      "$ref": "#/$defs/Commitment",
      "title": "承诺书"
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
  "title": "广东省制造业赋能资源申报表",
  "description": "请逐项如实填写，标 * 的为必填项",
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {
    "Scope": {
      "oneOf": [
        {
          "type": "string",
          "const": "ai-application",
          "title": "人工智能应用赋能"
        },
        {
          "type": "string",
          "const": "rd-innovation",
          "title": "研发创新"
        },
        {
          "type": "string",
          "const": "manufacturing",
          "title": "制造生产"
        },
        {
          "type": "string",
          "const": "brand",
          "title": "品牌建设"
        },
        {
          "type": "string",
          "const": "market-sales",
          "title": "市场销售"
        },
        {
          "type": "string",
          "const": "comprehensive",
          "title": "综合赋能"
        }
      ],
      "description": "按申报通知第五条选择一个赋能范围",
      "type": "string"
    },
    "YearRevenue": {
      "type": "object",
      "properties": {
        "year": {
          "type": "integer",
          "maximum": 2100,
          "minimum": 2000,
          "title": "年度"
        },
        "revenue": {
          "type": "number",
          "description": "该年度营业收入，单位：万元",
          "title": "营业收入（万元）"
        }
      },
      "required": [
        "year",
        "revenue"
      ]
    },
    "IpItem": {
      "type": "object",
      "properties": {
        "kind": {
          "$ref": "#/$defs/IpKind",
          "title": "类型"
        },
        "name": {
          "type": "string",
          "title": "名称",
          "minLength": 1,
          "maxLength": 100
        },
        "number": {
          "type": "string",
          "title": "证书号",
          "minLength": 1,
          "maxLength": 50
        },
        "granted_on": {
          "type": "string",
          "format": "date",
          "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
          "title": "授权日期"
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
      "oneOf": [
        {
          "type": "string",
          "const": "invention-patent",
          "title": "发明专利"
        },
        {
          "type": "string",
          "const": "utility-model",
          "title": "实用新型专利"
        },
        {
          "type": "string",
          "const": "software-copyright",
          "title": "软件著作权"
        }
      ],
      "type": "string"
    },
    "StandardItem": {
      "type": "object",
      "properties": {
        "level": {
          "$ref": "#/$defs/StandardLevel",
          "title": "标准级别"
        },
        "name": {
          "type": "string",
          "title": "标准名称",
          "minLength": 1,
          "maxLength": 200
        }
      },
      "required": [
        "level",
        "name"
      ]
    },
    "StandardLevel": {
      "oneOf": [
        {
          "type": "string",
          "const": "national",
          "title": "国家标准"
        },
        {
          "type": "string",
          "const": "industry",
          "title": "行业标准"
        },
        {
          "type": "string",
          "const": "local",
          "title": "地方标准"
        }
      ],
      "type": "string"
    },
    "Case": {
      "type": "object",
      "properties": {
        "customer": {
          "type": "string",
          "title": "服务客户",
          "minLength": 1,
          "maxLength": 100
        },
        "implementation": {
          "type": "string",
          "title": "实施内容",
          "minLength": 1,
          "maxLength": 2000
        },
        "results": {
          "type": "string",
          "title": "实施成效",
          "minLength": 1,
          "maxLength": 2000
        },
        "feedback": {
          "type": "string",
          "title": "客户反馈",
          "description": "客户对实施成效的反馈（第九条（二）要求每个案例附客户反馈）",
          "maxLength": 1000,
          "default": ""
        },
        "feedback_on": {
          "type": "string",
          "format": "date",
          "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
          "title": "反馈日期"
        }
      },
      "required": [
        "customer",
        "implementation",
        "results"
      ]
    },
    "Commitment": {
      "type": "object",
      "properties": {
        "no_major_accident_3y": {
          "type": "boolean",
          "title": "申报截止日前3年内未发生重大（含）以上安全生产、环境保护、产品质量事故"
        },
        "not_seriously_dishonest": {
          "type": "boolean",
          "title": "未列入严重失信主体名单"
        },
        "truthful": {
          "type": "boolean",
          "title": "申报材料真实、准确、完整"
        }
      },
      "required": [
        "no_major_accident_3y",
        "not_seriously_dishonest",
        "truthful"
      ],
      "description": "逐条确认承诺内容；签字盖章的承诺书另作附件上传（第九条（五））"
    }
  }
};
