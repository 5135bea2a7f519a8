//! `circssnn bench`: flags to a [`BenchConfig`], [`circssnn::bench::run`], a table.

use std::time::Duration;

use anyhow::Result;
use clap::Args;

use circssnn::bench::{run as bench, BenchConfig, Profiles};
use circssnn::data::Registry;

use super::Common;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Set whose windows are used as input.
    #[arg(long = "rbp", default_value = "AGO2")]
    set: String,
    /// Minimum time per measurement, seconds.
    #[arg(long, default_value_t = 1.0)]
    min_time: f64,
    /// Timed steps per network measurement (after one warm-up step).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Network profiles to measure: small, paper, all, none.
    #[arg(long, default_value = "all")]
    profile: Profiles,
    /// Also write the network rows as JSON here (for bench/compare).
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Skip the BERT, explain and all-RBP sections (for bench/compare).
    #[arg(long)]
    network_only: bool,
    /// Only the scan section: write a FASTA of made-up circRNAs and time
    /// `scan` of its first transcripts with one zoo model and with all.
    #[arg(long)]
    scan: bool,
    /// Scan section: transcripts in the FASTA.
    #[arg(long, default_value_t = 100_000)]
    scan_records: usize,
    /// Scan section: their mean length, nt.
    #[arg(long, default_value_t = 1200.0)]
    scan_mean_len: f64,
    /// Scan section: transcripts scanned per measurement (the first ones).
    #[arg(long, default_value_t = 100)]
    scan_sample: usize,
    /// Scan section: the zoo (default: models/zoo if it holds a zoo.json, else data/zoo).
    #[arg(long)]
    scan_zoo: Option<std::path::PathBuf>,
    /// Scan section: the RBP of the one-model row.
    #[arg(long, default_value = "QKI")]
    scan_rbp: String,
}

pub fn run(common: &Common, args: BenchArgs) -> Result<()> {
    if args.scan {
        return scan(common, &args);
    }
    let reg = Registry::scan(&common.data_dir)?;
    let cfg = BenchConfig {
        set: args.set.clone(),
        min_time: Duration::from_secs_f64(args.min_time),
        steps: args.steps,
        profiles: args.profile,
        device: common.device,
        policy: common.policy(),
        network_only: args.network_only,
    };
    let r = bench(&reg, &cfg)?;
    print_report(&r, cfg.device);
    if let Some(path) = &args.json {
        circssnn::output::write_atomic(path, |w| {
            serde_json::to_writer_pretty(w, &r.network).map_err(std::io::Error::other)
        })?;
    }
    Ok(())
}

/// The tables of a bench report.
fn print_report(r: &circssnn::bench::BenchReport, device: circssnn::train::DeviceKind) {
    println!(
        "input: {} ({} windows of 101 nt), {} rayon threads",
        r.set, r.windows, r.threads
    );
    println!("{:<36} {:>14}", "stage", "windows/s");
    for p in &r.pipeline {
        println!("{:<36} {:>14.0}", p.stage, p.per_s);
    }
    if !r.network.is_empty() {
        println!("\nCircSSNN network, depth 1, dfdx on {} ({} CPU threads); train = forward + backward + Adam, batch 64; inference batch 256; peak = host RSS", device, r.threads);
        println!(
            "{:<8} {:<15} {:>6} {:>12} {:>12} {:>10}",
            "profile", "views", "BERT", "train win/s", "infer win/s", "peak MiB"
        );
        for n in &r.network {
            println!(
                "{:<8} {:<15} {:>6} {:>12.1} {:>12.1} {:>10}",
                n.profile,
                n.views,
                n.bert_width,
                n.train_per_s,
                n.infer_per_s,
                n.peak_mib.map_or("-".into(), |m| format!("{m:.0}"))
            );
        }
    }
    if !r.bert.is_empty() {
        println!("\nk-mer BERT descriptor (forward of [CLS] + 99 3-mers + [SEP], random weights), dfdx on {}", device);
        println!("{:<26} {:>12}", "profile D/L/H/F", "windows/s");
        for b in &r.bert {
            println!("{:<26} {:>12.1}", b.stage, b.per_s);
        }
    }
    if !r.explain.is_empty() {
        println!(
            "\nExplaining windows (small profile, KNFP network, random weights), dfdx on {}",
            device
        );
        println!("{:<40} {:>12}", "method", "windows/s");
        for e in &r.explain {
            println!("{:<40} {:>12.1}", e.stage, e.per_s);
        }
    }
    if !r.all_rbps.is_empty() {
        println!(
            "\nScoring windows for every circular RBP (KNFP networks, random weights), dfdx on {}",
            device
        );
        println!("{:<40} {:>12}", "networks", "windows/s");
        for e in &r.all_rbps {
            println!("{:<40} {:>12.1}", e.stage, e.per_s);
        }
    }
}

/// `bench --scan`: the scan section alone.
fn scan(common: &Common, args: &BenchArgs) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let cfg = circssnn::bench::ScanBench {
        records: args.scan_records,
        mean_len: args.scan_mean_len,
        sample: args.scan_sample,
        stride: 10,
        zoo: args
            .scan_zoo
            .clone()
            .unwrap_or_else(circssnn::zoo::default_zoo),
        one: args.scan_rbp.clone(),
        dir: dir.path().to_path_buf(),
    };
    eprintln!(
        "writing {} made-up circRNAs (mean {} nt) ...",
        cfg.records, cfg.mean_len
    );
    let r = circssnn::bench::scan_throughput(&cfg, common.device)?;
    let whole = r.input.windows_at(cfg.stride);
    println!(
        "input: {} circRNAs, mean {:.0} nt, {:.0} Mnt, {:.1} MB gzipped, written in {:.1} s; zoo {}; \
         stride {}, circular; {} rayon threads; the first {} transcripts scanned per row",
        r.input.records,
        r.input.mean_len(),
        r.input.nt as f64 / 1e6,
        r.input_bytes as f64 / 1e6,
        r.write_seconds,
        cfg.zoo.display(),
        cfg.stride,
        rayon::current_num_threads(),
        cfg.sample
    );
    println!(
        "{:<10} {:>8} {:>9} {:>8} {:>12} {:>9} {:>10} {:>16}",
        "models",
        "windows",
        "seconds",
        "win/s",
        "model-win/s",
        "peak MiB",
        "out B/win",
        "whole file, h"
    );
    for row in &r.rows {
        println!(
            "{:<10} {:>8} {:>9.1} {:>8.1} {:>12.0} {:>9} {:>10.0} {:>16.1}",
            row.models,
            row.windows,
            row.seconds,
            row.per_s,
            row.per_s * row.count as f64,
            row.peak_mib.map_or("-".into(), |m| format!("{m:.0}")),
            row.bytes_per_window,
            whole / row.per_s / 3600.0
        );
    }
    Ok(())
}
