//! The learned descriptor models a network reads: where they live, which
//! weights they hold (by hash, so a retrained model is never mistaken for
//! the one a network was trained with), and whether their training corpus
//! kept out the test windows of the run's split.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::bert::SMALL_WIDTH as BERT_SMALL;
use super::bert::{self, BertDescriptor};
use super::corpus::CorpusInfo;
use super::{CachedDescriptor, Circ2Vec, EmbedError, ViewSet};
use crate::data::split::SplitKind;
use crate::nn::Elem;

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

/// Default folder of the circRNA2Vec model (`circssnn embed train-vec`).
pub const DEFAULT_VEC_MODEL: &str = "models/circ2vec";
/// Default folder of the small k-mer BERT (`circssnn embed pretrain-bert`).
pub const DEFAULT_BERT_MODEL: &str = "models/bert-small";
/// Default folder of the BERT descriptor cache.
pub const DEFAULT_CACHE_DIR: &str = "cache";

/// Where a run finds its learned descriptor models. A folder left `None`
/// is the one a trained network recorded (for scoring) or the default (for
/// training).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescriptorModels {
    /// circRNA2Vec model folder.
    pub vec: Option<PathBuf>,
    /// BERT checkpoint folder: the crate's or a HuggingFace one.
    pub bert: Option<PathBuf>,
    /// Folder of the BERT descriptor cache (one file per set and model).
    pub cache: PathBuf,
}

impl Default for DescriptorModels {
    fn default() -> Self {
        Self {
            vec: None,
            bert: None,
            cache: DEFAULT_CACHE_DIR.into(),
        }
    }
}

impl DescriptorModels {
    /// The vec model folder: the one given, else what `trained` records, else the default.
    pub fn vec_dir(&self, trained: Option<&DescriptorSources>) -> PathBuf {
        self.vec
            .clone()
            .or_else(|| trained.and_then(|s| s.vec.as_ref()).map(|r| r.path.clone()))
            .unwrap_or_else(|| DEFAULT_VEC_MODEL.into())
    }

    /// The BERT folder: the one given, else what `trained` records, else the default.
    pub fn bert_dir(&self, trained: Option<&DescriptorSources>) -> PathBuf {
        self.bert
            .clone()
            .or_else(|| {
                trained
                    .and_then(|s| s.bert.as_ref())
                    .map(|r| r.path.clone())
            })
            .unwrap_or_else(|| DEFAULT_BERT_MODEL.into())
    }

    /// Width of the BERT view for `views`: the configured model's hidden
    /// size, or the small width when the view is unused.
    pub fn bert_width(&self, views: ViewSet) -> Result<usize, EmbedError> {
        if !views.bert {
            return Ok(BERT_SMALL);
        }
        let dir = self.bert_dir(None);
        require(&dir, bert::hf::CONFIG, "circssnn embed pretrain-bert")?;
        Ok(bert::hf::read_config(&dir)?.hidden_size)
    }
}

fn require(dir: &Path, file: &str, command: &str) -> Result<(), EmbedError> {
    if dir.join(file).is_file() {
        return Ok(());
    }
    Err(EmbedError::Invalid(format!(
        "no model in {} (missing {file}): train one with `{command}` or point to one with the --*-model flags",
        dir.display()
    )))
}

/// The learned models a network's views read, loaded and checked.
pub struct Learned<const B: usize, const L: usize, const H: usize, const F: usize, Dev>
where
    Dev: dfdx::prelude::Device<Elem>,
{
    /// circRNA2Vec, when the network reads the vec view.
    pub vec: Option<Circ2Vec>,
    /// The BERT encoder, when it reads the bert view.
    pub bert: Option<BertDescriptor<B, L, H, F, Dev>>,
    /// Which models these are (recorded in checkpoints).
    pub sources: DescriptorSources,
    /// Things the user should know (a model whose corpus is not recorded).
    pub notes: Vec<String>,
}

impl<const B: usize, const L: usize, const H: usize, const F: usize, Dev> Learned<B, L, H, F, Dev>
where
    Dev: dfdx::prelude::Device<Elem>,
{
    /// Load the models `views` needs from `models`. `split` (circRNA
    /// training runs) is checked against each model's corpus; `trained` (a
    /// trained network's record) must name the same weights.
    pub fn load(
        dev: &Dev,
        models: &DescriptorModels,
        views: ViewSet,
        split: Option<(SplitKind, u64)>,
        trained: Option<&DescriptorSources>,
    ) -> Result<Self, EmbedError> {
        let mut sources = DescriptorSources::default();
        let mut notes = Vec::new();
        let mut note = |what: &str, dir: &Path, check: CorpusCheck| {
            if check == CorpusCheck::Unknown {
                notes.push(format!(
                    "{what} model {} does not record its training corpus; make sure it never saw this set's test windows",
                    dir.display()
                ));
            }
        };
        let vec = if views.vec {
            let dir = models.vec_dir(trained);
            require(&dir, "circ2vec.json", "circssnn embed train-vec")?;
            let m = Circ2Vec::load(&dir)?;
            if let Some((kind, seed)) = split {
                note(
                    "circRNA2Vec",
                    &dir,
                    check_corpus("vec", &dir, Some(&m.meta.corpus), kind, seed)?,
                );
            }
            if let Some(r) = trained.and_then(|s| s.vec.as_ref()) {
                r.check(m.hash(), &dir)?;
            }
            sources.vec = Some(ModelRef {
                path: dir,
                hash: m.hash().to_string(),
            });
            Some(m)
        } else {
            None
        };
        let bert = if views.bert {
            let dir = models.bert_dir(trained);
            require(&dir, bert::hf::CONFIG, "circssnn embed pretrain-bert")?;
            let d = BertDescriptor::<B, L, H, F, Dev>::load(dev, &dir)?;
            if let Some((kind, seed)) = split {
                let corpus = bert::load_report(&dir)?.map(|r| r.corpus);
                note(
                    "BERT",
                    &dir,
                    check_corpus("bert", &dir, corpus.as_ref(), kind, seed)?,
                );
            }
            if let Some(r) = trained.and_then(|s| s.bert.as_ref()) {
                r.check(&d.hash, &dir)?;
            }
            sources.bert = Some(ModelRef {
                path: dir,
                hash: d.hash.clone(),
            });
            Some(d)
        } else {
            None
        };
        Ok(Learned {
            vec,
            bert,
            sources,
            notes,
        })
    }

    /// The BERT view of `windows` through the cache file of `key` (a set
    /// and protocol: computed once per key and model, then read back).
    /// `None` when the network does not read the BERT view.
    pub fn cached_bert(
        &self,
        models: &DescriptorModels,
        key: &str,
        windows: &[&[u8]],
        progress: bool,
    ) -> Result<Option<CachedDescriptor<'_, B>>, EmbedError> {
        let Some(b) = &self.bert else { return Ok(None) };
        let path = models.cache.join(format!(
            "{}.bert-{}.safetensors",
            key.to_ascii_lowercase(),
            &b.hash[..16]
        ));
        let c = CachedDescriptor::build(b, &b.hash, windows, &path, progress)?;
        if progress && c.hit {
            eprintln!("BERT view of {key}: read from {}", path.display());
        }
        Ok(Some(c))
    }
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
