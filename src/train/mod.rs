//! Training and evaluating the network: a typed [`TrainSpec`] run by
//! [`run()`], batches built on demand, Adam with the published schedule,
//! model selection on validation AUC, whole-test-set metrics, the published
//! protocol beside them (labelled), checkpoints and resume; a trained run
//! folder scores windows through [`Predictor`]. [`fit_multi`] trains the
//! multi-task network on every set of a suite at once.

pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod device;
pub mod diagnostics;
pub mod fit;
pub mod labels;
pub mod multi;
pub mod predict;
pub mod refit;
pub mod results;
pub mod run;
pub mod spec;
pub mod throughput;

pub use batch::{make_batch, predict_proba, Descriptors};
pub use checkpoint::{load_checkpoint, save_checkpoint, CheckpointMeta};
pub use config::TrainConfig;
pub use device::DeviceKind;
pub use fit::{fit, EpochRecord, FitReport, PublishedProtocol};
pub use multi::{fit_multi, left_out, predict_proba_multi, Decay, MultiConfig, MultiReport, Task};
pub use predict::{evaluate, EncodedViews, Evaluation, Predictor, ViewKey};
pub use run::{run, RunOptions, RunOutcome};
pub use spec::{SpecError, TrainSpec};

use std::path::PathBuf;

/// Everything that can stop training or evaluation.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Data could not be read.
    #[error(transparent)]
    Data(#[from] crate::DataError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metric(#[from] crate::eval::MetricError),
    /// The batch does not carry the views the network reads.
    #[error(transparent)]
    Views(#[from] crate::model::network::ViewMismatch),
    /// The loss became NaN or infinite.
    #[error(
        "training diverged: loss is {loss} at epoch {epoch}, step {step}; \
         try a lower learning rate (--lr) or check the input features"
    )]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The loss value.
        loss: f32,
    },
    /// A descriptor produced NaN or infinity.
    #[error("descriptor {descriptor} produced {value} for window {window}")]
    NonFiniteFeature {
        /// Descriptor name.
        descriptor: String,
        /// The window (bases) it was encoding.
        window: String,
        /// The value.
        value: f32,
    },
    /// A view was asked for whose descriptor is not available.
    #[error(
        "view {0} has no descriptor: the network reads it, but no descriptor was given for it \
         (circRNA2Vec and k-mer BERT are trained with `circssnn embed train-vec` and `circssnn embed pretrain-bert`)"
    )]
    DescriptorUnavailable(String),
    /// A learned descriptor could not be loaded, or does not fit the run.
    #[error(transparent)]
    Embed(#[from] crate::features::EmbedError),
    /// A checkpoint could not be written or read.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// File or folder concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A results file (`metrics.csv`, a collected results CSV) could not be
    /// written or read.
    #[error("results file {path}: {message}")]
    Results {
        /// File or folder concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The optimiser could not update the parameters (a device error, or
    /// parameters without gradient that should have one).
    #[error("optimiser update failed: {0}")]
    Optimiser(String),
    /// A split part is empty or single-class where it must not be.
    #[error("{0}")]
    Split(String),
    /// A setting that cannot work (checked before any data is read).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Another process holds the run folder.
    #[error(transparent)]
    Lock(#[from] crate::output::LockError),
    /// A device, depth or BERT width this build has no type for.
    #[error(transparent)]
    Unsupported(#[from] device::Unsupported),
}
