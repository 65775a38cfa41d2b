//! Idempotency keys: the one place that decides what a repeated request does.
//!
//! A caller (the HTTP API's `Idempotency-Key`) names a request by `(user, key)` and
//! the digest of the whole request. [`Kernel::idempotent`] guarantees:
//!
//! - **Exactly one executes.** Concurrent requests with one key wait for the first
//!   (the process holds the redb file exclusively, so an in-process slot per key is a
//!   global one); they get its answer, or [`Claim::InProgress`] if it runs longer than
//!   they may wait. Never a second effect, never a different answer.
//! - **The answer is remembered with the change.** While the request runs, the
//!   kernel's write paths — the group commit of actions and drafts, and
//!   [`Kernel::write`] for everything else — store the rendered answer in the same
//!   write transaction as the change ([`remember_in`]), so a retry after a lost
//!   response, or after a crash, replays it. A refusal changed nothing and is not
//!   remembered: concurrent waiters share it, but a later retry runs again against
//!   the state as it is then (a `stale_check`, a closed window, an object not yet
//!   visible are answers about a moment, not about the request).
//! - **Secrets are never stored.** An answer's `secret` fields are replaced by
//!   `null` in what is stored. The whole answer is kept in memory only, for
//!   [`Keyed::keep_secret`] after it was given (a retry after a lost response gets the
//!   secret again); later repeats get the stored answer with `null`.
//! - **The same key with another request** is refused ([`Claim::Reused`]).

// The in-flight slots and `Kernel::idempotent` serve the HTTP API's keys (the
// library's own keyed actions record their keys with the decision, `act_idempotent`);
// without the `http` feature only `remember_in` and `Kernel::write` are used.
#![cfg_attr(not(feature = "http"), allow(dead_code))]

use crate::error::StoreError;
use crate::kernel::Kernel;
use crate::tables::API_RESPONSES;
use redb::WriteTransaction;
use serde_json::Value;
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A response remembered under an idempotency key: the request's digest, the
/// status and the body (with secrets removed when stored).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Remembered {
    /// sha256 of the request (method, path, body), lower-case hex.
    pub digest: String,
    pub status: u16,
    pub body: Value,
}

/// What a keyed request may do.
#[derive(Debug)]
pub enum Claim {
    /// It ran (`replayed: false`), or an earlier request with the key answered
    /// (`replayed: true`).
    Answer { answer: Remembered, replayed: bool },
    /// The key names a different request.
    Reused,
    /// A request with this key is still running after the wait.
    InProgress,
}

/// Renders a kernel result (`&dyn Any`, downcast to the type the request expects)
/// into the answer to remember; `None` for results of other types.
pub type Render = Box<dyn Fn(&dyn Any) -> Option<(u16, Value)> + Send>;

/// The request running on this thread under a key, if any.
struct Pending {
    user: String,
    key: String,
    digest: String,
    render: Render,
    /// Field names whose values are secrets (never stored).
    secret: &'static [&'static str],
    /// The answer was written inside the change's transaction.
    written: bool,
}

thread_local! {
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// In-flight keys of this process, and answers with secrets kept in memory for a while.
#[derive(Default)]
pub(crate) struct Slots {
    map: Mutex<HashMap<(String, String), Arc<Slot>>>,
    /// Whole answers whose stored copy lost a secret, until the instant given.
    kept: Mutex<HashMap<(String, String), (Instant, Remembered)>>,
}

/// At most this many answers with secrets are kept in memory at once.
const MAX_KEPT: usize = 10_000;

impl Slots {
    fn kept(&self, id: &(String, String)) -> Option<Remembered> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        kept.retain(|_, (until, _)| *until > now);
        kept.get(id).map(|(_, r)| r.clone())
    }

    fn keep(&self, id: (String, String), answer: Remembered, for_: Duration) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        kept.retain(|_, (until, _)| *until > now);
        if kept.len() < MAX_KEPT {
            kept.insert(id, (now + for_, answer));
        }
    }
}

struct Slot {
    state: Mutex<SlotState>,
    done: Condvar,
}

enum SlotState {
    Running,
    /// The first request's answer; `None` when it has none to share (a server
    /// fault): a waiter then runs the request itself.
    Finished(Option<Remembered>),
}

