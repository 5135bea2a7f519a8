//! Why a window binds: per-nucleotide importance by in-silico mutagenesis
//! ([`mutagenesis`]) and by gradient x input
//! ([`Predictor::gradient_x_input`], with their [`agreement`]), sequence
//! logos of it ([`crate::plots::sequence_logo`], and as SVG
//! [`crate::plots::sequence_logo_svg`]), and the motifs a model learned, recovered from its own importance
//! ([`find_motifs`]) and set beside the motifs known from the literature
//! ([`known_motif`]).
//!
//! Everything takes the model as a scoring function, so a
//! [`Predictor`] and a toy model with a known
//! answer go through the same code:
//!
//! ```no_run
//! use circssnn::data::Registry;
//! use circssnn::explain::{find_motifs, test_positives, MotifConfig};
//! use circssnn::scan::{zoo_models, Fpr};
//! use circssnn::train::DeviceKind;
//! let m = &zoo_models(&circssnn::zoo::shipped_zoo(), &["PUM2".into()], Fpr::Five, DeviceKind::Cpu)?[0];
//! let reg = Registry::scan(&circssnn::data::default_root())?;
//! let pos = test_positives(&reg, &m.predictor)?;
//! let refs: Vec<&[u8]> = pos.iter().map(Vec::as_slice).collect();
//! let found = find_motifs(&refs, |w| m.predictor.predict(w), &MotifConfig::default(), |_| {})?;
//! for e in found.top(5, 5) {
//!     println!("{} in {} segments, enrichment {:.1}, p {:.1e}", e.kmer, e.segments, e.enrichment, e.p_value);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod agreement;
mod ism;
mod known;
mod motifs;
mod output;

pub use agreement::{agreement, pearson, spearman, Agreement, TOP_POSITIONS};
pub use ism::{mutagenesis, track_logo_columns, Mutagenesis, BASES, WINDOWS_PER_CALL};
pub use known::{known_motif, KnownMotif, KNOWN_MOTIFS};
pub use motifs::{
    binomial_upper_tail, counted_kmers, enriched_in_windows, enriched_kmers, find_motifs,
    find_motifs_by_gradient, important_segment, information_columns, weight_matrix, Background,
    Importance, KmerEnrichment, MotifConfig, Motifs,
};
pub use output::{motif_rows, write_explanations, write_motifs, Explained, MotifRow};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::data::{Dataset, Record, Registry};
use crate::scan::ScanModel;
use crate::train::{Predictor, TrainError};

/// What can stop an explanation.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// Reading the input or the benchmark.
    #[error(transparent)]
    Data(#[from] crate::DataError),
    /// Loading or running a model.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Loading models from a zoo.
    #[error(transparent)]
    Scan(#[from] crate::scan::ScanError),
    /// Another process holds the output folder.
    #[error(transparent)]
    Lock(#[from] crate::output::LockError),
    /// Writing an output.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Settings that cannot work together.
    #[error("motif settings: {0}")]
    Config(String),
}

impl From<std::convert::Infallible> for ExplainError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

/// The positive windows of the test part of the set `predictor` was trained
/// on, split by the protocol it was trained with: windows it never saw.
pub fn test_positives(reg: &Registry, predictor: &Predictor) -> Result<Vec<Vec<u8>>, ExplainError> {
    let ds = own_set(reg, predictor)?;
    Ok(test_part_positives(&ds, predictor)
        .into_iter()
        .map(|r| r.seq)
        .collect())
}

/// The first `n` positives of the test part of `predictor`'s own set (those
/// of [`test_positives`], in the set's order) as records with their ids:
/// windows to explain that the model never saw.
pub fn test_positive_records(
    reg: &Registry,
    predictor: &Predictor,
    n: usize,
) -> Result<Vec<Record>, ExplainError> {
    let mut records = test_part_positives(&own_set(reg, predictor)?, predictor);
    records.truncate(n);
    Ok(records)
}

/// The whole set `predictor` was trained on.
fn own_set(reg: &Registry, predictor: &Predictor) -> Result<Dataset, ExplainError> {
    Ok(reg.get(&predictor.meta.set)?.load(Default::default())?)
}

/// The positives of `ds`'s test part under the protocol `predictor` was
/// trained with.
fn test_part_positives(ds: &Dataset, predictor: &Predictor) -> Vec<Record> {
    let (ds, split) = predictor.meta.protocol().apply(ds);
    split
        .test
        .iter()
        .filter(|&&i| ds.labels[i] == 1)
        .map(|&i| ds.records[i].clone())
        .collect()
}

/// The positive and the negative windows of the whole of `ds` (no split:
/// plain counting involves no model).
fn by_label(ds: &Dataset) -> [Vec<&[u8]>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    for (r, &l) in ds.records.iter().zip(&ds.labels) {
        out[usize::from(l != 1)].push(r.seq.as_slice());
    }
    out
}

/// A progress bar over `len` windows on stderr, or a hidden one.
fn bar(len: usize, what: &str, progress: bool) -> ProgressBar {
    let target = if progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:30}} {{pos}}/{{len}} {what} {{msg}} ({{elapsed}}, {{eta}} left)"
        ))
        .expect("static template"),
    );
    bar
}

