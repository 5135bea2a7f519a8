//! `circssnn data fetch`: download the public benchmark (the `Datasets/`
//! folder of the authors' repository) and verify every byte against the
//! checksum manifest shipped in `data/manifest.tsv`.
//!
//! Each file is streamed into a hidden `.part` file beside its target,
//! hashed on the way, and renamed into place only when size and SHA-256
//! both match; a failed download therefore never leaves a half-written file
//! at a target, a re-run skips the files that already verify, and a broken
//! connection is continued where it stopped (HTTP range request) when the
//! server allows it. One `fetch` per data root at a time (a folder lock).

use std::fs::File;
#[cfg(feature = "download")]
use std::io::Write;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(feature = "download")]
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::error::{DataError, Result};

/// Where the authors' repository serves its `Datasets/` folder (HEAD = its default branch).
pub const DEFAULT_BASE_URL: &str =
    "https://raw.githubusercontent.com/cc646201081/CircSSNN/HEAD/Datasets";

const SHIPPED_MANIFEST: &str = include_str!("../../data/manifest.tsv");

/// One file of the benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Path relative to the data root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
}

/// The list of files a complete data root holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Files, in manifest order.
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// The manifest compiled into the crate (37 circRNA sets + 31 linear sets, 136 files).
    pub fn shipped() -> Self {
        Self::parse(SHIPPED_MANIFEST).expect("shipped manifest is well-formed (tested)")
    }

    /// Parse `sha256<TAB>size<TAB>path` lines; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Self> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || {
                DataError::Fetch(format!(
                    "manifest line {}: expected `sha256<TAB>size<TAB>path`, got {line:?}",
                    i + 1
                ))
            };
            let mut f = line.split('\t');
            let (sha, size, path) = (
                f.next().ok_or_else(bad)?,
                f.next().ok_or_else(bad)?,
                f.next().ok_or_else(bad)?,
            );
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) || path.contains("..")
            {
                return Err(bad());
            }
            entries.push(ManifestEntry {
                path: path.to_string(),
                size: size.parse().map_err(|_| bad())?,
                sha256: sha.to_ascii_lowercase(),
            });
        }
        Ok(Self { entries })
    }

    /// Total bytes of all files.
    pub fn total_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }
}

/// How a local file compares with its manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Present, right size and checksum.
    Verified,
    /// Not there.
    Missing,
    /// A gzipped copy whose stream cannot be decompressed (truncated or damaged).
    Corrupt {
        /// The decoder's reason.
        reason: String,
    },
    /// There, but different.
    Mismatch {
        /// Size found.
        size: u64,
        /// Checksum found.
        sha256: String,
    },
}

impl std::fmt::Display for FileState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Verified => write!(f, "verified"),
            Self::Missing => write!(f, "missing"),
            Self::Corrupt { reason } => write!(f, "corrupt .gz: {reason}"),
            Self::Mismatch { size, sha256 } => {
                write!(f, "different: {size} bytes, sha256 {sha256}")
            }
        }
    }
}

/// Check one entry under `root`: the file at its public path, else its
/// gzipped form `<path>.gz` (how `data/benchmark` ships the circRNA files),
/// whose decompressed bytes must match the entry.
pub fn check_file(root: &Path, entry: &ManifestEntry) -> Result<FileState> {
    let path = root.join(&entry.path);
    let (size, sha256) = if path.is_file() {
        sha256_file(&path)?
    } else {
        let gz = gz_path(&path);
        if !gz.is_file() {
            return Ok(FileState::Missing);
        }
        match sha256_gz(&gz) {
            Ok(found) => found,
            Err(DataError::Io { source, .. })
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::InvalidData
                        | std::io::ErrorKind::InvalidInput
                        | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Ok(FileState::Corrupt {
                    reason: source.to_string(),
                })
            }
            Err(e) => return Err(e),
        }
    };
    Ok(if size == entry.size && sha256 == entry.sha256 {
        FileState::Verified
    } else {
        FileState::Mismatch { size, sha256 }
    })
}

/// `<path>.gz`: where the shipped copy keeps a file the public layout holds uncompressed.
pub fn gz_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

/// SHA-256 and size of a file.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    sha256_reader(path, BufReader::new(file))
}

/// SHA-256 and size of a gzipped file's decompressed bytes; a corrupt or
/// truncated stream is an error naming the file.
pub fn sha256_gz(path: &Path) -> Result<(u64, String)> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    sha256_reader(
        path,
        flate2::read::MultiGzDecoder::new(BufReader::new(file)),
    )
}

fn sha256_reader(path: &Path, mut r: impl Read) -> Result<(u64, String)> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut h = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, format!("{:x}", h.finalize())))
}

