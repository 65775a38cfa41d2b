//! API tokens: bearer secrets issued to a user, stored only as their sha256, revocable.

use crate::error::StoreError;
use crate::kernel::Kernel;
use crate::model::User;
use crate::tables::TOKENS;
use crate::time::Timestamp;
use crate::workflow::AdminError;
use serde::{Deserialize, Serialize};

/// What the database keeps about a token (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenInfo {
    /// Public id: the first 16 hex digits of the secret's sha256.
    pub id: String,
    pub user: String,
    pub label: String,
    pub issued_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A freshly issued token: the secret is shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IssuedToken {
    pub info: TokenInfo,
    /// `sb_` and 64 hex digits; give it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

fn digest(secret: &str) -> String {
    crate::tables::sha256_hex(secret.as_bytes())
}

impl Kernel {
    /// Issue a token for `user_id` (who must exist).
    pub fn issue_token(&self, user_id: &str, label: &str) -> Result<IssuedToken, AdminError> {
        if self.user(user_id)?.is_none() {
            return Err(AdminError::NotFound { what: "user", id: user_id.to_string() });
        }
        if label.chars().count() > 200 || label.chars().any(shenbao_engine::text::is_unsafe) {
            return Err(AdminError::Invalid(
                "令牌用途至多 200 个字符，且不能含控制字符 / a token label is at most 200 characters, without control \
                 or bidirectional-control characters"
                    .into(),
            ));
        }
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| AdminError::Invalid(format!("no randomness for a token: {e}")))?;
        let secret = format!("sb_{}", hex::encode(raw));
        let hash = digest(&secret);
        let info = TokenInfo {
            id: hash[..16].to_string(),
            user: user_id.to_string(),
            label: label.to_string(),
            issued_at: self.now(),
            revoked_at: None,
        };
        self.write(|tx| {
            TOKENS.open(tx)?.insert(hash.as_str(), &info)?;
            Ok(IssuedToken { info, secret })
        })
    }

    /// Every token (of one user, if given), without secrets.
    pub fn tokens(&self, user_id: Option<&str>) -> Result<Vec<TokenInfo>, StoreError> {
        let tx = self.begin_read()?;
        let t = TOKENS.open(&tx)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (_, info) = row?;
            if user_id.is_none_or(|u| u == info.user) {
                out.push(info);
            }
        }
        out.sort_by(|a, b| (a.issued_at, &a.id).cmp(&(b.issued_at, &b.id)));
        Ok(out)
    }

    /// Revoke a token by its public id; revoking twice is harmless.
    pub fn revoke_token(&self, id: &str) -> Result<TokenInfo, AdminError> {
        self.write(|tx| {
            let mut t = TOKENS.open(tx)?;
            let mut found = None;
            for row in t.iter()? {
                let (k, info) = row?;
                if info.id == id {
                    found = Some((k.value().to_string(), info));
                    break;
                }
            }
            let (key, mut info) = found.ok_or_else(|| AdminError::NotFound { what: "token", id: id.to_string() })?;
            if info.revoked_at.is_none() {
                info.revoked_at = Some(self.now());
                t.insert(key.as_str(), &info)?;
            }
            Ok(info)
        })
    }

    /// The user a bearer secret stands for: `None` for an unknown or revoked token.
    pub fn authenticate(&self, secret: &str) -> Result<Option<User>, StoreError> {
        let tx = self.begin_read()?;
        let t = TOKENS.open(&tx)?;
        let Some(info) = t.get(digest(secret).as_str())? else { return Ok(None) };
        if info.revoked_at.is_some() {
            return Ok(None);
        }
        // The user, from the same read transaction.
        crate::tables::USERS.open(&tx)?.get(info.user.as_str())
    }
}
