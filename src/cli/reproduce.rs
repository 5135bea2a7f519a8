//! `circssnn reproduce`: flags to a [`PlanConfig`], then
//! [`circssnn::reproduce::reproduce`] (or the job list as JSON).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use circssnn::data::Registry;
use circssnn::reproduce::{plan, reproduce, Experiment, PlanConfig, Profile, RunnerOptions, Suite};

use super::Common;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SuiteArg {
    /// The 37 circRNA sets.
    Circ37,
    /// Every linear-RNA set under the data root.
    Lin31,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ProfileArg {
    /// CPU: small BERT, 4 epochs.
    Small,
    /// GPU: DNABERT-3-sized BERT, 10 epochs.
    Paper,
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Which sets.
    #[arg(long, value_enum, default_value = "circ37")]
    suite: SuiteArg,
    /// Only these sets of the suite (comma-separated or repeated).
    #[arg(long = "rbp", value_delimiter = ',')]
    sets: Vec<String>,
    /// Model sizes and epochs.
    #[arg(long, value_enum, default_value = "small")]
    profile: ProfileArg,
    /// Experiments (comma-separated): main, norm, ablation, stability, strict.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "main,norm,ablation,stability,strict"
    )]
    experiments: Vec<Experiment>,
    /// Keep about this many windows per set (each split part and class in proportion).
    #[arg(long)]
    max_per_set: Option<usize>,
    /// Output folder: results.csv, report.md, figures/, runs/
    /// (default results/<suite>-<profile>[-n<max>]).
    #[arg(long)]
    out: Option<PathBuf>,
    /// circRNA2Vec model (trained first if missing).
    #[arg(long, default_value = "models/circ2vec")]
    vec_model: PathBuf,
    /// BERT model (default models/bert-<profile>; pretrained first if missing).
    #[arg(long)]
    bert_model: Option<PathBuf>,
    /// Jobs at once (default: one per core, fewer if memory is short; each
    /// gets cores/jobs threads).
    #[arg(long)]
    jobs: Option<usize>,
    /// Memory one job may need, in GiB, for the default --jobs (measured:
    /// ~1 GiB peak for a 2,000-window three-view job; whole large sets with
    /// the BERT view need more).
    #[arg(long, default_value_t = 3.0)]
    mem_per_job: f64,
    /// Print the plan as JSON (one object per job: id, out, args) and stop.
    #[arg(long)]
    list: bool,
    /// Run nothing: collect finished jobs, compute the baselines, write the report.
    #[arg(long)]
    collect_only: bool,
}

pub fn run(common: &Common, a: ReproduceArgs) -> Result<()> {
    let suite = match a.suite {
        SuiteArg::Circ37 => Suite::Circ37,
        SuiteArg::Lin31 => Suite::Lin31,
    };
    let profile = match a.profile {
        ProfileArg::Small => Profile::Small,
        ProfileArg::Paper => Profile::Paper,
    };
    let out = a.out.clone().unwrap_or_else(|| {
        let n = a.max_per_set.map_or(String::new(), |n| format!("-n{n}"));
        PathBuf::from("results").join(format!("{}-{}{n}", suite.name(), profile.name()))
    });
    let cfg = PlanConfig {
        sets: a.sets.clone(),
        experiments: a.experiments.clone(),
        max_per_set: a.max_per_set,
        vec_model: a.vec_model.clone(),
        bert_model: a
            .bert_model
            .clone()
            .unwrap_or_else(|| profile.bert_dir().into()),
        ..PlanConfig::new(suite, profile)
    };
    let reg = Registry::scan(&common.data_dir)?;
    if a.list {
        return list(&reg, &cfg, &out);
    }
    let opts = RunnerOptions {
        exe: std::env::current_exe()?,
        data_dir: common.data_dir.clone(),
        policy: common.policy(),
        device: common.device,
        jobs: a.jobs,
        mem_per_job: a.mem_per_job,
        collect_only: a.collect_only,
        progress: true,
    };
    let t0 = std::time::Instant::now();
    let done = reproduce(&reg, &cfg, &out, &opts)?;
    eprintln!(
        "{} results rows in {}; report {} ({:.0} s)",
        done.rows.len(),
        out.join("results.csv").display(),
        out.join("report.md").display(),
        t0.elapsed().as_secs_f64()
    );
    if !done.failed.is_empty() {
        bail!(
            "{} jobs failed (rerun the same command to retry them):\n{}",
            done.failed.len(),
            done.failed.join("\n")
        );
    }
    Ok(())
}

/// The plan as JSON (id, run folder, `circssnn train` arguments per job):
/// what the Snakemake workflow reads.
fn list(reg: &Registry, cfg: &PlanConfig, out: &std::path::Path) -> Result<()> {
    let jobs = plan(reg, cfg, &out.join("runs"))?;
    if jobs.is_empty() {
        bail!(
            "no {} sets found under {} (or none of --rbp is one)",
            cfg.suite,
            reg.root.display()
        );
    }
    let list: Vec<_> = jobs
        .iter()
        .map(|j| serde_json::json!({"id": j.id(), "out": j.out, "args": j.args()}))
        .collect();
    // An error, not a panic, when the reader goes away (`| head`).
    writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string_pretty(&list)?
    )?;
    Ok(())
}
