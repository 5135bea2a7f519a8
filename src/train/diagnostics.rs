//! What a notebook looks at inside a network: the gradient reaching each
//! Seq_Transformer block, which is where pre- and post-norm differ (paper
//! Eq. 6 and 7), and a short constant-learning-rate training that shows
//! where the two placements part ways as the stack deepens.

use std::path::Path;

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::prelude::{Device, Gradients, Tensor};
use dfdx::shapes::Shape;
use dfdx::tensor_ops::Backward;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::batch::{make_batch, predict_proba, targets, Descriptors};
use super::fit::{adam, train_step};
use super::{TrainConfig, TrainError};
use crate::data::Dataset;
use crate::eval::roc_auc;
use crate::model::block::TransformerBlock;
use crate::model::{CircSsnn, Elem, Norm};

fn sq<S: Shape, D: Device<Elem>>(grads: &Gradients<Elem, D>, t: &Tensor<S, Elem, D>) -> f64 {
    grads
        .get(t)
        .as_vec()
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum()
}

fn block_sq<D: Device<Elem>>(grads: &Gradients<Elem, D>, b: &TransformerBlock<Elem, D>) -> f64 {
    sq(grads, &b.norm_attn.gamma)
        + sq(grads, &b.norm_attn.beta)
        + sq(grads, &b.attn.to_q.weight)
        + sq(grads, &b.attn.to_k.weight)
        + sq(grads, &b.attn.to_v.weight)
        + sq(grads, &b.attn.to_out.weight)
        + sq(grads, &b.attn.to_out.bias)
        + sq(grads, &b.norm_ffn.gamma)
        + sq(grads, &b.norm_ffn.beta)
        + sq(grads, &b.ffn_in.weight)
        + sq(grads, &b.ffn_in.bias)
        + sq(grads, &b.ffn_out.weight)
        + sq(grads, &b.ffn_out.bias)
}

/// L2 norm of the loss gradient with respect to each block's parameters
/// (block 1 nearest the input) for one training batch `seqs` / `labels`,
/// dropout on as in training. `net` itself is left untouched (a copy runs
/// the batch, so BatchNorm's running statistics do not move).
///
/// ```no_run
/// use circssnn::model::{CircSsnn, ModelConfig, Norm, BERT_SMALL};
/// use circssnn::train::{diagnostics::block_gradient_norms, Descriptors};
/// use dfdx::prelude::*;
/// let dev = Cpu::seed_from_u64(0);
/// let net = CircSsnn::<BERT_SMALL, 4, Cpu>::new(&dev, ModelConfig { norm: Norm::Post, ..Default::default() });
/// let desc = Descriptors { knfp: Some(&circssnn::features::Knfp), vec: None, bert: None };
/// let seqs = vec![[b'A'; 101].as_slice(), [b'C'; 101].as_slice()];
/// let norms = block_gradient_norms(&net, &dev, &desc, &seqs, &[1, 0])?;
/// assert_eq!(norms.len(), 4);
/// # Ok::<(), circssnn::train::TrainError>(())
/// ```
pub fn block_gradient_norms<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    net: &CircSsnn<BERT, DEPTH, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    seqs: &[&[u8]],
    labels: &[u8],
) -> Result<Vec<f64>, TrainError> {
    assert_eq!(seqs.len(), labels.len(), "one label per window");
    desc.check(net.config.views)?;
    let mut net = net.clone();
    let batch = make_batch(dev, desc, net.config.views, seqs)?;
    let grads =
        cross_entropy_with_logits_loss(net.forward_train(&batch)?, targets(dev, labels)).backward();
    Ok(net
        .params
        .blocks
        .modules
        .iter()
        .map(|b| block_sq(&grads, b).sqrt())
        .collect())
}

/// Settings of [`constant_lr_run`]: a short training at one fixed learning
/// rate, no warm-up and no decay (the published schedule's first epochs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShortRunConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Windows per step.
    pub batch_size: usize,
    /// The learning rate of every step (Adam, published betas and L2 3e-4).
    pub lr: f64,
    /// Seed of the batch order (the weights come from the seeded device).
    pub seed: u64,
}

impl Default for ShortRunConfig {
    /// 100 steps of 32 windows at the published 3e-3, seed 4.
    fn default() -> Self {
        Self {
            steps: 100,
            batch_size: 32,
            lr: TrainConfig::PUBLISHED.lr,
            seed: 4,
        }
    }
}

