//! Sign-in for people (the console): passwords hashed with argon2id, one-time
//! sign-in codes for a first sign-in, and sessions. Integrators keep bearer tokens
//! (`tokens.rs`); both end in the same [`User`], authorised by the same policy.
//!
//! What is stored: a password's PHC string (argon2id, its own salt), a session's
//! and a code's sha256 — never a secret. Failed sign-ins are throttled per user and
//! per client address (OWASP Authentication Cheat Sheet: lock-out with a timeout,
//! the same answer for an unknown user as for a wrong password).

use crate::error::StoreError;
use crate::kernel::Kernel;
use crate::model::User;
use crate::tables::{PASSWORDS, SESSIONS, SIGNIN_CODES};
use crate::time::Timestamp;
use crate::workflow::AdminError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Shortest password, in characters (OWASP ASVS 2.1.1: at least 12).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password, in characters (ASVS 2.1.2 allows at least 64; 128 here).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// A session ends after this long without a request, in seconds (2 h: a long form).
pub const SESSION_IDLE_SECS: i64 = 2 * 3600;
/// A session ends this long after sign-in whatever happens, in seconds (12 h).
pub const SESSION_MAX_SECS: i64 = 12 * 3600;
/// A one-time sign-in code is valid this long, in seconds (72 h).
pub const CODE_VALID_SECS: i64 = 72 * 3600;
/// Failed sign-ins a user may have inside [`THROTTLE_WINDOW_SECS`] before it is locked
/// for that long.
pub const MAX_FAILURES_PER_USER: u32 = 5;
/// Failed sign-ins one client address may have inside the window (many users tried
/// from one place) before it is locked.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 30;
/// The throttle's window and lock-out, in seconds (15 min).
pub const THROTTLE_WINDOW_SECS: i64 = 15 * 60;
/// Most throttle entries kept in memory; past it the oldest are forgotten.
const MAX_THROTTLE_ENTRIES: usize = 100_000;
/// Password hashes computed at once (each takes 19 MiB and ~30 ms): further
/// sign-ins wait their turn, so concurrent attempts cannot exhaust memory.
const MAX_CONCURRENT_HASHES: usize = 4;
/// Sessions one user keeps at once; signing in again ends the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 16;

/// A password as stored: its PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRecord {
    pub phc: String,
    pub set_at: Timestamp,
}

/// A session as stored, under the sha256 of its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user: String,
    /// The anti-CSRF token (synchroniser token): a state-changing request signed in
    /// by this session's cookie must carry it in `X-CSRF-Token`.
    pub csrf: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
}

/// A one-time sign-in code as stored, under its sha256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub user: String,
    pub expires_at: Timestamp,
}

/// A session just begun: the secret goes into an HttpOnly cookie, the CSRF token
/// to the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Session {
    /// `ss_` and 64 hex digits (the cookie's value); never stored.
    #[serde(skip_serializing)]
    #[schemars(skip)]
    pub secret: String,
    pub user: User,
    /// Send it as `X-CSRF-Token` with every state-changing request.
    pub csrf_token: String,
    /// The latest the session lasts (it ends sooner after [`SESSION_IDLE_SECS`] idle).
    pub expires_at: Timestamp,
    /// The server's time at the answer (its clock, which a rehearsal sets with
    /// `--now`): what deadlines count from, not the browser's clock.
    pub now: Timestamp,
}

/// A sign-in refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown user, no password set, wrong password, a wrong or used code: one
    /// answer for all, so it tells an attacker nothing.
    #[error("用户名或密码不正确 / wrong user or password")]
    Wrong,
    /// Too many failures for this user or from this address.
    #[error(
        "登录失败次数过多，请 {retry_after_secs} 秒后再试 / too many failed sign-ins; retry in {retry_after_secs} s"
    )]
    Throttled { retry_after_secs: i64 },
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

crate::error::redb_into!(SignInError);

impl crate::error::Classified for SignInError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            SignInError::Wrong => crate::ErrorKind::Unauthenticated,
            SignInError::Throttled { .. } => crate::ErrorKind::Conflict,
            SignInError::Admin(e) => e.kind(),
            SignInError::Store(e) => e.kind(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            SignInError::Wrong => "sign_in_failed",
            SignInError::Throttled { .. } => "too_many_attempts",
            SignInError::Admin(e) => e.code(),
            SignInError::Store(e) => e.code(),
        }
    }
}

/// Failed sign-ins per user and per address, in memory (a restart forgets them).
#[derive(Default)]
pub(crate) struct Throttle {
    entries: Mutex<HashMap<String, Attempts>>,
}

#[derive(Clone, Copy)]
struct Attempts {
    window_start: i64,
    failures: u32,
    locked_until: i64,
}

