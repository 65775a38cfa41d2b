//! Group commit: concurrent state changes share write transactions, one fsync per
//! batch.
//!
//! Callers queue their changes; one of them, the leader, applies the queued changes
//! one after another into the one open [`WriteTransaction`] — so each change sees the
//! state its batch-mates left (quota counters, the application's stage, the chain
//! head) — and commits when the queue is empty or the batch is full. Each caller
//! waits until its batch is durable before it learns its result. While a batch
//! commits the next callers queue up, and they form the next batch; the leader leads
//! until its own change is done and a few batches more, then a waiting caller takes
//! over. (Each caller applying its own change on its own thread handed the
//! transaction from thread to thread once per change: a wake-up and cold caches each
//! time, more than half of the time spent applying.)
//!
//! A change that is refused before it writes anything ([`Step::Refused`]) leaves its
//! batch-mates alone. A change that fails after writing part of itself
//! ([`Step::Spoiled`]) or panics abandons the transaction: it gets its error (its
//! caller the panic) and every batch-mate runs again in a fresh batch, so nothing
//! half-done is ever committed.
//! A failed commit is a storage error for every change in the batch; no change is
//! acknowledged before its batch is durable.

use crate::error::StoreError;
use redb::{Database, WriteTransaction};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// The tables of the actions, once a change has opened them in the transaction.
pub(crate) type MaybeTables<'t> = Option<crate::workflow::ActTables<'t>>;

self_cell::self_cell!(
    /// The group's open write transaction and the action tables opened in it: the
    /// first change that needs them opens them and its batch-mates reuse them (a
    /// dozen table opens and closes cost a single decision twice its own work).
    pub(crate) struct OpenTx {
        owner: WriteTransaction,
        #[not_covariant]
        dependent: MaybeTables,
    }
);

/// What one change did inside the shared transaction.
pub(crate) enum Step<R, E> {
    /// Accepted. `wrote` says whether it wrote anything (a replayed idempotent
    /// request does not); either way its result waits for the batch to be durable.
    Ok(R, bool),
    /// Refused before writing anything; batch-mates are unaffected.
    Refused(E),
    /// Failed after writing: the whole transaction is abandoned and batch-mates rerun.
    Spoiled(E),
}

/// How a batch ended, as its members learn it.
#[derive(Clone)]
enum End {
    Committed,
    Failed(Arc<redb::Error>),
}

/// What a change did, as the leader sees it (the change keeps its own result).
#[derive(Clone, Copy)]
enum Kind {
    /// Accepted or refused: it stays in the batch and learns how the batch ends (a
    /// refusal may rest on a batch-mate's writes).
    Kept { wrote: bool },
    /// It spoiled the transaction.
    Spoiled,
}

/// What a caller learns about its queued change.
enum Outcome {
    /// It spoiled its transaction: its own result says so.
    Spoiled,
    /// Its batch ended so.
    Ended(End),
    /// It panicked while the leader applied it.
    Panicked(Box<dyn std::any::Any + Send>),
}

/// The change a caller queued, type- and lifetime-erased: it lives on its caller's
/// stack, and the caller waits in [`GroupCommit::run`] until it has an
/// [`Outcome`] — after which nobody touches it.
struct Job {
    id: u64,
    change: *mut (dyn FnMut(&mut OpenTx) -> Kind + Send + 'static),
}

// SAFETY: the pointee is `Send`, and exactly one thread (the leader) calls it at a
// time while its owner waits.
unsafe impl Send for Job {}

#[derive(Default)]
struct State {
    /// Someone is leading: applying queued changes and committing them.
    leading: bool,
    /// Changes waiting to be applied, in arrival order.
    queue: VecDeque<Job>,
    next_id: u64,
    /// Outcomes not yet collected by their callers, by job.
    outcomes: HashMap<u64, Outcome>,
}

/// Counters since the kernel opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Durable commits of the group path.
    pub commits: u64,
    /// Changes that wrote, acknowledged through them (a replay, which writes
    /// nothing, is not counted).
    pub changes: u64,
    /// Transactions abandoned because a change failed halfway.
    pub abandoned: u64,
    /// Time spent applying changes inside the shared transactions (serial work).
    pub applying: std::time::Duration,
    /// Time spent committing them (write-out and fsync; nobody applies meanwhile).
    pub committing: std::time::Duration,
}

