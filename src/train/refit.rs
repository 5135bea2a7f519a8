//! Refitting the heads of a trained multi-task network on its frozen
//! encoder: the per-head fine-tuning step of [`fit_multi`](super::fit_multi).
//!
//! Why: trained jointly, some heads die (every window of their set gets
//! the same probability: whole-test AUC 0.5000 for 11 of the 37 circular
//! heads in the 2,000-window run, large sets and small alike), and the
//! epoch is chosen on the *mean* validation AUC, which no single head's
//! best epoch has to agree with. A dead head's ReLUs pass no gradient, so
//! more joint training cannot revive it.
//!
//! What: for each head, the windows of its set's training and validation
//! parts go once through the frozen network up to the head's input (the
//! tokens after the last block, `128 x 400` per window); a freshly
//! initialised [`Head`] is trained on those alone, and the epoch with the
//! best validation AUC of that head is kept. It replaces the jointly
//! trained head only if its validation AUC is higher: the choice is made on
//! validation, the test parts are untouched. The shared encoder and block
//! do not change, so the network stays one file and one forward pass.
//!
//! The head's settings are the published ones (Adam, L2 3e-4, batch 64)
//! with a constant learning rate of 1e-3 (the published 3e-3 is for the
//! whole network; not tuned further), at most 30 epochs, patience 4, and
//! no dropout: the device's random stream would make a refit resumed after
//! a kill differ from an uninterrupted one, so the head's initial weights
//! come from the run's seed and early stopping on validation is the only
//! guard against overfitting. A set's features take 205 KB a window (f32), so at most
//! [`MAX_REFIT_TRAIN`] training windows are used (a seeded sample).

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::BuildOnDevice;
use dfdx::optim::{Adam, AdamConfig, Optimizer, WeightDecay};
use dfdx::prelude::{Const, Device, NoneTape, OwnedTape, Shape, Tensor};
use dfdx::shapes::HasShape;
use dfdx::tensor_ops::Backward;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::batch::{make_batch, targets, Descriptors};
use super::config::TrainConfig;
use super::TrainError;
use crate::eval::binary_metrics;
use crate::model::{CircSsnnMulti, Head, HeadBuilder, Heads, Tokens, TOKENS, WIDTH};
use crate::nn::{Elem, TrainProgress};

/// Most training windows a head is refitted on (820 MB of features).
pub const MAX_REFIT_TRAIN: usize = 4_000;
const LR: f64 = 1e-3;
const EPOCHS: usize = 30;
const PATIENCE: usize = 4;
/// Floats of one window's features.
const FEATURES: usize = TOKENS * WIDTH;

/// What refitting did to one head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadRefit {
    /// Whole-validation AUC of the head as trained jointly.
    pub joint_valid_auc: f64,
    /// Best whole-validation AUC of the refitted head.
    pub refit_valid_auc: f64,
    /// Its epoch (1-based).
    pub refit_epoch: usize,
    /// Whether the refitted head replaced the joint one (higher validation AUC).
    pub replaced: bool,
}

/// A part of one set: windows and labels.
pub type Part<'a> = (Vec<&'a [u8]>, Vec<u8>);

