//! The two BERT sizes the crate builds, named once.
//!
//! Each size is a type ([`Small`], [`Paper`]) whose associated constants are
//! its four dimensions, so a network type reads `Bert<{ Small::WIDTH },
//! { Small::LAYERS }, ...>` (or its alias [`SmallBert`](super::SmallBert))
//! and the numbers live here only. Stable Rust cannot pass a type's
//! constant on as a const-generic argument inside a function generic over
//! that type, so code that picks a size at run time (from a flag or a
//! checkpoint's width) goes through [`BertProfile`] and the crate's
//! `with_bert_shape!` dispatch, which read the same constants.

use serde::{Deserialize, Serialize};

/// The CPU profile: 128 wide, 4 layers, 4 heads, feed-forward 512;
/// pretrains on 2 CPU cores (3,000 steps of 32 windows).
#[derive(Debug, Clone, Copy)]
pub struct Small;

impl Small {
    /// Hidden width (the BERT view's width).
    pub const WIDTH: usize = 128;
    /// Encoder layers.
    pub const LAYERS: usize = 4;
    /// Attention heads.
    pub const HEADS: usize = 4;
    /// Feed-forward width.
    pub const FF: usize = 512;
}

/// DNABERT-3's shape: 768 wide, 12 layers, 12 heads, feed-forward 3072; a
/// GPU job.
#[derive(Debug, Clone, Copy)]
pub struct Paper;

impl Paper {
    /// Hidden width (the BERT view's width).
    pub const WIDTH: usize = 768;
    /// Encoder layers.
    pub const LAYERS: usize = 12;
    /// Attention heads.
    pub const HEADS: usize = 12;
    /// Feed-forward width.
    pub const FF: usize = 3072;
}

/// A BERT size chosen at run time: [`Small`] or [`Paper`] (the variants'
/// own docs are the `--profile` help text, so they carry no links).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum BertProfile {
    /// 128 wide, 4 layers, 4 heads, feed-forward 512: pretrains on 2 CPU cores.
    #[default]
    Small,
    /// DNABERT-3's shape, 768 wide, 12 layers, 12 heads, feed-forward 3072: a GPU job.
    Paper,
}

impl BertProfile {
    /// Width, layers, heads, feed-forward width.
    pub fn dims(self) -> [usize; 4] {
        match self {
            BertProfile::Small => [Small::WIDTH, Small::LAYERS, Small::HEADS, Small::FF],
            BertProfile::Paper => [Paper::WIDTH, Paper::LAYERS, Paper::HEADS, Paper::FF],
        }
    }

    /// Hidden width.
    pub fn width(self) -> usize {
        self.dims()[0]
    }

    /// The profile of hidden width `width` (what a checkpoint records), if
    /// the crate builds one.
    pub fn of_width(width: usize) -> Option<Self> {
        [BertProfile::Small, BertProfile::Paper]
            .into_iter()
            .find(|p| p.width() == width)
    }

    /// Its name in flags and folders.
    pub fn name(self) -> &'static str {
        match self {
            BertProfile::Small => "small",
            BertProfile::Paper => "paper",
        }
    }

    /// Where `embed pretrain-bert` writes it by default.
    pub fn default_dir(self) -> &'static str {
        match self {
            BertProfile::Small => crate::features::learned::DEFAULT_BERT_MODEL,
            BertProfile::Paper => "models/bert-paper",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_name_their_profiles_and_nothing_else() {
        for p in [BertProfile::Small, BertProfile::Paper] {
            assert_eq!(BertProfile::of_width(p.width()), Some(p));
            let [d, _, h, _] = p.dims();
            assert_eq!(d % h, 0, "{} width splits evenly into heads", p.name());
        }
        assert_eq!(BertProfile::of_width(400), None);
    }
}
