//! A model zoo: one CircSSNN per benchmark set, trained on the **full** set
//! (random split, selection on validation, whole-test metrics), and a
//! manifest, `zoo.json`, that says for each model what it is, how well it
//! did, and the score thresholds at 5% and 1% false-positive rate on its
//! validation part (what [`crate::scan`] calls a site).
//!
//! Training runs as one [`Batch`] of the
//! reproduction's runner: resumable, several jobs at once, one results row
//! per model, the 1–3-mer baseline of every set beside it.
//!
//! ```no_run
//! use circssnn::data::{default_root, Registry};
//! use circssnn::zoo::{train, ZooConfig};
//! let reg = Registry::scan(&default_root())?;
//! let cfg = ZooConfig { sets: vec!["PUM2".into(), "QKI".into()], ..Default::default() };
//! let zoo = train(&reg, &cfg, "models/zoo".as_ref(), &Default::default())?;
//! for m in &zoo.models {
//!     println!("{}: test AUC {:.3} (baseline {:.3})", m.set, m.test_auc, m.baseline_auc);
//! }
//! # Ok::<(), circssnn::zoo::ZooError>(())
//! ```

mod blend;
mod manifest;
mod multi;
mod negatives;
mod pack;
mod recipe;

pub use blend::{add_blends, Blend, WEIGHTS as BLEND_WEIGHTS};
pub use manifest::{threshold_at, Thresholds, Zoo, ZooEntry, MANIFEST};
pub use multi::{
    compare, comparison_plot, read_comparison, train_multi, write_comparison, CompareRow,
    MultiZooConfig, MultiZooRun,
};
pub use negatives::{
    cross_means, cross_negatives, held_out, write_cross, Against, CrossRow, HeldOut,
};
pub use pack::{
    choose, default_zoo, pack, shipped_zoo, zoo_bytes, PackOptions, PACKED_MODEL_BYTES,
    SHIPPED_ZOO, TRAINED_ZOO,
};
pub use recipe::zoo_recipe;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::split::SplitKind;
use crate::data::{Negatives, Protocol, Registry, SetKind};
use crate::features::learned::{DescriptorModels, DEFAULT_BERT_MODEL, DEFAULT_VEC_MODEL};
use crate::features::ViewSet;
use crate::reproduce::runner::{run_batch, Batch, ModelDirs, ReproduceError, RunnerOptions};
use crate::reproduce::{Experiment, Job, Profile, Suite};
use crate::train::{TrainError, TrainSpec};

/// Which sets get a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZooSuite {
    /// The 37 circRNA sets.
    #[default]
    Circ37,
    /// The 31 linear-RNA sets.
    Lin31,
    /// Both.
    All,
}

impl std::fmt::Display for ZooSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Circ37 => "circ37",
            Self::Lin31 => "lin31",
            Self::All => "all",
        })
    }
}

impl std::str::FromStr for ZooSuite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "circ37" => Ok(Self::Circ37),
            "lin31" => Ok(Self::Lin31),
            "all" => Ok(Self::All),
            _ => Err(format!("unknown suite {s:?}: use circ37, lin31 or all")),
        }
    }
}

/// What a zoo is trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZooConfig {
    /// Which sets.
    pub suite: ZooSuite,
    /// Only these sets of the suite (empty: all).
    pub sets: Vec<String>,
    /// Views of every model.
    pub views: ViewSet,
    /// Negatives the models learn from: the set's own (`pool`) or
    /// dinucleotide shuffles of its positives (`shuffled`).
    pub negatives: Negatives,
    /// Learned descriptor folders (used when `views` reads them).
    pub vec_model: std::path::PathBuf,
    /// See `vec_model`.
    pub bert_model: std::path::PathBuf,
    /// Training seed of every model.
    pub seed: u64,
    /// Split of every set (random: the zoo's; sequence: the multi-task
    /// network's, for a like-for-like comparison; grouped: by transcript,
    /// for [`cross_negatives`]).
    pub split: SplitKind,
    /// Keep about this many windows per set (`None`: the full sets).
    pub max_per_set: Option<usize>,
}

impl Default for ZooConfig {
    /// KNFP models on pool negatives for the 37 circRNA sets, seed 4.
    fn default() -> Self {
        Self {
            suite: ZooSuite::Circ37,
            sets: Vec::new(),
            views: ViewSet::KNFP,
            negatives: Negatives::Pool,
            vec_model: DEFAULT_VEC_MODEL.into(),
            bert_model: DEFAULT_BERT_MODEL.into(),
            seed: 4,
            split: SplitKind::Random,
            max_per_set: None,
        }
    }
}

impl ZooConfig {
    /// The variant name of its models in results rows, e.g. `knfp-pool`
    /// (`knfp-pool-sequence-n2000` off the default split and size).
    pub fn variant(&self) -> String {
        let mut v = format!(
            "{}-{}",
            self.views.names().replace(',', "+"),
            self.negatives
        );
        if self.split != SplitKind::Random {
            v.push_str(&format!("-{}", self.split));
        }
        if let Some(n) = self.max_per_set {
            v.push_str(&format!("-n{n}"));
        }
        v
    }

