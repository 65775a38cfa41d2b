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
    tx.delete_table(old).map_err(StoreError::from)?;
    let apps = tx.open_table(APPS)?;
    let rounds = tx.open_table(ROUNDS)?;
    let mut by = tx.open_table(BY_APPLICANT)?;
    for row in apps.iter()? {
        let (k, v) = row?;
        let app: crate::model::Application = crate::tables::from_json(k.value(), v.value())?;
        let round: crate::model::Round = match rounds.get(app.round.as_str())? {
            Some(r) => crate::tables::from_json(&app.round, r.value())?,
            None => continue,
        };
        let row = crate::tables::history_row(&app, &round);
        by.insert((app.applicant.as_str(), app.id.as_str()), crate::tables::to_json(&row).as_slice())?;
    }
    let decisions = tx.open_table(DECISIONS)?;
    if let Some((k, v)) = decisions.last()? {
        let d: crate::model::Decision = crate::tables::from_json("decisions", v.value())?;
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
        tx.open_table(TOKENS)?;
        tx.open_table(IDEMPOTENCY)?;
        tx.open_table(API_RESPONSES)?;
    }
    tx.commit()?;
    Ok(from)
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
pub fn set_limits(
    db: &Database,
    program: &str,
    version: &str,
    limits: PluginLimits,
) -> Result<Option<PluginRecord>, StoreError> {
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