/// What [`constant_lr_run`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShortRun {
    /// Training loss of every step that ran.
    pub losses: Vec<f64>,
    /// [`block_gradient_norms`] on the first batch, before the first step.
    pub grad_init: Vec<f64>,
    /// The same, on the same batch, after the last step (empty if it diverged).
    pub grad_trained: Vec<f64>,
    /// Whole-validation AUC after the last step (`None` if it diverged).
    pub valid_auc: Option<f64>,
    /// The step whose loss was not finite, if one was; training stops there.
    pub diverged_at: Option<usize>,
}

/// Train `net` for `cfg.steps` steps at the constant learning rate
/// `cfg.lr` on batches drawn in a seeded order from `train`, and measure
/// what differs between pre- and post-norm: the loss of every step, the
/// gradient reaching each block before and after, and the validation AUC.
/// A non-finite loss is a result here, not an error: the run stops and
/// says at which step.
#[allow(clippy::too_many_arguments)]
pub fn constant_lr_run<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    net: &mut CircSsnn<BERT, DEPTH, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    data: &Dataset,
    train: &[usize],
    valid: &[usize],
    cfg: &ShortRunConfig,
) -> Result<ShortRun, TrainError> {
    desc.check(net.config.views)?;
    let mut order = train.to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    order.shuffle(&mut rng);
    let batches: Vec<&[usize]> = order.chunks_exact(cfg.batch_size).collect();
    if batches.is_empty() {
        return Err(TrainError::Split(format!(
            "{} training windows make no batch of {}",
            train.len(),
            cfg.batch_size
        )));
    }
    let (probe_seqs, probe_labels) = data.part(batches[0]);
    let grad_init = block_gradient_norms(net, dev, desc, &probe_seqs, &probe_labels)?;
    let mut opt = adam(
        net,
        &TrainConfig {
            lr: cfg.lr,
            ..TrainConfig::PUBLISHED
        },
    );
    let unused_expected = net.unused_view_tensors();
    let mut losses = Vec::with_capacity(cfg.steps);
    for step in 0..cfg.steps {
        let (seqs, labels) = data.part(batches[step % batches.len()]);
        let value = f64::from(train_step(
            net,
            &mut opt,
            dev,
            desc,
            &seqs,
            &labels,
            unused_expected,
        )?);
        if !value.is_finite() {
            return Ok(ShortRun {
                losses,
                grad_init,
                grad_trained: Vec::new(),
                valid_auc: None,
                diverged_at: Some(step + 1),
            });
        }
        losses.push(value);
    }
    let grad_trained = block_gradient_norms(net, dev, desc, &probe_seqs, &probe_labels)?;
    let (valid_seqs, valid_labels) = data.part(valid);
    let scores = predict_proba(net, dev, desc, &valid_seqs, 256)?;
    let valid_auc = Some(roc_auc(&scores, &valid_labels)?);
    Ok(ShortRun {
        losses,
        grad_init,
        grad_trained,
        valid_auc,
        diverged_at: None,
    })
}

/// One arm of the depth experiment (`examples/norm_depth.rs`), as stored
/// in `data/results/norm-depth/arms/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthArm {
    /// Transformer blocks.
    pub depth: usize,
    /// LayerNorm placement.
    pub norm: Norm,
    /// The run's settings.
    pub config: ShortRunConfig,
    /// What it measured.
    pub run: ShortRun,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl ShortRun {
    /// Mean loss of the last `n` steps that ran (NaN if none ran).
    pub fn final_loss(&self, n: usize) -> f64 {
        let tail = &self.losses[self.losses.len().saturating_sub(n)..];
        tail.iter().sum::<f64>() / tail.len() as f64
    }
}

/// Every arm stored in `dir` (`*.json`), sorted by depth, pre-norm first.
pub fn read_depth_arms(dir: &Path) -> Result<Vec<DepthArm>, TrainError> {
    let bad = |path: &Path, message: String| TrainError::Results {
        path: path.to_path_buf(),
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| bad(dir, e.to_string()))?;
    let mut arms = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| bad(dir, e.to_string()))?.path();
        if path.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&path).map_err(|e| bad(&path, e.to_string()))?;
            let arm: DepthArm = serde_json::from_str(&text)
                .map_err(|e| bad(&path, format!("not a depth-experiment arm: {e}")))?;
            arms.push(arm);
        }
    }
    arms.sort_by_key(|a| (a.depth, a.norm != Norm::Pre));
    Ok(arms)
}
