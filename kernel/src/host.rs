//! The wasmtime adapter — the only module that knows about wasm.
//!
//! One [`Engine`] (fuel, stack cap, pooling allocator), one [`Linker`] with WASI
//! linked to an empty, deterministic context, an [`InstancePre`] per plugin, and a
//! fresh [`Store`] + instance for every call so no state survives between
//! applications. Every failure becomes a [`PluginCallError`] naming the plugin,
//! the call and the cause.

use crate::cache::{CacheOutcome, ComponentCache};
use crate::error::{InstallError, PluginCallError, PluginFault};
use crate::plugin::{CallKind, Metered, PluginId, PluginLimits, ProgramPlugin};
use shenbao_contract::convert::Conv;
use shenbao_contract::{CheckRequest, CheckResult, Manifest, RoundCheck, RoundInfo};
use std::path::PathBuf;
use std::time::Duration;
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

/// Bindings of the frozen WIT 0.1.0 world.
mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/0.1.0",
        world: "shenbao:program/program",
    });
    shenbao_contract::conv_contract_0_1!(self::shenbao::program::types);
}

/// The types of WIT 0.1.0 as the bindings lift and lower them.
use v0_1::shenbao::program::types as W;

/// WIT versions this kernel hosts (semver-compatible releases of each).
pub const SUPPORTED_WIT: &[&str] = &["0.1.0"];

/// The fixed wall clock every plugin sees: 2000-01-01T00:00:00Z.
pub const FIXED_WALL_CLOCK_SECS: u64 = 946_684_800;
/// The fixed bytes every plugin's randomness repeats.
pub const FIXED_RANDOM: [u8; 8] = [0x5e, 0x4b, 0xa0, 0x00, 0x5e, 0x4b, 0xa0, 0x00];

/// Engine-wide settings.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Where compiled components are cached; `None` disables the disk cache.
    pub cache_dir: Option<PathBuf>,
    /// Native stack a wasm call may use, in bytes.
    pub max_wasm_stack: usize,
    /// Largest linear memory any instance may have (per-plugin caps are at most this).
    pub max_memory_bytes: u64,
    /// Instances that may be alive at once (concurrent calls).
    pub max_instances: u32,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: default_cache_dir(),
            max_wasm_stack: 512 << 10,
            max_memory_bytes: 1 << 30,
            max_instances: 128,
        }
    }
}

/// `$SHENBAO_CACHE_DIR`, else `$XDG_CACHE_HOME/shenbao`, else `$HOME/.cache/shenbao`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SHENBAO_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("shenbao"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("shenbao"))
}

/// Per-call store state: an empty WASI context and the memory limiter.
struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: CallLimiter,
    /// The guest's stderr, kept in a small host buffer and read only to explain a panic.
    stderr: MemoryOutputPipe,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

struct CallLimiter {
    memory_cap: u64,
    denied: Option<u64>,
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory_cap {
            self.denied = Some(desired as u64);
            return Ok(false);
        }
        Ok(true)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

struct FixedWall;
impl HostWallClock for FixedWall {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::from_secs(FIXED_WALL_CLOCK_SECS)
    }
}

struct FixedMonotonic;
impl HostMonotonicClock for FixedMonotonic {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// How often the engine's epoch advances: the granularity of a call's wall-clock deadline.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Advance `engine`'s epoch every [`EPOCH_TICK`] until the engine is dropped.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("shenbao-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// `wasi:clocks/monotonic-clock` as a plugin sees it: time stands still at 0 and every
/// timer is already due, so sleeping or waiting on a clock returns at once. Together
/// with the fixed wall clock this keeps a call deterministic, and no plugin can
/// block a kernel thread by sleeping (issue 15.11).
struct SandboxClock;
struct SandboxClockView<'a>(&'a mut ResourceTable);

impl wasmtime::component::HasData for SandboxClock {
    type Data<'a> = SandboxClockView<'a>;
}

/// A timer that is due.
struct Due;

