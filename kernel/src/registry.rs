//! Installed plugins in redb: bytes by sha256, records by (program, version).

use crate::error::StoreError;
use crate::plugin::{PluginId, PluginLimits};
use crate::tables::*;
use redb::{Database, ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use shenbao_contract::Manifest;

/// What the database keeps about an installed plugin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PluginRecord {
    pub id: PluginId,
    pub size: u64,
    /// Seconds since the Unix epoch.
    pub installed_at: u64,
    pub limits: PluginLimits,
    pub manifest: Manifest,
}

/// Schema migrations: `MIGRATIONS[i]` takes a database from version `i + 1` to
/// `i + 2`. Each runs inside the transaction that opens the database, so an upgrade
/// is all or nothing.
const MIGRATIONS: &[fn(&redb::WriteTransaction) -> Result<(), StoreError>] = &[migrate_1_to_2];

/// Version 2 keeps a history row beside each applicant-index entry (a check never
/// reads whole applications) and the chain head in its own table.
fn migrate_1_to_2(tx: &redb::WriteTransaction) -> Result<(), StoreError> {
    // Version 1 stored the round id (text) as the applicant index's value.
    let old: redb::TableDefinition<(&str, &str), &str> = redb::TableDefinition::new("by_applicant");
    tx.delete_table(old)?;
    let apps = APPS.open(tx)?;
    let rounds = ROUNDS.open(tx)?;
    let mut by = BY_APPLICANT.open(tx)?;
    for row in apps.iter()? {
        let (_, app) = row?;
        let Some(round) = rounds.get(app.round.as_str())? else { continue };
        by.insert((app.applicant.as_str(), app.id.as_str()), &crate::tables::history_row(&app, &round))?;
    }
    let decisions = DECISIONS.open(tx)?;
    if let Some(row) = decisions.iter()?.next_back() {
        let (k, d) = row?;
        tx.open_table(CHAIN_HEAD)?.insert("head", (k.value(), d.hash.as_str()))?;
    }
    Ok(())
}

/// Create the tables of a new database, or check the schema version of an existing
/// one and migrate it forward in the same transaction.
pub fn init(db: &Database) -> Result<u32, StoreError> {
    let tx = db.begin_write()?;
    let from = {
        let mut meta = tx.open_table(META)?;
        let found = meta.get(SCHEMA_VERSION_KEY)?.map(|v| v.value().to_string());
        let from = match found {
            None => SCHEMA_VERSION,
            Some(v) => {
                v.parse().map_err(|_| StoreError::Corrupt { key: "meta/schema_version".into(), message: v.clone() })?
            }
        };
        if from > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found: from, supported: SCHEMA_VERSION });
        }
        meta.insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION.to_string().as_str())?;
        from
    };
    for m in &MIGRATIONS[(from.max(1) - 1) as usize..(SCHEMA_VERSION - 1) as usize] {
        m(&tx)?;
    }
    {
        tx.open_table(PLUGIN_BLOBS)?;
        PLUGINS.open(&tx)?;
        REGIONS.open(&tx)?;
        ORGS.open(&tx)?;
        USERS.open(&tx)?;
        ROUNDS.open(&tx)?;
        APPS.open(&tx)?;
        tx.open_table(QUEUE)?;
        BY_APPLICANT.open(&tx)?;
        tx.open_table(QUOTA_USED)?;
        DECISIONS.open(&tx)?;
        tx.open_table(DECISIONS_BY_APP)?;
        tx.open_table(CHECK_INPUTS)?;
        BANS.open(&tx)?;
        CALENDARS.open(&tx)?;
        tx.open_table(COUNTERS)?;
        tx.open_table(ROUND_VERSIONS)?;
        tx.open_table(CHAIN_HEAD)?;
        TOKENS.open(&tx)?;
        IDEMPOTENCY.open(&tx)?;
        API_RESPONSES.open(&tx)?;
        PASSWORDS.open(&tx)?;
        SESSIONS.open(&tx)?;
        SIGNIN_CODES.open(&tx)?;
    }
    tx.commit()?;
    Ok(from)
}

pub fn get(db: &Database, program: &str, version: &str) -> Result<Option<PluginRecord>, StoreError> {
    let tx = db.begin_read()?;
    PLUGINS.open(&tx)?.get((program, version))
}

pub fn list(db: &Database) -> Result<Vec<PluginRecord>, StoreError> {
    let tx = db.begin_read()?;
    let t = PLUGINS.open(&tx)?;
    t.iter()?.map(|r| r.map(|(_, v)| v)).collect()
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

/// Store bytes and record in `tx`, unless the version exists (then nothing is written).
pub fn insert_in(tx: &redb::WriteTransaction, record: &PluginRecord, bytes: &[u8]) -> Result<Inserted, StoreError> {
    let outcome = {
        let mut plugins = PLUGINS.open(tx)?;
        let key = (record.id.program.as_str(), record.id.version.as_str());
        let existing = plugins.get(key)?;
        match existing {
            Some(e) if e.id.sha256 == record.id.sha256 => Inserted::Existing(e),
            Some(e) => Inserted::Conflict(e),
            None => {
                plugins.insert(key, record)?;
                tx.open_table(PLUGIN_BLOBS)?.insert(record.id.sha256.as_str(), bytes)?;
                Inserted::New
            }
        }
    };
    Ok(outcome)
}

/// Replace the limits of an installed plugin.
pub fn set_limits(
    db: &Database,
    program: &str,
    version: &str,
    limits: PluginLimits,
) -> Result<Option<PluginRecord>, StoreError> {
    let tx = db.begin_write()?;
    let rec = {
        let mut t = PLUGINS.open(&tx)?;
        let existing = t.get((program, version))?;
        match existing {
            Some(mut rec) => {
                rec.limits = limits;
                t.insert((program, version), &rec)?;
                Some(rec)
            }
            None => None,
        }
    };
    tx.commit()?;
    Ok(rec)
}
