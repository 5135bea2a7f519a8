//! The training loop (paper: Adam, lr 3e-3, betas (0.9, 0.99), weight decay
//! 3e-4, batch 64, lr x0.1 every 2 epochs) with honest model selection: the
//! best epoch is the one with the highest *validation* AUC, and the test set
//! is scored whole. The published protocol (best epoch by batch-mean *test*
//! AUC) is computed beside it, only to show how much it inflates.

use std::path::Path;
use std::time::Instant;

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::optim::{Adam, AdamConfig, Optimizer, OptimizerUpdateError, WeightDecay};
use dfdx::prelude::Device;
use dfdx::tensor_ops::Backward;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::batch::{make_batch, predict_proba, targets, Descriptors};
use super::checkpoint::{checkpoint_files, load_checkpoint, CheckpointMeta};
use super::config::TrainConfig;
use super::TrainError;
use crate::data::{Dataset, Split};
use crate::eval::{binary_metrics, published_batch_mean, BinaryMetrics, PUBLISHED_BATCH};
use crate::model::{CircSsnn, CircSsnnParams, Elem, Heads};
use crate::nn::{drive, TrainProgress, Trainer};
use crate::output::commit_files;

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
    /// Whether training stopped before `epochs` because validation AUC had
    /// not improved for `patience` epochs.
    #[serde(default)]
    pub stopped_early: bool,
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

/// Adam with `cfg`'s learning rate, betas and L2 weight decay added to the
/// gradient (as PyTorch's Adam does).
pub(super) fn adam<const BERT: usize, const DEPTH: usize, D: Device<Elem>, H: Heads<D>>(
    net: &CircSsnn<BERT, DEPTH, D, H>,
    cfg: &TrainConfig,
) -> Adam<CircSsnnParams<BERT, DEPTH, Elem, D, H>, Elem, D> {
    Adam::new(
        &net.params,
        AdamConfig {
            lr: cfg.lr,
            betas: [cfg.beta1, cfg.beta2],
            eps: 1e-8,
            weight_decay: Some(WeightDecay::L2(cfg.weight_decay)),
        },
    )
}

/// One optimiser step on a batch; returns the batch's loss. A loss that is
/// not finite is returned before the backward pass, with the weights
/// untouched, for the caller to report. Parameters of views the network
/// does not read get no gradient: the optimiser reports them, and only
/// `unused_expected` of them may be missing.
pub(super) fn train_step<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    net: &mut CircSsnn<BERT, DEPTH, D>,
    opt: &mut Adam<CircSsnnParams<BERT, DEPTH, Elem, D>, Elem, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    seqs: &[&[u8]],
    labels: &[u8],
    unused_expected: usize,
) -> Result<f32, TrainError> {
    let batch = make_batch(dev, desc, net.config.views, seqs)?;
    let loss = cross_entropy_with_logits_loss(net.forward_train(&batch)?, targets(dev, labels));
    let value = loss.as_vec()[0];
    if !value.is_finite() {
        return Ok(value);
    }
    let grads = loss.backward();
    match opt.update(&mut net.params, &grads) {
        Ok(()) => Ok(value),
        Err(OptimizerUpdateError::UnusedParams(u)) if u.ids.len() == unused_expected => Ok(value),
        Err(e) => Err(TrainError::Optimiser(e.to_string())),
    }
}

pub(super) fn check_part(name: &str, labels: &[u8]) -> Result<(), TrainError> {
    let pos = labels.iter().filter(|&&y| y == 1).count();
    if pos == 0 || pos == labels.len() {
        return Err(TrainError::Split(format!(
            "the {name} part has {} records, {pos} positive: it needs both classes",
            labels.len()
        )));
    }
    Ok(())
}

/// The epochs a run has behind it: the history, the best epoch so far and
/// its network (with its metrics when this process computed them).
struct Progress<const BERT: usize, const DEPTH: usize, D: Device<Elem>> {
    history: Vec<EpochRecord>,
    best_epoch: usize,
    best_net: CircSsnn<BERT, DEPTH, D>,
    /// Validation and test metrics of `best_net`; `None` only when the best
    /// epoch came from a resumed run.
    best_metrics: Option<(BinaryMetrics, BinaryMetrics)>,
    resumed_after: Option<usize>,
}

