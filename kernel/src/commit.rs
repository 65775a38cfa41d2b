//! Group commit: concurrent state changes share write transactions, one fsync per
//! batch.
//!
//! Each caller applies its own change, on its own thread, into the one open
//! [`WriteTransaction`] — so each change sees the state its batch-mates left (quota
//! counters, the application's stage, the chain head) — and then waits until that
//! transaction is durable before it learns its result. The last caller to apply, when
//! nobody else is waiting to, commits. While a batch commits the next callers queue
//! up, and they form the next batch.
//!
//! A change that is refused before it writes anything ([`Step::Refused`]) leaves its
//! batch-mates alone. A change that fails after writing part of itself
//! ([`Step::Spoiled`]) abandons the transaction: it gets its error and every
//! batch-mate runs again in a fresh batch, so nothing half-done is ever committed.
//! A failed commit is a storage error for every change in the batch; no change is
//! acknowledged before its batch is durable.

use crate::error::StoreError;
use redb::{Database, WriteTransaction};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
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
    Failed(std::sync::Arc<redb::Error>),
    /// A member spoiled the transaction; the others run again.
    Abandoned,
}

#[derive(Default)]
struct State {
    /// The open batch's transaction, when a batch is open and nobody is using it.
    tx: Option<OpenTx>,
    /// Someone is applying into the transaction, beginning or committing it.
    busy: bool,
    /// Callers waiting for their turn to apply.
    queued: usize,
    /// The open batch's number.
    batch: u64,
    members: usize,
    writers: usize,
    /// Ended batches whose members have not all read the end yet: (end, unread).
    ended: HashMap<u64, (End, usize)>,
}

/// Counters since the kernel opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Durable commits of the group path.
    pub commits: u64,
    /// Changes acknowledged through them.
    pub changes: u64,
    /// Transactions abandoned because a change failed halfway.
    pub abandoned: u64,
    /// Time spent applying changes inside the shared transactions (serial work).
    pub applying: std::time::Duration,
    /// Time spent committing them (write-out and fsync; nobody applies meanwhile).
    pub committing: std::time::Duration,
}

pub(crate) struct GroupCommit {
    state: Mutex<State>,
    /// Wakes one caller waiting for its turn to apply.
    turn: Condvar,
    /// Wakes the members of ended batches.
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
            turn: Condvar::new(),
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
        // A panic inside a change is handled by `Unwind`; the state stays consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply `change` in the open batch (or a new one) and return its result once the
    /// batch is durable. `change` may run more than once (after a batch-mate spoiled
    /// a transaction); each run sees the state as it then is.
    pub(crate) fn run<R, E: From<StoreError>>(
        &self,
        db: &Database,
        mut change: impl FnMut(&mut OpenTx) -> Step<R, E>,
    ) -> Result<R, E> {
        loop {
            let mut g = self.lock();
            g.queued += 1;
            while g.busy {
                g = self.turn.wait(g).unwrap_or_else(|e| e.into_inner());
            }
            g.queued -= 1;
            g.busy = true;
            let tx = match g.tx.take() {
                Some(tx) => tx,
                None => {
                    drop(g);
                    let begun = db.begin_write();
                    g = self.lock();
                    match begun {
                        Ok(tx) => {
                            g.batch += 1;
                            g.members = 0;
                            g.writers = 0;
                            OpenTx::new(tx, |_| None)
                        }
                        Err(e) => {
                            g.busy = false;
                            self.turn.notify_one();
                            return Err(StoreError::from(e).into());
                        }
                    }
                }
            };
            let mine = g.batch;
            g.members += 1;
            drop(g);

            let unwind = Unwind { group: self, batch: mine, armed: true };
            let started = Instant::now();
            let mut tx = tx;
            let step = change(&mut tx);
            self.applying_ns.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            let mut unwind = unwind;
            unwind.armed = false;

            let mut g = self.lock();
            let outcome: Result<R, E> = match step {
                Step::Spoiled(e) => {
                    drop(tx); // rolled back
                    self.abandoned.fetch_add(1, Ordering::Relaxed);
                    let others = g.members - 1;
                    self.end(&mut g, mine, End::Abandoned, others);
                    return Err(e);
                }
                Step::Ok(r, wrote) => {
                    g.writers += usize::from(wrote);
                    Ok(r)
                }
                Step::Refused(e) => Err(e),
            };
            if g.queued == 0 || g.members >= self.max_batch {
                // Nobody else is about to join: this batch ends here.
                let (members, writers) = (g.members, g.writers);
                let end = if writers == 0 {
                    drop(tx); // nothing to make durable
                    End::Committed
                } else {
                    drop(g);
                    let started = Instant::now();
                    let committed = tx.into_owner().commit();
                    self.committing_ns.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    g = self.lock();
                    match committed {
                        Ok(()) => {
                            self.commits.fetch_add(1, Ordering::Relaxed);
                            self.changes.fetch_add(writers as u64, Ordering::Relaxed);
                            End::Committed
                        }
                        Err(e) => End::Failed(std::sync::Arc::new(redb::Error::from(e))),
                    }
                };
                self.end(&mut g, mine, end, members);
            } else {
                g.tx = Some(tx);
                g.busy = false;
                self.turn.notify_one();
            }
            // Wait until the batch is durable (or not).
            let end = loop {
                if let Some((end, unread)) = g.ended.get_mut(&mine) {
                    let end = end.clone();
                    *unread -= 1;
                    if *unread == 0 {
                        g.ended.remove(&mine);
                    }
                    break end;
                }
                g = self.done.wait(g).unwrap_or_else(|e| e.into_inner());
            };
            drop(g);
            match end {
                End::Committed => return outcome,
                End::Failed(cause) => {
                    return match outcome {
                        Ok(_) => Err(StoreError::Database(cause).into()),
                        Err(e) => Err(e),
                    };
                }
                End::Abandoned => continue,
            }
        }
    }

    /// Close batch `batch` (its transaction is gone), free the turn and wake its members.
    fn end(&self, g: &mut State, batch: u64, end: End, unread: usize) {
        if unread > 0 {
            g.ended.insert(batch, (end, unread));
        }
        g.tx = None;
        g.busy = false;
        g.members = 0;
        g.writers = 0;
        self.turn.notify_one();
        self.done.notify_all();
    }
}

/// If a change panics, its transaction is dropped (rolled back) by the unwinding and
/// its batch-mates must run again.
struct Unwind<'a> {
    group: &'a GroupCommit,
    batch: u64,
    armed: bool,
}

impl Drop for Unwind<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut g = self.group.lock();
            let others = g.members.saturating_sub(1);
            self.group.abandoned.fetch_add(1, Ordering::Relaxed);
            self.group.end(&mut g, self.batch, End::Abandoned, others);
        }
    }
}