impl wasmtime_wasi::p2::Pollable for Due {
    fn ready<'a, 'b>(&'a mut self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

impl SandboxClockView<'_> {
    fn due(&mut self) -> wasmtime::Result<wasmtime::component::Resource<wasmtime_wasi::p2::DynPollable>> {
        let due = self.0.push(Due)?;
        wasmtime_wasi::p2::subscribe(self.0, due)
    }
}

impl wasmtime_wasi::p2::bindings::clocks::monotonic_clock::Host for SandboxClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(FixedMonotonic.now())
    }
    fn resolution(&mut self) -> wasmtime::Result<u64> {
        Ok(FixedMonotonic.resolution())
    }
    fn subscribe_instant(
        &mut self,
        _when: u64,
    ) -> wasmtime::Result<wasmtime::component::Resource<wasmtime_wasi::p2::DynPollable>> {
        self.due()
    }
    fn subscribe_duration(
        &mut self,
        _duration: u64,
    ) -> wasmtime::Result<wasmtime::component::Resource<wasmtime_wasi::p2::DynPollable>> {
        self.due()
    }
}

/// The engine, linker and cache shared by all plugins.
pub struct WasmHost {
    engine: Engine,
    linker: Linker<CallState>,
    cache: ComponentCache,
    config: HostConfig,
}

/// A component compiled and checked to export a supported world.
pub struct Prepared {
    pre: v0_1::ProgramPre<CallState>,
    check_application: Export,
    check_round: Export,
    pub wit: String,
    pub cache: CacheOutcome,
}

/// A function of the plugin interface that calls go through, found once per
/// component: its index, and whether its type has been checked against the
/// signature the host calls it with.
///
/// The bindings' `ProgramPre::instantiate` looks up and type-checks every export
/// of the interface on every instantiation (an eighth of a minimal call). An
/// export's type is the component's, the same in every instance of it, so the
/// first call checks it (`get_typed_func`) and later calls take the function
/// unchecked (`TypedFunc::new_unchecked`).
struct Export {
    index: wasmtime::component::ComponentExportIndex,
    checked: std::sync::atomic::AtomicBool,
}

impl Export {
    /// Export `name` of the interface `iface` of `component`.
    fn find(component: &Component, iface: &wasmtime::component::ComponentExportIndex, name: &str) -> Option<Export> {
        let index = component.get_export_index(Some(iface), name)?;
        Some(Export { index, checked: std::sync::atomic::AtomicBool::new(false) })
    }

    /// The function in `instance`, typed `(P) -> R`.
    ///
    /// # Errors
    /// The export is missing or (on the first call) its type is not `(P) -> R`.
    fn typed<P, R>(
        &self,
        instance: &wasmtime::component::Instance,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<wasmtime::component::TypedFunc<P, R>>
    where
        P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
        R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
    {
        use std::sync::atomic::Ordering::{Acquire, Release};
        if self.checked.load(Acquire) {
            let func =
                instance.get_func(&mut *store, self.index).ok_or_else(|| wasmtime::format_err!("export missing"))?;
            // SAFETY: `func` is this component's export at `self.index`, whose type a
            // previous call checked to be `(P) -> R` (the `checked` flag is set only
            // after `get_typed_func` succeeded); every instance of a component has
            // its component's export types, and the interface has no resources
            // (whose types would be per instance).
            return Ok(unsafe { wasmtime::component::TypedFunc::new_unchecked(func) });
        }
        let f = instance.get_typed_func::<P, R>(&mut *store, self.index)?;
        self.checked.store(true, Release);
        Ok(f)
    }
}

impl WasmHost {
    pub fn new(config: HostConfig) -> Result<WasmHost, InstallError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(config.max_instances)
            .total_core_instances(config.max_instances * 16)
            .total_memories(config.max_instances * 4)
            .total_tables(config.max_instances * 16)
            .max_core_instances_per_component(64)
            .max_memories_per_component(16)
            .max_tables_per_component(64)
            .max_component_instance_size(4 << 20)
            .max_core_instance_size(4 << 20)
            .max_memory_size(config.max_memory_bytes as usize)
            // Reset only the pages a call dirtied (Linux ≥ 6.7) and keep them resident,
            // so the next instance in the slot takes no page faults: 43 → 25 µs per call.
            .pagemap_scan(wasmtime::Enabled::Auto)
            .linear_memory_keep_resident(16 << 20)
            .table_keep_resident(64 << 10);
        let mut wc = Config::new();
        wc.consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(config.max_wasm_stack)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .wasm_component_model(true);
        let engine = Engine::new(&wc).map_err(|e| InstallError::Compile { message: format!("engine: {e:#}") })?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .and_then(|()| {
                // Replace WASI's monotonic clock: sleeping returns at once (see `SandboxClock`).
                linker.allow_shadowing(true);
                wasmtime_wasi::p2::bindings::clocks::monotonic_clock::add_to_linker::<CallState, SandboxClock>(
                    &mut linker,
                    |s| SandboxClockView(&mut s.table),
                )
            })
            .map_err(|e| InstallError::Compile { message: format!("linking WASI: {e:#}") })?;
        let cache = ComponentCache::new(config.cache_dir.clone(), &engine);
        start_epoch_ticker(&engine);
        Ok(WasmHost { engine, linker, cache, config })
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub fn cache(&self) -> &ComponentCache {
        &self.cache
    }

