use anyhow::{bail, Result};
use clap::Subcommand;
use rayon::prelude::*;

use circssnn::data::fetch::{
    check_file, fetch, FetchOptions, FileState, Manifest, DEFAULT_BASE_URL,
};
use circssnn::data::stats::benchmark_stats;
use circssnn::data::{Registry, SetKind};

use super::Common;

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Every set under the data root, with its files and whether they are complete.
    List,
    /// Per-set counts, lengths, GC per class, duplicates and negative sources.
    Stats {
        /// Only these sets (default: all).
        #[arg(long = "rbp")]
        sets: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Download the benchmark into the data root and verify every file (files
    /// already there, plain or gzipped, are kept: the shipped data/benchmark
    /// verifies as complete; `--data-dir DIR` downloads a fresh copy into DIR).
    Fetch {
        /// Where the files are served (the path of each file is appended).
        #[arg(long, default_value = DEFAULT_BASE_URL)]
        base_url: String,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Check the files under the data root against the shipped checksums.
    Verify,
}

pub fn run(common: &Common, cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::List => list(common),
        DataCommand::Stats { sets, json } => stats(common, &sets, json),
        DataCommand::Fetch { base_url, quiet } => {
            let manifest = Manifest::shipped();
            eprintln!(
                "fetching {} files ({:.1} MB) from {base_url} into {}",
                manifest.entries.len(),
                manifest.total_bytes() as f64 / 1e6,
                common.data_dir.display()
            );
            let opts = FetchOptions {
                base_url,
                progress: !quiet,
                ..Default::default()
            };
            let r = fetch(&common.data_dir, &manifest, &opts)?;
            println!(
                "{} files downloaded ({:.1} MB), {} already present; all {} verified",
                r.downloaded,
                r.bytes as f64 / 1e6,
                r.already_present,
                manifest.entries.len()
            );
            Ok(())
        }
        DataCommand::Verify => {
            let manifest = Manifest::shipped();
            let states: Vec<_> = manifest
                .entries
                .par_iter()
                .map(|e| check_file(&common.data_dir, e).map(|s| (e, s)))
                .collect::<Result<_, _>>()?;
            let bad: Vec<_> = states
                .iter()
                .filter(|(_, s)| *s != FileState::Verified)
                .collect();
            for (e, s) in &bad {
                println!("{}: {s}", e.path);
            }
            if !bad.is_empty() {
                bail!(
                    "{} of {} files missing or different under {}",
                    bad.len(),
                    states.len(),
                    common.data_dir.display()
                );
            }
            println!(
                "all {} files verified under {}",
                states.len(),
                common.data_dir.display()
            );
            Ok(())
        }
    }
}

fn list(common: &Common) -> Result<()> {
    let reg = Registry::scan(&common.data_dir)?;
    let policy = common.policy();
    // Counting means reading every file (~0.5 s for the whole benchmark);
    // a set that fails to load is listed with its error instead.
    let rows: Vec<(String, String)> = reg
        .sets
        .par_iter()
        .map(|s| {
            let missing = s.missing();
            if !missing.is_empty() {
                let names: Vec<_> = missing.iter().map(|(w, _)| *w).collect();
                return (String::new(), format!("missing {}", names.join(", ")));
            }
            match s.load(policy) {
                Ok(d) => {
                    let (p, n) = d.class_counts();
                    let test = d.test_start.map_or(String::new(), |t| {
                        format!(" (official test: {})", d.len() - t)
                    });
                    (format!("{:>7} {:>7}", p, n), format!("ok{test}"))
                }
                Err(e) => (String::new(), format!("unreadable: {e}")),
            }
        })
        .collect();
    println!("data root: {}", reg.root.display());
    println!(
        "{:<28} {:<8} {:>7} {:>7}  status",
        "set", "kind", "pos", "neg"
    );
    for (s, (counts, status)) in reg.sets.iter().zip(&rows) {
        let kind = match s.kind {
            SetKind::Circular => "circRNA",
            SetKind::Linear => "linRNA",
        };
        println!("{:<28} {:<8} {:>15}  {status}", s.name, kind, counts);
    }
    let n = |k| reg.of_kind(k).count();
    println!(
        "{} circRNA sets, {} linear-RNA sets",
        n(SetKind::Circular),
        n(SetKind::Linear)
    );
    Ok(())
}

fn stats(common: &Common, names: &[String], json: bool) -> Result<()> {
    let reg = Registry::scan(&common.data_dir)?;
    let stats = benchmark_stats(&reg, names, common.policy())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(());
    }
    let (per_set, pool) = (&stats.sets, &stats.circular_pool);
    println!(
        "{:<28} {:>7} {:>7} {:>9} {:>6} {:>6} {:>8} {:>8} {:>7} {:>7}",
        "set", "pos", "neg", "len", "GC+", "GC-", "dup+", "N-rec", "src+", "src-"
    );
    for s in per_set {
        let len = s.length_label();
        let src = |c: &circssnn::data::stats::ClassStats| {
            c.sources.map_or("-".to_string(), |n| n.to_string())
        };
        println!(
            "{:<28} {:>7} {:>7} {:>9} {:>6.3} {:>6.3} {:>8} {:>8} {:>7} {:>7}",
            s.name,
            s.positive.n,
            s.negative.n,
            len,
            s.positive.gc_mean,
            s.negative.gc_mean,
            s.positive.duplicates,
            s.positive.with_ambiguous + s.negative.with_ambiguous,
            src(&s.positive),
            src(&s.negative),
        );
    }
    println!("\nGC+/GC-: mean GC of positives/negatives; dup+: positive records repeating an earlier positive;");
    println!("N-rec: records with an ambiguous base; src+/src-: distinct source transcripts (header ids).");
    if pool.sets > 0 {
        println!(
            "\ncircRNA sets: {} sets, {} positives, {} negatives.\n\
             Their negatives are only {} distinct windows from {} source circRNAs (positives: {} circRNAs):\n\
             every negative file is cut from one shared pool, so a model can score well by recognising\n\
             the few negative transcripts. Use the stricter evaluations before trusting a headline AUC.",
            pool.sets, pool.positives, pool.negatives, pool.distinct_negatives, pool.negative_sources, pool.positive_sources
        );
    }
    Ok(())
}
