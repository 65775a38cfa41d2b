//! Every redb table, in one place, with its key and value types.
//!
//! Values that evolve are records ([`Records`]): typed tables whose values are
//! encoded in one place ([`encode`]/[`decode`], JSON so a schema migration can
//! rewrite them) and whose decoding failures are typed ([`StoreError::Corrupt`]
//! naming table and key), so no call site converts bytes or maps errors itself.
//! The schema version lives in [`META`] under [`SCHEMA_VERSION_KEY`]; the
//! migrations are in `registry.rs` beside the table creation.
//!
//! Why not a `redb::Value` impl for the record types: redb's `Value::from_bytes`
//! cannot fail, so a decoding codec there must panic on a damaged record. The
//! stored type stays `&[u8]` (the layout of existing files is unchanged) and the
//! typing lives in [`Records`] and [`RecordTable`].

use crate::error::StoreError;
use crate::model::{Application, Ban, Decision, Organisation, Round, User};
use redb::{AccessGuard, Key, ReadOnlyTable, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use shenbao_contract::{HistoryEntry, Outcome};
use std::borrow::Borrow;
use std::marker::PhantomData;

/// Current schema version of the database layout.
pub const SCHEMA_VERSION: u32 = 5;
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// Database metadata: `schema_version` → decimal text. Keyed by redb's `&str` (not
/// [`TextKey`]) in every version, so any version of Shenbao reads the schema version.
pub const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

/// Component bytes by sha256 (hex). Written once, never changed.
pub const PLUGIN_BLOBS: TableDefinition<TextKey, &[u8]> = TableDefinition::new("plugin_blobs");

/// Installed plugins: (program, version) → JSON [`crate::registry::PluginRecord`].
pub const PLUGINS: Records<(TextKey, TextKey), crate::registry::PluginRecord> = Records::new("plugins");

/// Regions by id → JSON [`crate::regions::Region`].
pub const REGIONS: Records<TextKey, crate::regions::Region> = Records::new("regions");

/// Organisations by credit code → JSON [`crate::model::Organisation`].
pub const ORGS: Records<TextKey, Organisation> = Records::new("orgs");

/// Users by id → JSON [`crate::model::User`].
pub const USERS: Records<TextKey, User> = Records::new("users");

/// Rounds by id → JSON [`crate::model::Round`].
pub const ROUNDS: Records<TextKey, Round> = Records::new("rounds");

/// Applications by id → JSON [`crate::model::Application`].
pub const APPS: Records<TextKey, Application> = Records::new("apps");

/// Reviewers' queues: (round, stage, city, district, application) → ().
/// Applicants without a city sort under city `""`.
pub const QUEUE: TableDefinition<(TextKey, TextKey, TextKey, TextKey, TextKey), ()> = TableDefinition::new("queue");

/// Reviewers' handled lists (已推荐 / 退回待提交 / 不受理): (round, stage the
/// application left, list, city, district, application) → (), the list being the
/// [`QueueView`](crate::engine::access::QueueView) a reviewer of that stage alone
/// finds it in (`workflow::view_key`: `recommended`, `returned`, `not-recommended`),
/// as decided when it left the stage (`workflow::handled_entries`). Written by the
/// decision that moves an application out of a stage — which also removes its other
/// lists' entries there when it had left that stage before — so a list is read as
/// a key range: a page's work, whatever the round's size. An entry can outlive its
/// truth (the application waits at the stage again, or a returned application was
/// resubmitted) until the application leaves the stage again; a list checks each
/// entry against the application's state (`access::handled_view`). Schema version
/// 5; before it a handled list read the whole round.
pub const HANDLED: TableDefinition<(TextKey, TextKey, TextKey, TextKey, TextKey, TextKey), ()> =
    TableDefinition::new("handled");

/// Applications by applicant: (credit code, round, application) → (), written once,
/// when the application is made (its applicant and round never change): an
/// applicant's applications in a round are counted from the keys alone. The
/// applicant's history as a check shows it to a plugin is computed from the
/// applications ([`history_row`]), so a transition writes nothing here. Schema version
/// 4; versions 2–3 kept a history row in `by_applicant`, rewritten by every
/// transition (a tenth of one).
pub const BY_APPLICANT: TableDefinition<(TextKey, TextKey, TextKey), ()> =
    TableDefinition::new("applications_by_applicant");

/// Quota counters: (round, quota, scope) → units used.
pub const QUOTA_USED: TableDefinition<(TextKey, TextKey, TextKey), u32> = TableDefinition::new("quota_used");

/// The decision log: index → JSON [`crate::model::Decision`], hash-chained.
pub const DECISIONS: Records<u64, Decision> = Records::new("decisions");

/// Decisions by application: (application, index) → ().
pub const DECISIONS_BY_APP: TableDefinition<(TextKey, u64), ()> = TableDefinition::new("decisions_by_app");

/// Who uploaded each attachment blob: (sha256, user) → size in bytes. A draft may
/// attach only blobs its user uploaded (or that are already on the application).
pub const BLOB_OWNERS: TableDefinition<(TextKey, TextKey), u64> = TableDefinition::new("blob_owners");

/// Check requests by the sha256 of their canonical JSON (for replay).
pub const CHECK_INPUTS: TableDefinition<TextKey, &[u8]> = TableDefinition::new("check_inputs");

/// Bans on applying: (credit code, program) → JSON [`crate::model::Ban`].
pub const BANS: Records<(TextKey, TextKey), Ban> = Records::new("bans");

/// Working-day calendars: year → JSON [`crate::calendar::Calendar`].
pub const CALENDARS: Records<i32, crate::calendar::Calendar> = Records::new("calendars");

/// Counters: `next_app` → next application number.
pub const COUNTERS: TableDefinition<TextKey, u64> = TableDefinition::new("counters");

/// Version of each round's stored record, bumped on every write (keys the parsed-round cache).
pub const ROUND_VERSIONS: TableDefinition<TextKey, u64> = TableDefinition::new("round_versions");

/// The head of the decision chain: `head` → (index, hash).
pub const CHAIN_HEAD: TableDefinition<TextKey, (u64, &str)> = TableDefinition::new("chain_head");

/// API tokens by the sha256 (hex) of their secret → JSON [`crate::tokens::TokenInfo`].
/// The secret itself is never stored.
pub const TOKENS: Records<TextKey, crate::tokens::TokenInfo> = Records::new("tokens");

/// Idempotency keys: (user, key) → JSON [`crate::workflow::IdempotencyRecord`], written in
/// the same transaction as the decisions it names.
pub const IDEMPOTENCY: Records<(TextKey, TextKey), crate::workflow::IdempotencyRecord> = Records::new("idempotency");

/// Passwords for signing in to the console: user → [`crate::sessions::PasswordRecord`]
/// (argon2id PHC string; never the password).
pub const PASSWORDS: Records<TextKey, crate::sessions::PasswordRecord> = Records::new("passwords");

/// Console sessions by the sha256 (hex) of their secret → [`crate::sessions::SessionRecord`].
pub const SESSIONS: Records<TextKey, crate::sessions::SessionRecord> = Records::new("sessions");

/// One-time sign-in codes by the sha256 (hex) of the code → [`crate::sessions::CodeRecord`].
pub const SIGNIN_CODES: Records<TextKey, crate::sessions::CodeRecord> = Records::new("signin_codes");

/// HTTP responses remembered under an idempotency key: (user, key) → JSON
/// {digest, status, body}, so a retried request gets the first answer verbatim.
pub const API_RESPONSES: Records<(TextKey, TextKey), crate::idempotency::Remembered> = Records::new("api_responses");

// ------------------------------------------------------------------ keys

/// A text key (`&str`), stored as its UTF-8 bytes and compared as those bytes.
///
/// Byte order is `str` order, so a table keyed by `TextKey` holds the same bytes in
/// the same order as one keyed by redb's `&str` — but redb's `&str` checks both
/// sides' UTF-8 on every comparison (a sixth of an action's time went to it, in
/// every B-tree step of every lookup and insert). Here a key is checked when it is
/// read back ([`redb::Value::from_bytes`]), once, not per comparison. Schema
/// version 3 moved every text-keyed table but [`META`] to it (`registry.rs`).
#[derive(Debug)]
pub enum TextKey {}

impl redb::Value for TextKey {
    type SelfType<'a>
        = &'a str
    where
        Self: 'a;
    type AsBytes<'a>
        = &'a [u8]
    where
        Self: 'a;

    fn fixed_width() -> Option<usize> {
        None
    }

    /// # Panics
    /// On bytes that are not UTF-8 — never written by this type (redb's `&str`
    /// panics alike; redb's `from_bytes` cannot fail).
    fn from_bytes<'a>(data: &'a [u8]) -> &'a str
    where
        Self: 'a,
    {
        std::str::from_utf8(data).expect("a text key is UTF-8")
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a &'b str) -> &'a [u8]
    where
        Self: 'b,
    {
        value.as_bytes()
    }

    fn type_name() -> redb::TypeName {
        redb::TypeName::new("shenbao::TextKey")
    }
}

impl Key for TextKey {
    fn compare(data1: &[u8], data2: &[u8]) -> std::cmp::Ordering {
        data1.cmp(data2)
    }

    /// The shortest prefix of `right` above `left` (as redb's `&str` does), cut at a
    /// character boundary so a separator is a valid key too.
    fn separator<'a>(left: &'a [u8], right: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let common = left.iter().zip(right).take_while(|(x, y)| x == y).count();
        let mut len = common + 1;
        while len < right.len() && right[len] & 0b1100_0000 == 0b1000_0000 {
            len += 1;
        }
        std::borrow::Cow::Borrowed(if len < left.len() && len < right.len() { &right[..len] } else { left })
    }

    fn min_encoded_key() -> Option<std::borrow::Cow<'static, [u8]>> {
        Some(std::borrow::Cow::Borrowed(&[]))
    }
}

