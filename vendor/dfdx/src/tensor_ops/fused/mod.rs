//! Patches 4, 5 and 7 (PATCHES.md): softmax over the last axis, LayerNorm
//! and BatchNorm1D as single row- or channel-parallel operations.
//!
//! dfdx composes them from its generic kernels: softmax as max, subtract,
//! exp, sum and divide (five passes over the tensor, each single-threaded
//! and strided, plus as many in the backward pass), LayerNorm as mean,
//! subtract, square, mean, add, sqrt, divide, multiply and add, BatchNorm
//! likewise with broadcasts. On the CircSSNN step shapes that cost ~99 ms
//! (softmax of (64, 8, 128, 128)) and ~62 ms (LayerNorm of (64, 128, 400))
//! per forward and backward pass on one core, and ~150 ms on 2 cores for
//! the paper profile's BatchNorm over (64, 128, 768). Here each is one pass
//! forward and one backward, over rows (channels for BatchNorm), split
//! across threads.
//!
//! A device without these kernels (CUDA) says so through
//! [FusedKernel::has_fused_rows] and the callers keep dfdx's composition.

mod cpu_kernel;

use crate::{shapes::*, tensor::*};

use super::{Device, ReshapeTo};

/// Row kernels over contiguous data whose rows are the last axis, `n` long,
/// and BatchNorm's channel kernels over contiguous `(outer, C, inner)` data.
pub trait FusedKernel<E: Dtype>: Storage<E> {
    /// Whether the methods below exist on this device. Without them the
    /// operations fall back to dfdx's composition of generic kernels.
    fn has_fused_rows(&self) -> bool {
        false
    }

    /// `out[r] = softmax(inp[r])` for every row `r`.
    fn softmax_rows_forward(
        &self,
        _inp: &Self::Vec,
        _out: &mut Self::Vec,
        _n: usize,
    ) -> Result<(), Self::Err> {
        unreachable!("callers check has_fused_rows")
    }

    /// `grad_inp[r] += y * (grad_out[r] - <grad_out[r], y>)` with `y = out[r]`.
    fn softmax_rows_backward(
        &self,
        _out: &Self::Vec,
        _grad_out: &Self::Vec,
        _grad_inp: &mut Self::Vec,
        _n: usize,
    ) -> Result<(), Self::Err> {
        unreachable!("callers check has_fused_rows")
    }

    /// `out[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta` (biased
    /// variance, as PyTorch's LayerNorm).
    fn layer_norm_rows_forward(
        &self,
        _x: &Self::Vec,
        _gamma: &Self::Vec,
        _beta: &Self::Vec,
        _epsilon: f64,
        _out: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        unreachable!("callers check has_fused_rows")
    }

    /// Accumulates the gradients of [FusedKernel::layer_norm_rows_forward]
    /// into `grad_x`, `grad_gamma` and `grad_beta` (the row statistics are
    /// recomputed from `x`, which is cheaper than keeping them).
    #[allow(clippy::too_many_arguments)]
    fn layer_norm_rows_backward(
        &self,
        _x: &Self::Vec,
        _gamma: &Self::Vec,
        _epsilon: f64,
        _grad_out: &Self::Vec,
        _grad_x: &mut Self::Vec,
        _grad_gamma: &mut Self::Vec,
        _grad_beta: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        unreachable!("callers check has_fused_rows")
    }

    /// BatchNorm's training forward over a contiguous `(outer, C, inner)`
    /// tensor (`C = scale.len()`; `inner` is 1 for a rank-2 input): per
    /// channel, mean and biased variance over its `outer x inner` values,
    /// `out = (x - mean) * (scale / sqrt(var + eps)) + bias`. Writes each
    /// channel's `(mean, var)` into `stats` (length 2C).
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_train_forward(
        &self,
        _x: &Self::Vec,
        _scale: &Self::Vec,
        _bias: &Self::Vec,
        _epsilon: f64,
        _inner: usize,
        _out: &mut Self::Vec,
        _stats: &mut [f64],
    ) -> Result<(), Self::Err> {
        unreachable!("callers check has_fused_rows")
    }

    /// Accumulates the gradients of
    /// [FusedKernel::batch_norm_train_forward] (given its `stats`).
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_backward(
        &self,
        _x: &Self::Vec,
        _scale: &Self::Vec,
        _stats: &[f64],
        _epsilon: f64,
        _inner: usize,
        _grad_out: &Self::Vec,
        _grad_x: &mut Self::Vec,
        _grad_scale: &mut Self::Vec,
        _grad_bias: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        unreachable!("callers check has_fused_rows")
    }

