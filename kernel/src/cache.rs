//! Compiled components on disk, keyed by the component's sha256 and the engine's
//! compatibility hash, so each plugin is compiled once per machine.
//!
//! A file is `MAGIC ‖ crc32(payload) ‖ payload`; a file whose checksum does not
//! match, or that wasmtime refuses, is recompiled and rewritten — never trusted.
//! (The checksum catches torn or damaged files; the directory itself is trusted like
//! the database. CRC-32 rather than SHA-256 keeps the cached load of a 38 MB Python
//! component well under 100 ms.)

use crate::error::InstallError;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 16] = b"SHENBAO-CWASM-02";

/// How a component was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a valid cache file.
    Hit,
    /// Not cached yet: compiled and written.
    Miss,
    /// A cache file existed but was corrupt or stale: compiled and rewritten.
    Rebuilt,
    /// No cache directory is configured: compiled in memory.
    Disabled,
}

pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

impl ComponentCache {
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        // DefaultHasher::new() has fixed keys: stable for a given build of the kernel,
        // which is all the key must be (wasmtime also refuses foreign artefacts).
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        ComponentCache { dir, engine_key: format!("{:016x}", h.finish()) }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The cache file of a component, if caching is on.
    pub fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{sha256}-{}.cwasm", self.engine_key)))
    }

    /// The cached compiled component, if there is a valid cache file.
    pub fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let file = std::fs::read(self.path_for(sha256)?).ok()?;
        let payload = verified_payload(&file)?;
        // SAFETY: the payload was written by `serialize` of this engine configuration
        // (the key includes its compatibility hash) and its checksum matches, so it is
        // not a damaged or foreign file.
        unsafe { Component::deserialize(engine, payload) }.ok()
    }

    pub fn load_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), InstallError> {
        let Some(path) = self.path_for(sha256) else {
            return Ok((compile(engine, bytes)?, CacheOutcome::Disabled));
        };
        let outcome = if path.exists() {
            match self.load(engine, sha256) {
                Some(c) => return Ok((c, CacheOutcome::Hit)),
                None => CacheOutcome::Rebuilt,
            }
        } else {
            CacheOutcome::Miss
        };
        let component = compile(engine, bytes)?;
        // A cache that cannot be written costs speed, not correctness.
        if let Ok(payload) = component.serialize() {
            let _ = write_atomically(&path, &payload);
        }
        Ok((component, outcome))
    }
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, InstallError> {
    Component::new(engine, bytes).map_err(|e| InstallError::Compile { message: format!("{e:#}") })
}

fn verified_payload(file: &[u8]) -> Option<&[u8]> {
    let rest = file.strip_prefix(MAGIC.as_slice())?;
    if rest.len() < 4 {
        return None;
    }
    let (sum, payload) = rest.split_at(4);
    (crc32fast::hash(payload).to_le_bytes() == sum).then_some(payload)
}

fn write_atomically(path: &Path, payload: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache files live in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().unwrap().to_string_lossy(), std::process::id()));
    let mut data = Vec::with_capacity(MAGIC.len() + 4 + payload.len());
    data.extend_from_slice(MAGIC);
    data.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    data.extend_from_slice(payload);
    std::fs::write(&tmp, &data)?;
    std::fs::rename(&tmp, path)
}