// ------------------------------------------------------------------ codecs

/// A record's stored form (JSON). Also the canonical JSON that check inputs and
/// decision hashes are computed over.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("model types serialise")
}

/// The stored bytes of a record.
pub(crate) fn encode<V: Serialize>(v: &V) -> Vec<u8> {
    to_json(v)
}

/// A record from its stored bytes; `key` names it in the error.
///
/// # Errors
/// [`StoreError::Corrupt`] when the bytes are not a `V`.
pub(crate) fn decode<V: DeserializeOwned>(key: &str, b: &[u8]) -> Result<V, StoreError> {
    decode_named(|| key.to_string(), b)
}

/// [`decode`], naming the record only when it fails (formatting the key on every
/// read cost ~10 % of a read).
///
/// The bytes are checked as UTF-8 once, whole, and then read as text: reading them as
/// bytes checked every string (keys and skipped values too) one by one, 6 % of a
/// summary export.
fn decode_named<V: DeserializeOwned>(key: impl FnOnce() -> String, b: &[u8]) -> Result<V, StoreError> {
    let read = match std::str::from_utf8(b) {
        Ok(text) => serde_json::from_str(text).map_err(|e| e.to_string()),
        Err(e) => Err(format!("not UTF-8: {e}")),
    };
    read.map_err(|message| StoreError::Corrupt { key: key(), message })
}

