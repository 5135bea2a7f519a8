//! Masked-LM pretraining of the k-mer BERT on the training-only corpus, with
//! checkpoints every `checkpoint_every` steps and resume.
//!
//! Batches are a pure function of `(seed, step)`: a resumed run sees the same
//! windows and masks as an uninterrupted one. What a resume does not restore
//! is Adam's moment estimates (dfdx keeps them private) and the dropout
//! stream, so a resumed run is close to, not bit-identical with, an
//! uninterrupted one.

use std::path::Path;
use std::time::Instant;

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::BuildModule;
use dfdx::optim::{Adam, AdamConfig, Optimizer, WeightDecay};
use dfdx::prelude::{Backward, Const, Device, OwnedTape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::mlm::{mask_batch, MlmHead, MlmModel};
use super::{
    hf, Activation, Bert, BertConfig, BertProfile, KmerTokenizer, Paper, Small, SEQ, VOCAB,
};
use crate::features::corpus::{Corpus, CorpusInfo};
use crate::features::EmbedError;
use crate::nn::{drive, Elem, TrainProgress, Trainer};
use crate::output::write_atomic;

/// Pretraining settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainConfig {
    /// Optimiser steps.
    pub steps: usize,
    /// Windows per step.
    pub batch: usize,
    /// Peak learning rate (AdamW).
    pub lr: f64,
    /// Linear warm-up steps, then linear decay to 0.
    pub warmup: usize,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Share of k-mer tokens masked.
    pub mask_rate: f64,
    /// Consecutive tokens per masked span.
    pub span: usize,
    /// Seed of initial weights, batches, masks and dropout.
    pub seed: u64,
    /// Save a checkpoint every this many steps.
    pub checkpoint_every: usize,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            steps: 3000,
            batch: 32,
            lr: 1e-3,
            warmup: 300,
            weight_decay: 0.01,
            mask_rate: 0.15,
            span: 3,
            seed: 4,
            checkpoint_every: 250,
        }
    }
}

impl PretrainConfig {
    /// Learning rate at 1-based `step`.
    pub fn lr_at(&self, step: usize) -> f64 {
        let s = step as f64;
        let warm = self.warmup.max(1) as f64;
        if s <= warm {
            self.lr * s / warm
        } else {
            self.lr * ((self.steps as f64 - s) / (self.steps as f64 - warm).max(1.0)).max(0.0)
        }
    }
}

/// One logged step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1-based step.
    pub step: usize,
    /// Mean cross-entropy over masked tokens.
    pub loss: f64,
    /// Share of masked tokens predicted right.
    pub masked_accuracy: f64,
    /// Learning rate used.
    pub lr: f64,
}

/// What a pretraining run did; saved as `pretrain.json` beside the checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PretrainReport {
    /// Settings.
    pub config: PretrainConfig,
    /// Corpus it learned from.
    pub corpus: CorpusInfo,
    /// Steps finished.
    pub steps_done: usize,
    /// Every step.
    pub history: Vec<StepRecord>,
    /// Wall-clock seconds over all sessions.
    pub seconds: f64,
    /// Step a resume continued after, if any.
    pub resumed_after: Option<usize>,
}

impl PretrainReport {
    /// Mean loss and masked accuracy over the last `n` steps.
    pub fn tail(&self, n: usize) -> (f64, f64) {
        let t = &self.history[self.history.len().saturating_sub(n)..];
        let k = t.len().max(1) as f64;
        (
            t.iter().map(|r| r.loss).sum::<f64>() / k,
            t.iter().map(|r| r.masked_accuracy).sum::<f64>() / k,
        )
    }
}

const STATE: &str = "pretrain.json";

/// The `pretrain.json` of a checkpoint folder the crate pretrained, or
/// `None` for a folder without one (a user's own checkpoint).
pub fn load_report(dir: &Path) -> Result<Option<PretrainReport>, EmbedError> {
    let path = dir.join(STATE);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|source| EmbedError::Io {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| EmbedError::Format {
            path,
            message: format!("not a pretraining record: {e}"),
        })
}
const HISTORY: &str = "history.csv";

