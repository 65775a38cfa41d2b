// A program's form, rendered from its JSON Schema by react-jsonschema-form with
// the console's strict Ajv 2020 validator and Chinese messages. The kernel stays
// the authority: its findings are shown at the fields they name.
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import { TranslatableString, englishStringTranslator, replaceStringParameters } from "@rjsf/utils";
import Ajv2020 from "ajv/dist/2020.js";
import localizeZh from "ajv-i18n/localize/zh/index.js";
import { VOCABULARY } from "./schema.js";

export const validator = customizeValidator(
  {
    AjvClass: Ajv2020,
    ajvOptionsOverrides: { strict: true },
    extenderFn: (ajv) => {
      ajv.addVocabulary(VOCABULARY);
      return ajv;
    },
  },
  localizeZh,
);

const ZH = {
  [TranslatableString.AddButton]: "添加",
  [TranslatableString.AddItemButton]: "添加一项",
  [TranslatableString.CopyButton]: "复制",
  [TranslatableString.MoveDownButton]: "下移",
  [TranslatableString.MoveUpButton]: "上移",
  [TranslatableString.RemoveButton]: "删除",
  [TranslatableString.NewStringDefault]: "新值",
  [TranslatableString.ArrayItemTitle]: "第 %1 项",
  [TranslatableString.MissingItems]: "缺少项目",
  [TranslatableString.YesLabel]: "是",
  [TranslatableString.NoLabel]: "否",
  [TranslatableString.ErrorsLabel]: "请修改以下内容",
  [TranslatableString.UnsupportedField]: "不支持的字段",
  [TranslatableString.OptionPrefix]: "选项 %1",
  [TranslatableString.TitleOptionPrefix]: "选项 %1：%2",
  [TranslatableString.ClearLabel]: "清除",
  [TranslatableString.NowLabel]: "现在",
  [TranslatableString.EmptyArray]: "暂无，点击下方按钮添加",
  [TranslatableString.OptionalObjectAdd]: "填写此项",
  [TranslatableString.OptionalObjectRemove]: "不填此项",
  [TranslatableString.OptionalObjectEmptyMsg]: "未填写",
  [TranslatableString.UnknownFieldType]: "未知的字段类型 %1",
};

function translate(key, params) {
  const zh = ZH[key];
  return zh ? replaceStringParameters(zh, params) : englishStringTranslator(key, params);
}

/** `v` without the `null`s and empty objects a form leaves behind: an optional
 * field is absent, never `null` (the kernel refuses `null` where a value is typed). */
export function prune(v) {
  if (Array.isArray(v)) return v.map(prune);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const p = prune(x);
      if (p === null || p === undefined) continue;
      if (typeof p === "object" && !Array.isArray(p) && Object.keys(p).length === 0) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

/** The form of `schema` with `data`; `errors` are the kernel's (rjsf error schema). */
export function ProgramForm({ schema, data, onChange, errors, disabled, children }) {
  return (
    <Form
      schema={schema}
      formData={data}
      validator={validator}
      onChange={(e) => onChange?.(e.formData)}
      extraErrors={errors}
      showErrorList={false}
      noHtml5Validate
      disabled={disabled}
      readonly={disabled}
      translateString={translate}
      // Only what the person fills in: no first option preset for a choice, no
      // optional object or array made up (an optional field is absent).
      experimental_defaultFormStateBehavior={{
        emptyObjectFields: "skipDefaults",
        constAsDefaults: "never",
        arrayMinItems: { populate: "never" },
      }}
    >
      {children ?? <></>}
    </Form>
  );
}
