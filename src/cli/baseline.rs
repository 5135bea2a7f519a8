use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use circssnn::baseline::{run_sets, write_csv, BaselineReport};
use circssnn::data::split::SplitKind;
use circssnn::data::{Registry, SetKind};

use super::Common;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Suite {
    /// All circRNA sets.
    Circ,
    /// All linear-RNA sets found.
    Lin,
    /// Every set.
    All,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Set(s) to run, e.g. TIAL1 (repeatable). Default: TIAL1.
    #[arg(long = "rbp")]
    sets: Vec<String>,
    /// Run a whole suite instead of named sets.
    #[arg(long, value_enum, conflicts_with = "sets")]
    suite: Option<Suite>,
    /// Which split: random (seeded stratified 80/20, 10% of training for
    /// validation) or published (the authors' NumPy seed-4 split). Linear
    /// sets always keep their official test file.
    #[arg(long, default_value = "random")]
    split: SplitKind,
    /// Split seed.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Also write one CSV row per set here.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(common: &Common, args: BaselineArgs) -> Result<()> {
    let reg = Registry::scan(&common.data_dir)?;
    let entries: Vec<_> = match args.suite {
        Some(Suite::Circ) => reg.of_kind(SetKind::Circular).collect(),
        Some(Suite::Lin) => reg.of_kind(SetKind::Linear).collect(),
        Some(Suite::All) => reg.sets.iter().collect(),
        None if args.sets.is_empty() => vec![reg.get("TIAL1")?],
        None => args
            .sets
            .iter()
            .map(|n| reg.get(n))
            .collect::<Result<_, _>>()?,
    };
    let t0 = Instant::now();
    let reports = run_sets(&entries, args.split, args.seed, common.policy())?;

    print_reports(&reports, &args);
    eprintln!("({:.1} s)", t0.elapsed().as_secs_f64());
    if let Some(out) = &args.out {
        write_csv(out, &reports, args.split, args.seed)
            .with_context(|| format!("writing {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// The whole-test-set table, and the means over sets.
fn print_reports(reports: &[BaselineReport], args: &BaselineArgs) {
    println!(
        "1-3-mer logistic regression, {} split (seed {}), whole-test-set metrics",
        args.split, args.seed
    );
    println!(
        "{:<28} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "set", "n_test", "AUC", "ACC", "prec", "recall", "F1", "MCC", "valAUC"
    );
    for r in reports {
        let t = &r.test;
        println!(
            "{:<28} {:>7} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7}",
            r.set,
            t.n,
            t.auc,
            t.accuracy,
            t.precision,
            t.recall,
            t.f1,
            t.mcc,
            r.valid.map_or("-".into(), |v| format!("{:.4}", v.auc))
        );
    }
    if reports.len() > 1 {
        let mean = |f: fn(&BaselineReport) -> f64| {
            reports.iter().map(f).sum::<f64>() / reports.len() as f64
        };
        println!(
            "{:<28} {:>7} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7.4}",
            format!("mean of {} sets", reports.len()),
            "",
            mean(|r| r.test.auc),
            mean(|r| r.test.accuracy),
            mean(|r| r.test.precision),
            mean(|r| r.test.recall),
            mean(|r| r.test.f1),
            mean(|r| r.test.mcc),
        );
    }
}
