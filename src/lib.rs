//! # circssnn
//!
//! CircSSNN (BMC Bioinformatics 2023) in Rust: predict whether an RNA-binding
//! protein binds a 101-nt circRNA window. The crate follows the pipeline:
//!
//! * [`data`] — FASTA windows, the benchmark registry, splits, statistics, download;
//! * [`nn`] — the dfdx building blocks both transformers share: attention,
//!   pre- and post-norm residuals, dropout, token-wise maps;
//! * [`features`] — per-window descriptors: KNFP, circRNA2Vec, k-mer BERT;
//! * [`baseline`] — the 1–3-mer logistic-regression floor;
//! * [`model`] — the typed dfdx CircSSNN network;
//! * [`train`] — training with validation-based selection, checkpoints;
//! * [`eval`] — whole-set metrics and, clearly separated, the published protocol;
//! * [`plots`] — the paper's figures and a run's curves as plotly plots;
//! * [`reproduce`] — the paper's experiments as jobs, and their report;
//! * [`zoo`] — one model per set on the full data, with its manifest;
//! * [`scan`] — where RBPs bind along whole transcripts, circular windows;
//! * [`explain`] — why a window binds: mutagenesis, logos, recovered motifs.
//!
//! ```no_run
//! use circssnn::data::{default_root, split, Registry};
//! let reg = Registry::scan(&default_root())?;
//! let ds = reg.get("TIAL1")?.load(Default::default())?;
//! let sp = split::stratified(&ds.labels, &Default::default());
//! let report = circssnn::baseline::run_baseline(&ds, &sp, &Default::default())?;
//! println!("TIAL1 baseline test AUC {:.3}", report.test.auc);
//! # Ok::<(), circssnn::Error>(())
//! ```

pub mod baseline;
pub mod bench;
pub mod data;
pub mod error;
pub mod eval;
pub mod explain;
pub mod features;
pub mod model;
pub mod nn;
pub mod output;
pub mod plots;
pub mod reproduce;
pub mod scan;
pub mod train;
pub mod zoo;

pub use error::{DataError, Error};

// The crates whose types appear in the public API, re-exported so a notebook
// (`:dep circssnn = { path = ".." }`) uses exactly the versions the crate
// was built with: `use circssnn::dfdx::prelude::*;`.
pub use dfdx;
pub use ndarray;
pub use plotly;
