//! The sanity floor: L2-regularised logistic regression on the 84 counts of
//! 1-, 2- and 3-mers of each window (linfa-logistic, L-BFGS). Any model worth
//! its compute must beat it on the same split; on a random 80/20 split it
//! reaches a mean AUC of about 0.79 over the 37 circRNA sets.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Split};
use crate::error::Error;
use crate::eval::{binary_metrics, BinaryMetrics};
use crate::features::{kmer_counts, KNFP_DIM};

/// Settings of the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineConfig {
    /// L2 strength on standardised features (linfa's `alpha`; the loss is a
    /// sum over records, so 1.0 matches scikit-learn's default `C = 1`).
    pub alpha: f64,
    /// L-BFGS iterations.
    pub max_iterations: u64,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            max_iterations: 200,
        }
    }
}

/// A fitted k-mer logistic regression: the standardisation and the linear
/// model, plain numbers, so that it can be saved beside a network (a zoo
/// model's blend, [`crate::zoo::Blend`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmerLogistic {
    /// Mean of each count on the training windows.
    mean: Vec<f64>,
    /// Standard deviation of each count (1 where it is constant).
    scale: Vec<f64>,
    /// Weights of the standardised counts.
    weights: Vec<f64>,
    /// Intercept.
    intercept: f64,
    /// Whether `weights` and `intercept` model P(label == 1) (linfa picks
    /// its "positive" class by frequency, not by value); if not, the
    /// probability of a bound window is one minus the model's.
    models_label_one: bool,
}

fn count_matrix<S: AsRef<[u8]> + Sync>(seqs: &[S]) -> Array2<f64> {
    let rows: Vec<[f32; KNFP_DIM]> = seqs.par_iter().map(|s| kmer_counts(s.as_ref())).collect();
    Array2::from_shape_fn((seqs.len(), KNFP_DIM), |(i, j)| rows[i][j] as f64)
}

impl KmerLogistic {
    /// Fit on windows and 0/1 labels.
    ///
    /// ```
    /// use circssnn::baseline::{BaselineConfig, KmerLogistic};
    /// let seqs = [b"AAAAAAAAAA", b"AAAAAAAAAU", b"GGGGGGGGGC", b"GGGGGGGGGG"];
    /// let m = KmerLogistic::fit(&seqs, &[1, 1, 0, 0], &BaselineConfig::default()).unwrap();
    /// let p = m.predict_proba(&[b"AAAAAAAAAA", b"GGGGGGGGGG"]);
    /// assert!(p[0] > 0.5 && p[1] < 0.5);
    /// ```
    pub fn fit<S: AsRef<[u8]> + Sync>(
        seqs: &[S],
        labels: &[u8],
        cfg: &BaselineConfig,
    ) -> Result<Self, Error> {
        let x = count_matrix(seqs);
        let mean = x
            .mean_axis(ndarray::Axis(0))
            .ok_or_else(|| Error::Fit("no training records".into()))?;
        // Constant columns (e.g. a k-mer absent from training) keep scale 1.
        let scale = x
            .std_axis(ndarray::Axis(0), 0.0)
            .mapv(|s| if s > 0.0 { s } else { 1.0 });
        let xs = (&x - &mean) / &scale;
        let data = linfa::Dataset::new(xs, Array1::from(labels.to_vec()));
        let model = LogisticRegression::default()
            .alpha(cfg.alpha)
            .max_iterations(cfg.max_iterations)
            .fit(&data)
            .map_err(|e| Error::Fit(format!("logistic regression: {e}")))?;
        Ok(Self {
            mean: mean.to_vec(),
            scale: scale.to_vec(),
            weights: model.params().to_vec(),
            intercept: model.intercept(),
            models_label_one: model.labels().pos.class == 1,
        })
    }

