//! # shenbao-engine
//!
//! Shenbao's pure core: the stored model ([`model`]), approval graphs ([`graph`]),
//! working-day calendars ([`calendar`]), Beijing dates and times ([`time`]), the
//! error classification ([`ErrorKind`]) and the transition function [`decide`].
//!
//! A transition is `decide(&Snapshot, &Command) -> Result<Decided, Refusal>`: the
//! shell (the `shenbao` crate) reads everything a decision needs — the application's
//! state, its round, the applicant, quota counters, a ban, the calendar — into the
//! [`Snapshot`] inside the write transaction that will carry it out, and then carries
//! out the returned effects ([`Decided`]: new state, quota counters, a ban). Every
//! rule about an action lives here; nothing here touches storage, plugins, clocks or
//! the network (this crate depends on neither redb, wasmtime, axum nor tokio — a test
//! over `cargo metadata` keeps it so).

pub mod access;
pub mod calendar;
mod decide;
mod error;
pub mod graph;
pub mod model;
pub mod text;
pub mod time;

pub use decide::{
    Command, Decided, MAX_APPLICATIONS_PER_APPLICANT, MAX_OPINION_CHARS, Refusal, Snapshot, decide, quota_counters,
    quota_limit_of, stage_open, stage_outcome, window_end, window_open,
};
pub use error::ErrorKind;
