//! Storage faults: a redb `StorageBackend` over the real file that fails a sync or
//! a write when told to. An action whose commit fails gets a storage error (kind
//! `Storage`, code `store`), so do its batch-mates in the same group commit; nothing
//! is acknowledged, and reopening the file shows the state from before.

#[path = "world.rs"]
mod world;

use redb::{BackendError, StorageBackend};
use shenbao::{ActError, Classified, ErrorKind, Kernel, KernelConfig};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use world::*;

/// The real file, with faults on demand.
#[derive(Debug)]
struct Faulty {
    file: redb::backends::FileBackend,
    fail_sync: AtomicBool,
    fail_write: AtomicBool,
    faults: AtomicU64,
}

impl Faulty {
    fn fault(&self, what: &str) -> std::io::Error {
        self.faults.fetch_add(1, Ordering::SeqCst);
        std::io::Error::other(format!("injected {what} fault"))
    }
}

impl StorageBackend for Faulty {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.file.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.file.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.file.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        if self.fail_sync.load(Ordering::SeqCst) {
            return Err(self.fault("sync"));
        }
        self.file.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        if self.fail_write.load(Ordering::SeqCst) {
            return Err(self.fault("write"));
        }
        self.file.write(offset, data)
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.file.close()
    }
    fn try_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(s, e)
    }
    fn try_lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(s, e)
    }
    fn lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(s, e)
    }
    fn lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(s, e)
    }
    fn unlock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(s, e)
    }
    fn query_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(s, e)
    }
}

impl Faulty {
    fn open(path: &std::path::Path) -> Faulty {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).unwrap();
        Faulty {
            file: redb::backends::FileBackend::new(file).unwrap(),
            fail_sync: AtomicBool::new(false),
            fail_write: AtomicBool::new(false),
            faults: AtomicU64::new(0),
        }
    }
}

