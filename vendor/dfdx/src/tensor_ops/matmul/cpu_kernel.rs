#![allow(clippy::needless_return)]

use crate::shapes::*;
use crate::tensor::{Cpu, Tensor, ZerosTensor};

use crate::tensor_ops::utilities::cpu_kernels::SharedMut;
use std::sync::Arc;

#[allow(unused)]
#[allow(clippy::too_many_arguments)]
fn naive_gemm<F: num_traits::Float + std::ops::AddAssign, M: Dim, K: Dim, N: Dim>(
    (m, k, n): (M, K, N),
    accum: bool,
    ap: *const F,
    a_strides: [usize; 2],
    bp: *const F,
    b_strides: [usize; 2],
    cp: *mut F,
    c_strides: [usize; 2],
) {
    for i_m in 0..m.size() {
        for i_k in 0..k.size() {
            for i_n in 0..n.size() {
                unsafe {
                    let a = *ap.add(a_strides[0] * i_m + a_strides[1] * i_k);
                    let b = *bp.add(b_strides[0] * i_k + b_strides[1] * i_n);
                    let c = cp.add(c_strides[0] * i_m + c_strides[1] * i_n);
                    if accum {
                        *c += a * b;
                    } else {
                        *c = a * b;
                    }
                }
            }
        }
    }
}

// Patch 3 (PATCHES.md): a batched product of many small matrices (attention's
// B x H = 512 products of 128 x 50 x 128 per step) ran as 512 GEMMs, each
// split over all threads and each waiting for the slowest; measured on 2
// threads at that shape, single-threaded GEMMs run in parallel over the batch
// are about twice as fast. `SERIAL_GEMM` marks a thread that is already one of
// those parallel workers.
#[cfg(feature = "cpu")]
thread_local! {
    static SERIAL_GEMM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(feature = "cpu")]
fn gemm_parallelism() -> gemm::Parallelism {
    if SERIAL_GEMM.with(|s| s.get()) {
        gemm::Parallelism::None
    } else {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    }
}

/// Runs `f(i)` for each of the `count` matrices of a batched product: in
/// parallel over the batch (with single-threaded GEMMs) when there are at
/// least two matrices per thread, each at most `1 << 22` multiply-adds, and
/// the writes of different `i` cannot overlap (`disjoint`: no batch stride
/// is 0, i.e. nothing was broadcast); otherwise in order.
fn for_each_matrix(count: usize, macs_each: usize, disjoint: bool, f: impl Fn(usize) + Sync) {
    #[cfg(feature = "cpu")]
    {
        let threads = rayon::current_num_threads();
        if disjoint && threads > 1 && count >= 2 * threads && macs_each <= 1 << 22 {
            use rayon::prelude::*;
            (0..count).into_par_iter().for_each(|i| {
                let was = SERIAL_GEMM.with(|s| s.replace(true));
                f(i);
                SERIAL_GEMM.with(|s| s.set(was));
            });
            return;
        }
    }
    let _ = disjoint;
    (0..count).for_each(f);
}

pub(crate) trait MatMulImpl<E> {
    #[allow(clippy::too_many_arguments)]
    fn matmul<M: Dim, K: Dim, N: Dim>(
        dims: (M, K, N),
        accum: bool,
        ap: *const E,
        a_strides: [usize; 2],
        bp: *const E,
        b_strides: [usize; 2],
        cp: *mut E,
        c_strides: [usize; 2],
    );
}

