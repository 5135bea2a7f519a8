//! Bad input gives a precise error naming file and record, never a panic or
//! a silently wrong answer — through the library and through the binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use circssnn::data::fasta::read_records;
use circssnn::data::{Dataset, LengthPolicy, Registry};
use circssnn::DataError;

const W: &str = "ACGUACGUAC"; // 10 nt

fn window() -> String {
    W.repeat(10) + "A" // 101 nt
}

fn write(path: &Path, text: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2_encoder();
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

// flate2 is needletail's gzip backend; reuse it through needletail's re-export-free path.
fn flate2_encoder() -> flate2::write::GzEncoder<Vec<u8>> {
    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default())
}

/// Scan `root` and load `set` strictly.
fn load_set(root: &Path, set: &str) -> Result<Dataset, DataError> {
    Registry::scan(root)?.get(set)?.load(LengthPolicy::STRICT)
}

/// A data root with one circular set (`SET`) whose files are given.
fn circ_root(pos: &[u8], neg: Option<&[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("circRNA-RBP/SET");
    write(&set.join("positive"), pos);
    if let Some(neg) = neg {
        write(&set.join("negative"), neg);
    }
    let root = dir.path().to_path_buf();
    (dir, root)
}

fn cli(root: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_circssnn"))
        .arg("--data-dir")
        .arg(root)
        .args(args)
        .env_remove("CIRCSSNN_DATA")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("panicked"),
        "the binary panicked: {stderr}"
    );
    (out.status.success(), stderr)
}

#[test]
fn accepts_lower_case_t_multiline_and_iupac() {
    let seq = window().to_lowercase().replace('u', "t");
    let text = format!(
        ">r1 desc\n{}\n{}\n>r2\n{}R{}\n",
        &seq[..60],
        &seq[60..],
        &window()[..50],
        &window()[51..]
    );
    let (_d, root) = circ_root(
        text.as_bytes(),
        Some(format!(">n1\n{}\n", window()).as_bytes()),
    );
    let ds = load_set(&root, "set").unwrap();
    assert_eq!(
        ds.records[0].seq,
        window().as_bytes(),
        "T read as U, case folded, lines joined"
    );
    assert_eq!(ds.records[0].id, "r1");
    assert_eq!(ds.records[1].seq[50], b'N', "IUPAC R collapses to N");
    assert_eq!(ds.labels, vec![1, 1, 0]);
}

#[test]
fn unknown_base_names_file_record_and_position() {
    let text = format!(
        ">ok\n{}\n>bad\n{}X{}\n",
        window(),
        &window()[..4],
        &window()[5..]
    );
    let (_d, root) = circ_root(text.as_bytes(), Some(b">n\nACGU\n"));
    let path = root.join("circRNA-RBP/SET/positive");
    match read_records(&path, LengthPolicy::STRICT) {
        Err(DataError::UnknownBase {
            record: 2,
            position: 5,
            ref base,
            ref id,
            ..
        }) => assert_eq!((id.as_str(), base.as_str()), ("bad", "'X'")),
        other => panic!("expected UnknownBase, got {other:?}"),
    }
    let (ok, err) = cli(&root, &["data", "stats"]);
    assert!(!ok);
    assert!(
        err.contains("positive") && err.contains("record 2") && err.contains("'X'"),
        "{err}"
    );
}

#[test]
fn wrong_length_is_refused_unless_pad_or_trim() {
    let short = &window()[..90];
    let long = window() + "GGGG";
    let text = format!(">s\n{short}\n>l\n{long}\n");
    let (_d, root) = circ_root(
        text.as_bytes(),
        Some(format!(">n\n{}\n", window()).as_bytes()),
    );
    let path = root.join("circRNA-RBP/SET/positive");
    assert!(matches!(
        read_records(&path, LengthPolicy::STRICT),
        Err(DataError::WrongLength {
            record: 1,
            len: 90,
            expected: 101,
            ..
        })
    ));
    let pad_only = LengthPolicy {
        pad: true,
        trim: false,
    };
    assert!(matches!(
        read_records(&path, pad_only),
        Err(DataError::WrongLength {
            record: 2,
            len: 105,
            ..
        })
    ));
    let both = LengthPolicy {
        pad: true,
        trim: true,
    };
    let recs = read_records(&path, both).unwrap();
    assert!(recs.iter().all(|r| r.seq.len() == 101));
    assert_eq!(
        &recs[0].seq[..5],
        b"NNNNN",
        "short window padded on both sides"
    );
    assert_eq!(
        &recs[1].seq[..],
        &long.as_bytes()[2..103],
        "long window keeps its centre"
    );

    let (ok, err) = cli(&root, &["data", "stats"]);
    assert!(
        !ok && err.contains("record 1") && err.contains("--pad"),
        "{err}"
    );
    let (ok, err) = cli(&root, &["--pad", "--trim", "data", "stats"]);
    assert!(ok, "{err}");
}

