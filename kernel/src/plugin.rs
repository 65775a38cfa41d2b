//! The wasm-free face of a program plugin.
//!
//! Everything outside [`crate::host`] talks to plugins through [`ProgramPlugin`];
//! the engine core and its tests can use a native implementation.

use serde::{Deserialize, Serialize};
use shenbao_contract::PluginError;
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
    /// Wall-clock time one call may take, in milliseconds (instantiation included),
    /// enforced by epoch interruption; fuel bounds computation, this bounds waiting.
    #[serde(default = "default_deadline_ms")]
    pub deadline_ms: u64,
}

fn default_deadline_ms() -> u64 {
    PluginLimits::default().deadline_ms
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            fuel: 2_000_000_000,
            memory_bytes: 256 << 20,
            max_input_bytes: 8 << 20,
            max_output_bytes: 4 << 20,
            deadline_ms: 10_000,
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

/// What went wrong inside one plugin call.
#[derive(Debug, thiserror::Error)]
pub enum PluginFault {
    #[error("used up its fuel budget of {budget} (raise the plugin's fuel limit if the program is legitimately heavy)")]
    FuelExhausted { budget: u64 },
    #[error("tried to grow linear memory to {requested} bytes, past its cap of {cap} bytes")]
    MemoryLimit { requested: u64, cap: u64 },
    #[error("overflowed the wasm stack (deep recursion)")]
    StackOverflow,
    #[error("panicked: {message}")]
    Panicked { message: String },
    #[error("trapped: {message}")]
    Trapped { message: String },
    #[error("request of {size} bytes exceeds the input cap of {cap} bytes")]
    InputTooLarge { size: u64, cap: u64 },
    #[error("returned {size} bytes, exceeding the output cap of {cap} bytes")]
    OutputTooLarge { size: u64, cap: u64 },
    #[error("returned malformed output: {problem}")]
    MalformedOutput { problem: String },
    #[error("refused the input: {0}")]
    Refused(PluginError),
    #[error("ran past its wall-clock deadline of {deadline_ms} ms")]
    DeadlineExceeded { deadline_ms: u64 },
    #[error("could not be instantiated: {message}")]
    Instantiate { message: String },
}

impl PluginFault {
    /// What happened, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            PluginFault::FuelExhausted { budget } => format!("用完了 {budget} 的燃料（计算量）上限"),
            PluginFault::MemoryLimit { requested, cap } => {
                format!("试图使用 {requested} 字节内存，超过 {cap} 字节的上限")
            }
            PluginFault::StackOverflow => "栈溢出（递归过深）".into(),
            PluginFault::Panicked { .. } => "程序出错中止（panic）".into(),
            PluginFault::Trapped { .. } => "执行出错中止（trap）".into(),
            PluginFault::InputTooLarge { size, cap } => format!("收到的请求 {size} 字节，超过 {cap} 字节的上限"),
            PluginFault::OutputTooLarge { size, cap } => format!("返回 {size} 字节，超过 {cap} 字节的上限"),
            PluginFault::MalformedOutput { .. } => "返回的结果格式不正确".into(),
            PluginFault::Refused(_) => "拒绝了输入".into(),
            PluginFault::DeadlineExceeded { deadline_ms } => format!("运行超过 {deadline_ms} 毫秒的时限"),
            PluginFault::Instantiate { .. } => "无法启动".into(),
        }
    }
}

/// A failed plugin call: which plugin, which call, what happened.
#[derive(Debug, thiserror::Error)]
#[error("插件“{plugin}”在 {call} 中{}，请联系管理员 / plugin {plugin} failed in {call}: {fault}", fault.zh())]
pub struct PluginCallError {
    pub plugin: PluginId,
    pub call: CallKind,
    pub fault: PluginFault,
}
