//! `circssnn scan`: flags to models and a [`ScanConfig`], then
//! [`circssnn::scan::scan`].

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use circssnn::scan::{run_models, scan, zoo_models, zoo_networks, Fpr, ScanConfig};

use super::Common;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Full-length transcripts, plain or gzipped FASTA, 5'->3' from the
    /// back-splice junction for circRNAs.
    input: PathBuf,
    /// Output folder: windows.tsv, <rbp>.bedGraph, peaks.bed, report.html.
    #[arg(long)]
    out: PathBuf,
    /// Model zoo folder, with --rbp choosing its models (default: models/zoo
    /// if it holds a zoo.json, else the zoo shipped in data/zoo); a `zoo
    /// multi` folder is a zoo whose models share one network.
    #[arg(long, conflicts_with = "model")]
    zoo: Option<PathBuf>,
    /// Run folders of `circssnn train` instead of a zoo (repeatable); a
    /// multi-task network's folder gives every head.
    #[arg(long)]
    model: Vec<PathBuf>,
    /// RBPs of the zoo, comma-separated, or all.
    #[arg(long = "rbp", value_delimiter = ',', default_value = "all")]
    rbps: Vec<String>,
    /// A window every this many nt.
    #[arg(long, default_value_t = 10)]
    stride: usize,
    /// Linear RNAs: no window wraps from the 3' end into the 5' end.
    #[arg(long)]
    linear: bool,
    /// Peak threshold of zoo models: the probability exceeded by 5 or 1 % of
    /// the model's validation negatives.
    #[arg(long, default_value = "5")]
    fpr: Fpr,
    /// Score with each zoo network alone, not blended with its 1–3-mer
    /// baseline (the zoo's blend weights are chosen on validation; see
    /// `circssnn zoo list`).
    #[arg(long, conflicts_with = "model")]
    network_only: bool,
    /// Peak threshold of --model run folders (they carry no calibration).
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Transcripts drawn in report.html.
    #[arg(long, default_value_t = 10)]
    report_records: usize,
    /// Scan only the first N transcripts (to try settings on a large file).
    #[arg(long, value_name = "N")]
    max_records: Option<usize>,
    /// No progress line.
    #[arg(long)]
    quiet: bool,
}

pub fn run(common: &Common, a: ScanArgs) -> Result<()> {
    if a.stride == 0 {
        bail!("--stride 0: a window every 0 nt is no scan; use 1 or more");
    }
    let models = if a.model.is_empty() {
        let zoo = a.zoo.clone().unwrap_or_else(circssnn::zoo::default_zoo);
        if !a.quiet {
            eprintln!("zoo: {}", zoo.display());
        }
        if a.network_only {
            zoo_networks(&zoo, &a.rbps, a.fpr, common.device)?
        } else {
            zoo_models(&zoo, &a.rbps, a.fpr, common.device)?
        }
    } else {
        run_models(&a.model, a.threshold, common.device)?
    };
    let cfg = ScanConfig {
        stride: a.stride,
        circular: !a.linear,
        report_records: a.report_records,
        progress: !a.quiet,
        max_records: a.max_records,
    };
    let s = scan(&a.input, &models, &cfg, &a.out)?;
    eprintln!(
        "{} transcripts ({} empty, skipped), {} windows x {} models, {} peaks in {:.1} s ({:.0} windows/s, each scored by every model); \
         windows.tsv, peaks.bed, <rbp>.bedGraph, report.html in {}",
        s.records,
        s.empty,
        s.windows,
        models.len(),
        s.peaks,
        s.seconds,
        s.windows as f64 / s.seconds.max(1e-9),
        a.out.display()
    );
    Ok(())
}
