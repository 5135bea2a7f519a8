//! The fused kernels against dfdx's own composition of generic kernels:
//! values and gradients, on shapes from one row to the CircSSNN step's,
//! including non-contiguous inputs and rows longer than one task.

use super::*;
use crate::{prelude::*, tests::*};
use num_traits::ToPrimitive;

/// Largest absolute difference between two equally long buffers.
fn max_diff(a: &[TestDtype], b: &[TestDtype]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x.to_f64().unwrap() - y.to_f64().unwrap()).abs())
        .fold(0.0, f64::max)
}

fn composed_softmax<S: Shape, T: Tape<TestDtype, TestDevice>>(
    t: Tensor<S, TestDtype, TestDevice, T>,
) -> Tensor<S, TestDtype, TestDevice, T>
where
    S: ReduceShape<S::LastAxis>,
{
    // exp(t - logsumexp(t)): dfdx's composition, not the fused kernel.
    t.log_softmax::<S::LastAxis>().exp()
}

fn check_softmax<S: Shape + ReduceShape<S::LastAxis>>(dev: &TestDevice, shape: S) {
    let t: Tensor<S, TestDtype, _> = dev.sample_like(&shape, rand_distr::StandardNormal) * 3.0;
    let w: Tensor<S, TestDtype, _> = dev.sample_like(&shape, rand_distr::StandardNormal);
    let fused = t.leaky_trace().softmax::<S::LastAxis>();
    let plain = composed_softmax(t.leaky_trace());
    assert!(max_diff(&fused.as_vec(), &plain.as_vec()) < 1e-6, "{shape:?} values");
    let g1 = (fused * w.clone()).sum().backward();
    let g2 = (plain * w).sum().backward();
    assert!(max_diff(&g1.get(&t).as_vec(), &g2.get(&t).as_vec()) < 1e-5, "{shape:?} gradients");
}

#[test]
fn fused_softmax_matches_composition() {
    let dev: TestDevice = TestDevice::seed_from_u64(7);
    check_softmax(&dev, (Const::<1>, Const::<5>));
    check_softmax(&dev, (3usize, Const::<17>));
    check_softmax(&dev, (2usize, Const::<3>, 65usize, Const::<128>));
    check_softmax(&dev, (4usize, Const::<8>, Const::<128>, Const::<128>));
}

#[test]
fn fused_softmax_of_permuted_input_matches_composition() {
    let dev: TestDevice = TestDevice::seed_from_u64(8);
    let t: Tensor<Rank3<4, 6, 9>, TestDtype, _> = dev.sample_normal();
    let w: Tensor<Rank3<4, 9, 6>, TestDtype, _> = dev.sample_normal();
    let fused = t.leaky_trace().permute::<_, Axes3<0, 2, 1>>().softmax::<Axis<2>>();
    let plain = composed_softmax(t.leaky_trace().permute::<_, Axes3<0, 2, 1>>());
    assert!(max_diff(&fused.as_vec(), &plain.as_vec()) < 1e-6);
    let g1 = (fused * w.clone()).sum().backward();
    let g2 = (plain * w).sum().backward();
    assert!(max_diff(&g1.get(&t).as_vec(), &g2.get(&t).as_vec()) < 1e-5);
}

#[test]
fn softmax_over_other_axes_keeps_composition() {
    let dev: TestDevice = TestDevice::seed_from_u64(9);
    let t: Tensor<Rank3<2, 5, 4>, TestDtype, _> = dev.sample_normal();
    let p = t.softmax::<Axis<1>>();
    let sums = p.sum::<Rank2<2, 4>, _>().array();
    for row in sums {
        for s in row {
            assert!((s - 1.0).abs() < 1e-6);
        }
    }
}

