use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use circssnn::baseline::{run_baseline, BaselineConfig, BaselineReport};
use circssnn::data::split::{split_dataset, SplitKind};
use circssnn::data::{Registry, SetKind};
use circssnn::eval::BinaryMetrics;
use circssnn::output::write_atomic;

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
    let policy = common.policy();
    let t0 = Instant::now();
    let cfg = BaselineConfig::default();
    let reports: Vec<BaselineReport> = entries
        .par_iter()
        .map(|e| -> Result<BaselineReport> {
            let ds = e.load(policy)?;
            let split = split_dataset(&ds, args.split, args.seed);
            run_baseline(&ds, &split, &cfg).with_context(|| format!("baseline on {}", ds.name))
        })
        .collect::<Result<_>>()?;

    println!(
        "1-3-mer logistic regression, {} split (seed {}), whole-test-set metrics",
        args.split, args.seed
    );
    println!(
        "{:<28} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "set", "n_test", "AUC", "ACC", "prec", "recall", "F1", "MCC", "valAUC"
    );
    for r in &reports {
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
    eprintln!("({:.1} s)", t0.elapsed().as_secs_f64());
    if let Some(out) = &args.out {
        write_atomic(out, |w| {
            let mut csv = csv::Writer::from_writer(w);
            let header = ["set", "split", "seed", "n_train", "n_test"]
                .into_iter()
                .chain(BinaryMetrics::CSV_COLUMNS)
                .chain(["valid_auc"]);
            csv.write_record(header)?;
            for r in &reports {
                let mut row = vec![
                    r.set.clone(),
                    args.split.to_string(),
                    args.seed.to_string(),
                    r.n_train.to_string(),
                    r.test.n.to_string(),
                ];
                row.extend(r.test.csv_values());
                row.push(r.valid.map_or(String::new(), |v| v.auc.to_string()));
                csv.write_record(row)?;
            }
            csv.flush()
        })
        .with_context(|| format!("writing {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}
