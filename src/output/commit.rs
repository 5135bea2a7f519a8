//! Several files of one folder replaced as a unit, with a journal.
//!
//! A training epoch writes five files (`last.safetensors`, `last.json`,
//! `best.safetensors`, `best.json`, `state.json`); renamed one by one, a kill
//! between two renames left epoch-2 weights beside an epoch-1 state, and a
//! resume silently trained epoch 2 again. Here every new file is first
//! written beside its target under a staging name, then a journal naming
//! them is written (atomically: that is the commit), then the staged files
//! are renamed into place and the journal removed. After a kill at any
//! moment, [`recover`] either finishes the renames (the journal exists: the
//! new set was committed) or deletes the staged files (no journal: it never
//! was), so a reader sees the old set or the new set, never a mix.
//!
//! Hand-written because no crate does this for a handful of files in one
//! folder (the atomic-write crates stop at one file); it is a journal, a
//! rename loop and its recovery.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{write_atomic, TEMP_PREFIX};

/// The journal of a commit in progress.
pub const JOURNAL: &str = ".circssnn.commit";
const STAGE: &str = "stage-";

/// Why a commit or its recovery failed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct CommitError {
    /// File concerned.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

fn staged(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{TEMP_PREFIX}{STAGE}{name}"))
}

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> CommitError + '_ {
    move |source| CommitError {
        path: path.to_path_buf(),
        source,
    }
}

/// Replace the files `files` (name, contents) of `dir` as one unit. The
/// caller holds the folder's [`DirLock`](super::DirLock).
///
/// ```
/// use circssnn::output::commit_files;
/// let dir = tempfile::tempdir().unwrap();
/// commit_files(dir.path(), &[("a.txt", b"1".to_vec()), ("b.txt", b"1".to_vec())]).unwrap();
/// commit_files(dir.path(), &[("a.txt", b"2".to_vec()), ("b.txt", b"2".to_vec())]).unwrap();
/// assert_eq!(std::fs::read(dir.path().join("b.txt")).unwrap(), b"2");
/// ```
pub fn commit_files<N: AsRef<str>>(dir: &Path, files: &[(N, Vec<u8>)]) -> Result<(), CommitError> {
    recover(dir, true)?;
    for (name, bytes) in files {
        let name = name.as_ref();
        debug_assert!(
            !name.contains('/') && !name.contains('\n'),
            "a plain file name"
        );
        let path = staged(dir, name);
        let mut f = std::fs::File::create(&path).map_err(err(&path))?;
        f.write_all(bytes).map_err(err(&path))?;
        f.sync_all().map_err(err(&path))?;
        super::make_readable(&f).map_err(err(&path))?;
    }
    let journal = dir.join(JOURNAL);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_ref()).collect();
    // The commit point: once the journal exists, the new set is the truth.
    write_atomic(&journal, |w| writeln!(w, "{}", names.join("\n"))).map_err(err(&journal))?;
    finish(dir, &names)
}

/// Rename the staged files named in the journal into place, then drop the
/// journal. Files already renamed (by an earlier, interrupted recovery) are
/// skipped.
fn finish(dir: &Path, names: &[&str]) -> Result<(), CommitError> {
    for name in names {
        let from = staged(dir, name);
        match std::fs::rename(&from, dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(&from)(e)),
        }
    }
    let journal = dir.join(JOURNAL);
    match std::fs::remove_file(&journal) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(err(&journal)(e)),
    }
}

/// Bring `dir` to a committed state after an interrupted [`commit_files`]:
/// finish a commit whose journal exists; with `roll_back` (only the holder
/// of the folder's lock may), also delete staged files that were never
/// committed. Returns whether anything was done.
pub fn recover(dir: &Path, roll_back: bool) -> Result<bool, CommitError> {
    let journal = dir.join(JOURNAL);
    match std::fs::read_to_string(&journal) {
        Ok(text) => {
            let names: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
            finish(dir, &names)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !roll_back {
                return Ok(false);
            }
            let prefix = format!("{TEMP_PREFIX}{STAGE}");
            let mut any = false;
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(err(dir)(e)),
            };
            for e in entries {
                let e = e.map_err(err(dir))?;
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    std::fs::remove_file(e.path()).map_err(err(&e.path()))?;
                    any = true;
                }
            }
            Ok(any)
        }
        Err(e) => Err(err(&journal)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    #[test]
    fn a_kill_before_the_journal_rolls_back_after_it_rolls_forward() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        commit_files(d, &[("a", b"old".to_vec()), ("b", b"old".to_vec())]).unwrap();

        // Killed while staging: no journal, so the old set stays.
        std::fs::write(staged(d, "a"), "new").unwrap();
        assert!(!recover(d, false).unwrap(), "a reader never rolls back");
        assert!(recover(d, true).unwrap());
        assert!(!staged(d, "a").exists());
        assert_eq!((read(d, "a"), read(d, "b")), ("old".into(), "old".into()));

        // Killed after the journal and one rename: the new set is finished.
        std::fs::write(staged(d, "a"), "new").unwrap();
        std::fs::write(staged(d, "b"), "new").unwrap();
        std::fs::write(d.join(JOURNAL), "a\nb\n").unwrap();
        std::fs::rename(staged(d, "a"), d.join("a")).unwrap();
        assert_eq!((read(d, "a"), read(d, "b")), ("new".into(), "old".into()));
        assert!(
            recover(d, false).unwrap(),
            "a reader finishes a committed set"
        );
        assert_eq!((read(d, "a"), read(d, "b")), ("new".into(), "new".into()));
        assert!(!d.join(JOURNAL).exists());
    }
}
