//! The whole product on a real small set, through the binary: `train` (KNFP
//! only, 3 epochs) must beat the 1-3-mer logistic baseline on the same split,
//! `evaluate` must reproduce the reported test AUC from the checkpoint, and
//! `predict` must score a FASTA file.

use std::path::Path;
use std::process::Command;

use circssnn::baseline::{run_baseline, BaselineConfig};
use circssnn::data::{default_root, split, LengthPolicy, Registry};

fn circssnn(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_circssnn"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "circssnn {args:?} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn train_beats_baseline_then_evaluate_and_predict() {
    let root = default_root();
    let ds = Registry::scan(&root)
        .expect("set CIRCSSNN_DATA")
        .get("TAF15")
        .unwrap()
        .load(LengthPolicy::STRICT)
        .unwrap();
    let sp = split::stratified(&ds.labels, &Default::default());
    let baseline = run_baseline(&ds, &sp, &BaselineConfig::default())
        .unwrap()
        .test
        .auc;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    circssnn(&[
        "train", "--rbp", "TAF15", "--views", "knfp", "--epochs", "3", "--quiet", "--out", out_s,
    ]);
    let m = json(&out.join("metrics.json"));
    let auc = m["test"]["auc"].as_f64().unwrap();
    // Measured: 0.973 against the baseline's 0.834 (seed 4).
    assert!(
        auc > baseline + 0.05,
        "CircSSNN test AUC {auc} vs baseline {baseline}"
    );
    assert_eq!(
        m["n_test"].as_u64().unwrap() as usize,
        sp.test.len(),
        "same split as the baseline"
    );
    assert!(m["published_protocol"]["auc"].as_f64().unwrap() > 0.5);
    let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 4, "header + 3 epochs:\n{history}");

    // evaluate reloads the best checkpoint and scores the same test part.
    let text = circssnn(&["evaluate", "--model", out_s]);
    assert!(
        text.contains(&format!("AUC {auc:.4}")),
        "evaluate printed {text}, train reported {auc:.4}"
    );

    // predict scores a FASTA file (lower case, T, wrapped lines) of real windows.
    let fasta = dir.path().join("query.fa");
    let mut q = String::new();
    for r in ds.records.iter().take(3) {
        let s = String::from_utf8_lossy(&r.seq)
            .replace('U', "t")
            .to_lowercase();
        q.push_str(&format!(">{}\n{}\n{}\n", r.id, &s[..60], &s[60..]));
    }
    std::fs::write(&fasta, q).unwrap();
    let csv = circssnn(&["predict", "--model", out_s, fasta.to_str().unwrap()]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,probability");
    assert_eq!(lines.len(), 4);
    for (line, r) in lines[1..].iter().zip(&ds.records) {
        let (id, p) = line.split_once(',').unwrap();
        assert_eq!(id, r.id);
        let p: f64 = p.parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }

    // A wrong-length window is refused with the record named, exit non-zero.
    std::fs::write(&fasta, ">short\nACGU\n").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_circssnn"))
        .args(["predict", "--model", out_s, fasta.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("record 1 (short): length 4"));
}
