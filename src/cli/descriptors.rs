//! The flags naming the learned descriptor models (`--vec-model`,
//! `--bert-model`, `--cache-dir`) of `train`, `evaluate` and `predict`.

use std::path::PathBuf;

use clap::Args;

use circssnn::features::learned::{DescriptorModels, DEFAULT_CACHE_DIR};

/// Where the learned descriptor models are.
#[derive(Debug, Args)]
pub struct LearnedArgs {
    /// circRNA2Vec model folder (from `circssnn embed train-vec`) for the vec
    /// view (default: what the network was trained with, else models/circ2vec).
    #[arg(long)]
    pub vec_model: Option<PathBuf>,
    /// BERT checkpoint folder for the bert view: the crate's (`circssnn embed
    /// pretrain-bert`) or a HuggingFace one (config.json, vocab.txt,
    /// model.safetensors); default: what the network was trained with, else
    /// models/bert-small.
    #[arg(long)]
    pub bert_model: Option<PathBuf>,
    /// Folder of the BERT descriptor cache (one file per set and model).
    #[arg(long, env = "CIRCSSNN_CACHE", default_value = DEFAULT_CACHE_DIR)]
    pub cache_dir: PathBuf,
}

impl LearnedArgs {
    pub fn models(&self) -> DescriptorModels {
        DescriptorModels {
            vec: self.vec_model.clone(),
            bert: self.bert_model.clone(),
            cache: self.cache_dir.clone(),
        }
    }
}
