//! Argument parsing and dispatch. Each subcommand lives in its own file and
//! only calls the library.

mod baseline;
mod bench;
mod data;
mod descriptors;
mod embed;
mod explain;
mod reproduce;
mod results;
mod scan;
mod train;
mod zoo;

use std::path::PathBuf;

use anyhow::Result;
use circssnn::data::LengthPolicy;
use clap::{Args, Parser, Subcommand};

/// Predict RNA-binding-protein sites on 101-nt circRNA windows (CircSSNN in Rust).
#[derive(Debug, Parser)]
#[command(name = "circssnn", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Args)]
pub struct Common {
    /// Benchmark data root (holds circRNA-RBP/ and linRNA-RBP/); default: the
    /// copy shipped in the repository's data/benchmark.
    #[arg(
        long,
        global = true,
        env = "CIRCSSNN_DATA",
        default_value_os_t = circssnn::data::registry::shipped_root()
    )]
    pub data_dir: PathBuf,
    /// Pad windows shorter than 101 nt with N (centred) instead of rejecting them.
    #[arg(long, global = true)]
    pub pad: bool,
    /// Keep the central 101 nt of longer windows instead of rejecting them.
    #[arg(long, global = true)]
    pub trim: bool,
    /// Where the network runs: cpu, or cuda (needs a build with `--features cuda`).
    #[arg(long, global = true, default_value = "cpu")]
    pub device: circssnn::train::DeviceKind,
}

impl Common {
    pub fn policy(&self) -> LengthPolicy {
        LengthPolicy {
            pad: self.pad,
            trim: self.trim,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, describe, download or verify the benchmark data.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Logistic regression on 1-3-mer counts: the floor every model must beat.
    Baseline(baseline::BaselineArgs),
    /// Throughput of the data and feature pipeline, as a table.
    Bench(bench::BenchArgs),
    /// Train the learned descriptors (circRNA2Vec, k-mer BERT) and inspect them.
    #[command(subcommand)]
    Embed(embed::EmbedCommand),
    /// Train CircSSNN on one set; whole-test-set metrics of the best-validation epoch.
    Train(train::TrainArgs),
    /// The paper's experiments over a suite, resumable, with a report and figures.
    Reproduce(reproduce::ReproduceArgs),
    /// Collect the metrics.csv of finished runs into one CSV (what the figure notebook reads).
    Results(results::ResultsArgs),
    /// Score a trained model on a set's test part.
    Evaluate(train::EvaluateArgs),
    /// Binding probability of every window of a FASTA file (CSV on stdout).
    Predict(train::PredictArgs),
    /// Where RBPs bind along whole transcripts: every window, every model; BED, bedGraph, HTML.
    Scan(scan::ScanArgs),
    /// Why windows bind: per-nucleotide importance by in-silico mutagenesis, TSV and logos.
    Explain(explain::ExplainArgs),
    /// The motifs each model learned, from the importance of its best test windows.
    Motifs(explain::MotifsArgs),
    /// The model zoo: one model per set, trained on the full data.
    #[command(subcommand)]
    Zoo(zoo::ZooCommand),
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Data(cmd) => data::run(&cli.common, cmd),
        Command::Baseline(args) => baseline::run(&cli.common, args),
        Command::Bench(args) => bench::run(&cli.common, args),
        Command::Embed(cmd) => embed::run(&cli.common, cmd),
        Command::Train(args) => train::train(&cli.common, args),
        Command::Reproduce(args) => reproduce::run(&cli.common, args),
        Command::Results(args) => results::run(args),
        Command::Evaluate(args) => train::evaluate_cmd(&cli.common, args),
        Command::Predict(args) => train::predict(&cli.common, args),
        Command::Zoo(cmd) => zoo::run(&cli.common, cmd),
        Command::Scan(args) => scan::run(&cli.common, args),
        Command::Explain(args) => explain::explain(&cli.common, args),
        Command::Motifs(args) => explain::motifs(&cli.common, args),
    }
}