#[cfg(feature = "f16")]
impl MatMulImpl<crate::dtypes::AMP<half::f16>> for Cpu {
    #[inline]
    fn matmul<M: Dim, K: Dim, N: Dim>(
        (m, k, n): (M, K, N),
        accum: bool,
        ap: *const crate::dtypes::AMP<half::f16>,
        astr: [usize; 2],
        bp: *const crate::dtypes::AMP<half::f16>,
        bstr: [usize; 2],
        cp: *mut crate::dtypes::AMP<half::f16>,
        cstr: [usize; 2],
    ) {
        #[cfg(not(feature = "cpu"))]
        naive_gemm((m, k, n), accum, ap, astr, bp, bstr, cp, cstr);

        #[cfg(feature = "cpu")]
        unsafe {
            gemm::gemm(
                m.size(),
                n.size(),
                k.size(),
                cp as *mut gemm::f16,
                cstr[1] as isize,
                cstr[0] as isize,
                accum,
                ap as *const gemm::f16,
                astr[1] as isize,
                astr[0] as isize,
                bp as *const gemm::f16,
                bstr[1] as isize,
                bstr[0] as isize,
                if accum {
                    gemm::f16::ONE
                } else {
                    gemm::f16::ZERO
                },
                gemm::f16::ONE,
                false,
                false,
                false,
                gemm_parallelism(),
            )
        }
    }
}

#[cfg(feature = "f16")]
impl MatMulImpl<half::f16> for Cpu {
    #[inline]
    fn matmul<M: Dim, K: Dim, N: Dim>(
        (m, k, n): (M, K, N),
        accum: bool,
        ap: *const half::f16,
        astr: [usize; 2],
        bp: *const half::f16,
        bstr: [usize; 2],
        cp: *mut half::f16,
        cstr: [usize; 2],
    ) {
        #[cfg(not(feature = "cpu"))]
        naive_gemm((m, k, n), accum, ap, astr, bp, bstr, cp, cstr);

        #[cfg(feature = "cpu")]
        #[allow(clippy::unnecessary_cast)]
        unsafe {
            gemm::gemm(
                m.size(),
                n.size(),
                k.size(),
                cp as *mut gemm::f16,
                cstr[1] as isize,
                cstr[0] as isize,
                accum,
                ap as *const gemm::f16,
                astr[1] as isize,
                astr[0] as isize,
                bp as *const gemm::f16,
                bstr[1] as isize,
                bstr[0] as isize,
                if accum {
                    gemm::f16::ONE
                } else {
                    gemm::f16::ZERO
                },
                gemm::f16::ONE,
                false,
                false,
                false,
                gemm_parallelism(),
            )
        }
    }
}

impl MatMulImpl<f32> for Cpu {
    #[inline]
    fn matmul<M: Dim, K: Dim, N: Dim>(
        (m, k, n): (M, K, N),
        accum: bool,
        ap: *const f32,
        astr: [usize; 2],
        bp: *const f32,
        bstr: [usize; 2],
        cp: *mut f32,
        cstr: [usize; 2],
    ) {
        #[cfg(not(feature = "cpu"))]
        naive_gemm((m, k, n), accum, ap, astr, bp, bstr, cp, cstr);

        #[cfg(feature = "cpu")]
        unsafe {
            gemm::gemm(
                m.size(),
                n.size(),
                k.size(),
                cp,
                cstr[1] as isize,
                cstr[0] as isize,
                accum,
                ap,
                astr[1] as isize,
                astr[0] as isize,
                bp,
                bstr[1] as isize,
                bstr[0] as isize,
                if accum { 1.0 } else { 0.0 },
                1.0,
                false,
                false,
                false,
                gemm_parallelism(),
            )
        }
    }
}

impl MatMulImpl<f64> for Cpu {
    #[inline]
    fn matmul<M: Dim, K: Dim, N: Dim>(
        (m, k, n): (M, K, N),
        accum: bool,
        ap: *const f64,
        astr: [usize; 2],
        bp: *const f64,
        bstr: [usize; 2],
        cp: *mut f64,
        cstr: [usize; 2],
    ) {
        #[cfg(not(feature = "cpu"))]
        naive_gemm((m, k, n), accum, ap, astr, bp, bstr, cp, cstr);

        #[cfg(feature = "cpu")]
        unsafe {
            gemm::gemm(
                m.size(),
                n.size(),
                k.size(),
                cp,
                cstr[1] as isize,
                cstr[0] as isize,
                accum,
                ap,
                astr[1] as isize,
                astr[0] as isize,
                bp,
                bstr[1] as isize,
                bstr[0] as isize,
                if accum { 1.0 } else { 0.0 },
                1.0,
                false,
                false,
                false,
                gemm_parallelism(),
            )
        }
    }
}

