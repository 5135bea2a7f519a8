//! Runtime settings of the network: which descriptor views it reads, where
//! the LayerNorm sits, and dropout rates.

use serde::{Deserialize, Serialize};

/// Where LayerNorm sits in each residual sub-layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// `x + F(LN(x))` — the paper's choice (Eq. 8): the identity path
    /// carries the gradient to every layer unchanged (Eq. 7).
    #[default]
    Pre,
    /// `LN(x + F(x))` — the original Transformer, the paper's ablation
    /// (Eq. 5): the gradient passes through every LN on its way down (Eq. 6).
    Post,
}

impl std::str::FromStr for Norm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "pre" => Ok(Self::Pre),
            "post" => Ok(Self::Post),
            _ => Err(format!("unknown norm {s:?}: use pre or post")),
        }
    }
}

/// Which of the three descriptor views feed the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewSet {
    /// KNFP (101 x 84).
    pub knfp: bool,
    /// circRNA2Vec (101 x 30).
    pub vec: bool,
    /// k-mer BERT (101 x D).
    pub bert: bool,
}

impl ViewSet {
    /// KNFP only: the view that needs no trained descriptor model.
    pub const KNFP: Self = Self {
        knfp: true,
        vec: false,
        bert: false,
    };
    /// All three views, as in the paper.
    pub const ALL: Self = Self {
        knfp: true,
        vec: true,
        bert: true,
    };

    /// Names of the views in use, comma-separated (`knfp,vec,bert`).
    pub fn names(&self) -> String {
        [(self.knfp, "knfp"), (self.vec, "vec"), (self.bert, "bert")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl std::str::FromStr for ViewSet {
    type Err = String;
    /// Parse `knfp,vec,bert` (any non-empty subset, any order).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut v = Self {
            knfp: false,
            vec: false,
            bert: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "knfp" => v.knfp = true,
                "vec" | "circrna2vec" => v.vec = true,
                "bert" => v.bert = true,
                other => return Err(format!("unknown view {other:?}: use knfp, vec, bert")),
            }
        }
        if !(v.knfp || v.vec || v.bert) {
            return Err("at least one view is needed".into());
        }
        Ok(v)
    }
}

/// Everything about the network that is not a learned parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Views read.
    pub views: ViewSet,
    /// Pre- or post-norm residuals.
    pub norm: Norm,
    /// Dropout inside attention and feed-forward sub-layers.
    pub dropout: f64,
    /// Dropout in the classification head.
    pub head_dropout: f64,
}

impl Default for ModelConfig {
    /// KNFP only, pre-norm, the published dropout rates (0.1 and 0.35).
    fn default() -> Self {
        Self {
            views: ViewSet::KNFP,
            norm: Norm::Pre,
            dropout: 0.1,
            head_dropout: 0.35,
        }
    }
}
