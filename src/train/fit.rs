//! The training loop (paper: Adam, lr 3e-3, betas (0.9, 0.99), weight decay
//! 3e-4, batch 64, lr x0.1 every 2 epochs) with honest model selection: the
//! best epoch is the one with the highest *validation* AUC, and the test set
//! is scored whole. The published protocol (best epoch by batch-mean *test*
//! AUC) is computed beside it, only to show how much it inflates.

use std::path::Path;
use std::time::Instant;

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::optim::{Adam, AdamConfig, Optimizer, OptimizerUpdateError, WeightDecay};
use dfdx::prelude::{Const, Device};
use dfdx::tensor_ops::Backward;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::batch::{make_batch, predict_proba, Descriptors};
use super::checkpoint::{load_checkpoint, save_checkpoint, CheckpointMeta};
use super::TrainError;
use crate::data::{Dataset, Split};
use crate::eval::{binary_metrics, published_batch_mean, BinaryMetrics, PUBLISHED_BATCH};
use crate::model::{CircSsnn, Elem};
use crate::output::write_atomic;

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
    /// Draw a progress bar on stderr.
    #[serde(skip)]
    pub progress: bool,
}

impl Default for TrainConfig {
    /// The published settings with 10 epochs.
    fn default() -> Self {
        Self {
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
            progress: false,
        }
    }
}

impl TrainConfig {
    /// Learning rate during `epoch` (1-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.lr
            * self
                .lr_gamma
                .powi(((epoch - 1) / self.lr_step.max(1)) as i32)
    }
}

/// One epoch of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Whole-validation-set AUC (what selects the model).
    pub valid_auc: f64,
    /// Whole-test-set AUC (reported, never used for selection).
    pub test_auc: f64,
    /// Batch-mean test AUC as the published protocol computes it; NaN when
    /// the test part has no full two-class batch of 64.
    #[serde(deserialize_with = "nan_if_null")]
    pub test_auc_batch_mean: f64,
    /// Wall time of the epoch, seconds.
    pub seconds: f64,
}

/// The published protocol's number: the best batch-mean test AUC over all
/// epochs (model selection on the test set). Reported only for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PublishedProtocol {
    /// Max over epochs of the batch-mean test AUC; NaN when it is undefined
    /// in every epoch (see [`EpochRecord::test_auc_batch_mean`]).
    #[serde(deserialize_with = "nan_if_null")]
    pub auc: f64,
    /// The epoch it came from.
    pub epoch: usize,
}

/// serde_json writes a NaN as `null`; read it back as NaN so that a run
/// whose published-protocol AUC is undefined can still resume.
fn nan_if_null<'de, De: serde::Deserializer<'de>>(d: De) -> Result<f64, De::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Result of [`fit`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitReport {
    /// Every epoch.
    pub history: Vec<EpochRecord>,
    /// Epoch with the best validation AUC; the returned network is this one.
    pub best_epoch: usize,
    /// Whole-validation-set metrics of the selected model.
    pub valid: BinaryMetrics,
    /// Whole-test-set metrics of the selected model: the honest result.
    pub test: BinaryMetrics,
    /// The published protocol, for comparison.
    pub published: PublishedProtocol,
    /// Epoch a resumed run continued after, if any.
    pub resumed_after: Option<usize>,
}

/// Where [`fit`] keeps checkpoints, and what to record in them.
pub struct RunDir<'a> {
    /// Output folder.
    pub dir: &'a Path,
    /// Metadata template (its `epoch` is filled in per save).
    pub meta: CheckpointMeta,
    /// Continue from the folder's last finished epoch if there is one.
    pub resume: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunState {
    /// Training settings and checkpoint metadata minus the epoch: a resumed
    /// run must match them.
    signature: String,
    history: Vec<EpochRecord>,
    best_epoch: usize,
}

fn signature(cfg: &TrainConfig, meta: &CheckpointMeta) -> String {
    let cfg = TrainConfig { epochs: 0, ..*cfg };
    let meta = CheckpointMeta {
        epoch: 0,
        ..meta.clone()
    };
    serde_json::json!({ "train": cfg, "meta": meta }).to_string()
}

fn pick<'a>(data: &'a Dataset, idx: &[usize]) -> (Vec<&'a [u8]>, Vec<u8>) {
    idx.iter()
        .map(|&i| (data.records[i].seq.as_slice(), data.labels[i]))
        .unzip()
}

