//! The findings of a hostile-user pass (issue 21), each pinned: two runs on
//! one folder, options that make no sense, late failures, broken pipes,
//! parser errors without a reason, leftovers, doubled OS errors, unreadable
//! bytes, ambiguous prediction ids, damaged run state, and a training run
//! killed at seeded random moments that must always resume and evaluate
//! consistently.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use circssnn::output::DirLock;
use common::{command, fails, ok, s};
use rand::{Rng, SeedableRng};

/// A quick training run's flags: WTAP, 300 windows, KNFP.
fn quick(out: &Path, epochs: &str) -> Vec<String> {
    [
        "train",
        "--rbp",
        "WTAP",
        "--max-per-set",
        "300",
        "--epochs",
        epochs,
        "--quiet",
        "--out",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([s(out).to_string()])
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_second_process_on_a_run_folder_stops_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let held = DirLock::acquire(&out).unwrap();
    let args = quick(&out, "1");
    let err = fails(&strs(&args));
    assert!(
        err.contains("in use by pid") && err.contains(&std::process::id().to_string()),
        "{err}"
    );
    assert!(
        !out.join("state.json").exists(),
        "the second run wrote nothing"
    );
    drop(held);
    // The lock of a process that is gone is free again.
    ok(&strs(&args));
}

#[test]
fn options_that_make_no_sense_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for (flags, says) in [
        (vec!["--lr", "1e10"], "--lr 10000000000"),
        (vec!["--lr", "0"], "--lr 0"),
        (vec!["--lr=-1"], "--lr -1"),
        (vec!["--lr-step", "0"], "--lr-step 0"),
        (vec!["--epochs", "0"], "--epochs 0"),
        (vec!["--views", "knfp,knfp"], "named twice"),
        (vec!["--depth", "3"], "--depth 3"),
        (vec!["--patience", "0"], "--patience 0"),
    ] {
        let mut args = vec!["train", "--rbp", "WTAP", "--out", s(&out)];
        args.extend(flags);
        let err = fails(&args);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} created the run folder");
    }
    // --out naming a file fails at once, not after an epoch.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let t = std::time::Instant::now();
    let err = fails(&["train", "--rbp", "WTAP", "--out", s(&file)]);
    assert!(err.contains("is a file"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let mut child = command(&["reproduce", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then dropped: the pipe closes
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(13),
            "ended by SIGPIPE, as Unix tools are"
        );
    }
}

/// A circRNA data root whose set `S` has `positive` as given.
fn root_with(positive: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("circRNA-RBP/S");
    std::fs::create_dir_all(&set).unwrap();
    let w = "ACGU".repeat(25) + "A";
    std::fs::write(set.join("negative"), format!(">n\n{w}\n")).unwrap();
    std::fs::write(set.join("positive"), positive).unwrap();
    dir
}

#[test]
fn every_parser_error_says_what_is_wrong() {
    let w = "ACGU".repeat(25) + "A";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b">only a header\n".to_vec(),
            "malformed FASTA: the input ends inside a record",
        ),
        (
            format!(">a\n{w}\n>\n").into_bytes(),
            "record 2: malformed FASTA: the input ends",
        ),
        (
            format!(">a\r{w}\r>b\r{w}\r").into_bytes(),
            "bare carriage return",
        ),
        (
            format!("@a\n{w}\n+\nIII\n").into_bytes(),
            "malformed FASTQ: Sequence length is 101",
        ),
        (format!("@a\n{w}\n-\n").into_bytes(), "malformed FASTQ"),
        (
            b"hello\n".to_vec(),
            "malformed FASTA/FASTQ: Expected '@' or '>'",
        ),
    ];
    for (bytes, says) in cases {
        let root = root_with(&bytes);
        let err = fails(&["--data-dir", s(root.path()), "data", "stats", "--rbp", "S"]);
        assert!(err.contains(says), "{says}: {err}");
        assert!(
            !err.trim_end().ends_with(':'),
            "a reason after the colon: {err}"
        );
    }
    // A non-ASCII byte is shown as its value, not as a mangled letter.
    let mut bytes = format!(">a\n{}", &w[..50]).into_bytes();
    bytes.extend([0xC3, 0xA9]);
    bytes.extend(format!("{}\n", &w[51..]).into_bytes());
    let root = root_with(&bytes);
    let err = fails(&["--data-dir", s(root.path()), "data", "stats", "--rbp", "S"]);
    assert!(err.contains("byte 0xC3") && !err.contains('Ã'), "{err}");
}

