//! The Snakemake workflow runs the same jobs as `circssnn reproduce`: two
//! tiny jobs on a linear set with `snakemake --cores 2`, collected into the
//! same results CSV and report. Needs snakemake: `bash scripts/test.sh`
//! installs it and sets `$CIRCSSNN_SNAKEMAKE`; plain `cargo test` skips this.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{s, tiny_descriptors};

/// `snakemake -s workflow/Snakefile --cores 2 EXTRA --config ...` in `dir`.
fn snakemake(dir: &Path, extra: &[&str], reproduce: &str) -> Output {
    let bin =
        std::env::var("CIRCSSNN_SNAKEMAKE").expect("set CIRCSSNN_SNAKEMAKE to a snakemake binary");
    Command::new(bin)
        .args([
            "-s",
            concat!(env!("CARGO_MANIFEST_DIR"), "/workflow/Snakefile"),
            "--cores",
            "2",
        ])
        .args(extra)
        .arg("--config")
        .arg(format!("circssnn={}", env!("CARGO_BIN_EXE_circssnn")))
        .arg(format!("reproduce={reproduce}"))
        .env("CIRCSSNN_CACHE", dir.join("cache"))
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs snakemake ($CIRCSSNN_SNAKEMAKE); run by scripts/test.sh"]
fn snakemake_runs_two_jobs_into_the_results_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (vec, bert) = tiny_descriptors(d);
    let out = d.join("out");
    let reproduce = format!(
        "--suite lin31 --rbp 28_ICLIP_TIA1_hg19 --max-per-set 600 --experiments main --vec-model {} --bert-model {} --out {}",
        s(&vec),
        s(&bert),
        s(&out)
    );
    let run = snakemake(d, &["--quiet"], &reproduce);
    assert!(
        run.status.success(),
        "snakemake failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let rows = circssnn::train::results::read_rows(&out.join("results.csv")).unwrap();
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}/{}-{}",
                r.suite.unwrap(),
                r.experiment.unwrap(),
                r.variant
            )
        })
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
    assert!(
        rows.iter().all(|r| (0.0..=1.0).contains(&r.auc)),
        "{rows:?}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("Table 2"), "{report}");

    // Everything is done: a second run has nothing to do.
    let again = snakemake(d, &["--dry-run"], &reproduce);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("Nothing to be done"), "{text}");
}
