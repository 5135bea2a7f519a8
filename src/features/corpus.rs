//! The pretraining corpus of the learned descriptors: distinct windows from
//! the *training* parts of the 37 circRNA sets, never a test window.
//!
//! The 37 negative files are cut from one shared pool and RBPs share bound
//! regions, so a window can sit in the training part of one set and the test
//! part of another. Such windows are left out altogether: an embedding that
//! has seen a test window could leak it into any set's evaluation.

use std::collections::{BTreeSet, HashSet};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::split::{split_dataset, SplitKind};
use crate::data::{LengthPolicy, Registry, SetKind};
use crate::DataError;

/// Which split the corpus was cut under, and what it holds. Stored with every
/// trained embedding so a training run on another split can be refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusInfo {
    /// Split rule whose test parts were excluded.
    pub split: SplitKind,
    /// Seed of that split.
    pub split_seed: u64,
    /// Sets read.
    pub sets: usize,
    /// Distinct windows kept.
    pub windows: usize,
    /// Distinct training windows dropped because they are in some set's test part.
    pub excluded_as_test: usize,
    /// Cap asked for (`None`: the whole corpus).
    pub max_windows: Option<usize>,
    /// SHA-256 of the kept windows, in order.
    pub sha256: String,
}

/// Distinct training windows, sorted, plus where they came from.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Normalised 101-nt windows (`A C G U N`).
    pub windows: Vec<Vec<u8>>,
    /// Provenance.
    pub info: CorpusInfo,
}

/// Build the corpus from every circRNA set in `reg`, under the split `kind`
/// with `split_seed` (the split `circssnn train` uses with the same flags).
/// `max_windows` keeps a seeded random subset (for CI and quick looks).
///
/// ```no_run
/// use circssnn::data::{default_root, split::SplitKind, Registry};
/// let reg = Registry::scan(&default_root())?;
/// let c = circssnn::features::corpus::training_corpus(&reg, Default::default(), SplitKind::Random, 4, None)?;
/// println!("{} windows", c.windows.len());
/// # Ok::<(), circssnn::DataError>(())
/// ```
pub fn training_corpus(
    reg: &Registry,
    policy: LengthPolicy,
    kind: SplitKind,
    split_seed: u64,
    max_windows: Option<usize>,
) -> Result<Corpus, DataError> {
    let mut train = BTreeSet::new();
    let mut test = HashSet::new();
    let mut sets = 0;
    for entry in reg.of_kind(SetKind::Circular) {
        let ds = entry.load(policy)?;
        let split = split_dataset(&ds, kind, split_seed);
        for &i in split.train.iter().chain(&split.valid) {
            train.insert(ds.records[i].seq.clone());
        }
        for &i in &split.test {
            test.insert(ds.records[i].seq.clone());
        }
        sets += 1;
    }
    if sets == 0 {
        return Err(DataError::NoData {
            root: reg.root.clone(),
        });
    }
    let before = train.len();
    let mut windows: Vec<Vec<u8>> = train.into_iter().filter(|w| !test.contains(w)).collect();
    let excluded_as_test = before - windows.len();
    if let Some(cap) = max_windows.filter(|&c| c < windows.len()) {
        windows.shuffle(&mut ChaCha8Rng::seed_from_u64(split_seed));
        windows.truncate(cap);
        windows.sort();
    }
    let mut h = Sha256::new();
    for w in &windows {
        h.update(w);
    }
    let info = CorpusInfo {
        split: kind,
        split_seed,
        sets,
        windows: windows.len(),
        excluded_as_test,
        max_windows,
        sha256: format!("{:x}", h.finalize()),
    };
    Ok(Corpus { windows, info })
}