    /// The linear score of each window: `w . x + b` on standardised counts,
    /// for linfa's positive class (see `models_label_one`).
    fn linear(&self, seqs: &[impl AsRef<[u8]> + Sync]) -> Array1<f64> {
        let view = |v: &[f64]| ndarray::ArrayView1::from(v).to_owned();
        let xs = (&count_matrix(seqs) - &view(&self.mean)) / &view(&self.scale);
        xs.dot(&ndarray::ArrayView1::from(self.weights.as_slice())) + self.intercept
    }

    /// Probability that each window is bound (the same arithmetic as
    /// linfa's `predict_probabilities`, so fits saved before this struct
    /// held plain numbers score the same to the last bit).
    pub fn predict_proba<S: AsRef<[u8]> + Sync>(&self, seqs: &[S]) -> Vec<f64> {
        let p = self.linear(seqs).mapv(|z| 1.0 / (1.0 + (-z).exp()));
        if self.models_label_one {
            p.to_vec()
        } else {
            p.iter().map(|q| 1.0 - q).collect()
        }
    }

    /// Log-odds that each window is bound: the logit of
    /// [`KmerLogistic::predict_proba`], without its rounding at 0 and 1.
    pub fn predict_logit<S: AsRef<[u8]> + Sync>(&self, seqs: &[S]) -> Vec<f64> {
        let z = self.linear(seqs);
        if self.models_label_one {
            z.to_vec()
        } else {
            z.iter().map(|z| -z).collect()
        }
    }

    /// Check a fit read from a file: 84 counts, finite numbers.
    pub fn check(&self) -> Result<(), String> {
        let lens = [self.mean.len(), self.scale.len(), self.weights.len()];
        if lens != [KNFP_DIM; 3] {
            return Err(format!(
                "a 1–3-mer model has {KNFP_DIM} means, scales and weights, this one {lens:?}"
            ));
        }
        let all = self.mean.iter().chain(&self.scale).chain(&self.weights);
        if !all.chain([&self.intercept]).all(|v| v.is_finite()) || self.scale.contains(&0.0) {
            return Err("a 1–3-mer model holds a non-finite number or a zero scale".into());
        }
        Ok(())
    }
}

/// Validation and test metrics of the baseline on one split.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineReport {
    /// Set name.
    pub set: String,
    /// Records used for fitting.
    pub n_train: usize,
    /// Metrics on the validation part (`None` if it is empty).
    pub valid: Option<BinaryMetrics>,
    /// Metrics on the whole test part.
    pub test: BinaryMetrics,
}

/// Fit on `split.train`, report on `split.valid` and the whole `split.test`.
pub fn run_baseline(
    ds: &Dataset,
    split: &Split,
    cfg: &BaselineConfig,
) -> Result<BaselineReport, Error> {
    let (xtr, ytr) = ds.part(&split.train);
    let model = KmerLogistic::fit(&xtr, &ytr, cfg)?;
    let score = |idx: &[usize]| -> Result<BinaryMetrics, Error> {
        let (x, y) = ds.part(idx);
        Ok(binary_metrics(&model.predict_proba(&x), &y, 0.5)?)
    };
    Ok(BaselineReport {
        set: ds.name.clone(),
        n_train: split.train.len(),
        valid: if split.valid.is_empty() {
            None
        } else {
            Some(score(&split.valid)?)
        },
        test: score(&split.test)?,
    })
}

