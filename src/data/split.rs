//! Train / validation / test splits.
//!
//! * [`stratified`]: the crate's honest default — seeded, per-class, with a
//!   validation part carved out of training for model selection. ChaCha8 is
//!   used because its stream (and rand 0.8's `shuffle`) is specified
//!   independently of platform and word size.
//! * [`published`]: the authors' split, bit for bit: NumPy's legacy
//!   `np.random.seed(4); np.random.choice(n, n, replace=False)`, first
//!   `round(n / 10 * 8)` indices for training. It has no validation part; we
//!   carve one out of its training part the same way as [`stratified`] does.
//! * [`grouped`]: a stricter split where no source transcript (the header's
//!   `hsa_circ_...` id) has windows both in the test part and in training or
//!   validation, so a model cannot score by recognising transcripts it
//!   trained on.
//! * [`by_sequence`]: every distinct sequence gets its part from a keyed hash
//!   of the sequence, so a window that sits in several sets (the 20,000
//!   pooled negatives are shared by 17 sets on average; 13,797 positives by
//!   two or more) is in the same part in all of them, and HNRNPC's duplicate
//!   positives never straddle training and test. The split for anything
//!   trained on several sets at once (the multi-task model).

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_mt::Mt;
use serde::{Deserialize, Serialize};

use super::registry::{Dataset, SetKind};

/// Indices into a [`Dataset`], each part sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// Records to fit on.
    pub train: Vec<usize>,
    /// Records for model selection (best epoch, early stopping).
    pub valid: Vec<usize>,
    /// Records touched only once, for the final metrics.
    pub test: Vec<usize>,
}

/// Fractions and seed of a [`stratified`] split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Fraction of each class held out for test.
    pub test_frac: f64,
    /// Fraction of the remaining training part held out for validation.
    pub valid_frac: f64,
    /// RNG seed.
    pub seed: u64,
}

impl Default for SplitConfig {
    /// 80/20 train/test, 10% of training for validation, seed 4 (the paper's).
    fn default() -> Self {
        Self {
            test_frac: 0.2,
            valid_frac: 0.1,
            seed: 4,
        }
    }
}

/// Which split rule a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitKind {
    /// [`stratified`] 80/20 with 10% of training held for validation.
    #[default]
    Random,
    /// The authors' split ([`published`]), validation carved from its training part.
    Published,
    /// [`grouped`] by source transcript: no transcript in both test and training.
    Grouped,
    /// [`by_sequence`]: a sequence's part is the same in every set.
    Sequence,
}

impl std::str::FromStr for SplitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "random" => Ok(Self::Random),
            "published" => Ok(Self::Published),
            "grouped" => Ok(Self::Grouped),
            "sequence" => Ok(Self::Sequence),
            _ => Err(format!(
                "unknown split {s:?}: use random, published, grouped or sequence"
            )),
        }
    }
}

impl std::fmt::Display for SplitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Random => "random",
            Self::Published => "published",
            Self::Grouped => "grouped",
            Self::Sequence => "sequence",
        })
    }
}

/// The split `ds` gets under `kind` with `seed`. Linear sets always keep
/// their official test file (validation comes from their official training
/// file); circular sets follow `kind`.
///
/// ```no_run
/// use circssnn::data::{default_root, split, Registry};
/// let ds = Registry::scan(&default_root())?.get("TIAL1")?.load(Default::default())?;
/// let sp = split::split_dataset(&ds, split::SplitKind::Published, 4);
/// assert_eq!(sp.train.len() + sp.valid.len(), 8730);
/// # Ok::<(), circssnn::DataError>(())
/// ```
pub fn split_dataset(ds: &Dataset, kind: SplitKind, seed: u64) -> Split {
    let cfg = SplitConfig {
        seed,
        ..Default::default()
    };
    match (ds.kind, ds.test_start) {
        (SetKind::Linear, Some(t)) => {
            let train: Vec<usize> = (0..t).collect();
            with_fixed_test(
                &ds.labels,
                &train,
                (t..ds.len()).collect(),
                cfg.valid_frac,
                seed,
            )
        }
        _ => match kind {
            SplitKind::Random => stratified(&ds.labels, &cfg),
            SplitKind::Published => published(&ds.labels, cfg.valid_frac, seed),
            SplitKind::Grouped => {
                let ids: Vec<&str> = ds.records.iter().map(|r| r.id.as_str()).collect();
                grouped(&ids, &ds.labels, &cfg)
            }
            SplitKind::Sequence => {
                let seqs: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();
                by_sequence(&seqs, &cfg)
            }
        },
    }
}

