//! A plugin whose manifest is garbage: a schema that is not JSON, a schema of the
//! wrong draft, a recursive schema, a schema whose regexes would take gigabytes, duplicate rule ids, a direction on an undeclared form, a graph that
//! leads nowhere. Installing it must fail and store nothing.

use shenbao_sdk::prelude::*;

const RULES: &[RuleDef] = &[
    RuleDef { id: "bad.dup", severity: Severity::Blocking, clause: "test", zh: "重复", en: "duplicate" },
    RuleDef { id: "bad.dup", severity: Severity::Warning, clause: "test", zh: "重复", en: "duplicate" },
];

fn regex_heavy() -> String {
    let props: Vec<String> = (0..100)
        .map(|i| format!(r#""f{i}":{{"type":"string","pattern":"[\\p{{L}}\\p{{N}}]{{{}}}"}}"#, 150 + i))
        .collect();
    format!(r#"{{"type":"object","properties":{{{}}}}}"#, props.join(","))
}

pub struct BadManifest;

impl Program for BadManifest {
    fn manifest() -> Manifest {
        let mut m = ManifestBuilder::new("bad-manifest", Text::new("坏清单", "bad manifest"), "0.1.0")
            .form(Form { id: "broken".into(), title: Text::new("坏表", "broken"), schema: "{ not json".into() })
            .form(Form {
                id: "draft7".into(),
                title: Text::new("旧版", "old draft"),
                schema: r#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}"#.into(),
            })
            // A form that refers to itself through `oneOf`: its walks would never end.
            .form(Form {
                id: "recursive".into(),
                title: Text::new("递归", "recursive"),
                schema: r##"{"type":"object","properties":{"root":{"$ref":"#/$defs/Node"}},
                    "$defs":{"Node":{"type":"object","properties":{"children":{"type":"array",
                    "items":{"oneOf":[{"$ref":"#/$defs/Node"},{"type":"null"}]}}}}}}"##
                    .into(),
            })
            // 100 long Unicode-class patterns: gigabytes once compiled, without a budget.
            .form(Form { id: "regex-heavy".into(), title: Text::new("正则", "regex heavy"), schema: regex_heavy() })
            .rules(RULES)
            .direction(Direction {
                id: "d1".into(),
                title: Text::new("方向", "direction"),
                category: None,
                form: "missing-form".into(),
                handled_by: Vec::new(),
                attachments: Vec::new(),
                editions: Vec::new(),
            })
            .build();
        m.graph.actions[1].to = shenbao_sdk::Target::Stage("nowhere".into());
        m
    }

    fn check(_: &CheckRequest) -> Result<CheckResult, PluginError> {
        Ok(CheckResult::default())
    }
}

shenbao_sdk::export_program!(BadManifest);