impl Throttle {
    /// Seconds until `key` may try again, if it is locked.
    fn locked(&self, key: &str, now: i64) -> Option<i64> {
        let e = self.entries.lock().expect("not poisoned");
        e.get(key).filter(|a| a.locked_until > now).map(|a| a.locked_until - now)
    }

    fn fail(&self, key: &str, limit: u32, now: i64) {
        let mut e = self.entries.lock().expect("not poisoned");
        if e.len() >= MAX_THROTTLE_ENTRIES {
            e.retain(|_, a| a.locked_until > now || now - a.window_start < THROTTLE_WINDOW_SECS);
            if e.len() >= MAX_THROTTLE_ENTRIES {
                let oldest = e.iter().min_by_key(|(_, a)| a.window_start).map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    e.remove(&k);
                }
            }
        }
        let a = e.entry(key.to_string()).or_insert(Attempts { window_start: now, failures: 0, locked_until: 0 });
        if now - a.window_start >= THROTTLE_WINDOW_SECS {
            *a = Attempts { window_start: now, failures: 0, locked_until: 0 };
        }
        a.failures += 1;
        if a.failures >= limit {
            a.locked_until = now + THROTTLE_WINDOW_SECS;
        }
    }

    fn clear(&self, key: &str) {
        self.entries.lock().expect("not poisoned").remove(key);
    }
}

fn digest(secret: &str) -> String {
    crate::tables::sha256_hex(secret.as_bytes())
}

fn random_hex(bytes: usize) -> Result<String, AdminError> {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).map_err(|e| AdminError::Invalid(format!("no randomness: {e}")))?;
    Ok(hex::encode(raw))
}

/// Run `f` (a password hash or verification) as one of at most
/// [`MAX_CONCURRENT_HASHES`] at once.
fn hashing<T>(f: impl FnOnce() -> T) -> T {
    static RUNNING: (Mutex<usize>, std::sync::Condvar) = (Mutex::new(0), std::sync::Condvar::new());
    let (count, turn) = &RUNNING;
    let mut n =
        turn.wait_while(count.lock().expect("not poisoned"), |n| *n >= MAX_CONCURRENT_HASHES).expect("not poisoned");
    *n += 1;
    drop(n);
    let out = f();
    *count.lock().expect("not poisoned") -= 1;
    turn.notify_one();
    out
}

fn argon2() -> argon2::Argon2<'static> {
    // argon2id, m = 19 MiB, t = 2, p = 1: OWASP's Password Storage Cheat Sheet.
    argon2::Argon2::default()
}

fn hash_password(password: &str) -> Result<String, AdminError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AdminError::Invalid(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let hash = hashing(|| argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()))
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    Ok(hash)
}

/// Whether `password` matches the PHC string `phc` (constant time in the hash).
fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| hashing(|| argon2().verify_password(password.as_bytes(), &h).is_ok()))
}

/// A hash verified when there is no password to check, so an unknown user takes as
/// long as a wrong password (it tells nothing by its timing).
fn dummy_phc() -> &'static str {
    static PHC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PHC.get_or_init(|| hash_password("not the password of anyone").unwrap_or_default())
}

