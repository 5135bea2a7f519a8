//! The network and its training: gradients against finite differences, a
//! tiny batch overfits, checkpoints round-trip exactly and fail clearly, and
//! the same seed gives the same run.

use circssnn::data::{default_root, split, Dataset, LengthPolicy, Registry, Split};
use circssnn::features::Knfp;
use circssnn::model::block::TransformerBlock;
use circssnn::model::{CircSsnn, ModelConfig, Norm, ViewSet, BERT_SMALL};
use circssnn::train::checkpoint::{CheckpointMeta, FORMAT_VERSION};
use circssnn::train::{
    fit, load_checkpoint, make_batch, predict_proba, save_checkpoint, Descriptors, TrainConfig,
    TrainError,
};
use dfdx::nn::BuildModule;
use dfdx::optim::{Adam, AdamConfig, Optimizer, OptimizerUpdateError};
use dfdx::prelude::*;

type Net = CircSsnn<BERT_SMALL, 1, Cpu>;

fn knfp_only() -> Descriptors<'static, BERT_SMALL> {
    static K: Knfp = Knfp;
    Descriptors {
        knfp: Some(&K),
        vec: None,
        bert: None,
    }
}

/// Deterministic pseudo-random windows.
fn windows(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            (0..101)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"ACGU"[(s >> 33) as usize % 4]
                })
                .collect()
        })
        .collect()
}

fn gradient_check(norm: Norm) {
    let dev = Cpu::seed_from_u64(1);
    let block = TransformerBlock::<f32, Cpu>::build(&dev);
    let x: Tensor<(usize, Const<128>, Const<400>), f32, Cpu> =
        dev.sample_normal_like(&(2, Const, Const));
    // A sparse probe: the loss sums 102,400 products, and with a dense probe
    // the rounding noise of the outputs (~1e-3 after the central difference)
    // would swamp it. Zeros add exactly, so only the ~1% non-zero terms carry
    // rounding error, while every output still depends on every input
    // through attention.
    let dense: Tensor<(usize, Const<128>, Const<400>), f32, Cpu> =
        dev.sample_normal_like(&(2, Const, Const));
    let sparse: Vec<f32> = dense
        .as_vec()
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 97 == 0 { v } else { 0.0 })
        .collect();
    let r = dev.tensor_from_vec(sparse, (2, Const::<128>, Const::<400>));
    // The probe's sum is taken in f64: summed in f32 (as the tape does) its
    // rounding alone moved the central difference by up to 1e-3 at eps 1e-2
    // (coordinate 51,200: -0.00567 or -0.00534 depending on the kernels'
    // rounding, against an analytic -0.006627 that both kernels agree on to
    // six digits and the f64 sum reproduces within 3e-5).
    let r_values = r.as_vec();
    let loss_of = |x: Tensor<(usize, Const<128>, Const<400>), f32, Cpu>| -> f64 {
        let out = block.forward(x, norm, 0.0).as_vec();
        out.iter()
            .zip(&r_values)
            .map(|(&o, &p)| o as f64 * p as f64)
            .sum()
    };
    let grads = (block.forward(x.leaky_trace(), norm, 0.0) * r.clone())
        .sum::<Rank0, _>()
        .backward();
    let analytic = grads.get(&x).as_vec();
    let base = x.as_vec();
    // At eps 3e-2 the truncation error is ~1e-5 and the outputs' rounding
    // ~1e-4 (measured: every coordinate below within 1.1e-4 of the tape).
    let eps = 3e-2f32;
    // Coordinates spread over batch items, tokens and features.
    for &i in &[0usize, 401, 12_345, 51_199, 51_200, 77_777, 102_399] {
        let shifted = |d: f32| {
            let mut v = base.clone();
            v[i] += d;
            dev.tensor_from_vec(v, (2, Const::<128>, Const::<400>))
        };
        let numeric = (loss_of(shifted(eps)) - loss_of(shifted(-eps))) / (2.0 * eps as f64);
        let a = analytic[i] as f64;
        assert!(
            (numeric - a).abs() <= 5e-4 + 1e-2 * a.abs(),
            "{norm:?}-norm gradient at {i}: analytic {a}, finite difference {numeric}"
        );
    }
}

