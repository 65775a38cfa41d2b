//! The JSON Schema of a round file (`round.json`, [`RoundSpec`]) is generated from
//! the Rust type and committed as `schemas/round.schema.json`; this test fails when
//! it drifts. To regenerate: `SHENBAO_BLESS=1 cargo test -p shenbao-engine --test schemas`.

use shenbao_engine::model::RoundSpec;
use std::path::PathBuf;

#[test]
fn the_round_file_schema_is_committed() {
    let schema =
        schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<RoundSpec>();
    let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/round.schema.json");
    if std::env::var_os("SHENBAO_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/round.schema.json is out of date with RoundSpec; regenerate with \
         `SHENBAO_BLESS=1 cargo test -p shenbao-engine --test schemas` and commit it"
    );
}

/// Every example round file is a valid round file by that schema.
#[test]
fn the_example_round_files_parse() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for program in ["enabling-resources", "eco-partners", "iiot-pilots"] {
        let text = std::fs::read_to_string(root.join("examples").join(program).join("round.json")).unwrap();
        let spec: RoundSpec = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{program}: {e}"));
        assert_eq!(spec.program, program);
    }
}

/// A misspelt field is refused naming it, never silently dropped (a round without
/// its correction period because of a typo).
#[test]
fn a_round_file_with_an_unknown_field_is_refused_naming_it() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("examples/enabling-resources/round.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["corection_working_days"] = 5.into();
    let e = serde_json::from_value::<RoundSpec>(v.clone()).unwrap_err().to_string();
    assert!(e.contains("corection_working_days"), "{e}");
    v.as_object_mut().unwrap().remove("corection_working_days");
    v["cities"]["huizhou"]["district_deadlin"] = "2024-09-01".into();
    let e = serde_json::from_value::<RoundSpec>(v).unwrap_err().to_string();
    assert!(e.contains("district_deadlin"), "{e}");
}