/// What is wrong with `password` as a new password for `user`, if anything: its
/// length ([`MIN_PASSWORD_CHARS`]–[`MAX_PASSWORD_CHARS`] characters), or being the
/// user's id, or being unusable: control or bidirectional-control characters (which
/// no keyboard types the same way twice), or 12 characters with fewer than 4 that
/// are not white space. No composition rules (ASVS 2.1.9).
pub fn password_problem(user: &str, password: &str) -> Option<String> {
    let n = password.chars().count();
    if password.chars().any(shenbao_engine::text::is_unsafe) {
        return Some(
            "密码不能含控制字符或双向控制字符 / a password cannot hold control or bidirectional-control characters"
                .into(),
        );
    }
    if password.chars().filter(|c| !c.is_whitespace()).count() < 4 {
        return Some("密码不能几乎全是空格 / a password cannot be (almost) all white space".into());
    }
    if n < MIN_PASSWORD_CHARS {
        return Some(format!(
            "密码至少 {MIN_PASSWORD_CHARS} 个字符，收到 {n} 个 / a password has at least {MIN_PASSWORD_CHARS} characters, got {n}"
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Some(format!(
            "密码至多 {MAX_PASSWORD_CHARS} 个字符，收到 {n} 个 / a password has at most {MAX_PASSWORD_CHARS} characters, got {n}"
        ));
    }
    if password.trim().eq_ignore_ascii_case(user) {
        return Some("密码不能与用户名相同 / a password cannot be the user's id".into());
    }
    None
}

impl Kernel {
    /// Set `user_id`'s password (an administrator, or the user through a one-time
    /// code), ending every session of the user.
    ///
    /// # Errors
    /// [`AdminError::NotFound`] for an unknown user; [`AdminError::Invalid`] naming
    /// what is wrong with the password ([`password_problem`]); storage errors.
    pub fn set_password(&self, user_id: &str, password: &str) -> Result<(), AdminError> {
        if self.user(user_id)?.is_none() {
            return Err(AdminError::NotFound { what: "user", id: user_id.to_string() });
        }
        if let Some(p) = password_problem(user_id, password) {
            return Err(AdminError::Invalid(p));
        }
        let rec = PasswordRecord { phc: hash_password(password)?, set_at: self.now() };
        self.write(|tx| {
            PASSWORDS.open(tx)?.insert(user_id, &rec)?;
            end_sessions_of(tx, user_id)?;
            Ok::<_, AdminError>(())
        })
    }

    /// A one-time code with which `user_id` signs in once and sets a password
    /// (valid [`CODE_VALID_SECS`]); give it to the person by another channel. Shown
    /// once: only its sha256 is stored.
    ///
    /// # Errors
    /// [`AdminError::NotFound`] for an unknown user; storage errors.
    pub fn issue_sign_in_code(&self, user_id: &str) -> Result<String, AdminError> {
        if self.user(user_id)?.is_none() {
            return Err(AdminError::NotFound { what: "user", id: user_id.to_string() });
        }
        // 80 bits, in groups a person can type: `a3f9-0c1e-77d2-b845-1e0f`.
        let raw = random_hex(10)?;
        let code =
            raw.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect::<Vec<_>>().join("-");
        let rec = CodeRecord { user: user_id.to_string(), expires_at: self.now().plus_secs(CODE_VALID_SECS) };
        self.write(|tx| {
            SIGNIN_CODES.open(tx)?.insert(digest(&code).as_str(), &rec)?;
            Ok::<_, AdminError>(())
        })?;
        Ok(code)
    }

    /// Sign in with a password; `client` is the caller's address (for throttling).
    ///
    /// # Errors
    /// [`SignInError::Wrong`] (one answer for an unknown user, a user without a
    /// password and a wrong password); [`SignInError::Throttled`] after
    /// [`MAX_FAILURES_PER_USER`] failures for the user or
    /// [`MAX_FAILURES_PER_ADDRESS`] from the address within
    /// [`THROTTLE_WINDOW_SECS`]; storage errors.
    pub fn sign_in(&self, user_id: &str, password: &str, client: &str) -> Result<Session, SignInError> {
        self.throttled(user_id, client)?;
        let user = self.user(user_id)?;
        let stored = match &user {
            Some(_) => PASSWORDS.open(&self.begin_read()?)?.get(user_id)?,
            None => None,
        };
        let phc = stored.as_ref().map_or(dummy_phc(), |r| r.phc.as_str());
        // Verified even when there is nothing to verify, for the same timing.
        let ok = verify_password(password, phc) && stored.is_some();
        match (ok, user) {
            (true, Some(user)) => {
                self.sign_in.clear(&format!("user:{user_id}"));
                self.begin_session(user)
            }
            _ => Err(self.failed(user_id, client)),
        }
    }

    /// Sign in once with a one-time code, setting the password at the same time.
    ///
    /// # Errors
    /// [`SignInError::Wrong`] for an unknown, expired, used or another user's code;
    /// [`SignInError::Throttled`] as [`Kernel::sign_in`]; [`SignInError::Admin`]
    /// ([`AdminError::Invalid`]) naming what is wrong with the new password (the
    /// code stays valid); storage errors.
    pub fn sign_in_with_code(
        &self,
        user_id: &str,
        code: &str,
        new_password: &str,
        client: &str,
    ) -> Result<Session, SignInError> {
        self.throttled(user_id, client)?;
        if let Some(p) = password_problem(user_id, new_password) {
            return Err(AdminError::Invalid(p).into());
        }
        let key = digest(code.trim());
        let now = self.now();
        let found = SIGNIN_CODES.open(&self.begin_read()?)?.get(key.as_str())?;
        let Some(user) = found.filter(|c| c.user == user_id && c.expires_at > now).and(self.user(user_id)?) else {
            return Err(self.failed(user_id, client));
        };
        let rec = PasswordRecord { phc: hash_password(new_password)?, set_at: now };
        // The code is spent in the transaction that sets the password: used once.
        let spent = self.write(|tx| {
            let spent = SIGNIN_CODES.open(tx)?.get(key.as_str())?.is_some();
            if spent {
                let mut codes = tx.open_table(SIGNIN_CODES.raw())?;
                codes.remove(key.as_str())?;
                PASSWORDS.open(tx)?.insert(user_id, &rec)?;
                end_sessions_of(tx, user_id)?;
            }
            Ok::<_, SignInError>(spent)
        })?;
        if !spent {
            return Err(self.failed(user_id, client));
        }
        self.sign_in.clear(&format!("user:{user_id}"));
        self.begin_session(user)
    }

    /// The user a session secret stands for, with the session's CSRF token; `None`
    /// for an unknown, ended, idle ([`SESSION_IDLE_SECS`]) or too old
    /// ([`SESSION_MAX_SECS`]) session. Marks the session used (at most every 5 min).
    ///
    /// # Errors
    /// Storage errors.
    pub fn session_user(&self, secret: &str) -> Result<Option<(User, String)>, StoreError> {
        let key = digest(secret);
        let now = self.now();
        let rec = SESSIONS.open(&self.begin_read()?)?.get(key.as_str())?;
        let Some(rec) = rec else { return Ok(None) };
        if now.0 - rec.last_seen.0 > SESSION_IDLE_SECS || now.0 - rec.created_at.0 > SESSION_MAX_SECS {
            return Ok(None);
        }
        let Some(user) = self.user(&rec.user)? else { return Ok(None) };
        if now.0 - rec.last_seen.0 > 300 {
            let seen = SessionRecord { last_seen: now, ..rec.clone() };
            self.write(|tx| {
                let mut t = SESSIONS.open(tx)?;
                if t.get(key.as_str())?.is_some() {
                    t.insert(key.as_str(), &seen)?;
                }
                Ok::<_, StoreError>(())
            })?;
        }
        Ok(Some((user, rec.csrf)))
    }

    /// End a session (sign out); ending an unknown one is harmless.
    ///
    /// # Errors
    /// Storage errors.
    pub fn end_session(&self, secret: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.open_table(SESSIONS.raw())?.remove(digest(secret).as_str())?;
            Ok::<_, StoreError>(())
        })
    }

    fn begin_session(&self, user: User) -> Result<Session, SignInError> {
        let now = self.now();
        let secret = format!("ss_{}", random_hex(32)?);
        let csrf = random_hex(32)?;
        let rec = SessionRecord { user: user.id.clone(), csrf: csrf.clone(), created_at: now, last_seen: now };
        self.write(|tx| {
            // One pass: ended sessions are removed as new ones begin (at most 64 at a
            // time), and so are this user's oldest past MAX_SESSIONS_PER_USER.
            let t = SESSIONS.open(tx)?;
            let mut stale: Vec<String> = Vec::new();
            let mut mine: Vec<(Timestamp, String)> = Vec::new();
            for (k, s) in t.iter()?.filter_map(Result::ok) {
                if now.0 - s.last_seen.0 > SESSION_IDLE_SECS || now.0 - s.created_at.0 > SESSION_MAX_SECS {
                    if stale.len() < 64 {
                        stale.push(k.value().to_string());
                    }
                } else if s.user == user.id {
                    mine.push((s.created_at, k.value().to_string()));
                }
            }
            drop(t);
            mine.sort();
            let over = (mine.len() + 1).saturating_sub(MAX_SESSIONS_PER_USER);
            stale.extend(mine.into_iter().take(over).map(|(_, k)| k));
            let mut raw = tx.open_table(SESSIONS.raw())?;
            for k in stale {
                raw.remove(k.as_str())?;
            }
            drop(raw);
            SESSIONS.open(tx)?.insert(digest(&secret).as_str(), &rec)?;
            Ok::<_, StoreError>(())
        })?;
        Ok(Session { secret, user, csrf_token: csrf, expires_at: now.plus_secs(SESSION_MAX_SECS), now })
    }

    fn throttled(&self, user_id: &str, client: &str) -> Result<(), SignInError> {
        let now = self.now().0;
        let wait = [format!("user:{user_id}"), format!("addr:{client}")]
            .iter()
            .filter_map(|k| self.sign_in.locked(k, now))
            .max();
        match wait {
            Some(s) => Err(SignInError::Throttled { retry_after_secs: s }),
            None => Ok(()),
        }
    }

    fn failed(&self, user_id: &str, client: &str) -> SignInError {
        let now = self.now().0;
        self.sign_in.fail(&format!("user:{user_id}"), MAX_FAILURES_PER_USER, now);
        self.sign_in.fail(&format!("addr:{client}"), MAX_FAILURES_PER_ADDRESS, now);
        SignInError::Wrong
    }
}

/// Remove every session of `user_id` (a new password signs out everywhere).
fn end_sessions_of(tx: &redb::WriteTransaction, user_id: &str) -> Result<(), StoreError> {
    let mut mine = Vec::new();
    for row in SESSIONS.open(tx)?.iter()? {
        let (k, s) = row?;
        if s.user == user_id {
            mine.push(k.value().to_string());
        }
    }
    let mut raw = tx.open_table(SESSIONS.raw())?;
    for k in mine {
        raw.remove(k.as_str())?;
    }
    Ok(())
}
