//! Errors a user can act on: every variant names the file and, where there
//! is one, the 1-based record number, so a bad line in a 40,000-record file
//! can be found without a debugger.

use std::path::PathBuf;

/// Everything that can go wrong while reading, validating or fetching data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// File that failed.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The FASTA/FASTQ parser rejected the file (bad header, corrupt gzip, truncated record...).
    #[error("{path}: record {record}: malformed {format}: {message}")]
    Parse {
        /// File that failed.
        path: PathBuf,
        /// 1-based number of the record being read when parsing failed.
        record: usize,
        /// `FASTA`, `FASTQ`, or `gzip` for a broken compressed stream.
        format: &'static str,
        /// Parser message.
        message: String,
    },
    /// The file holds no records at all.
    #[error("{path}: no FASTA records (empty file)")]
    Empty {
        /// The empty file.
        path: PathBuf,
    },
    /// A character that is neither a nucleotide nor an IUPAC ambiguity code.
    #[error(
        "{path}: record {record} ({id}): unknown base {base} at position {position} \
         (accepted: A C G T U, IUPAC codes R Y S W K M B D H V N, any case)"
    )]
    UnknownBase {
        /// File that failed.
        path: PathBuf,
        /// 1-based record number.
        record: usize,
        /// Record identifier (first word of the header).
        id: String,
        /// 1-based position in the sequence.
        position: usize,
        /// The offending byte, as shown (`'X'`, or its value when not printable).
        base: String,
    },
    /// A record whose length does not fit the model's window.
    #[error(
        "{path}: record {record} ({id}): length {len}, but the model reads windows of exactly \
         {expected} nt; use --pad to pad shorter windows with N or --trim to keep the central \
         {expected} nt of longer ones"
    )]
    WrongLength {
        /// File that failed.
        path: PathBuf,
        /// 1-based record number.
        record: usize,
        /// Record identifier.
        id: String,
        /// Observed length.
        len: usize,
        /// Required length.
        expected: usize,
    },
    /// A linear-RNA record without a `class:0` / `class:1` label in its header.
    #[error("{path}: record {record}: header {header:?} has no `class:0` or `class:1` label")]
    MissingLabel {
        /// File that failed.
        path: PathBuf,
        /// 1-based record number.
        record: usize,
        /// The header line as read.
        header: String,
    },
    /// A data set folder lacks one of its files.
    #[error("data set {set}: missing {what} file (looked for {path})")]
    MissingFile {
        /// Data set name.
        set: String,
        /// Which file (`positive`, `negative`, ...).
        what: &'static str,
        /// Where it was expected.
        path: PathBuf,
    },
    /// No set of that name under the data root.
    #[error("no data set named {name:?} under {root}; known sets: {known}")]
    UnknownSet {
        /// Requested name.
        name: String,
        /// Data root searched.
        root: PathBuf,
        /// Comma-separated known names (or a hint when there are none).
        known: String,
    },
    /// The data root does not exist or holds no known layout.
    #[error(
        "no benchmark data under {root}: expected circRNA-RBP/<RBP>/{{positive,negative}} or \
         linRNA-RBP/clip/<set>/5000/...; the repository ships the benchmark in data/benchmark \
         (restore it with `git checkout -- data/benchmark`), or point --data-dir / CIRCSSNN_DATA \
         at a copy (`circssnn --data-dir DIR data fetch` downloads one)"
    )]
    NoData {
        /// The data root that was searched.
        root: PathBuf,
    },
    /// A download or checksum failure.
    #[error("{0}")]
    Fetch(String),
}

/// Shorthand for results whose error is a [`DataError`].
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Any failure of the library's pipelines (data, metrics, baseline).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or fetching data failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metric(#[from] crate::eval::MetricError),
    /// A model failed to fit.
    #[error("{0}")]
    Fit(String),
}
