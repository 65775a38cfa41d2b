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
const MIGRATIONS: &[fn(&redb::WriteTransaction) -> Result<(), StoreError>] =
    &[migrate_1_to_2, migrate_2_to_3, migrate_3_to_4, migrate_4_to_5];

/// The tables version 2 had under their version-2 key types (redb's `&str`), for
/// the migrations up to it.
mod v2 {
    use crate::model::{Application, Round};
    use crate::tables::Records;
    use shenbao_contract::HistoryEntry;

    pub const ROUNDS: Records<&str, Round> = Records::new("rounds");
    pub const APPS: Records<&str, Application> = Records::new("apps");
    pub const BY_APPLICANT: Records<(&str, &str), HistoryEntry> = Records::new("by_applicant");
    pub const CHAIN_HEAD: redb::TableDefinition<&str, (u64, &str)> = redb::TableDefinition::new("chain_head");
}

/// Version 2 keeps a history row beside each applicant-index entry (a check never
/// reads whole applications) and the chain head in its own table.
fn migrate_1_to_2(tx: &redb::WriteTransaction) -> Result<(), StoreError> {
    use v2::{APPS, BY_APPLICANT, CHAIN_HEAD, ROUNDS};
    // Version 1 stored the round id (text) as the applicant index's value.
    let old: redb::TableDefinition<(&str, &str), &str> = redb::TableDefinition::new("by_applicant");
    tx.delete_table(old)?;
    let apps = APPS.open(tx)?;
    let rounds = ROUNDS.open(tx)?;
    let mut by = BY_APPLICANT.open(tx)?;
    for row in apps.iter()? {
        let (_, app) = row?;
        let Some(round) = rounds.get(app.round.as_str())? else { continue };
        let row = crate::tables::history_row(crate::tables::HistorySource::of(&app), round.spec.year);
        by.insert((app.applicant.as_str(), app.id.as_str()), &row)?;
    }
    let decisions = DECISIONS.open(tx)?;
    if let Some(row) = decisions.iter()?.next_back() {
        let (k, d) = row?;
        tx.open_table(CHAIN_HEAD)?.insert("head", (k.value(), d.hash.as_str()))?;
    }
    Ok(())
}

/// Version 3 keys every text-keyed table but `meta` by [`TextKey`] (compared as bytes)
/// instead of redb's `&str` (which checks UTF-8 in every comparison). The bytes and
/// their order are the same; redb records a table's key type, so each table is
/// copied into a new one of the new type, which then takes the old one's name. The
/// copies need free space about the size of the tables; `Kernel::open_with`
/// compacts the file after an upgrade, so it ends about its old size.
fn migrate_2_to_3(tx: &redb::WriteTransaction) -> Result<(), StoreError> {
    type S = &'static str;
    type B = &'static [u8];
    retype::<S, TextKey, B>(tx, "plugin_blobs")?;
    for records in ["regions", "orgs", "users", "rounds", "apps", "check_inputs", "tokens", "passwords", "sessions"] {
        retype::<S, TextKey, B>(tx, records)?;
    }
    retype::<S, TextKey, B>(tx, "signin_codes")?;
    for records in ["plugins", "by_applicant", "bans", "idempotency", "api_responses"] {
        retype::<(S, S), (TextKey, TextKey), B>(tx, records)?;
    }
    retype::<(S, S, S, S, S), (TextKey, TextKey, TextKey, TextKey, TextKey), ()>(tx, "queue")?;
    retype::<(S, S, S), (TextKey, TextKey, TextKey), u32>(tx, "quota_used")?;
    retype::<(S, u64), (TextKey, u64), ()>(tx, "decisions_by_app")?;
    retype::<(S, S), (TextKey, TextKey), u64>(tx, "blob_owners")?;
    for counters in ["counters", "round_versions"] {
        retype::<S, TextKey, u64>(tx, counters)?;
    }
    retype::<S, TextKey, (u64, S)>(tx, "chain_head")?;
    Ok(())
}

/// Version 4 keeps the applicant index as keys alone, with each application's round
/// (`applications_by_applicant`: credit code, round, application): the history a
/// check shows a plugin is computed from the applications, so a transition no longer
/// rewrites a history row in `by_applicant`, which is dropped.
fn migrate_3_to_4(tx: &redb::WriteTransaction) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct RoundOf {
        round: String,
    }
    let old: redb::TableDefinition<(TextKey, TextKey), &[u8]> = redb::TableDefinition::new("by_applicant");
    let src = match tx.open_table(old) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    {
        let apps = APPS.open(tx)?;
        let mut index = tx.open_table(BY_APPLICANT)?;
        for row in src.iter()? {
            let (k, _) = row?;
            let (code, id) = k.value();
            // An index entry without its application indexed nothing: dropped.
            let Some(RoundOf { round }) = apps.get_part(id)? else { continue };
            index.insert((code, round.as_str(), id), ())?;
        }
    }
    drop(src);
    tx.delete_table(old)?;
    Ok(())
}