macro_rules! check_layer_norm {
    ($dev:expr, $m:literal, $shape:expr, $ax:ty) => {{
        let dev = $dev;
        let shape = $shape;
        let mut ln = dev.build_module::<crate::nn::builders::LayerNorm1D<$m>, TestDtype>();
        ln.gamma = dev.sample_normal();
        ln.beta = dev.sample_normal();
        let x: Tensor<_, TestDtype, _> = dev.sample_like(&shape, rand_distr::StandardNormal) * 2.0 + 0.5;
        let w: Tensor<_, TestDtype, _> = dev.sample_like(&shape, rand_distr::StandardNormal);

        let fused = ln.forward(x.leaky_trace());
        assert!(fused.strides == shape.strides());
        let values = fused.as_vec();
        let g1 = (fused * w.clone()).sum().backward();

        // dfdx's composition: normalize, then gamma and beta broadcast.
        type Tp = OwnedTape<TestDtype, TestDevice>;
        let plain = x.leaky_trace().normalize::<$ax>(ln.epsilon)
            * ln.gamma.retaped::<Tp>().broadcast_like(&shape)
            + ln.beta.retaped::<Tp>().broadcast_like(&shape);
        assert!(max_diff(&values, &plain.as_vec()) < 1e-5, "{shape:?} values");
        let g2 = (plain * w).sum().backward();
        assert!(max_diff(&g1.get(&x).as_vec(), &g2.get(&x).as_vec()) < 1e-4, "{shape:?} dx");
        assert!(max_diff(&g1.get(&ln.gamma).as_vec(), &g2.get(&ln.gamma).as_vec()) < 1e-3, "{shape:?} dgamma");
        assert!(max_diff(&g1.get(&ln.beta).as_vec(), &g2.get(&ln.beta).as_vec()) < 1e-3, "{shape:?} dbeta");
    }};
}

#[test]
fn fused_layer_norm_matches_composition() {
    let dev: TestDevice = TestDevice::seed_from_u64(10);
    check_layer_norm!(&dev, 5, (1usize, Const::<5>), Axis<1>);
    check_layer_norm!(&dev, 37, (130usize, Const::<37>), Axis<1>);
    check_layer_norm!(&dev, 400, (3usize, Const::<128>, Const::<400>), Axis<2>);
}

macro_rules! check_batch_norm {
    ($dev:expr, $c:literal, $x:expr, $ax:ty) => {{
        let dev = $dev;
        let x = $x;
        let shape = *x.shape();
        let mut bn = dev.build_module::<crate::nn::builders::BatchNorm1D<$c>, TestDtype>();
        bn.scale = dev.sample_normal();
        bn.bias = dev.sample_normal();
        bn.running_var = dev.sample_uniform::<Rank1<$c>>() + 0.5;
        let mut plain_bn = bn.clone();
        let w: Tensor<_, TestDtype, _> = dev.sample_like(&shape, rand_distr::StandardNormal);

        // Training: batch statistics, running statistics updated.
        let fused = bn.forward_mut(x.leaky_trace());
        assert!(fused.strides == shape.strides());
        let values = fused.as_vec();
        let g1 = (fused * w.clone()).sum().backward();
        let plain = crate::nn::batchnorm2d::train_fwd::<$c, _, _, _, _, $ax>(
            x.leaky_trace(),
            &mut plain_bn.running_var,
            &mut plain_bn.running_mean,
            &plain_bn.scale,
            &plain_bn.bias,
            plain_bn.epsilon,
            plain_bn.momentum,
        )
        .unwrap();
        assert!(max_diff(&values, &plain.as_vec()) < 1e-5, "{shape:?} values");
        let g2 = (plain * w).sum().backward();
        assert!(max_diff(&g1.get(&x).as_vec(), &g2.get(&x).as_vec()) < 1e-4, "{shape:?} dx");
        assert!(max_diff(&g1.get(&bn.scale).as_vec(), &g2.get(&plain_bn.scale).as_vec()) < 1e-3, "{shape:?} dscale");
        assert!(max_diff(&g1.get(&bn.bias).as_vec(), &g2.get(&plain_bn.bias).as_vec()) < 1e-3, "{shape:?} dbias");
        assert!(max_diff(&bn.running_mean.as_vec(), &plain_bn.running_mean.as_vec()) < 1e-6, "{shape:?} running mean");
        assert!(max_diff(&bn.running_var.as_vec(), &plain_bn.running_var.as_vec()) < 1e-5, "{shape:?} running var");

        // Inference: running statistics, the composition's values bit for bit.
        let fused = bn.forward(x.clone());
        let plain = crate::nn::batchnorm2d::infer_fwd::<$c, _, _, _, $ax>(
            x.clone(),
            &bn.running_var,
            &bn.running_mean,
            &bn.scale,
            &bn.bias,
            bn.epsilon,
        )
        .unwrap();
        assert_eq!(fused.as_vec(), plain.as_vec(), "{shape:?} inference");
    }};
}