fn save_state(dir: &Path, report: &PretrainReport) -> Result<(), EmbedError> {
    let io = |path: std::path::PathBuf| move |source| EmbedError::Io { path, source };
    let json = serde_json::to_string_pretty(report).expect("report serialises");
    write_atomic(&dir.join(STATE), |w| w.write_all(json.as_bytes()))
        .map_err(io(dir.join(STATE)))?;
    write_atomic(&dir.join(HISTORY), |w| {
        writeln!(w, "step,loss,masked_accuracy,lr")?;
        for r in &report.history {
            writeln!(
                w,
                "{},{:.6},{:.6},{:.3e}",
                r.step, r.loss, r.masked_accuracy, r.lr
            )?;
        }
        Ok(())
    })
    .map_err(io(dir.join(HISTORY)))
}

/// Pretrain a `D/L/H/F` k-mer BERT on `corpus` into `out` (a HuggingFace
/// checkpoint folder plus `pretrain.json` and `history.csv`). With `resume`,
/// continue the run already in `out`; its settings must match.
pub fn pretrain<
    const D: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    Dev: Device<Elem>,
>(
    dev: &Dev,
    corpus: &Corpus,
    cfg: &PretrainConfig,
    out: &Path,
    resume: bool,
    progress: bool,
) -> Result<(Bert<D, L, H, F, Dev>, PretrainReport), EmbedError> {
    if cfg.steps == 0 || cfg.batch == 0 || corpus.windows.is_empty() {
        return Err(EmbedError::Invalid(
            "pretraining needs steps and batch above 0 and a non-empty corpus".into(),
        ));
    }
    let tok = KmerTokenizer::default();
    let config = BertConfig::new(D, L, H, F);
    let previous = if resume { load_report(out)? } else { None };
    let (model, report) = if let Some(report) = previous {
        if report.config != *cfg || report.corpus != corpus.info {
            return Err(EmbedError::Invalid(format!(
                "{} was pretrained with other settings or another corpus; resume with the same flags or use another --out",
                out.display()
            )));
        }
        let loaded = hf::load_with_head::<D, L, H, F, Dev>(dev, out)?;
        (
            MlmModel {
                encoder: loaded.bert.params,
                head: loaded.head,
            },
            PretrainReport {
                resumed_after: Some(report.steps_done),
                ..report
            },
        )
    } else {
        let mut head: MlmHead<D, Elem, Dev> = BuildModule::build(dev);
        head.norm.epsilon = config.layer_norm_eps;
        let bert =
            Bert::<D, L, H, F, Dev>::new(dev, config.clone()).map_err(EmbedError::Invalid)?;
        let report = PretrainReport {
            config: cfg.clone(),
            corpus: corpus.info.clone(),
            steps_done: 0,
            history: Vec::new(),
            seconds: 0.0,
            resumed_after: None,
        };
        (
            MlmModel {
                encoder: bert.params,
                head,
            },
            report,
        )
    };
    assert_eq!(
        config.hidden_act,
        Activation::GeluTanh,
        "pretraining never uses dfdx's exact-GELU backward"
    );

    let opt = Adam::new(
        &model,
        AdamConfig {
            lr: cfg.lr,
            betas: [0.9, 0.999],
            eps: 1e-6,
            weight_decay: Some(WeightDecay::Decoupled(cfg.weight_decay)),
        },
    );
    let progress = TrainProgress::new(
        progress,
        cfg.steps as u64,
        "BERT {bar:30} {pos}/{len} steps {msg} ETA {eta}",
    );
    progress.set_position(report.steps_done as u64);
    let first = report.steps_done + 1;
    let mut job = Pretraining {
        dev,
        corpus,
        cfg,
        out,
        tok,
        config,
        model,
        opt,
        seconds_before: report.seconds,
        report,
        t0: Instant::now(),
    };
    drive(&mut job, first..=cfg.steps, &progress)?;
    job.save()?;
    Ok((
        Bert {
            params: job.model.encoder,
            config: job.config,
        },
        job.report,
    ))
}

/// [`pretrain`] at a size chosen at run time (a flag, a notebook variable):
/// the weights stay in `out`, the report comes back.
pub fn pretrain_profile<Dev: Device<Elem>>(
    profile: BertProfile,
    dev: &Dev,
    corpus: &Corpus,
    cfg: &PretrainConfig,
    out: &Path,
    resume: bool,
    progress: bool,
) -> Result<PretrainReport, EmbedError> {
    let report = match profile {
        BertProfile::Small => {
            pretrain::<{ Small::WIDTH }, { Small::LAYERS }, { Small::HEADS }, { Small::FF }, Dev>(
                dev, corpus, cfg, out, resume, progress,
            )?
            .1
        }
        BertProfile::Paper => {
            pretrain::<{ Paper::WIDTH }, { Paper::LAYERS }, { Paper::HEADS }, { Paper::FF }, Dev>(
                dev, corpus, cfg, out, resume, progress,
            )?
            .1
        }
    };
    Ok(report)
}

