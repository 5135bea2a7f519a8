//! Training the multi-task network ([`CircSsnnMulti`]): every set of a
//! suite at once, one head per set over the shared view encoders and blocks.
//!
//! What is the same as [`fit`](super::fit()): each set keeps its own
//! train / validation / test parts, the optimiser and learning-rate
//! schedule come from a [`TrainConfig`], the epoch is chosen on validation
//! only, the test parts are scored once, whole, at the end, and the run
//! resumes from its folder after a kill.
//!
//! What is new, and why:
//!
//! * **Leakage across sets.** The 37 circular sets draw their negatives from
//!   one pool of 20,000 windows (each sits in 17 sets on average) and share
//!   13,797 positives, so under per-set splits a window in one set's test
//!   part is a training window of another set, and a shared encoder would
//!   learn it. Every training window whose sequence is in *any* set's
//!   validation or test part is left out of training (and every validation
//!   window whose sequence is in any test part); the count is reported. Use
//!   the [`by_sequence`](crate::data::split::by_sequence) split, where a
//!   sequence has one part in every set, and nothing is left out.
//! * **Labels.** A window's label trains its own set's head only. The
//!   pooled negatives are known negatives of ~17 sets each, but using them
//!   would give each head ~17 negatives per positive.
//! * **Sampling.** Each batch draws a set with probability proportional to
//!   `n^alpha` (`n` its training windows, `alpha` 0.5 by default), then a
//!   window of it uniformly. With proportional sampling (`alpha` 1) the 13
//!   largest circular sets would take 72% of the draws and WTAP (642
//!   training windows) 0.13%; with `alpha` 0.5 they take 56% and WTAP
//!   0.67%. An epoch is as many steps as one pass over all training windows
//!   would take.
//! * **Selection.** The epoch with the best mean validation AUC over the
//!   sets; one network, one file.
//! * **Heads refitted.** After the joint training each head is refitted
//!   alone on the frozen network and kept where its validation AUC is
//!   higher ([`super::refit`] says why and how; `refit: false` skips it).
//! * **Weight decay: L2, as the paper's.** Some heads end up dead (every
//!   window gets the same probability; 11 of 37 in the 2,000-window circ37
//!   run). A suspect was the L2 term, which keeps its full size on every
//!   step while a head's data gradient comes from ~1/37 of a batch; but
//!   decoupled decay (AdamW, `--decay decoupled`) did worse, measured on
//!   all 37 sets at 600 windows each, 3 epochs: mean test AUC 0.654 with 3
//!   dead heads, against 0.699 and none with L2.

use std::collections::HashSet;
use std::time::Instant;

use dfdx::optim::{Adam, Optimizer, OptimizerUpdateError, WeightDecay};
use dfdx::prelude::{Axis, Device, Rank0};
use dfdx::tensor_ops::{Backward, SumTo};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::batch::{make_batch, predict_proba_heads, Descriptors};
use super::checkpoint::{load_checkpoint_as, CheckpointMeta};
use super::config::TrainConfig;
use super::fit::{adam, check_part, read_state, save_checkpoints, save_epoch, RunDir};
use super::refit::{refit_heads, HeadRefit, Part};
use super::TrainError;
use crate::data::{Dataset, Split};
use crate::eval::{binary_metrics, BinaryMetrics};
use crate::model::{CircSsnnMulti, CircSsnnParams, Elem, PerRbp};
use crate::nn::{drive, TrainProgress, Trainer};

/// One set of a multi-task run: its windows and its parts.
#[derive(Debug, Clone, Copy)]
pub struct Task<'a> {
    /// The set's windows and labels.
    pub data: &'a Dataset,
    /// Its train / validation / test parts (indices into `data`).
    pub split: &'a Split,
}

/// How the weight decay of [`TrainConfig`] enters Adam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Decay {
    /// Added to the gradient (PyTorch's `Adam(weight_decay=..)`, the
    /// paper's); the default (see the module notes).
    #[default]
    L2,
    /// Applied to the weights beside the Adam step (AdamW).
    Decoupled,
}