impl<E: Dtype> super::MatMatKernel<E> for Cpu
where
    Self: MatMulImpl<E>,
{
    fn forward<M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(M, K), E, Self>,
        rhs: &Tensor<(K, N), E, Self>,
    ) -> Result<Tensor<(M, N), E, Self>, Self::Err> {
        let (m, k) = lhs.shape;
        let n = rhs.shape.1;
        let mut out = self.try_zeros_like(&(m, n))?;
        Self::matmul(
            (m, k, n),
            false,
            lhs.data.as_ptr(),
            lhs.strides,
            rhs.data.as_ptr(),
            rhs.strides,
            Arc::get_mut(&mut out.data).unwrap().as_mut_ptr(),
            out.strides,
        );
        Ok(out)
    }
    fn backward<M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(M, K), E, Self>,
        grad_lhs: &mut Self::Vec,
        rhs: &Tensor<(K, N), E, Self>,
        grad_rhs: &mut Self::Vec,
        grad_out: &Self::Vec,
    ) -> Result<(), Self::Err> {
        let (m, k) = lhs.shape;
        let n = rhs.shape.1;
        let strides = (m, n).strides();
        Self::matmul(
            (m, n, k),
            true,
            grad_out.as_ptr(),
            strides,
            rhs.data.as_ptr(),
            [rhs.strides[1], rhs.strides[0]],
            grad_lhs.as_mut_ptr(),
            lhs.strides,
        );
        Self::matmul(
            (k, m, n),
            true,
            lhs.data.as_ptr(),
            [lhs.strides[1], lhs.strides[0]],
            grad_out.as_ptr(),
            strides,
            grad_rhs.as_mut_ptr(),
            rhs.strides,
        );
        Ok(())
    }
}

impl<E: Dtype> super::MatMatBrKernel<E> for Cpu
where
    Self: MatMulImpl<E>,
{
    fn forward<B: Dim, M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(B, M, K), E, Self>,
        rhs: &Tensor<(K, N), E, Self>,
    ) -> Result<Tensor<(B, M, N), E, Self>, Self::Err> {
        let (batch, m, k) = lhs.shape;
        let n = rhs.shape.1;
        let mut out = self.try_zeros_like(&(batch, m, n))?;
        let cp = Arc::get_mut(&mut out.data).unwrap();
        for i in 0..batch.size() {
            Self::matmul(
                (m, k, n),
                false,
                lhs.data[i * lhs.strides[0]..].as_ptr(),
                [lhs.strides[1], lhs.strides[2]],
                rhs.data.as_ptr(),
                rhs.strides,
                cp[i * out.strides[0]..].as_mut_ptr(),
                [out.strides[1], out.strides[2]],
            );
        }
        Ok(out)
    }
    fn backward<B: Dim, M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(B, M, K), E, Self>,
        grad_lhs: &mut Self::Vec,
        rhs: &Tensor<(K, N), E, Self>,
        grad_rhs: &mut Self::Vec,
        grad_out: &Self::Vec,
    ) -> Result<(), Self::Err> {
        let (batch, m, k) = lhs.shape;
        let n = rhs.shape.1;
        let strides = (batch, m, n).strides();
        for i in 0..batch.size() {
            Self::matmul(
                (m, n, k),
                true,
                grad_out[i * strides[0]..].as_ptr(),
                [strides[1], strides[2]],
                rhs.data.as_ptr(),
                [rhs.strides[1], rhs.strides[0]],
                grad_lhs[i * lhs.strides[0]..].as_mut_ptr(),
                [lhs.strides[1], lhs.strides[2]],
            );
            Self::matmul(
                (k, m, n),
                true,
                lhs.data[i * lhs.strides[0]..].as_ptr(),
                [lhs.strides[2], lhs.strides[1]],
                grad_out[i * strides[0]..].as_ptr(),
                [strides[1], strides[2]],
                grad_rhs.as_mut_ptr(),
                rhs.strides,
            );
        }
        Ok(())
    }
}