#[test]
fn os_errors_are_said_once_and_predict_ids_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(&strs(&quick(&out, "1")));
    let err = fails(&["predict", "--model", s(&out), s(dir.path())]);
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    // Two records with the same header id get different record numbers.
    let w = "ACGU".repeat(25) + "A";
    let fasta = dir.path().join("twice.fa");
    std::fs::write(&fasta, format!(">same x\n{w}\n>same y\n{w}\n")).unwrap();
    let (csv, _) = ok(&["predict", "--model", s(&out), s(&fasta)]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "record,id,probability");
    assert!(
        rows[1].starts_with("1,same,") && rows[2].starts_with("2,same,"),
        "{csv}"
    );
}

#[test]
fn damaged_run_state_and_leftovers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(&strs(&quick(&out, "1")));
    // A best epoch beyond the history is refused before any training.
    let state = out.join("state.json");
    let text = std::fs::read_to_string(&state).unwrap();
    let good = text.clone();
    std::fs::write(
        &state,
        text.replace("\"best_epoch\": 1", "\"best_epoch\": 7"),
    )
    .unwrap();
    let mut args = quick(&out, "2");
    args.push("--resume".into());
    let err = fails(&strs(&args));
    assert!(err.contains("does not fit its history"), "{err}");
    // Temporary files of a killed process are removed when the folder is taken.
    std::fs::write(&state, good).unwrap();
    let stale = out.join(".circssnn-stage-last.safetensors");
    std::fs::write(&stale, "junk").unwrap();
    ok(&strs(&args));
    assert!(!stale.exists());
}

/// Kill `train` at seeded random moments; after each kill the folder is a
/// consistent run (`evaluate` loads it, and `--resume` continues it) until
/// the run finishes with all its epochs.
#[test]
fn a_run_killed_at_random_moments_always_resumes_consistently() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let epochs = 3;
    // All of WTAP (10 steps an epoch): long enough for kills to land mid-run.
    let mut args: Vec<String> = [
        "train",
        "--rbp",
        "WTAP",
        "--quiet",
        "--epochs",
        "3",
        "--out",
        s(&out),
    ]
    .map(String::from)
    .to_vec();
    let mut kills = 0;
    for round in 0..8 {
        if round > 0 && out.join("state.json").exists() && !args.contains(&"--resume".to_string()) {
            args.push("--resume".into());
        }
        let mut child = command(&strs(&args))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let wait = Duration::from_millis(rng.gen_range(300..3000));
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            break; // finished before the kill
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        if out.join("state.json").exists() {
            let (text, _) = ok(&["evaluate", "--model", s(&out)]);
            assert!(text.contains("AUC"), "after kill {kills}: {text}");
        }
    }
    if !out.join("metrics.json").exists() {
        if !args.contains(&"--resume".to_string()) {
            args.push("--resume".into());
        }
        ok(&strs(&args));
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("state.json")).unwrap()).unwrap();
    let history = state["history"].as_array().unwrap();
    assert_eq!(history.len(), epochs, "every epoch exactly once");
    for (i, r) in history.iter().enumerate() {
        assert_eq!(r["epoch"].as_u64().unwrap() as usize, i + 1);
    }
    let last: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("last.json")).unwrap()).unwrap();
    assert_eq!(last["epoch"].as_u64().unwrap() as usize, epochs);
    assert!(kills >= 2, "only {kills} kills landed; the test needs more");
}
