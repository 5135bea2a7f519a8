//! Evaluation protocols: which split, which negatives, how many windows.
//!
//! The standard protocol is the benchmark as published (the set's own
//! negatives) under a seeded split. Two stricter ones close the shortcuts
//! the benchmark leaves open (see [`super::stats`]):
//!
//! * `--split grouped` ([`super::split::grouped`]): no source transcript in
//!   both the test part and training;
//! * `--negatives shuffled` ([`Negatives::Shuffled`]): every negative is
//!   replaced by a dinucleotide shuffle of a positive
//!   ([`super::shuffle`]), so neither transcript identity nor composition
//!   separates the classes.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::fasta::Record;
use super::registry::Dataset;
use super::shuffle::dinucleotide_shuffle;
use super::split::{split_dataset, subsample, SplitKind};
use super::Split;

/// Where a set's negatives come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Negatives {
    /// The set's own negative windows (the published benchmark).
    #[default]
    Pool,
    /// One dinucleotide shuffle of each positive, in the positive's part.
    Shuffled,
}

impl std::str::FromStr for Negatives {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "pool" => Ok(Self::Pool),
            "shuffled" => Ok(Self::Shuffled),
            _ => Err(format!("unknown negatives {s:?}: use pool or shuffled")),
        }
    }
}

impl std::fmt::Display for Negatives {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pool => "pool",
            Self::Shuffled => "shuffled",
        })
    }
}

/// Everything that decides which windows a run trains, selects and tests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    /// Split rule.
    pub split: SplitKind,
    /// Seed of the split, the subsample and the shuffles.
    pub split_seed: u64,
    /// Which negatives.
    pub negatives: Negatives,
    /// Keep about this many windows (each part and class in proportion).
    pub max_per_set: Option<usize>,
}

impl Default for Protocol {
    /// Random split, seed 4, the set's own negatives, every window.
    fn default() -> Self {
        Self {
            split: SplitKind::Random,
            split_seed: 4,
            negatives: Negatives::Pool,
            max_per_set: None,
        }
    }
}

impl Protocol {
    /// A short tag naming the windows this protocol produces for a set, for
    /// cache files and run folders: empty for the standard protocol on the
    /// whole set.
    pub fn tag(&self) -> String {
        let mut t = String::new();
        if self.negatives == Negatives::Shuffled {
            t.push_str(&format!("-shuf{}", self.split_seed));
        }
        if let Some(n) = self.max_per_set {
            t.push_str(&format!("-n{n}s{}", self.split_seed));
        }
        t
    }

    /// The windows and split of `ds` under this protocol.
    ///
    /// The split is always made on the real set first (so a test window is a
    /// test window of the full split, which the learned descriptors' corpus
    /// excludes); then it is subsampled, then negatives are swapped for
    /// shuffles. Records not used are dropped, so the returned set holds
    /// only the windows of its split.
    ///
    /// ```no_run
    /// use circssnn::data::protocol::{Negatives, Protocol};
    /// use circssnn::data::{default_root, Registry};
    /// let ds = Registry::scan(&default_root())?.get("QKI")?.load(Default::default())?;
    /// let strict = Protocol { negatives: Negatives::Shuffled, max_per_set: Some(1000), ..Default::default() };
    /// let (small, split) = strict.apply(&ds);
    /// assert!(small.len() <= 1002 && split.test.len() > 150);
    /// # Ok::<(), circssnn::DataError>(())
    /// ```
    pub fn apply(&self, ds: &Dataset) -> (Dataset, Split) {
        let mut split = split_dataset(ds, self.split, self.split_seed);
        if let Some(max) = self.max_per_set {
            split = subsample(&split, &ds.labels, max, self.split_seed);
        }
        let (ds, split) = keep(ds, &split);
        match self.negatives {
            Negatives::Pool => (ds, split),
            Negatives::Shuffled => shuffled_negatives(&ds, &split, self.split_seed),
        }
    }
}

/// The records of `split` only, re-indexed (order kept).
fn keep(ds: &Dataset, split: &Split) -> (Dataset, Split) {
    let mut used: Vec<usize> = split
        .train
        .iter()
        .chain(&split.valid)
        .chain(&split.test)
        .copied()
        .collect();
    used.sort_unstable();
    let mut new_index = vec![usize::MAX; ds.len()];
    for (k, &i) in used.iter().enumerate() {
        new_index[i] = k;
    }
    let map = |part: &[usize]| part.iter().map(|&i| new_index[i]).collect::<Vec<_>>();
    let test_start = ds
        .test_start
        .map(|t| used.iter().position(|&i| i >= t).unwrap_or(used.len()));
    (
        Dataset {
            name: ds.name.clone(),
            kind: ds.kind,
            records: used.iter().map(|&i| ds.records[i].clone()).collect(),
            labels: used.iter().map(|&i| ds.labels[i]).collect(),
            test_start,
        },
        Split {
            train: map(&split.train),
            valid: map(&split.valid),
            test: map(&split.test),
        },
    )
}

