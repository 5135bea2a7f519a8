//! What a reproduction runs: one `circssnn train` job per (set, experiment,
//! variant), so the same list drives the built-in runner and the Snakemake
//! workflow.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{Registry, SetKind};

/// Which benchmark sets a reproduction covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// The 37 circRNA sets (Table 1, Fig. 5–8).
    Circ37,
    /// Every linear-RNA set found under the data root (Table 2, Fig. 9–10).
    Lin31,
}

impl Suite {
    /// Its name in results and folders.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Circ37 => "circ37",
            Suite::Lin31 => "lin31",
        }
    }

    fn kind(self) -> SetKind {
        match self {
            Suite::Circ37 => SetKind::Circular,
            Suite::Lin31 => SetKind::Linear,
        }
    }
}

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

/// One experiment of the paper (or beyond it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Experiment {
    /// All three views, pre-norm, seed 4: Table 1 / Table 2, Fig. 5, 9, 10.
    Main,
    /// Post-norm beside the main run: Fig. 7.
    Norm,
    /// Each view alone beside the fusion: Fig. 8.
    Ablation,
    /// Ten training seeds on TIAL1: Fig. 6.
    Stability,
    /// Stricter protocols: split grouped by transcript; shuffled negatives.
    Strict,
}

impl Experiment {
    /// All of them, in report order.
    pub const ALL: [Experiment; 5] = [
        Experiment::Main,
        Experiment::Norm,
        Experiment::Ablation,
        Experiment::Stability,
        Experiment::Strict,
    ];

    /// Its name in results.
    pub fn name(self) -> &'static str {
        match self {
            Experiment::Main => "main",
            Experiment::Norm => "norm",
            Experiment::Ablation => "ablation",
            Experiment::Stability => "stability",
            Experiment::Strict => "strict",
        }
    }
}

impl std::str::FromStr for Experiment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Experiment::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| {
                format!("unknown experiment {s:?}: use main, norm, ablation, stability, strict")
            })
    }
}

/// The set the stability experiment repeats (the paper's choice).
pub const STABILITY_SET: &str = "TIAL1";
/// Training seeds of the stability experiment (seed 4 is the main run).
pub const STABILITY_SEEDS: [u64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const FUSION: &str = "knfp,vec,bert";

/// One training run of a reproduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Suite.
    pub suite: Suite,
    /// Set.
    pub set: String,
    /// Experiment.
    pub experiment: Experiment,
    /// What this run varies (`fusion`, `post`, `knfp`, `seed7`, `grouped`, `shuffled`).
    pub variant: String,
    /// Training seed.
    pub seed: u64,
    /// Its run folder.
    pub out: PathBuf,
    /// `circssnn train` arguments (without `--out`).
    pub args: Vec<String>,
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

    /// Whether it reads a learned descriptor.
    pub fn needs(&self, view: &str) -> bool {
        self.args
            .windows(2)
            .any(|w| w[0] == "--views" && w[1].split(',').any(|v| v == view))
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
///     println!("{}: circssnn train {}", job.id(), job.args.join(" "));
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
    for set in &sets {
        let mut add =
            |experiment: Experiment, variant: &str, seed: u64, extra: &[&str], views: &str| {
                let mut args: Vec<String> = vec![
                    "--rbp".into(),
                    set.clone(),
                    "--views".into(),
                    views.into(),
                    "--epochs".into(),
                    cfg.profile.epochs().to_string(),
                    "--seed".into(),
                    seed.to_string(),
                ];
                args.extend(extra.iter().map(|s| s.to_string()));
                if let Some(n) = cfg.max_per_set {
                    args.extend(["--max-per-set".into(), n.to_string()]);
                }
                if views.contains("vec") {
                    args.extend(["--vec-model".into(), cfg.vec_model.display().to_string()]);
                }
                if views.contains("bert") {
                    args.extend(["--bert-model".into(), cfg.bert_model.display().to_string()]);
                }
                let out = runs
                    .join(cfg.suite.name())
                    .join(set)
                    .join(format!("{}-{variant}", experiment.name()));
                jobs.push(Job {
                    suite: cfg.suite,
                    set: set.clone(),
                    experiment,
                    variant: variant.into(),
                    seed,
                    out,
                    args,
                });
            };
        add(Experiment::Main, "fusion", 4, &[], FUSION);
        if has(Experiment::Ablation) || !circular {
            add(Experiment::Ablation, "knfp", 4, &[], "knfp");
        }
        if !circular {
            continue;
        }
        if has(Experiment::Ablation) {
            add(Experiment::Ablation, "vec", 4, &[], "vec");
            add(Experiment::Ablation, "bert", 4, &[], "bert");
        }
        if has(Experiment::Norm) {
            add(Experiment::Norm, "post", 4, &["--norm", "post"], FUSION);
        }
        if has(Experiment::Strict) {
            add(
                Experiment::Strict,
                "grouped",
                4,
                &["--split", "grouped"],
                "knfp",
            );
            add(
                Experiment::Strict,
                "shuffled",
                4,
                &["--negatives", "shuffled"],
                FUSION,
            );
        }
        if has(Experiment::Stability) && set.eq_ignore_ascii_case(STABILITY_SET) {
            for seed in STABILITY_SEEDS.into_iter().filter(|&s| s != 4) {
                add(
                    Experiment::Stability,
                    &format!("seed{seed}"),
                    seed,
                    &[],
                    FUSION,
                );
            }
        }
    }
    Ok(jobs)
}
