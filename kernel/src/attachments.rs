//! Attachments: content-addressed blobs on disk (large files such as the project
//! video never go into redb) and the generic checks every program's declared
//! attachment types imply (counts, media types, sizes, validity, freshness,
//! recording length).

use shenbao_contract::{Attachment, Date, Direction, Finding, Severity, Text};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A stored blob.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct BlobRef {
    pub sha256: String,
    pub size: u64,
}

/// Storing or reading a blob failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("附件超过大小上限 {limit} 字节 / the attachment exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// No blob with this address was uploaded by the caller (whether another user
    /// uploaded one is not revealed), and it is not already on the application.
    #[error("附件内容不存在或不是您上传的 / no attachment with sha256 {sha256} was uploaded by you")]
    Unknown { sha256: String },
    #[error(
        "附件 {sha256} 大小为 {stored} 字节，元数据写的是 {claimed} / attachment {sha256} has {stored} bytes, its metadata says {claimed}"
    )]
    SizeMismatch { sha256: String, stored: u64, claimed: u64 },
    /// Not a content address: exactly 64 lower-case hexadecimal digits (sha256).
    #[error(
        "附件地址无效（应为 64 位小写十六进制 sha256） / {sha256:?} is not an attachment address (64 lower-case hex digits of sha256)"
    )]
    BadAddress { sha256: String },
    /// No such user.
    #[error("用户“{user}”不存在 / user {user:?} does not exist")]
    UnknownUser { user: String },
    /// Only a user who fills in drafts (a grant for an organisation) uploads.
    #[error("只有申报单位可以上传附件 / only applicants upload attachments ({user:?} does not apply)")]
    NotAllowed { user: String },
    /// The user's uploads in all would pass its allowance.
    #[error(
        "附件总量超过每个用户 {limit} 字节的上限（已用 {used} 字节） / uploads would pass the allowance of {limit} bytes per user ({used} used)"
    )]
    QuotaExceeded { used: u64, limit: u64 },
    #[error("附件文件“{path}”读写失败 / {path}: {message}")]
    Io { path: String, message: String },
    #[error(transparent)]
    Store(#[from] crate::error::StoreError),
}

/// Whether `s` is a content address: exactly 64 lower-case hexadecimal digits.
pub fn is_address(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl crate::error::Classified for BlobError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            BlobError::TooLarge { .. } | BlobError::QuotaExceeded { .. } => crate::ErrorKind::TooLarge,
            BlobError::NotAllowed { .. } => crate::ErrorKind::Forbidden,
            BlobError::UnknownUser { .. } => crate::ErrorKind::NotFound,
            BlobError::Unknown { .. } | BlobError::SizeMismatch { .. } | BlobError::BadAddress { .. } => {
                crate::ErrorKind::Invalid
            }
            BlobError::Io { .. } => crate::ErrorKind::Storage,
            BlobError::Store(e) => e.kind(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            BlobError::TooLarge { .. } => "payload_too_large",
            BlobError::QuotaExceeded { .. } => "upload_quota_exceeded",
            BlobError::NotAllowed { .. } => "forbidden",
            BlobError::UnknownUser { .. } => "not_found",
            BlobError::Unknown { .. } | BlobError::SizeMismatch { .. } | BlobError::BadAddress { .. } => {
                "attachment_invalid"
            }
            BlobError::Io { .. } => "store",
            BlobError::Store(e) => e.code(),
        }
    }
}

/// Name prefix of uploads in progress (in the blob folder's top level).
const PARTIAL_PREFIX: &str = ".upload-";

/// An upload in progress: its temporary file is removed when this is dropped
/// (a failed, refused or abandoned upload leaves nothing), unless committed.
#[derive(Debug)]
pub struct Partial(Option<PathBuf>);

