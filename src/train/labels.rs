//! The typed labels of a results row: which suite and experiment a run
//! belongs to, and which method produced it. Each is written to CSV as the
//! short lower-case word it always was (`circ37`, `main`, `knfp,vec,bert`,
//! `baseline`), so results files read and write as before.

use serde::{Deserialize, Serialize};

use crate::data::SetKind;
use crate::features::ViewSet;

/// Which benchmark sets a reproduction covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// The 37 circRNA sets (Table 1, Fig. 5–8).
    Circ37,
    /// Every linear-RNA set found under the data root (Table 2, Fig. 9–10).
    Lin31,
}

impl Suite {
    /// Its name in results and folders.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Circ37 => "circ37",
            Suite::Lin31 => "lin31",
        }
    }

    /// The kind of set it holds.
    pub fn kind(self) -> SetKind {
        match self {
            Suite::Circ37 => SetKind::Circular,
            Suite::Lin31 => SetKind::Linear,
        }
    }
}

/// One experiment of the paper (or beyond it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Experiment {
    /// All three views, pre-norm, seed 4: Table 1 / Table 2, Fig. 5, 9, 10.
    Main,
    /// Post-norm beside the main run: Fig. 7.
    Norm,
    /// Each view alone beside the fusion: Fig. 8.
    Ablation,
    /// Ten training seeds on TIAL1: Fig. 6.
    Stability,
    /// Stricter protocols: split grouped by transcript; shuffled negatives.
    Strict,
    /// A model of the zoo (one per set, full data; not a paper experiment).
    Zoo,
}

impl Experiment {
    /// The reproduction's experiments, in report order.
    pub const ALL: [Experiment; 5] = [
        Experiment::Main,
        Experiment::Norm,
        Experiment::Ablation,
        Experiment::Stability,
        Experiment::Strict,
    ];

    /// Its name in results.
    pub fn name(self) -> &'static str {
        match self {
            Experiment::Main => "main",
            Experiment::Norm => "norm",
            Experiment::Ablation => "ablation",
            Experiment::Stability => "stability",
            Experiment::Strict => "strict",
            Experiment::Zoo => "zoo",
        }
    }
}

impl std::str::FromStr for Experiment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Experiment::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| {
                format!("unknown experiment {s:?}: use main, norm, ablation, stability, strict")
            })
    }
}

impl std::fmt::Display for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Suite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "circ37" => Ok(Self::Circ37),
            "lin31" => Ok(Self::Lin31),
            _ => Err(format!("unknown suite {s:?}: use circ37 or lin31")),
        }
    }
}

impl std::fmt::Display for Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What produced a results row: the network with some views, or the 1–3-mer
/// logistic-regression baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Method {
    /// CircSSNN reading these descriptor views.
    Network(ViewSet),
    /// Logistic regression on 1–3-mer counts.
    Baseline,
}

impl Method {
    /// CircSSNN with KNFP only.
    pub const KNFP: Self = Self::Network(ViewSet::KNFP);
    /// CircSSNN with all three views.
    pub const FUSION: Self = Self::Network(ViewSet::ALL);
}

impl std::fmt::Display for Method {
    /// `knfp,vec,bert` for a network, `baseline` for the baseline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Network(v) => write!(f, "{v}"),
            Self::Baseline => f.write_str("baseline"),
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "baseline" {
            Ok(Self::Baseline)
        } else {
            s.parse().map(Self::Network)
        }
    }
}

impl From<Method> for String {
    fn from(m: Method) -> String {
        m.to_string()
    }
}

impl TryFrom<String> for Method {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}
