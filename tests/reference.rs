//! The CircSSNN block and network against an independent PyTorch model
//! (`tests/fixtures/make_circssnn_reference.py`, float64): a lone pre-norm
//! and post-norm block, and the whole one-block three-view network in both
//! placements — logits and loss to 1e-5, gradient norms to 2e-4 and entries
//! to 1e-3 of each tensor's scale (see [`GRAD`] for why), BatchNorm running
//! statistics after a training step.
//! Swapping pre- and post-norm, the whole-width score scale, the fused-qkv
//! partition or the fusion's column blocks breaks these tests.

use circssnn::model::block::TransformerBlock;
use circssnn::model::{CircSsnn, ModelConfig, Norm, Tokens, ViewBatch, ViewSet};
use circssnn::nn::params::{named_grads, set_tensors};
use circssnn::nn::Elem;
use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::nn::BuildModule;
use dfdx::prelude::*;
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/circssnn_reference.json")).unwrap()
}

/// `offset + scale * f(0.7 i + phase)`, f = sin or sin², as the fixture script.
fn formula(spec: &Value, n: usize) -> Vec<Elem> {
    let f = |k: &str| spec[k].as_f64().unwrap();
    let (phase, offset, scale) = (f("phase"), f("offset"), f("scale"));
    let square = spec["square"].as_bool().unwrap();
    (0..n)
        .map(|i| {
            let s = (0.7 * i as f64 + phase).sin();
            (offset + scale * if square { s * s } else { s }) as Elem
        })
        .collect()
}