/// Mutagenesis and gradient x input of every 101-nt window of `records`
/// under every model, model by model.
pub fn explain_records(
    records: &[Record],
    models: &[ScanModel],
    progress: bool,
) -> Result<Vec<Explained>, ExplainError> {
    let windows: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let bar = bar(windows.len() * models.len(), "windows explained", progress);
    let mut out = Vec::with_capacity(bar.length().unwrap_or(0) as usize);
    for m in models {
        let base = bar.position();
        let maps = mutagenesis(
            &windows,
            |w| m.predictor.predict(w),
            |done| bar.set_position(base + done as u64),
        )?;
        let gradients = m.predictor.gradient_x_input(&windows)?;
        let attention = m.predictor.attention_on_positions(&windows)?;
        out.extend(
            records
                .iter()
                .zip(maps.into_iter().zip(gradients).zip(attention))
                .enumerate()
                .map(|(i, (r, ((map, g), a)))| Explained {
                    rbp: m.name.clone(),
                    record: i + 1,
                    id: r.id.clone(),
                    map,
                    gradient_x_input: g.to_vec(),
                    attention: a.to_vec(),
                }),
        );
    }
    bar.finish_and_clear();
    Ok(out)
}

/// How well each cheaper track agrees with mutagenesis on `items`, per
/// model (in the order the models first appear).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelAgreement {
    /// The model's RBP.
    pub rbp: String,
    /// Mutagenesis vs gradient x input.
    pub gradient: Agreement,
    /// Mutagenesis vs the attention projected to positions.
    pub attention: Agreement,
}

/// [`ModelAgreement`] of every model in `items`.
pub fn explained_agreement(items: &[Explained]) -> Vec<ModelAgreement> {
    let mut rbps: Vec<&str> = Vec::new();
    for e in items {
        if !rbps.contains(&e.rbp.as_str()) {
            rbps.push(&e.rbp);
        }
    }
    rbps.into_iter()
        .map(|rbp| {
            let of: Vec<&Explained> = items.iter().filter(|e| e.rbp == rbp).collect();
            let ism: Vec<Vec<f64>> = of.iter().map(|e| e.map.importance()).collect();
            let grad: Vec<Vec<f64>> = of.iter().map(|e| e.gradient_x_input.clone()).collect();
            let att: Vec<Vec<f64>> = of.iter().map(|e| e.attention.clone()).collect();
            ModelAgreement {
                rbp: rbp.to_string(),
                gradient: agreement(&ism, &grad),
                attention: agreement(&ism, &att),
            }
        })
        .collect()
}

/// Motifs of every model from the test-part positives of its own set, with
/// importance as `cfg.importance` says, and beside them the same set's
/// k-mers by plain counting ([`Motifs::counted`]).
pub fn zoo_motifs(
    reg: &Registry,
    models: &[ScanModel],
    cfg: &MotifConfig,
    progress: bool,
) -> Result<Vec<(String, Motifs)>, ExplainError> {
    cfg.check()?;
    let bar = bar(models.len() * cfg.windows, "windows explained", progress);
    let mut out = Vec::new();
    for (k, m) in models.iter().enumerate() {
        // One read of the set serves the model's test positives and the counting.
        let ds = own_set(reg, &m.predictor)?;
        let pos: Vec<Vec<u8>> = test_part_positives(&ds, &m.predictor)
            .into_iter()
            .map(|r| r.seq)
            .collect();
        let refs: Vec<&[u8]> = pos.iter().map(Vec::as_slice).collect();
        let base = (k * cfg.windows) as u64;
        bar.set_message(m.name.clone());
        let p = &m.predictor;
        let found = match cfg.importance {
            Importance::Ism => find_motifs(
                &refs,
                |w| p.predict(w),
                cfg,
                |done| bar.set_position(base + done as u64),
            )?,
            Importance::Gradient => {
                find_motifs_by_gradient(&refs, |w| p.predict(w), |w| p.gradient_x_input(w), cfg)?
            }
        };
        let mut found = found;
        let [positives, negatives] = by_label(&ds);
        found.counted = counted_kmers(&positives, &negatives, cfg.k_min..=cfg.k_max);
        found.counted_positives = positives.len();
        bar.set_position(base + cfg.windows as u64);
        out.push((m.name.clone(), found));
    }
    bar.finish_and_clear();
    Ok(out)
}