impl<E: Dtype> super::MatMatBatch3Kernel<E> for Cpu
where
    Self: MatMulImpl<E>,
{
    fn forward<B: Dim, M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(B, M, K), E, Self>,
        rhs: &Tensor<(B, K, N), E, Self>,
    ) -> Result<Tensor<(B, M, N), E, Self>, Self::Err> {
        let (b, m, k) = lhs.shape;
        let n = rhs.shape.2;
        let mut out = self.try_zeros_like(&(b, m, n))?;
        let ap = lhs.data.as_ref();
        let bp = rhs.data.as_ref();
        let os = out.strides;
        let cp = SharedMut(Arc::get_mut(&mut out.data).unwrap().as_mut_ptr());
        let macs = m.size() * k.size() * n.size();
        for_each_matrix(b.size(), macs, true, |i| {
            Self::matmul(
                (m, k, n),
                false,
                ap[i * lhs.strides[0]..].as_ptr(),
                [lhs.strides[1], lhs.strides[2]],
                bp[i * rhs.strides[0]..].as_ptr(),
                [rhs.strides[1], rhs.strides[2]],
                cp.at(i * os[0]),
                [os[1], os[2]],
            )
        });
        Ok(out)
    }
    fn backward<B: Dim, M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(B, M, K), E, Self>,
        grad_lhs: &mut Self::Vec,
        rhs: &Tensor<(B, K, N), E, Self>,
        grad_rhs: &mut Self::Vec,
        grad_out: &Self::Vec,
    ) -> Result<(), Self::Err> {
        let (b, m, k) = lhs.shape;
        let n = rhs.shape.2;
        let strides = (b, m, n).strides();
        let gl = SharedMut(grad_lhs.as_mut_ptr());
        let gr = SharedMut(grad_rhs.as_mut_ptr());
        let grad_out: &[E] = grad_out;
        let macs = m.size() * k.size() * n.size();
        let disjoint = lhs.strides[0] != 0 && rhs.strides[0] != 0;
        for_each_matrix(b.size(), 2 * macs, disjoint, |i| {
            Self::matmul(
                (m, n, k),
                true,
                grad_out[i * strides[0]..].as_ptr(),
                [strides[1], strides[2]],
                rhs.data[i * rhs.strides[0]..].as_ptr(),
                [rhs.strides[2], rhs.strides[1]],
                gl.at(i * lhs.strides[0]),
                [lhs.strides[1], lhs.strides[2]],
            );
            Self::matmul(
                (k, m, n),
                true,
                lhs.data[i * lhs.strides[0]..].as_ptr(),
                [lhs.strides[2], lhs.strides[1]],
                grad_out[i * strides[0]..].as_ptr(),
                [strides[1], strides[2]],
                gr.at(i * rhs.strides[0]),
                [rhs.strides[1], rhs.strides[2]],
            );
        });
        Ok(())
    }
}