/// Seeded split that keeps each class's proportion in every part.
///
/// ```
/// use circssnn::data::split::{stratified, SplitConfig};
/// let labels = [1u8, 1, 1, 1, 1, 0, 0, 0, 0, 0];
/// let s = stratified(&labels, &SplitConfig { test_frac: 0.2, valid_frac: 0.25, seed: 1 });
/// assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (6, 2, 2));
/// ```
pub fn stratified(labels: &[u8], cfg: &SplitConfig) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut split = Split {
        train: Vec::new(),
        valid: Vec::new(),
        test: Vec::new(),
    };
    for class in [1u8, 0u8] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        idx.shuffle(&mut rng);
        let n_test = (idx.len() as f64 * cfg.test_frac).round() as usize;
        let n_valid = ((idx.len() - n_test) as f64 * cfg.valid_frac).round() as usize;
        split.test.extend_from_slice(&idx[..n_test]);
        split
            .valid
            .extend_from_slice(&idx[n_test..n_test + n_valid]);
        split.train.extend_from_slice(&idx[n_test + n_valid..]);
    }
    split.train.sort_unstable();
    split.valid.sort_unstable();
    split.test.sort_unstable();
    split
}

/// Seeded split in which a record's part depends on its sequence alone: the
/// first 8 bytes of SHA-256(seed as 8 little-endian bytes, then the
/// sequence), read as a fraction `u` of 2^64, put it in the test part when
/// `u < test_frac`, in validation when `u` is below `test_frac` plus
/// `valid_frac` of the rest, in training otherwise. The same sequence
/// lands in the same part in every set and every run; the parts hold their
/// shares of each class only on average (a 892-window set's test part is
/// 178 +- 12 windows), and every run prints its sizes.
///
/// ```
/// use circssnn::data::split::{by_sequence, SplitConfig};
/// let seqs: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_string().into_bytes()).collect();
/// let refs: Vec<&[u8]> = seqs.iter().map(|s| s.as_slice()).collect();
/// let a = by_sequence(&refs, &SplitConfig::default());
/// // A different set holding the first 10 sequences again, in reverse order.
/// let again: Vec<&[u8]> = refs[..10].iter().rev().copied().collect();
/// let b = by_sequence(&again, &SplitConfig::default());
/// for (j, i) in (0..10).rev().enumerate() {
///     assert_eq!(a.test.contains(&i), b.test.contains(&j));
/// }
/// assert!((150..250).contains(&a.test.len()));
/// ```
pub fn by_sequence(seqs: &[&[u8]], cfg: &SplitConfig) -> Split {
    use sha2::{Digest, Sha256};
    let valid_below = cfg.test_frac + (1.0 - cfg.test_frac) * cfg.valid_frac;
    let mut split = Split {
        train: Vec::new(),
        valid: Vec::new(),
        test: Vec::new(),
    };
    for (i, seq) in seqs.iter().enumerate() {
        let digest = Sha256::new()
            .chain_update(cfg.seed.to_le_bytes())
            .chain_update(seq)
            .finalize();
        let word = u64::from_le_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"));
        let u = word as f64 / 2f64.powi(64);
        if u < cfg.test_frac {
            split.test.push(i);
        } else if u < valid_below {
            split.valid.push(i);
        } else {
            split.train.push(i);
        }
    }
    split
}

/// Seeded split in which no group (source transcript) has records in both
/// the test part and the training/validation parts, the test part holding
/// close to its share of each class.
///
/// Groups are visited in a seeded random order; a group joins the test part
/// when that brings both classes' test counts closer to their targets. With
/// few large groups (the negatives of FOX2 come from 4 transcripts) the test
/// part can miss its target; the sizes are in every run's output. The
/// validation part is a stratified draw from the training groups.
///
/// ```
/// use circssnn::data::split::{grouped, SplitConfig};
/// let ids = ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e"];
/// let labels = [1u8, 0, 1, 0, 1, 0, 1, 0, 1, 0];
/// let s = grouped(&ids, &labels, &SplitConfig { test_frac: 0.2, valid_frac: 0.25, seed: 1 });
/// assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (6, 2, 2));
/// ```
pub fn grouped(groups: &[&str], labels: &[u8], cfg: &SplitConfig) -> Split {
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        members.entry(g).or_default().push(i);
    }
    let mut order: Vec<Vec<usize>> = members.into_values().collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed));
    let count = |idx: &[usize]| {
        let pos = idx.iter().filter(|&&i| labels[i] == 1).count();
        [pos, idx.len() - pos]
    };
    let total = count(&(0..labels.len()).collect::<Vec<_>>());
    let (test, rest) = take_groups(order, &count, total.map(|n| n as f64 * cfg.test_frac));
    let test: Vec<usize> = test.into_iter().flatten().collect();
    let rest: Vec<usize> = {
        let mut v: Vec<usize> = rest.into_iter().flatten().collect();
        v.sort_unstable();
        v
    };
    // Validation is stratified within the training groups: it only picks
    // the epoch, and with negatives from 4-30 transcripts per set a grouped
    // validation part would often hold no negative at all.
    with_fixed_test(labels, &rest, test, cfg.valid_frac, cfg.seed)
}

