//! Optimiser, schedule and loop settings of the network's training, with
//! the one source of their defaults (the published values) and the check
//! that refuses settings which cannot work.

use serde::{Deserialize, Serialize};

use super::spec::SpecError;

/// Optimiser, schedule and loop settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Epochs to train.
    pub epochs: usize,
    /// Windows per training step.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Adam's beta1.
    pub beta1: f64,
    /// Adam's beta2.
    pub beta2: f64,
    /// L2 weight decay added to the gradient, as PyTorch's Adam does.
    pub weight_decay: f64,
    /// The learning rate is multiplied by `lr_gamma` every `lr_step` epochs.
    pub lr_step: usize,
    /// See `lr_step`.
    pub lr_gamma: f64,
    /// Seed of batch order (and of the published protocol's test order).
    pub seed: u64,
    /// Windows per evaluation batch (memory only; results do not depend on it).
    pub eval_batch: usize,
    /// Count the schedule in optimiser steps: multiply the learning rate by
    /// `lr_gamma` every this many steps instead of every `lr_step` epochs
    /// (so a small set is not left at 3e-6 after a few dozen steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_step_steps: Option<usize>,
    /// Stop once this many epochs have passed without a better validation
    /// AUC (`None`: train all `epochs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience: Option<usize>,
    /// Draw a progress bar on stderr.
    #[serde(skip)]
    pub progress: bool,
}

impl TrainConfig {
    /// The published settings (Adam 3e-3, betas (0.9, 0.99), L2 3e-4, batch
    /// 64, x0.1 every 2 epochs) with 10 epochs and seed 4: the one source of
    /// the defaults the CLI shows.
    pub const PUBLISHED: Self = Self {
        epochs: 10,
        batch_size: 64,
        lr: 3e-3,
        beta1: 0.9,
        beta2: 0.99,
        weight_decay: 3e-4,
        lr_step: 2,
        lr_gamma: 0.1,
        seed: 4,
        eval_batch: 256,
        lr_step_steps: None,
        patience: None,
        progress: false,
    };
}

impl Default for TrainConfig {
    /// [`TrainConfig::PUBLISHED`].
    fn default() -> Self {
        Self::PUBLISHED
    }
}

impl TrainConfig {
    /// Refuse settings that cannot train: no epochs, a learning rate that is
    /// not a positive number up to 1 (Adam at 1e10 "trains" to loss 1e31 and
    /// all-zero probabilities), a schedule step of 0, Adam's betas outside
    /// [0, 1), batches too small for BatchNorm.
    ///
    /// ```
    /// use circssnn::train::TrainConfig;
    /// assert!(TrainConfig::default().check().is_ok());
    /// let e = TrainConfig { lr: 1e10, ..Default::default() }.check().unwrap_err();
    /// assert_eq!(e.flag, "--lr");
    /// ```
    pub fn check(&self) -> Result<(), SpecError> {
        if self.epochs == 0 {
            return Err(SpecError::new("--epochs", 0, "train at least one epoch"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 1.0) {
            return Err(SpecError::new(
                "--lr",
                self.lr,
                "the learning rate must be above 0 and at most 1 (the paper uses 3e-3)",
            ));
        }
        if self.lr_step == 0 {
            return Err(SpecError::new(
                "--lr-step",
                0,
                "the learning rate is multiplied by 0.1 every N epochs; N must be at least 1",
            ));
        }
        if self.lr_step_steps == Some(0) {
            return Err(SpecError::new(
                "--lr-step-steps",
                0,
                "must be at least 1 step",
            ));
        }
        if self.patience == Some(0) {
            return Err(SpecError::new(
                "--patience",
                0,
                "stop after at least 1 epoch without improvement (or leave it out)",
            ));
        }
        if !(self.lr_gamma > 0.0 && self.lr_gamma <= 1.0) {
            return Err(SpecError::new(
                "lr_gamma",
                self.lr_gamma,
                "must be in (0, 1]",
            ));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(SpecError::new(name, b, "Adam's betas lie in [0, 1)"));
            }
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(SpecError::new(
                "weight_decay",
                self.weight_decay,
                "must be 0 or more",
            ));
        }
        if self.batch_size < 2 || self.eval_batch == 0 {
            return Err(SpecError::new(
                "batch_size",
                self.batch_size,
                "BatchNorm needs batches of at least 2 windows",
            ));
        }
        Ok(())
    }

    /// Learning rate at optimiser step `step` (1-based, counted over the
    /// whole run) of `epoch` (1-based): the step schedule when
    /// `lr_step_steps` is set, else the epoch schedule.
    pub fn lr_at_step(&self, epoch: usize, step: usize) -> f64 {
        match self.lr_step_steps {
            Some(every) => {
                self.lr
                    * self
                        .lr_gamma
                        .powi(((step.max(1) - 1) / every.max(1)) as i32)
            }
            None => self.lr_at(epoch),
        }
    }

    /// Learning rate during `epoch` (1-based) under the epoch schedule.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.lr
            * self
                .lr_gamma
                .powi(((epoch - 1) / self.lr_step.max(1)) as i32)
    }
}