fn check_part(name: &str, labels: &[u8]) -> Result<(), TrainError> {
    let pos = labels.iter().filter(|&&y| y == 1).count();
    if pos == 0 || pos == labels.len() {
        return Err(TrainError::Split(format!(
            "the {name} part has {} records, {pos} positive: it needs both classes",
            labels.len()
        )));
    }
    Ok(())
}

/// Train `net` on `split.train`, select the epoch by validation AUC, and
/// score the selected network on the whole test part. On return `net` holds
/// the selected (best-validation) weights.
pub fn fit<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    net: &mut CircSsnn<BERT, DEPTH, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    data: &Dataset,
    split: &Split,
    cfg: &TrainConfig,
    run: Option<&RunDir<'_>>,
) -> Result<FitReport, TrainError> {
    desc.check(net.config.views)?;
    let (valid_x, valid_y) = pick(data, &split.valid);
    let (test_x, test_y) = pick(data, &split.test);
    check_part("validation", &valid_y)?;
    check_part("test", &test_y)?;
    if split.train.len() < cfg.batch_size.max(2) {
        return Err(TrainError::Split(format!(
            "only {} training records for batches of {}",
            split.train.len(),
            cfg.batch_size
        )));
    }
    // The published loader visits the test set in shuffled order; batch means
    // depend on that order, so it is seeded and fixed for the whole run.
    let mut test_order: Vec<usize> = (0..test_x.len()).collect();
    test_order.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x7e57));

    let mut history: Vec<EpochRecord> = Vec::new();
    let mut best_epoch = 0;
    let mut best_net = net.clone();
    // Validation and test metrics of `best_net`, kept from the epoch that
    // chose it; `None` only when the best epoch came from a resumed run.
    let mut best_metrics: Option<(BinaryMetrics, BinaryMetrics)> = None;
    let mut resumed_after = None;
    if let Some(run) = run.filter(|r| r.resume) {
        if let Some(state) = read_state(run.dir)? {
            if state.signature != signature(cfg, &run.meta) {
                return Err(TrainError::Checkpoint {
                    path: run.dir.join("state.json"),
                    message: "was written by a run with other settings; use another --out or drop --resume".into(),
                });
            }
            let (last, _) = load_checkpoint::<BERT, DEPTH, D>(dev, run.dir, "last")?;
            let (best, _) = load_checkpoint::<BERT, DEPTH, D>(dev, run.dir, "best")?;
            *net = last;
            best_net = best;
            best_epoch = state.best_epoch;
            resumed_after = state.history.last().map(|r| r.epoch);
            history = state.history;
        }
    }

    let mut opt = Adam::new(
        &net.params,
        AdamConfig {
            lr: cfg.lr,
            betas: [cfg.beta1, cfg.beta2],
            eps: 1e-8,
            weight_decay: Some(WeightDecay::L2(cfg.weight_decay)),
        },
    );
    // Parameters of views the network does not read get no gradient; the
    // optimiser reports them, and only they may be missing.
    let v = net.config.views;
    let unused_expected = 4 * [v.knfp, v.vec, v.bert].iter().filter(|on| !**on).count();

    let steps_per_epoch = split.train.len() / cfg.batch_size;
    let start_epoch = history.len() + 1;
    let bar = ProgressBar::with_draw_target(
        Some(((cfg.epochs + 1).saturating_sub(start_epoch) * steps_per_epoch) as u64),
        if cfg.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} steps {msg} ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );

    for epoch in start_epoch..=cfg.epochs {
        let t0 = Instant::now();
        let lr = cfg.lr_at(epoch);
        opt.cfg.lr = lr;
        let mut order = split.train.clone();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            cfg.seed.wrapping_add(epoch as u64),
        ));
        let mut loss_sum = 0.0;
        bar.set_prefix(format!("epoch {epoch}/{}", cfg.epochs));
        // Like the published loader, drop the last incomplete batch: a batch
        // of one would break BatchNorm's statistics.
        for (step, idx) in order.chunks_exact(cfg.batch_size).enumerate() {
            let (seqs, labels) = pick(data, idx);
            let batch = make_batch(dev, desc, net.config.views, &seqs)?;
            let onehot: Vec<Elem> = labels
                .iter()
                .flat_map(|&y| if y == 1 { [0.0, 1.0] } else { [1.0, 0.0] })
                .collect();
            let target = dev.tensor_from_vec(onehot, (labels.len(), Const::<2>));
            let logits = net.forward_train(&batch)?;
            let loss = cross_entropy_with_logits_loss(logits, target);
            let value = loss.as_vec()[0];
            if !value.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    step: step + 1,
                    loss: value,
                });
            }
            loss_sum += value as f64;
            let grads = loss.backward();
            match opt.update(&mut net.params, &grads) {
                Ok(()) => {}
                Err(OptimizerUpdateError::UnusedParams(u)) if u.ids.len() == unused_expected => {}
                Err(e) => return Err(TrainError::Optimiser(e.to_string())),
            }
            bar.inc(1);
            bar.set_message(format!("loss {:.4}", loss_sum / (step + 1) as f64));
        }

        let valid_p = predict_proba(net, dev, desc, &valid_x, cfg.eval_batch)?;
        let valid_m = binary_metrics(&valid_p, &valid_y, 0.5)?;
        let valid_auc = valid_m.auc;
        let test_p = predict_proba(net, dev, desc, &test_x, cfg.eval_batch)?;
        let test_m = binary_metrics(&test_p, &test_y, 0.5)?;
        let test_auc = test_m.auc;
        let shuffled_p: Vec<f64> = test_order.iter().map(|&i| test_p[i]).collect();
        let shuffled_y: Vec<u8> = test_order.iter().map(|&i| test_y[i]).collect();
        let batch_mean = published_batch_mean(&shuffled_p, &shuffled_y, PUBLISHED_BATCH)?.auc;
        let record = EpochRecord {
            epoch,
            lr,
            train_loss: loss_sum / steps_per_epoch.max(1) as f64,
            valid_auc,
            test_auc,
            test_auc_batch_mean: batch_mean,
            seconds: t0.elapsed().as_secs_f64(),
        };
        bar.println(format!(
            "epoch {epoch:>2}  lr {lr:.1e}  loss {:.4}  valid AUC {valid_auc:.4}  ({:.1} s)",
            record.train_loss, record.seconds
        ));
        let improved = best_epoch == 0 || valid_auc > history[best_epoch - 1].valid_auc;
        history.push(record);
        if improved {
            best_epoch = epoch;
            best_net = net.clone();
            best_metrics = Some((valid_m, test_m));
        }
        if let Some(run) = run {
            let meta = CheckpointMeta {
                epoch,
                ..run.meta.clone()
            };
            save_checkpoint(run.dir, "last", net, &meta)?;
            if improved {
                save_checkpoint(run.dir, "best", net, &meta)?;
            }
            write_state(
                run.dir,
                &RunState {
                    signature: signature(cfg, &run.meta),
                    history: history.clone(),
                    best_epoch,
                },
            )?;
        }
    }
    bar.finish_and_clear();
    if best_epoch == 0 {
        return Err(TrainError::Split(format!(
            "nothing to train: the run already has {} epochs (ask for more with --epochs)",
            history.len()
        )));
    }

    *net = best_net;
    let (valid, test) = match best_metrics {
        Some(m) => m,
        None => (
            binary_metrics(
                &predict_proba(net, dev, desc, &valid_x, cfg.eval_batch)?,
                &valid_y,
                0.5,
            )?,
            binary_metrics(
                &predict_proba(net, dev, desc, &test_x, cfg.eval_batch)?,
                &test_y,
                0.5,
            )?,
        ),
    };
    let published = history
        .iter()
        .fold(None::<PublishedProtocol>, |best, r| match best {
            // An undefined epoch never beats a defined one.
            Some(b) if b.auc >= r.test_auc_batch_mean || r.test_auc_batch_mean.is_nan() => Some(b),
            _ => Some(PublishedProtocol {
                auc: r.test_auc_batch_mean,
                epoch: r.epoch,
            }),
        })
        .expect("at least one epoch");
    Ok(FitReport {
        history,
        best_epoch,
        valid,
        test,
        published,
        resumed_after,
    })
}

fn read_state(dir: &Path) -> Result<Option<RunState>, TrainError> {
    let path = dir.join("state.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::Checkpoint {
        path: path.clone(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| TrainError::Checkpoint {
            path,
            message: format!("corrupt run state: {e}"),
        })
}

fn write_state(dir: &Path, state: &RunState) -> Result<(), TrainError> {
    let path = dir.join("state.json");
    write_atomic(&path, |w| {
        serde_json::to_writer_pretty(w, state).map_err(std::io::Error::other)
    })
    .map_err(|e| TrainError::Checkpoint {
        path,
        message: e.to_string(),
    })
}
