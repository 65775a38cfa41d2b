//! A released WIT version never changes: `wit/RELEASED` pins each file's sha256.

use sha2::{Digest, Sha256};
use std::path::PathBuf;

#[test]
fn released_wit_files_are_unchanged() {
    let wit = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../wit");
    let released = std::fs::read_to_string(wit.join("RELEASED")).unwrap();
    let mut versions = 0;
    for line in released.lines().filter(|l| !l.trim().is_empty()) {
        let (version, sha) = line.split_once(' ').expect("`VERSION SHA256` per line");
        let text = std::fs::read(wit.join(version).join("program.wit")).unwrap();
        let actual = hex(&Sha256::digest(&text));
        assert_eq!(actual, sha.trim(), "wit/{version}/program.wit was edited after release; add a new version instead");
        let src = String::from_utf8(text).unwrap();
        assert!(src.contains(&format!("package shenbao:program@{version};")), "wit/{version} declares another version");
        versions += 1;
    }
    assert!(versions >= 1);
    assert!(released.contains(shenbao_contract::WIT_VERSION), "the contract crate mirrors a released version");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
