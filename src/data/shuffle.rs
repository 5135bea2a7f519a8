//! Dinucleotide-preserving shuffles, for negatives that carry no transcript
//! identity and no composition signal.
//!
//! The benchmark's negatives are windows of 34 circRNAs, so a model can score
//! well by recognising those transcripts, or by GC content. Replacing every
//! negative with a shuffle of a positive that keeps its exact dinucleotide
//! counts leaves only what order beyond neighbouring pairs can tell apart:
//! motifs and their arrangement, which is what a binding-site model should
//! learn.
//!
//! The shuffle is Altschul & Erickson's (1985) Eulerian-walk algorithm: it
//! draws uniformly among all sequences with the same first base and the same
//! dinucleotide counts. It is written here because no maintained Rust crate
//! provides it (the reference implementations are uShuffle in C and
//! `altschulEriksonDinuclShuffle.py`).

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::Rng;

/// A uniformly random sequence with the same length, first base, last base
/// and dinucleotide counts as `seq` (any byte alphabet; `N` is a letter like
/// the others).
///
/// ```
/// use circssnn::data::shuffle::dinucleotide_shuffle;
/// use rand::SeedableRng;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let s = dinucleotide_shuffle(b"AACGUUAGCA", &mut rng);
/// assert_eq!((s.len(), s[0], s[9]), (10, b'A', b'A'));
/// ```
pub fn dinucleotide_shuffle<R: Rng + ?Sized>(seq: &[u8], rng: &mut R) -> Vec<u8> {
    if seq.len() < 3 {
        return seq.to_vec();
    }
    let last = *seq.last().expect("len >= 3");
    // Out-edges of every letter, in sequence order. A BTreeMap keeps the
    // iteration order (and so the random draws) independent of hashing.
    let mut edges: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    for w in seq.windows(2) {
        edges.entry(w[0]).or_default().push(w[1]);
    }
    // Each letter but the last keeps one out-edge for its final exit; those
    // edges must form a tree into `last`, or the walk would strand edges.
    // Drawing the exits uniformly and rejecting non-trees is uniform over
    // trees, which is what makes the whole shuffle uniform (BEST theorem).
    let exits = loop {
        let exits: BTreeMap<u8, usize> = edges
            .iter()
            .filter(|(&v, _)| v != last)
            .map(|(&v, out)| (v, rng.gen_range(0..out.len())))
            .collect();
        if exits_reach(&edges, &exits, last) {
            break exits;
        }
    };
    for (v, out) in edges.iter_mut() {
        match exits.get(v) {
            Some(&i) => {
                let exit = out.swap_remove(i);
                out.shuffle(rng);
                out.push(exit);
            }
            None => out.shuffle(rng),
        }
    }
    // Walk from the first base, consuming each letter's edges in order.
    let mut next: BTreeMap<u8, usize> = edges.keys().map(|&v| (v, 0)).collect();
    let mut out = Vec::with_capacity(seq.len());
    let mut at = seq[0];
    out.push(at);
    for _ in 1..seq.len() {
        let i = next
            .get_mut(&at)
            .expect("every visited letter has out-edges");
        at = edges[&at][*i];
        *i += 1;
        out.push(at);
    }
    out
}

/// Whether following every letter's exit edge leads to `last`.
fn exits_reach(edges: &BTreeMap<u8, Vec<u8>>, exits: &BTreeMap<u8, usize>, last: u8) -> bool {
    exits.keys().all(|&start| {
        let mut at = start;
        for _ in 0..=exits.len() {
            if at == last {
                return true;
            }
            at = edges[&at][exits[&at]];
        }
        at == last
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn pair_counts(s: &[u8]) -> BTreeMap<(u8, u8), usize> {
        let mut m = BTreeMap::new();
        for w in s.windows(2) {
            *m.entry((w[0], w[1])).or_insert(0) += 1;
        }
        m
    }

    proptest! {
        #[test]
        fn keeps_length_ends_and_pair_counts(seq in "[ACGUN]{0,120}", seed in any::<u64>()) {
            let seq = seq.into_bytes();
            let s = dinucleotide_shuffle(&seq, &mut ChaCha8Rng::seed_from_u64(seed));
            prop_assert_eq!(s.len(), seq.len());
            prop_assert_eq!(s.first(), seq.first());
            prop_assert_eq!(s.last(), seq.last());
            prop_assert_eq!(pair_counts(&s), pair_counts(&seq));
        }
    }

    #[test]
    fn same_seed_same_shuffle_and_it_moves_bases() {
        let seq = b"ACGUACGGAUCCAUGCAUGCUAGCUAGGAUCGAUCGUAGCUAGCUAGCAUCGAUGCUAGUCGAUCGUAG";
        let a = dinucleotide_shuffle(seq, &mut ChaCha8Rng::seed_from_u64(3));
        let b = dinucleotide_shuffle(seq, &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(a, b);
        assert_ne!(&a[..], &seq[..]);
    }

    #[test]
    fn uniform_over_the_sequences_with_the_same_pairs() {
        // "ACAGA": pairs AC, CA, AG, GA; starting with A and ending with A,
        // exactly two sequences have them: ACAGA and AGACA.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let n = 4000;
        let acaga = (0..n)
            .filter(|_| dinucleotide_shuffle(b"ACAGA", &mut rng) == b"ACAGA")
            .count();
        let share = acaga as f64 / n as f64;
        assert!((share - 0.5).abs() < 0.04, "share {share}");
    }
}
