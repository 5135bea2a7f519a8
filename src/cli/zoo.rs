//! `circssnn zoo`: train the model zoo (one model per set, full data) and
//! show its manifest.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use circssnn::data::split::SplitKind;
use circssnn::data::{Negatives, Protocol, Registry};
use circssnn::model::ViewSet;
use circssnn::reproduce::RunnerOptions;
use circssnn::train::{Decay, MultiConfig};
use circssnn::zoo::{train, train_multi, MultiZooConfig, Zoo, ZooConfig, ZooSuite};

use super::Common;

/// Default zoo folder.
const DEFAULT_ZOO: &str = circssnn::zoo::TRAINED_ZOO;

#[derive(Debug, Subcommand)]
pub enum ZooCommand {
    /// Train one model per set on the full data (resumable, several at once).
    Train(ZooTrainArgs),
    /// The models of a zoo: set, views, AUC against the baseline, thresholds.
    List {
        /// Zoo folder.
        #[arg(long, default_value = DEFAULT_ZOO)]
        zoo: PathBuf,
    },
    /// Copy chosen models into a zoo to ship: F16 weights, measured again.
    Pack(ZooPackArgs),
    /// Blend every model of a zoo with the 1–3-mer baseline fitted on its
    /// training part, the weight chosen on validation (what `scan` scores
    /// with); for zoos written before blends (train, pack and multi blend
    /// their models themselves).
    Blend {
        /// Zoo folder.
        #[arg(long, default_value = DEFAULT_ZOO)]
        zoo: PathBuf,
    },
    /// One network for every set of a suite (shared encoder, one head per
    /// set), beside the baseline on the same parts (resumable); its folder is
    /// a zoo (`scan --zoo`).
    Multi(ZooMultiArgs),
    /// The multi-task network beside one network per set (same protocol):
    /// comparison.csv, comparison.md and a figure of the difference by set size.
    Compare {
        /// Folder of `zoo multi`.
        #[arg(long)]
        multi: PathBuf,
        /// Folder of `zoo train` under the same split and windows per set.
        #[arg(long)]
        per_set: PathBuf,
        /// Where the comparison goes.
        #[arg(long)]
        out: PathBuf,
    },
    /// Pool-trained against shuffled-trained models on the same held-out
    /// positives, each against windows of held-out negative transcripts and
    /// against dinucleotide shuffles (both zoos: `zoo train --split grouped`,
    /// same --max-per-set): negatives.csv and negatives.md.
    Negatives {
        /// Zoo trained with `--negatives pool --split grouped`.
        #[arg(long)]
        pool: PathBuf,
        /// Zoo trained with `--negatives shuffled --split grouped`.
        #[arg(long)]
        shuffled: PathBuf,
        /// Where the comparison goes.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ZooMultiArgs {
    /// Which sets: circ37 (37 heads) or lin31 (31 heads).
    #[arg(long, default_value = "circ37")]
    suite: ZooSuite,
    /// Split of every set: sequence (a window's part is the same in every
    /// set; nothing is lost to the leakage guard) or random, published,
    /// grouped (per set: windows of one set's held-out parts that another
    /// set trains on are left out of training).
    #[arg(long, default_value = "sequence")]
    split: SplitKind,
    /// Seed of the split (and of --max-per-set and --negatives shuffled).
    #[arg(long, default_value_t = 4)]
    split_seed: u64,
    /// Negatives: pool (the set's own) or shuffled (dinucleotide shuffles).
    #[arg(long, default_value = "pool")]
    negatives: Negatives,
    /// Keep about this many windows per set (each part and class in proportion).
    #[arg(long)]
    max_per_set: Option<usize>,
    /// Seed of weights, dropout and the draws.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Epochs at most (patience 2 may stop it sooner).
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// Sets are drawn with probability proportional to n^alpha (n: training windows).
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    /// How Adam applies the weight decay: l2 (added to the gradient, the
    /// paper's) or decoupled (AdamW; measured worse, see src/train/multi.rs).
    #[arg(long, default_value = "l2")]
    decay: DecayArg,
    /// Keep the jointly trained heads: do not refit each head alone on the
    /// frozen network afterwards (see src/train/refit.rs).
    #[arg(long)]
    no_refit: bool,
    /// Run folder (default: models/zoo-multi-<suite>[-n<max>]).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// `--decay` of `zoo multi`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DecayArg {
    L2,
    Decoupled,
}

#[derive(Debug, Args)]
pub struct ZooPackArgs {
    /// The trained zoo to copy from.
    #[arg(long, default_value = DEFAULT_ZOO)]
    zoo: PathBuf,
    /// These sets (default: chosen on validation, see --budget-mb).
    #[arg(long = "rbp", value_delimiter = ',')]
    sets: Vec<String>,
    /// Size budget of the chosen models, MB (with --add: of the whole zoo,
    /// the models already there included). The heads of a multi-task
    /// network share one file, counted once.
    #[arg(long, default_value_t = 22.0)]
    budget_mb: f64,
    /// Where the packed zoo goes.
    #[arg(long, default_value = circssnn::zoo::SHIPPED_ZOO)]
    out: PathBuf,
    /// Add to the zoo already in --out: keep its models, and skip the sets
    /// it already has a model of.
    #[arg(long)]
    add: bool,
}

#[derive(Debug, Args)]
pub struct ZooTrainArgs {
    /// Which sets: circ37, lin31 or all.
    #[arg(long, default_value = "circ37")]
    suite: ZooSuite,
    /// Only these sets (comma-separated or repeated).
    #[arg(long = "rbp", value_delimiter = ',')]
    sets: Vec<String>,
    /// Views of every model.
    #[arg(long, default_value = "knfp")]
    views: ViewSet,
    /// Negatives: pool (the set's own) or shuffled (dinucleotide shuffles).
    #[arg(long, default_value = "pool")]
    negatives: Negatives,
    /// Training seed.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// circRNA2Vec model (for --views with vec; trained first if missing).
    #[arg(long, default_value = circssnn::features::learned::DEFAULT_VEC_MODEL)]
    vec_model: PathBuf,
    /// BERT model (for --views with bert; pretrained first if missing).
    #[arg(long, default_value = circssnn::features::learned::DEFAULT_BERT_MODEL)]
    bert_model: PathBuf,
    /// Zoo folder: runs/<set>/, results.csv, zoo.json.
    #[arg(long, default_value = DEFAULT_ZOO)]
    out: PathBuf,
    /// Jobs at once (default: one per core, fewer if memory is short).
    #[arg(long)]
    jobs: Option<usize>,
    /// Memory one job may need, GiB (a full 40,000-window KNFP set: ~1 GiB).
    #[arg(long, default_value_t = 2.0)]
    mem_per_job: f64,
    /// Train nothing: write zoo.json for the models already finished.
    #[arg(long)]
    collect_only: bool,
    /// Split of every set: random (the zoo's), sequence (the multi-task
    /// network's, to compare with it set by set) or grouped (no transcript
    /// in both test and training, for `zoo negatives`).
    #[arg(long, default_value = "random")]
    split: SplitKind,
    /// Keep about this many windows per set (default: the full sets).
    #[arg(long)]
    max_per_set: Option<usize>,
}

pub fn run(common: &Common, cmd: ZooCommand) -> Result<()> {
    match cmd {
        ZooCommand::Train(a) => {
            let reg = Registry::scan(&common.data_dir)?;
            let cfg = ZooConfig {
                suite: a.suite,
                sets: a.sets,
                views: a.views,
                negatives: a.negatives,
                vec_model: a.vec_model,
                bert_model: a.bert_model,
                seed: a.seed,
                split: a.split,
                max_per_set: a.max_per_set,
            };
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
            let zoo = train(&reg, &cfg, &a.out, &opts)?;
            print(&zoo);
            eprintln!(
                "{} models in {}",
                zoo.models.len(),
                a.out.join("zoo.json").display()
            );
            Ok(())
        }
        ZooCommand::List { zoo } => {
            print(&Zoo::load(&zoo)?);
            Ok(())
        }
        ZooCommand::Blend { zoo } => {
            let reg = Registry::scan(&common.data_dir)?;
            print(&circssnn::zoo::add_blends(&reg, &zoo, true)?);
            Ok(())
        }
        ZooCommand::Pack(a) => {
            let reg = Registry::scan(&common.data_dir)?;
            let existing = if a.add && a.out.join(circssnn::zoo::MANIFEST).is_file() {
                Some(Zoo::load(&a.out)?)
            } else {
                None
            };
            let sets = if a.sets.is_empty() {
                let rows = circssnn::train::results::read_rows(&a.zoo.join("results.csv"))?;
                let mut from = Zoo::load(&a.zoo)?;
                let mut budget = (a.budget_mb * 1e6) as u64;
                if let Some(have) = &existing {
                    from.models.retain(|m| have.get(&m.set).is_none());
                    budget = budget.saturating_sub(circssnn::zoo::zoo_bytes(&a.out, have));
                }
                circssnn::zoo::choose(&from, &a.zoo, &rows, budget)
            } else {
                a.sets
            };
            if sets.is_empty() {
                anyhow::bail!(
                    "no model of {} beats the baseline on validation{}: nothing to pack",
                    a.zoo.display(),
                    if existing.is_some() {
                        " (among the sets the zoo in --out has no model of), within the budget"
                    } else {
                        ""
                    }
                );
            }
            let opts = circssnn::zoo::PackOptions {
                add: a.add,
                progress: true,
            };
            let zoo = circssnn::zoo::pack(&reg, &a.zoo, &sets, &a.out, opts)?;
            print(&zoo);
            Ok(())
        }
        ZooCommand::Multi(a) => multi(common, a),
        ZooCommand::Compare {
            multi,
            per_set,
            out,
        } => {
            let rows = circssnn::zoo::compare(&multi, &per_set)?;
            print!("{}", circssnn::zoo::write_comparison(&rows, &out)?);
            eprintln!("comparison in {}", out.display());
            Ok(())
        }
        ZooCommand::Negatives {
            pool,
            shuffled,
            out,
        } => {
            let reg = Registry::scan(&common.data_dir)?;
            let rows = circssnn::zoo::cross_negatives(&reg, &pool, &shuffled, true)?;
            print!("{}", circssnn::zoo::write_cross(&rows, &out)?);
            eprintln!("comparison in {}", out.display());
            Ok(())
        }
    }
}

fn multi(common: &Common, a: ZooMultiArgs) -> Result<()> {
    let reg = Registry::scan(&common.data_dir)?;
    let d = MultiConfig::default();
    let cfg = MultiZooConfig {
        suite: a.suite,
        protocol: Protocol {
            split: a.split,
            split_seed: a.split_seed,
            negatives: a.negatives,
            max_per_set: a.max_per_set,
        },
        train: MultiConfig {
            train: circssnn::train::TrainConfig {
                epochs: a.epochs,
                seed: a.seed,
                progress: true,
                ..d.train
            },
            alpha: a.alpha,
            decay: match a.decay {
                DecayArg::Decoupled => Decay::Decoupled,
                DecayArg::L2 => Decay::L2,
            },
            refit: !a.no_refit,
        },
    };
    cfg.train.train.check()?;
    let out = a.out.unwrap_or_else(|| {
        let n = a.max_per_set.map_or(String::new(), |n| format!("-n{n}"));
        PathBuf::from(format!("models/zoo-multi-{}{n}", a.suite))
    });
    let run = train_multi(&reg, &cfg, &out)?;
    let r = &run.report;
    println!(
        "{:<28} {:>8} {:>7} {:>9} {:>9} {:>9}",
        "set", "n_train", "share", "validAUC", "testAUC", "baseline"
    );
    let baseline = |set: &str| {
        run.rows
            .iter()
            .find(|row| row.set == set && row.variant == "baseline")
            .map_or(f64::NAN, |row| row.auc)
    };
    for t in &r.tasks {
        println!(
            "{:<28} {:>8} {:>7.4} {:>9.4} {:>9.4} {:>9.4}",
            t.set,
            t.n_train,
            t.sampled_share,
            t.valid.auc,
            t.test.auc,
            baseline(&t.set)
        );
    }
    let n = r.tasks.len() as f64;
    let wins = r
        .tasks
        .iter()
        .filter(|t| t.test.auc >= baseline(&t.set))
        .count();
    println!(
        "mean of {} sets: test AUC {:.4}, baseline {:.4}; at or above the baseline on {wins}; \
         epoch {} of {} chosen on mean validation AUC; {} windows left out by the leakage guard",
        r.tasks.len(),
        r.tasks.iter().map(|t| t.test.auc).sum::<f64>() / n,
        r.tasks.iter().map(|t| baseline(&t.set)).sum::<f64>() / n,
        r.best_epoch,
        r.history.len(),
        r.left_out
    );
    eprintln!(
        "results in {}; its zoo.json lists one model per head: `circssnn scan --zoo {}` scores \
         every set in one pass",
        out.join("results.csv").display(),
        out.display()
    );
    Ok(())
}

fn print(zoo: &Zoo) {
    println!(
        "{:<28} {:<28} {:<15} {:<9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>6} {:>9}",
        "set",
        "model",
        "views",
        "negatives",
        "n_train",
        "testAUC",
        "baseline",
        "thr@5%",
        "thr@1%",
        "blend",
        "blendAUC"
    );
    for m in &zoo.models {
        // Its own network, or a head of a multi-task network's folder.
        let model = match m.head {
            None => "own".to_string(),
            Some(h) if m.dir == std::path::Path::new(".") => format!("head {h}"),
            Some(h) => format!("head {h} of {}", m.dir.display()),
        };
        // The blend's weight on the network and test AUC (its thresholds are
        // the ones `scan` uses).
        let (w, b, t) = match &m.blend {
            Some(b) => (
                format!("{:.1}", b.weight),
                format!("{:.4}", b.test_auc),
                b.thresholds,
            ),
            None => ("-".into(), "-".into(), m.thresholds),
        };
        println!(
            "{:<28} {:<28} {:<15} {:<9} {:>8} {:>8.4} {:>9.4} {:>9.4} {:>9.4} {:>6} {:>9}",
            m.set,
            model,
            m.views.names(),
            m.negatives.to_string(),
            m.n_train,
            m.test_auc,
            m.baseline_auc,
            t.fpr_05,
            t.fpr_01,
            w,
            b
        );
    }
    if !zoo.models.is_empty() {
        let mean = |f: fn(&circssnn::zoo::ZooEntry) -> f64| {
            zoo.models.iter().map(f).sum::<f64>() / zoo.models.len() as f64
        };
        let wins = zoo
            .models
            .iter()
            .filter(|m| m.test_auc >= m.baseline_auc)
            .count();
        println!(
            "mean of {} models: test AUC {:.4}, baseline {:.4}; at or above the baseline on {wins}",
            zoo.models.len(),
            mean(|m| m.test_auc),
            mean(|m| m.baseline_auc)
        );
        let blended: Vec<(f64, f64)> = zoo
            .models
            .iter()
            .filter_map(|m| m.blend.as_ref().map(|b| (b.test_auc, m.baseline_auc)))
            .collect();
        if !blended.is_empty() {
            let n = blended.len() as f64;
            println!(
                "blended with the baseline ({} models): test AUC {:.4}, baseline {:.4}; at or above the baseline on {}",
                blended.len(),
                blended.iter().map(|b| b.0).sum::<f64>() / n,
                blended.iter().map(|b| b.1).sum::<f64>() / n,
                blended.iter().filter(|b| b.0 >= b.1).count()
            );
        }
    }
    let f16: Vec<f64> = zoo
        .models
        .iter()
        .filter_map(|m| m.f32_test_auc.map(|f| m.test_auc - f))
        .collect();
    if !f16.is_empty() {
        println!(
            "weights stored as F16 in {} models: test AUC minus the F32 model's, mean {:+.5}, largest change {:.5}",
            f16.len(),
            f16.iter().sum::<f64>() / f16.len() as f64,
            f16.iter().fold(0.0f64, |a, d| a.max(d.abs()))
        );
    }
    println!("recipe: {}", zoo.recipe);
}