    /// Compile (or load from the cache) and check the exported world.
    pub fn prepare(&self, sha256: &str, bytes: &[u8]) -> Result<Prepared, InstallError> {
        if !wasmparser_is_component(bytes) {
            return Err(InstallError::NotAComponent {
                message:
                    "the bytes are not a component (a core module or something else); build with --target wasm32-wasip2"
                        .into(),
            });
        }
        let (component, cache) = self.cache.load_or_compile(&self.engine, sha256, bytes)?;
        self.link(component, cache)
    }

    /// Prepare an already installed component from the disk cache alone, without its
    /// bytes; `None` when it is not cached (then read the bytes and [`prepare`](Self::prepare)).
    pub fn prepare_cached(&self, sha256: &str) -> Option<Result<Prepared, InstallError>> {
        let component = self.cache.load(&self.engine, sha256)?;
        Some(self.link(component, CacheOutcome::Hit))
    }

    fn link(&self, component: Component, cache: CacheOutcome) -> Result<Prepared, InstallError> {
        let wit = exported_wit_version(&self.engine, &component)?;
        let pre: InstancePre<CallState> = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| InstallError::UnsupportedImport { message: format!("{e:#}") })?;
        let interface = format!("{}@{wit}", shenbao_contract::WIT_INTERFACE);
        let mismatch = |message: String| InstallError::WorldMismatch { interface: interface.clone(), message };
        let pre = v0_1::ProgramPre::new(pre).map_err(|e| mismatch(format!("{e:#}")))?;
        let component = pre.instance_pre().component();
        let iface = component
            .get_export_index(None, &interface)
            .ok_or_else(|| mismatch("the interface is not exported".into()))?;
        let export = |name: &str| {
            Export::find(component, &iface, name).ok_or_else(|| mismatch(format!("function `{name}` is not exported")))
        };
        let check_application = export("check-application")?;
        let check_round = export("check-round")?;
        Ok(Prepared { pre, check_application, check_round, wit, cache })
    }

    /// Call `describe` on a prepared component.
    pub fn describe(&self, prepared: &Prepared, limits: &PluginLimits) -> Result<Metered<Manifest>, PluginFault> {
        let mut store = self.store(limits);
        let out = prepared.pre.instantiate(&mut store).map_err(|e| fault(&store, limits, e, true)).and_then(|p| {
            p.shenbao_program_plugin().call_describe(&mut store).map_err(|e| fault(&store, limits, e, false))
        })?;
        let fuel_used = limits.fuel - store.get_fuel().unwrap_or(0);
        let manifest: Manifest = out.conv();
        let size = json_size(&manifest);
        if size > limits.max_output_bytes {
            return Err(PluginFault::OutputTooLarge { size, cap: limits.max_output_bytes });
        }
        Ok(Metered { value: manifest, fuel_used })
    }