impl<const BERT: usize, const DEPTH: usize, D: Device<Elem>> Progress<BERT, DEPTH, D> {
    /// Record `record`; keep `net` if its validation AUC is the best so far.
    /// Returns whether it was.
    fn push(
        &mut self,
        record: EpochRecord,
        net: &CircSsnn<BERT, DEPTH, D>,
        metrics: (BinaryMetrics, BinaryMetrics),
    ) -> bool {
        let improved =
            self.best_epoch == 0 || record.valid_auc > self.history[self.best_epoch - 1].valid_auc;
        if improved {
            self.best_epoch = record.epoch;
            self.best_net = net.clone();
            self.best_metrics = Some(metrics);
        }
        self.history.push(record);
        improved
    }

    /// Epochs since the best one.
    fn since_best(&self) -> usize {
        self.history.len() - self.best_epoch
    }
}

/// The run folder's side of training: resume from it, save each epoch to it.
struct Checkpointer<'a> {
    run: Option<&'a RunDir<'a>>,
    signature: String,
}

impl<'a> Checkpointer<'a> {
    fn new(run: Option<&'a RunDir<'a>>, cfg: &TrainConfig) -> Self {
        let signature = run.map_or(String::new(), |r| signature(cfg, &r.meta));
        Checkpointer { run, signature }
    }

    /// The state of an earlier run to continue (with `--resume`), checked to
    /// have the same settings.
    fn resume<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
        &self,
        dev: &D,
        net: &mut CircSsnn<BERT, DEPTH, D>,
    ) -> Result<Progress<BERT, DEPTH, D>, TrainError> {
        let fresh = Progress {
            history: Vec::new(),
            best_epoch: 0,
            best_net: net.clone(),
            best_metrics: None,
            resumed_after: None,
        };
        let Some(run) = self.run.filter(|r| r.resume) else {
            return Ok(fresh);
        };
        let Some(state) = read_state::<RunState>(run.dir, &self.signature, |s| &s.signature)?
        else {
            return Ok(fresh);
        };
        if state.best_epoch > state.history.len()
            || (state.best_epoch == 0) != state.history.is_empty()
        {
            return Err(TrainError::Checkpoint {
                path: run.dir.join("state.json"),
                message: format!(
                    "best epoch {} does not fit its history of {} epochs (damaged run state); \
                     start the run again in a new --out",
                    state.best_epoch,
                    state.history.len()
                ),
            });
        }
        let (last, _) = load_checkpoint::<BERT, DEPTH, D>(dev, run.dir, "last")?;
        let (best, _) = load_checkpoint::<BERT, DEPTH, D>(dev, run.dir, "best")?;
        *net = last;
        Ok(Progress {
            resumed_after: state.history.last().map(|r| r.epoch),
            best_epoch: state.best_epoch,
            history: state.history,
            best_net: best,
            best_metrics: None,
        })
    }

    /// Save the epoch just trained: `last.*`, `best.*` if it improved, and
    /// the run state.
    fn save<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
        &self,
        net: &CircSsnn<BERT, DEPTH, D>,
        p: &Progress<BERT, DEPTH, D>,
        improved: bool,
    ) -> Result<(), TrainError> {
        let Some(run) = self.run else { return Ok(()) };
        let state = RunState {
            signature: self.signature.clone(),
            history: p.history.clone(),
            best_epoch: p.best_epoch,
        };
        save_epoch(run, net, p.history.len(), improved, &state)
    }
}

