//! A plugin whose manifest is garbage: a schema that is not JSON, a schema of the
//! wrong draft, duplicate rule ids, a direction on an undeclared form, a graph that
//! leads nowhere. Installing it must fail and store nothing.

use shenbao_sdk::prelude::*;

const RULES: &[RuleDef] = &[
    RuleDef { id: "bad.dup", severity: Severity::Blocking, clause: "test", zh: "重复", en: "duplicate" },
    RuleDef { id: "bad.dup", severity: Severity::Warning, clause: "test", zh: "重复", en: "duplicate" },
];

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
