//! The wall time of a reproduction that ran as several invocations.
//!
//! A reproduction on CPU takes longer than one sitting and resumes where it
//! was killed, so no single process sees its whole wall time, and the sum of
//! per-job seconds in the results rows counts parallel jobs twice. Each
//! invocation of `circssnn reproduce` therefore keeps one row in
//! `invocations.csv` beside the results, rewritten while it runs; the sum
//! of those rows is the reproduction's wall time, short by at most one
//! update interval for an invocation that was killed.

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::train::results::{read_csv, write_csv};
use crate::train::TrainError;

/// One invocation of `circssnn reproduce` that ran tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// When it started, RFC 3339 UTC to the second.
    pub started: String,
    /// Wall seconds from its start to its last update.
    pub seconds: f64,
    /// Tasks (training jobs and descriptor models) it finished.
    pub tasks_done: usize,
    /// Its `circssnn` build.
    pub git_rev: String,
}

impl Invocation {
    /// An invocation starting now, nothing done yet.
    pub fn starting_now(git_rev: &str) -> Self {
        Invocation {
            started: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            seconds: 0.0,
            tasks_done: 0,
            git_rev: git_rev.to_string(),
        }
    }
}

/// The invocations recorded in `path`; none if it does not exist.
pub fn read_invocations(path: &Path) -> Result<Vec<Invocation>, TrainError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    read_csv(path)
}

/// Write `invocations` to `path`, atomically.
pub fn write_invocations(path: &Path, invocations: &[Invocation]) -> Result<(), TrainError> {
    write_csv(path, invocations)
}

/// One Markdown sentence: total wall time, over how many invocations.
///
/// ```
/// use circssnn::reproduce::wall_time::{summary, Invocation};
/// let run = |s: f64| Invocation { started: "2026-11-29T10:00:00Z".into(),
///     seconds: s, tasks_done: 3, git_rev: "abc".into() };
/// assert_eq!(summary(&[run(5400.0), run(1800.0)]),
///     "Wall time: 2.0 h over 2 invocations (6 tasks), from 2026-11-29T10:00:00Z.");
/// ```
pub fn summary(invocations: &[Invocation]) -> String {
    // A fold from +0.0: `Sum` of no f64 is -0.0, printed "-0.0 h".
    let seconds = invocations.iter().fold(0.0, |s, i| s + i.seconds);
    let tasks: usize = invocations.iter().map(|i| i.tasks_done).sum();
    let first = invocations
        .iter()
        .map(|i| i.started.as_str())
        .min()
        .unwrap_or("–");
    format!(
        "Wall time: {:.1} h over {} invocation{} ({tasks} tasks), from {first}.",
        seconds / 3600.0,
        invocations.len(),
        if invocations.len() == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("invocations.csv");
        assert!(read_invocations(&path).unwrap().is_empty());
        let mut a = Invocation::starting_now("0123abcd");
        a.seconds = 61.5;
        a.tasks_done = 2;
        let b = Invocation {
            started: "2026-11-30T02:22:00Z".into(),
            seconds: 7200.0,
            tasks_done: 40,
            git_rev: "4567ef".into(),
        };
        write_invocations(&path, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(read_invocations(&path).unwrap(), vec![a.clone(), b]);
        // RFC 3339 to the second, in UTC.
        assert_eq!(a.started.len(), "2026-11-30T02:22:00Z".len());
        assert!(a.started.ends_with('Z'));
    }

    #[test]
    fn a_corrupt_file_names_itself_and_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("invocations.csv");
        std::fs::write(
            &path,
            "started,seconds,tasks_done,git_rev\nx,not-a-number,1,r\n",
        )
        .unwrap();
        let e = read_invocations(&path).unwrap_err().to_string();
        assert!(e.contains("invocations.csv") && e.contains("row 1"), "{e}");
    }

    #[test]
    fn summary_of_nothing() {
        assert_eq!(
            summary(&[]),
            "Wall time: 0.0 h over 0 invocations (0 tasks), from –."
        );
    }
}
