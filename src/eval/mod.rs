//! Evaluation: whole-set metrics (what the crate reports) and the published
//! batch-mean protocol (kept, clearly named, to show the difference).

pub mod metrics;
pub mod published;

pub use metrics::{
    binary_metrics, mean_sd, roc_auc, roc_curve, BinaryMetrics, MetricError, RocPoint,
};
pub use published::{published_batch_mean, BatchMeanMetrics, PUBLISHED_BATCH};