impl Slot {
    fn finish(&self, answer: Option<Remembered>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*st, SlotState::Running) {
            *st = SlotState::Finished(answer);
        }
    }
}

/// Replace each `secret` field (at any depth) by `null`.
fn redact(v: &mut Value, secret: &[&str]) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if secret.contains(&k.as_str()) {
                    *x = Value::Null;
                } else {
                    redact(x, secret);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| redact(x, secret)),
        _ => {}
    }
}

/// Inside a write transaction: if a keyed request runs on this thread and `result`
/// is what it renders, store its answer under the key in `tx`. Called by every write
/// path just before it hands its transaction to commit. Returns whether it wrote (a
/// change that wrote nothing else must still be committed then).
///
/// # Errors
/// Storage errors of the insert (the caller abandons its transaction).
pub(crate) fn remember_in(tx: &WriteTransaction, result: &dyn Any) -> Result<bool, StoreError> {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let Some(p) = p.as_mut() else { return Ok(false) };
        let Some((status, mut body)) = (p.render)(result) else { return Ok(false) };
        if !(200..300).contains(&status) {
            return Ok(false);
        }
        redact(&mut body, p.secret);
        let rec = Remembered { digest: p.digest.clone(), status, body };
        API_RESPONSES.open(tx)?.insert((p.user.as_str(), p.key.as_str()), &rec)?;
        p.written = true;
        Ok(true)
    })
}

/// The keyed request of a change, carried to whichever thread applies the change:
/// the group commit's leader applies its batch-mates' changes on its own thread,
/// and [`remember_in`] must see the request of the change it runs, not the leader's.
pub(crate) struct Carried(Mutex<Option<Pending>>);

impl Carried {
    /// Move this thread's pending request (if any) into a carrier.
    pub(crate) fn take() -> Carried {
        Carried(Mutex::new(PENDING.with(|p| p.borrow_mut().take())))
    }

    /// Make the carried request this thread's until the guard drops (then carry it on,
    /// with its `written` mark, and give the thread back what it had).
    pub(crate) fn lend(&self) -> Lent<'_> {
        let carried = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        let had = PENDING.with(|p| p.replace(carried));
        Lent { carrier: self, had }
    }

    /// Put the request back on this thread (the caller's, once its change is done).
    pub(crate) fn restore(self) {
        let carried = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        PENDING.with(|p| *p.borrow_mut() = carried);
    }
}

/// A carried request lent to the thread applying its change ([`Carried::lend`]).
pub(crate) struct Lent<'a> {
    carrier: &'a Carried,
    had: Option<Pending>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let lent = PENDING.with(|p| p.replace(self.had.take()));
        *self.carrier.0.lock().unwrap_or_else(|e| e.into_inner()) = lent;
    }
}

/// Clears the thread's pending request however `run` ends (even by a panic).
struct ClearPending;

impl Drop for ClearPending {
    fn drop(&mut self) {
        PENDING.with(|p| p.borrow_mut().take());
    }
}

/// Removes the key's slot and wakes its waiters however the first request ends.
struct Release<'a> {
    slots: &'a Slots,
    id: (String, String),
    slot: Arc<Slot>,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.slot.finish(None);
        self.slots.map.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
        self.slot.done.notify_all();
    }
}

/// How a keyed request is run: who, which key, what to store, how long to wait.
pub struct Keyed<'a> {
    pub user: &'a str,
    pub key: &'a str,
    /// sha256 of the whole request, lower-case hex.
    pub digest: String,
    /// Field names never stored (e.g. `["secret"]` for issued tokens).
    pub secret: &'static [&'static str],
    /// How long a concurrent request with the same key waits for the first.
    pub wait: Duration,
    /// How long an answer with a secret is kept whole in memory (never on disk).
    pub keep_secret: Duration,
}

