//! Compiled components on disk, keyed by the component's sha256 and the engine's
//! compatibility hash, so each plugin is compiled once per machine.
//!
//! A file is `MAGIC ‖ sha256(payload) ‖ payload`; a file whose checksum does not
//! match, or that wasmtime refuses, is recompiled and rewritten — never trusted.

use crate::error::InstallError;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 16] = b"SHENBAO-CWASM-01";

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

    pub fn load_or_compile(
        &self,
        engine: &Engine,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), InstallError> {
        let Some(path) = self.path_for(sha256) else {
            return Ok((compile(engine, bytes)?, CacheOutcome::Disabled));
        };
        let outcome = match std::fs::read(&path) {
            Ok(file) => match verified_payload(&file) {
                Some(payload) => {
                    // SAFETY: the payload was written by `serialize` of this engine
                    // configuration (the key includes its compatibility hash) and its
                    // checksum matches, so it is not a corrupted or foreign file.
                    match unsafe { Component::deserialize(engine, payload) } {
                        Ok(c) => return Ok((c, CacheOutcome::Hit)),
                        Err(_) => CacheOutcome::Rebuilt,
                    }
                }
                None => CacheOutcome::Rebuilt,
            },
            Err(_) => CacheOutcome::Miss,
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
    if rest.len() < 32 {
        return None;
    }
    let (sum, payload) = rest.split_at(32);
    (Sha256::digest(payload).as_slice() == sum).then_some(payload)
}

fn write_atomically(path: &Path, payload: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache files live in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().unwrap().to_string_lossy(), std::process::id()));
    let mut data = Vec::with_capacity(MAGIC.len() + 32 + payload.len());
    data.extend_from_slice(MAGIC);
    data.extend_from_slice(&Sha256::digest(payload));
    data.extend_from_slice(payload);
    std::fs::write(&tmp, &data)?;
    std::fs::rename(&tmp, path)
}