/// Batches a leader applies and commits after the one with its own change, when
/// changes are waiting: handing the lead to another thread costs a wake-up of the
/// next leader among all the woken members of the batch (1/6 of the time at 64
/// clients), and a few more batches delay the leader's own answer by a few
/// milliseconds only (bounded: under a steady stream the queue is never empty).
const LEAD_AFTER_MINE: u32 = 3;

pub(crate) struct GroupCommit {
    state: Mutex<State>,
    /// Wakes callers: an outcome is ready, or nobody leads.
    done: Condvar,
    /// At most this many changes share one transaction.
    max_batch: usize,
    commits: AtomicU64,
    changes: AtomicU64,
    abandoned: AtomicU64,
    applying_ns: AtomicU64,
    committing_ns: AtomicU64,
}

impl GroupCommit {
    pub(crate) fn new(max_batch: usize) -> GroupCommit {
        GroupCommit {
            state: Mutex::new(State::default()),
            done: Condvar::new(),
            max_batch: max_batch.max(1),
            commits: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            abandoned: AtomicU64::new(0),
            applying_ns: AtomicU64::new(0),
            committing_ns: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            commits: self.commits.load(Ordering::Relaxed),
            changes: self.changes.load(Ordering::Relaxed),
            abandoned: self.abandoned.load(Ordering::Relaxed),
            applying: std::time::Duration::from_nanos(self.applying_ns.load(Ordering::Relaxed)),
            committing: std::time::Duration::from_nanos(self.committing_ns.load(Ordering::Relaxed)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Changes run outside the lock (a panic there is caught); the state stays consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply `change` in the open batch (or a new one) and return its result once the
    /// batch is durable. `change` may run more than once (after a batch-mate spoiled
    /// a transaction), on another caller's thread; each run sees the state as it then
    /// is. A keyed request's answer ([`crate::idempotency`]) goes with it.
    pub(crate) fn run<R: Send, E: From<StoreError> + Send>(
        &self,
        db: &Database,
        mut change: impl FnMut(&mut OpenTx) -> Step<R, E> + Send,
    ) -> Result<R, E> {
        let carried = crate::idempotency::Carried::take();
        let mut step: Option<Step<R, E>> = None;
        let mut erased = |tx: &mut OpenTx| -> Kind {
            let _lent = carried.lend();
            let s = change(tx);
            let kind = match &s {
                Step::Ok(_, wrote) => Kind::Kept { wrote: *wrote },
                Step::Refused(_) => Kind::Kept { wrote: false },
                Step::Spoiled(_) => Kind::Spoiled,
            };
            step = Some(s);
            kind
        };
        let short: &mut (dyn FnMut(&mut OpenTx) -> Kind + Send + '_) = &mut erased;
        // SAFETY: only the lifetime is erased. A job is always in exactly one place —
        // the queue, the leader's batch, the leader's hands (inside `catch_unwind`) —
        // until it has an outcome, after which nobody touches it. This function
        // returns only after collecting the outcome; it can unwind before that only
        // from `lead`, whose `Batch` guard then takes this job out of the queue and
        // the batch (the waits here do not panic).
        let change: *mut (dyn FnMut(&mut OpenTx) -> Kind + Send + 'static) =
            unsafe { std::mem::transmute(short as *mut (dyn FnMut(&mut OpenTx) -> Kind + Send + '_)) };
        let mut g = self.lock();
        let id = g.next_id;
        g.next_id += 1;
        g.queue.push_back(Job { id, change });
        let outcome = loop {
            if let Some(o) = g.outcomes.remove(&id) {
                break o;
            }
            if !g.leading {
                g.leading = true;
                drop(g);
                self.lead(db, id);
                g = self.lock();
                continue;
            }
            g = self.done.wait(g).unwrap_or_else(|e| e.into_inner());
        };
        drop(g);
        carried.restore();
        match (outcome, step) {
            (Outcome::Panicked(p), _) => std::panic::resume_unwind(p),
            // Its batch failed to commit, or a transaction could not begin: a storage
            // error, whatever an earlier (rolled-back) run of the change said — even a
            // refusal may have rested on a batch-mate's writes that were never made.
            (Outcome::Ended(End::Failed(cause)), _) => Err(StoreError::Database(cause).into()),
            (Outcome::Ended(End::Committed), Some(Step::Ok(r, _))) => Ok(r),
            (Outcome::Ended(End::Committed) | Outcome::Spoiled, Some(Step::Refused(e) | Step::Spoiled(e))) => Err(e),
            (_, _) => unreachable!("a change with an outcome from its batch has run in it"),
        }
    }

    /// Lead: apply queued changes in batches and commit them, until the change `mine`
    /// has an outcome and [`LEAD_AFTER_MINE`] more batches (or the queue is empty);
    /// then let a waiting caller lead.
    fn lead(&self, db: &Database, mine: u64) {
        let mut batch = Batch { group: self, mine, members: Vec::new(), armed: true };
        let mut after_mine = 0;
        loop {
            let mut g = self.lock();
            if g.outcomes.contains_key(&mine) {
                after_mine += 1;
            }
            if g.queue.is_empty() || after_mine > LEAD_AFTER_MINE {
                g.leading = false;
                batch.armed = false;
                drop(g);
                self.done.notify_all();
                return;
            }
            drop(g);
            let tx = match db.begin_write() {
                Ok(tx) => tx,
                Err(e) => {
                    // Every queued change learns it (as a failed commit would say).
                    let cause = Arc::new(redb::Error::from(e));
                    let mut g = self.lock();
                    for job in std::mem::take(&mut g.queue) {
                        g.outcomes.insert(job.id, Outcome::Ended(End::Failed(cause.clone())));
                    }
                    drop(g);
                    self.done.notify_all();
                    continue;
                }
            };
            let mut tx = OpenTx::new(tx, |_| None);
            let members = &mut batch.members;
            let mut writers = 0usize;
            let mut spoiled = false;
            while members.len() < self.max_batch {
                let Some(job) = self.lock().queue.pop_front() else { break };
                let started = Instant::now();
                // SAFETY: see `Job`; its owner waits for the outcome given below.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*job.change)(&mut tx) }));
                self.applying_ns.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
                let own = match ran {
                    Ok(Kind::Kept { wrote }) => {
                        writers += usize::from(wrote);
                        members.push(job);
                        continue;
                    }
                    Ok(Kind::Spoiled) => Outcome::Spoiled,
                    Err(panic) => Outcome::Panicked(panic),
                };
                // Abandon the transaction; the batch-mates run again first.
                spoiled = true;
                let mut g = self.lock();
                g.outcomes.insert(job.id, own);
                self.abandoned.fetch_add(1, Ordering::Relaxed);
                for m in members.drain(..).rev() {
                    g.queue.push_front(m);
                }
                drop(g);
                self.done.notify_all();
                break;
            }
            if spoiled {
                drop(tx); // rolled back
                continue;
            }
            let end = if writers == 0 {
                drop(tx); // nothing to make durable
                End::Committed
            } else {
                let started = Instant::now();
                let committed = tx.into_owner().commit();
                self.committing_ns.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
                match committed {
                    Ok(()) => {
                        self.commits.fetch_add(1, Ordering::Relaxed);
                        self.changes.fetch_add(writers as u64, Ordering::Relaxed);
                        End::Committed
                    }
                    Err(e) => End::Failed(Arc::new(redb::Error::from(e))),
                }
            };
            let mut g = self.lock();
            for m in std::mem::take(members) {
                g.outcomes.insert(m.id, Outcome::Ended(end.clone()));
            }
            drop(g);
            self.done.notify_all();
        }
    }
}

/// The changes applied in the leader's open transaction. Should the leader unwind
/// outside a change (a change's own panic is caught), they go back to the queue, the
/// leader's own change leaves it (it lives on the unwinding stack) and the leadership
/// is given up, so the batch-mates run again under another leader.
struct Batch<'a> {
    group: &'a GroupCommit,
    mine: u64,
    /// The changes applied in the open transaction (refused ones too: their refusal
    /// may rest on a batch-mate's writes, so they wait for the batch like the rest).
    members: Vec<Job>,
    /// Cleared when `lead` returns normally.
    armed: bool,
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut g = self.group.lock();
            for m in self.members.drain(..).rev() {
                g.queue.push_front(m);
            }
            let mine = self.mine;
            g.queue.retain(|j| j.id != mine);
            g.outcomes.remove(&mine);
            g.leading = false;
            drop(g);
            self.group.done.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

    const T: TableDefinition<u64, u64> = TableDefinition::new("t");

    fn write(tx: &mut OpenTx, k: u64) -> Result<(), redb::Error> {
        tx.borrow_owner().open_table(T)?.insert(k, k)?;
        Ok(())
    }

    /// Change `k`: write `k`; a failed write spoils the transaction.
    fn write_step(tx: &mut OpenTx, k: u64) -> Step<u64, StoreError> {
        match write(tx, k) {
            Ok(()) => Step::Ok(k, true),
            Err(e) => Step::Spoiled(StoreError::from(e)),
        }
    }

    /// Changes from many threads, one of which panics and one of which is refused:
    /// the panic — raised on the leader, another thread — reaches its own caller
    /// only, the refusal its own, the others are committed (each once), and the
    /// transaction the panic spoiled is abandoned and its batch-mates run again.
    #[test]
    fn a_panicking_change_is_its_caller_s_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("t.redb")).unwrap();
        let group = GroupCommit::new(8);
        // Change 0 leads (it comes alone) and waits in its first run until the other
        // 31 are queued, so change 7 runs on thread 0, not on its own.
        let ran_7_on = Mutex::new(None);
        let results = one_batch(&group, &db, 32, |k, tx| {
            if k == 7 {
                *ran_7_on.lock().unwrap() = std::thread::current().name().map(str::to_string);
                panic!("change 7 fails");
            }
            if k == 3 {
                return Step::Refused(StoreError::Corrupt { key: "3".into(), message: "no".into() });
            }
            write_step(tx, k)
        });
        let ran = ran_7_on.lock().unwrap().clone().expect("change 7 ran");
        assert_ne!(ran, "change-7", "change 7 was applied by the leader, on another thread");
        for (k, r) in results.iter().enumerate() {
            match (k, r) {
                (7, Err(p)) => assert_eq!(p.downcast_ref::<&str>(), Some(&"change 7 fails")),
                (7, Ok(_)) => panic!("change 7 panicked, yet its caller got a result"),
                (3, Ok(Err(StoreError::Corrupt { key, .. }))) => assert_eq!(key, "3"),
                (k, Ok(Ok(got))) => assert_eq!(*got, k as u64),
                (k, other) => panic!("change {k}: {:?}", other.as_ref().map(|r| r.as_ref().map_err(|e| e.to_string()))),
            }
        }
        let stats = group.stats();
        assert_eq!((stats.changes, stats.abandoned), (30, 1), "{stats:?}");
        let rtx = db.begin_read().unwrap();
        let t = rtx.open_table(T).unwrap();
        assert_eq!(t.len().unwrap(), 30);
        assert!(t.get(7).unwrap().is_none() && t.get(3).unwrap().is_none());
        // The group still works after the panic.
        assert_eq!(
            group.run(&db, |tx| Step::<u64, StoreError>::Ok(write(tx, 99).map(|()| 99).unwrap(), true)).unwrap(),
            99
        );
    }

    /// An in-memory redb file that fails its next sync, or panics in its next write,
    /// when told to.
    #[derive(Debug, Default)]
    struct Faulty {
        mem: redb::backends::InMemoryBackend,
        fail_sync: Arc<std::sync::atomic::AtomicBool>,
        panic_write: Arc<std::sync::atomic::AtomicBool>,
    }

    impl redb::StorageBackend for Faulty {
        fn len(&self) -> Result<u64, std::io::Error> {
            self.mem.len()
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
            self.mem.read(offset, out)
        }
        fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
            self.mem.set_len(len)
        }
        fn sync_data(&self) -> Result<(), std::io::Error> {
            if self.fail_sync.swap(false, Ordering::SeqCst) {
                return Err(std::io::Error::other("injected sync fault"));
            }
            self.mem.sync_data()
        }
        fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
            if self.panic_write.swap(false, Ordering::SeqCst) {
                panic!("injected write panic");
            }
            self.mem.write(offset, data)
        }
    }

    /// `n` changes from `n` threads in one batch: change 0 leads and holds its first
    /// run until the other `n - 1` are queued; `change(k, tx)` is change `k`.
    fn one_batch<R: Send>(
        group: &GroupCommit,
        db: &Database,
        n: u64,
        change: impl Fn(u64, &mut OpenTx) -> Step<R, StoreError> + Sync,
    ) -> Vec<std::thread::Result<Result<R, StoreError>>> {
        use std::sync::atomic::AtomicBool;
        let (leading, held) = (AtomicBool::new(false), AtomicBool::new(false));
        std::thread::scope(|sc| {
            let spawn = |k: u64| {
                let (leading, held, change) = (&leading, &held, &change);
                let named = std::thread::Builder::new().name(format!("change-{k}"));
                named
                    .spawn_scoped(sc, move || {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            group.run(db, |tx| {
                                if k == 0 && !held.swap(true, Ordering::SeqCst) {
                                    leading.store(true, Ordering::SeqCst);
                                    let deadline = Instant::now() + std::time::Duration::from_secs(20);
                                    while group.lock().queue.len() < (n - 1) as usize && Instant::now() < deadline {
                                        std::thread::sleep(std::time::Duration::from_millis(1));
                                    }
                                }
                                change(k, tx)
                            })
                        }))
                    })
                    .unwrap()
            };
            let first = spawn(0);
            while !leading.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            let rest: Vec<_> = (1..n).map(spawn).collect();
            std::iter::once(first).chain(rest).map(|h| h.join().unwrap()).collect()
        })
    }

