//! What a user should know about a set before trusting an AUC on it: class
//! sizes, lengths, GC per class, duplicates, and how few source transcripts
//! the negatives come from.

use std::collections::HashSet;

use serde::Serialize;

use rayon::prelude::*;

use super::registry::{Dataset, Registry, SetKind};
use super::sequence::gc_fraction;
use super::sequence::LengthPolicy;
use crate::error::Result;

/// Summary of one class of one set.
#[derive(Debug, Clone, Serialize)]
pub struct ClassStats {
    /// Records.
    pub n: usize,
    /// Distinct sequences.
    pub distinct: usize,
    /// Records whose sequence already occurred earlier in the same class.
    pub duplicates: usize,
    /// Shortest record (nt).
    pub len_min: usize,
    /// Longest record (nt).
    pub len_max: usize,
    /// Mean GC fraction over records with at least one unambiguous base.
    pub gc_mean: f64,
    /// Records with an ambiguous base (`N` or another IUPAC code).
    pub with_ambiguous: usize,
    /// Distinct source transcripts (header ids); circular sets only.
    pub sources: Option<usize>,
}

/// Summary of one set.
#[derive(Debug, Clone, Serialize)]
pub struct SetStats {
    /// Set name.
    pub name: String,
    /// Benchmark.
    pub kind: SetKind,
    /// Positive class.
    pub positive: ClassStats,
    /// Negative class.
    pub negative: ClassStats,
    /// Sequences present in both classes.
    pub in_both_classes: usize,
}

/// Statistics of one loaded set.
pub fn set_stats(ds: &Dataset) -> SetStats {
    let class = |y: u8| {
        let recs: Vec<_> = ds
            .records
            .iter()
            .zip(&ds.labels)
            .filter(|(_, &l)| l == y)
            .map(|(r, _)| r)
            .collect();
        let distinct: HashSet<&[u8]> = recs.iter().map(|r| r.seq.as_slice()).collect();
        let gcs: Vec<f64> = recs.iter().filter_map(|r| gc_fraction(&r.seq)).collect();
        let sources = (ds.kind == SetKind::Circular).then(|| {
            recs.iter()
                .map(|r| r.id.as_str())
                .collect::<HashSet<_>>()
                .len()
        });
        let stats = ClassStats {
            n: recs.len(),
            distinct: distinct.len(),
            duplicates: recs.len() - distinct.len(),
            len_min: recs.iter().map(|r| r.seq.len()).min().unwrap_or(0),
            len_max: recs.iter().map(|r| r.seq.len()).max().unwrap_or(0),
            gc_mean: if gcs.is_empty() {
                f64::NAN
            } else {
                gcs.iter().sum::<f64>() / gcs.len() as f64
            },
            with_ambiguous: recs.iter().filter(|r| r.seq.contains(&b'N')).count(),
            sources,
        };
        (stats, distinct)
    };
    let (positive, pos_seqs) = class(1);
    let (negative, neg_seqs) = class(0);
    SetStats {
        name: ds.name.clone(),
        kind: ds.kind,
        in_both_classes: pos_seqs.intersection(&neg_seqs).count(),
        positive,
        negative,
    }
}

/// Totals over several circular sets, showing the shared negative pool.
#[derive(Debug, Clone, Serialize)]
pub struct PoolSummary {
    /// Sets summarised.
    pub sets: usize,
    /// Positive records over all sets.
    pub positives: usize,
    /// Negative records over all sets.
    pub negatives: usize,
    /// Distinct negative sequences over all sets.
    pub distinct_negatives: usize,
    /// Distinct source transcripts of all negatives.
    pub negative_sources: usize,
    /// Distinct source transcripts of all positives.
    pub positive_sources: usize,
}

/// Pool the circular sets among `sets` (linear ones are ignored).
pub fn pool_summary<'a>(sets: impl IntoIterator<Item = &'a Dataset>) -> PoolSummary {
    let mut s = PoolSummary {
        sets: 0,
        positives: 0,
        negatives: 0,
        distinct_negatives: 0,
        negative_sources: 0,
        positive_sources: 0,
    };
    let mut neg_seqs = HashSet::new();
    let mut neg_src = HashSet::new();
    let mut pos_src = HashSet::new();
    for ds in sets.into_iter().filter(|d| d.kind == SetKind::Circular) {
        s.sets += 1;
        for (r, &y) in ds.records.iter().zip(&ds.labels) {
            if y == 1 {
                s.positives += 1;
                pos_src.insert(r.id.as_str());
            } else {
                s.negatives += 1;
                neg_seqs.insert(r.seq.as_slice());
                neg_src.insert(r.id.as_str());
            }
        }
    }
    s.distinct_negatives = neg_seqs.len();
    s.negative_sources = neg_src.len();
    s.positive_sources = pos_src.len();
    s
}

impl SetStats {
    /// Window length as one number when every record has it, else the
    /// range over both classes ("101" or "41-101").
    pub fn length_label(&self) -> String {
        let (p, n) = (&self.positive, &self.negative);
        if p.len_min == p.len_max && n.len_min == n.len_max && p.len_min == n.len_min {
            p.len_min.to_string()
        } else {
            format!("{}-{}", p.len_min.min(n.len_min), p.len_max.max(n.len_max))
        }
    }
}

/// What `circssnn data stats` shows: each set's statistics and the pool of
/// the circular ones among them.
#[derive(Debug, Clone, Serialize)]
pub struct BenchmarkStats {
    /// One entry per set, in the order asked for.
    pub sets: Vec<SetStats>,
    /// The circular sets' shared negative pool.
    pub circular_pool: PoolSummary,
}

/// Statistics of the sets named in `names` (every set of `reg` when it is
/// empty), loaded in parallel under `policy`.
pub fn benchmark_stats(
    reg: &Registry,
    names: &[String],
    policy: LengthPolicy,
) -> Result<BenchmarkStats> {
    let entries: Vec<_> = if names.is_empty() {
        reg.sets.iter().collect()
    } else {
        names.iter().map(|n| reg.get(n)).collect::<Result<_>>()?
    };
    let sets: Vec<Dataset> = entries
        .par_iter()
        .map(|e| e.load(policy))
        .collect::<Result<_>>()?;
    Ok(BenchmarkStats {
        sets: sets.par_iter().map(set_stats).collect(),
        circular_pool: pool_summary(&sets),
    })
}
