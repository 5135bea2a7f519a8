//! Runtime settings of the network: which descriptor views it reads, where
//! the LayerNorm sits, and dropout rates.

use serde::{Deserialize, Serialize};

pub use crate::features::ViewSet;

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

impl std::fmt::Display for Norm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pre => "pre",
            Self::Post => "post",
        })
    }
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