/// How the multi-task network is trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MultiConfig {
    /// Optimiser, schedule, batch size, epochs, patience, seed.
    pub train: TrainConfig,
    /// Sets are drawn with probability proportional to `n^alpha`.
    pub alpha: f64,
    /// How the weight decay enters Adam.
    pub decay: Decay,
    /// Refit each head on the frozen network after the joint training and
    /// keep it where validation prefers it ([`super::refit`]).
    pub refit: bool,
}

impl Default for MultiConfig {
    /// The zoo's recipe (published schedule, at most 6 epochs, patience 2),
    /// square-root sampling, the paper's L2 weight decay, heads refitted.
    fn default() -> Self {
        MultiConfig {
            train: crate::zoo::zoo_recipe(0),
            alpha: 0.5,
            decay: Decay::L2,
            refit: true,
        }
    }
}

/// One epoch of a multi-task run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiEpoch {
    /// 1-based.
    pub epoch: usize,
    /// Learning rate at the epoch's first step.
    pub lr: f64,
    /// Mean training loss (each window's loss on its own head).
    pub train_loss: f64,
    /// Whole-validation AUC of every set, in head order.
    pub valid_auc: Vec<f64>,
    /// Their mean: what selects the epoch.
    pub mean_valid_auc: f64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// One set's result in a multi-task run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    /// Set name.
    pub set: String,
    /// Training windows used (after the leakage guard).
    pub n_train: usize,
    /// Share of the training draws that came from this set.
    pub sampled_share: f64,
    /// Whole-validation metrics of the chosen epoch.
    pub valid: BinaryMetrics,
    /// Whole-test metrics of the chosen epoch: the honest result.
    pub test: BinaryMetrics,
    /// What refitting did to the set's head (none when not refitted).
    #[serde(default)]
    pub refit: Option<HeadRefit>,
}

/// Result of [`fit_multi`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MultiReport {
    /// Every epoch.
    pub history: Vec<MultiEpoch>,
    /// Epoch with the best mean validation AUC; the network returned.
    pub best_epoch: usize,
    /// Per set, in head order.
    pub tasks: Vec<TaskResult>,
    /// Training and validation windows left out because their sequence is
    /// in another part of some set (see the module notes).
    pub left_out: usize,
    /// Epoch a resumed run continued after, if any.
    pub resumed_after: Option<usize>,
    /// Whether patience ended the run before its last epoch.
    pub stopped_early: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MultiState {
    signature: String,
    history: Vec<MultiEpoch>,
    best_epoch: usize,
    /// Set once the heads of `best` are refitted (`best` then holds them).
    #[serde(default)]
    refit: Option<Vec<HeadRefit>>,
}

