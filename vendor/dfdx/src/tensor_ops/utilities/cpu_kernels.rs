use std::borrow::Cow;

use super::ops::{BinaryKernel, UnaryKernel};
use crate::{
    shapes::{Dtype, Shape},
    tensor::{
        cpu::{Cpu, LendingIterator, NdIndex},
        unique_id, Tensor, Tensorlike, ZerosTensor,
    },
};

pub trait UnaryDerivative<E> {
    /// Whether the [UnaryDerivative::df] function can re-use the output
    /// from [UnaryDerivative::f].
    const DF_USES_FX: bool;
    /// Whether the derivative of this op can be computed without
    /// any data.
    const HAS_CONST_DF: bool;

    fn f(&self, x: &E) -> E;

    /// Receives `f(x)` if [UnaryDerivative::DF_USES_FX] is true,
    /// otherwise `x`.
    fn df(&self, x: &E) -> E;

    fn const_df(&self) -> E {
        unimplemented!()
    }
}

pub trait BinaryDerivative<E>: std::fmt::Debug {
    /// Whether the derivative of this op can be computed without
    /// any data.
    const HAS_CONST_DF: bool;
    fn f(&self, x: &E, y: &E) -> E;
    fn dfdx(&self, x: &E, y: &E) -> E;
    fn dfdy(&self, x: &E, y: &E) -> E;
    fn const_dfdx(&self) -> E {
        unimplemented!()
    }
    fn const_dfdy(&self) -> E {
        unimplemented!()
    }
}


// Patch 6 (PATCHES.md): element-wise kernels over contiguous data run in
// parallel chunks. dfdx ran every element-wise op on one thread through a
// strided index iterator; a (64, 128, 400) tensor is 3.3M elements, and a
// training step makes dozens of such passes.

/// Tensors at least this long are split across threads (below it the
/// split costs more than it saves).
const PAR_MIN_LEN: usize = 1 << 15;
/// Elements per parallel task.
const PAR_CHUNK: usize = 1 << 13;

/// `f(offset, chunk)` over `data` in chunks, in parallel when it is long
/// enough and the `cpu` feature (rayon) is on.
fn chunked<E: Send>(data: &mut [E], f: impl Fn(usize, &mut [E]) + Sync) {
    #[cfg(feature = "cpu")]
    if data.len() >= PAR_MIN_LEN {
        use rayon::prelude::*;
        data.par_chunks_mut(PAR_CHUNK)
            .enumerate()
            .for_each(|(i, c)| f(i * PAR_CHUNK, c));
        return;
    }
    f(0, data);
}

fn is_contiguous<S: Shape>(shape: &S, strides: &S::Concrete) -> bool {
    *strides == shape.strides()
}

impl<E: Dtype, Op: UnaryDerivative<E> + Sync> UnaryKernel<Op, E> for Cpu {
    const BACKWARD_WITHOUT_INP: bool = Op::DF_USES_FX;
    const BACKWARD_WITHOUT_DATA: bool = Op::HAS_CONST_DF;

    fn forward<S: Shape>(
        &self,
        op: Op,
        inp: Cow<Tensor<S, E, Self>>,
    ) -> Result<Tensor<S, E, Self>, Self::Err> {
        let mut out = match inp {
            Cow::Borrowed(inp) => {
                // allocate a new data buffer
                Tensor {
                    id: unique_id(),
                    data: inp.data.clone(),
                    shape: inp.shape,
                    strides: inp.strides,
                    device: self.clone(),
                    tape: Default::default(),
                }
            }
            Cow::Owned(mut inp) => {
                // re-use the data buffer
                inp.id = unique_id();
                inp
            }
        };
        // NOTE: we can iterate over buf here because we know inp & out
        // have exact same strides due to clone.
        chunked(&mut std::sync::Arc::make_mut(&mut out.data)[..], |_, c| {
            for x in c.iter_mut() {
                *x = op.f(x);
            }
        });
        Ok(out)
    }
    fn backward<S: Shape>(
        &self,
        op: Op,
        inp: &impl Tensorlike<S, E, Self>,
        grad_inp: &mut Self::Vec,
        out: &impl Tensorlike<S, E, Self>,
        grad_out: &Self::Vec,
    ) -> Result<(), Self::Err> {
        let grad_out: &[E] = grad_out;
        match (inp.data(), out.data()) {
            (None, None) => {
                let df = op.const_df();
                chunked(grad_inp, |at, c| {
                    for (x, &g) in c.iter_mut().zip(&grad_out[at..]) {
                        *x += df * g;
                    }
                });
            }
            (None, Some(data)) | (Some(data), None) => {
                // `out` when DF_USES_FX, else `inp`: laid out like grad_inp.
                let data: &[E] = data;
                chunked(grad_inp, |at, c| {
                    for ((x, &g), v) in c.iter_mut().zip(&grad_out[at..]).zip(&data[at..]) {
                        *x += op.df(v) * g;
                    }
                });
            }
            _ => unreachable!(),
        }
        Ok(())
    }
}