/// Positives of `ds`, then one shuffle of each, the shuffle in the same part
/// as its positive.
fn shuffled_negatives(ds: &Dataset, split: &Split, seed: u64) -> (Dataset, Split) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pos: Vec<usize> = (0..ds.len()).filter(|&i| ds.labels[i] == 1).collect();
    let mut records: Vec<Record> = pos.iter().map(|&i| ds.records[i].clone()).collect();
    for &i in &pos {
        let r = &ds.records[i];
        records.push(Record {
            id: format!("{}_shuffled", r.id),
            header: format!("{} dinucleotide shuffle", r.header),
            seq: dinucleotide_shuffle(&r.seq, &mut rng),
        });
    }
    let n = pos.len();
    let mut new_index = vec![usize::MAX; ds.len()];
    for (k, &i) in pos.iter().enumerate() {
        new_index[i] = k;
    }
    let part = |p: &[usize]| {
        let mut v: Vec<usize> = p
            .iter()
            .filter(|&&i| ds.labels[i] == 1)
            .flat_map(|&i| [new_index[i], new_index[i] + n])
            .collect();
        v.sort_unstable();
        v
    };
    let mut labels = vec![1u8; n];
    labels.extend(std::iter::repeat_n(0u8, n));
    (
        Dataset {
            name: ds.name.clone(),
            kind: ds.kind,
            records,
            labels,
            // Parts are explicit in the split; the official boundary of a
            // linear set no longer describes this record order.
            test_start: None,
        },
        Split {
            train: part(&split.train),
            valid: part(&split.valid),
            test: part(&split.test),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SetKind;

    fn toy() -> Dataset {
        let mut records = Vec::new();
        let mut labels = Vec::new();
        for i in 0..40u8 {
            let seq: Vec<u8> = (0..101)
                .map(|j| b"ACGU"[(i as usize * 7 + j * (i as usize % 3 + 1)) % 4])
                .collect();
            records.push(Record {
                id: format!("t{}", i % 8),
                header: format!("t{} {i}", i % 8),
                seq,
            });
            labels.push(u8::from(i < 20));
        }
        Dataset {
            name: "toy".into(),
            kind: SetKind::Circular,
            records,
            labels,
            test_start: None,
        }
    }

    #[test]
    fn shuffled_negatives_follow_their_positive() {
        let ds = toy();
        let p = Protocol {
            negatives: Negatives::Shuffled,
            ..Default::default()
        };
        let (s, split) = p.apply(&ds);
        assert_eq!(s.class_counts(), (20, 20));
        for part in [&split.train, &split.valid, &split.test] {
            let pos = part.iter().filter(|&&i| s.labels[i] == 1).count();
            assert_eq!(pos * 2, part.len());
            for &i in part.iter().filter(|&&i| s.labels[i] == 1) {
                assert!(part.contains(&(i + 20)));
                let (a, b) = (&s.records[i].seq, &s.records[i + 20].seq);
                assert_eq!((a[0], a[100]), (b[0], b[100]));
            }
        }
        // The positives are the standard split's own, part for part.
        let std = split_dataset(&ds, SplitKind::Random, 4);
        let std_test_pos: Vec<usize> = std
            .test
            .iter()
            .copied()
            .filter(|&i| ds.labels[i] == 1)
            .collect();
        let test_pos: Vec<usize> = split.test.iter().copied().filter(|&i| i < 20).collect();
        assert_eq!(test_pos, std_test_pos);
    }

    #[test]
    fn subsample_keeps_test_windows_test_windows() {
        let ds = toy();
        let p = Protocol {
            max_per_set: Some(20),
            ..Default::default()
        };
        let (s, split) = p.apply(&ds);
        assert_eq!(
            s.len(),
            split.train.len() + split.valid.len() + split.test.len()
        );
        let full = split_dataset(&ds, SplitKind::Random, 4);
        let full_test: Vec<&[u8]> = full
            .test
            .iter()
            .map(|&i| ds.records[i].seq.as_slice())
            .collect();
        for &i in &split.test {
            assert!(full_test.contains(&s.records[i].seq.as_slice()));
        }
        assert_eq!(p.tag(), "-n20s4");
        assert_eq!(Protocol::default().tag(), "");
    }

    #[test]
    fn grouped_split_keeps_transcripts_apart() {
        let ds = toy();
        let p = Protocol {
            split: SplitKind::Grouped,
            ..Default::default()
        };
        let (s, split) = p.apply(&ds);
        let ids = |part: &[usize]| {
            part.iter()
                .map(|&i| s.records[i].id.clone())
                .collect::<std::collections::BTreeSet<_>>()
        };
        let (tr, va, te) = (ids(&split.train), ids(&split.valid), ids(&split.test));
        assert!(tr.is_disjoint(&te) && va.is_disjoint(&te));
        assert!(!split.test.is_empty() && !split.train.is_empty());
    }
}