/// The parts of every set after the leakage guard: training windows as
/// `(set, index)`, validation and test windows per set.
struct Parts<'a> {
    train: Vec<Vec<usize>>,
    valid: Vec<(Vec<&'a [u8]>, Vec<u8>)>,
    test: Vec<(Vec<&'a [u8]>, Vec<u8>)>,
    left_out: usize,
}

impl<'a> Parts<'a> {
    fn new(tasks: &[Task<'a>], cfg: &TrainConfig) -> Result<Self, TrainError> {
        let seqs = |t: &Task<'a>, idx: &[usize]| -> Vec<&'a [u8]> {
            idx.iter()
                .map(|&i| t.data.records[i].seq.as_slice())
                .collect()
        };
        let test_seqs: HashSet<&[u8]> = tasks.iter().flat_map(|t| seqs(t, &t.split.test)).collect();
        let held: HashSet<&[u8]> = tasks
            .iter()
            .flat_map(|t| seqs(t, &t.split.valid))
            .chain(test_seqs.iter().copied())
            .collect();
        let mut left_out = 0;
        let mut parts = Parts {
            train: Vec::new(),
            valid: Vec::new(),
            test: Vec::new(),
            left_out: 0,
        };
        for t in tasks {
            let records = &t.data.records;
            let train: Vec<usize> = t
                .split
                .train
                .iter()
                .copied()
                .filter(|&i| !held.contains(records[i].seq.as_slice()))
                .collect();
            let valid: Vec<usize> = t
                .split
                .valid
                .iter()
                .copied()
                .filter(|&i| !test_seqs.contains(records[i].seq.as_slice()))
                .collect();
            left_out += t.split.train.len() - train.len() + t.split.valid.len() - valid.len();
            let (v, te) = (t.data.part(&valid), t.data.part(&t.split.test));
            for (name, labels) in [("validation", &v.1), ("test", &te.1)] {
                check_part(name, labels).map_err(|e| match e {
                    TrainError::Split(m) => TrainError::Split(format!("{}: {m}", t.data.name)),
                    other => other,
                })?;
            }
            if train.len() < 2 {
                return Err(TrainError::Split(format!(
                    "{}: {} training windows are left once the windows of other sets' validation \
                     and test parts are taken out; use --split sequence",
                    t.data.name,
                    train.len()
                )));
            }
            parts.train.push(train);
            parts.valid.push(v);
            parts.test.push(te);
        }
        parts.left_out = left_out;
        if parts.train.iter().map(Vec::len).sum::<usize>() < cfg.batch_size {
            return Err(TrainError::Split(format!(
                "fewer training windows than one batch of {}",
                cfg.batch_size
            )));
        }
        Ok(parts)
    }

    fn steps_per_epoch(&self, cfg: &TrainConfig) -> usize {
        self.train.iter().map(Vec::len).sum::<usize>() / cfg.batch_size
    }

    /// Each set's share of the draws: `n^alpha`, normalised.
    fn shares(&self, alpha: f64) -> Vec<f64> {
        let w: Vec<f64> = self
            .train
            .iter()
            .map(|t| (t.len() as f64).powf(alpha))
            .collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    }
}

/// How many training and validation windows of `tasks` the leakage guard
/// leaves out (see the module notes): 0 under the sequence split.
pub fn left_out(tasks: &[Task<'_>], cfg: &TrainConfig) -> Result<usize, TrainError> {
    Ok(Parts::new(tasks, cfg)?.left_out)
}

/// Probability that each window is bound, read from head `head` (every
/// head is computed: for all of them at once use
/// [`predict_proba_heads`]).
pub fn predict_proba_multi<const BERT: usize, const DEPTH: usize, const RBPS: usize, D>(
    net: &CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    seqs: &[&[u8]],
    head: usize,
    batch_size: usize,
) -> Result<Vec<f64>, TrainError>
where
    D: Device<Elem>,
{
    assert!(head < RBPS, "head {head} of a network with {RBPS}");
    let all = predict_proba_heads(net, dev, desc, seqs, batch_size)?;
    Ok(all.chunks(RBPS).map(|w| w[head]).collect())
}

/// Whole-part metrics of every head on its own set's windows.
fn score<const BERT: usize, const DEPTH: usize, const RBPS: usize, D: Device<Elem>>(
    net: &CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    parts: &[(Vec<&[u8]>, Vec<u8>)],
    eval_batch: usize,
) -> Result<Vec<BinaryMetrics>, TrainError> {
    parts
        .iter()
        .enumerate()
        .map(|(head, (x, y))| {
            let p = predict_proba_multi(net, dev, desc, x, head, eval_batch)?;
            Ok(binary_metrics(&p, y, 0.5)?)
        })
        .collect()
}

struct MultiTraining<'a, 'b, const BERT: usize, const DEPTH: usize, const RBPS: usize, D>
where
    D: Device<Elem>,
{
    net: &'a mut CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    opt: Adam<CircSsnnParams<BERT, DEPTH, Elem, D, PerRbp<RBPS, Elem, D>>, Elem, D>,
    dev: &'a D,
    desc: &'a Descriptors<'b, BERT>,
    tasks: &'a [Task<'b>],
    parts: &'a Parts<'b>,
    cfg: &'a MultiConfig,
    run: Option<&'a RunDir<'a>>,
    signature: String,
    history: Vec<MultiEpoch>,
    best_epoch: usize,
    best_net: CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    improved: bool,
}

impl<const BERT: usize, const DEPTH: usize, const RBPS: usize, D: Device<Elem>>
    MultiTraining<'_, '_, BERT, DEPTH, RBPS, D>
{
    /// One step on a batch of `(set, index)` draws; the batch's mean loss.
    fn step(&mut self, draws: &[(usize, usize)]) -> Result<f32, TrainError> {
        let (dev, tasks) = (self.dev, self.tasks);
        let seqs: Vec<&[u8]> = draws
            .iter()
            .map(|&(t, i)| tasks[t].data.records[i].seq.as_slice())
            .collect();
        // One-hot over (head, class), only at each window's own head.
        let mut target = vec![0.0 as Elem; draws.len() * RBPS * 2];
        for (b, &(t, i)) in draws.iter().enumerate() {
            target[(b * RBPS + t) * 2 + usize::from(tasks[t].data.labels[i] == 1)] = 1.0;
        }
        let target = dev.tensor_from_vec(
            target,
            (draws.len(), dfdx::shapes::Const, dfdx::shapes::Const),
        );
        let batch = make_batch(dev, self.desc, self.net.config.views, &seqs)?;
        let logits = self.net.forward_train(&batch)?;
        let loss = (logits.log_softmax::<Axis<2>>() * target).sum::<Rank0, _>()
            * (-1.0 / draws.len() as Elem);
        let value = loss.as_vec()[0];
        if !value.is_finite() {
            return Ok(value);
        }
        let grads = loss.backward();
        match self.opt.update(&mut self.net.params, &grads) {
            Ok(()) => Ok(value),
            Err(OptimizerUpdateError::UnusedParams(u))
                if u.ids.len() == self.net.unused_view_tensors() =>
            {
                Ok(value)
            }
            Err(e) => Err(TrainError::Optimiser(e.to_string())),
        }
    }

    fn save(&self) -> Result<(), TrainError> {
        let Some(run) = self.run else { return Ok(()) };
        let state = MultiState {
            signature: self.signature.clone(),
            history: self.history.clone(),
            best_epoch: self.best_epoch,
            refit: None,
        };
        save_epoch(run, self.net, self.history.len(), self.improved, &state)
    }
}

impl<const BERT: usize, const DEPTH: usize, const RBPS: usize, D: Device<Elem>> Trainer
    for MultiTraining<'_, '_, BERT, DEPTH, RBPS, D>
{
    type Error = TrainError;

    fn run_unit(&mut self, epoch: usize, lines: &TrainProgress) -> Result<f64, TrainError> {
        let t0 = Instant::now();
        let cfg = &self.cfg.train;
        let steps = self.parts.steps_per_epoch(cfg);
        lines.prefix(format!("epoch {epoch}/{}", cfg.epochs));
        let shares = self.parts.shares(self.cfg.alpha);
        let pick_set = WeightedIndex::new(&shares).expect("every set has training windows");
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_add(epoch as u64));
        let first_step = (epoch - 1) * steps;
        let lr = cfg.lr_at_step(epoch, first_step + 1);
        let mut loss_sum = 0.0;
        for step in 0..steps {
            let draws: Vec<(usize, usize)> = (0..cfg.batch_size)
                .map(|_| {
                    let t = pick_set.sample(&mut rng);
                    let part = &self.parts.train[t];
                    (t, part[rng.gen_range(0..part.len())])
                })
                .collect();
            self.opt.cfg.lr = cfg.lr_at_step(epoch, first_step + step + 1);
            let value = self.step(&draws)?;
            if !value.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    step: step + 1,
                    loss: value,
                });
            }
            loss_sum += value as f64;
            lines.inc(1);
            lines.message(format!("loss {:.4}", loss_sum / (step + 1) as f64));
        }
        let valid = score(
            self.net,
            self.dev,
            self.desc,
            &self.parts.valid,
            cfg.eval_batch,
        )?;
        let valid_auc: Vec<f64> = valid.iter().map(|m| m.auc).collect();
        let mean_valid_auc = valid_auc.iter().sum::<f64>() / valid_auc.len() as f64;
        let train_loss = loss_sum / steps.max(1) as f64;
        let record = MultiEpoch {
            epoch,
            lr,
            train_loss,
            valid_auc,
            mean_valid_auc,
            seconds: t0.elapsed().as_secs_f64(),
        };
        lines.line(format!(
            "epoch {epoch:>2}  lr {lr:.1e}  loss {train_loss:.4}  mean valid AUC {mean_valid_auc:.4}  ({:.1} s)",
            record.seconds
        ));
        self.improved = self.best_epoch == 0
            || mean_valid_auc > self.history[self.best_epoch - 1].mean_valid_auc;
        if self.improved {
            self.best_epoch = epoch;
            self.best_net = self.net.clone();
        }
        self.history.push(record);
        Ok(train_loss)
    }

    fn after_unit(&mut self, _: usize, _: &TrainProgress) -> Result<(), TrainError> {
        self.save()
    }

    fn stop_before(&self, _: usize) -> bool {
        self.cfg
            .train
            .patience
            .is_some_and(|n| self.best_epoch > 0 && self.history.len() - self.best_epoch >= n)
    }

    fn diverged(&self, epoch: usize, loss: f64) -> TrainError {
        TrainError::NonFiniteLoss {
            epoch,
            step: self.parts.steps_per_epoch(&self.cfg.train),
            loss: loss as f32,
        }
    }
}

