//! What a reproduction runs: one `circssnn train` job per (set, experiment,
//! variant), so the same list drives the built-in runner and the Snakemake
//! workflow.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::split::SplitKind;
use crate::data::{Negatives, Protocol, Registry};
use crate::features::learned::DescriptorModels;
use crate::features::ViewSet;
use crate::model::Norm;
pub use crate::train::labels::{Experiment, Suite};
use crate::train::{TrainConfig, TrainSpec};

/// Model sizes and schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// CPU: the small BERT (128 wide, 4 layers), 4 epochs.
    Small,
    /// GPU: the DNABERT-3-shaped BERT (768 wide, 12 layers), 10 epochs.
    Paper,
}

impl Profile {
    /// Its name in results and folders.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Small => "small",
            Profile::Paper => "paper",
        }
    }

    /// Training epochs per run.
    pub fn epochs(self) -> usize {
        match self {
            Profile::Small => 4,
            Profile::Paper => 10,
        }
    }

    /// Default folder of this profile's BERT.
    pub fn bert_dir(self) -> &'static str {
        match self {
            Profile::Small => "models/bert-small",
            Profile::Paper => "models/bert-paper",
        }
    }
}

/// The set the stability experiment repeats (the paper's choice).
pub const STABILITY_SET: &str = "TIAL1";
/// Training seeds of the stability experiment (seed 4 is the main run).
pub const STABILITY_SEEDS: [u64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// One training run of a reproduction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Suite.
    pub suite: Suite,
    /// Set.
    pub set: String,
    /// Experiment.
    pub experiment: Experiment,
    /// What this run varies (`fusion`, `post`, `knfp`, `seed7`, `grouped`, `shuffled`).
    pub variant: String,
    /// Its run folder.
    pub out: PathBuf,
    /// What it trains.
    pub spec: TrainSpec,
}

impl Job {
    /// `suite/set/experiment-variant`, unique within a plan.
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}-{}",
            self.suite.name(),
            self.set,
            self.experiment.name(),
            self.variant
        )
    }

    /// Training seed.
    pub fn seed(&self) -> u64 {
        self.spec.train.seed
    }

    /// Its `circssnn train` arguments (without `--out`).
    pub fn args(&self) -> Vec<String> {
        self.spec.to_args()
    }

    /// The key of its results row: set, experiment, variant.
    pub fn key(&self) -> (String, Option<Experiment>, String) {
        (
            self.set.clone(),
            Some(self.experiment),
            self.variant.clone(),
        )
    }
}

/// What to reproduce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanConfig {
    /// Suite.
    pub suite: Suite,
    /// Only these sets (names, any case); empty: the whole suite.
    pub sets: Vec<String>,
    /// Profile.
    pub profile: Profile,
    /// Experiments to run (the main one is always run).
    pub experiments: Vec<Experiment>,
    /// Keep about this many windows per set.
    pub max_per_set: Option<usize>,
    /// circRNA2Vec model folder.
    pub vec_model: PathBuf,
    /// BERT model folder.
    pub bert_model: PathBuf,
}

impl PlanConfig {
    /// Every set of `suite`, every experiment, all windows, the profile's
    /// default model folders.
    pub fn new(suite: Suite, profile: Profile) -> Self {
        Self {
            suite,
            sets: Vec::new(),
            profile,
            experiments: Experiment::ALL.to_vec(),
            max_per_set: None,
            vec_model: crate::features::learned::DEFAULT_VEC_MODEL.into(),
            bert_model: profile.bert_dir().into(),
        }
    }
}