/// Version 5 indexes the reviewers' handled lists ([`HANDLED`]): each application's
/// entries from its trail, under its applicant's city and district. The queue index
/// is rebuilt the same way: before version 5 an organisation that moved left its
/// applications' queue entries under its old region (a row nobody could act on, or
/// the same application listed twice).
fn migrate_4_to_5(tx: &redb::WriteTransaction) -> Result<(), StoreError> {
    #[derive(Deserialize)]
    struct Part {
        id: String,
        round: String,
        applicant: String,
        state: crate::model::AppState,
    }
    let orgs: std::collections::HashMap<String, (String, String)> = ORGS
        .open(tx)?
        .iter()?
        .map(|r| r.map(|(_, o)| (o.credit_code, (o.city.unwrap_or_default(), o.district.unwrap_or_default()))))
        .collect::<Result<_, _>>()?;
    let rounds_t = ROUNDS.open(tx)?;
    let mut rounds: std::collections::HashMap<String, Option<crate::model::Round>> = std::collections::HashMap::new();
    tx.delete_table(QUEUE)?;
    let apps = tx.open_table(APPS.raw())?;
    let mut queue = tx.open_table(QUEUE)?;
    let mut handled = tx.open_table(HANDLED)?;
    for row in apps.iter()? {
        let (k, v) = row?;
        let app: Part = crate::tables::decode(k.value(), v.value())?;
        let (city, district) = orgs.get(&app.applicant).map_or(("", ""), |(c, d)| (c.as_str(), d.as_str()));
        let (r, id) = (app.round.as_str(), app.id.as_str());
        queue.insert((r, app.state.stage.as_str(), city, district, id), ())?;
        if !rounds.contains_key(r) {
            rounds.insert(r.to_string(), rounds_t.get(r)?);
        }
        if let Some(Some(round)) = rounds.get(r) {
            crate::workflow::index_handled(&mut handled, round, &app.state, (r, city, district, id))?;
        }
    }
    Ok(())
}

/// Move table `name` from key type `O` to key type `N` (whose values are the same
/// Rust values, stored as the same bytes), keeping its rows. A table the database
/// does not have is left for [`init`] to create.
///
/// # Errors
/// [`StoreError::Database`] from redb.
fn retype<O, N, V>(tx: &redb::WriteTransaction, name: &str) -> Result<(), StoreError>
where
    O: redb::Key + 'static,
    N: redb::Key + 'static,
    V: redb::Value + 'static,
    for<'a> O::SelfType<'a>: std::borrow::Borrow<N::SelfType<'a>>,
{
    let old: redb::TableDefinition<O, V> = redb::TableDefinition::new(name);
    let src = match tx.open_table(old) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let staging = format!("{name}.retyped");
    let new: redb::TableDefinition<N, V> = redb::TableDefinition::new(&staging);
    {
        let mut dst = tx.open_table(new)?;
        for row in src.iter()? {
            let (k, v) = row?;
            dst.insert(k.value(), v.value())?;
        }
    }
    drop(src);
    tx.delete_table(old)?;
    tx.rename_table(new, redb::TableDefinition::<N, V>::new(name))?;
    Ok(())
}

/// Create the tables of a new database, or check the schema version of an existing
/// one and migrate it forward in the same transaction. Returns the version the file
/// had (the current one for a new file).
///
/// # Errors
/// [`StoreError::SchemaTooNew`]; [`StoreError::Upgrade`] when a migration or its
/// commit fails (the file is as it was); other storage errors.
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
    let upgrade = |cause: StoreError| StoreError::Upgrade { from, to: SCHEMA_VERSION, cause: Box::new(cause) };
    for m in &MIGRATIONS[(from.max(1) - 1) as usize..(SCHEMA_VERSION - 1) as usize] {
        m(&tx).map_err(upgrade)?;
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
        tx.open_table(HANDLED)?;
        tx.open_table(BY_APPLICANT)?;
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
    if from < SCHEMA_VERSION {
        tx.commit().map_err(|e| upgrade(e.into()))?;
    } else {
        tx.commit()?;
    }
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
