//! Per-window descriptors: each turns a normalised 101-nt window into a
//! `101 x D` matrix behind the [`Descriptor`] trait (KNFP now; circRNA2Vec
//! and k-mer BERT plug in the same way).

pub mod descriptor;
pub mod knfp;

pub use descriptor::{Descriptor, Knfp};
pub use knfp::{kmer_counts, knfp, knfp_batch, knfp_into, KNFP_DIM, KNFP_LEN};
