//! Finding the benchmark sets under a data root, in the public repository's
//! own two layouts:
//!
//! * `circRNA-RBP/<RBP>/{positive,negative}` — 37 circRNA sets, label by file;
//! * `linRNA-RBP/clip/<set>/5000/{training_sample_0,test_sample_0}/sequences.fa.gz`
//!   — the 31 linear-RNA sets, label in each header (`class:0/1`), with an
//!   official train/test split.
//!
//! The root is `--data-dir`, else `$CIRCSSNN_DATA`, else the copy shipped in
//! the repository, `data/benchmark` (circRNA files gzipped as
//! `positive.gz`/`negative.gz`, read by the same streaming reader).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::fasta::{read_records, Record};
use super::sequence::LengthPolicy;
use crate::error::{DataError, Result};

/// Environment variable naming the data root.
pub const DATA_ENV: &str = "CIRCSSNN_DATA";
/// Where the repository ships the benchmark, relative to its root.
pub const DEFAULT_DATA_DIR: &str = "data/benchmark";

/// The data root: `$CIRCSSNN_DATA` if set, else [`shipped_root`].
pub fn default_root() -> PathBuf {
    std::env::var_os(DATA_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(shipped_root)
}

/// The benchmark shipped with the crate: `data/benchmark` under the current
/// folder if there is one (a clone, or a binary carried to another machine
/// with its working tree), else under the crate this was built from (a
/// notebook whose kernel runs in `notebooks/`, a test, an installed binary
/// run elsewhere on the build machine). Falls back to the relative path, so
/// that a missing copy is reported under the name the README gives.
pub fn shipped_root() -> PathBuf {
    shipped(DEFAULT_DATA_DIR)
}

/// A file or folder that ships with the repository (`data/benchmark`,
/// `data/zoo`, `data/examples/...`), found like [`shipped_root`]: under the
/// current folder, else under the crate this was built from, else the
/// relative path (so a missing one is reported by its README name).
///
/// ```
/// let fa = circssnn::data::shipped("data/examples/circrna-stretches.fa");
/// assert!(fa.is_file());
/// ```
pub fn shipped(relative: &str) -> PathBuf {
    let local = PathBuf::from(relative);
    if local.exists() {
        return local;
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if built_from.exists() {
        built_from
    } else {
        local
    }
}

/// Which benchmark a set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SetKind {
    /// circRNA-RBP: positives and negatives in two files, no official split.
    Circular,
    /// linRNA-RBP (RBP-31): labels in headers, official train/test files.
    Linear,
}

/// Where one set's files are (or were expected).
#[derive(Debug, Clone)]
pub enum SetFiles {
    /// `circRNA-RBP/<RBP>/positive` and `negative`.
    Circular {
        /// Positive windows.
        positive: PathBuf,
        /// Negative windows.
        negative: PathBuf,
    },
    /// `linRNA-RBP/clip/<set>/5000/{training,test}_sample_0/sequences.fa.gz`.
    Linear {
        /// Official training file.
        train: PathBuf,
        /// Official test file.
        test: PathBuf,
    },
}

/// One benchmark set found under the root.
#[derive(Debug, Clone)]
pub struct SetEntry {
    /// Folder name: the RBP (`TIAL1`) or the linear set (`23_PARCLIP_PUM2_hg19`).
    pub name: String,
    /// Benchmark it belongs to.
    pub kind: SetKind,
    /// Its files.
    pub files: SetFiles,
}

/// A loaded set: records with labels (1 = bound, 0 = not).
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Set name.
    pub name: String,
    /// Benchmark it belongs to.
    pub kind: SetKind,
    /// Windows; for circular sets positives first then negatives, as the
    /// published code concatenates them (the published split depends on it).
    pub records: Vec<Record>,
    /// 1 for positive, 0 for negative, aligned with `records`.
    pub labels: Vec<u8>,
    /// Linear sets: index of the first official test record (all before it
    /// are the official training records).
    pub test_start: Option<usize>,
}

impl Dataset {
    /// The windows and labels of the records at `idx` (a split part).
    pub fn part(&self, idx: &[usize]) -> (Vec<&[u8]>, Vec<u8>) {
        idx.iter()
            .map(|&i| (self.records[i].seq.as_slice(), self.labels[i]))
            .unzip()
    }

