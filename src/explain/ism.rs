//! In-silico mutagenesis (ISM): score every single-nucleotide variant of a
//! window and record how P(bound) moves. Model-agnostic and exact for the
//! model at hand; costs `3 * 101 + 1` forward passes per window, batched.

/// The bases a position is mutated to, in column order (`A C G U`).
pub const BASES: [u8; 4] = [b'A', b'C', b'G', b'U'];

/// Windows whose variants are scored in one call of the model: 8 x 304 =
/// 2,432 sequences, enough to keep every batch of the network full.
pub const WINDOWS_PER_CALL: usize = 8;

/// The in-silico mutagenesis of one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutagenesis {
    /// The window (normalised: `A C G U N`).
    pub seq: Vec<u8>,
    /// P(bound) of the window itself.
    pub p_ref: f64,
    /// `delta[i][b]`: P(bound) with `BASES[b]` at position `i`, minus
    /// `p_ref` (0 for the base already there).
    pub delta: Vec<[f64; 4]>,
}

impl Mutagenesis {
    /// Per-nucleotide importance: how far P(bound) falls, on average over
    /// the substitutions, when position `i` is changed. Positive: the base
    /// there supports binding; negative: it works against it.
    pub fn importance(&self) -> Vec<f64> {
        self.seq
            .iter()
            .zip(&self.delta)
            .map(|(&s, d)| {
                let alts: Vec<f64> = (0..4).filter(|&b| BASES[b] != s).map(|b| d[b]).collect();
                -alts.iter().sum::<f64>() / alts.len() as f64
            })
            .collect()
    }

    /// The importance logo's columns: each position's importance as the
    /// height of the base that is there (an `N` position draws nothing).
    pub fn logo_columns(&self) -> Vec<[f64; 4]> {
        track_logo_columns(&self.seq, &self.importance())
    }
}

/// A logo's columns from any per-position track of `seq` (importance,
/// gradient x input): each position's value as the height of the base that
/// is there (an `N` position draws nothing).
pub fn track_logo_columns(seq: &[u8], track: &[f64]) -> Vec<[f64; 4]> {
    assert_eq!(seq.len(), track.len(), "one value per position");
    seq.iter()
        .zip(track)
        .map(|(&s, &v)| {
            let mut col = [0.0; 4];
            if let Some(b) = BASES.iter().position(|&x| x == s) {
                col[b] = v;
            }
            col
        })
        .collect()
}

