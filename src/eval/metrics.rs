//! Whole-set binary classification metrics. Scores are probabilities (or
//! any monotone score) of the positive class; labels are 1 / 0.

use serde::{Deserialize, Serialize};

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// Scores and labels differ in length.
    #[error("{scores} scores but {labels} labels")]
    LengthMismatch {
        /// Number of scores.
        scores: usize,
        /// Number of labels.
        labels: usize,
    },
    /// AUC needs both classes.
    #[error(
        "AUC needs positives and negatives; got {positives} positives and {negatives} negatives"
    )]
    OneClass {
        /// Positives present.
        positives: usize,
        /// Negatives present.
        negatives: usize,
    },
    /// A score is NaN or infinite.
    #[error("score {index} is {value} (not finite)")]
    NotFinite {
        /// Index of the bad score.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A label other than 0 or 1.
    #[error("label {index} is {value}; labels must be 0 or 1")]
    BadLabel {
        /// Index of the bad label.
        index: usize,
        /// Its value.
        value: u8,
    },
}

fn check(scores: &[f64], labels: &[u8]) -> Result<(usize, usize), MetricError> {
    if scores.len() != labels.len() {
        return Err(MetricError::LengthMismatch {
            scores: scores.len(),
            labels: labels.len(),
        });
    }
    if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(MetricError::NotFinite { index, value });
    }
    if let Some((index, &value)) = labels.iter().enumerate().find(|(_, &y)| y > 1) {
        return Err(MetricError::BadLabel { index, value });
    }
    let pos = labels.iter().filter(|&&y| y == 1).count();
    Ok((pos, labels.len() - pos))
}

/// [`check`], and both classes present (AUC and ROC need both).
fn check_both_classes(scores: &[f64], labels: &[u8]) -> Result<(usize, usize), MetricError> {
    let (pos, neg) = check(scores, labels)?;
    if pos == 0 || neg == 0 {
        return Err(MetricError::OneClass {
            positives: pos,
            negatives: neg,
        });
    }
    Ok((pos, neg))
}

/// Exact ROC AUC: the Mann–Whitney U statistic over average ranks, so tied
/// scores count one half — the probability that a random positive outscores
/// a random negative.
///
/// ```
/// use circssnn::eval::roc_auc;
/// assert_eq!(roc_auc(&[0.9, 0.1, 0.8, 0.3], &[1, 0, 1, 0]).unwrap(), 1.0);
/// assert_eq!(roc_auc(&[0.5, 0.5], &[1, 0]).unwrap(), 0.5);
/// ```
pub fn roc_auc(scores: &[f64], labels: &[u8]) -> Result<f64, MetricError> {
    let (pos, neg) = check_both_classes(scores, labels)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j + 2) as f64 / 2.0;
        let tied_pos = order[i..=j].iter().filter(|&&k| labels[k] == 1).count();
        rank_sum_pos += mean_rank * tied_pos as f64;
        i = j + 1;
    }
    let u = rank_sum_pos - (pos * (pos + 1)) as f64 / 2.0;
    Ok(u / (pos as f64 * neg as f64))
}

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// False-positive rate.
    pub fpr: f64,
    /// True-positive rate.
    pub tpr: f64,
    /// Scores `>=` this are called positive (`+inf` for the origin).
    pub threshold: f64,
}

/// ROC curve from (0, 0) to (1, 1), one point per distinct score.
pub fn roc_curve(scores: &[f64], labels: &[u8]) -> Result<Vec<RocPoint>, MetricError> {
    let (pos, neg) = check_both_classes(scores, labels)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut pts = vec![RocPoint {
        fpr: 0.0,
        tpr: 0.0,
        threshold: f64::INFINITY,
    }];
    let (mut tp, mut fp) = (0usize, 0usize);
    for (n, &k) in order.iter().enumerate() {
        if labels[k] == 1 {
            tp += 1
        } else {
            fp += 1
        }
        let last_of_tie = n + 1 == order.len() || scores[order[n + 1]] != scores[k];
        if last_of_tie {
            pts.push(RocPoint {
                fpr: fp as f64 / neg as f64,
                tpr: tp as f64 / pos as f64,
                threshold: scores[k],
            });
        }
    }
    Ok(pts)
}

/// Threshold-free and thresholded metrics over a whole set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    /// Records scored.
    pub n: usize,
    /// ROC AUC.
    pub auc: f64,
    /// (TP + TN) / n.
    pub accuracy: f64,
    /// TP / (TP + FP); 0 when nothing is called positive.
    pub precision: f64,
    /// TP / (TP + FN), the sensitivity.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
    /// Matthews correlation coefficient; 0 when undefined.
    pub mcc: f64,
    /// True positives at the threshold.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// True negatives.
    pub tn: usize,
    /// False negatives.
    pub fn_: usize,
}

impl BinaryMetrics {
    /// Names of the [`csv_values`](Self::csv_values) columns, in order.
    pub const CSV_COLUMNS: [&'static str; 6] =
        ["auc", "accuracy", "precision", "recall", "f1", "mcc"];

    /// The headline metrics as CSV fields, in [`CSV_COLUMNS`](Self::CSV_COLUMNS) order.
    pub fn csv_values(&self) -> [String; 6] {
        [
            self.auc,
            self.accuracy,
            self.precision,
            self.recall,
            self.f1,
            self.mcc,
        ]
        .map(|v| v.to_string())
    }
}

/// All metrics, calling `score >= threshold` positive (0.5 for probabilities).
///
/// ```
/// let m = circssnn::eval::binary_metrics(&[0.9, 0.4, 0.6, 0.2], &[1, 1, 0, 0], 0.5).unwrap();
/// assert_eq!((m.tp, m.fp, m.tn, m.fn_), (1, 1, 1, 1));
/// assert_eq!(m.accuracy, 0.5);
/// ```
pub fn binary_metrics(
    scores: &[f64],
    labels: &[u8],
    threshold: f64,
) -> Result<BinaryMetrics, MetricError> {
    let auc = roc_auc(scores, labels)?;
    let (mut tp, mut fp, mut tn, mut fn_) = (0usize, 0usize, 0usize, 0usize);
    for (&s, &y) in scores.iter().zip(labels) {
        match (s >= threshold, y == 1) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fn_ += 1,
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    let (tpf, fpf, tnf, fnf) = (tp as f64, fp as f64, tn as f64, fn_ as f64);
    let denom = ((tpf + fpf) * (tpf + fnf) * (tnf + fpf) * (tnf + fnf)).sqrt();
    let mcc = if denom == 0.0 {
        0.0
    } else {
        (tpf * tnf - fpf * fnf) / denom
    };
    Ok(BinaryMetrics {
        n: scores.len(),
        auc,
        accuracy: ratio(tp + tn, scores.len()),
        precision,
        recall,
        f1,
        mcc,
        tp,
        fp,
        tn,
        fn_,
    })
}

/// Mean and sample standard deviation (n − 1) of repeated values, e.g. one
/// metric over training seeds or over sets: the mean is NaN for no values,
/// the standard deviation 0 for fewer than two.
///
/// ```
/// let (m, sd) = circssnn::eval::mean_sd(&[0.8, 0.9, 1.0]);
/// assert!((m - 0.9).abs() < 1e-12 && (sd - 0.1).abs() < 1e-12);
/// ```
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}