/// Greedily take groups (in order) while each brings the per-class counts
/// closer to `target`; returns (taken, left).
fn take_groups(
    groups: Vec<Vec<usize>>,
    count: &dyn Fn(&[usize]) -> [usize; 2],
    target: [f64; 2],
) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let miss = |c: [f64; 2]| {
        (0..2)
            .map(|k| (c[k] - target[k]).abs() / target[k].max(1.0))
            .sum::<f64>()
    };
    let mut have = [0.0, 0.0];
    let (mut taken, mut left) = (Vec::new(), Vec::new());
    for g in groups {
        let c = count(&g);
        let with = [have[0] + c[0] as f64, have[1] + c[1] as f64];
        if miss(with) < miss(have) {
            have = with;
            taken.push(g);
        } else {
            left.push(g);
        }
    }
    (taken, left)
}

/// About `max` records of `split` (to rounding), each part and class cut in proportion
/// (seeded). Subsampling *within* the parts keeps every test record a test
/// record of the full split, so descriptors trained on that split's
/// training-only corpus stay clean.
///
/// ```
/// use circssnn::data::split::{stratified, subsample};
/// let labels = vec![1u8; 50].into_iter().chain(vec![0u8; 50]).collect::<Vec<_>>();
/// let full = stratified(&labels, &Default::default());
/// let small = subsample(&full, &labels, 20, 1);
/// assert_eq!(small.train.len() + small.valid.len() + small.test.len(), 20);
/// assert!(small.test.iter().all(|i| full.test.contains(i)));
/// ```
pub fn subsample(split: &Split, labels: &[u8], max: usize, seed: u64) -> Split {
    let n = split.train.len() + split.valid.len() + split.test.len();
    if n <= max {
        return split.clone();
    }
    let frac = max as f64 / n as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cut = |part: &[usize]| {
        let mut out = Vec::new();
        for class in [1u8, 0u8] {
            let mut idx: Vec<usize> = part
                .iter()
                .copied()
                .filter(|&i| labels[i] == class)
                .collect();
            idx.shuffle(&mut rng);
            idx.truncate((idx.len() as f64 * frac).round() as usize);
            out.extend(idx);
        }
        out.sort_unstable();
        out
    };
    Split {
        train: cut(&split.train),
        valid: cut(&split.valid),
        test: cut(&split.test),
    }
}

/// Keep a given test part (e.g. the official linear-RNA test file) and carve
/// a stratified validation part out of the rest.
pub fn with_fixed_test(
    labels: &[u8],
    train: &[usize],
    test: Vec<usize>,
    valid_frac: f64,
    seed: u64,
) -> Split {
    let sub_labels: Vec<u8> = train.iter().map(|&i| labels[i]).collect();
    let inner = stratified(
        &sub_labels,
        &SplitConfig {
            test_frac: 0.0,
            valid_frac,
            seed,
        },
    );
    let mut test = test;
    test.sort_unstable();
    Split {
        train: inner.train.iter().map(|&j| train[j]).collect(),
        valid: inner.valid.iter().map(|&j| train[j]).collect(),
        test,
    }
}

/// The authors' split of `labels.len()` records, with `valid_frac` of its
/// training part held out (seeded by `seed`) for validation.
pub fn published(labels: &[u8], valid_frac: f64, seed: u64) -> Split {
    let n = labels.len();
    let perm = numpy_legacy_permutation(4, n);
    let n_train = python_round(n as f64 / 10.0 * 8.0);
    with_fixed_test(
        labels,
        &perm[..n_train],
        perm[n_train..].to_vec(),
        valid_frac,
        seed,
    )
}

/// `np.random.seed(seed); np.random.choice(n, n, replace=False)` — which in
/// NumPy's legacy `RandomState` is `permutation(n)`: a Fisher–Yates shuffle
/// from the end, drawing `j` in `[0, i]` by masked rejection sampling on
/// 32-bit MT19937 outputs (`random_interval` in NumPy's C sources).
pub fn numpy_legacy_permutation(seed: u32, n: usize) -> Vec<usize> {
    let mut mt = Mt::new(seed);
    let mut out: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let max = i as u64;
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16, 32] {
            mask |= mask >> shift;
        }
        // Splits of more than 2^32 records would need NumPy's 64-bit path;
        // no benchmark set comes near.
        assert!(
            max <= u32::MAX as u64,
            "published split supports < 2^32 records"
        );
        let j = loop {
            let v = mt.next_u32() as u64 & mask;
            if v <= max {
                break v as usize;
            }
        };
        out.swap(i, j);
    }
    out
}

/// Python 3's `round()` of a non-negative float: halves go to the even integer.
fn python_round(x: f64) -> usize {
    x.round_ties_even() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_round_is_bankers() {
        assert_eq!(python_round(2.5), 2);
        assert_eq!(python_round(3.5), 4);
        assert_eq!(python_round(713.6), 714);
    }
}
