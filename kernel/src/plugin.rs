//! The wasm-free face of a program plugin.
//!
//! Everything outside [`crate::host`] talks to plugins through [`ProgramPlugin`];
//! the engine core and its tests can use a native implementation.

use crate::error::PluginCallError;
use serde::{Deserialize, Serialize};
use shenbao_contract::{CheckRequest, CheckResult, Manifest, RoundCheck, RoundInfo};

pub use shenbao_engine::model::PluginId;

/// Per-call resource limits of a plugin. Defaults suit a Rust plugin; a Python
/// component needs more fuel and memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PluginLimits {
    /// Fuel (≈ wasm instructions) one call may use.
    pub fuel: u64,
    /// Linear memory one instance may grow to, in bytes.
    pub memory_bytes: u64,
    /// Largest request, in bytes of text, passed to the plugin.
    pub max_input_bytes: u64,
    /// Largest result, in bytes of text, accepted from the plugin.
    pub max_output_bytes: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            fuel: 2_000_000_000,
            memory_bytes: 256 << 20,
            max_input_bytes: 8 << 20,
            max_output_bytes: 4 << 20,
        }
    }
}

/// Which export was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    Describe,
    CheckApplication,
    CheckRound,
}

impl std::fmt::Display for CallKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CallKind::Describe => "describe",
            CallKind::CheckApplication => "check-application",
            CallKind::CheckRound => "check-round",
        })
    }
}

/// A plugin's answer with what it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metered<T> {
    pub value: T,
    /// Fuel the call consumed (0 for native plugins).
    pub fuel_used: u64,
}

/// A yearly program as the kernel sees it. Implemented by the wasmtime adapter for
/// installed components, and by native test doubles.
pub trait ProgramPlugin: Send + Sync {
    fn id(&self) -> &PluginId;
    fn manifest(&self) -> &Manifest;
    /// Check one application. Deterministic: the same request gives the same result.
    fn check_application(&self, request: &CheckRequest) -> Result<Metered<CheckResult>, PluginCallError>;
    /// Check a round's configuration and return the directions in force.
    fn check_round(&self, round: &RoundInfo) -> Result<Metered<RoundCheck>, PluginCallError>;
}
