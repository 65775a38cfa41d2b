//! The fuzz targets (`tests/fuzzing/mod.rs`, the same code cargo-fuzz runs from
//! `fuzz/`) as proptests in the normal suite: random bytes through the same
//! generators, `SHENBAO_FUZZ_CASES` per target (default 400). No panic, every
//! rejection a typed error with a message.

mod fuzzing;

use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("SHENBAO_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

macro_rules! target_props {
    ($($name:ident),*) => {$(
        proptest! {
            #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]
            #[test]
            fn $name(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
                fuzzing::$name(&data);
            }
        }
    )*};
}

target_props!(form_data, organisation, round_config, graph, import, plugin_output, manifest, form_schema);

/// The generator reaches past the parsers: most inputs are well-formed enough to be
/// checked, and some are accepted while others are refused.
#[test]
fn the_generator_reaches_the_checks() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let (mut parsed, mut total) = (0, 0);
    for _ in 0..300 {
        let data: Vec<u8> = (0..512)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect();
        let mut u = arbitrary::Unstructured::new(&data);
        let v = fuzzing::mutate(&mut u, &serde_json::json!({ "a": [1, 2], "b": { "c": "d" } }));
        total += 1;
        if v.get("a").is_some() || v.get("b").is_some() {
            parsed += 1;
        }
    }
    assert!(parsed * 2 > total, "the mutations destroy the seed too often: {parsed}/{total}");
}
