//! KNFP, the K-tuple Nucleotide Frequency Pattern (paper Eq. 1–3), exactly as
//! the authors' code computes it.
//!
//! A window of length L becomes a `101 x 84` matrix: three blocks of 4, 16 and
//! 64 columns for k = 1, 2, 3. In block k, row i (i = 0 ..= L-k) has a single
//! non-zero entry, in the column of the k-mer that starts at i, whose value
//! is (occurrences of that k-mer in the whole window) / 100. Rows past L-k
//! stay zero. The column of a k-mer is `c0 + 4*c1 + 16*c2` with A=0, C=1,
//! G=2, U=3 — the *first* base is the least significant digit.
//!
//! A k-mer containing `N` has no column: it is not counted and its row stays
//! zero (see [`crate::data::sequence`]).

use ndarray::{Array2, Array3};
use rayon::prelude::*;

use crate::data::sequence::{base_index, WINDOW};

/// Columns of one KNFP row: 4 + 16 + 64.
pub const KNFP_DIM: usize = 84;
/// Floats of one window's KNFP matrix.
pub const KNFP_LEN: usize = WINDOW * KNFP_DIM;
/// The paper divides counts by this.
const SCALE: f32 = 100.0;

/// Column offset of block k (k = 1, 2, 3).
const fn block_offset(k: usize) -> usize {
    match k {
        1 => 0,
        2 => 4,
        _ => 20,
    }
}

/// Column of the k-mer starting at `i` within its block, `None` if it
/// contains `N`.
#[inline]
fn kmer_column(codes: &[Option<usize>], i: usize, k: usize) -> Option<usize> {
    let mut col = 0;
    let mut place = 1;
    for c in &codes[i..i + k] {
        col += (*c)? * place;
        place *= 4;
    }
    Some(col)
}

/// Counts of every 1-, 2- and 3-mer of `seq` in KNFP column order (84 values).
///
/// ```
/// let c = circssnn::features::kmer_counts(b"ACGU");
/// assert_eq!(&c[..4], &[1.0, 1.0, 1.0, 1.0]);
/// assert_eq!(c[4 + 0 + 4 * 1], 1.0); // "AC": A=0 + 4*C
/// ```
pub fn kmer_counts(seq: &[u8]) -> [f32; KNFP_DIM] {
    let codes: Vec<Option<usize>> = seq.iter().map(|&b| base_index(b)).collect();
    let mut counts = [0f32; KNFP_DIM];
    for k in 1..=3 {
        for i in 0..(seq.len() + 1).saturating_sub(k) {
            if let Some(col) = kmer_column(&codes, i, k) {
                counts[block_offset(k) + col] += 1.0;
            }
        }
    }
    counts
}

/// Write the KNFP matrix of `seq` (row-major, `101 x 84`) into `out`.
///
/// # Panics
/// If `seq` is longer than [`WINDOW`] or `out` is not [`KNFP_LEN`] long;
/// records read by [`crate::data::fasta`] are always fitted to the window.
pub fn knfp_into(seq: &[u8], out: &mut [f32]) {
    assert!(
        seq.len() <= WINDOW,
        "KNFP needs at most {WINDOW} nt, got {}",
        seq.len()
    );
    assert_eq!(
        out.len(),
        KNFP_LEN,
        "KNFP output buffer must hold {KNFP_LEN} floats"
    );
    out.fill(0.0);
    let codes: Vec<Option<usize>> = seq.iter().map(|&b| base_index(b)).collect();
    let counts = kmer_counts(seq);
    for k in 1..=3 {
        let off = block_offset(k);
        for i in 0..(seq.len() + 1).saturating_sub(k) {
            if let Some(col) = kmer_column(&codes, i, k) {
                out[i * KNFP_DIM + off + col] = counts[off + col] / SCALE;
            }
        }
    }
}

/// The KNFP matrix of one window, `101 x 84`.
///
/// ```
/// let m = circssnn::features::knfp(b"AAC");
/// assert_eq!(m.dim(), (101, 84));
/// assert_eq!(m[[0, 0]], 0.02); // A occurs twice
/// assert_eq!(m[[2, 1]], 0.01); // C once
/// ```
pub fn knfp(seq: &[u8]) -> Array2<f32> {
    let mut out = vec![0f32; KNFP_LEN];
    knfp_into(seq, &mut out);
    Array2::from_shape_vec((WINDOW, KNFP_DIM), out).expect("length checked")
}

/// KNFP of many windows at once, in parallel: `n x 101 x 84`.
pub fn knfp_batch<S: AsRef<[u8]> + Sync>(seqs: &[S]) -> Array3<f32> {
    let mut out = vec![0f32; seqs.len() * KNFP_LEN];
    out.par_chunks_mut(KNFP_LEN)
        .zip(seqs.par_iter())
        .for_each(|(chunk, s)| knfp_into(s.as_ref(), chunk));
    Array3::from_shape_vec((seqs.len(), WINDOW, KNFP_DIM), out).expect("length checked")
}