#[test]
fn empty_file_and_missing_negative() {
    let (_d, root) = circ_root(b"", Some(b">n\nACGU\n"));
    let path = root.join("circRNA-RBP/SET/positive");
    assert!(matches!(
        read_records(&path, LengthPolicy::STRICT),
        Err(DataError::Empty { .. })
    ));

    let (_d2, root2) = circ_root(format!(">p\n{}\n", window()).as_bytes(), None);
    let err = load_set(&root2, "SET").unwrap_err();
    assert!(
        matches!(
            err,
            DataError::MissingFile {
                what: "negative",
                ..
            }
        ),
        "{err}"
    );
    let (ok, msg) = cli(&root2, &["data", "stats"]);
    assert!(!ok && msg.contains("missing negative"), "{msg}");
    let (ok, msg) = cli(&root2, &["data", "list"]);
    assert!(ok && !msg.contains("panicked"));
}

#[test]
fn not_fasta_at_all() {
    let (_d, root) = circ_root(b"this is not a FASTA file\n", Some(b">n\nACGU\n"));
    let path = root.join("circRNA-RBP/SET/positive");
    let err = read_records(&path, LengthPolicy::STRICT).unwrap_err();
    assert!(matches!(err, DataError::Parse { record: 1, .. }), "{err}");
}

/// A linear-RNA data root with the given training file bytes.
fn lin_root(train: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("linRNA-RBP/clip/9_TEST_hg19/5000");
    write(&base.join("training_sample_0/sequences.fa.gz"), train);
    let w = window();
    write(
        &base.join("test_sample_0/sequences.fa.gz"),
        &gzip(&format!(
            "> chr1,+,1,101; class:1\n{}\n{}\n> chr1,+,2,102; class:0\n{}\n",
            &w[..60],
            &w[60..],
            "N".repeat(101)
        )),
    );
    let root = dir.path().to_path_buf();
    (dir, root)
}

#[test]
fn linear_labels_from_headers_and_missing_class() {
    let w = window();
    let (_d, root) = lin_root(&gzip(&format!(
        "> chr2,-,5,105; class:0\n{w}\n> chr3,+,7,107; class:1\n{w}\n"
    )));
    let ds = load_set(&root, "9_TEST_hg19").unwrap();
    assert_eq!(ds.labels, vec![0, 1, 1, 0]);
    assert_eq!(ds.test_start, Some(2));
    assert_eq!(ds.records[0].id, "chr2,-,5,105");
    assert!(
        ds.records[3].seq.iter().all(|&b| b == b'N'),
        "all-N window accepted"
    );

    let (_d, root) = lin_root(&gzip(&format!(
        "> chr2,-,5,105; class:0\n{w}\n> chr3,+,7,107\n{w}\n"
    )));
    let err = load_set(&root, "9_TEST_hg19").unwrap_err();
    assert!(
        matches!(err, DataError::MissingLabel { record: 2, .. }),
        "{err}"
    );
    let (ok, msg) = cli(&root, &["data", "stats"]);
    assert!(
        !ok && msg.contains("record 2") && msg.contains("class:"),
        "{msg}"
    );
}

#[test]
fn corrupt_and_truncated_gzip() {
    let w = window();
    let text: String = (0..200)
        .map(|i| format!("> chr1,+,{i},{}; class:{}\n{w}\n", i + 100, i % 2))
        .collect();
    let good = gzip(&text);

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    for b in &mut flipped[mid..mid + 16] {
        *b ^= 0x5a;
    }
    let (_d, root) = lin_root(&flipped);
    let err = load_set(&root, "9_TEST_hg19").unwrap_err();
    assert!(
        err.to_string()
            .contains("training_sample_0/sequences.fa.gz"),
        "{err}"
    );
    let (ok, msg) = cli(&root, &["data", "stats"]);
    assert!(!ok && msg.contains("sequences.fa.gz"), "{msg}");

    let truncated = &good[..good.len() / 2];
    let (_d, root) = lin_root(truncated);
    let err = load_set(&root, "9_TEST_hg19").unwrap_err();
    assert!(
        matches!(err, DataError::Parse { .. }),
        "truncated gzip must be an error, got {err}"
    );

    let (_d, root) = lin_root(&good[..12]);
    let err = load_set(&root, "9_TEST_hg19").unwrap_err();
    assert!(
        matches!(err, DataError::Parse { .. }),
        "gzip header only: {err}"
    );
}

#[test]
fn unknown_set_and_missing_root() {
    let (_d, root) = circ_root(b">p\nACGU\n", Some(b">n\nACGU\n"));
    let (ok, msg) = cli(&root, &["baseline", "--rbp", "NOPE"]);
    assert!(!ok && msg.contains("NOPE") && msg.contains("SET"), "{msg}");
    let (ok, msg) = cli(Path::new("/nonexistent/circssnn"), &["data", "list"]);
    assert!(
        !ok && msg.contains("/nonexistent/circssnn")
            && msg.contains("data/benchmark")
            && msg.contains("data fetch"),
        "{msg}"
    );
}
