//! KNFP against values worked out by hand, and its structural properties.

use circssnn::data::sequence::normalise_base;
use circssnn::features::{kmer_counts, knfp, knfp_batch, KNFP_DIM};
use proptest::prelude::*;

/// (row, column, value) of every non-zero entry, sorted.
fn nonzeros(seq: &[u8]) -> Vec<(usize, usize, f32)> {
    let m = knfp(seq);
    let mut out = Vec::new();
    for ((r, c), &v) in m.indexed_iter() {
        if v != 0.0 {
            out.push((r, c, v));
        }
    }
    out
}

#[test]
fn acgua_by_hand() {
    // k=1: A occurs twice, C, G, U once.          columns 0..4
    // k=2: AC=0+4*1=4, CG=1+4*2=9, GU=2+4*3=14, UA=3+4*0=3   (+4)
    // k=3: ACG=0+4+32=36, CGU=1+8+48=57, GUA=2+12+0=14        (+20)
    let expected = vec![
        (0, 0, 0.02),
        (0, 4 + 4, 0.01),
        (0, 20 + 36, 0.01),
        (1, 1, 0.01),
        (1, 4 + 9, 0.01),
        (1, 20 + 57, 0.01),
        (2, 2, 0.01),
        (2, 4 + 14, 0.01),
        (2, 20 + 14, 0.01),
        (3, 3, 0.01),
        (3, 4 + 3, 0.01),
        (4, 0, 0.02),
    ];
    assert_eq!(nonzeros(b"ACGUA"), expected);
}

#[test]
fn homopolymer_by_hand() {
    // AAAA: A x4 in rows 0-3; AA x3 in rows 0-2; AAA x2 in rows 0-1.
    let expected = vec![
        (0, 0, 0.04),
        (0, 4, 0.03),
        (0, 20, 0.02),
        (1, 0, 0.04),
        (1, 4, 0.03),
        (1, 20, 0.02),
        (2, 0, 0.04),
        (2, 4, 0.03),
        (3, 0, 0.04),
    ];
    assert_eq!(nonzeros(b"AAAA"), expected);
}

#[test]
fn ambiguous_bases_leave_rows_empty() {
    // A?A: only the two single As count; no 2- or 3-mer avoids the N.
    assert_eq!(nonzeros(b"ANA"), vec![(0, 0, 0.02), (2, 0, 0.02)]);
    assert!(nonzeros(&[b'N'; 101]).is_empty());
}

#[test]
fn t_and_u_and_case_give_the_same_matrix() {
    let norm = |s: &[u8]| {
        s.iter()
            .map(|&b| normalise_base(b).unwrap())
            .collect::<Vec<u8>>()
    };
    assert_eq!(knfp(&norm(b"acgtTTga")), knfp(&norm(b"ACGUUUGA")));
}

#[test]
fn last_column_is_uuu() {
    // U = 3; UU = 3 + 12 = 15 -> 19; UUU = 3 + 12 + 48 = 63 -> 83, the last column.
    let expected = vec![
        (0, 3, 0.03),
        (0, 19, 0.02),
        (0, 83, 0.01),
        (1, 3, 0.03),
        (1, 19, 0.02),
        (2, 3, 0.03),
    ];
    assert_eq!(nonzeros(b"UUU"), expected);
}

#[test]
fn batch_equals_single() {
    let seqs = [b"ACGUACGUNNAC".to_vec(), b"GGGCCCAAAUUU".to_vec()];
    let b = knfp_batch(&seqs);
    for (i, s) in seqs.iter().enumerate() {
        assert_eq!(b.index_axis(ndarray::Axis(0), i), knfp(s));
    }
}

fn window() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"ACGUN".to_vec()), 0..=101)
}

proptest! {
    #[test]
    fn one_nonzero_per_row_and_block_with_expected_sums(seq in window()) {
        let m = knfp(&seq);
        let counts = kmer_counts(&seq);
        for (k, off, width) in [(1usize, 0usize, 4usize), (2, 4, 16), (3, 20, 64)] {
            let block = m.slice(ndarray::s![.., off..off + width]);
            for row in block.rows() {
                prop_assert!(row.iter().filter(|&&v| v != 0.0).count() <= 1);
            }
            // A k-mer seen c times fills c rows with c/100, so the block sums
            // to sum(c^2)/100, and has one non-zero row per counted k-mer.
            let c = &counts[off..off + width];
            let expected: f32 = c.iter().map(|x| x * x).sum::<f32>() / 100.0;
            prop_assert!((block.sum() - expected).abs() < 1e-4, "k={} sum {} vs {}", k, block.sum(), expected);
            let filled = block.rows().into_iter().filter(|r| r.iter().any(|&v| v != 0.0)).count();
            prop_assert_eq!(filled as f32, c.iter().sum::<f32>());
            // Rows past L-k are empty.
            for r in (seq.len() + 1).saturating_sub(k)..101 {
                prop_assert!(block.row(r).iter().all(|&v| v == 0.0));
            }
        }
        prop_assert_eq!(m.ncols(), KNFP_DIM);
    }
}