impl<E: Dtype, Op: BinaryDerivative<E> + Sync> BinaryKernel<Op, E> for Cpu {
    const BACKWARD_WITHOUT_DATA: bool = Op::HAS_CONST_DF;
    fn forward<S: Shape>(
        &self,
        op: Op,
        lhs: Cow<Tensor<S, E, Self>>,
        rhs: Cow<Tensor<S, E, Self>>,
    ) -> Result<Tensor<S, E, Self>, Self::Err> {
        match (lhs, rhs) {
            (Cow::Borrowed(lhs), Cow::Borrowed(rhs))
                if is_contiguous(&lhs.shape, &lhs.strides)
                    && is_contiguous(&rhs.shape, &rhs.strides) =>
            {
                let mut out = self.try_zeros_like(&lhs.shape)?;
                let (l, r): (&[E], &[E]) = (&lhs.data, &rhs.data);
                chunked(&mut std::sync::Arc::make_mut(&mut out.data)[..], |at, c| {
                    for ((o, x), y) in c.iter_mut().zip(&l[at..]).zip(&r[at..]) {
                        *o = op.f(x, y);
                    }
                });
                Ok(out)
            }
            (Cow::Borrowed(lhs), Cow::Borrowed(rhs)) => {
                let mut out = self.try_zeros_like(&lhs.shape)?;
                let mut lhs_iter = lhs.iter();
                let mut rhs_iter = rhs.iter();
                for o in out.buf_iter_mut() {
                    let l = lhs_iter.next().unwrap();
                    let r = rhs_iter.next().unwrap();
                    *o = op.f(l, r);
                }
                Ok(out)
            }
            (Cow::Owned(mut lhs), Cow::Owned(mut rhs)) => {
                let lhs_valid = lhs.strides == lhs.shape.strides();
                let rhs_valid = rhs.strides == rhs.shape.strides();
                if lhs_valid && rhs_valid {
                    // Both contiguous: reuse a buffer nobody else holds.
                    let lhs_count = std::sync::Arc::strong_count(&lhs.data);
                    let (mut out, other, out_is_lhs) = if lhs_count == 1 {
                        (lhs, rhs, true)
                    } else {
                        (rhs, lhs, false)
                    };
                    out.id = unique_id();
                    let other: &[E] = &other.data;
                    chunked(&mut std::sync::Arc::make_mut(&mut out.data)[..], |at, c| {
                        for (o, y) in c.iter_mut().zip(&other[at..]) {
                            *o = if out_is_lhs { op.f(o, y) } else { op.f(y, o) };
                        }
                    });
                    Ok(out)
                } else if lhs_valid || rhs_valid {
                    let lhs_count = std::sync::Arc::strong_count(&lhs.data);
                    let rhs_count = std::sync::Arc::strong_count(&rhs.data);
                    if rhs_valid && (rhs_count == 1 || !lhs_valid || lhs_count != 1) {
                        rhs.id = unique_id();
                        let mut lhs_idx = NdIndex::new(lhs.shape, lhs.strides);
                        for r in rhs.buf_iter_mut() {
                            *r = op.f(&lhs.data[lhs_idx.next().unwrap()], r);
                        }
                        Ok(rhs)
                    } else {
                        lhs.id = unique_id();
                        let mut rhs_idx = NdIndex::new(rhs.shape, rhs.strides);
                        for l in lhs.buf_iter_mut() {
                            *l = op.f(l, &rhs.data[rhs_idx.next().unwrap()]);
                        }
                        Ok(lhs)
                    }
                } else {
                    <Self as BinaryKernel<Op, E>>::forward(
                        self,
                        op,
                        Cow::Borrowed(&lhs),
                        Cow::Borrowed(&rhs),
                    )
                }
            }
            _ => unreachable!(),
        }
    }
    fn backward<S: Shape>(
        &self,
        op: Op,
        lhs: &impl Tensorlike<S, E, Self>,
        grad_lhs: &mut Self::Vec,
        rhs: &impl Tensorlike<S, E, Self>,
        grad_rhs: &mut Self::Vec,
        grad_out: &Self::Vec,
    ) -> Result<(), Self::Err> {
        let same_layout = is_contiguous(lhs.shape(), &lhs.strides())
            && is_contiguous(rhs.shape(), &rhs.strides());
        match (lhs.data(), rhs.data()) {
            (Some(lhs_buf), Some(rhs_buf)) if same_layout => {
                let (l, r, g): (&[E], &[E], &[E]) = (lhs_buf, rhs_buf, grad_out);
                let gr = SharedMut(grad_rhs.as_mut_ptr());
                chunked(grad_lhs, |at, c| {
                    // SAFETY: the chunks of grad_lhs and these ranges of
                    // grad_rhs (another buffer, same length) are disjoint.
                    let gr = unsafe { std::slice::from_raw_parts_mut(gr.at(at), c.len()) };
                    for (i, (gl, gr)) in c.iter_mut().zip(gr).enumerate() {
                        let (x, y, go) = (&l[at + i], &r[at + i], g[at + i]);
                        *gl += op.dfdx(x, y) * go;
                        *gr += op.dfdy(x, y) * go;
                    }
                });
            }
            (None, None) if same_layout => {
                let (dx, dy) = (op.const_dfdx(), op.const_dfdy());
                let g: &[E] = grad_out;
                let gr = SharedMut(grad_rhs.as_mut_ptr());
                chunked(grad_lhs, |at, c| {
                    // SAFETY: as above.
                    let gr = unsafe { std::slice::from_raw_parts_mut(gr.at(at), c.len()) };
                    for ((gl, gr), &go) in c.iter_mut().zip(gr).zip(&g[at..]) {
                        *gl += dx * go;
                        *gr += dy * go;
                    }
                });
            }
            (Some(lhs_buf), Some(rhs_buf)) => {
                let mut lhs_idx = NdIndex::new(*lhs.shape(), lhs.strides());
                let mut rhs_idx = NdIndex::new(*rhs.shape(), rhs.strides());
                // NOTE: we can use .buf_iter() here because we know the outcome of this op is
                // contiguous from forward
                for &go in grad_out.iter() {
                    let lhs_i = lhs_idx.next().unwrap();
                    let rhs_i = rhs_idx.next().unwrap();
                    let l = &lhs_buf[lhs_i];
                    let r = &rhs_buf[rhs_i];
                    grad_lhs[lhs_i] += op.dfdx(l, r) * go;
                    grad_rhs[rhs_i] += op.dfdy(l, r) * go;
                }
            }
            (None, None) => {
                assert!(Op::HAS_CONST_DF);
                let mut lhs_idx = NdIndex::new(*lhs.shape(), lhs.strides());
                let mut rhs_idx = NdIndex::new(*rhs.shape(), rhs.strides());
                let dx = op.const_dfdx();
                let dy = op.const_dfdy();
                for &go in grad_out.iter() {
                    let lhs_i = lhs_idx.next().unwrap();
                    let rhs_i = rhs_idx.next().unwrap();
                    grad_lhs[lhs_i] += dx * go;
                    grad_rhs[rhs_i] += dy * go;
                }
            }
            _ => unreachable!(),
        }
        Ok(())
    }
}

/// A raw pointer that may cross threads; its users (these kernels and the
/// batched products of `matmul/cpu_kernel.rs`) write disjoint ranges
/// through it.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<E>(pub(crate) *mut E);
unsafe impl<E> Send for SharedMut<E> {}
unsafe impl<E> Sync for SharedMut<E> {}
impl<E> SharedMut<E> {
    pub(crate) fn at(self, offset: usize) -> *mut E {
        unsafe { self.0.add(offset) }
    }
}

#[cfg(test)]
mod tests {
    use crate::{prelude::*, tests::*};
    use num_traits::Float;

    /// Patch 6: element-wise kernels on tensors long enough to run in
    /// parallel chunks give, element by element, what the formula gives.
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
}
