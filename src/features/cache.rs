//! Learned descriptors of a set, computed once and kept on disk.
//!
//! A BERT view of TIAL1 is ~11,000 forward passes; training runs, the
//! ablation and the reproduction would redo them every time. The cache file
//! of a set holds its distinct windows and their `101 x D` matrices, and
//! records the model hash and a hash of the windows: a file written by
//! another model, or for other windows, is stale and rebuilt (atomically).
//! Windows not in the cache (a user's FASTA) are computed on the fly.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::tensor_file::{self, Entry, TensorFile};
use super::{Descriptor, EmbedError};
use crate::data::WINDOW;

const FORMAT: &str = "circssnn-descriptor-cache-1";

/// A descriptor with a table of precomputed windows in front of it.
pub struct CachedDescriptor<'a, const D: usize> {
    inner: &'a dyn Descriptor<D>,
    rows: HashMap<Vec<u8>, usize>,
    values: Vec<f32>,
    /// Whether [`build`](Self::build) read the file (`true`) or computed it.
    pub hit: bool,
}

/// SHA-256 of the sorted distinct windows.
fn windows_hash(windows: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for w in windows {
        h.update(w);
        h.update([b'\n']);
    }
    format!("{:x}", h.finalize())
}

impl<'a, const D: usize> CachedDescriptor<'a, D> {
    /// Load the cache at `path` if it was made by the model `model_hash` for
    /// exactly these `windows`; otherwise encode them with `inner` (in
    /// batches, with a progress bar if `progress`) and write it.
    pub fn build(
        inner: &'a dyn Descriptor<D>,
        model_hash: &str,
        windows: &[&[u8]],
        path: &Path,
        progress: bool,
    ) -> Result<Self, EmbedError> {
        let distinct: Vec<&[u8]> = windows
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let whash = windows_hash(&distinct);
        let rows: HashMap<Vec<u8>, usize> = distinct
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_vec(), i))
            .collect();
        if let Some(values) =
            Self::read_if_fresh(path, inner.name(), model_hash, &whash, distinct.len())?
        {
            return Ok(CachedDescriptor {
                inner,
                rows,
                values,
                hit: true,
            });
        }
        let bar = if progress {
            ProgressBar::new(distinct.len() as u64).with_style(
                ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} windows, ETA {eta}")
                    .expect("valid template"),
            )
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(format!("computing {} descriptors", inner.name()));
        let mut values = Vec::with_capacity(distinct.len() * WINDOW * D);
        for chunk in distinct.chunks(256) {
            values.extend(inner.encode_batch(chunk));
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let flat: Vec<u8> = distinct.iter().flat_map(|w| w.iter().copied()).collect();
        let lens_ok = distinct.iter().all(|w| w.len() == WINDOW);
        let mut entries = vec![Entry::f32(
            "descriptors",
            vec![distinct.len(), WINDOW, D],
            &values,
        )];
        if lens_ok {
            entries.push(Entry::u8("windows", vec![distinct.len(), WINDOW], flat));
        }
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("descriptor".to_string(), inner.name().to_string()),
            ("model_hash".to_string(), model_hash.to_string()),
            ("windows_hash".to_string(), whash),
        ]);
        tensor_file::write(path, &entries, meta)?;
        Ok(CachedDescriptor {
            inner,
            rows,
            values,
            hit: false,
        })
    }

    fn read_if_fresh(
        path: &Path,
        name: &str,
        model_hash: &str,
        whash: &str,
        n: usize,
    ) -> Result<Option<Vec<f32>>, EmbedError> {
        if !path.is_file() {
            return Ok(None);
        }
        // An unreadable or truncated cache is just stale: it is rebuilt, never trusted.
        let Ok(file) = TensorFile::open(path) else {
            return Ok(None);
        };
        let meta = file.metadata()?;
        let fresh = meta.get("format").map(String::as_str) == Some(FORMAT)
            && meta.get("descriptor").map(String::as_str) == Some(name)
            && meta.get("model_hash").map(String::as_str) == Some(model_hash)
            && meta.get("windows_hash").map(String::as_str) == Some(whash);
        if !fresh {
            return Ok(None);
        }
        Ok(file
            .f32("descriptors", Some(&[n, WINDOW, D]))
            .ok()
            .map(|(_, v)| v))
    }

    /// Windows in the table.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<const D: usize> Descriptor<D> for CachedDescriptor<'_, D> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn encode_into(&self, seq: &[u8], out: &mut [f32]) {
        match self.rows.get(seq) {
            Some(&r) => out.copy_from_slice(&self.values[r * WINDOW * D..(r + 1) * WINDOW * D]),
            None => self.inner.encode_into(seq, out),
        }
    }

    fn encode_batch(&self, seqs: &[&[u8]]) -> Vec<f32> {
        let misses: Vec<&[u8]> = seqs
            .iter()
            .copied()
            .filter(|s| !self.rows.contains_key(*s))
            .collect();
        let computed = if misses.is_empty() {
            Vec::new()
        } else {
            self.inner.encode_batch(&misses)
        };
        let mut next = computed.chunks(WINDOW * D);
        let mut out = Vec::with_capacity(seqs.len() * WINDOW * D);
        for s in seqs {
            match self.rows.get(*s) {
                Some(&r) => {
                    out.extend_from_slice(&self.values[r * WINDOW * D..(r + 1) * WINDOW * D])
                }
                None => out.extend_from_slice(next.next().expect("one computed matrix per miss")),
            }
        }
        out
    }
}