/// Save epoch `epoch` of a run into its folder: `last.*`, `best.*` when it
/// improved, and `state` as `state.json`, as one unit (a kill leaves the
/// previous epoch's set or this one's). Shared by [`fit`] and
/// [`fit_multi`](super::fit_multi).
pub(super) fn save_epoch<const BERT: usize, const DEPTH: usize, D: Device<Elem>, H: Heads<D>>(
    run: &RunDir<'_>,
    net: &CircSsnn<BERT, DEPTH, D, H>,
    epoch: usize,
    improved: bool,
    state: &impl Serialize,
) -> Result<(), TrainError> {
    let names: &[&str] = if improved {
        &["last", "best"]
    } else {
        &["last"]
    };
    save_checkpoints(run, net, epoch, names, state)
}

/// Save `net` (at epoch `epoch`) as each checkpoint of `names` and `state`
/// as `state.json`, as one unit: [`save_epoch`], and the refitted `best` of
/// [`fit_multi`](super::fit_multi).
pub(super) fn save_checkpoints<
    const BERT: usize,
    const DEPTH: usize,
    D: Device<Elem>,
    H: Heads<D>,
>(
    run: &RunDir<'_>,
    net: &CircSsnn<BERT, DEPTH, D, H>,
    epoch: usize,
    names: &[&str],
    state: &impl Serialize,
) -> Result<(), TrainError> {
    let meta = CheckpointMeta {
        epoch,
        ..run.meta.clone()
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for name in names {
        files.extend(checkpoint_files(run.dir, name, net, &meta)?);
    }
    let mut json = serde_json::to_vec_pretty(state).expect("run state serialises");
    json.push(b'\n');
    files.push(("state.json".into(), json));
    commit_files(run.dir, &files).map_err(|e| TrainError::Checkpoint {
        path: e.path,
        message: e.source.to_string(),
    })
}

/// The data side of training: the three parts, each epoch's batches, and
/// the evaluation after each epoch.
struct Parts<'a, const BERT: usize, D: Device<Elem>> {
    dev: &'a D,
    desc: &'a Descriptors<'a, BERT>,
    data: &'a Dataset,
    train: &'a [usize],
    cfg: &'a TrainConfig,
    valid: (Vec<&'a [u8]>, Vec<u8>),
    test: (Vec<&'a [u8]>, Vec<u8>),
    /// The published loader visits the test set in shuffled order; batch
    /// means depend on that order, so it is seeded and fixed for the run.
    test_order: Vec<usize>,
}

impl<'a, const BERT: usize, D: Device<Elem>> Parts<'a, BERT, D> {
    fn new(
        dev: &'a D,
        desc: &'a Descriptors<'a, BERT>,
        data: &'a Dataset,
        split: &'a Split,
        cfg: &'a TrainConfig,
    ) -> Result<Self, TrainError> {
        let valid = data.part(&split.valid);
        let test = data.part(&split.test);
        check_part("validation", &valid.1)?;
        check_part("test", &test.1)?;
        if split.train.len() < cfg.batch_size.max(2) {
            return Err(TrainError::Split(format!(
                "only {} training records for batches of {}",
                split.train.len(),
                cfg.batch_size
            )));
        }
        let mut test_order: Vec<usize> = (0..test.0.len()).collect();
        test_order.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x7e57));
        Ok(Parts {
            dev,
            desc,
            data,
            train: &split.train,
            cfg,
            valid,
            test,
            test_order,
        })
    }

    fn steps_per_epoch(&self) -> usize {
        self.train.len() / self.cfg.batch_size
    }

    /// One pass over the training part in a seeded order; the mean loss.
    fn epoch<const DEPTH: usize>(
        &self,
        net: &mut CircSsnn<BERT, DEPTH, D>,
        opt: &mut Adam<CircSsnnParams<BERT, DEPTH, Elem, D>, Elem, D>,
        epoch: usize,
        progress: &TrainProgress,
    ) -> Result<f64, TrainError> {
        let (cfg, dev) = (self.cfg, self.dev);
        let mut order = self.train.to_vec();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            cfg.seed.wrapping_add(epoch as u64),
        ));
        // Parameters of views the network does not read get no gradient; the
        // optimiser reports them, and only they may be missing.
        let unused_expected = net.unused_view_tensors();
        let first_step = (epoch - 1) * self.steps_per_epoch();
        let mut loss_sum = 0.0;
        // Like the published loader, drop the last incomplete batch: a batch
        // of one would break BatchNorm's statistics.
        for (step, idx) in order.chunks_exact(cfg.batch_size).enumerate() {
            opt.cfg.lr = cfg.lr_at_step(epoch, first_step + step + 1);
            let (seqs, labels) = self.data.part(idx);
            let value = train_step(net, opt, dev, self.desc, &seqs, &labels, unused_expected)?;
            if !value.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    step: step + 1,
                    loss: value,
                });
            }
            loss_sum += value as f64;
            progress.inc(1);
            progress.message(format!("loss {:.4}", loss_sum / (step + 1) as f64));
        }
        Ok(loss_sum / self.steps_per_epoch().max(1) as f64)
    }

    /// Whole-validation and whole-test metrics of `net`, and the published
    /// protocol's batch-mean test AUC.
    fn evaluate<const DEPTH: usize>(
        &self,
        net: &CircSsnn<BERT, DEPTH, D>,
    ) -> Result<(BinaryMetrics, BinaryMetrics, f64), TrainError> {
        let score =
            |(x, y): &(Vec<&[u8]>, Vec<u8>)| -> Result<(Vec<f64>, BinaryMetrics), TrainError> {
                let p = predict_proba(net, self.dev, self.desc, x, self.cfg.eval_batch)?;
                let m = binary_metrics(&p, y, 0.5)?;
                Ok((p, m))
            };
        let (_, valid) = score(&self.valid)?;
        let (test_p, test) = score(&self.test)?;
        let shuffled_p: Vec<f64> = self.test_order.iter().map(|&i| test_p[i]).collect();
        let shuffled_y: Vec<u8> = self.test_order.iter().map(|&i| self.test.1[i]).collect();
        let batch_mean = published_batch_mean(&shuffled_p, &shuffled_y, PUBLISHED_BATCH)?.auc;
        Ok((valid, test, batch_mean))
    }
}