/// The baseline on each of `sets` (in parallel), split by `split` with `seed`
/// (linear sets keep their official test file), in the order given.
///
/// ```no_run
/// use circssnn::data::{default_root, split::SplitKind, Registry, SetKind};
/// let reg = Registry::scan(&default_root())?;
/// let lin: Vec<_> = reg.of_kind(SetKind::Linear).collect();
/// let reports = circssnn::baseline::run_sets(&lin, SplitKind::Random, 4, Default::default())?;
/// let mean = reports.iter().map(|r| r.test.auc).sum::<f64>() / reports.len() as f64;
/// println!("mean AUC over {} linear sets: {mean:.3}", reports.len());
/// # Ok::<(), circssnn::Error>(())
/// ```
pub fn run_sets(
    sets: &[&crate::data::SetEntry],
    split: crate::data::split::SplitKind,
    seed: u64,
    policy: crate::data::LengthPolicy,
) -> Result<Vec<BaselineReport>, Error> {
    let cfg = BaselineConfig::default();
    sets.par_iter()
        .map(|e| {
            let ds = e.load(policy)?;
            let sp = crate::data::split::split_dataset(&ds, split, seed);
            run_baseline(&ds, &sp, &cfg)
        })
        .collect()
}

/// Write one CSV row per report: set, split, seed, sizes, the whole-test
/// metrics and the validation AUC.
pub fn write_csv(
    path: &std::path::Path,
    reports: &[BaselineReport],
    split: crate::data::split::SplitKind,
    seed: u64,
) -> std::io::Result<()> {
    crate::output::write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let header = ["set", "split", "seed", "n_train", "n_test"]
            .into_iter()
            .chain(BinaryMetrics::CSV_COLUMNS)
            .chain(["valid_auc"]);
        csv.write_record(header)?;
        for r in reports {
            let mut row = vec![
                r.set.clone(),
                split.to_string(),
                seed.to_string(),
                r.n_train.to_string(),
                r.test.n.to_string(),
            ];
            row.extend(r.test.csv_values());
            row.push(r.valid.map_or(String::new(), |v| v.auc.to_string()));
            csv.write_record(row)?;
        }
        csv.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows() -> (Vec<Vec<u8>>, Vec<u8>) {
        // A-rich windows bound, G-rich not, with a little of each in both.
        let mut seqs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40usize {
            let bound = i % 2 == 0;
            let s: Vec<u8> = (0..30)
                .map(|j| match (j * 7 + i * 3) % 5 {
                    0 | 1 if bound => b'A',
                    0 | 1 => b'G',
                    2 => b'C',
                    3 => b'U',
                    _ => b"AG"[(i / 2 + j) % 2],
                })
                .collect();
            seqs.push(s);
            labels.push(bound as u8);
        }
        (seqs, labels)
    }

    #[test]
    fn saved_numbers_score_as_linfa_does_and_round_trip() {
        let (seqs, labels) = windows();
        let cfg = BaselineConfig::default();
        let m = KmerLogistic::fit(&seqs, &labels, &cfg).unwrap();
        m.check().unwrap();
        // linfa's own fit and prediction, independently of the saved numbers.
        let x = count_matrix(&seqs);
        let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
        let scale = x
            .std_axis(ndarray::Axis(0), 0.0)
            .mapv(|s| if s > 0.0 { s } else { 1.0 });
        let xs = (&x - &mean) / &scale;
        let fit = LogisticRegression::default()
            .alpha(cfg.alpha)
            .max_iterations(cfg.max_iterations)
            .fit(&linfa::Dataset::new(
                xs.clone(),
                Array1::from(labels.clone()),
            ))
            .unwrap();
        let mut theirs = fit.predict_probabilities(&xs).to_vec();
        if fit.labels().pos.class != 1 {
            theirs.iter_mut().for_each(|q| *q = 1.0 - *q);
        }
        assert_eq!(m.predict_proba(&seqs), theirs);
        // The log-odds are the probabilities' logits.
        for (p, z) in m.predict_proba(&seqs).iter().zip(m.predict_logit(&seqs)) {
            assert!((p - 1.0 / (1.0 + (-z).exp())).abs() < 1e-12);
        }
        let back: KmerLogistic = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let mut bad = m.clone();
        bad.weights.pop();
        assert!(bad.check().unwrap_err().contains("84"), "{:?}", bad.check());
        let mut bad = m;
        bad.intercept = f64::NAN;
        assert!(bad.check().is_err());
    }
}