    /// BatchNorm's inference forward over a contiguous `(outer, C, inner)`
    /// tensor, in the composition's operations and order:
    /// `(x - mean) * (scale / sqrt(var + eps)) + bias` with the running
    /// statistics, so the values are the composition's bit for bit.
    #[allow(clippy::too_many_arguments)]
    fn batch_norm_infer(
        &self,
        _x: &Self::Vec,
        _mean: &Self::Vec,
        _var: &Self::Vec,
        _scale: &Self::Vec,
        _bias: &Self::Vec,
        _epsilon: f64,
        _inner: usize,
        _out: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        unreachable!("callers check has_fused_rows")
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> FusedKernel<E> for crate::tensor::Cuda {}

/// Whether `Ax` is exactly the last axis of `S`.
pub(crate) fn is_last_axis<S: Shape, Ax: Axes>() -> bool {
    S::NUM_DIMS > 0 && Ax::as_array().into_iter().eq([S::NUM_DIMS as isize - 1])
}

fn contiguous<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    t: Tensor<S, E, D, T>,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    if t.strides == t.shape.strides() {
        Ok(t)
    } else {
        t.try_contiguous()
    }
}

fn last_dim<S: Shape>(shape: &S) -> usize {
    shape.concrete().into_iter().last().unwrap_or(1)
}

/// Softmax over the last axis as one operation; the caller has checked
/// [FusedKernel::has_fused_rows].
pub(crate) fn try_softmax_last<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    t: Tensor<S, E, D, T>,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    let t = contiguous(t)?;
    let n = last_dim(&t.shape);
    let (inp, mut tape) = t.split_tape();
    let mut out: Tensor<S, E, D> = inp.device.try_zeros_like(&inp.shape)?;
    inp.device
        .softmax_rows_forward(&inp.data, std::sync::Arc::get_mut(&mut out.data).unwrap(), n)?;
    let inp_ghost = inp.ghost();
    let out_ghost = out.ghost();
    let out_data = out.data.clone();
    drop(inp);
    tape.add_backward_op(move |grads: &mut Gradients<E, D>| {
        grads.try_alloc_for(&inp_ghost)?;
        grads.try_alloc_for(&out_ghost)?;
        let (grad_inp, grad_out) = grads.mut_and_ref(&inp_ghost, &out_ghost);
        inp_ghost
            .dev
            .softmax_rows_backward(&out_data, grad_out, grad_inp, n)
    });
    Ok(out.put_tape(tape))
}

/// LayerNorm over the last axis (`M` wide) as one operation; the caller has
/// checked [FusedKernel::has_fused_rows].
pub(crate) fn try_layer_norm_last<S: Shape, const M: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<S, E, D, T>,
    gamma: &Tensor<Rank1<M>, E, D>,
    beta: &Tensor<Rank1<M>, E, D>,
    epsilon: f64,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    let x = contiguous(x)?;
    debug_assert_eq!(last_dim(&x.shape), M);
    // Parameters are contiguous (the caller checks): their gradients must
    // land under their own ids, so no copy may be made here.
    let gamma = gamma.clone();
    let (x, mut tape) = x.split_tape();
    let mut out: Tensor<S, E, D> = x.device.try_zeros_like(&x.shape)?;
    x.device.layer_norm_rows_forward(
        &x.data,
        &gamma.data,
        &beta.data,
        epsilon,
        std::sync::Arc::get_mut(&mut out.data).unwrap(),
    )?;
    let x_ghost = x.ghost();
    let gamma_ghost = gamma.ghost();
    let beta_ghost = beta.ghost();
    let out_ghost = out.ghost();
    tape.add_backward_op(move |grads: &mut Gradients<E, D>| {
        grads.try_alloc_for(&x_ghost)?;
        grads.try_alloc_for(&gamma_ghost)?;
        grads.try_alloc_for(&beta_ghost)?;
        grads.try_alloc_for(&out_ghost)?;
        let (grad_x, grad_gamma, grad_beta, grad_out) =
            four_grads(grads, &x_ghost, &gamma_ghost, &beta_ghost, &out_ghost);
        x.device.layer_norm_rows_backward(
            &x.data,
            &gamma.data,
            epsilon,
            grad_out,
            grad_x,
            grad_gamma,
            grad_beta,
        )
    });
    Ok(out.put_tape(tape))
}

/// The parameters of a BatchNorm1D, as the fused functions take them.
pub(crate) struct BatchNormParams<'a, const C: usize, E: Dtype, D: Storage<E>> {
    pub scale: &'a Tensor<Rank1<C>, E, D>,
    pub bias: &'a Tensor<Rank1<C>, E, D>,
    pub epsilon: f64,
}