/// A network in training: a unit of [`Trainer`] is one epoch (train,
/// evaluate both held-out parts, keep the best on validation), saved to the
/// run folder after it.
struct Training<'a, 'b, const BERT: usize, const DEPTH: usize, D: Device<Elem>> {
    net: &'a mut CircSsnn<BERT, DEPTH, D>,
    opt: Adam<crate::model::CircSsnnParams<BERT, DEPTH, Elem, D>, Elem, D>,
    parts: &'a Parts<'b, BERT, D>,
    checkpoints: &'a Checkpointer<'b>,
    progress: Progress<BERT, DEPTH, D>,
    /// Whether the last epoch was the best so far.
    improved: bool,
}

impl<const BERT: usize, const DEPTH: usize, D: Device<Elem>> Trainer
    for Training<'_, '_, BERT, DEPTH, D>
{
    type Error = TrainError;

    fn run_unit(&mut self, epoch: usize, lines: &TrainProgress) -> Result<f64, TrainError> {
        let (cfg, parts) = (self.parts.cfg, self.parts);
        let t0 = Instant::now();
        lines.prefix(format!("epoch {epoch}/{}", cfg.epochs));
        let lr = cfg.lr_at_step(epoch, (epoch - 1) * parts.steps_per_epoch() + 1);
        let train_loss = parts.epoch(self.net, &mut self.opt, epoch, lines)?;
        let (valid, test, batch_mean) = parts.evaluate(self.net)?;
        let record = EpochRecord {
            epoch,
            lr,
            train_loss,
            valid_auc: valid.auc,
            test_auc: test.auc,
            test_auc_batch_mean: batch_mean,
            seconds: t0.elapsed().as_secs_f64(),
        };
        lines.line(format!(
            "epoch {epoch:>2}  lr {lr:.1e}  loss {train_loss:.4}  valid AUC {:.4}  ({:.1} s)",
            valid.auc, record.seconds
        ));
        self.improved = self.progress.push(record, self.net, (valid, test));
        Ok(train_loss)
    }

    fn after_unit(&mut self, _: usize, _: &TrainProgress) -> Result<(), TrainError> {
        self.checkpoints
            .save(self.net, &self.progress, self.improved)
    }

    fn stop_before(&self, _: usize) -> bool {
        let p = &self.progress;
        self.parts
            .cfg
            .patience
            .is_some_and(|n| p.best_epoch > 0 && p.since_best() >= n)
    }

    fn diverged(&self, epoch: usize, loss: f64) -> TrainError {
        // `Parts::epoch` checks every step and names it; a finite sum of
        // finite steps that overflows lands here, blamed on the last step.
        TrainError::NonFiniteLoss {
            epoch,
            step: self.parts.steps_per_epoch(),
            loss: loss as f32,
        }
    }
}

