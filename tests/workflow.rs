//! The Snakemake workflow runs the same jobs as `circssnn reproduce`: two
//! tiny jobs on a linear set with `snakemake --cores 2`, collected into the
//! same results CSV and report. Needs snakemake: `bash scripts/test.sh`
//! installs it and sets `$CIRCSSNN_SNAKEMAKE`; plain `cargo test` skips this.

use std::path::Path;
use std::process::Command;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn circssnn(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_circssnn"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs snakemake ($CIRCSSNN_SNAKEMAKE); run by scripts/test.sh"]
fn snakemake_runs_two_jobs_into_the_results_csv() {
    let snakemake =
        std::env::var("CIRCSSNN_SNAKEMAKE").expect("set CIRCSSNN_SNAKEMAKE to a snakemake binary");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (vec, bert, out) = (d.join("vec"), d.join("bert"), d.join("out"));
    circssnn(&[
        "embed",
        "train-vec",
        "--max-windows",
        "3000",
        "--epochs",
        "1",
        "--min-count",
        "2",
        "--quiet",
        "--out",
        s(&vec),
    ]);
    circssnn(&[
        "embed",
        "pretrain-bert",
        "--max-windows",
        "1000",
        "--steps",
        "2",
        "--batch",
        "4",
        "--warmup",
        "1",
        "--quiet",
        "--out",
        s(&bert),
    ]);
    let reproduce = format!(
        "--suite lin31 --rbp 28_ICLIP_TIA1_hg19 --max-per-set 600 --experiments main --vec-model {} --bert-model {} --out {}",
        s(&vec),
        s(&bert),
        s(&out)
    );
    let status = Command::new(snakemake)
        .args([
            "-s",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflow/Snakefile"),
            "--cores",
            "2",
            "--quiet",
            "--config",
        ])
        .arg(format!("circssnn={}", env!("CARGO_BIN_EXE_circssnn")))
        .arg(format!("reproduce={reproduce}"))
        .env("CIRCSSNN_CACHE", d.join("cache"))
        .current_dir(d)
        .status()
        .unwrap();
    assert!(status.success(), "snakemake failed");
    let rows = circssnn::train::results::read_rows(&out.join("results.csv")).unwrap();
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}-{}", r.suite, r.experiment, r.variant))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "lin31/ablation-knfp",
            "lin31/main-baseline",
            "lin31/main-fusion"
        ]
    );
    assert!(rows.iter().all(|r| (0.0..=1.0).contains(&r.auc)));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("Table 2"), "{report}");
    // Everything is done: a second snakemake run has nothing to do.
    let again = Command::new(std::env::var("CIRCSSNN_SNAKEMAKE").unwrap())
        .args([
            "-s",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflow/Snakefile"),
            "--cores",
            "2",
            "--dry-run",
            "--config",
        ])
        .arg(format!("circssnn={}", env!("CARGO_BIN_EXE_circssnn")))
        .arg(format!("reproduce={reproduce}"))
        .current_dir(d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("Nothing to be done"), "{text}");
}
