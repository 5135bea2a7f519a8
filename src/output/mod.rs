//! Writing result files safely:
//!
//! * one file atomically ([`write_atomic`]): into a temporary file in the
//!   target's folder, then renamed over the target, so a crash or a full
//!   disk never leaves a half-written CSV or checkpoint where a good one was
//!   expected;
//! * several files as one unit ([`commit`]): a reader sees the old set or
//!   the new set, never a mix, whatever moment a process is killed;
//! * one process per folder ([`lock`]): a second run on the same run,
//!   reproduction or cache folder stops with the holder's name.

pub mod commit;
pub mod lock;

pub use commit::{commit_files, recover, CommitError};
pub use lock::{DirLock, LockError};

use std::io::Write;
use std::path::Path;

/// Prefix of every temporary file the crate writes beside its targets;
/// [`remove_leftovers`] deletes the ones a killed process left.
pub const TEMP_PREFIX: &str = ".circssnn-";

/// Write `path` atomically with the bytes `write` produces.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("x.csv");
/// circssnn::output::write_atomic(&p, |w| writeln!(w, "a,b")).unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "a,b\n");
/// ```
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    make_readable(tmp.as_file())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Write `rows` as a CSV with a header row, atomically.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Row { set: &'static str, auc: f64 }
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("auc.csv");
/// circssnn::output::write_csv_atomic(&p, &[Row { set: "QKI", auc: 0.9 }]).unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "set,auc\nQKI,0.9\n");
/// ```
pub fn write_csv_atomic<T: serde::Serialize>(path: &Path, rows: &[T]) -> std::io::Result<()> {
    write_atomic(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        for r in rows {
            c.serialize(r).map_err(std::io::Error::other)?;
        }
        c.flush()
    })
}

/// Temporary files are created owner-only (0600); results are for sharing.
pub(crate) fn make_readable(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Delete the temporary files (`.circssnn-*`) a killed process left in
/// `dir` (not below it). Call it only while holding the folder's lock, so no
/// live writer's file is removed. Returns how many were removed.
pub fn remove_leftovers(dir: &Path) -> std::io::Result<usize> {
    // A committed set's staged files are finished first, not deleted.
    commit::recover(dir, true).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut n = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for e in entries {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) && e.file_type()?.is_file() {
            std::fs::remove_file(e.path())?;
            n += 1;
        }
    }
    Ok(n)
}