    fn store(&self, limits: &PluginLimits) -> Store<CallState> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
        let mut b = WasiCtx::builder();
        b.wall_clock(FixedWall)
            .monotonic_clock(FixedMonotonic)
            .secure_random(wasmtime_wasi::Deterministic::new(FIXED_RANDOM.to_vec()))
            .insecure_random(wasmtime_wasi::Deterministic::new(FIXED_RANDOM.to_vec()))
            .insecure_random_seed(0)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .stderr(stderr.clone());
        let state = CallState {
            stderr,
            wasi: b.build(),
            table: ResourceTable::new(),
            limiter: CallLimiter { memory_cap: limits.memory_bytes.min(self.config.max_memory_bytes), denied: None },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(limits.fuel).expect("fuel is enabled");
        store.set_epoch_deadline(limits.deadline_ms.div_ceil(EPOCH_TICK.as_millis() as u64).max(1) + 1);
        store.epoch_deadline_trap();
        store
    }
}

const STDERR_CAPTURE: usize = 4096;

/// Bytes of `v` as JSON, counted without writing them anywhere: a plugin's result is
/// lifted once (bounded by the instance's memory cap) and moved, never copied again.
fn json_size(v: &impl serde::Serialize) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    serde_json::to_writer(&mut c, v).map_or(u64::MAX, |()| c.0)
}

/// A plugin's refusal with its code and messages cut to the lengths a person reads
/// ([`crate::text::MAX_MESSAGE_CHARS`]; the code to 100 characters).
fn capped(mut e: shenbao_contract::PluginError) -> shenbao_contract::PluginError {
    let cut = |s: &mut String, max: usize| {
        if let Some((i, _)) = s.char_indices().nth(max) {
            s.truncate(i);
            s.push('…');
        }
    };
    cut(&mut e.code, 100);
    cut(&mut e.message.zh, crate::text::MAX_MESSAGE_CHARS);
    cut(&mut e.message.en, crate::text::MAX_MESSAGE_CHARS);
    e
}

/// Is this the binary encoding of a component (not a core module)?
fn wasmparser_is_component(bytes: &[u8]) -> bool {
    // Preamble: magic, then version 0x0d and layer 0x01 for components.
    bytes.len() >= 8 && bytes[0..4] == *b"\0asm" && bytes[6..8] == [0x01, 0x00]
}

