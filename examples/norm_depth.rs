//! Pre-norm against post-norm as the stack deepens: the experiment notebook
//! 02 reads (`data/results/norm-depth/`).
//!
//! ```text
//! cargo run --release --example norm_depth [OUT_DIR]
//! ```
//!
//! TAF15, KNFP view, random split (seed 4); for 2, 4, 8 and 16 blocks and
//! each placement, a freshly initialised network (device seed 3, dropout as
//! in training) gets 100 Adam steps of 32 windows at the paper's 3e-3 with
//! no warm-up ([`constant_lr_run`]). Each arm (every step's loss, the
//! gradient reaching each block before and after, the validation AUC) is
//! stored as `arms/d<depth>-<norm>.json`, and `runs.csv` summarises them.
//! Resumable: an arm already stored is skipped. About 60 min on 2 cores,
//! most of it at depth 16 (the shipped arms: 1.8 to 21 min each).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use circssnn::data::split::{split_dataset, SplitKind};
use circssnn::data::{default_root, Dataset, LengthPolicy, Registry};
use circssnn::dfdx::prelude::*;
use circssnn::model::{CircSsnn, ModelConfig, Norm, BERT_SMALL};
use circssnn::output::write_atomic;
use circssnn::train::diagnostics::{
    constant_lr_run, read_depth_arms, DepthArm, ShortRun, ShortRunConfig,
};
use circssnn::train::Descriptors;

const DEPTHS: [usize; 4] = [2, 4, 8, 16];

fn arm<const DEPTH: usize>(
    norm: Norm,
    ds: &Dataset,
    train: &[usize],
    valid: &[usize],
    cfg: &ShortRunConfig,
) -> Result<ShortRun> {
    let dev = Cpu::seed_from_u64(3);
    let mut net = CircSsnn::<BERT_SMALL, DEPTH, Cpu>::new(
        &dev,
        ModelConfig {
            norm,
            ..Default::default()
        },
    );
    let desc = Descriptors::knfp_only();
    Ok(constant_lr_run(
        &mut net, &dev, &desc, ds, train, valid, cfg,
    )?)
}

fn main() -> Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "data/results/norm-depth".into()),
    );
    let arms_dir = out.join("arms");
    std::fs::create_dir_all(&arms_dir)?;
    let ds = Registry::scan(&default_root())?
        .get("TAF15")?
        .load(LengthPolicy::STRICT)?;
    let split = split_dataset(&ds, SplitKind::Random, 4);
    let cfg = ShortRunConfig::default();
    for depth in DEPTHS {
        for norm in [Norm::Pre, Norm::Post] {
            let name = if norm == Norm::Pre { "pre" } else { "post" };
            // One file per arm, written whole once the arm has finished: a
            // killed run leaves only finished arms, and a rerun skips them.
            let path = arms_dir.join(format!("d{depth:02}-{name}.json"));
            if path.exists() {
                eprintln!("depth {depth} {name}-norm: already in {}", path.display());
                continue;
            }
            let t0 = Instant::now();
            let (train, valid) = (&split.train, &split.valid);
            let run = match depth {
                2 => arm::<2>(norm, &ds, train, valid, &cfg)?,
                4 => arm::<4>(norm, &ds, train, valid, &cfg)?,
                8 => arm::<8>(norm, &ds, train, valid, &cfg)?,
                16 => arm::<16>(norm, &ds, train, valid, &cfg)?,
                _ => unreachable!("DEPTHS lists the built depths"),
            };
            let seconds = t0.elapsed().as_secs_f64();
            eprintln!(
                "depth {depth:>2} {name:>4}-norm: valid AUC {:?}, mean loss of the last 10 steps {:.4}, diverged at {:?} ({seconds:.0} s)",
                run.valid_auc, run.final_loss(10), run.diverged_at
            );
            let arm = DepthArm {
                depth,
                norm,
                config: cfg,
                run,
                seconds,
            };
            write_atomic(&path, |w| {
                serde_json::to_writer_pretty(&mut *w, &arm).map_err(std::io::Error::other)
            })?;
        }
    }
    // The summary table, rebuilt from every stored arm.
    let arms = read_depth_arms(&arms_dir)?;
    write_atomic(&out.join("runs.csv"), |w| {
        writeln!(w, "depth,norm,valid_auc,last10_loss,diverged_at,seconds")?;
        for a in &arms {
            let auc = a
                .run
                .valid_auc
                .map(|v| format!("{v:.4}"))
                .unwrap_or_default();
            let div = a.run.diverged_at.map(|s| s.to_string()).unwrap_or_default();
            let norm = if a.norm == Norm::Pre { "pre" } else { "post" };
            let (depth, loss, secs) = (a.depth, a.run.final_loss(10), a.seconds);
            writeln!(w, "{depth},{norm},{auc},{loss:.4},{div},{secs:.0}")?;
        }
        Ok(())
    })?;
    Ok(())
}
