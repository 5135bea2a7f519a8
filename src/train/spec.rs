//! One training run as a typed value: [`TrainSpec`] is what `circssnn train`
//! parses its flags into, what a notebook builds in a few lines, what a
//! reproduction plans, and what a child process receives back as flags
//! ([`TrainSpec::to_args`]). Checked once ([`TrainSpec::check`]) before any
//! data is read.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use crate::data::split::SplitKind;
use crate::data::Protocol;
use crate::features::learned::DescriptorModels;
use crate::model::{Norm, ViewSet};

/// Depths built into the crate (each depth is its own network type).
pub const DEPTHS: [usize; 3] = [1, 2, 4];

/// The set the main command trains on when none is named (2,934 windows).
pub const DEFAULT_SET: &str = "TAF15";

/// A setting that cannot work, named with the flag that sets it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} {value}: {why}")]
pub struct SpecError {
    /// The CLI flag (or field) at fault.
    pub flag: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong and what would work.
    pub why: String,
}

impl SpecError {
    pub(crate) fn new(flag: &'static str, value: impl ToString, why: impl Into<String>) -> Self {
        Self {
            flag,
            value: value.to_string(),
            why: why.into(),
        }
    }
}

/// Everything that decides one training run.
///
/// ```
/// use circssnn::model::ViewSet;
/// use circssnn::train::TrainSpec;
/// let spec = TrainSpec { set: "QKI".into(), views: ViewSet::ALL, ..Default::default() };
/// spec.check()?;
/// assert_eq!(spec.default_out().to_str(), Some("runs/qki-knfp+vec+bert-pre-d1-s4"));
/// assert!(spec.to_args().windows(2).any(|w| w == ["--views", "knfp,vec,bert"]));
/// # Ok::<(), circssnn::train::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    /// Data set (RBP name or linear set folder).
    pub set: String,
    /// Descriptor views the network reads.
    pub views: ViewSet,
    /// LayerNorm placement.
    pub norm: Norm,
    /// Transformer blocks (one of [`DEPTHS`]).
    pub depth: usize,
    /// Split, negatives and window count.
    pub protocol: Protocol,
    /// Optimiser, schedule, epochs and training seed.
    pub train: TrainConfig,
    /// Where the learned descriptor models (and the BERT cache) are.
    pub models: DescriptorModels,
}

impl Default for TrainSpec {
    /// The main command: TAF15, KNFP, pre-norm, one block, the published
    /// schedule for 10 epochs, seed 4, random split.
    fn default() -> Self {
        Self {
            set: DEFAULT_SET.into(),
            views: ViewSet::KNFP,
            norm: Norm::Pre,
            depth: 1,
            protocol: Protocol::default(),
            train: TrainConfig::default(),
            models: DescriptorModels::default(),
        }
    }
}

impl TrainSpec {
    /// Refuse settings that cannot work, before any data is read.
    pub fn check(&self) -> Result<(), SpecError> {
        if self.set.trim().is_empty() {
            return Err(SpecError::new("--rbp", "\"\"", "name a data set"));
        }
        if !DEPTHS.contains(&self.depth) {
            return Err(SpecError::new(
                "--depth",
                self.depth,
                "the network is built for depth 1, 2 or 4",
            ));
        }
        if self.protocol.max_per_set == Some(0) {
            return Err(SpecError::new(
                "--max-per-set",
                0,
                "keep at least some windows",
            ));
        }
        self.train.check()
    }

    /// `runs/<set>-<views>-<norm>-d<depth>-s<seed>[-grouped][<protocol tag>]`, lower case.
    pub fn default_out(&self) -> PathBuf {
        let name = format!(
            "{}-{}-{}-d{}-s{}{}{}",
            self.set,
            self.views.names().replace(',', "+"),
            self.norm,
            self.depth,
            self.train.seed,
            if self.protocol.split == SplitKind::Grouped {
                "-grouped"
            } else {
                ""
            },
            self.protocol.tag()
        );
        PathBuf::from("runs").join(name.to_ascii_lowercase())
    }

    /// The `circssnn train` flags that give this spec (without `--out`),
    /// for child processes and the Snakemake workflow. Flags at their
    /// default are left out, so job lists stay short.
    pub fn to_args(&self) -> Vec<String> {
        let d = Self::default();
        let t = &self.train;
        let mut a: Vec<String> = vec!["--rbp".into(), self.set.clone()];
        let mut flag = |on: bool, name: &str, value: String| {
            if on {
                a.push(name.into());
                a.push(value);
            }
        };
        flag(true, "--views", self.views.names());
        flag(self.norm != d.norm, "--norm", self.norm.to_string());
        flag(self.depth != d.depth, "--depth", self.depth.to_string());
        flag(true, "--epochs", t.epochs.to_string());
        flag(true, "--seed", t.seed.to_string());
        let p = &self.protocol;
        flag(p.split != d.protocol.split, "--split", p.split.to_string());
        flag(
            p.split_seed != d.protocol.split_seed,
            "--split-seed",
            p.split_seed.to_string(),
        );
        flag(
            p.negatives != d.protocol.negatives,
            "--negatives",
            p.negatives.to_string(),
        );
        if let Some(n) = p.max_per_set {
            flag(true, "--max-per-set", n.to_string());
        }
        flag(t.lr != d.train.lr, "--lr", t.lr.to_string());
        flag(
            t.lr_step != d.train.lr_step,
            "--lr-step",
            t.lr_step.to_string(),
        );
        if let Some(n) = t.lr_step_steps {
            flag(true, "--lr-step-steps", n.to_string());
        }
        if let Some(n) = t.patience {
            flag(true, "--patience", n.to_string());
        }
        let m = &self.models;
        if let Some(dir) = m.vec.as_ref().filter(|_| self.views.vec) {
            flag(true, "--vec-model", dir.display().to_string());
        }
        if let Some(dir) = m.bert.as_ref().filter(|_| self.views.bert) {
            flag(true, "--bert-model", dir.display().to_string());
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::split::SplitKind;
    use crate::data::Negatives;

    /// Every setting a spec can change reaches the child process's flags.
    #[test]
    fn to_args_carries_every_setting() {
        let spec = TrainSpec {
            set: "QKI".into(),
            views: ViewSet::ALL,
            norm: Norm::Post,
            depth: 2,
            protocol: Protocol {
                split: SplitKind::Grouped,
                split_seed: 7,
                negatives: Negatives::Shuffled,
                max_per_set: Some(900),
            },
            train: TrainConfig {
                epochs: 6,
                seed: 9,
                lr: 1e-3,
                lr_step: 3,
                lr_step_steps: Some(500),
                patience: Some(2),
                ..Default::default()
            },
            models: DescriptorModels {
                vec: Some("v".into()),
                bert: Some("b".into()),
                ..Default::default()
            },
        };
        let args = spec.to_args().join(" ");
        for want in [
            "--rbp QKI",
            "--views knfp,vec,bert",
            "--norm post",
            "--depth 2",
            "--epochs 6",
            "--seed 9",
            "--split grouped",
            "--split-seed 7",
            "--negatives shuffled",
            "--max-per-set 900",
            "--lr 0.001",
            "--lr-step 3",
            "--lr-step-steps 500",
            "--patience 2",
            "--vec-model v",
            "--bert-model b",
        ] {
            assert!(args.contains(want), "{want} missing from {args}");
        }
        assert_eq!(
            TrainSpec::default().to_args().join(" "),
            "--rbp TAF15 --views knfp --epochs 10 --seed 4"
        );
    }
}