    /// The protocol every model and baseline of the zoo is trained under.
    pub fn protocol(&self) -> Protocol {
        Protocol {
            split: self.split,
            negatives: self.negatives,
            max_per_set: self.max_per_set,
            ..Default::default()
        }
    }
}

/// What can stop a zoo.
#[derive(Debug, thiserror::Error)]
pub enum ZooError {
    /// Running the jobs.
    #[error(transparent)]
    Run(#[from] ReproduceError),
    /// Loading a model or scoring its validation part.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The data.
    #[error(transparent)]
    Data(#[from] crate::DataError),
    /// The manifest.
    #[error("{path}: {message}")]
    Manifest {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The 1–3-mer baseline a model is blended with could not be fitted.
    #[error("{set}: fitting the 1–3-mer baseline to blend with: {source}")]
    Baseline {
        /// The set.
        set: String,
        /// Why.
        source: crate::Error,
    },
    /// No set matched.
    #[error("no sets to train: none of {0:?} is in the suite")]
    NoSets(Vec<String>),
}

/// The sets of `cfg`, in registry order.
fn sets(reg: &Registry, cfg: &ZooConfig) -> Result<Vec<(String, SetKind)>, ZooError> {
    let wanted = |k: SetKind| match cfg.suite {
        ZooSuite::Circ37 => k == SetKind::Circular,
        ZooSuite::Lin31 => k == SetKind::Linear,
        ZooSuite::All => true,
    };
    let mut out = Vec::new();
    if cfg.sets.is_empty() {
        out.extend(
            reg.sets
                .iter()
                .filter(|s| wanted(s.kind))
                .map(|s| (s.name.clone(), s.kind)),
        );
    } else {
        for name in &cfg.sets {
            let e = reg.get(name)?;
            if wanted(e.kind) {
                out.push((e.name.clone(), e.kind));
            }
        }
    }
    if out.is_empty() {
        return Err(ZooError::NoSets(cfg.sets.clone()));
    }
    Ok(out)
}

/// One job per set: the zoo recipe for the set's size, full data.
pub fn plan(reg: &Registry, cfg: &ZooConfig, out: &Path) -> Result<Vec<Job>, ZooError> {
    let variant = cfg.variant();
    let mut jobs = Vec::new();
    for (set, kind) in sets(reg, cfg)? {
        let n_train = train_size(reg, &set, cfg.protocol())?;
        let spec = TrainSpec {
            set: set.clone(),
            views: cfg.views,
            protocol: cfg.protocol(),
            train: crate::train::TrainConfig {
                seed: cfg.seed,
                ..zoo_recipe(n_train)
            },
            models: DescriptorModels {
                vec: Some(cfg.vec_model.clone()),
                bert: Some(cfg.bert_model.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        jobs.push(Job {
            suite: match kind {
                SetKind::Circular => Suite::Circ37,
                SetKind::Linear => Suite::Lin31,
            },
            out: out.join("runs").join(&set),
            set,
            experiment: Experiment::Zoo,
            variant: variant.clone(),
            spec,
        });
    }
    Ok(jobs)
}

/// Training windows of `set` under the standard split.
fn train_size(reg: &Registry, set: &str, protocol: Protocol) -> Result<usize, ZooError> {
    let ds = reg.get(set)?.load(Default::default())?;
    let (_, split) = protocol.apply(&ds);
    Ok(split.train.len())
}

/// Train (or resume) the zoo of `cfg` into `out` (`runs/<set>/`,
/// `results.csv`, `zoo.json`), then write the manifest of every finished
/// model.
pub fn train(
    reg: &Registry,
    cfg: &ZooConfig,
    out: &Path,
    opts: &RunnerOptions,
) -> Result<Zoo, ZooError> {
    let jobs = plan(reg, cfg, out)?;
    let suite = jobs[0].suite;
    let baseline = cfg.protocol();
    let mut settings = serde_json::json!({
            "zoo": cfg.variant(),
            "views": cfg.views,
            "negatives": cfg.negatives,
            "seed": cfg.seed,
            "recipe": recipe::DESCRIPTION,
            "vec_model": cfg.views.vec.then_some(&cfg.vec_model),
            "bert_model": cfg.views.bert.then_some(&cfg.bert_model),
    });
    // Written only off the defaults, so that a zoo folder begun before they
    // existed still resumes.
    if cfg.split != SplitKind::Random {
        settings["split"] = serde_json::json!(cfg.split);
    }
    if let Some(n) = cfg.max_per_set {
        settings["max_per_set"] = serde_json::json!(n);
    }
    let batch = Batch {
        jobs,
        suite,
        settings,
        baselines: vec![(Experiment::Zoo, "baseline", baseline)],
        models: ModelDirs {
            vec: cfg.vec_model.clone(),
            bert: cfg.bert_model.clone(),
            profile: Profile::Small,
        },
    };
    let done = run_batch(reg, &batch, out, opts)?;
    let zoo = manifest::build(reg, out, &batch.jobs, &done.rows, opts.progress)?;
    zoo.save(out)?;
    if !done.failed.is_empty() {
        return Err(ZooError::Manifest {
            path: out.join(MANIFEST),
            message: format!(
                "written for the {} finished models; {} jobs failed (rerun to retry them):\n{}",
                zoo.models.len(),
                done.failed.len(),
                done.failed.join("\n")
            ),
        });
    }
    Ok(zoo)
}
