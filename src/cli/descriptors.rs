//! The learned views of `train`, `evaluate` and `predict`: which circRNA2Vec
//! and BERT models to read, checked against the run's split and, for a
//! trained network, against the models it was trained with.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use circssnn::data::split::SplitKind;
use circssnn::features::bert::{self, BertDescriptor};
use circssnn::features::learned::{check_corpus, CorpusCheck, DescriptorSources, ModelRef};
use circssnn::features::{CachedDescriptor, Circ2Vec, Descriptor, Knfp};
use circssnn::model::{Elem, ViewSet, BERT_SMALL};
use circssnn::train::Descriptors;

use super::embed::{DEFAULT_BERT_MODEL, DEFAULT_VEC_MODEL};

/// Run `$body` with consts `$b` (width), `$l` (layers), `$h` (heads), `$f`
/// (feed-forward width) bound to the BERT shape of width `$width`: the small
/// profile (128/4/4/512) or DNABERT-3's (768/12/12/3072). Each is a separate
/// network type, so only these two are built into the CLI.
macro_rules! with_bert_shape {
    ($width:expr, ($b:ident, $l:ident, $h:ident, $f:ident) => $body:expr) => {
        match $width {
            128 => {
                const $b: usize = 128;
                const $l: usize = 4;
                const $h: usize = 4;
                const $f: usize = 512;
                $body
            }
            768 => {
                const $b: usize = 768;
                const $l: usize = 12;
                const $h: usize = 12;
                const $f: usize = 3072;
                $body
            }
            other => anyhow::bail!(
                "a {other}-wide BERT is not built into the CLI: use the small profile (128 wide, 4 layers, 4 heads) \
                 or DNABERT-3's shape (768 wide, 12 layers, 12 heads)"
            ),
        }
    };
}
pub(crate) use with_bert_shape;

/// Where the learned descriptor models are.
#[derive(Debug, Args)]
pub struct LearnedArgs {
    /// circRNA2Vec model folder (from `circssnn embed train-vec`) for the vec view.
    #[arg(long)]
    pub vec_model: Option<PathBuf>,
    /// BERT checkpoint folder for the bert view: the crate's (`circssnn embed
    /// pretrain-bert`) or a HuggingFace one (config.json, vocab.txt, model.safetensors).
    #[arg(long)]
    pub bert_model: Option<PathBuf>,
    /// Folder of the BERT descriptor cache (one file per set and model).
    #[arg(long, env = "CIRCSSNN_CACHE", default_value = "cache")]
    pub cache_dir: PathBuf,
}

impl LearnedArgs {
    /// Folder of the vec model: the flag, else what the network was trained with, else the default.
    fn vec_dir(&self, trained: Option<&DescriptorSources>) -> PathBuf {
        self.vec_model
            .clone()
            .or_else(|| trained.and_then(|s| s.vec.as_ref()).map(|r| r.path.clone()))
            .unwrap_or_else(|| DEFAULT_VEC_MODEL.into())
    }

    fn bert_dir(&self, trained: Option<&DescriptorSources>) -> PathBuf {
        self.bert_model
            .clone()
            .or_else(|| {
                trained
                    .and_then(|s| s.bert.as_ref())
                    .map(|r| r.path.clone())
            })
            .unwrap_or_else(|| DEFAULT_BERT_MODEL.into())
    }

    /// Width of the BERT view for `views` (the small width when it is unused).
    pub fn bert_width(&self, views: ViewSet) -> Result<usize> {
        if !views.bert {
            return Ok(BERT_SMALL);
        }
        let dir = self.bert_dir(None);
        require(&dir, bert::hf::CONFIG, "circssnn embed pretrain-bert")?;
        Ok(bert::hf::read_config(&dir)?.hidden_size)
    }
}

fn require(dir: &Path, file: &str, command: &str) -> Result<()> {
    if !dir.join(file).is_file() {
        bail!(
            "no model in {} (missing {file}): train one with `{command}` or point to one with the --*-model flags",
            dir.display()
        );
    }
    Ok(())
}

fn report(what: &str, dir: &Path, check: CorpusCheck) {
    if check == CorpusCheck::Unknown {
        eprintln!(
            "note: {what} model {} does not record its training corpus; make sure it never saw this set's test windows",
            dir.display()
        );
    }
}

/// The learned models a network's views read.
pub struct Learned<
    const B: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    Dev: dfdx::prelude::Device<Elem>,
> {
    pub vec: Option<Circ2Vec>,
    pub bert: Option<BertDescriptor<B, L, H, F, Dev>>,
    pub sources: DescriptorSources,
}

impl<const B: usize, const L: usize, const H: usize, const F: usize, Dev> Learned<B, L, H, F, Dev>
where
    Dev: dfdx::prelude::Device<Elem> + Send + Sync,
    BertDescriptor<B, L, H, F, Dev>: Descriptor<B>,
{
    /// Load the models `views` needs. `split` (circRNA training runs) is
    /// checked against each model's corpus; `trained` (a trained network's
    /// record) must name the same weights.
    pub fn load(
        dev: &Dev,
        args: &LearnedArgs,
        views: ViewSet,
        split: Option<(SplitKind, u64)>,
        trained: Option<&DescriptorSources>,
    ) -> Result<Self> {
        let mut sources = DescriptorSources::default();
        let vec = if views.vec {
            let dir = args.vec_dir(trained);
            require(&dir, "circ2vec.json", "circssnn embed train-vec")?;
            let m = Circ2Vec::load(&dir)?;
            if let Some((kind, seed)) = split {
                report(
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
            let dir = args.bert_dir(trained);
            require(&dir, bert::hf::CONFIG, "circssnn embed pretrain-bert")?;
            let d = BertDescriptor::<B, L, H, F, Dev>::load(dev, &dir)
                .with_context(|| format!("loading the BERT view from {}", dir.display()))?;
            if let Some((kind, seed)) = split {
                let corpus = bert::load_report(&dir)?.map(|r| r.corpus);
                report(
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
        Ok(Learned { vec, bert, sources })
    }

    /// The BERT view of `windows` through the cache file of `set` (computed
    /// once per set and model, then read back).
    pub fn cached_bert(
        &self,
        args: &LearnedArgs,
        set: &str,
        windows: &[&[u8]],
        progress: bool,
    ) -> Result<Option<CachedDescriptor<'_, B>>> {
        let Some(b) = &self.bert else { return Ok(None) };
        let path = args.cache_dir.join(format!(
            "{}.bert-{}.safetensors",
            set.to_ascii_lowercase(),
            &b.hash[..16]
        ));
        let c = CachedDescriptor::build(b, &b.hash, windows, &path, progress)
            .with_context(|| format!("descriptor cache {}", path.display()))?;
        if c.hit {
            eprintln!("BERT view of {set}: read from {}", path.display());
        }
        Ok(Some(c))
    }

    /// The descriptors of `views`, with the BERT view read through `bert`
    /// (a cache) when given.
    pub fn descriptors<'a>(
        &'a self,
        views: ViewSet,
        bert: Option<&'a dyn Descriptor<B>>,
    ) -> Descriptors<'a, B> {
        static KNFP: Knfp = Knfp;
        Descriptors {
            knfp: views.knfp.then_some(&KNFP as _),
            vec: self.vec.as_ref().map(|v| v as _),
            bert: bert.or(self.bert.as_ref().map(|b| b as _)),
        }
    }
}
