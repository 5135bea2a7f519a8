//! # circssnn
//!
//! CircSSNN (BMC Bioinformatics 2023) in Rust: predict whether an RNA-binding
//! protein binds a 101-nt circRNA window. The crate follows the pipeline:
//!
//! * [`data`] — FASTA windows, the benchmark registry, splits, statistics, download;
//! * [`features`] — per-window descriptors (KNFP);
//! * [`baseline`] — the 1–3-mer logistic-regression floor;
//! * [`eval`] — whole-set metrics and, clearly separated, the published protocol.
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
pub mod data;
pub mod error;
pub mod eval;
pub mod features;
pub mod output;

pub use error::{DataError, Error};
pub mod model;
pub mod train;
