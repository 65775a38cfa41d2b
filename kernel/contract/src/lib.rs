//! The Rust mirror of Shenbao's WIT contract (`wit/0.1.0/program.wit`).
//!
//! These are the types the kernel and the guest SDK share: a program's
//! [`Manifest`] (forms, directions, rules, quotas, its default approval
//! [`Graph`]), a [`CheckRequest`] and its [`CheckResult`]. They carry no wasm:
//! the kernel's plugin host converts wasmtime's generated bindings into them,
//! and the guest SDK converts them into wit-bindgen's.
//!
//! Also here, because both sides need them and they are pure: [`Date`]
//! arithmetic and the unified social credit code check ([`credit_code`]).
//!
//! ```
//! use shenbao_contract::{credit_code, Date};
//! assert!(credit_code::validate("91350100M000100Y43").is_ok());
//! let d: Date = "2024-08-10".parse().unwrap();
//! assert_eq!(d.add_months(-60), Date::new(2019, 8, 10));
//! ```

pub mod convert;
pub mod credit_code;
mod date;
mod types;

pub use date::{Date, DateError, MonthDay};
pub use types::*;

/// The WIT package version this crate mirrors.
pub const WIT_VERSION: &str = "0.1.0";
/// The WIT package name.
pub const WIT_PACKAGE: &str = "shenbao:program";
/// The exported interface every program plugin implements.
pub const WIT_INTERFACE: &str = "shenbao:program/plugin";

/// A project name as a key: whitespace removed, ASCII lower-cased, full-width
/// ASCII forms (Ａ, （) folded to half-width. The kernel and plugins share this one definition.
pub fn project_key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