#[test]
fn fused_batch_norm_matches_composition() {
    let dev: TestDevice = TestDevice::seed_from_u64(12);
    let x: Tensor<(usize, Const<4>), TestDtype, _> = dev.sample_like(&(9, Const), rand_distr::StandardNormal) * 2.0 + 0.5;
    check_batch_norm!(&dev, 4, x, Axis<0>);
    let x: Tensor<(usize, Const<7>, usize), TestDtype, _> =
        dev.sample_like(&(5, Const, 13), rand_distr::StandardNormal) * 2.0 - 1.0;
    check_batch_norm!(&dev, 7, x, Axes2<0, 2>);
    // A CircSSNN view encoder's shape, and its input as the encoder makes it
    // (a permuted product): not contiguous, copied first.
    let x: Tensor<(usize, Const<30>, Const<128>), TestDtype, _> =
        dev.sample_like(&(16, Const, Const), rand_distr::StandardNormal);
    let x = x.permute::<(usize, Const<128>, Const<30>), Axes3<0, 2, 1>>();
    check_batch_norm!(&dev, 128, x, Axes2<0, 2>);
}

/// Property test over random shapes (a seeded generator, so a failure
/// reproduces): softmax rows of any length, LayerNorm and BatchNorm over any
/// number of rows and positions, including one-row and one-position cases
/// and row counts that are not multiples of a task.
#[test]
fn fused_kernels_match_composition_on_random_shapes() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let dev: TestDevice = TestDevice::seed_from_u64(14);
    for _ in 0..12 {
        let (rows, n) = (rng.gen_range(1..300usize), rng.gen_range(1..200usize));
        check_softmax(&dev, (rows, n));
        let rows = rng.gen_range(1..200usize);
        check_layer_norm!(&dev, 24, (rows, Const::<24>), Axis<1>);
        let (b, l) = (rng.gen_range(2..40usize), rng.gen_range(1..50usize));
        let x: Tensor<(usize, Const<6>, usize), TestDtype, _> =
            dev.sample_like(&(b, Const, l), rand_distr::StandardNormal) * 1.5 + 0.3;
        check_batch_norm!(&dev, 6, x, Axes2<0, 2>);
    }
}

/// Patch 6: element-wise kernels on tensors long enough to run in parallel
/// chunks give, element by element, what the formula gives.
#[test]
fn parallel_elementwise_matches_formula() {
    let dev: TestDevice = TestDevice::seed_from_u64(11);
    const N: usize = 100_003; // several chunks and a ragged end
    let x: Tensor<(usize,), TestDtype, _> = dev.sample_like(&(N,), rand_distr::StandardNormal);
    let y: Tensor<(usize,), TestDtype, _> = dev.sample_like(&(N,), rand_distr::StandardNormal);
    let z = x.leaky_trace() * y.clone() + x.leaky_trace().exp() - y.leaky_trace();
    let (xv, yv, zv) = (x.as_vec(), y.as_vec(), z.as_vec());
    let g = z.sum().backward();
    let (gx, gy) = (g.get(&x).as_vec(), g.get(&y).as_vec());
    for i in 0..N {
        let (a, b) = (xv[i], yv[i]);
        assert!((zv[i] - (a * b + a.exp() - b)).abs() <= 1e-5 * (1.0 + zv[i].abs()), "value {i}");
        assert!((gx[i] - (b + a.exp())).abs() <= 1e-5 * (1.0 + gx[i].abs()), "dx {i}");
        assert!((gy[i] - (a - 1.0)).abs() <= 1e-5, "dy {i}");
    }
}
