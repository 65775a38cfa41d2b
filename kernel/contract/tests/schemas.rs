//! The JSON Schemas of the contract's documents are generated from the Rust types
//! and committed in `schemas/`; this test fails when they drift. To regenerate:
//! `SHENBAO_BLESS=1 cargo test -p shenbao-contract --test schemas`.

use schemars::JsonSchema;
use shenbao_contract::{CheckRequest, CheckResult, Graph, Manifest, RoundCheck, RoundInfo};
use std::path::PathBuf;

fn schema_of<T: JsonSchema>() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<T>();
    serde_json::to_string_pretty(&schema).unwrap() + "\n"
}

fn check(file: &str, generated: String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas").join(file);
    if std::env::var_os("SHENBAO_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/{file} is out of date with the Rust types; regenerate with \
         `SHENBAO_BLESS=1 cargo test -p shenbao-contract --test schemas` and commit it"
    );
}

#[test]
fn committed_schemas_match_the_types() {
    check("manifest.schema.json", schema_of::<Manifest>());
    check("graph.schema.json", schema_of::<Graph>());
    check("check-request.schema.json", schema_of::<CheckRequest>());
    check("check-result.schema.json", schema_of::<CheckResult>());
    check("round-info.schema.json", schema_of::<RoundInfo>());
    check("round-check.schema.json", schema_of::<RoundCheck>());
}
