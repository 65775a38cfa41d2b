//! Installed plugins in redb: bytes by sha256, records by (program, version).

use crate::error::StoreError;
use crate::plugin::{PluginId, PluginLimits};
use crate::tables::*;
use redb::{Database, ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use shenbao_contract::Manifest;

/// What the database keeps about an installed plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRecord {
    pub id: PluginId,
    pub size: u64,
    /// Seconds since the Unix epoch.
    pub installed_at: u64,
    pub limits: PluginLimits,
    pub manifest: Manifest,
}

/// Create the tables of a new database, or check the schema version of an existing one.
pub fn init(db: &Database) -> Result<(), StoreError> {
    let tx = db.begin_write()?;
    {
        let mut meta = tx.open_table(META)?;
        let found = meta.get(SCHEMA_VERSION_KEY)?.map(|v| v.value().to_string());
        match found {
            None => {
                meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION.to_string().as_str())?;
            }
            Some(v) => {
                let found: u32 = v.parse().map_err(|_| StoreError::Corrupt { key: "meta/schema_version".into(), message: v.clone() })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
                }
                // Older versions would be migrated here, inside this same transaction.
            }
        }
        tx.open_table(PLUGIN_BLOBS)?;
        tx.open_table(PLUGINS)?;
        tx.open_table(REGIONS)?;
        tx.open_table(ORGS)?;
        tx.open_table(USERS)?;
        tx.open_table(ROUNDS)?;
        tx.open_table(APPS)?;
        tx.open_table(QUEUE)?;
        tx.open_table(BY_APPLICANT)?;
        tx.open_table(QUOTA_USED)?;
        tx.open_table(DECISIONS)?;
        tx.open_table(DECISIONS_BY_APP)?;
        tx.open_table(CHECK_INPUTS)?;
        tx.open_table(BANS)?;
        tx.open_table(CALENDARS)?;
        tx.open_table(COUNTERS)?;
        tx.open_table(ROUND_VERSIONS)?;
        tx.open_table(CHAIN_HEAD)?;
    }
    tx.commit()?;
    Ok(())
}

fn decode(key: &str, bytes: &[u8]) -> Result<PluginRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { key: key.to_string(), message: e.to_string() })
}

pub fn get(db: &Database, program: &str, version: &str) -> Result<Option<PluginRecord>, StoreError> {
    let tx = db.begin_read()?;
    let t = tx.open_table(PLUGINS)?;
    let key = format!("plugins/{program}@{version}");
    t.get((program, version))?.map(|v| decode(&key, v.value())).transpose()
}

pub fn list(db: &Database) -> Result<Vec<PluginRecord>, StoreError> {
    let tx = db.begin_read()?;
    let t = tx.open_table(PLUGINS)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        let (p, ver) = k.value();
        out.push(decode(&format!("plugins/{p}@{ver}"), v.value())?);
    }
    Ok(out)
}

pub fn bytes(db: &Database, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let tx = db.begin_read()?;
    let t = tx.open_table(PLUGIN_BLOBS)?;
    Ok(t.get(sha256)?.map(|v| v.value().to_vec()))
}

/// Outcome of [`insert`].
pub enum Inserted {
    New,
    /// The same bytes were installed before; nothing changed.
    Existing(PluginRecord),
    /// The version is taken by other bytes; nothing changed.
    Conflict(PluginRecord),
}

/// Store bytes and record in one write transaction, unless the version exists.
pub fn insert(db: &Database, record: &PluginRecord, bytes: &[u8]) -> Result<Inserted, StoreError> {
    let tx = db.begin_write()?;
    let outcome = {
        let mut plugins = tx.open_table(PLUGINS)?;
        let key = (record.id.program.as_str(), record.id.version.as_str());
        let existing = plugins.get(key)?.map(|v| decode("plugins", v.value())).transpose()?;
        match existing {
            Some(e) if e.id.sha256 == record.id.sha256 => Inserted::Existing(e),
            Some(e) => Inserted::Conflict(e),
            None => {
                let json = serde_json::to_vec(record).expect("records serialise");
                plugins.insert(key, json.as_slice())?;
                tx.open_table(PLUGIN_BLOBS)?.insert(record.id.sha256.as_str(), bytes)?;
                Inserted::New
            }
        }
    };
    match outcome {
        Inserted::New => tx.commit()?,
        _ => tx.abort()?,
    }
    Ok(outcome)
}

/// Replace the limits of an installed plugin.
pub fn set_limits(db: &Database, program: &str, version: &str, limits: PluginLimits) -> Result<Option<PluginRecord>, StoreError> {
    let tx = db.begin_write()?;
    let rec = {
        let mut t = tx.open_table(PLUGINS)?;
        let existing = t.get((program, version))?.map(|v| decode("plugins", v.value())).transpose()?;
        match existing {
            Some(mut rec) => {
                rec.limits = limits;
                let json = serde_json::to_vec(&rec).expect("records serialise");
                t.insert((program, version), json.as_slice())?;
                Some(rec)
            }
            None => None,
        }
    };
    tx.commit()?;
    Ok(rec)
}
