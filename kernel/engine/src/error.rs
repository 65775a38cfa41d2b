//! What kind of failure an error is: the one classification every Shenbao error
//! maps to, from which the HTTP status and the CLI's exit code are each derived by a
//! single `match` (`shenbao::http::status_of`, `ErrorKind::exit_code`).

/// The kind of a failure. Every error of the kernel has exactly one
/// (`shenbao::Error::kind`); the stable machine-readable `code` refines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request is wrong in itself: invalid data, a missing opinion or payload
    /// field, an unknown action, blocking findings, an idempotency key reused for
    /// another request. HTTP 422, exit 4.
    Invalid,
    /// The request could not be parsed (malformed JSON, a bad header). HTTP 400,
    /// exit 4.
    Malformed,
    /// The request is larger than a limit allows. HTTP 413, exit 4.
    TooLarge,
    /// What was named does not exist — or the caller may not see it, which answers
    /// the same. HTTP 404, exit 3.
    NotFound,
    /// No valid credentials. HTTP 401, exit 7.
    Unauthenticated,
    /// The caller may not do this (role, scope). HTTP 403, exit 7.
    Forbidden,
    /// The state of things refuses it: quota, window, stage, an existing id, a
    /// frozen round, a stale check, an idempotency key still in use. HTTP 409, exit 7.
    Conflict,
    /// A plugin failed: trap, fuel, memory, malformed or undeclared output. HTTP 502,
    /// exit 8.
    PluginFailed,
    /// The database or a file could not be read or written. HTTP 500, exit 5.
    Storage,
    /// Stored data does not verify: a broken chain, an inconsistent record, a replay
    /// that differs. HTTP 500, exit 6.
    Corrupt,
    /// A fault of Shenbao itself (a worker panicked). HTTP 500, exit 9.
    Internal,
}

impl ErrorKind {
    /// Every kind, for tests that walk them.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Invalid,
        ErrorKind::Malformed,
        ErrorKind::TooLarge,
        ErrorKind::NotFound,
        ErrorKind::Unauthenticated,
        ErrorKind::Forbidden,
        ErrorKind::Conflict,
        ErrorKind::PluginFailed,
        ErrorKind::Storage,
        ErrorKind::Corrupt,
        ErrorKind::Internal,
    ];

    /// The `shenbao` command's exit code for this kind: 3 not found, 4 refused input,
    /// 5 storage, 6 verification failed, 7 refused by state or permission, 8 a plugin
    /// failed, 9 internal. (0 is success, 1 a failing `plugin test` case, 2 usage.)
    pub const fn exit_code(self) -> u8 {
        match self {
            ErrorKind::NotFound => 3,
            ErrorKind::Invalid | ErrorKind::Malformed | ErrorKind::TooLarge => 4,
            ErrorKind::Storage => 5,
            ErrorKind::Corrupt => 6,
            ErrorKind::Unauthenticated | ErrorKind::Forbidden | ErrorKind::Conflict => 7,
            ErrorKind::PluginFailed => 8,
            ErrorKind::Internal => 9,
        }
    }

    /// What a person should do about a failure of this kind (the CLI prints it
    /// after the cause).
    pub fn advice(self) -> &'static str {
        match self {
            ErrorKind::Invalid | ErrorKind::Malformed | ErrorKind::TooLarge => "fix what is named and try again",
            ErrorKind::NotFound => {
                "check the id or name (`shenbao plugin list`, `round list`, `app list --round ROUND`, `user list` \
                 show what exists)"
            }
            ErrorKind::Unauthenticated => "give a valid token",
            ErrorKind::Forbidden => "ask someone whose role and region allow it",
            ErrorKind::Conflict => "see what is possible now (`shenbao review actions --as USER APP`) and act on that",
            ErrorKind::PluginFailed => {
                "the program's plugin failed: check it with `shenbao plugin verify PROGRAM VERSION` and tell its authors"
            }
            ErrorKind::Storage => "check the database file, the disk and their permissions",
            ErrorKind::Corrupt => {
                "nothing was changed; run `shenbao audit verify` and restore from a backup if it fails"
            }
            ErrorKind::Internal => "this is a fault of Shenbao; please report it with the message",
        }
    }
}