    fn written(db: &Database) -> Vec<u64> {
        let rtx = db.begin_read().unwrap();
        match rtx.open_table(T) {
            Ok(t) => t.iter().unwrap().map(|e| e.unwrap().0.value()).collect(),
            Err(redb::TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => panic!("{e}"),
        }
    }

    /// A batch whose commit fails: every member learns a storage error — the refused
    /// one too (its refusal may have rested on writes that were never made) — and
    /// nothing of it can be read.
    #[test]
    fn a_failed_commit_fails_every_member_of_its_batch() {
        let faulty = Faulty::default();
        let fail_sync = faulty.fail_sync.clone();
        let db = Database::builder().create_with_backend(faulty).unwrap();
        let group = GroupCommit::new(8);
        let results = one_batch(&group, &db, 8, |k, tx| {
            if k == 3 {
                return Step::Refused(StoreError::Corrupt { key: "3".into(), message: "no".into() });
            }
            if k == 5 {
                fail_sync.store(true, Ordering::SeqCst);
            }
            write_step(tx, k)
        });
        for (k, r) in results.iter().enumerate() {
            match r {
                Ok(Err(StoreError::Database(_))) => {}
                other => panic!("change {k}: {:?}", other.as_ref().map(|r| r.as_ref().map_err(|e| e.to_string()))),
            }
        }
        assert_eq!((group.stats().commits, group.stats().changes), (0, 0));
        assert_eq!(written(&db), Vec::<u64>::new());
    }

    /// A leader that unwinds outside a change (here: a panic inside redb's commit)
    /// takes its own change's panic home; its batch-mates go back to the queue and
    /// each gets an answer from the next leader — nobody waits forever (here redb
    /// refuses new transactions after the failed commit: a storage error each) —
    /// and nothing of the batch is committed.
    #[test]
    fn a_leader_unwinding_outside_a_change_hands_its_batch_on() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let faulty = Faulty::default();
            let panic_write = faulty.panic_write.clone();
            let db = Database::builder().create_with_backend(faulty).unwrap();
            let group = GroupCommit::new(8);
            let results = one_batch(&group, &db, 8, |k, tx| {
                if k == 7 {
                    panic_write.store(true, Ordering::SeqCst);
                }
                write_step(tx, k)
            });
            let answers: Vec<String> = results
                .iter()
                .map(|r| match r {
                    Err(p) => format!("panic: {}", p.downcast_ref::<&str>().unwrap_or(&"?")),
                    Ok(Ok(k)) => format!("ok {k}"),
                    Ok(Err(StoreError::Database(_))) => "storage error".into(),
                    Ok(Err(e)) => format!("other error: {e}"),
                })
                .collect();
            // Nothing is left behind: no job in the queue (the unwound leader's own
            // change lived on its stack), no uncollected outcome, nobody leading.
            let g = group.lock();
            let left = (g.queue.len(), g.outcomes.len(), g.leading);
            drop(g);
            done.send((answers, group.stats(), written(&db), left)).unwrap();
        });
        let (answers, stats, written, left) = finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("every caller is answered (a caller waited forever)");
        assert_eq!(answers[0], "panic: injected write panic");
        for (k, a) in answers.iter().enumerate().skip(1) {
            assert_eq!(a, "storage error", "change {k}");
        }
        assert_eq!(stats.commits, 0);
        assert_eq!(written, Vec::<u64>::new());
        assert_eq!(left, (0, 0, false), "(queued, outcomes, leading) after the unwind");
    }
}
