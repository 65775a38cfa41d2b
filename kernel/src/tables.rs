//! Every redb table, in one place, with its key and value types.
//!
//! Values that evolve are JSON (serde) so a schema migration can rewrite them;
//! the schema version lives in [`META`] under [`SCHEMA_VERSION_KEY`].

use crate::error::StoreError;
use crate::model::{Application, Round};
use redb::TableDefinition;
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use shenbao_contract::{HistoryEntry, Outcome};

/// Current schema version of the database layout.
pub const SCHEMA_VERSION: u32 = 2;
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// Database metadata: `schema_version` → decimal text.
pub const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

/// Component bytes by sha256 (hex). Written once, never changed.
pub const PLUGIN_BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("plugin_blobs");

/// Installed plugins: (program, version) → JSON [`crate::registry::PluginRecord`].
pub const PLUGINS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("plugins");

/// Regions by id → JSON [`crate::regions::Region`].
pub const REGIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("regions");

/// Organisations by credit code → JSON [`crate::model::Organisation`].
pub const ORGS: TableDefinition<&str, &[u8]> = TableDefinition::new("orgs");

/// Users by id → JSON [`crate::model::User`].
pub const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");

/// Rounds by id → JSON [`crate::model::Round`].
pub const ROUNDS: TableDefinition<&str, &[u8]> = TableDefinition::new("rounds");

/// Applications by id → JSON [`crate::model::Application`].
pub const APPS: TableDefinition<&str, &[u8]> = TableDefinition::new("apps");

/// Reviewers' queues: (round, stage, city, district, application) → ().
/// Applicants without a city sort under city `""`.
pub const QUEUE: TableDefinition<(&str, &str, &str, &str, &str), ()> = TableDefinition::new("queue");

/// Applications by applicant: (credit code, application) → JSON [`shenbao_contract::HistoryEntry`],
/// the application as the applicant's history shows it to a plugin.
pub const BY_APPLICANT: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("by_applicant");

/// Quota counters: (round, quota, scope) → units used.
pub const QUOTA_USED: TableDefinition<(&str, &str, &str), u32> = TableDefinition::new("quota_used");

/// The decision log: index → JSON [`crate::model::Decision`], hash-chained.
pub const DECISIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("decisions");

/// Decisions by application: (application, index) → ().
pub const DECISIONS_BY_APP: TableDefinition<(&str, u64), ()> = TableDefinition::new("decisions_by_app");

/// Who uploaded each attachment blob: (sha256, user) → size in bytes. A draft may
/// attach only blobs its user uploaded (or that are already on the application).
pub const BLOB_OWNERS: TableDefinition<(&str, &str), u64> = TableDefinition::new("blob_owners");

/// Check requests by the sha256 of their canonical JSON (for replay).
pub const CHECK_INPUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("check_inputs");

/// Bans on applying: (credit code, program) → JSON [`crate::model::Ban`].
pub const BANS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("bans");

/// Working-day calendars: year → JSON [`crate::calendar::Calendar`].
pub const CALENDARS: TableDefinition<i32, &[u8]> = TableDefinition::new("calendars");

/// Counters: `next_app` → next application number.
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// Version of each round's stored record, bumped on every write (keys the parsed-round cache).
pub const ROUND_VERSIONS: TableDefinition<&str, u64> = TableDefinition::new("round_versions");

/// The head of the decision chain: `head` → (index, hash).
pub const CHAIN_HEAD: TableDefinition<&str, (u64, &str)> = TableDefinition::new("chain_head");

/// API tokens by the sha256 (hex) of their secret → JSON [`crate::tokens::TokenInfo`].
/// The secret itself is never stored.
pub const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens");

/// Idempotency keys: (user, key) → JSON [`crate::workflow::IdempotencyRecord`], written in
/// the same transaction as the decisions it names.
pub const IDEMPOTENCY: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("idempotency");

/// HTTP responses remembered under an idempotency key: (user, key) → JSON
/// {digest, status, body}, so a retried request gets the first answer verbatim.
pub const API_RESPONSES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("api_responses");

// ------------------------------------------------------------------ codecs

/// A record's stored form (JSON).
pub(crate) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("model types serialise")
}

pub(crate) fn from_json<T: DeserializeOwned>(key: &str, b: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt { key: key.to_string(), message: e.to_string() })
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// The applicant-history row ([`BY_APPLICANT`]) of an application as it stands.
pub(crate) fn history_row(app: &Application, round: &Round) -> HistoryEntry {
    HistoryEntry {
        application: app.id.clone(),
        round: app.round.clone(),
        program: app.program.clone(),
        year: round.spec.year,
        direction: app.direction.clone(),
        project: app.project.clone(),
        stage: app.state.stage.clone(),
        outcome: app.state.outcome,
        decided_on: (app.state.outcome != Outcome::Pending)
            .then(|| app.state.trail.last().map(|v| v.entered_at.local_date()))
            .flatten(),
    }
}
