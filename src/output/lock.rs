//! One process per folder: an exclusive lock on `<folder>/.lock`, holding
//! the holder's pid, host and start time for the message a second process
//! gets.
//!
//! The lock is the operating system's (`flock` on Unix, through
//! [`std::fs::File::try_lock`]): it is released when the holder exits, by a
//! crash or `kill -9` too, so a lock left by a dead process is simply free
//! and the next run takes it over. (Advisory file locks are not reliable on
//! some network file systems; run one process per folder there.)

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// File name of the lock inside a locked folder.
pub const LOCK_FILE: &str = ".lock";

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds it.
    #[error(
        "{dir} is in use by {holder}; wait for that run to finish, or use another folder \
         (two processes writing one folder would mix their files)"
    )]
    Busy {
        /// The folder.
        dir: PathBuf,
        /// `pid N on host H since T`, as the holder wrote it.
        holder: String,
    },
    /// The lock file could not be created or read.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// An exclusive lock on a folder, released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Lock `dir` (created if missing), or fail at once naming the holder.
    ///
    /// ```
    /// use circssnn::output::DirLock;
    /// let dir = tempfile::tempdir().unwrap();
    /// let held = DirLock::acquire(dir.path()).unwrap();
    /// let err = DirLock::acquire(dir.path()).unwrap_err().to_string();
    /// assert!(err.contains("in use by pid"), "{err}");
    /// drop(held);
    /// assert!(DirLock::acquire(dir.path()).is_ok());
    /// ```
    pub fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Busy {
                    dir: dir.to_path_buf(),
                    holder: if holder.is_empty() {
                        "another process".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let me = format!(
            "pid {} on host {} since {}",
            std::process::id(),
            hostname(),
            humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        );
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(me.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(DirLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // The holder line is left empty for the next reader; the OS lock
        // goes with the file handle.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// This machine's name, for the holder line (best effort).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into())
}
