//! The learned descriptor models a network reads: where they live, which
//! weights they hold (by hash, so a retrained model is never mistaken for
//! the one a network was trained with), and whether their training corpus
//! kept out the test windows of the run's split.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::corpus::CorpusInfo;
use super::EmbedError;
use crate::data::split::SplitKind;

/// A learned descriptor model on disk, named by the hash of its weights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    /// Folder it was loaded from.
    pub path: PathBuf,
    /// SHA-256 of its weights (and vocabulary).
    pub hash: String,
}

impl ModelRef {
    /// Refuse a model at the same or another path whose weights are not the
    /// ones this reference names.
    pub fn check(&self, loaded_hash: &str, path: &Path) -> Result<(), EmbedError> {
        if self.hash == loaded_hash {
            return Ok(());
        }
        Err(EmbedError::Invalid(format!(
            "{} is not the descriptor model this network was trained with (hash {}…, expected {}… from {}); \
             point to the original with --vec-model / --bert-model",
            path.display(),
            &loaded_hash[..12.min(loaded_hash.len())],
            &self.hash[..12.min(self.hash.len())],
            self.path.display()
        )))
    }
}

/// The learned models behind a network's `vec` and `bert` views; stored in
/// checkpoints so evaluation and prediction read exactly the same features.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescriptorSources {
    /// circRNA2Vec model.
    pub vec: Option<ModelRef>,
    /// k-mer BERT checkpoint.
    pub bert: Option<ModelRef>,
}

/// What is known of a learned model's corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusCheck {
    /// Trained by this crate on a corpus without the run's test windows.
    Clean,
    /// Not recorded (a user's own checkpoint): nothing can be verified.
    Unknown,
}

/// Refuse a learned descriptor whose training corpus may hold the test
/// windows of the split a run uses on a circRNA set.
///
/// The corpus of [`super::corpus::training_corpus`] leaves out every test
/// window of one split rule and seed; an embedding built for another split
/// has seen this run's test windows (unsupervised, but still a leak), so
/// the run is stopped with the command that builds a matching one.
///
/// ```
/// use circssnn::data::split::SplitKind;
/// use circssnn::features::learned::{check_corpus, CorpusCheck};
/// assert_eq!(check_corpus("vec", "m".as_ref(), None, SplitKind::Random, 4).unwrap(), CorpusCheck::Unknown);
/// ```
pub fn check_corpus(
    what: &str,
    path: &Path,
    corpus: Option<&CorpusInfo>,
    split: SplitKind,
    split_seed: u64,
) -> Result<CorpusCheck, EmbedError> {
    let Some(c) = corpus else {
        return Ok(CorpusCheck::Unknown);
    };
    if (c.split, c.split_seed) == (split, split_seed) {
        return Ok(CorpusCheck::Clean);
    }
    Err(EmbedError::Invalid(format!(
        "the {what} model in {} was trained on a corpus cut for the {} split with seed {}, \
         which may hold test windows of this run's {split} split with seed {split_seed}; \
         train one for this split (circssnn embed ... --split {split} --split-seed {split_seed} --out DIR) \
         and pass it with --{what}-model DIR",
        path.display(),
        c.split,
        c.split_seed,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(split: SplitKind, split_seed: u64) -> CorpusInfo {
        CorpusInfo {
            split,
            split_seed,
            sets: 37,
            windows: 10,
            excluded_as_test: 0,
            max_windows: None,
            sha256: String::new(),
        }
    }

    #[test]
    fn corpus_of_another_split_is_refused_with_the_fix() {
        let p = Path::new("models/circ2vec");
        let same = info(SplitKind::Random, 4);
        assert_eq!(
            check_corpus("vec", p, Some(&same), SplitKind::Random, 4).unwrap(),
            CorpusCheck::Clean
        );
        let err = check_corpus("vec", p, Some(&same), SplitKind::Random, 5)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("seed 4") && err.contains("--split-seed 5") && err.contains("--vec-model"),
            "{err}"
        );
        assert!(check_corpus("bert", p, Some(&same), SplitKind::Published, 4).is_err());
    }

    #[test]
    fn a_model_with_other_weights_is_refused() {
        let r = ModelRef {
            path: "a".into(),
            hash: "0123456789abcdef".into(),
        };
        assert!(r.check("0123456789abcdef", Path::new("a")).is_ok());
        let err = r
            .check("fedcba9876543210", Path::new("b"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fedcba987654") && err.contains("0123456789ab"),
            "{err}"
        );
    }
}