/// A typed table of records `V` under keys `K` (see the module docs).
pub struct Records<K: Key + 'static, V> {
    name: &'static str,
    _p: PhantomData<fn() -> (K, V)>,
}

impl<K: Key + 'static, V> Clone for Records<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: Key + 'static, V> Copy for Records<K, V> {}

/// The raw table under a record table (for copying whole tables in backups).
type Raw<K> = TableDefinition<'static, K, &'static [u8]>;

impl<K: Key + 'static, V> Records<K, V> {
    pub const fn new(name: &'static str) -> Self {
        Records { name, _p: PhantomData }
    }

    /// The redb table holding the encoded records.
    pub const fn raw(&self) -> Raw<K> {
        TableDefinition::new(self.name)
    }

    /// The table in a write transaction (created if missing, and then writable)
    /// or in a read transaction.
    ///
    /// # Errors
    /// [`StoreError::Database`] from redb (in a read transaction, a table that was
    /// never created, too).
    pub fn open<'t, X: Txn>(&self, tx: &'t X) -> Result<RecordTable<X::Table<'t, K>, K, V>, StoreError> {
        Ok(RecordTable { t: tx.raw_table(self.raw())?, name: self.name, _p: PhantomData })
    }
}

/// A redb transaction, write or read: what [`Records::open`] opens a table in.
pub trait Txn {
    /// redb's table type in this kind of transaction.
    type Table<'t, K: Key + 'static>: ReadableTable<K, &'static [u8]>
    where
        Self: 't;