/// Channels are axis 1 of `S` (rank 2 or 3); the values per channel sit in
/// runs of this many.
fn inner_len<S: Shape>(shape: &S) -> usize {
    shape.concrete().into_iter().skip(2).product()
}

/// BatchNorm1D's training forward as one operation on an input of shape
/// `(B, C)` or `(B, C, L)`; returns the output and the batch's per-channel
/// mean and biased variance (for the running statistics, which the caller
/// updates as dfdx does). The caller has checked
/// [FusedKernel::has_fused_rows] and that the parameters are contiguous.
pub(crate) fn try_batch_norm_train<S: Shape, const C: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<S, E, D, T>,
    params: BatchNormParams<'_, C, E, D>,
) -> Result<(Tensor<S, E, D, T>, Vec<f64>), D::Err> {
    let x = contiguous(x)?;
    let inner = inner_len(&x.shape);
    let (scale, bias, epsilon) = (params.scale.clone(), params.bias, params.epsilon);
    let (x, mut tape) = x.split_tape();
    let mut out: Tensor<S, E, D> = x.device.try_zeros_like(&x.shape)?;
    let mut stats = std::vec![0f64; 2 * C];
    x.device.batch_norm_train_forward(
        &x.data,
        &scale.data,
        &bias.data,
        epsilon,
        inner,
        std::sync::Arc::get_mut(&mut out.data).unwrap(),
        &mut stats,
    )?;
    let x_ghost = x.ghost();
    let scale_ghost = scale.ghost();
    let bias_ghost = bias.ghost();
    let out_ghost = out.ghost();
    let saved = stats.clone();
    tape.add_backward_op(move |grads: &mut Gradients<E, D>| {
        grads.try_alloc_for(&x_ghost)?;
        grads.try_alloc_for(&scale_ghost)?;
        grads.try_alloc_for(&bias_ghost)?;
        grads.try_alloc_for(&out_ghost)?;
        let (grad_x, grad_scale, grad_bias, grad_out) =
            four_grads(grads, &x_ghost, &scale_ghost, &bias_ghost, &out_ghost);
        x.device.batch_norm_backward(
            &x.data,
            &scale.data,
            &saved,
            epsilon,
            inner,
            grad_out,
            grad_x,
            grad_scale,
            grad_bias,
        )
    });
    Ok((out.put_tape(tape), stats))
}

/// BatchNorm1D's inference forward (running statistics) as one operation on
/// an input of shape `(B, C)` or `(B, C, L)`; the caller has checked
/// [FusedKernel::has_fused_rows].
pub(crate) fn try_batch_norm_infer<S: Shape, const C: usize, E: Dtype, D: Device<E>>(
    x: Tensor<S, E, D>,
    params: BatchNormParams<'_, C, E, D>,
    running_mean: &Tensor<Rank1<C>, E, D>,
    running_var: &Tensor<Rank1<C>, E, D>,
) -> Result<Tensor<S, E, D>, D::Err> {
    let x = contiguous(x)?;
    let inner = inner_len(&x.shape);
    let mut out: Tensor<S, E, D> = x.device.try_zeros_like(&x.shape)?;
    x.device.batch_norm_infer(
        &x.data,
        &running_mean.data,
        &running_var.data,
        &params.scale.data,
        &params.bias.data,
        params.epsilon,
        inner,
        std::sync::Arc::get_mut(&mut out.data).unwrap(),
    )?;
    Ok(out)
}

/// Three mutable gradients and one shared one, for four distinct ids.
fn four_grads<'g, S1: Shape, S2: Shape, S3: Shape, S4: Shape, E: Dtype, D: Storage<E>>(
    grads: &'g mut Gradients<E, D>,
    a: &impl Tensorlike<S1, E, D>,
    b: &impl Tensorlike<S2, E, D>,
    c: &impl Tensorlike<S3, E, D>,
    out: &impl Tensorlike<S4, E, D>,
) -> (&'g mut D::Vec, &'g mut D::Vec, &'g mut D::Vec, &'g D::Vec) {
    assert_ne!(c.id(), a.id());
    assert_ne!(c.id(), b.id());
    assert_ne!(c.id(), out.id());
    let (ga, gb, go) = grads.muts_and_ref(a, b, out);
    let parts = (ga as *mut D::Vec, gb as *mut D::Vec, go as *const D::Vec);
    let gc: *mut D::Vec = grads.get_mut(c);
    // SAFETY: four distinct ids (checked above and by `muts_and_ref`) are
    // four distinct buffers of the gradient map, and none moves while these
    // references live (nothing is inserted or removed).
    unsafe { (&mut *parts.0, &mut *parts.1, &mut *gc, &*parts.2) }
}

#[cfg(test)]
mod tests;
