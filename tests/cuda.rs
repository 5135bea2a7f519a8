//! CPU and GPU agree: the paper-size network (three views, BERT 768) with the
//! same weights and inputs gives the same logits, loss and gradients on both.
//! Compiled only with `--features cuda`; needs a CUDA device to run
//! (`scripts/build-cuda.sh` builds it for a GPU machine).
#![cfg(feature = "cuda")]

use circssnn::model::{CircSsnn, ModelConfig, ViewBatch, ViewSet, BERT_PAPER};
use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::ToDevice;
use dfdx::prelude::*;

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn paper_network_agrees_between_cpu_and_gpu() {
    let cpu = Cpu::seed_from_u64(7);
    let gpu = Cuda::try_seed_from_u64(7).expect("a CUDA device");
    // No dropout, so both devices compute the same function in training mode.
    let config = ModelConfig {
        views: ViewSet::ALL,
        dropout: 0.0,
        head_dropout: 0.0,
        ..Default::default()
    };
    let mut on_cpu = CircSsnn::<BERT_PAPER, 1, Cpu>::new(&cpu, config);
    let mut on_gpu = CircSsnn::<BERT_PAPER, 1, Cuda> {
        params: on_cpu.params.to_device(&gpu),
        config,
    };

    let n = 32;
    let batch_cpu = ViewBatch::<BERT_PAPER, Cpu> {
        knfp: Some(cpu.sample_uniform_like(&(n, Const, Const))),
        vec: Some(cpu.sample_normal_like(&(n, Const, Const))),
        bert: Some(cpu.sample_normal_like(&(n, Const, Const))),
    };
    let batch_gpu = ViewBatch::<BERT_PAPER, Cuda> {
        knfp: batch_cpu.knfp.as_ref().map(|t| t.to_device(&gpu)),
        vec: batch_cpu.vec.as_ref().map(|t| t.to_device(&gpu)),
        bert: batch_cpu.bert.as_ref().map(|t| t.to_device(&gpu)),
    };

    let eval_cpu = on_cpu.forward_eval(&batch_cpu).unwrap().as_vec();
    let eval_gpu = on_gpu.forward_eval(&batch_gpu).unwrap().as_vec();
    let d = max_abs_diff(&eval_cpu, &eval_gpu);
    println!("evaluation logits: max |cpu - gpu| = {d:e}");
    assert!(d < 1e-3, "{d}");

    let onehot: Vec<f32> = (0..n)
        .flat_map(|i| if i % 2 == 0 { [0.0, 1.0] } else { [1.0, 0.0] })
        .collect();
    let t_cpu = cpu.tensor_from_vec(onehot.clone(), (n, Const::<2>));
    let t_gpu = gpu.tensor_from_vec(onehot, (n, Const::<2>));
    let loss_cpu = cross_entropy_with_logits_loss(on_cpu.forward_train(&batch_cpu).unwrap(), t_cpu);
    let loss_gpu = cross_entropy_with_logits_loss(on_gpu.forward_train(&batch_gpu).unwrap(), t_gpu);
    let (lc, lg) = (loss_cpu.as_vec()[0], loss_gpu.as_vec()[0]);
    println!("training loss: cpu {lc}, gpu {lg}");
    assert!((lc - lg).abs() < 1e-4, "{lc} vs {lg}");

    let g_cpu = loss_cpu.backward();
    let g_gpu = loss_gpu.backward();
    let w_cpu = g_cpu
        .get(&on_cpu.params.blocks.modules[0].attn.to_q.weight)
        .as_vec();
    let w_gpu = g_gpu
        .get(&on_gpu.params.blocks.modules[0].attn.to_q.weight)
        .as_vec();
    let scale = w_cpu.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let d = max_abs_diff(&w_cpu, &w_gpu) / scale;
    println!("query-weight gradient: max relative |cpu - gpu| = {d:e}");
    assert!(d < 1e-2, "{d}");
}