/// The published protocol's number: the best batch-mean test AUC over the
/// epochs (an undefined epoch never beats a defined one).
fn published_protocol(history: &[EpochRecord]) -> Option<PublishedProtocol> {
    history
        .iter()
        .fold(None::<PublishedProtocol>, |best, r| match best {
            Some(b) if b.auc >= r.test_auc_batch_mean || r.test_auc_batch_mean.is_nan() => Some(b),
            _ => Some(PublishedProtocol {
                auc: r.test_auc_batch_mean,
                epoch: r.epoch,
            }),
        })
}

/// Train `net` on `split.train`, select the epoch by validation AUC, and
/// score the selected network on the whole test part. On return `net` holds
/// the selected (best-validation) weights. With `cfg.patience`, training
/// stops once that many epochs have passed without a better validation AUC.
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
    let parts = Parts::new(dev, desc, data, split, cfg)?;
    let checkpoints = Checkpointer::new(run, cfg);
    let progress = checkpoints.resume(dev, net)?;
    let opt = adam(net, cfg);
    let start_epoch = progress.history.len() + 1;
    let lines = TrainProgress::new(
        cfg.progress,
        ((cfg.epochs + 1).saturating_sub(start_epoch) * parts.steps_per_epoch()) as u64,
        "{prefix} [{bar:30}] {pos}/{len} steps {msg} ({eta})",
    );
    let mut training = Training {
        net: &mut *net,
        opt,
        parts: &parts,
        checkpoints: &checkpoints,
        progress,
        improved: false,
    };
    let driven = drive(&mut training, start_epoch..=cfg.epochs, &lines)?;
    let stopped_early = driven.stopped_early;
    let progress = training.progress;
    if progress.best_epoch == 0 {
        return Err(TrainError::Split(format!(
            "nothing to train: the run already has {} epochs (ask for more with --epochs)",
            progress.history.len()
        )));
    }
    *net = progress.best_net;
    let (valid, test) = match progress.best_metrics {
        Some(m) => m,
        None => {
            let (v, t, _) = parts.evaluate(net)?;
            (v, t)
        }
    };
    let published = published_protocol(&progress.history).expect("at least one epoch");
    Ok(FitReport {
        history: progress.history,
        best_epoch: progress.best_epoch,
        valid,
        test,
        published,
        resumed_after: progress.resumed_after,
        stopped_early,
    })
}

/// The `state.json` of a run folder, if there is one, checked to have been
/// written with `signature` (the settings a resumed run must match).
/// Shared by [`fit`] and [`fit_multi`](super::fit_multi).
pub(super) fn read_state<S: serde::de::DeserializeOwned>(
    dir: &Path,
    signature: &str,
    signature_of: impl Fn(&S) -> &str,
) -> Result<Option<S>, TrainError> {
    let path = dir.join("state.json");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::Checkpoint {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let state: S = serde_json::from_str(&text).map_err(|e| TrainError::Checkpoint {
        path: path.clone(),
        message: format!("corrupt run state: {e}"),
    })?;
    if signature_of(&state) != signature {
        return Err(TrainError::Checkpoint {
            path,
            message: "was written by a run with other settings; use another --out or drop --resume"
                .into(),
        });
    }
    Ok(Some(state))
}