    /// Number of positives and negatives.
    pub fn class_counts(&self) -> (usize, usize) {
        let pos = self.labels.iter().filter(|&&y| y == 1).count();
        (pos, self.labels.len() - pos)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True if the set holds no records (never true for a loaded set).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Every set found under one data root.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The data root.
    pub root: PathBuf,
    /// Sets, circular first sorted by name, then linear by their number.
    pub sets: Vec<SetEntry>,
}

impl Registry {
    /// Scan `root` for both layouts. Fails if neither is present.
    ///
    /// ```no_run
    /// let reg = circssnn::data::Registry::scan(&circssnn::data::default_root())?;
    /// let tial1 = reg.get("TIAL1")?.load(Default::default())?;
    /// assert_eq!(tial1.class_counts(), (5456, 5456));
    /// # Ok::<(), circssnn::DataError>(())
    /// ```
    pub fn scan(root: &Path) -> Result<Self> {
        let mut sets = Vec::new();
        let circ = root.join("circRNA-RBP");
        for dir in subdirs(&circ)? {
            let name = file_name(&dir);
            sets.push(SetEntry {
                files: SetFiles::Circular {
                    positive: find_file(&dir, "positive"),
                    negative: find_file(&dir, "negative"),
                },
                name,
                kind: SetKind::Circular,
            });
        }
        let lin = root.join("linRNA-RBP").join("clip");
        let mut lin_dirs = subdirs(&lin)?;
        // RBP-31 names start with their number (`1_PARCLIP_AGO1234_hg19` ..
        // `31_ICLIP_U2AF65_...`): list them 1..31 as the papers' tables do.
        lin_dirs.sort_by_cached_key(|d| {
            let name = file_name(d);
            let num: Option<u32> = name.split('_').next().and_then(|n| n.parse().ok());
            (num.unwrap_or(u32::MAX), name)
        });
        for dir in lin_dirs {
            let name = file_name(&dir);
            let base = dir.join("5000");
            sets.push(SetEntry {
                files: SetFiles::Linear {
                    train: find_file(&base.join("training_sample_0"), "sequences"),
                    test: find_file(&base.join("test_sample_0"), "sequences"),
                },
                name,
                kind: SetKind::Linear,
            });
        }
        if sets.is_empty() {
            return Err(DataError::NoData {
                root: root.to_path_buf(),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
            sets,
        })
    }

    /// Look a set up by name, ignoring case.
    pub fn get(&self, name: &str) -> Result<&SetEntry> {
        self.sets
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| DataError::UnknownSet {
                name: name.to_string(),
                root: self.root.clone(),
                known: self
                    .sets
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Sets of one benchmark.
    pub fn of_kind(&self, kind: SetKind) -> impl Iterator<Item = &SetEntry> {
        self.sets.iter().filter(move |s| s.kind == kind)
    }
}

impl SetEntry {
    /// Files this set needs, with the role of each.
    pub fn required_files(&self) -> Vec<(&'static str, &Path)> {
        match &self.files {
            SetFiles::Circular { positive, negative } => {
                vec![
                    ("positive", positive.as_path()),
                    ("negative", negative.as_path()),
                ]
            }
            SetFiles::Linear { train, test } => {
                vec![("training", train.as_path()), ("test", test.as_path())]
            }
        }
    }

    /// Files that are missing, if any.
    pub fn missing(&self) -> Vec<(&'static str, &Path)> {
        self.required_files()
            .into_iter()
            .filter(|(_, p)| !p.is_file())
            .collect()
    }

    /// Read and validate the whole set.
    pub fn load(&self, policy: LengthPolicy) -> Result<Dataset> {
        if let Some((what, path)) = self.missing().into_iter().next() {
            return Err(DataError::MissingFile {
                set: self.name.clone(),
                what,
                path: path.to_path_buf(),
            });
        }
        let mut records = Vec::new();
        let mut labels = Vec::new();
        let mut test_start = None;
        match &self.files {
            SetFiles::Circular { positive, negative } => {
                for (path, y) in [(positive, 1u8), (negative, 0u8)] {
                    let recs = read_records(path, policy)?;
                    labels.extend(std::iter::repeat_n(y, recs.len()));
                    records.extend(recs);
                }
            }
            SetFiles::Linear { train, test } => {
                for path in [train, test] {
                    if path == test {
                        test_start = Some(records.len());
                    }
                    let recs = read_records(path, policy)?;
                    for (i, r) in recs.iter().enumerate() {
                        labels.push(header_label(&r.header).ok_or_else(|| {
                            DataError::MissingLabel {
                                path: path.clone(),
                                record: i + 1,
                                header: r.header.clone(),
                            }
                        })?);
                    }
                    records.extend(recs);
                }
            }
        }
        Ok(Dataset {
            name: self.name.clone(),
            kind: self.kind,
            records,
            labels,
            test_start,
        })
    }
}

/// The `class:0` / `class:1` label of a linear-RNA header.
///
/// ```
/// use circssnn::data::registry::header_label;
/// assert_eq!(header_label("chr1,+,1954112,1954212; class:1"), Some(1));
/// assert_eq!(header_label("chr1,+,1954112,1954212"), None);
/// ```
pub fn header_label(header: &str) -> Option<u8> {
    let rest = &header[header.find("class:")? + "class:".len()..];
    match rest.trim_start().chars().next()? {
        '0' => Some(0),
        '1' => Some(1),
        _ => None,
    }
}

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let rd = std::fs::read_dir(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The first existing file among `stem`, `stem.fa`, `stem.fasta` and their
/// `.gz` forms; the bare public-layout name when none exists (so the error
/// names what the public layout expects).
fn find_file(dir: &Path, stem: &str) -> PathBuf {
    let candidates = ["", ".fa", ".fasta", ".fa.gz", ".fasta.gz", ".gz"];
    candidates
        .iter()
        .map(|ext| dir.join(format!("{stem}{ext}")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            if stem == "sequences" {
                dir.join("sequences.fa.gz")
            } else {
                dir.join(stem)
            }
        })
}
