use super::FusedKernel;
use crate::tensor_ops::utilities::cpu_kernels::SharedMut;
use crate::{shapes::Dtype, tensor::Cpu};
use num_traits::Float;

/// Rows handed to one thread task at a time: enough work per task (for
/// rows of 128–400 elements) that scheduling costs nothing measurable.
const ROWS_PER_TASK: usize = 64;

/// Runs `f(first_row, rows)` over `data` split into groups of whole rows,
/// in parallel when the `cpu` feature (rayon) is on.
fn for_rows<E: Send>(data: &mut [E], n: usize, f: impl Fn(usize, &mut [E]) + Sync) {
    let chunk = n * ROWS_PER_TASK;
    #[cfg(feature = "cpu")]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, rows)| f(i * ROWS_PER_TASK, rows));
    }
    #[cfg(not(feature = "cpu"))]
    data.chunks_mut(chunk)
        .enumerate()
        .for_each(|(i, rows)| f(i * ROWS_PER_TASK, rows));
}

/// `f(c)` for every channel `c < channels`, in parallel when the `cpu`
/// feature (rayon) is on; the results in channel order.
fn for_channels<R: Send>(channels: usize, f: impl Fn(usize) -> R + Sync + Send) -> std::vec::Vec<R> {
    #[cfg(feature = "cpu")]
    {
        use rayon::prelude::*;
        (0..channels).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "cpu"))]
    (0..channels).map(f).collect()
}

/// The `outer` runs of `inner` values of channel `c` in a contiguous
/// `(outer, channels, inner)` buffer, as ranges.
fn channel_runs(len: usize, channels: usize, inner: usize, c: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let outer = len / (channels * inner);
    (0..outer).map(move |o| {
        let start = (o * channels + c) * inner;
        start..start + inner
    })
}

/// Mean and biased variance of the values `values()` yields, in two passes
/// (mean, then the squared deviations) as dfdx's composition computes them,
/// accumulated in f64: the reductions of these kernels are where float32
/// loses digits (a LayerNorm's gradient sums cancel), and rows of 128–400
/// elements make the wider sums cheap. Shared by the row kernels and
/// BatchNorm's channels.
fn mean_var<I: Iterator<Item = f64>>(values: impl Fn() -> I) -> (f64, f64) {
    let (sum, count) = values().fold((0f64, 0usize), |(s, n), v| (s + v, n + 1));
    let mean = sum / count as f64;
    let var = values().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count as f64;
    (mean, var)
}

/// Mean and 1 / sqrt(var + eps) of one row, as `E` and as f64.
fn row_stats<E: Dtype + Float>(x: &[E], epsilon: f64) -> (E, E, f64, f64) {
    let (mean, var) = mean_var(|| x.iter().map(|&v| f64_of(v)));
    let rstd = 1.0 / (var + epsilon).sqrt();
    (E::from_f64(mean).unwrap(), E::from_f64(rstd).unwrap(), mean, rstd)
}

fn f64_of<E: Dtype>(v: E) -> f64 {
    v.to_f64().unwrap()
}

impl<E: Dtype + Float> FusedKernel<E> for Cpu {
    fn has_fused_rows(&self) -> bool {
        true
    }

    fn softmax_rows_forward(&self, inp: &Self::Vec, out: &mut Self::Vec, n: usize) -> Result<(), Self::Err> {
        let inp: &[E] = inp;
        for_rows(out, n, |first, rows| {
            let src = &inp[first * n..first * n + rows.len()];
            for (x, y) in src.chunks_exact(n).zip(rows.chunks_exact_mut(n)) {
                let max = x.iter().fold(E::neg_infinity(), |m, &v| m.max(v));
                let mut sum = 0f64;
                for (yi, &xi) in y.iter_mut().zip(x) {
                    *yi = (xi - max).exp();
                    sum += f64_of(*yi);
                }
                let inv = E::from_f64(1.0 / sum).unwrap();
                for yi in y.iter_mut() {
                    *yi *= inv;
                }
            }
        });
        Ok(())
    }

    fn softmax_rows_backward(
        &self,
        out: &Self::Vec,
        grad_out: &Self::Vec,
        grad_inp: &mut Self::Vec,
        n: usize,
    ) -> Result<(), Self::Err> {
        let (out, grad_out): (&[E], &[E]) = (out, grad_out);
        for_rows(grad_inp, n, |first, rows| {
            let range = first * n..first * n + rows.len();
            let (y, gy) = (&out[range.clone()], &grad_out[range]);
            for ((gx, y), gy) in rows.chunks_exact_mut(n).zip(y.chunks_exact(n)).zip(gy.chunks_exact(n)) {
                let dot = E::from_f64(y.iter().zip(gy).map(|(&yi, &gi)| f64_of(yi) * f64_of(gi)).sum::<f64>()).unwrap();
                for ((gxi, &yi), &gi) in gx.iter_mut().zip(y).zip(gy) {
                    *gxi += yi * (gi - dot);
                }
            }
        });
        Ok(())
    }

