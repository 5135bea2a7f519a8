//! The settings of a k-mer BERT, in HuggingFace's `config.json` spelling so
//! the crate's own checkpoints load in `transformers` and a user's DNABERT
//! checkpoint loads here.

use serde::{Deserialize, Serialize};

/// Activation of the feed-forward layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// Exact GELU, `x Φ(x)` (HF `"gelu"`, DNABERT's). Inference only here:
    /// dfdx 0.13's `accurate_gelu` backward misses a `1/√2` factor, so the
    /// crate never trains through it.
    #[serde(rename = "gelu")]
    Gelu,
    /// Tanh approximation of GELU (HF `"gelu_new"`), what the crate pretrains with.
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluTanh,
    /// ReLU.
    #[serde(rename = "relu")]
    Relu,
}

/// The fields of a HuggingFace `BertConfig` this crate reads or writes.
/// Unknown fields of a user's file are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    /// Always `"bert"`.
    #[serde(default = "bert")]
    pub model_type: String,
    /// Token vocabulary size (69 for 3-mers).
    pub vocab_size: usize,
    /// Width `D`.
    pub hidden_size: usize,
    /// Layers `L`.
    pub num_hidden_layers: usize,
    /// Heads `H`.
    pub num_attention_heads: usize,
    /// Feed-forward width `F`.
    pub intermediate_size: usize,
    /// Rows of the position table (only the first 101 are read).
    pub max_position_embeddings: usize,
    /// Rows of the token-type table (only row 0 is read).
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    /// Feed-forward activation.
    pub hidden_act: Activation,
    /// Dropout on hidden states during pretraining.
    #[serde(default = "drop")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention weights during pretraining.
    #[serde(default = "drop")]
    pub attention_probs_dropout_prob: f64,
    /// The MLM decoder has its own weights (this crate's) or shares the word embeddings.
    #[serde(default = "yes")]
    pub tie_word_embeddings: bool,
    /// Only `"absolute"` (BERT's learned table) is implemented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_embedding_type: Option<String>,
    /// Model classes, for `transformers`.
    #[serde(default)]
    pub architectures: Vec<String>,
}

fn bert() -> String {
    "bert".into()
}
fn two() -> usize {
    2
}
fn eps() -> f64 {
    1e-12
}
fn drop() -> f64 {
    0.1
}
fn yes() -> bool {
    true
}

impl BertConfig {
    /// The crate's configuration for a `D x L` encoder with `H` heads and an
    /// `F`-wide feed-forward layer.
    pub fn new(d: usize, l: usize, h: usize, f: usize) -> Self {
        BertConfig {
            model_type: bert(),
            vocab_size: super::VOCAB,
            hidden_size: d,
            num_hidden_layers: l,
            num_attention_heads: h,
            intermediate_size: f,
            max_position_embeddings: super::SEQ,
            type_vocab_size: 1,
            layer_norm_eps: 1e-12,
            hidden_act: Activation::GeluTanh,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            tie_word_embeddings: false,
            position_embedding_type: None,
            architectures: vec!["BertForMaskedLM".into()],
        }
    }

    /// `(D, L, H, F)`.
    pub fn dims(&self) -> (usize, usize, usize, usize) {
        (
            self.hidden_size,
            self.num_hidden_layers,
            self.num_attention_heads,
            self.intermediate_size,
        )
    }
}