impl<E: Dtype> super::MatMatBatch4Kernel<E> for Cpu
where
    Self: MatMulImpl<E>,
{
    fn forward<B: Dim, S: Dim, M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(B, S, M, K), E, Self>,
        rhs: &Tensor<(B, S, K, N), E, Self>,
    ) -> Result<Tensor<(B, S, M, N), E, Self>, Self::Err> {
        let (b, s, m, k) = lhs.shape;
        let n = rhs.shape.3;
        let mut out = self.try_zeros_like(&(b, s, m, n))?;
        let os = out.strides;
        let cp = SharedMut(Arc::get_mut(&mut out.data).unwrap().as_mut_ptr());
        let macs = m.size() * k.size() * n.size();
        for_each_matrix(b.size() * s.size(), macs, true, |ij| {
            let (i, j) = (ij / s.size(), ij % s.size());
            Self::matmul(
                (m, k, n),
                false,
                lhs.data[i * lhs.strides[0] + j * lhs.strides[1]..].as_ptr(),
                [lhs.strides[2], lhs.strides[3]],
                rhs.data[i * rhs.strides[0] + j * rhs.strides[1]..].as_ptr(),
                [rhs.strides[2], rhs.strides[3]],
                cp.at(i * os[0] + j * os[1]),
                [os[2], os[3]],
            );
        });
        Ok(out)
    }
    fn backward<B: Dim, S: Dim, M: Dim, K: Dim, N: Dim>(
        &self,
        lhs: &Tensor<(B, S, M, K), E, Self>,
        grad_lhs: &mut Self::Vec,
        rhs: &Tensor<(B, S, K, N), E, Self>,
        grad_rhs: &mut Self::Vec,
        grad_out: &Self::Vec,
    ) -> Result<(), Self::Err> {
        let (b, s, m, k) = lhs.shape;
        let n = rhs.shape.3;
        let strides = (b, s, m, n).strides();
        let gl = SharedMut(grad_lhs.as_mut_ptr());
        let gr = SharedMut(grad_rhs.as_mut_ptr());
        let grad_out: &[E] = grad_out;
        let macs = m.size() * k.size() * n.size();
        let disjoint = lhs.strides[..2].iter().chain(&rhs.strides[..2]).all(|&x| x != 0);
        for_each_matrix(b.size() * s.size(), 2 * macs, disjoint, |ij| {
            let (i, j) = (ij / s.size(), ij % s.size());
            Self::matmul(
                (m, n, k),
                true,
                grad_out[i * strides[0] + j * strides[1]..].as_ptr(),
                [strides[2], strides[3]],
                rhs.data[i * rhs.strides[0] + j * rhs.strides[1]..].as_ptr(),
                [rhs.strides[3], rhs.strides[2]],
                gl.at(i * lhs.strides[0] + j * lhs.strides[1]),
                [lhs.strides[2], lhs.strides[3]],
            );
            Self::matmul(
                (k, m, n),
                true,
                lhs.data[i * lhs.strides[0] + j * lhs.strides[1]..].as_ptr(),
                [lhs.strides[3], lhs.strides[2]],
                grad_out[i * strides[0] + j * strides[1]..].as_ptr(),
                [strides[2], strides[3]],
                gr.at(i * rhs.strides[0] + j * rhs.strides[1]),
                [rhs.strides[2], rhs.strides[3]],
            );
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{prelude::*, tests::*};

    /// Patch 3: a batched product of many small matrices (run in parallel
    /// over the batch) equals the products of its matrices one by one,
    /// values and gradients, for contiguous and permuted operands.
    #[test]
    fn parallel_batched_matmul_matches_per_matrix() {
        let dev: TestDevice = TestDevice::seed_from_u64(12);
        let a: Tensor<Rank4<3, 8, 16, 5>, TestDtype, _> = dev.sample_normal();
        let b: Tensor<Rank4<3, 8, 16, 5>, TestDtype, _> = dev.sample_normal();
        let w: Tensor<Rank4<3, 8, 16, 16>, TestDtype, _> = dev.sample_normal();
        let c = a.leaky_trace().matmul(b.leaky_trace().permute::<_, Axes4<0, 1, 3, 2>>());
        let cv = c.array();
        let g = (c * w.clone()).sum().backward();
        let (ga, gb) = (g.get(&a).array(), g.get(&b).array());
        let (av, bv, wv) = (a.array(), b.array(), w.array());
        for i in 0..3 {
            for h in 0..8 {
                for r in 0..16 {
                    for s in 0..16 {
                        let want: TestDtype = (0..5).map(|k| av[i][h][r][k] * bv[i][h][s][k]).sum();
                        assert!((cv[i][h][r][s] - want).abs() < 1e-4, "c[{i},{h},{r},{s}]");
                    }
                    for k in 0..5 {
                        // dA[r, k] = sum_s W[r, s] B[s, k];  dB[r, k] = sum_s W[s, r] A[s, k]
                        let da: TestDtype = (0..16).map(|s| wv[i][h][r][s] * bv[i][h][s][k]).sum();
                        let db: TestDtype = (0..16).map(|s| wv[i][h][s][r] * av[i][h][s][k]).sum();
                        assert!((ga[i][h][r][k] - da).abs() < 1e-4, "dA[{i},{h},{r},{k}]");
                        assert!((gb[i][h][r][k] - db).abs() < 1e-4, "dB[{i},{h},{r},{k}]");
                    }
                }
            }
        }
    }
}