/// In-silico mutagenesis of each window. `score` is the model: windows in,
/// one P(bound) per window out (a [`crate::train::Predictor`]'s `predict`,
/// or any function, as the tests' toy models). `after_call(done)` is told how
/// many windows are finished after each call (for a progress bar).
///
/// ```
/// use circssnn::explain::mutagenesis;
/// // A toy model: P(bound) = share of U in the window.
/// let share_u = |w: &[&[u8]]| -> Result<Vec<f64>, std::convert::Infallible> {
///     Ok(w.iter().map(|s| s.iter().filter(|&&b| b == b'U').count() as f64 / s.len() as f64).collect())
/// };
/// let m = &mutagenesis(&[b"UAU".as_slice()], share_u, |_| {})?[0];
/// // Every U matters (changing it loses 1/3); the A argues against binding.
/// let imp = m.importance();
/// assert!((imp[0] - 1.0 / 3.0).abs() < 1e-12 && (imp[1] + 1.0 / 9.0).abs() < 1e-12);
/// # Ok::<(), std::convert::Infallible>(())
/// ```
pub fn mutagenesis<E>(
    windows: &[&[u8]],
    mut score: impl FnMut(&[&[u8]]) -> Result<Vec<f64>, E>,
    mut after_call: impl FnMut(usize),
) -> Result<Vec<Mutagenesis>, E> {
    let mut out = Vec::with_capacity(windows.len());
    for chunk in windows.chunks(WINDOWS_PER_CALL) {
        // Per window: the reference, then every (position, other base).
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for w in chunk {
            variants.push(w.to_vec());
            for (i, &s) in w.iter().enumerate() {
                for &b in BASES.iter().filter(|&&b| b != s) {
                    let mut v = w.to_vec();
                    v[i] = b;
                    variants.push(v);
                }
            }
        }
        let refs: Vec<&[u8]> = variants.iter().map(Vec::as_slice).collect();
        let probs = score(&refs)?;
        assert_eq!(
            probs.len(),
            refs.len(),
            "the model must score every variant"
        );
        let mut next = probs.into_iter();
        for w in chunk {
            let p_ref = next.next().expect("counted above");
            let delta = w
                .iter()
                .map(|&s| {
                    let mut d = [0.0; 4];
                    for (b, &base) in BASES.iter().enumerate() {
                        if base != s {
                            d[b] = next.next().expect("counted above") - p_ref;
                        }
                    }
                    d
                })
                .collect();
            out.push(Mutagenesis {
                seq: w.to_vec(),
                p_ref,
                delta,
            });
        }
        after_call(out.len());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::convert::Infallible;

    /// A position weight model, exact for ISM: score = sum of `w[i][base]`.
    fn pwm_model(w: Vec<[f64; 4]>) -> impl FnMut(&[&[u8]]) -> Result<Vec<f64>, Infallible> {
        move |seqs| {
            Ok(seqs
                .iter()
                .map(|s| {
                    s.iter()
                        .zip(&w)
                        .map(|(&c, wi)| BASES.iter().position(|&b| b == c).map_or(0.0, |b| wi[b]))
                        .sum()
                })
                .collect())
        }
    }

    proptest! {
        /// For an additive model, delta[i][b] is exactly w[i][b] - w[i][ref].
        #[test]
        fn additive_model_gives_its_own_weights(
            seqs in prop::collection::vec(prop::collection::vec(prop::sample::select(b"ACGUN".to_vec()), 1..30), 1..20),
            seed in any::<u64>(),
        ) {
            let len = seqs.iter().map(Vec::len).max().unwrap();
            let w: Vec<[f64; 4]> = (0..len as u64)
                .map(|i| std::array::from_fn(|b| ((seed ^ (i * 4 + b as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 / 1e6))
                .collect();
            let refs: Vec<&[u8]> = seqs.iter().map(Vec::as_slice).collect();
            let mut calls = Vec::new();
            let maps = mutagenesis(&refs, pwm_model(w.clone()), |d| calls.push(d)).unwrap();
            prop_assert_eq!(maps.len(), seqs.len());
            prop_assert_eq!(calls.last().copied(), Some(seqs.len()));
            for (m, s) in maps.iter().zip(&seqs) {
                for (i, &c) in s.iter().enumerate() {
                    let r = BASES.iter().position(|&b| b == c).map_or(0.0, |b| w[i][b]);
                    for b in 0..4 {
                        let want = if BASES[b] == c { 0.0 } else { w[i][b] - r };
                        prop_assert!((m.delta[i][b] - want).abs() < 1e-9);
                    }
                }
            }
        }
    }

    #[test]
    fn a_planted_motif_is_what_matters() {
        // P(bound) = 1 when UGUA sits at 10..14, else 0.
        let model = |seqs: &[&[u8]]| -> Result<Vec<f64>, Infallible> {
            Ok(seqs
                .iter()
                .map(|s| f64::from(u8::from(&s[10..14] == b"UGUA")))
                .collect())
        };
        let mut w = b"CCCCCCCCCCUGUACCCCCC".to_vec();
        let imp = mutagenesis(&[w.as_slice()], model, |_| {}).unwrap()[0].importance();
        for (i, v) in imp.iter().enumerate() {
            let want = if (10..14).contains(&i) { 1.0 } else { 0.0 };
            assert_eq!(*v, want, "position {i}");
        }
        // Without the motif, one substitution can create it only where a
        // single base is missing: position 12 (UGGA -> UGUA).
        w[12] = b'G';
        let m = &mutagenesis(&[w.as_slice()], model, |_| {}).unwrap()[0];
        assert_eq!(m.delta[12], [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(m.importance()[12], -1.0 / 3.0);
        assert_eq!(m.logo_columns()[12], [0.0, 0.0, -1.0 / 3.0, 0.0]);
    }

    #[test]
    fn the_model_error_is_returned() {
        let r = mutagenesis(
            &[b"ACGU".as_slice()],
            |_| Err::<Vec<f64>, _>("no model"),
            |_| {},
        );
        assert_eq!(r, Err("no model"));
    }
}