/// Train the multi-task `net` on `tasks` (head `r` is `tasks[r]`), select
/// the epoch by mean validation AUC, and score each head on its set's whole
/// test part. On return `net` holds the selected weights. With `run`, each
/// epoch is saved to its folder (`last`, `best`, `state.json`, as one
/// unit) and a run with `resume` continues after its last finished epoch.
pub fn fit_multi<const BERT: usize, const DEPTH: usize, const RBPS: usize, D: Device<Elem>>(
    net: &mut CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    dev: &D,
    desc: &Descriptors<'_, BERT>,
    tasks: &[Task<'_>],
    cfg: &MultiConfig,
    run: Option<&RunDir<'_>>,
) -> Result<MultiReport, TrainError> {
    if tasks.len() != RBPS {
        return Err(TrainError::Split(format!(
            "{} sets for a network with {RBPS} heads",
            tasks.len()
        )));
    }
    desc.check(net.config.views)?;
    let parts = Parts::new(tasks, &cfg.train)?;
    let signature = run.map_or(String::new(), |r| {
        let meta = CheckpointMeta {
            epoch: 0,
            ..r.meta.clone()
        };
        let train = TrainConfig {
            epochs: 0,
            progress: false,
            ..cfg.train
        };
        serde_json::json!({ "train": train, "alpha": cfg.alpha, "decay": cfg.decay, "meta": meta })
            .to_string()
    });
    let (history, best_epoch, best_net, refitted) = match resume(dev, run, &signature)? {
        Some((state, last, best)) => {
            *net = last;
            (state.history, state.best_epoch, best, state.refit)
        }
        None => (Vec::new(), 0, net.clone(), None),
    };
    let resumed_after = history.last().map(|r| r.epoch);
    let start = history.len() + 1;
    let steps = parts.steps_per_epoch(&cfg.train);
    let lines = TrainProgress::new(
        cfg.train.progress,
        ((cfg.train.epochs + 1).saturating_sub(start) * steps) as u64,
        "{prefix} [{bar:30}] {pos}/{len} steps {msg} ({eta})",
    );
    let mut opt = adam(net, &cfg.train);
    if cfg.decay == Decay::Decoupled {
        opt.cfg.weight_decay = Some(WeightDecay::Decoupled(cfg.train.weight_decay));
    }
    let mut training = MultiTraining {
        net: &mut *net,
        opt,
        dev,
        desc,
        tasks,
        parts: &parts,
        cfg,
        run,
        signature,
        history,
        best_epoch,
        best_net,
        improved: false,
    };
    let driven = drive(&mut training, start..=cfg.train.epochs, &lines)?;
    let trained_now = training.history.len() >= start;
    let (history, best_epoch, best_net, signature) = (
        training.history,
        training.best_epoch,
        training.best_net,
        training.signature,
    );
    if best_epoch == 0 {
        return Err(TrainError::Split(format!(
            "nothing to train: the run already has {} epochs (ask for more with --epochs)",
            history.len()
        )));
    }
    *net = best_net;
    let refits = match refitted {
        // `best` already holds the refitted heads of this very epoch.
        Some(done) if !trained_now && cfg.refit => Some(done),
        _ if cfg.refit => {
            let train: Vec<Part> = tasks
                .iter()
                .zip(&parts.train)
                .map(|(t, idx)| t.data.part(idx))
                .collect();
            let lines = TrainProgress::new(
                cfg.train.progress,
                RBPS as u64,
                "{prefix} [{bar:30}] {pos}/{len} heads ({eta})",
            );
            let done = refit_heads(net, dev, desc, &train, &parts.valid, &cfg.train, &lines)?;
            if let Some(run) = run {
                let state = MultiState {
                    signature,
                    history: history.clone(),
                    best_epoch,
                    refit: Some(done.clone()),
                };
                save_checkpoints(run, net, best_epoch, &["best"], &state)?;
            }
            Some(done)
        }
        _ => None,
    };
    let valid = score(net, dev, desc, &parts.valid, cfg.train.eval_batch)?;
    let test = score(net, dev, desc, &parts.test, cfg.train.eval_batch)?;
    let shares = parts.shares(cfg.alpha);
    let tasks = tasks
        .iter()
        .zip(valid.into_iter().zip(test))
        .enumerate()
        .map(|(r, (t, (valid, test)))| TaskResult {
            set: t.data.name.clone(),
            n_train: parts.train[r].len(),
            sampled_share: shares[r],
            valid,
            test,
            refit: refits.as_ref().map(|all| all[r].clone()),
        })
        .collect();
    Ok(MultiReport {
        history,
        best_epoch,
        tasks,
        left_out: parts.left_out,
        resumed_after,
        stopped_early: driven.stopped_early,
    })
}

type Resumed<const BERT: usize, const DEPTH: usize, const RBPS: usize, D> = (
    MultiState,
    CircSsnnMulti<BERT, DEPTH, RBPS, D>,
    CircSsnnMulti<BERT, DEPTH, RBPS, D>,
);

/// The state, last and best networks of an earlier run in `run`'s folder,
/// checked to have been written with the same settings.
fn resume<const BERT: usize, const DEPTH: usize, const RBPS: usize, D: Device<Elem>>(
    dev: &D,
    run: Option<&RunDir<'_>>,
    signature: &str,
) -> Result<Option<Resumed<BERT, DEPTH, RBPS, D>>, TrainError> {
    let Some(run) = run.filter(|r| r.resume) else {
        return Ok(None);
    };
    let Some(state) = read_state::<MultiState>(run.dir, signature, |s| &s.signature)? else {
        return Ok(None);
    };
    if state.best_epoch == 0 || state.best_epoch > state.history.len() {
        return Err(TrainError::Checkpoint {
            path: run.dir.join("state.json"),
            message: format!(
                "best epoch {} does not fit its history of {} epochs (damaged run state); start \
                 the run again in a new --out",
                state.best_epoch,
                state.history.len()
            ),
        });
    }
    let (last, _) = load_checkpoint_as(dev, run.dir, "last")?;
    let (best, _) = load_checkpoint_as(dev, run.dir, "best")?;
    Ok(Some((state, last, best)))
}
