//! Which of the three descriptor views a network reads.

use serde::{Deserialize, Serialize};

/// Which of the three descriptor views feed the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

impl std::fmt::Display for ViewSet {
    /// `knfp,vec,bert` (the views in use).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names())
    }
}

impl std::str::FromStr for ViewSet {
    type Err = String;
    /// Parse `knfp,vec,bert` (any non-empty subset, any order, each once).
    ///
    /// ```
    /// use circssnn::features::ViewSet;
    /// assert_eq!("bert, knfp".parse::<ViewSet>().unwrap().names(), "knfp,bert");
    /// assert!("knfp,knfp".parse::<ViewSet>().is_err());
    /// assert!("".parse::<ViewSet>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, String> {
        let mut v = Self {
            knfp: false,
            vec: false,
            bert: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let slot = match part.to_ascii_lowercase().as_str() {
                "knfp" => &mut v.knfp,
                "vec" | "circrna2vec" => &mut v.vec,
                "bert" => &mut v.bert,
                other => return Err(format!("unknown view {other:?}: use knfp, vec, bert")),
            };
            if std::mem::replace(slot, true) {
                return Err(format!("view {part:?} is named twice in {s:?}"));
            }
        }
        if !(v.knfp || v.vec || v.bert) {
            return Err("at least one view is needed".into());
        }
        Ok(v)
    }
}