/// A pretraining run in progress: a unit of [`Trainer`] is one optimiser
/// step.
struct Pretraining<'a, const D: usize, const L: usize, const H: usize, const F: usize, Dev>
where
    Dev: Device<Elem>,
{
    dev: &'a Dev,
    corpus: &'a Corpus,
    cfg: &'a PretrainConfig,
    out: &'a Path,
    tok: KmerTokenizer,
    config: BertConfig,
    model: MlmModel<D, L, H, F, Elem, Dev>,
    opt: Adam<MlmModel<D, L, H, F, Elem, Dev>, Elem, Dev>,
    report: PretrainReport,
    t0: Instant,
    seconds_before: f64,
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>
    Pretraining<'_, D, L, H, F, Dev>
{
    /// Write the checkpoint and the report, with the wall time so far.
    fn save(&mut self) -> Result<(), EmbedError> {
        self.report.seconds = self.seconds_before + self.t0.elapsed().as_secs_f64();
        hf::save(
            self.out,
            &self.model.encoder,
            Some(&self.model.head),
            &self.config,
            &self.tok,
        )?;
        save_state(self.out, &self.report)
    }
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>> Trainer
    for Pretraining<'_, D, L, H, F, Dev>
{
    type Error = EmbedError;

    fn run_unit(&mut self, step: usize, progress: &TrainProgress) -> Result<f64, EmbedError> {
        let (cfg, dev, tok, config) = (self.cfg, self.dev, &self.tok, &self.config);
        let windows = &self.corpus.windows;
        let mut rng =
            ChaCha8Rng::seed_from_u64(cfg.seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let ids: Vec<[u32; SEQ]> = (0..cfg.batch)
            .map(|_| tok.encode(&windows[rng.gen_range(0..windows.len())]))
            .collect();
        let batch = mask_batch(&ids, tok, cfg.mask_rate, cfg.span, &mut rng);
        let n_masked = batch.masked();
        let inputs = dev.tensor_from_vec(batch.inputs.clone(), (cfg.batch, Const::<SEQ>));
        let targets =
            dev.tensor_from_vec(batch.targets(), (cfg.batch, Const::<SEQ>, Const::<VOCAB>));
        let hidden = self.model.encoder.forward::<OwnedTape<Elem, Dev>>(
            inputs,
            config.hidden_act,
            config.hidden_dropout_prob,
        );
        let logits = self.model.head.forward(hidden, config.hidden_act);
        let logit_values = logits.as_vec();
        // The loss is the mean over all 101 positions of each window, with
        // zero targets off the masked ones; rescale to a mean over masked tokens.
        let scale = (cfg.batch * SEQ) as Elem / n_masked as Elem;
        let loss = cross_entropy_with_logits_loss(logits, targets) * scale;
        let value = loss.as_vec()[0];
        if !value.is_finite() {
            return Ok(value as f64);
        }
        let lr = cfg.lr_at(step);
        self.opt.cfg.lr = lr;
        let grads = loss.backward();
        self.opt
            .update(&mut self.model, &grads)
            .map_err(|e| EmbedError::Invalid(format!("optimiser: {e}")))?;
        let correct = batch
            .labels
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.map(|id| (i, id)))
            .filter(|&(i, id)| argmax(&logit_values[i * VOCAB..(i + 1) * VOCAB]) == id as usize)
            .count();
        self.report.history.push(StepRecord {
            step,
            loss: value as f64,
            masked_accuracy: correct as f64 / n_masked as f64,
            lr,
        });
        self.report.steps_done = step;
        let (l, a) = self.report.tail(50);
        progress.message(format!("loss {l:.3} masked acc {:.1}%", 100.0 * a));
        progress.inc(1);
        Ok(value as f64)
    }

    fn after_unit(&mut self, step: usize, _: &TrainProgress) -> Result<(), EmbedError> {
        if step.is_multiple_of(self.cfg.checkpoint_every.max(1)) || step == self.cfg.steps {
            self.save()?;
        }
        Ok(())
    }

    fn diverged(&self, step: usize, loss: f64) -> EmbedError {
        EmbedError::Diverged {
            what: "k-mer BERT",
            step,
            loss: loss as f32,
        }
    }
}

fn argmax(v: &[Elem]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}