/// Options of [`fetch`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// URL that `path` of each entry is appended to.
    pub base_url: String,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Give up on a connection that sends nothing for this long.
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            progress: true,
            timeout: Duration::from_secs(60),
        }
    }
}

/// What [`fetch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Files downloaded and verified.
    pub downloaded: usize,
    /// Files already present and verified.
    pub already_present: usize,
    /// Bytes downloaded.
    pub bytes: u64,
}

#[cfg(feature = "download")]
/// Download every file of `manifest` missing or wrong under `root`.
/// Stops at the first failure; files finished before it stay (verified).
pub fn fetch(root: &Path, manifest: &Manifest, opts: &FetchOptions) -> Result<FetchReport> {
    let _lock =
        crate::output::DirLock::acquire(root).map_err(|e| DataError::Fetch(e.to_string()))?;
    let mut report = FetchReport::default();
    let mut todo = Vec::new();
    for e in &manifest.entries {
        match check_file(root, e)? {
            FileState::Verified => report.already_present += 1,
            _ => todo.push(e),
        }
    }
    let total: u64 = todo.iter().map(|e| e.size).sum();
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if opts.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(opts.timeout)
        .timeout_read(opts.timeout)
        .build();
    for e in todo {
        bar.set_message(e.path.clone());
        download_one(&agent, root, e, opts, &bar)?;
        report.downloaded += 1;
        report.bytes += e.size;
    }
    bar.finish_and_clear();
    Ok(report)
}

#[cfg(feature = "download")]
/// Where a download in progress keeps its bytes: beside the target, under
/// a name no reader takes for data; kept after a broken connection, so the
/// next `fetch` continues from it.
fn partial_path(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(
        "{}download-{name}.part",
        crate::output::TEMP_PREFIX
    ))
}

#[cfg(feature = "download")]
fn download_one(
    agent: &ureq::Agent,
    root: &Path,
    e: &ManifestEntry,
    opts: &FetchOptions,
    bar: &ProgressBar,
) -> Result<()> {
    let target: PathBuf = root.join(&e.path);
    let dir = target.parent().unwrap_or(root);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let url = format!("{}/{}", opts.base_url.trim_end_matches('/'), e.path);
    let fail =
        |why: String| DataError::Fetch(format!("{}: download from {url} failed: {why}", e.path));
    let part = partial_path(&target);

    // Continue an interrupted download: hash what is there, ask for the rest.
    let mut hasher = Sha256::new();
    let mut have = match std::fs::metadata(&part) {
        Ok(m) if m.len() > 0 && m.len() < e.size => {
            let mut f = BufReader::new(File::open(&part).map_err(io(&part))?);
            let mut buf = [0u8; 64 * 1024];
            loop {
                let n = f.read(&mut buf).map_err(io(&part))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            m.len()
        }
        _ => 0,
    };
    let mut req = agent.get(&url);
    if have > 0 {
        req = req.set("Range", &format!("bytes={have}-"));
    }
    let resp = req.call().map_err(|err| match err {
        ureq::Error::Status(code, _) => fail(format!("HTTP status {code}")),
        other => fail(other.to_string()),
    })?;
    if have > 0 && resp.status() != 206 {
        // The server sent the whole file: start over.
        have = 0;
        hasher = Sha256::new();
    }
    bar.inc(have);
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(have > 0)
        .truncate(have == 0)
        .open(&part)
        .map_err(io(&part))?;
    // A wrong file is removed, so the next fetch does not continue it.
    let discard = |why: String| {
        let _ = std::fs::remove_file(&part);
        fail(why)
    };
    let mut body = resp.into_reader();
    let mut got = have;
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = body.read(&mut buf).map_err(|err| {
            fail(format!(
                "connection broke after {got} of {} bytes: {err}; run `data fetch` again to continue",
                e.size
            ))
        })?;
        if n == 0 {
            break;
        }
        got += n as u64;
        if got > e.size {
            return Err(discard(format!(
                "server sent more than the expected {} bytes",
                e.size
            )));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io(&part))?;
        bar.inc(n as u64);
    }
    if got != e.size {
        return Err(fail(format!(
            "got {got} of {} bytes (connection closed early); run `data fetch` again to continue",
            e.size
        )));
    }
    let sha = format!("{:x}", hasher.finalize());
    if sha != e.sha256 {
        return Err(discard(format!(
            "checksum mismatch: expected sha256 {}, got {sha}; the file was not kept",
            e.sha256
        )));
    }
    out.sync_all().map_err(io(&part))?;
    crate::output::make_readable(&out).map_err(io(&part))?;
    drop(out);
    std::fs::rename(&part, &target).map_err(io(&target))?;
    Ok(())
}