    /// The raw table.
    ///
    /// # Errors
    /// redb's.
    fn raw_table<'t, K: Key + 'static>(&'t self, def: Raw<K>) -> Result<Self::Table<'t, K>, redb::TableError>;
}

impl Txn for WriteTransaction {
    type Table<'t, K: Key + 'static> = redb::Table<'t, K, &'static [u8]>;

    fn raw_table<'t, K: Key + 'static>(&'t self, def: Raw<K>) -> Result<Self::Table<'t, K>, redb::TableError> {
        self.open_table(def)
    }
}

impl Txn for ReadTransaction {
    type Table<'t, K: Key + 'static> = ReadOnlyTable<K, &'static [u8]>;

    fn raw_table<'t, K: Key + 'static>(&'t self, def: Raw<K>) -> Result<Self::Table<'t, K>, redb::TableError> {
        self.open_table(def)
    }
}

impl<X: Txn> Txn for &X {
    type Table<'t, K: Key + 'static>
        = X::Table<'t, K>
    where
        Self: 't;

    fn raw_table<'t, K: Key + 'static>(&'t self, def: Raw<K>) -> Result<Self::Table<'t, K>, redb::TableError> {
        (**self).raw_table(def)
    }
}

/// An open [`Records`] table: `T` is redb's table of a write or a read transaction.
pub struct RecordTable<T, K: Key + 'static, V> {
    t: T,
    name: &'static str,
    _p: PhantomData<fn() -> (K, V)>,
}

fn key_name<K: Key>(table: &str, key: &K::SelfType<'_>) -> String {
    let k = format!("{key:?}");
    format!("{table}/{}", k.trim_matches('"'))
}

/// Reading an open record table, of a write or a read transaction alike.
pub trait ReadableRecords<K: Key + 'static, V: DeserializeOwned> {
    /// The record under `key`, if any.
    ///
    /// # Errors
    /// [`StoreError::Database`] from redb; [`StoreError::Corrupt`] naming table and key.
    fn get<'a>(&self, key: impl Borrow<K::SelfType<'a>>) -> Result<Option<V>, StoreError>;
}

impl<T: ReadableTable<K, &'static [u8]>, K: Key + 'static, V: DeserializeOwned> RecordTable<T, K, V> {
    /// The record under `key`, if any.
    ///
    /// # Errors
    /// [`StoreError::Database`] from redb; [`StoreError::Corrupt`] naming table and key.
    pub fn get<'a>(&self, key: impl Borrow<K::SelfType<'a>>) -> Result<Option<V>, StoreError> {
        let key = key.borrow();
        match self.t.get(key)? {
            Some(v) => decode_named(|| key_name::<K>(self.name, key), v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Part of the record under `key`, if any: `W` is a struct of some of the
    /// record's fields (the others are skipped while decoding, not built) — for reads
    /// of many records that need little of each (the summary's decisions).
    ///
    /// # Errors
    /// As [`RecordTable::get`].
    pub fn get_part<'a, W: DeserializeOwned>(
        &self,
        key: impl Borrow<K::SelfType<'a>>,
    ) -> Result<Option<W>, StoreError> {
        let key = key.borrow();
        match self.t.get(key)? {
            Some(v) => decode_named(|| key_name::<K>(self.name, key), v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Every record, in key order.
    ///
    /// # Errors
    /// As [`RecordTable::get`]; decoding errors come per item.
    pub fn iter(&self) -> Result<RecordIter<'_, K, V>, StoreError> {
        Ok(RecordIter { inner: self.t.iter()?, name: self.name, _p: PhantomData })
    }
}

impl<T: ReadableTable<K, &'static [u8]>, K: Key + 'static, V: DeserializeOwned> ReadableRecords<K, V>
    for RecordTable<T, K, V>
{
    fn get<'a>(&self, key: impl Borrow<K::SelfType<'a>>) -> Result<Option<V>, StoreError> {
        RecordTable::get(self, key)
    }
}

impl<K: Key + 'static, V: Serialize> RecordTable<redb::Table<'_, K, &'static [u8]>, K, V> {
    /// Store `value` under `key`, replacing any record there.
    ///
    /// # Errors
    /// [`StoreError::Database`] from redb (a record over redb's value limit, too).
    pub fn insert<'a>(&mut self, key: impl Borrow<K::SelfType<'a>>, value: &V) -> Result<(), StoreError> {
        self.insert_encoded(key, &encode(value))
    }

    /// Store a record already encoded by this module's encoding (`encode(value)`,
    /// e.g. a sealed decision, encoded once for its hash and its record).
    ///
    /// # Errors
    /// As [`RecordTable::insert`].
    pub(crate) fn insert_encoded<'a>(
        &mut self,
        key: impl Borrow<K::SelfType<'a>>,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.t.insert(key, bytes)?;
        Ok(())
    }
}

