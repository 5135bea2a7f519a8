//! The published protocol's metrics, kept only to show how much it inflates
//! the figures. The authors average AUC, accuracy, precision and recall over
//! test mini-batches of 64 in loader order, dropping the last incomplete
//! batch. Do not report these as the model's performance; use
//! [`binary_metrics`] over the whole test set.

use serde::{Deserialize, Serialize};

use super::metrics::{binary_metrics, MetricError};

/// The published evaluation's batch size.
pub const PUBLISHED_BATCH: usize = 64;

/// Means over mini-batches, as the published code reports them.
///
/// When no full batch holds both classes (a test part under 64 windows, say)
/// the means are undefined and every metric is NaN, never a made-up 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchMeanMetrics {
    /// Mean of per-batch AUC.
    pub auc: f64,
    /// Mean of per-batch accuracy.
    pub accuracy: f64,
    /// Mean of per-batch precision.
    pub precision: f64,
    /// Mean of per-batch recall.
    pub recall: f64,
    /// Full batches averaged.
    pub batches: usize,
    /// Full batches left out because they held one class only (AUC undefined;
    /// scikit-learn would have raised).
    pub skipped_one_class: usize,
    /// Records in the dropped incomplete last batch.
    pub dropped_tail: usize,
}

/// Batch-mean metrics over consecutive batches of `batch` records (drop_last).
///
/// ```
/// use circssnn::eval::published_batch_mean;
/// let scores = [0.9, 0.1, 0.2, 0.8, 0.7];
/// let labels = [1, 0, 1, 0, 1];
/// let m = published_batch_mean(&scores, &labels, 2).unwrap();
/// assert_eq!((m.batches, m.dropped_tail), (2, 1));
/// assert_eq!(m.auc, 0.5); // batch AUCs 1.0 and 0.0
/// ```
pub fn published_batch_mean(
    scores: &[f64],
    labels: &[u8],
    batch: usize,
) -> Result<BatchMeanMetrics, MetricError> {
    if scores.len() != labels.len() {
        return Err(MetricError::LengthMismatch {
            scores: scores.len(),
            labels: labels.len(),
        });
    }
    let full = scores.len() / batch.max(1) * batch.max(1);
    let (mut auc, mut acc, mut prec, mut rec) = (0.0, 0.0, 0.0, 0.0);
    let (mut used, mut skipped) = (0usize, 0usize);
    for (s, y) in scores[..full]
        .chunks(batch)
        .zip(labels[..full].chunks(batch))
    {
        match binary_metrics(s, y, 0.5) {
            Ok(m) => {
                auc += m.auc;
                acc += m.accuracy;
                prec += m.precision;
                rec += m.recall;
                used += 1;
            }
            Err(MetricError::OneClass { .. }) => skipped += 1,
            Err(e) => return Err(e),
        }
    }
    // Undefined rather than 0: a 0 would read as a (terrible) measured AUC.
    let d = if used == 0 { f64::NAN } else { used as f64 };
    Ok(BatchMeanMetrics {
        auc: auc / d,
        accuracy: acc / d,
        precision: prec / d,
        recall: rec / d,
        batches: used,
        skipped_one_class: skipped,
        dropped_tail: scores.len() - full,
    })
}
