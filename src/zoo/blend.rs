//! A zoo model blended with the 1–3-mer baseline, the blend's weight chosen
//! on the validation part.
//!
//! Why: on the small sets the network loses to the 1–3-mer logistic
//! regression (full-data KNFP zoo, 26 sets: below the baseline on 8, e.g.
//! WTAP 0.597 against 0.809 with 642 training windows), and neither a
//! schedule counted in steps nor early stopping fixed it (`recipe.rs`). A
//! user scanning their circRNA wants the better of the two on every RBP,
//! chosen without looking at the test part. The blend averages the two
//! models' log-odds,
//!
//! ```text
//! logit p = w * logit p_network + (1 - w) * logit p_baseline,
//! ```
//!
//! with `w` the weight of [`WEIGHTS`] with the best validation AUC (ties go
//! to the larger weight, the network's side). `w = 1` is the network alone,
//! `w = 0` the baseline alone. The network's own AUCs stay in the manifest
//! beside the blend's, so the table of CircSSNN itself is unchanged; only
//! `scan` (and `zoo list`'s last columns) use the blend.
//!
//! A weighted mean of log-odds rather than of probabilities: the network's
//! probabilities crowd at 0 and 1 on the sets it fits well, where a mean of
//! probabilities would let it outvote the baseline whatever `w` says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::manifest::{measure, Thresholds, Zoo};
use super::ZooError;
use crate::baseline::KmerLogistic;
use crate::data::Registry;
use crate::features::learned::DescriptorModels;
use crate::train::{DeviceKind, Predictor};

/// The weights of the network tried on the validation part: 0, 0.1, ..., 1.
pub const WEIGHTS: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// A network's probabilities are clipped to `[EPS, 1 - EPS]` before their
/// logit is taken (a saturated `f32` sigmoid reads exactly 0 or 1).
const EPS: f64 = 1e-7;

/// How a zoo model is blended with the baseline, and how well the blend did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// Weight of the network's log-odds (the baseline's is `1 - weight`).
    pub weight: f64,
    /// The baseline, fitted on the model's training part.
    pub baseline: KmerLogistic,
    /// Whole-validation-part AUC of the blend at `weight`.
    pub valid_auc: f64,
    /// Whole-test-part AUC of the blend (never used to choose anything).
    pub test_auc: f64,
    /// Thresholds of the blended probability on the validation part.
    pub thresholds: Thresholds,
}

impl Blend {
    /// The blended probability of each window from the network's
    /// probabilities of the same windows.
    pub fn apply<S: AsRef<[u8]> + Sync>(&self, seqs: &[S], network: &[f64]) -> Vec<f64> {
        let base = self.baseline.predict_logit(seqs);
        mix(network, &base, self.weight)
    }

    /// Check a blend read from a manifest.
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.weight) {
            return Err(format!("blend weight {} is not in [0, 1]", self.weight));
        }
        self.baseline.check()
    }
}

/// `w * logit(network) + (1 - w) * baseline_logit`, as a probability.
pub(super) fn mix(network: &[f64], baseline_logit: &[f64], w: f64) -> Vec<f64> {
    network
        .iter()
        .zip(baseline_logit)
        .map(|(&p, &b)| {
            let p = p.clamp(EPS, 1.0 - EPS);
            let z = w * (p / (1.0 - p)).ln() + (1.0 - w) * b;
            1.0 / (1.0 + (-z).exp())
        })
        .collect()
}

/// The weight of [`WEIGHTS`] whose blend has the best AUC on the validation
/// windows (`auc` scores a blend against their labels), ties to the larger
/// weight; with its AUC.
pub(super) fn choose_weight<E>(
    network: &[f64],
    baseline_logit: &[f64],
    mut auc: impl FnMut(&[f64]) -> Result<f64, E>,
) -> Result<(f64, f64), E> {
    let mut best = (1.0, f64::NEG_INFINITY);
    for &w in WEIGHTS.iter().rev() {
        let a = auc(&mix(network, baseline_logit, w))?;
        if a > best.1 {
            best = (w, a);
        }
    }
    Ok(best)
}

