//! Training and inference throughput of the network on synthetic inputs of
//! the right shapes (throughput does not depend on the values), for
//! `circssnn bench` and the PyTorch comparison in `bench/`.

use std::time::Instant;

use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::optim::{Adam, AdamConfig, Optimizer, OptimizerUpdateError, WeightDecay};
use dfdx::prelude::{Const, Device};

use dfdx::tensor_ops::Backward;
use serde::Serialize;

use super::TrainError;
use crate::model::{CircSsnn, Elem, ModelConfig, ViewBatch, ViewSet};

/// One row of the benchmark table.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Profile name (`paper`, `small`).
    pub profile: String,
    /// Views fed.
    pub views: String,
    /// BERT width.
    pub bert_width: usize,
    /// Training windows per second (forward, backward, Adam step; batch 64).
    pub train_per_s: f64,
    /// Inference windows per second (evaluation mode, batch 256).
    pub infer_per_s: f64,
    /// Peak resident memory while measuring this row, MiB (Linux; `None` elsewhere).
    pub peak_mib: Option<f64>,
}

/// Peak resident set size since the last [`reset_peak_memory`], in MiB.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Reset the peak-memory counter (Linux: `echo 5 > /proc/self/clear_refs`).
pub fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn random_batch<const BERT: usize, D: Device<Elem>>(
    dev: &D,
    views: ViewSet,
    n: usize,
) -> ViewBatch<BERT, D> {
    ViewBatch {
        knfp: views
            .knfp
            .then(|| dev.sample_uniform_like(&(n, Const, Const))),
        vec: views
            .vec
            .then(|| dev.sample_normal_like(&(n, Const, Const))),
        bert: views
            .bert
            .then(|| dev.sample_normal_like(&(n, Const, Const))),
    }
}

/// Measure a depth-1 network of BERT width `BERT` reading `views` on `dev`:
/// one warm-up, then `steps` timed training steps of 64 and `steps` timed
/// inference batches of 256. Each timing ends by reading a result back to
/// the host, so asynchronous (CUDA) work is included. Peak memory is the
/// host process's, not the GPU's.
pub fn measure<const BERT: usize, D: Device<Elem>>(
    dev: &D,
    profile: &str,
    views: ViewSet,
    steps: usize,
) -> Result<Throughput, TrainError> {
    reset_peak_memory();
    let mut net = CircSsnn::<BERT, 1, D>::new(
        dev,
        ModelConfig {
            views,
            ..Default::default()
        },
    );
    let mut opt = Adam::new(
        &net.params,
        AdamConfig {
            lr: 3e-3,
            betas: [0.9, 0.99],
            eps: 1e-8,
            weight_decay: Some(WeightDecay::L2(3e-4)),
        },
    );
    let train_batch = random_batch::<BERT, D>(dev, views, 64);
    let onehot: Vec<f32> = (0..64)
        .flat_map(|i| if i % 2 == 0 { [0.0, 1.0] } else { [1.0, 0.0] })
        .collect();
    let target = dev.tensor_from_vec(onehot, (64, Const::<2>));
    let mut step = || -> Result<(), TrainError> {
        let logits = net.forward_train(&train_batch)?;
        let grads = cross_entropy_with_logits_loss(logits, target.clone()).backward();
        match opt.update(&mut net.params, &grads) {
            Ok(()) | Err(OptimizerUpdateError::UnusedParams(_)) => Ok(()),
            Err(e) => Err(TrainError::Optimiser(e.to_string())),
        }
    };
    step()?;
    let t0 = Instant::now();
    for _ in 0..steps {
        step()?;
    }
    std::hint::black_box(net.params.head.fc3.bias.as_vec());
    let train_per_s = (64 * steps) as f64 / t0.elapsed().as_secs_f64();

    let infer_batch = random_batch::<BERT, D>(dev, views, 256);
    net.forward_eval(&infer_batch)?;
    let t0 = Instant::now();
    let mut last = None;
    for _ in 0..steps {
        last = Some(net.forward_eval(&infer_batch)?);
    }
    std::hint::black_box(last.map(|l| l.as_vec()));
    let infer_per_s = (256 * steps) as f64 / t0.elapsed().as_secs_f64();
    Ok(Throughput {
        profile: profile.to_string(),
        views: views.names(),
        bert_width: BERT,
        train_per_s,
        infer_per_s,
        peak_mib: peak_memory_mib(),
    })
}