impl Kernel {
    /// Run `run` once per `(user, key)`: see the module documentation.
    /// `render` turns the kernel result of the request's change into its answer so
    /// that the write path stores it in the change's own transaction; `run` returns
    /// the live answer (status, body), which is stored afterwards only if no write
    /// path stored it (a refusal, or a request that wrote nothing).
    ///
    /// # Errors
    /// Storage errors reading or storing the remembered answer.
    pub(crate) fn idempotent(
        &self,
        k: Keyed<'_>,
        render: Render,
        run: impl FnOnce() -> (u16, Value),
    ) -> Result<Claim, StoreError> {
        let id = (k.user.to_string(), k.key.to_string());
        let slots = self.idempotency_slots();
        // Wait for a request with this key that is still running.
        let slot = loop {
            let mut map = slots.map.lock().unwrap_or_else(|e| e.into_inner());
            let Some(running) = map.get(&id).cloned() else {
                let slot = Arc::new(Slot { state: Mutex::new(SlotState::Running), done: Condvar::new() });
                map.insert(id.clone(), slot.clone());
                break slot;
            };
            drop(map);
            let deadline = Instant::now() + k.wait;
            let mut st = running.state.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                match &*st {
                    SlotState::Finished(Some(a)) => {
                        return Ok(if a.digest == k.digest {
                            Claim::Answer { answer: a.clone(), replayed: true }
                        } else {
                            Claim::Reused
                        });
                    }
                    // It ended without an answer to share: take its place.
                    SlotState::Finished(None) => break,
                    SlotState::Running => {}
                }
                let now = Instant::now();
                if now >= deadline {
                    return Ok(Claim::InProgress);
                }
                st = running.done.wait_timeout(st, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
            }
        };
        let release = Release { slots, id: id.clone(), slot: slot.clone() };
        // A finished earlier request: its whole answer while it is kept in memory,
        // else the stored one (this process or before a restart).
        let recalled = match slots.kept(&id) {
            Some(r) => Some(r),
            None => self.recall(k.user, k.key)?,
        };
        if let Some(r) = recalled {
            let claim = if r.digest == k.digest {
                slot.finish(Some(r.clone()));
                Claim::Answer { answer: r, replayed: true }
            } else {
                Claim::Reused
            };
            drop(release);
            return Ok(claim);
        }
        PENDING.with(|p| {
            *p.borrow_mut() = Some(Pending {
                user: k.user.to_string(),
                key: k.key.to_string(),
                digest: k.digest.clone(),
                render,
                secret: k.secret,
                written: false,
            })
        });
        let clear = ClearPending;
        let (status, body) = run();
        let written = PENDING.with(|p| p.borrow().as_ref().is_some_and(|p| p.written));
        drop(clear);
        let answer = Remembered { digest: k.digest, status, body };
        // Answers that no write path stored: refusals (nothing changed) and requests
        // that wrote nothing. Server faults are not final: a retry may cure them.
        let mut stored = answer.clone();
        redact(&mut stored.body, k.secret);
        let success = (200..300).contains(&status);
        // A success no write path stored (a change that wrote nothing, an install of
        // bytes already there) is stored now.
        if success && !written {
            self.store_answer(k.user, k.key, &stored)?;
        }
        if success && stored != answer && !k.keep_secret.is_zero() {
            slots.keep(id, answer.clone(), k.keep_secret);
        }
        // Waiters share any final answer; a server fault they run again themselves.
        if status < 500 {
            slot.finish(Some(answer.clone()));
        }
        drop(release);
        Ok(Claim::Answer { answer, replayed: false })
    }

    /// The answer remembered under `(user, key)`, if any.
    fn recall(&self, user: &str, key: &str) -> Result<Option<Remembered>, StoreError> {
        let tx = self.begin_read()?;
        API_RESPONSES.open(&tx)?.get((user, key))
    }

    fn store_answer(&self, user: &str, key: &str, r: &Remembered) -> Result<(), StoreError> {
        self.write(|tx| {
            API_RESPONSES.open(tx)?.insert((user, key), r)?;
            Ok::<_, StoreError>(())
        })
    }

    /// One write transaction outside the group commit (administrative changes):
    /// `change` writes into it; if a keyed request runs on this thread, its answer
    /// is rendered from the result and stored in the same transaction; then commit.
    ///
    /// # Errors
    /// `change`'s own error (nothing is committed), or a storage error beginning,
    /// remembering or committing.
    pub(crate) fn write<T: 'static, E: From<StoreError>>(
        &self,
        change: impl FnOnce(&WriteTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.db().begin_write().map_err(StoreError::from)?;
        let out = change(&tx)?;
        remember_in(&tx, &out)?;
        self.counted_commit(tx)?;
        Ok(out)
    }
}