/// Find `shenbao:program/plugin@X` among the exports and check X is hosted.
fn exported_wit_version(engine: &Engine, component: &Component) -> Result<String, InstallError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_string()).collect();
    let prefix = format!("{}@", shenbao_contract::WIT_INTERFACE);
    let Some(found) = exports.iter().find_map(|n| n.strip_prefix(&prefix)) else {
        return Err(InstallError::NotAProgram { exports });
    };
    let compatible = |supported: &str| {
        let mut a = found.split('.');
        let mut b = supported.split('.');
        let (fa, fb) = (a.next(), b.next());
        let (sa, sb) = (a.next(), b.next());
        // semver: 0.x.* compatible within x; N.* within N.
        fa == fb && (fa != Some("0") || sa == sb)
    };
    match SUPPORTED_WIT.iter().find(|s| compatible(s)) {
        Some(_) => Ok(found.to_string()),
        None => Err(InstallError::UnsupportedWit {
            found: found.to_string(),
            supported: SUPPORTED_WIT.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

/// Turn a wasmtime error into a typed fault.
fn fault(store: &Store<CallState>, limits: &PluginLimits, e: wasmtime::Error, instantiating: bool) -> PluginFault {
    if let Some(requested) = store.data().limiter.denied {
        return PluginFault::MemoryLimit { requested, cap: store.data().limiter.memory_cap };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginFault::FuelExhausted { budget: limits.fuel },
        Some(Trap::Interrupt) => PluginFault::DeadlineExceeded { deadline_ms: limits.deadline_ms },
        Some(Trap::StackOverflow) => PluginFault::StackOverflow,
        Some(Trap::UnreachableCodeReached) => {
            // A Rust guest panics by printing to stderr and aborting (unreachable).
            let stderr = stderr_text(store);
            let message = match stderr.find("panicked at") {
                // componentize-py prints the Python traceback, then its runtime panics.
                _ if stderr.contains(PY_TRACEBACK) => python_exception(&stderr),
                Some(i) => stderr[i..].lines().take(2).collect::<Vec<_>>().join(" ").trim().to_string(),
                None if !stderr.trim().is_empty() => stderr.trim().to_string(),
                None => "wasm `unreachable` executed (the guest aborted)".to_string(),
            };
            PluginFault::Panicked { message }
        }
        Some(t) => PluginFault::Trapped { message: t.to_string() },
        None if instantiating => PluginFault::Instantiate { message: format!("{e:#}") },
        // Not a trap: lifting the result failed (invalid UTF-8, bad discriminant, bad pointer).
        None => PluginFault::MalformedOutput { problem: format!("{e:#}") },
    }
}

const PY_TRACEBACK: &str = "Traceback (most recent call last):";

/// `KeyError: 'rd_staff' (File "app.py", line 97, in check)` from a Python traceback.
fn python_exception(stderr: &str) -> String {
    let tb = &stderr[stderr.rfind(PY_TRACEBACK).unwrap_or(0) + PY_TRACEBACK.len()..];
    let lines: Vec<&str> = tb.lines().filter(|l| !l.trim().is_empty()).collect();
    // The exception is the first line after the frames that is not indented.
    let exception = lines.iter().position(|l| !l.starts_with(' '));
    let place = lines[..exception.unwrap_or(lines.len())].iter().rev().find(|l| l.trim_start().starts_with("File "));
    let what = exception.map_or("Python exception", |i| lines[i].trim());
    match place {
        Some(p) => format!("{what} ({})", p.trim()),
        None => what.to_string(),
    }
}

fn stderr_text(store: &Store<CallState>) -> String {
    String::from_utf8_lossy(&store.data().stderr.contents()).into_owned()
}

/// An installed component, ready to be called.
pub struct WasmPlugin {
    id: PluginId,
    manifest: Manifest,
    limits: PluginLimits,
    prepared: Prepared,
    host: std::sync::Arc<WasmHost>,
}

impl WasmPlugin {
    pub fn new(
        host: std::sync::Arc<WasmHost>,
        id: PluginId,
        manifest: Manifest,
        limits: PluginLimits,
        prepared: Prepared,
    ) -> Self {
        WasmPlugin { id, manifest, limits, prepared, host }
    }

    pub fn limits(&self) -> &PluginLimits {
        &self.limits
    }

    pub fn cache_outcome(&self) -> CacheOutcome {
        self.prepared.cache
    }

    fn err(&self, call: CallKind, fault: PluginFault) -> PluginCallError {
        PluginCallError { plugin: self.id.clone(), call, fault }
    }

    /// Run one call of `export` with `params` in a fresh store and instance.
    fn call<P, R>(&self, kind: CallKind, export: &Export, params: P) -> Result<(R, u64), PluginCallError>
    where
        P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
        R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
    {
        let limits = &self.limits;
        let mut store = self.host.store(limits);
        let result = (|| {
            let instance = self
                .prepared
                .pre
                .instance_pre()
                .instantiate(&mut store)
                .and_then(|i| export.typed::<P, R>(&i, &mut store))
                .map_err(|e| fault(&store, limits, e, true))?;
            instance.call(&mut store, params).map_err(|e| fault(&store, limits, e, false))
        })();
        let fuel_used = limits.fuel - store.get_fuel().unwrap_or(0);
        result.map(|r| (r, fuel_used)).map_err(|fault| self.err(kind, fault))
    }

    /// Benchmark support only: run `n` checks in ONE instance (what a call costs
    /// Benchmark support: create `n` fresh stores and instances (what every call
    /// pays before running) and return the total time.
    #[doc(hidden)]
    pub fn __bench_instantiate_only(&self, n: u32) -> std::time::Duration {
        let t = std::time::Instant::now();
        for _ in 0..n {
            let mut store = self.host.store(&self.limits);
            std::hint::black_box(self.prepared.pre.instantiate(&mut store).expect("instantiate"));
        }
        t.elapsed()
    }

    #[doc(hidden)]
    pub fn __bench_execution_only(&self, request: &CheckRequest, n: u32) -> std::time::Duration {
        let mut store = self.host.store(&PluginLimits { fuel: u64::MAX / 2, deadline_ms: 1 << 40, ..self.limits });
        let instance = self.prepared.pre.instantiate(&mut store).expect("instantiate");
        let t = std::time::Instant::now();
        for _ in 0..n {
            let input: v0_1::shenbao::program::types::CheckRequest = request.clone().conv();
            let out = instance.shenbao_program_plugin().call_check_application(&mut store, &input).expect("call");
            let result: Result<CheckResult, shenbao_contract::PluginError> = out.conv();
            std::hint::black_box(result.expect("check"));
        }
        t.elapsed()
    }

    fn check_output(&self, kind: CallKind, size: u64, problem: Option<String>) -> Result<(), PluginCallError> {
        if size > self.limits.max_output_bytes {
            return Err(self.err(kind, PluginFault::OutputTooLarge { size, cap: self.limits.max_output_bytes }));
        }
        match problem {
            Some(problem) => Err(self.err(kind, PluginFault::MalformedOutput { problem })),
            None => Ok(()),
        }
    }
}

impl ProgramPlugin for WasmPlugin {
    fn id(&self) -> &PluginId {
        &self.id
    }

    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn check_application(&self, request: &CheckRequest) -> Result<Metered<CheckResult>, PluginCallError> {
        let kind = CallKind::CheckApplication;
        let size = request.text_len() as u64;
        if size > self.limits.max_input_bytes {
            return Err(self.err(kind, PluginFault::InputTooLarge { size, cap: self.limits.max_input_bytes }));
        }
        let input: v0_1::shenbao::program::types::CheckRequest = request.clone().conv();
        let ((out,), fuel_used) = self.call::<_, (Result<W::CheckResult, W::PluginError>,)>(
            kind,
            &self.prepared.check_application,
            (&input,),
        )?;
        let result: Result<CheckResult, shenbao_contract::PluginError> = out.conv();
        let result = result.map_err(|e| self.err(kind, PluginFault::Refused(capped(e))))?;
        let size = crate::output::check_result_size(&result);
        self.check_output(kind, size, crate::output::check_result_problem(&self.manifest, &result))?;
        Ok(Metered { value: result, fuel_used })
    }

    fn check_round(&self, round: &RoundInfo) -> Result<Metered<RoundCheck>, PluginCallError> {
        let kind = CallKind::CheckRound;
        let size = (round.config.len() + round.id.len() + round.edition.len()) as u64;
        if size > self.limits.max_input_bytes {
            return Err(self.err(kind, PluginFault::InputTooLarge { size, cap: self.limits.max_input_bytes }));
        }
        let input: v0_1::shenbao::program::types::RoundInfo = round.clone().conv();
        let ((out,), fuel_used) =
            self.call::<_, (Result<W::RoundCheck, W::PluginError>,)>(kind, &self.prepared.check_round, (&input,))?;
        let result: Result<RoundCheck, shenbao_contract::PluginError> = out.conv();
        let result = result.map_err(|e| self.err(kind, PluginFault::Refused(capped(e))))?;
        let size = json_size(&result);
        self.check_output(kind, size, crate::output::round_check_problem(&self.manifest, &result))?;
        Ok(Metered { value: result, fuel_used })
    }
}