    fn layer_norm_rows_forward(
        &self,
        x: &Self::Vec,
        gamma: &Self::Vec,
        beta: &Self::Vec,
        epsilon: f64,
        out: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        let (x, gamma, beta): (&[E], &[E], &[E]) = (x, gamma, beta);
        let n = gamma.len();
        for_rows(out, n, |first, rows| {
            let src = &x[first * n..first * n + rows.len()];
            for (x, y) in src.chunks_exact(n).zip(rows.chunks_exact_mut(n)) {
                let (mean, rstd, _, _) = row_stats(x, epsilon);
                for (((yi, &xi), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
                    *yi = (xi - mean) * rstd * g + b;
                }
            }
        });
        Ok(())
    }

    fn layer_norm_rows_backward(
        &self,
        x: &Self::Vec,
        gamma: &Self::Vec,
        epsilon: f64,
        grad_out: &Self::Vec,
        grad_x: &mut Self::Vec,
        grad_gamma: &mut Self::Vec,
        grad_beta: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        let (x, gamma, grad_out): (&[E], &[E], &[E]) = (x, gamma, grad_out);
        let n = gamma.len();
        // dx = rstd * (g*dy - mean(g*dy) - xhat * mean(g*dy*xhat)), per row;
        // dgamma = sum over rows of dy*xhat, dbeta = sum of dy: per-task
        // partial sums (f64), added in task order (tasks are ROWS_PER_TASK
        // rows whatever the thread count, so the same result run to run).
        let tasks = grad_x.len().div_ceil(n * ROWS_PER_TASK).max(1);
        let mut partial = std::vec![0f64; 2 * n * tasks];
        let partial_at = SharedMut(partial.as_mut_ptr());
        for_rows(grad_x, n, |first, rows| {
            let task = first / ROWS_PER_TASK;
            // SAFETY: each task writes only its own 2n slots.
            let acc = unsafe { std::slice::from_raw_parts_mut(partial_at.at(2 * n * task), 2 * n) };
            let (dgamma, dbeta) = acc.split_at_mut(n);
            let range = first * n..first * n + rows.len();
            let (x, dy) = (&x[range.clone()], &grad_out[range]);
            for ((dx, x), dy) in rows.chunks_exact_mut(n).zip(x.chunks_exact(n)).zip(dy.chunks_exact(n)) {
                let (_, _, mean, rstd) = row_stats(x, epsilon);
                let (mut sum_gdy, mut sum_gdy_xhat) = (0f64, 0f64);
                for i in 0..n {
                    let xhat = (f64_of(x[i]) - mean) * rstd;
                    let dyi = f64_of(dy[i]);
                    let gdy = f64_of(gamma[i]) * dyi;
                    sum_gdy += gdy;
                    sum_gdy_xhat += gdy * xhat;
                    dgamma[i] += dyi * xhat;
                    dbeta[i] += dyi;
                }
                let (m1, m2) = (sum_gdy / n as f64, sum_gdy_xhat / n as f64);
                for i in 0..n {
                    let xhat = (f64_of(x[i]) - mean) * rstd;
                    let d = rstd * (f64_of(gamma[i]) * f64_of(dy[i]) - m1 - xhat * m2);
                    dx[i] += E::from_f64(d).unwrap();
                }
            }
        });
        let mut total = std::vec![0f64; 2 * n];
        for acc in partial.chunks_exact(2 * n) {
            for (t, a) in total.iter_mut().zip(acc) {
                *t += a;
            }
        }
        for i in 0..n {
            grad_gamma[i] += E::from_f64(total[i]).unwrap();
            grad_beta[i] += E::from_f64(total[n + i]).unwrap();
        }
        Ok(())
    }

    fn batch_norm_train_forward(
        &self,
        x: &Self::Vec,
        scale: &Self::Vec,
        bias: &Self::Vec,
        epsilon: f64,
        inner: usize,
        out: &mut Self::Vec,
        stats: &mut [f64],
    ) -> Result<(), Self::Err> {
        let (x, scale, bias): (&[E], &[E], &[E]) = (x, scale, bias);
        let (channels, len) = (scale.len(), x.len());
        let out_at = SharedMut(out.as_mut_ptr());
        let per_channel = for_channels(channels, |c| {
            let runs = || channel_runs(len, channels, inner, c);
            let (mean, var) = mean_var(|| runs().flat_map(|r| &x[r]).map(|&v| f64_of(v)));
            let rstd = 1.0 / (var + epsilon).sqrt();
            let (m, a, b) = (E::from_f64(mean).unwrap(), E::from_f64(rstd).unwrap() * scale[c], bias[c]);
            for r in runs() {
                // SAFETY: the channels' runs are disjoint ranges of `out`.
                let y = unsafe { std::slice::from_raw_parts_mut(out_at.at(r.start), r.len()) };
                for (yi, &xi) in y.iter_mut().zip(&x[r]) {
                    *yi = (xi - m) * a + b;
                }
            }
            (mean, var)
        });
        for (c, (mean, var)) in per_channel.into_iter().enumerate() {
            stats[2 * c] = mean;
            stats[2 * c + 1] = var;
        }
        Ok(())
    }

    fn batch_norm_backward(
        &self,
        x: &Self::Vec,
        scale: &Self::Vec,
        stats: &[f64],
        epsilon: f64,
        inner: usize,
        grad_out: &Self::Vec,
        grad_x: &mut Self::Vec,
        grad_scale: &mut Self::Vec,
        grad_bias: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        let (x, scale, dy): (&[E], &[E], &[E]) = (x, scale, grad_out);
        let (channels, len) = (scale.len(), x.len());
        let count = (len / channels) as f64;
        let dx_at = SharedMut(grad_x.as_mut_ptr());
        // dx = scale * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)) per
        // channel; dscale = sum(dy * xhat), dbias = sum(dy).
        let sums = for_channels(channels, |c| {
            let (mean, rstd) = (stats[2 * c], 1.0 / (stats[2 * c + 1] + epsilon).sqrt());
            let runs = || channel_runs(len, channels, inner, c);
            let (mut sum_dy, mut sum_dy_xhat) = (0f64, 0f64);
            for r in runs() {
                for (&xi, &gi) in x[r.clone()].iter().zip(&dy[r]) {
                    let g = f64_of(gi);
                    sum_dy += g;
                    sum_dy_xhat += g * (f64_of(xi) - mean) * rstd;
                }
            }
            let (m1, m2, k) = (sum_dy / count, sum_dy_xhat / count, f64_of(scale[c]) * rstd);
            for r in runs() {
                // SAFETY: the channels' runs are disjoint ranges of `grad_x`.
                let dx = unsafe { std::slice::from_raw_parts_mut(dx_at.at(r.start), r.len()) };
                for ((d, &xi), &gi) in dx.iter_mut().zip(&x[r.clone()]).zip(&dy[r]) {
                    let xhat = (f64_of(xi) - mean) * rstd;
                    *d += E::from_f64(k * (f64_of(gi) - m1 - xhat * m2)).unwrap();
                }
            }
            (sum_dy_xhat, sum_dy)
        });
        for (c, (ds, db)) in sums.into_iter().enumerate() {
            grad_scale[c] += E::from_f64(ds).unwrap();
            grad_bias[c] += E::from_f64(db).unwrap();
        }
        Ok(())
    }

    fn batch_norm_infer(
        &self,
        x: &Self::Vec,
        mean: &Self::Vec,
        var: &Self::Vec,
        scale: &Self::Vec,
        bias: &Self::Vec,
        epsilon: f64,
        inner: usize,
        out: &mut Self::Vec,
    ) -> Result<(), Self::Err> {
        let (x, mean, var, scale, bias): (&[E], &[E], &[E], &[E], &[E]) = (x, mean, var, scale, bias);
        let (channels, len) = (scale.len(), x.len());
        let eps = E::from_f64(epsilon).unwrap();
        let out_at = SharedMut(out.as_mut_ptr());
        for_channels(channels, |c| {
            // The composition's operations: std = sqrt(var + eps),
            // a = scale / std, then (x - mean) * a + bias.
            let a = scale[c] / (var[c] + eps).sqrt();
            for r in channel_runs(len, channels, inner, c) {
                // SAFETY: the channels' runs are disjoint ranges of `out`.
                let y = unsafe { std::slice::from_raw_parts_mut(out_at.at(r.start), r.len()) };
                for (yi, &xi) in y.iter_mut().zip(&x[r]) {
                    *yi = (xi - mean[c]) * a + bias[c];
                }
            }
        });
        Ok(())
    }
}
