//! `circssnn data fetch`: download the public benchmark (the `Datasets/`
//! folder of the authors' repository) and verify every byte against the
//! checksum manifest shipped in `data/manifest.tsv`.
//!
//! Each file is streamed into a temporary file beside its target, hashed on
//! the way, and renamed into place only when size and SHA-256 both match; a
//! failed or interrupted download therefore never leaves a half-written file,
//! and a re-run skips the files that already verify.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// The manifest compiled into the crate (37 circRNA sets + 3 linear sets).
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
    /// There, but different.
    Mismatch {
        /// Size found.
        size: u64,
        /// Checksum found.
        sha256: String,
    },
}

/// Check one entry under `root`.
pub fn check_file(root: &Path, entry: &ManifestEntry) -> Result<FileState> {
    let path = root.join(&entry.path);
    if !path.is_file() {
        return Ok(FileState::Missing);
    }
    let (size, sha256) = sha256_file(&path)?;
    Ok(if size == entry.size && sha256 == entry.sha256 {
        FileState::Verified
    } else {
        FileState::Mismatch { size, sha256 }
    })
}

/// SHA-256 and size of a file.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut r = BufReader::new(File::open(path).map_err(io)?);
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

/// Download every file of `manifest` missing or wrong under `root`.
/// Stops at the first failure; files finished before it stay (verified).
pub fn fetch(root: &Path, manifest: &Manifest, opts: &FetchOptions) -> Result<FetchReport> {
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

fn download_one(
    agent: &ureq::Agent,
    root: &Path,
    e: &ManifestEntry,
    opts: &FetchOptions,
    bar: &ProgressBar,
) -> Result<()> {
    let target: PathBuf = root.join(&e.path);
    let dir = target.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let url = format!("{}/{}", opts.base_url.trim_end_matches('/'), e.path);
    let fail =
        |why: String| DataError::Fetch(format!("{}: download from {url} failed: {why}", e.path));

    let resp = agent.get(&url).call().map_err(|err| match err {
        ureq::Error::Status(code, _) => fail(format!("HTTP status {code}")),
        other => fail(other.to_string()),
    })?;
    // The temporary file is deleted when dropped, so every early return below
    // leaves nothing behind.
    let mut tmp = tempfile::Builder::new()
        .prefix(".circssnn-download-")
        .tempfile_in(dir)
        .map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    let mut body = resp.into_reader();
    let mut hasher = Sha256::new();
    let mut got = 0u64;
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = body.read(&mut buf).map_err(|err| {
            fail(format!(
                "connection broke after {got} of {} bytes: {err}",
                e.size
            ))
        })?;
        if n == 0 {
            break;
        }
        got += n as u64;
        if got > e.size {
            return Err(fail(format!(
                "server sent more than the expected {} bytes",
                e.size
            )));
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(|source| DataError::Io {
            path: tmp.path().to_path_buf(),
            source,
        })?;
        bar.inc(n as u64);
    }
    if got != e.size {
        return Err(fail(format!(
            "got {got} of {} bytes (connection closed early)",
            e.size
        )));
    }
    let sha = format!("{:x}", hasher.finalize());
    if sha != e.sha256 {
        return Err(fail(format!(
            "checksum mismatch: expected sha256 {}, got {sha}; the file was not kept",
            e.sha256
        )));
    }
    tmp.as_file().sync_all().map_err(|source| DataError::Io {
        path: tmp.path().to_path_buf(),
        source,
    })?;
    crate::output::make_readable(tmp.as_file()).map_err(|source| DataError::Io {
        path: tmp.path().to_path_buf(),
        source,
    })?;
    tmp.persist(&target).map_err(|err| DataError::Io {
        path: target.clone(),
        source: err.error,
    })?;
    Ok(())
}
