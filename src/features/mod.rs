//! Per-window descriptors: each turns a normalised 101-nt window into a
//! `101 x D` matrix behind the [`Descriptor`] trait.
//!
//! * [`knfp`](mod@knfp) — k-tuple nucleotide frequency pattern (fixed, D = 84);
//! * [`circ2vec`] — circRNA2Vec 10-mer embeddings the crate trains itself (D = 30);
//! * [`bert`] — a k-mer BERT encoder, pretrained by the crate or loaded from a
//!   HuggingFace checkpoint (D = its width);
//! * [`corpus`] — the training-only corpus both learned descriptors are trained on;
//! * [`cache`] — learned descriptors of a set computed once and kept on disk;
//! * [`learned`] — which learned models a network reads, and the checks that keep them honest.

pub mod bert;
pub mod cache;
pub mod circ2vec;
pub mod corpus;
pub mod descriptor;
pub mod knfp;
pub mod learned;
pub mod tensor_file;
pub mod views;

pub use cache::CachedDescriptor;
pub use circ2vec::Circ2Vec;
pub use descriptor::{par_encode_batch, Descriptor, Knfp};
pub use knfp::{kmer_counts, knfp, knfp_batch, knfp_into, KNFP_DIM, KNFP_LEN};
pub use views::ViewSet;

use std::path::PathBuf;

/// What can go wrong while training, saving or loading a learned descriptor.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// Reading the data failed.
    #[error(transparent)]
    Data(#[from] crate::DataError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A model or cache file is malformed, truncated or of the wrong shape.
    #[error("{path}: {message}")]
    Format {
        /// File concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Settings that cannot work (empty corpus, zero epochs...).
    #[error("{0}")]
    Invalid(String),
    /// Training produced NaN or infinity.
    #[error("{what} diverged at step {step} (loss {loss}); try a lower learning rate")]
    Diverged {
        /// Which model.
        what: &'static str,
        /// Step at which it happened.
        step: usize,
        /// The loss value.
        loss: f32,
    },
}