/// Records in key order, each with its key.
pub struct RecordIter<'r, K: Key + 'static, V> {
    inner: redb::Range<'r, K, &'static [u8]>,
    name: &'static str,
    _p: PhantomData<fn() -> V>,
}

impl<'r, K: Key + 'static, V: DeserializeOwned> Iterator for RecordIter<'r, K, V> {
    type Item = Result<(AccessGuard<'r, K>, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.map_err(StoreError::from).and_then(|(k, v)| {
            let rec = decode_named(|| key_name::<K>(self.name, &k.value()), v.value())?;
            Ok((k, rec))
        }))
    }
}

impl<K: Key + 'static, V: DeserializeOwned> DoubleEndedIterator for RecordIter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        Some(self.inner.next_back()?.map_err(StoreError::from).and_then(|(k, v)| {
            let rec = decode_named(|| key_name::<K>(self.name, &k.value()), v.value())?;
            Ok((k, rec))
        }))
    }
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    digest_hex(Sha256::digest(b).into())
}

/// A sha256 digest in lower-case hex. `hex::encode` builds its string a `char` at a
/// time (2 % of an action for the two digests a decision makes); this writes the 64
/// bytes in one go.
pub(crate) fn digest_hex(digest: [u8; 32]) -> String {
    let mut out = [0u8; 64];
    hex::encode_to_slice(digest, &mut out).expect("64 bytes hold 32 in hex");
    String::from_utf8(out.to_vec()).expect("hex is ASCII")
}

/// The fields of an application its applicant's history shows a plugin: an
/// [`Application`] record read without its form data, attachments and the rest
/// (`RecordTable::get_part`), or taken from a whole one ([`HistorySource::of`]).
#[derive(serde::Deserialize)]
pub(crate) struct HistorySource {
    id: String,
    round: String,
    program: String,
    direction: Option<String>,
    project: Option<String>,
    state: HistoryState,
}

#[derive(serde::Deserialize)]
struct HistoryState {
    stage: String,
    outcome: Outcome,
    /// Only when each stage was entered.
    trail: Vec<HistoryVisit>,
}

#[derive(serde::Deserialize)]
struct HistoryVisit {
    entered_at: crate::time::Timestamp,
}

impl HistorySource {
    pub(crate) fn of(app: &Application) -> Self {
        HistorySource {
            id: app.id.clone(),
            round: app.round.clone(),
            program: app.program.clone(),
            direction: app.direction.clone(),
            project: app.project.clone(),
            state: HistoryState {
                stage: app.state.stage.clone(),
                outcome: app.state.outcome,
                trail: app.state.trail.iter().map(|v| HistoryVisit { entered_at: v.entered_at }).collect(),
            },
        }
    }

    /// The application's round.
    pub(crate) fn round(&self) -> &str {
        &self.round
    }
}

/// An application as the applicant's history shows it to a plugin, as it stands;
/// `year` is its round's.
pub(crate) fn history_row(app: HistorySource, year: u32) -> HistoryEntry {
    let decided_on =
        (app.state.outcome != Outcome::Pending).then(|| app.state.trail.last().map(|v| v.entered_at.local_date()));
    HistoryEntry {
        application: app.id,
        round: app.round,
        program: app.program,
        year,
        direction: app.direction,
        project: app.project,
        stage: app.state.stage,
        outcome: app.state.outcome,
        decided_on: decided_on.flatten(),
    }
}