/// The jobs of `cfg` over the sets found in `reg`, run folders under `runs`.
///
/// Linear sets get the main run and the KNFP-only run (the paper changed
/// nothing for them); the norm, stability and strict experiments are
/// circRNA-only (the linear sets have an official split and no transcript
/// ids). The grouped split runs the KNFP view only: the learned descriptors
/// were trained on a corpus cut for the random split, which holds windows
/// the grouped split tests on.
///
/// ```no_run
/// use circssnn::reproduce::plan::*;
/// let reg = circssnn::data::Registry::scan(&circssnn::data::default_root())?;
/// let cfg = PlanConfig { suite: Suite::Circ37, sets: vec!["QKI".into()], profile: Profile::Small,
///     experiments: Experiment::ALL.to_vec(), max_per_set: Some(2000),
///     vec_model: "models/circ2vec".into(), bert_model: "models/bert-small".into() };
/// for job in plan(&reg, &cfg, "runs/reproduce".as_ref())? {
///     println!("{}: circssnn train {}", job.id(), job.args().join(" "));
/// }
/// # Ok::<(), circssnn::DataError>(())
/// ```
pub fn plan(reg: &Registry, cfg: &PlanConfig, runs: &Path) -> Result<Vec<Job>, crate::DataError> {
    let sets: Vec<String> = if cfg.sets.is_empty() {
        reg.of_kind(cfg.suite.kind())
            .map(|e| e.name.clone())
            .collect()
    } else {
        let mut v = Vec::new();
        for s in &cfg.sets {
            let e = reg.get(s)?;
            if e.kind == cfg.suite.kind() {
                v.push(e.name.clone());
            }
        }
        v
    };
    let has = |e: Experiment| cfg.experiments.contains(&e);
    let circular = cfg.suite == Suite::Circ37;
    let mut jobs = Vec::new();
    let models = DescriptorModels {
        vec: Some(cfg.vec_model.clone()),
        bert: Some(cfg.bert_model.clone()),
        ..Default::default()
    };
    for set in &sets {
        let base = TrainSpec {
            set: set.clone(),
            views: ViewSet::ALL,
            protocol: Protocol {
                max_per_set: cfg.max_per_set,
                ..Default::default()
            },
            train: TrainConfig {
                epochs: cfg.profile.epochs(),
                ..Default::default()
            },
            models: models.clone(),
            ..Default::default()
        };
        let mut add = |experiment: Experiment, variant: &str, spec: TrainSpec| {
            let out = runs
                .join(cfg.suite.name())
                .join(set)
                .join(format!("{}-{variant}", experiment.name()));
            jobs.push(Job {
                suite: cfg.suite,
                set: set.clone(),
                experiment,
                variant: variant.into(),
                out,
                spec,
            });
        };
        let views = |views: ViewSet| TrainSpec {
            views,
            ..base.clone()
        };
        add(Experiment::Main, "fusion", base.clone());
        if has(Experiment::Ablation) || !circular {
            add(Experiment::Ablation, "knfp", views(ViewSet::KNFP));
        }
        if !circular {
            continue;
        }
        if has(Experiment::Ablation) {
            add(
                Experiment::Ablation,
                "vec",
                views("vec".parse().expect("a view")),
            );
            add(
                Experiment::Ablation,
                "bert",
                views("bert".parse().expect("a view")),
            );
        }
        if has(Experiment::Norm) {
            add(
                Experiment::Norm,
                "post",
                TrainSpec {
                    norm: Norm::Post,
                    ..base.clone()
                },
            );
        }
        if has(Experiment::Strict) {
            let grouped = TrainSpec {
                protocol: Protocol {
                    split: SplitKind::Grouped,
                    ..base.protocol
                },
                ..views(ViewSet::KNFP)
            };
            add(Experiment::Strict, "grouped", grouped);
            let shuffled = TrainSpec {
                protocol: Protocol {
                    negatives: Negatives::Shuffled,
                    ..base.protocol
                },
                ..base.clone()
            };
            add(Experiment::Strict, "shuffled", shuffled);
        }
        if has(Experiment::Stability) && set.eq_ignore_ascii_case(STABILITY_SET) {
            for seed in STABILITY_SEEDS.into_iter().filter(|&s| s != 4) {
                let spec = TrainSpec {
                    train: TrainConfig { seed, ..base.train },
                    ..base.clone()
                };
                add(Experiment::Stability, &format!("seed{seed}"), spec);
            }
        }
    }
    Ok(jobs)
}