/// Refit every head of `net` on its set's `train` part (head `r` is
/// `train[r]`, `valid[r]`), keeping a refitted head where its validation
/// AUC beats the joint head's. Deterministic for a seed.
pub fn refit_heads<const BERT: usize, const DEPTH: usize, const RBPS: usize, D>(
    net: &mut CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    train: &[Part<'_>],
    valid: &[Part<'_>],
    cfg: &TrainConfig,
    lines: &TrainProgress,
) -> Result<Vec<HeadRefit>, TrainError>
where
    D: Device<Elem>,
{
    let mut out = Vec::with_capacity(RBPS);
    for r in 0..RBPS {
        lines.prefix(format!("refit head {}/{RBPS}", r + 1));
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(1_000 + r as u64));
        let (seqs, labels) = &train[r];
        let mut keep: Vec<usize> = (0..seqs.len()).collect();
        if keep.len() > MAX_REFIT_TRAIN {
            keep.shuffle(&mut rng);
            keep.truncate(MAX_REFIT_TRAIN);
            keep.sort_unstable();
        }
        let train_seqs: Vec<&[u8]> = keep.iter().map(|&i| seqs[i]).collect();
        let train_labels: Vec<u8> = keep.iter().map(|&i| labels[i]).collect();
        let train_x = features(net, dev, desc, &train_seqs, cfg.eval_batch)?;
        let valid_x = features(net, dev, desc, &valid[r].0, cfg.eval_batch)?;
        let valid_y = &valid[r].1;

        let joint = &net.params.head.modules[r];
        let joint_valid_auc = head_auc(joint, dev, &valid_x, valid_y, cfg.eval_batch)?;
        let mut head = fresh_head(dev, &mut rng)
            .map_err(|e| TrainError::Optimiser(format!("cannot allocate a head: {e:?}")))?;
        let mut opt = Adam::new(
            &head,
            AdamConfig {
                lr: LR,
                betas: [cfg.beta1, cfg.beta2],
                eps: 1e-8,
                weight_decay: Some(WeightDecay::L2(cfg.weight_decay)),
            },
        );
        let (mut best, mut best_epoch, mut best_auc) = (head.clone(), 0, f64::NEG_INFINITY);
        let mut order: Vec<usize> = (0..train_labels.len()).collect();
        for epoch in 1..=EPOCHS {
            order.shuffle(&mut rng);
            for (step, chunk) in order.chunks(cfg.batch_size).enumerate() {
                if chunk.len() < 2 {
                    continue;
                }
                let x: Tokens<D, OwnedTape<Elem, D>> = rows(dev, &train_x, chunk).retaped();
                let y: Vec<u8> = chunk.iter().map(|&i| train_labels[i]).collect();
                let loss = cross_entropy_with_logits_loss(head.forward(x, 0.0), targets(dev, &y));
                let value = loss.as_vec()[0];
                if !value.is_finite() {
                    return Err(TrainError::NonFiniteLoss {
                        epoch,
                        step: step + 1,
                        loss: value,
                    });
                }
                let grads = loss.backward();
                opt.update(&mut head, &grads)
                    .map_err(|e| TrainError::Optimiser(e.to_string()))?;
            }
            let auc = head_auc(&head, dev, &valid_x, valid_y, cfg.eval_batch)?;
            if auc > best_auc {
                (best, best_epoch, best_auc) = (head.clone(), epoch, auc);
            } else if epoch - best_epoch >= PATIENCE {
                break;
            }
        }
        let replaced = best_auc > joint_valid_auc;
        if replaced {
            net.params.head.modules[r] = best;
        }
        lines.line(format!(
            "head {:>2}: validation AUC joint {joint_valid_auc:.4}, refitted {best_auc:.4} \
             (epoch {best_epoch}){}",
            r + 1,
            if replaced { ", replaced" } else { "" }
        ));
        lines.inc(1);
        out.push(HeadRefit {
            joint_valid_auc,
            refit_valid_auc: best_auc,
            refit_epoch: best_epoch,
            replaced,
        });
    }
    Ok(out)
}

/// A new head, initialised as dfdx initialises one (uniform within
/// `1/sqrt(fan_in)`) but from `rng`, so it depends on the seed only.
fn fresh_head<D: Device<Elem>>(dev: &D, rng: &mut ChaCha8Rng) -> Result<Head<Elem, D>, D::Err> {
    fn fill<S: Shape, D: Device<Elem>>(
        t: &mut Tensor<S, Elem, D>,
        fan_in: usize,
        rng: &mut ChaCha8Rng,
    ) {
        let b = 1.0 / (fan_in as Elem).sqrt();
        let v: Vec<Elem> = (0..t.shape().num_elements())
            .map(|_| rng.gen_range(-b..b))
            .collect();
        t.copy_from(&v);
    }
    let mut h: Head<Elem, D> = HeadBuilder::try_build_on_device(dev)?;
    fill(&mut h.token_pool, TOKENS, rng);
    fill(&mut h.fc1.weight, WIDTH, rng);
    fill(&mut h.fc1.bias, WIDTH, rng);
    fill(&mut h.fc2.weight, 100, rng);
    fill(&mut h.fc2.bias, 100, rng);
    fill(&mut h.fc3.weight, 20, rng);
    fill(&mut h.fc3.bias, 20, rng);
    Ok(h)
}

/// The head input of every window, `FEATURES` floats each, in order.
fn features<const BERT: usize, const DEPTH: usize, const RBPS: usize, D: Device<Elem>>(
    net: &CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    seqs: &[&[u8]],
    batch_size: usize,
) -> Result<Vec<Elem>, TrainError> {
    let mut out = Vec::with_capacity(seqs.len() * FEATURES);
    for chunk in seqs.chunks(batch_size.max(1)) {
        let batch = make_batch(dev, desc, net.config.views, chunk)?;
        out.extend(net.head_input_eval(&batch)?.as_vec());
    }
    Ok(out)
}

/// The windows `idx` of `x` as one batch.
fn rows<D: Device<Elem>>(dev: &D, x: &[Elem], idx: &[usize]) -> Tokens<D, NoneTape> {
    let mut buf = Vec::with_capacity(idx.len() * FEATURES);
    for &i in idx {
        buf.extend_from_slice(&x[i * FEATURES..(i + 1) * FEATURES]);
    }
    dev.tensor_from_vec(buf, (idx.len(), Const, Const))
}

/// Whole-part AUC of `head` on features `x` with labels `y`.
fn head_auc<D: Device<Elem>>(
    head: &Head<Elem, D>,
    dev: &D,
    x: &[Elem],
    y: &[u8],
    batch_size: usize,
) -> Result<f64, TrainError> {
    let idx: Vec<usize> = (0..y.len()).collect();
    let mut p = Vec::with_capacity(y.len());
    for chunk in idx.chunks(batch_size.max(1)) {
        p.extend(<Head<Elem, D> as Heads<D>>::bound_probs(
            head.forward(rows(dev, x, chunk), 0.0),
        ));
    }
    Ok(binary_metrics(&p, y, 0.5)?.auc)
}