#[test]
fn transformer_block_gradients_match_finite_differences() {
    gradient_check(Norm::Pre);
    gradient_check(Norm::Post);
}

/// Gradient x input against its definition: at position `i`,
/// `sum_d x_id * d logodds / d x_id` is the derivative of the log-odds when
/// that position's descriptor row is scaled by `1 + t`, at `t = 0`; a central
/// difference through the inference forward gives it independently of the
/// tape. Two views and non-trivial BatchNorm running statistics, so the
/// hand-written inference BatchNorm on the traced path is checked too.
#[test]
fn gradient_x_input_is_the_derivative_of_the_log_odds_along_each_position() {
    let dev = Cpu::seed_from_u64(9);
    let config = ModelConfig {
        views: ViewSet {
            knfp: true,
            vec: true,
            bert: false,
        },
        ..ModelConfig::default()
    };
    let mut net = Net::new(&dev, config);
    net.params.knfp.norm.running_mean = dev.sample_normal();
    net.params.knfp.norm.running_var = dev.sample_uniform::<Rank1<128>>() + 0.5;
    net.params.vec.norm.running_mean = dev.sample_normal();
    net.params.vec.norm.running_var = dev.sample_uniform::<Rank1<128>>() + 0.5;
    let knfp: Tensor<(usize, Const<101>, Const<84>), f32, Cpu> =
        dev.sample_normal_like(&(2, Const, Const));
    let vec: Tensor<(usize, Const<101>, Const<30>), f32, Cpu> =
        dev.sample_normal_like(&(2, Const, Const));
    let batch = |k: Vec<f32>, v: Vec<f32>| circssnn::model::ViewBatch::<BERT_SMALL, Cpu> {
        knfp: Some(dev.tensor_from_vec(k, (2, Const, Const))),
        vec: Some(dev.tensor_from_vec(v, (2, Const, Const))),
        bert: None,
    };
    let (k0, v0) = (knfp.as_vec(), vec.as_vec());
    let gxi = net
        .gradient_x_input(&batch(k0.clone(), v0.clone()))
        .unwrap();
    assert_eq!(gxi.len(), 2);
    let log_odds = |k: Vec<f32>, v: Vec<f32>, w: usize| -> f64 {
        let l = net.forward_eval(&batch(k, v)).unwrap().as_vec();
        (l[2 * w + 1] - l[2 * w]) as f64
    };
    // At initialisation the log-odds moves by ~1e-3 per position; the f32
    // rounding of a central difference is ~1e-5.
    let (mut checked, mut sizeable) = (0, 0);
    for (w, track) in gxi.iter().enumerate() {
        for &i in &[0usize, 7, 33, 50, 64, 99, 100] {
            let scaled = |t: f32| {
                let (mut k, mut v) = (k0.clone(), v0.clone());
                let row = w * 101 + i;
                k[row * 84..(row + 1) * 84]
                    .iter_mut()
                    .for_each(|x| *x *= 1.0 + t);
                v[row * 30..(row + 1) * 30]
                    .iter_mut()
                    .for_each(|x| *x *= 1.0 + t);
                (k, v)
            };
            let h = 1e-2f32;
            let (kp, vp) = scaled(h);
            let (km, vm) = scaled(-h);
            let numeric = (log_odds(kp, vp, w) - log_odds(km, vm, w)) / (2.0 * h as f64);
            let a = track[i];
            assert!(
                (numeric - a).abs() <= 5e-5 + 2e-2 * a.abs(),
                "window {w} position {i}: gradient x input {a}, finite difference {numeric}"
            );
            checked += 1;
            sizeable += usize::from(a.abs() > 1e-4);
        }
    }
    assert!(
        sizeable >= checked / 2,
        "only {sizeable} of {checked} attributions are non-negligible: the check would be vacuous"
    );
}

