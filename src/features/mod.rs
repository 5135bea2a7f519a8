//! Per-window descriptors: each turns a normalised 101-nt window into a
//! `101 x D` matrix (KNFP now; circRNA2Vec and k-mer BERT build on the same
//! shape).

pub mod knfp;

pub use knfp::{kmer_counts, knfp, knfp_batch, knfp_into, KNFP_DIM, KNFP_LEN};