fn shape_of(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

/// Fill `m` from the case's parameter formulas; every formula must find its
/// tensor and every trainable tensor must get one.
fn fill<M: dfdx::nn::TensorCollection<Elem, Cpu>>(m: &mut M, case: &Value) {
    let params = case["params"].as_array().unwrap();
    let mut seen = 0;
    let n = set_tensors(m, &mut |name, shape| {
        let p = params.iter().find(|p| p["name"] == name)?;
        assert_eq!(shape_of(&p["shape"]), shape, "{name}");
        seen += 1;
        Some(formula(&p["formula"], shape.iter().product()))
    })
    .unwrap();
    assert_eq!(
        n,
        params.len(),
        "every fixture tensor exists in the Rust module"
    );
    assert_eq!(seen, params.len());
}

/// Tolerances of one comparison: each sampled entry within `entry` of the
/// tensor's scale (its RMS, or the entry itself where larger), the L2 norm
/// and the sum within `norm` relative to the norm.
#[derive(Clone, Copy)]
struct Tol {
    entry: f64,
    norm: f64,
}

/// Outputs and running statistics: float32 against a float64 reference;
/// the block's output (softmax over 128 sharp scores) is the worst entry,
/// 1.7e-5 of its scale; norms agree to 1e-5.
const OUTPUT: Tol = Tol {
    entry: 5e-5,
    norm: 1e-5,
};
/// Gradients: sums over 256 token rows and 400-wide products cancel, and
/// float32's rounding there reaches 5.7e-4 of a tensor's scale in its worst
/// sampled entry (the attention maps' query gradient) and 1.2e-4 in its
/// worst norm; 10 parts per million everywhere else.
const GRAD: Tol = Tol {
    entry: 1e-3,
    norm: 2e-4,
};

/// `got` against a sampled reference tensor (sum, norm, sampled entries).
fn check_sampled(what: &str, got: &[Elem], want: &Value, tol: Tol) {
    assert_eq!(
        got.len() as u64,
        want["n"].as_u64().unwrap(),
        "{what}: size"
    );
    let norm_want = want["norm"].as_f64().unwrap();
    let scale = (norm_want / (got.len() as f64).sqrt()).max(1e-30);
    let norm_got = got
        .iter()
        .map(|&g| f64::from(g).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        (norm_got - norm_want).abs() <= tol.norm * norm_want,
        "{what}: norm {norm_got} vs {norm_want}"
    );
    let sum_got: f64 = got.iter().map(|&g| f64::from(g)).sum();
    let sum_want = want["sum"].as_f64().unwrap();
    assert!(
        (sum_got - sum_want).abs() <= tol.norm * norm_want * (got.len() as f64).sqrt(),
        "{what}: sum {sum_got} vs {sum_want}"
    );
    let index = want["index"].as_array().unwrap();
    for (i, w) in index.iter().zip(want["value"].as_array().unwrap()) {
        let (i, w) = (i.as_u64().unwrap() as usize, w.as_f64().unwrap());
        let g = f64::from(got[i]);
        assert!(
            (g - w).abs() <= tol.entry * scale.max(w.abs()),
            "{what}[{i}]: {g} vs {w} (scale {scale:e})"
        );
    }
}

fn norm_of(case: &Value) -> Norm {
    case["norm"].as_str().unwrap().parse().unwrap()
}

#[test]
fn block_matches_pytorch_in_both_placements() {
    let fx = fixture();
    let dev = Cpu::seed_from_u64(0);
    for case in fx["blocks"].as_array().unwrap() {
        let norm = norm_of(case);
        let mut block: TransformerBlock<Elem, Cpu> = BuildModule::build(&dev);
        fill(&mut block, case);
        let x_spec = &case["input"];
        let shape = shape_of(&x_spec["shape"]);
        let n: usize = shape.iter().product();
        let x: Tokens<Cpu, NoneTape> =
            dev.tensor_from_vec(formula(&x_spec["formula"], n), (shape[0], Const, Const));
        let r: Tokens<Cpu, NoneTape> = dev.tensor_from_vec(
            formula(&case["loss_weights"]["formula"], n),
            (shape[0], Const, Const),
        );

        // Leaky: keep the gradient of the input too, not only of the parameters.
        let out = block.forward(x.clone().leaky_traced(), norm, 0.0);
        check_sampled(
            &format!("{norm:?} block output"),
            &out.as_vec(),
            &case["output"],
            OUTPUT,
        );
        let grads = (out * r).sum().backward();
        check_sampled(
            &format!("{norm:?} block input gradient"),
            &grads.get(&x).as_vec(),
            &case["input_grad"],
            GRAD,
        );
        let got = named_grads(&block, &grads, &|_| true);
        let want = case["grads"].as_object().unwrap();
        assert_eq!(got.len(), want.len(), "one gradient per trainable tensor");
        for g in &got {
            check_sampled(
                &format!("{norm:?} block grad {}", g.name),
                &g.values,
                &want[&g.name],
                GRAD,
            );
        }
    }
}

fn batch(dev: &Cpu, case: &Value) -> ViewBatch<128, Cpu> {
    let input = |name: &str| {
        let s = &case["inputs"][name];
        let shape = shape_of(&s["shape"]);
        (formula(&s["formula"], shape.iter().product()), shape[0])
    };
    let (k, b) = input("knfp");
    let (v, _) = input("vec");
    let (e, _) = input("bert");
    ViewBatch {
        knfp: Some(dev.tensor_from_vec(k, (b, Const, Const))),
        vec: Some(dev.tensor_from_vec(v, (b, Const, Const))),
        bert: Some(dev.tensor_from_vec(e, (b, Const, Const))),
    }
}

fn close(what: &str, got: &[Elem], want: &Value, tol: f64) {
    let want: Vec<f64> = want
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

#[test]
fn whole_network_matches_pytorch_in_both_placements() {
    let fx = fixture();
    let dev = Cpu::seed_from_u64(0);
    for case in fx["networks"].as_array().unwrap() {
        let norm = norm_of(case);
        let config = ModelConfig {
            views: ViewSet::ALL,
            norm,
            dropout: 0.0,
            head_dropout: 0.0,
        };
        let mut net = CircSsnn::<128, 1, Cpu>::new(&dev, config);
        fill(&mut net.params, case);
        let x = batch(&dev, case);

        let eval = net.forward_eval(&x).unwrap();
        close(
            &format!("{norm:?} eval logits"),
            &eval.as_vec(),
            &case["eval_logits"],
            1e-5,
        );

        let logits = net.forward_train(&x).unwrap();
        close(
            &format!("{norm:?} train logits"),
            &logits.as_vec(),
            &case["train_logits"],
            1e-5,
        );
        let labels: Vec<u64> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let onehot: Vec<Elem> = labels
            .iter()
            .flat_map(|&y| if y == 1 { [0.0, 1.0] } else { [1.0, 0.0] })
            .collect();
        let target = dev.tensor_from_vec(onehot, (labels.len(), Const::<2>));
        let loss = cross_entropy_with_logits_loss(logits, target);
        let want_loss = case["loss"].as_f64().unwrap();
        assert!(
            (f64::from(loss.array()) - want_loss).abs() < 1e-5,
            "{norm:?} loss"
        );

        let grads = loss.backward();
        let got = named_grads(&net.params, &grads, &|_| true);
        let want = case["grads"].as_object().unwrap();
        assert_eq!(got.len(), want.len(), "one gradient per trainable tensor");
        for g in &got {
            check_sampled(
                &format!("{norm:?} net grad {}", g.name),
                &g.values,
                &want[&g.name],
                GRAD,
            );
        }
        // BatchNorm's running statistics moved by one training step as PyTorch's.
        for t in circssnn::nn::params::named_tensors(&net.params) {
            if let Some(w) = case["running"].get(&t.name) {
                check_sampled(&format!("{norm:?} {}", t.name), &t.values, w, OUTPUT);
            }
        }
    }
}

#[test]
fn a_pre_norm_block_with_zero_output_maps_is_the_identity() {
    let dev = Cpu::seed_from_u64(3);
    let mut block: TransformerBlock<Elem, Cpu> = BuildModule::build(&dev);
    set_tensors(&mut block, &mut |name, shape| {
        (name.starts_with("attn.to_out.") || name.starts_with("ffn_out."))
            .then(|| vec![0.0; shape.iter().product()])
    })
    .unwrap();
    let x: Tokens<Cpu, NoneTape> = dev.sample_normal_like(&(2, Const, Const));
    // x + 0 + 0: both sub-layers add nothing to the residual stream.
    assert_eq!(
        block.forward(x.clone(), Norm::Pre, 0.0).as_vec(),
        x.as_vec()
    );
    // Post-norm normalises the stream even when the sub-layers add nothing.
    assert_ne!(
        block.forward(x.clone(), Norm::Post, 0.0).as_vec(),
        x.as_vec()
    );
}