/// The projected attention is a distribution over positions, and a
/// position no token draws from gets none of it.
#[test]
fn projected_attention_sums_to_one_and_follows_the_mixing_weights() {
    let dev = Cpu::seed_from_u64(10);
    let mut net = Net::new(&dev, ModelConfig::default());
    let mut mix = net.params.knfp.position_mix.as_vec();
    for row in mix.chunks_mut(101) {
        row[17] = 0.0;
    }
    net.params.knfp.position_mix = dev.tensor_from_vec(mix, (Const::<128>, Const::<101>));
    let x: Tensor<(usize, Const<101>, Const<84>), f32, Cpu> =
        dev.sample_normal_like(&(3, Const, Const));
    let batch = circssnn::model::ViewBatch::<BERT_SMALL, Cpu> {
        knfp: Some(x),
        vec: None,
        bert: None,
    };
    let att = net.attention_on_positions(&batch).unwrap();
    assert_eq!(att.len(), 3);
    for a in &att {
        // Softmax rows sum to 1 in f32: ~1e-7 each.
        let total: f64 = a.iter().sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
        assert!(a.iter().all(|&v| v >= 0.0));
        assert_eq!(a[17], 0.0);
    }
}

#[test]
fn tiny_batch_overfits() {
    let dev = Cpu::seed_from_u64(3);
    let mut net = Net::new(&dev, ModelConfig::default());
    let seqs = windows(16, 9);
    let refs: Vec<&[u8]> = seqs.iter().map(|s| s.as_slice()).collect();
    let labels: Vec<f32> = (0..16)
        .flat_map(|i| if i % 2 == 0 { [0.0, 1.0] } else { [1.0, 0.0] })
        .collect();
    let target = dev.tensor_from_vec(labels, (16, Const::<2>));
    let batch = make_batch(&dev, &knfp_only(), ViewSet::KNFP, &refs).unwrap();
    let mut opt = Adam::new(
        &net.params,
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    );
    let mut first = None;
    let mut last = f32::MAX;
    // Stop once memorised: past that point the gradients shrink into
    // subnormal floats, which the CPU computes ~100x slower (this loop ran
    // 80 steps in ~8 minutes of CI time before it stopped early).
    for _ in 0..80 {
        let loss =
            cross_entropy_with_logits_loss(net.forward_train(&batch).unwrap(), target.clone());
        last = loss.as_vec()[0];
        first.get_or_insert(last);
        if last < 0.05 {
            break;
        }
        let g = loss.backward();
        match opt.update(&mut net.params, &g) {
            Ok(()) | Err(OptimizerUpdateError::UnusedParams(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(first.unwrap() > 0.5, "starts near ln 2: {first:?}");
    assert!(last < 0.05, "16 windows should be memorised, loss {last}");
}

/// The smallest real set, with the default split, training on every fourth
/// training window: these tests are about determinism and resuming, and a
/// CPU epoch costs about a second per batch of 64.
fn wtap() -> (Dataset, Split) {
    let ds = Registry::scan(&default_root())
        .expect("the shipped benchmark in data/benchmark")
        .get("WTAP")
        .unwrap()
        .load(LengthPolicy::STRICT)
        .unwrap();
    let mut sp = split::stratified(&ds.labels, &Default::default());
    sp.train = sp.train.into_iter().step_by(4).collect();
    (ds, sp)
}

fn meta(depth: usize) -> CheckpointMeta {
    CheckpointMeta {
        format_version: FORMAT_VERSION,
        bert_width: BERT_SMALL,
        depth,
        model: ModelConfig::default(),
        set: "synthetic".into(),
        split: circssnn::data::split::SplitKind::Random,
        split_seed: 0,
        negatives: Default::default(),
        max_per_set: None,
        seed: 0,
        descriptors: Default::default(),
        heads: Vec::new(),
        epoch: 1,
        crate_version: "test".into(),
        weights_sha256: None,
    }
}

#[test]
fn checkpoint_round_trip_and_failures() {
    let dev = Cpu::seed_from_u64(5);
    let mut net = Net::new(
        &dev,
        ModelConfig {
            norm: Norm::Post,
            ..Default::default()
        },
    );
    let seqs = windows(40, 2);
    let refs: Vec<&[u8]> = seqs.iter().map(|s| s.as_slice()).collect();
    // Move BatchNorm's running statistics off their defaults, so the test
    // shows they are saved too.
    let _ = net
        .forward_train(&make_batch(&dev, &knfp_only(), ViewSet::KNFP, &refs).unwrap())
        .unwrap();
    let before = predict_proba(&net, &dev, &knfp_only(), &refs, 16).unwrap();

    let dir = tempfile::tempdir().unwrap();
    save_checkpoint(
        dir.path(),
        "best",
        &net,
        &CheckpointMeta {
            model: net.config,
            ..meta(1)
        },
    )
    .unwrap();
    let (loaded, m) =
        load_checkpoint::<BERT_SMALL, 1, Cpu>(&Cpu::default(), dir.path(), "best").unwrap();
    assert_eq!(m.model.norm, Norm::Post);
    // Same batch size: bit for bit. Another batch size changes the GEMM's
    // row blocking and with it the rounding (gemm 0.19: 1 of these 40
    // windows moves by one ulp from batch 16 to batch 7, with the original
    // network as with the reloaded one), so that comparison has a tolerance.
    assert_eq!(
        predict_proba(&loaded, &dev, &knfp_only(), &refs, 16).unwrap(),
        before,
        "identical predictions"
    );
    let other_batch = predict_proba(&loaded, &dev, &knfp_only(), &refs, 7).unwrap();
    for (i, (a, b)) in other_batch.iter().zip(&before).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6,
            "window {i}: {a} at batch 7, {b} at 16"
        );
    }

    let err = load_checkpoint::<BERT_SMALL, 2, Cpu>(&dev, dir.path(), "best").unwrap_err();
    assert!(
        matches!(err, TrainError::Checkpoint { .. }) && err.to_string().contains("depth 1"),
        "{err}"
    );

    let weights = dir.path().join("best.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_checkpoint::<BERT_SMALL, 1, Cpu>(&dev, dir.path(), "best").unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");

    std::fs::write(dir.path().join("best.json"), "{ not json").unwrap();
    let err = load_checkpoint::<BERT_SMALL, 1, Cpu>(&dev, dir.path(), "best").unwrap_err();
    assert!(err.to_string().contains("best.json"), "{err}");
}

#[test]
fn unavailable_view_is_a_clear_error() {
    let dev = Cpu::default();
    let net = Net::new(
        &dev,
        ModelConfig {
            views: ViewSet::ALL,
            ..Default::default()
        },
    );
    let err = predict_proba(&net, &dev, &knfp_only(), &[b"ACGU".as_slice()], 8).unwrap_err();
    assert!(matches!(err, TrainError::DescriptorUnavailable(_)), "{err}");
}

#[test]
fn same_seed_same_run_on_real_data() {
    let (ds, sp) = wtap();
    let cfg = TrainConfig {
        epochs: 1,
        ..Default::default()
    };
    let run = || {
        let dev = Cpu::seed_from_u64(11);
        let mut net = Net::new(&dev, ModelConfig::default());
        let r = fit(&mut net, &dev, &knfp_only(), &ds, &sp, &cfg, None).unwrap();
        (r.history[0].train_loss, r.history[0].valid_auc, r.test)
    };
    assert_eq!(run(), run());
}

#[test]
fn interrupted_run_resumes_from_its_last_epoch() {
    use circssnn::train::fit::RunDir;
    let (ds, sp) = wtap();
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir {
        dir: dir.path(),
        meta: meta(1),
        resume: true,
    };
    let dev = Cpu::seed_from_u64(2);
    // Each call starts from a fresh network, as a restarted process would.
    let train = |cfg: TrainConfig| {
        let mut net = Net::new(&dev, ModelConfig::default());
        fit(&mut net, &dev, &knfp_only(), &ds, &sp, &cfg, Some(&run))
    };

    // "Interrupted" after one of two epochs.
    let one = train(TrainConfig {
        epochs: 1,
        ..Default::default()
    })
    .unwrap();
    assert!(
        dir.path().join("last.safetensors").is_file() && dir.path().join("state.json").is_file()
    );

    let two = train(TrainConfig {
        epochs: 2,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(two.resumed_after, Some(1));
    assert_eq!(two.history.len(), 2);
    assert_eq!(
        two.history[0], one.history[0],
        "the finished epoch is kept, not retrained"
    );

    // Other settings in the same folder are refused rather than mixed.
    let err = train(TrainConfig {
        epochs: 3,
        lr: 1e-3,
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
}

/// The run state is JSON, and a resumed run must read back exactly the
/// history it wrote: the value below (an epoch's wall time from CI) came
/// back one ulp off under serde_json's default float parser.
#[test]
fn epoch_records_read_back_bit_exact() {
    use circssnn::train::fit::EpochRecord;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        f64::from_bits(0x3FF0_0000_0000_0000 | (seed >> 12)) * 16.0
    };
    for i in 0..2000 {
        let r = EpochRecord {
            epoch: i,
            lr: 3e-6,
            train_loss: next(),
            valid_auc: next() / 32.0,
            test_auc: next() / 32.0,
            test_auc_batch_mean: next() / 32.0,
            seconds: if i == 0 { 10.160564645 } else { next() },
        };
        let back: EpochRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}

#[test]
fn published_protocol_is_undefined_below_one_test_batch_and_still_resumes() {
    use circssnn::train::fit::RunDir;
    let (ds, mut sp) = wtap();
    // 40 test windows, 20 of each class: the published protocol drops them
    // all as the incomplete tail.
    let (labels, test) = (&ds.labels, &sp.test);
    let of = |y: u8| {
        test.iter()
            .copied()
            .filter(move |&i| labels[i] == y)
            .take(20)
    };
    sp.test = of(0).chain(of(1)).collect();
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir {
        dir: dir.path(),
        meta: meta(1),
        resume: true,
    };
    let dev = Cpu::seed_from_u64(3);
    let train = |epochs| {
        let mut net = Net::new(&dev, ModelConfig::default());
        let cfg = TrainConfig {
            epochs,
            ..Default::default()
        };
        fit(&mut net, &dev, &knfp_only(), &ds, &sp, &cfg, Some(&run)).unwrap()
    };
    let one = train(1);
    assert!(one.published.auc.is_nan(), "{:?}", one.published);
    assert!(
        one.test.auc > 0.0 && one.test.n == 40,
        "the whole-test metrics stay defined"
    );
    // state.json now holds a null; resuming must read it back.
    let two = train(2);
    assert_eq!(two.resumed_after, Some(1));
    assert!(two.history.iter().all(|r| r.test_auc_batch_mean.is_nan()));
    assert!(two.published.auc.is_nan());
}

/// A descriptor that produces NaN, to drive the loss non-finite.
struct Poisoned;
impl circssnn::features::Descriptor<84> for Poisoned {
    fn name(&self) -> &str {
        "poisoned"
    }
    fn encode_into(&self, _seq: &[u8], out: &mut [f32]) {
        out.fill(f32::NAN);
    }
}

#[test]
fn non_finite_features_and_loss_stop_training_with_a_clear_error() {
    let (ds, sp) = wtap();
    let dev = Cpu::seed_from_u64(1);
    let one_epoch = TrainConfig {
        epochs: 1,
        ..Default::default()
    };

    // NaN features would be silently zeroed by ReLU; they are refused instead.
    static P: Poisoned = Poisoned;
    let desc = Descriptors::<BERT_SMALL> {
        knfp: Some(&P),
        vec: None,
        bert: None,
    };
    let err = fit(
        &mut Net::new(&dev, ModelConfig::default()),
        &dev,
        &desc,
        &ds,
        &sp,
        &one_epoch,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, TrainError::NonFiniteFeature { .. }), "{err}");
    assert!(
        err.to_string().contains("descriptor poisoned produced NaN"),
        "{err}"
    );

    // A learning rate of 1e30 overflows the weights after the first step.
    let wild = TrainConfig {
        lr: 1e30,
        ..one_epoch
    };
    let err = fit(
        &mut Net::new(&dev, ModelConfig::default()),
        &dev,
        &knfp_only(),
        &ds,
        &sp,
        &wild,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteLoss { epoch: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("training diverged") && err.to_string().contains("--lr"),
        "{err}"
    );
}

/// The depth experiment's short run (notebook 02): the same seed gives the
/// same losses, one gradient norm per block before and after, a learning
/// rate that blows up is a result naming its step rather than an error, and
/// stored arms read back (a corrupt one named).
#[test]
fn constant_lr_run_is_deterministic_and_reports_divergence() {
    use circssnn::train::diagnostics::{
        constant_lr_run, read_depth_arms, DepthArm, ShortRunConfig,
    };
    let (ds, sp) = wtap();
    let cfg = ShortRunConfig {
        steps: 3,
        batch_size: 16,
        ..Default::default()
    };
    let run = |lr: f64| {
        let dev = Cpu::seed_from_u64(3);
        let mut net = CircSsnn::<BERT_SMALL, 2, Cpu>::new(&dev, ModelConfig::default());
        let cfg = ShortRunConfig { lr, ..cfg };
        constant_lr_run(
            &mut net,
            &dev,
            &knfp_only(),
            &ds,
            &sp.train,
            &sp.valid,
            &cfg,
        )
        .unwrap()
    };
    let a = run(3e-3);
    assert_eq!(a, run(3e-3), "same seed, same run");
    assert_eq!(
        (a.losses.len(), a.grad_init.len(), a.grad_trained.len()),
        (3, 2, 2)
    );
    assert!(a.losses.iter().all(|l| l.is_finite() && *l > 0.0));
    assert!(a.valid_auc.is_some_and(|v| (0.0..=1.0).contains(&v)));
    assert_eq!(a.diverged_at, None);

    // 1e30 overflows the weights at the first update.
    let wild = run(1e30);
    let step = wild.diverged_at.expect("a loss of inf or NaN");
    assert_eq!(wild.losses.len() + 1, step);
    assert!(wild.valid_auc.is_none() && wild.grad_trained.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let arm = DepthArm {
        depth: 2,
        norm: Norm::Post,
        config: cfg,
        run: a,
        seconds: 1.0,
    };
    let text = serde_json::to_string(&arm).unwrap();
    std::fs::write(dir.path().join("d02-post.json"), text).unwrap();
    let back = read_depth_arms(dir.path()).unwrap();
    // JSON keeps an f64 to within one unit in the last place.
    let close = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-12 * x.abs())
    };
    assert_eq!(back.len(), 1);
    assert_eq!(
        (back[0].depth, back[0].norm, back[0].config),
        (2, Norm::Post, cfg)
    );
    assert_eq!(back[0].run.losses, arm.run.losses);
    assert!(close(&back[0].run.grad_init, &arm.run.grad_init));
    assert!(close(&back[0].run.grad_trained, &arm.run.grad_trained));
    std::fs::write(dir.path().join("d04-pre.json"), "{").unwrap();
    let err = read_depth_arms(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("d04-pre.json") && err.contains("not a depth-experiment arm"),
        "{err}"
    );
}