/// Six submitted applications waiting for the Huicheng district, on a [`Faulty`]
/// file; `arm` turns the fault on; six concurrent recommendations (sharing group
/// commits) must all fail with a storage error; the reopened file holds what it held
/// before (or, for [`Outcome::Unknown`], whole decisions of the failed commits only),
/// verifies, and accepts the remaining recommendations.
fn nothing_survives_a_fault(arm: fn(&Faulty, bool), outcome: Outcome) {
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("faulty.redb");
    let blob_dir = files.path().join("blobs");
    let faulty = Arc::new(Faulty::open(&path));
    let backend: Arc<dyn StorageBackend> = faulty.clone();
    let w = world_configured(spec(), |c: &mut KernelConfig| {
        c.storage = Some(backend);
        c.blob_dir = Some(blob_dir.clone());
    });
    let ids: Vec<String> = (1..=6).map(|n| w.submitted(n)).collect();
    let before = w.decisions();
    let apps_before: Vec<_> = ids.iter().map(|id| w.kernel.application(id).unwrap()).collect();

    arm(&faulty, true);
    let results: Vec<Result<shenbao::Receipt, ActError>> = std::thread::scope(|sc| {
        let hs: Vec<_> = ids
            .iter()
            .map(|id| sc.spawn(|| w.act("district-huicheng", id, "district-recommend", Some("同意"))))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(faulty.faults.load(Ordering::SeqCst) > 0, "the fault was injected");
    for r in &results {
        let e = r.as_ref().expect_err("nothing is acknowledged when its commit fails");
        assert_eq!((e.kind(), e.code()), (ErrorKind::Storage, "store"), "{e}");
        // The cause is redb's own error, kept as the source.
        let mut source = std::error::Error::source(e);
        let mut found = false;
        while let Some(s) = source {
            found |= s.downcast_ref::<Arc<redb::Error>>().is_some();
            source = s.source();
        }
        assert!(found, "redb's error is the source of {e}");
    }
    arm(&faulty, false);
    let World { kernel, dir, .. } = w;
    drop(kernel);
    drop(faulty);

    let config = KernelConfig {
        host: shenbao::HostConfig { cache_dir: Some(shared_cache()), ..Default::default() },
        clock: Arc::new(shenbao::ManualClock::new(t(2024, 8, 20, 9))),
        blob_dir: Some(blob_dir),
        ..KernelConfig::default()
    };
    let k = Kernel::open_with(&path, config).unwrap();
    // Each application is as it was — or, where the failed commit reached the file
    // after all (`unknown`), moved by exactly that recommendation, whole.
    let mut moved = 0;
    for (id, app) in ids.iter().zip(&apps_before) {
        let now = k.application(id).unwrap();
        if &now != app {
            assert!(outcome == Outcome::Unknown, "{id} changed, yet its commit failed before reaching the file");
            assert_eq!(now.state.stage, "city-review", "{id}");
            let last = k.decisions_of(id).unwrap().pop().unwrap();
            assert_eq!((last.action.as_str(), last.from.as_str()), ("district-recommend", "district-review"));
            moved += 1;
        }
    }
    assert_eq!(k.decision_count().unwrap(), before + moved, "a decision for each moved application, no other");
    assert_eq!(k.verify_chain().unwrap().first_broken, None);
    assert_eq!(k.verify_indexes().unwrap(), Vec::<String>::new());
    // The recommendations not recorded succeed now.
    let req = shenbao::ActionRequest {
        action: "district-recommend".into(),
        opinion: Some("同意".into()),
        ..Default::default()
    };
    for id in &ids {
        if k.application(id).unwrap().state.stage == "district-review" {
            k.act("district-huicheng", id, &req).unwrap();
        }
    }
    assert_eq!(k.decision_count().unwrap(), before + ids.len() as u64);
    drop(dir);
}

/// What a failed commit leaves in the file.
#[derive(PartialEq)]
enum Outcome {
    /// Nothing: the failure came before the commit reached the file.
    Nothing,
    /// Unknown: redb writes a commit (pages and the checksummed header) and then
    /// syncs once; a sync that fails leaves the written commit in the OS's cache,
    /// where a reopen without a machine crash finds it whole. The caller was told
    /// `store` and nothing was acknowledged; a retry with its idempotency key
    /// replays the decision if it is there.
    Unknown,
}

#[test]
fn a_failed_sync_acknowledges_nothing() {
    nothing_survives_a_fault(|f, on| f.fail_sync.store(on, Ordering::SeqCst), Outcome::Unknown);
}

#[test]
fn a_failed_write_acknowledges_nothing_and_leaves_nothing() {
    nothing_survives_a_fault(|f, on| f.fail_write.store(on, Ordering::SeqCst), Outcome::Nothing);
}

/// A damaged record (bytes that are not the table's record type) is a typed
/// `corrupt` error naming its table and key wherever it is read — by a lookup, a
/// listing, an action — never a panic, a wrong value or a storage error; the
/// records around it stay readable.
#[test]
fn a_damaged_record_is_a_corrupt_error_naming_table_and_key() {
    let w = world();
    let damaged = w.submitted(1);
    let intact = w.submitted(2);
    let World { kernel, dir, .. } = w;
    drop(kernel);
    let path = dir.path().join("shenbao.redb");
    {
        let db = redb::Database::open(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let raw: redb::TableDefinition<TextKey, &[u8]> = redb::TableDefinition::new("apps");
            tx.open_table(raw).unwrap().insert(damaged.as_str(), b"{\"id\": 7".as_slice()).unwrap();
            let raw: redb::TableDefinition<TextKey, &[u8]> = redb::TableDefinition::new("orgs");
            tx.open_table(raw).unwrap().insert(code(3).as_str(), b"[]".as_slice()).unwrap();
        }
        tx.commit().unwrap();
    }
    let config = KernelConfig {
        host: shenbao::HostConfig { cache_dir: Some(shared_cache()), ..Default::default() },
        clock: Arc::new(shenbao::ManualClock::new(t(2024, 8, 12, 9))),
        ..KernelConfig::default()
    };
    let k = Kernel::open_with(&path, config).unwrap();
    let corrupt_key = |e: &dyn Classified| -> String {
        assert_eq!((e.kind(), e.code()), (ErrorKind::Corrupt, "corrupt"), "{e}");
        e.to_string()
    };
    let app_key = format!("apps/{damaged}");
    let e = k.application(&damaged).unwrap_err();
    assert!(corrupt_key(&e).contains(&app_key), "{e}");
    let e = k.applications_in(ROUND).unwrap_err();
    assert!(corrupt_key(&e).contains(&app_key), "{e}");
    let req = shenbao::ActionRequest {
        action: "district-recommend".into(),
        opinion: Some("同意".into()),
        ..Default::default()
    };
    let e = k.act("district-huicheng", &damaged, &req).unwrap_err();
    assert!(corrupt_key(&e).contains(&app_key), "{e}");
    let e = k.org(&code(3)).unwrap_err();
    assert!(corrupt_key(&e).contains(&format!("orgs/{}", code(3))), "{e}");
    // The records around them are intact, and the intact application can still be acted on.
    assert_eq!(k.application(&intact).unwrap().state.stage, "district-review");
    assert!(k.org(&code(2)).unwrap().is_some());
    k.act("district-huicheng", &intact, &req).unwrap();
    drop(dir);
}