/// Blend every model of the zoo in `dir` with its baseline (again, if it
/// already has a blend) and rewrite `dir/zoo.json`: for zoos written before
/// blends existed, such as a copy of an older shipped one. Each model's own
/// AUCs are measured again on the way and must match the manifest's, so a
/// blend is never fitted to a model the manifest does not describe.
pub fn add_blends(reg: &Registry, dir: &Path, progress: bool) -> Result<Zoo, ZooError> {
    let mut zoo = Zoo::load(dir)?;
    let models = DescriptorModels {
        cache: dir.join("cache"),
        ..Default::default()
    };
    let mut loaded: BTreeMap<PathBuf, Vec<Predictor>> = BTreeMap::new();
    let path = dir.join(super::MANIFEST);
    for m in &mut zoo.models {
        let run = dir.join(&m.dir);
        if !loaded.contains_key(&run) {
            let heads = Predictor::load_heads(&run, &models, DeviceKind::Cpu)?;
            loaded.insert(run.clone(), heads);
        }
        let predictor = m
            .pick(&loaded[&run], &run)
            .map_err(|message| ZooError::Manifest {
                path: path.clone(),
                message,
            })?;
        let got = measure(reg, &predictor, false)?;
        // Not to the bit: a manifest of `zoo train` records the AUC of the
        // training run's own evaluation, whose batches differ from these.
        if (got.test_auc - m.test_auc).abs() > 1e-4 {
            return Err(ZooError::Manifest {
                path: path.clone(),
                message: format!(
                    "model {} scores a test AUC of {:.6} on its split, the manifest says {:.6}: \
                     its weights or data changed since the manifest was written; not blended",
                    m.set, got.test_auc, m.test_auc
                ),
            });
        }
        if progress {
            eprintln!(
                "{}: weight {:.1} on the network; test AUC {:.4} blended, {:.4} network, {:.4} baseline",
                m.set, got.blend.weight, got.blend.test_auc, m.test_auc, m.baseline_auc
            );
        }
        m.blend = Some(got.blend);
    }
    zoo.save(dir)?;
    Ok(zoo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::binary_metrics;

    fn auc(p: &[f64], y: &[u8]) -> f64 {
        binary_metrics(p, y, 0.5).unwrap().auc
    }

    #[test]
    fn weight_one_is_the_network_and_zero_the_baseline() {
        let net = [0.2, 0.9, 0.0, 1.0];
        let base = [1.5, -0.3, 0.0, 2.0];
        let one = mix(&net, &base, 1.0);
        for (a, b) in one.iter().zip(net) {
            assert!((a - b.clamp(EPS, 1.0 - EPS)).abs() < 1e-12, "{a} vs {b}");
        }
        let zero = mix(&net, &base, 0.0);
        for (a, z) in zero.iter().zip(base) {
            assert!((a - 1.0 / (1.0 + (-z).exp())).abs() < 1e-12);
        }
    }

    #[test]
    fn the_weight_follows_the_better_model_and_ties_go_to_the_network() {
        let y = [0u8, 0, 0, 1, 1, 1];
        // The baseline ranks perfectly, the network backwards.
        let base = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0];
        let net = [0.9, 0.8, 0.7, 0.3, 0.2, 0.1];
        let (w, a) = choose_weight(&net, &base, |p| Ok::<_, ()>(auc(p, &y))).unwrap();
        assert_eq!(a, 1.0);
        assert!(w < 0.5, "weight {w}");
        // Both perfect: every weight ties, the network's side wins.
        let net = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
        let (w, a) = choose_weight(&net, &base, |p| Ok::<_, ()>(auc(p, &y))).unwrap();
        assert_eq!((w, a), (1.0, 1.0));
    }
}
