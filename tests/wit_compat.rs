//! WIT versioning: the host supports every WIT version it has released. Plugins built
//! against the frozen `wit/0.1.0` world — by the Rust SDK, componentize-py and
//! componentize-js, each pointed at that directory — must keep installing and running
//! after any later change to the kernel or the contract: the day `wit/0.2.0` appears,
//! this test still builds these plugins from `wit/0.1.0` and still requires them to work.

use shenbao::{CaseSet, HostConfig, Kernel, KernelConfig, SUPPORTED_WIT};
use std::sync::Arc;

/// Every version listed in `wit/RELEASED`.
fn released() -> Vec<String> {
    let text = std::fs::read_to_string(testkit::root().join("wit").join("RELEASED")).unwrap();
    text.lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect()
}

#[test]
fn the_host_supports_every_released_wit_version() {
    let released = released();
    assert!(released.contains(&"0.1.0".to_string()));
    for v in &released {
        assert!(SUPPORTED_WIT.contains(&v.as_str()), "WIT {v} was released but the host no longer supports it");
        assert!(testkit::root().join("wit").join(v).join("program.wit").exists(), "wit/{v} is kept");
    }
}

#[test]
fn plugins_built_against_the_frozen_0_1_world_install_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = KernelConfig {
        host: HostConfig { cache_dir: Some(testkit::shared_cache_dir()), ..HostConfig::default() },
        clock: Arc::new(shenbao::SystemClock),
        blob_dir: None,
        ..KernelConfig::default()
    };
    let set = CaseSet::load(testkit::root().join("plugins").join("minimal").join("cases")).unwrap();
    for package in ["minimal", "minimal-py", "minimal-js"] {
        // A database of its own each: the three are the same program and version.
        let kernel = Kernel::open_with(dir.path().join(format!("{package}.redb")), config.clone()).unwrap();
        let installed = kernel.install_plugin(&testkit::plugin_bytes(package)).unwrap();
        assert_eq!(installed.record.id.wit, "0.1.0", "{package} exports shenbao:program/plugin@0.1.0");
        let loaded = kernel.plugin("minimal", "0.1.0").unwrap();
        for run in set.run(&loaded).unwrap() {
            assert!(run.passed(), "{package} {}: {}", run.name, run.diff());
        }
    }
}