impl Partial {
    /// The temporary file.
    pub fn path(&self) -> &Path {
        self.0.as_deref().expect("not yet committed")
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Content-addressed files: `<dir>/<first two hex digits>/<sha256>`.
#[derive(Clone, Debug)]
pub struct BlobStore {
    dir: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> BlobError {
    BlobError::Io { path: path.display().to_string(), message: e.to_string() }
}

impl BlobStore {
    pub fn new(dir: PathBuf) -> Self {
        BlobStore { dir }
    }

    /// The directory the blobs live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob with address `sha256` lives: `<dir>/<first two digits>/<sha256>`.
    /// Anything but a content address ([`is_address`]) maps to a name no upload can
    /// have (`<dir>/invalid`), never outside `dir`.
    pub fn path(&self, sha256: &str) -> PathBuf {
        if !is_address(sha256) {
            return self.dir.join("invalid");
        }
        self.dir.join(&sha256[..2]).join(sha256)
    }

    /// A new temporary file for an upload in progress, removed when the returned
    /// [`Partial`] is dropped unless [`BlobStore::commit`] took it.
    ///
    /// # Errors
    /// I/O errors creating the folder or the file.
    pub fn partial(&self) -> Result<(Partial, std::fs::File), BlobError> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.dir.join(format!("{PARTIAL_PREFIX}{}-{n}", std::process::id()));
        let file = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        Ok((Partial(Some(tmp)), file))
    }

    /// Make a finished upload durable and content-addressed: sync the file, move it to
    /// its address (or drop it when that content is already stored) and sync the folder.
    ///
    /// # Errors
    /// I/O errors.
    pub fn commit(&self, mut partial: Partial, sha256: String, size: u64) -> Result<BlobRef, BlobError> {
        let tmp = partial.0.take().expect("a partial is committed once");
        let done = (|| {
            std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(|e| io(&tmp, e))?;
            let dest = self.path(&sha256);
            let parent = dest.parent().expect("blob paths have a parent");
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            if dest.exists() {
                let _ = std::fs::remove_file(&tmp);
            } else {
                std::fs::rename(&tmp, &dest).map_err(|e| io(&dest, e))?;
                // Make the rename itself durable.
                if let Ok(d) = std::fs::File::open(parent) {
                    let _ = d.sync_all();
                }
            }
            Ok(BlobRef { sha256, size })
        })();
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        done
    }

    /// Remove uploads left partial by a crash: temporary files older than `age`.
    /// Returns how many were removed.
    pub fn remove_stale_partials(&self, age: std::time::Duration) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return 0 };
        let now = std::time::SystemTime::now();
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(PARTIAL_PREFIX))
            .filter(|e| {
                e.metadata().and_then(|m| m.modified()).is_ok_and(|t| now.duration_since(t).unwrap_or_default() >= age)
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// Stream `reader` to disk while hashing it; durable (file and directory
    /// synced) before it returns. Identical content is stored once.
    pub fn put(&self, reader: impl Read, limit: Option<u64>) -> Result<BlobRef, BlobError> {
        let (partial, sha256, size) = self.write_partial(reader, limit)?;
        self.commit(partial, sha256, size)
    }

    /// Stream `reader` into a new partial upload, hashing it: (the partial, its
    /// sha256, its size), to [`BlobStore::commit`] or drop.
    ///
    /// # Errors
    /// [`BlobError::TooLarge`] past `limit` bytes, I/O errors (nothing is kept).
    pub fn write_partial(
        &self,
        mut reader: impl Read,
        limit: Option<u64>,
    ) -> Result<(Partial, String, u64), BlobError> {
        use sha2::{Digest, Sha256};
        let (partial, mut file) = self.partial()?;
        let tmp = partial.path().to_path_buf();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 64 << 10];
        let result = (|| {
            loop {
                let n = reader.read(&mut buf).map_err(|e| io(&tmp, e))?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if limit.is_some_and(|l| size > l) {
                    return Err(BlobError::TooLarge { limit: limit.unwrap_or(0) });
                }
                hasher.update(&buf[..n]);
                file.write_all(&buf[..n]).map_err(|e| io(&tmp, e))?;
            }
            Ok(())
        })();
        drop(file);
        result?; // on error, dropping `partial` removes the file
        Ok((partial, hex::encode(hasher.finalize()), size))
    }

    /// Check that attachment metadata names a stored blob of the stated size.
    ///
    /// # Errors
    /// [`BlobError::BadAddress`] for anything but 64 lower-case hex digits (no file is
    /// looked at), [`BlobError::Unknown`], [`BlobError::SizeMismatch`].
    pub fn verify(&self, a: &Attachment) -> Result<(), BlobError> {
        if !is_address(&a.sha256) {
            return Err(BlobError::BadAddress { sha256: a.sha256.chars().take(80).collect() });
        }
        let path = self.path(&a.sha256);
        match std::fs::metadata(&path) {
            Ok(m) if m.len() == a.size => Ok(()),
            Ok(m) => Err(BlobError::SizeMismatch { sha256: a.sha256.clone(), stored: m.len(), claimed: a.size }),
            Err(_) => Err(BlobError::Unknown { sha256: a.sha256.clone() }),
        }
    }
}

fn finding(rule: String, severity: Severity, path: String, zh: String, en: String) -> Finding {
    Finding { rule_id: rule, severity, path, message: Text::new(zh, en) }
}

/// The findings the direction's declared attachment types imply, as of `as_of`.
/// Rule ids are `attachment.<check>` with the type in the path `$attachments.<type>`.
pub fn check(direction: &Direction, attachments: &[Attachment], as_of: Date) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in attachments {
        if !direction.attachments.iter().any(|t| t.id == a.kind) {
            out.push(finding(
                "attachment.unknown-type".into(),
                Severity::Warning,
                format!("$attachments.{}", a.kind),
                format!("附件“{}”的类型“{}”不在本方向的附件清单中", a.name, a.kind),
                format!("attachment {:?} has type {:?}, which this direction does not list", a.name, a.kind),
            ));
        }
    }
    for t in &direction.attachments {
        let path = format!("$attachments.{}", t.id);
        let of_type: Vec<&Attachment> = attachments.iter().filter(|a| a.kind == t.id).collect();
        if (of_type.len() as u32) < t.min_count {
            out.push(finding(
                "attachment.missing".into(),
                Severity::Blocking,
                path.clone(),
                format!("缺少附件「{}」：需要至少 {} 份，已上传 {} 份", t.title.zh, t.min_count, of_type.len()),
                format!("attachment {:?}: at least {} required, {} given", t.title.en, t.min_count, of_type.len()),
            ));
        }
        if let Some(max) = t.max_count {
            if of_type.len() as u32 > max {
                out.push(finding(
                    "attachment.too-many".into(),
                    Severity::Blocking,
                    path.clone(),
                    format!("附件「{}」至多 {max} 份，已上传 {} 份", t.title.zh, of_type.len()),
                    format!("attachment {:?}: at most {max}, {} given", t.title.en, of_type.len()),
                ));
            }
        }
        for a in of_type {
            let zh_name = &a.name;
            if !t.media_types.is_empty() && !t.media_types.contains(&a.media_type) {
                out.push(finding(
                    "attachment.media-type".into(),
                    Severity::Blocking,
                    path.clone(),
                    format!("附件“{zh_name}”格式为 {}，应为 {}", a.media_type, t.media_types.join("、")),
                    format!("attachment {zh_name:?} is {}, expected {}", a.media_type, t.media_types.join(", ")),
                ));
            }
            if let Some(max) = t.max_bytes {
                if a.size > max {
                    out.push(finding(
                        "attachment.too-large".into(),
                        Severity::Blocking,
                        path.clone(),
                        format!("附件“{zh_name}”大小 {} 字节，超过上限 {max} 字节", a.size),
                        format!("attachment {zh_name:?} has {} bytes, over the limit of {max}", a.size),
                    ));
                }
            }
            if t.must_be_valid {
                match a.valid_until {
                    Some(d) if d >= as_of => {}
                    Some(d) => out.push(finding(
                        "attachment.expired".into(),
                        Severity::Blocking,
                        path.clone(),
                        format!("附件“{zh_name}”有效期至 {d}，已过期（申报日 {as_of}）"),
                        format!("attachment {zh_name:?} was valid until {d}, before {as_of}"),
                    )),
                    None => out.push(finding(
                        "attachment.validity-missing".into(),
                        Severity::Blocking,
                        path.clone(),
                        format!("附件“{zh_name}”须填写有效期"),
                        format!("attachment {zh_name:?} needs its validity date"),
                    )),
                }
            }
            if let Some(months) = t.max_age_months {
                let earliest = as_of.add_months(-(months as i32));
                match a.issued_on {
                    Some(d) if d >= earliest && d <= as_of => {}
                    Some(d) => out.push(finding(
                        "attachment.stale".into(),
                        Severity::Blocking,
                        path.clone(),
                        format!("附件“{zh_name}”出具于 {d}，须在近 {months} 个月内（{earliest} 之后）"),
                        format!(
                            "attachment {zh_name:?} is dated {d}; it must be within {months} months (after {earliest})"
                        ),
                    )),
                    None => out.push(finding(
                        "attachment.date-missing".into(),
                        Severity::Blocking,
                        path.clone(),
                        format!("附件“{zh_name}”须填写出具日期"),
                        format!("attachment {zh_name:?} needs its issue date"),
                    )),
                }
            }
            if t.min_seconds.is_some() || t.max_seconds.is_some() {
                let secs = a.seconds.unwrap_or(0);
                let (lo, hi) = (t.min_seconds.unwrap_or(0), t.max_seconds.unwrap_or(u32::MAX));
                if secs < lo || secs > hi {
                    out.push(finding(
                        "attachment.duration".into(),
                        Severity::Blocking,
                        path.clone(),
                        format!("附件“{zh_name}”时长 {secs} 秒，应为 {lo}–{hi} 秒"),
                        format!("recording {zh_name:?} lasts {secs} s; it must last {lo}–{hi} s"),
                    ));
                }
            }
        }
    }
    out
}
