//! Reading the benchmark: FASTA windows, the set registry, splits, statistics
//! and the dataset download.

pub mod fasta;
pub mod fetch;
pub mod protocol;
pub mod registry;
pub mod sequence;
pub mod shuffle;
pub mod split;
pub mod stats;

pub use fasta::Record;
pub use protocol::{Negatives, Protocol};
pub use registry::{default_root, shipped, Dataset, Registry, SetEntry, SetKind};
pub use sequence::{LengthPolicy, WINDOW};
pub use split::{Split, SplitConfig};
