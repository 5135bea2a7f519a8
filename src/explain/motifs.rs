//! Motifs a model learned, read from its own importance scores: cut the
//! most important segment of each high-scoring window, count k-mers there
//! against dinucleotide-shuffled copies of the same segments, and align the
//! segments that hold the best k-mer into a position weight matrix.
//!
//! The background is the segments themselves, shuffled with their
//! dinucleotide counts kept, so a k-mer ranks high for its order, not for
//! the base composition the model's negatives happen to lack.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ism::{Mutagenesis, BASES};
use super::ExplainError;
use crate::data::shuffle::dinucleotide_shuffle;

/// How a window's per-nucleotide importance is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    /// In-silico mutagenesis: the mean fall of P(bound) over the three
    /// substitutions at each position (303 forward passes per window).
    #[default]
    Ism,
    /// Gradient x input of the log-odds, summed over each position's
    /// descriptor columns (one backward pass per window; first order).
    Gradient,
}

/// What the important segments' k-mers are counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Background {
    /// Dinucleotide shuffles of the segments themselves: a k-mer ranks for
    /// its order, not its composition. A low-complexity motif (a U tract)
    /// survives the shuffle, so it never ranks.
    #[default]
    Shuffled,
    /// Segments of the same width at random places in the same windows:
    /// a k-mer ranks where the model looks rather than elsewhere in the
    /// window. Composition of the windows cancels; that of the spot does not.
    Window,
}

/// How motifs are found.
#[derive(Debug, Clone, PartialEq)]
pub struct MotifConfig {
    /// Windows explained: the highest-scoring positives of the test part.
    pub windows: usize,
    /// How their importance is computed.
    pub importance: Importance,
    /// Width of the segment cut from each window, where its importance sums highest.
    pub segment: usize,
    /// Shortest k-mer counted.
    pub k_min: usize,
    /// Longest k-mer counted.
    pub k_max: usize,
    /// What the segments are counted against.
    pub background: Background,
    /// Background segments per segment (shuffles of it, or random
    /// segments of its window).
    pub shuffles: usize,
    /// Flank added on each side of the best k-mer in the weight matrix.
    pub flank: usize,
    /// Seed of the shuffles.
    pub seed: u64,
    /// A window that shares an exact stretch of this many nt with a
    /// better-scoring window already chosen is passed over, so a repeated
    /// element is counted once, not once per copy (0: every window counts).
    /// Motif finders purge such redundancy the same way (MEME's `purge`,
    /// HOMER's duplicate removal). Why it matters here: HNRNPC's 200 best
    /// test positives are mostly copies of one 32-nt element (236 copies in
    /// its positives), whose k-mers then fill the table. Two random 101-nt
    /// windows share some 20-mer with probability ~82² / 4²⁰ ≈ 6e-9.
    pub distinct: usize,
}

impl Default for MotifConfig {
    fn default() -> Self {
        MotifConfig {
            windows: 200,
            importance: Importance::Ism,
            segment: 12,
            k_min: 4,
            k_max: 7,
            background: Background::Shuffled,
            shuffles: 20,
            flank: 2,
            seed: 7,
            distinct: 0,
        }
    }
}

impl MotifConfig {
    /// The settings make sense together (`k_min <= k_max <= segment <= 101`,
    /// at least one window and one shuffle).
    pub fn check(&self) -> Result<(), ExplainError> {
        let fail = |m: String| Err(ExplainError::Config(m));
        if self.windows == 0 {
            return fail("windows = 0: a motif needs at least one window".into());
        }
        if self.shuffles == 0 {
            return fail("shuffles = 0: the background needs at least one shuffle".into());
        }
        if !(1 <= self.k_min && self.k_min <= self.k_max && self.k_max <= self.segment) {
            return fail(format!(
                "k from {} to {} in segments of {} nt: need 1 <= k_min <= k_max <= segment",
                self.k_min, self.k_max, self.segment
            ));
        }
        if self.segment > crate::data::WINDOW {
            return fail(format!(
                "segment {} nt is longer than a {}-nt window",
                self.segment,
                crate::data::WINDOW
            ));
        }
        Ok(())
    }
}

/// The `width`-nt stretch of a window whose `importance` sums highest, and
/// where it starts.
pub fn important_segment<'a>(seq: &'a [u8], importance: &[f64], width: usize) -> (usize, &'a [u8]) {
    assert_eq!(seq.len(), importance.len(), "one importance per position");
    let imp = importance;
    let width = width.min(imp.len());
    let mut best = (f64::NEG_INFINITY, 0);
    let mut sum: f64 = imp[..width].iter().sum();
    for start in 0..=imp.len() - width {
        if start > 0 {
            sum += imp[start + width - 1] - imp[start - 1];
        }
        if sum > best.0 {
            best = (sum, start);
        }
    }
    (best.1, &seq[best.1..best.1 + width])
}

/// One k-mer's enrichment in the important segments.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KmerEnrichment {
    /// The k-mer (`A C G U`).
    pub kmer: String,
    /// Segments that hold it (for [`counted_kmers`]: positives).
    pub segments: usize,
    /// Shuffled segments that hold it, of `segments_total * shuffles` (for
    /// [`counted_kmers`]: negatives).
    pub background: usize,
    /// Share in the segments over share in the shuffled ones (both with a
    /// pseudocount of 1/2).
    pub enrichment: f64,
    /// One-sided binomial p-value of `segments` or more, at the background's share.
    pub p_value: f64,
}

/// k-mers of every length in `k_min..=k_max` held by at least two segments,
/// most significant first (ties: higher enrichment first, then the k-mer).
pub fn enriched_kmers(segments: &[&[u8]], cfg: &MotifConfig) -> Vec<KmerEnrichment> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let shuffled: Vec<Vec<u8>> = segments
        .iter()
        .flat_map(|s| {
            (0..cfg.shuffles)
                .map(|_| dinucleotide_shuffle(s, &mut rng))
                .collect::<Vec<_>>()
        })
        .collect();
    let background: Vec<&[u8]> = shuffled.iter().map(Vec::as_slice).collect();
    ranked(segments, &background, cfg.k_min..=cfg.k_max)
}

/// As [`enriched_kmers`], against `cfg.shuffles` segments of the same
/// width drawn at random places of each segment's own window (`windows[i]`
/// holds `segments[i]`; seeded). Where [`Background::Window`] is measured:
/// README, "Why a window binds".
pub fn enriched_in_windows(
    segments: &[&[u8]],
    windows: &[&[u8]],
    cfg: &MotifConfig,
) -> Vec<KmerEnrichment> {
    assert_eq!(segments.len(), windows.len(), "one window per segment");
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let background: Vec<&[u8]> = segments
        .iter()
        .zip(windows)
        .flat_map(|(s, w)| {
            let width = s.len().min(w.len());
            (0..cfg.shuffles)
                .map(|_| {
                    let at = rng.gen_range(0..=w.len() - width);
                    &w[at..at + width]
                })
                .collect::<Vec<_>>()
        })
        .collect();
    ranked(segments, &background, cfg.k_min..=cfg.k_max)
}

/// k-mers of every length in `ks` by plain counting, no model: in how many
/// `positives` each occurs against how many `negatives` (once per window),
/// most significant first. The contrast to [`enriched_kmers`] of a model's
/// important segments: here a k-mer ranks high whenever the negatives lack
/// it, whether or not the protein reads it (with the shared negative pool of
/// the circRNA sets, CG-holding 5-mers such as GGACG and CAUCG are 3.6-3.8x
/// enriched in HUR's and IGF2BP1's positives).
pub fn counted_kmers(
    positives: &[&[u8]],
    negatives: &[&[u8]],
    ks: std::ops::RangeInclusive<usize>,
) -> Vec<KmerEnrichment> {
    ranked(positives, negatives, ks)
}

/// k-mers held by at least two of `fg`, with their share there over their
/// share in `bg` and the binomial p-value of so many at `bg`'s share.
fn ranked(fg: &[&[u8]], bg: &[&[u8]], ks: std::ops::RangeInclusive<usize>) -> Vec<KmerEnrichment> {
    let (n_fg, n_bg) = (fg.len(), bg.len());
    let mut out = Vec::new();
    for k in ks {
        let in_fg = presence(fg.iter().copied(), k);
        let in_bg = presence(bg.iter().copied(), k);
        for (kmer, &a) in &in_fg {
            if a < 2 {
                continue;
            }
            let b = in_bg.get(kmer).copied().unwrap_or(0);
            let p_bg = (b as f64 + 0.5) / (n_bg as f64 + 1.0);
            let p_fg = (a as f64 + 0.5) / (n_fg as f64 + 1.0);
            out.push(KmerEnrichment {
                kmer: String::from_utf8_lossy(kmer).into_owned(),
                segments: a,
                background: b,
                enrichment: p_fg / p_bg,
                p_value: binomial_upper_tail(n_fg, a, p_bg),
            });
        }
    }
    out.sort_by(|x, y| {
        x.p_value
            .total_cmp(&y.p_value)
            .then(y.enrichment.total_cmp(&x.enrichment))
            .then(x.kmer.cmp(&y.kmer))
    });
    out
}

/// In how many sequences each k-mer of `A C G U` occurs (once per sequence).
fn presence<'a>(seqs: impl Iterator<Item = &'a [u8]>, k: usize) -> HashMap<&'a [u8], usize> {
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    for s in seqs {
        let mut seen: Vec<&[u8]> = s
            .windows(k)
            .filter(|w| w.iter().all(|b| BASES.contains(b)))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            *counts.entry(w).or_default() += 1;
        }
    }
    counts
}

/// P(X >= k) for X ~ Binomial(n, p), summed in log space from the pmf at k.
/// Hand-written: the one statistics call here, and `statrs` would bring
/// nalgebra into every notebook's build.
pub fn binomial_upper_tail(n: usize, k: usize, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    // ln C(n, k) p^k (1-p)^(n-k), then pmf(j+1) = pmf(j) (n-j)/(j+1) p/(1-p).
    let ln_choose: f64 = (1..=k).map(|i| ((n - k + i) as f64 / i as f64).ln()).sum();
    let mut ln_pmf = ln_choose + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln();
    let ratio = (p / (1.0 - p)).ln();
    let mut tail = 0.0;
    for j in k..=n {
        tail += ln_pmf.exp();
        ln_pmf += ((n - j) as f64 / (j + 1) as f64).ln() + ratio;
    }
    tail.min(1.0)
}

/// A position weight matrix: the segments that hold `kmer`, aligned on its
/// first occurrence with `flank` nt on each side, as base frequencies per
/// column (`A C G U`, a pseudocount of 1/4 per base; a column counts only
/// the segments that reach it).
pub fn weight_matrix(segments: &[&[u8]], kmer: &[u8], flank: usize) -> Vec<[f64; 4]> {
    let width = kmer.len() + 2 * flank;
    let mut counts = vec![[0.25f64; 4]; width];
    for s in segments {
        let Some(at) = s.windows(kmer.len()).position(|w| w == kmer) else {
            continue;
        };
        for (col, c) in counts.iter_mut().enumerate() {
            let Some(i) = (at + col).checked_sub(flank).filter(|&i| i < s.len()) else {
                continue;
            };
            if let Some(b) = BASES.iter().position(|&x| x == s[i]) {
                c[b] += 1.0;
            }
        }
    }
    counts
        .into_iter()
        .map(|c| {
            let total: f64 = c.iter().sum();
            c.map(|x| x / total)
        })
        .collect()
}

/// A weight matrix as logo heights in bits: each base's frequency times the
/// column's information content (2 minus its entropy).
pub fn information_columns(pwm: &[[f64; 4]]) -> Vec<[f64; 4]> {
    pwm.iter()
        .map(|col| {
            let entropy: f64 = col
                .iter()
                .filter(|&&f| f > 0.0)
                .map(|&f| -f * f.log2())
                .sum();
            let ic = (2.0 - entropy).max(0.0);
            col.map(|f| f * ic)
        })
        .collect()
}

/// What [`find_motifs`] found.
#[derive(Debug, Clone)]
pub struct Motifs {
    /// The windows explained, best-scoring first.
    pub windows: Vec<Vec<u8>>,
    /// Their P(bound).
    pub p_bound: Vec<f64>,
    /// Their per-nucleotide importance, as `MotifConfig::importance` says.
    pub importance: Vec<Vec<f64>>,
    /// Their full mutagenesis (empty unless the importance is [`Importance::Ism`]).
    pub maps: Vec<Mutagenesis>,
    /// Each window's important segment (start, bases).
    pub segments: Vec<(usize, Vec<u8>)>,
    /// Enriched k-mers, most significant first.
    pub kmers: Vec<KmerEnrichment>,
    /// Weight matrix around the most significant k-mer (empty if none).
    pub pwm: Vec<[f64; 4]>,
    /// The contrast: k-mers of the model's whole set by plain counting,
    /// positives against its negatives, no model ([`counted_kmers`]; filled
    /// by [`super::zoo_motifs`], empty otherwise).
    pub counted: Vec<KmerEnrichment>,
    /// The positives [`counted`](Self::counted) counted in.
    pub counted_positives: usize,
}

impl Motifs {
    /// The `n` most significant k-mers of length `k`.
    pub fn top(&self, k: usize, n: usize) -> Vec<&KmerEnrichment> {
        top_of(&self.kmers, k, n)
    }

    /// The `n` most significant k-mers of length `k` by plain counting.
    pub fn top_counted(&self, k: usize, n: usize) -> Vec<&KmerEnrichment> {
        top_of(&self.counted, k, n)
    }
}

fn top_of(kmers: &[KmerEnrichment], k: usize, n: usize) -> Vec<&KmerEnrichment> {
    kmers.iter().filter(|e| e.kmer.len() == k).take(n).collect()
}

/// Motifs of one model by in-silico mutagenesis: score `positives`, explain
/// the `cfg.windows` highest-scoring ones, and count k-mers in their
/// important segments. `score` is the model, as in [`super::mutagenesis`].
/// `cfg.importance` must be [`Importance::Ism`]; see
/// [`find_motifs_by_gradient`] for the other.
pub fn find_motifs<E>(
    positives: &[&[u8]],
    mut score: impl FnMut(&[&[u8]]) -> Result<Vec<f64>, E>,
    cfg: &MotifConfig,
    after_call: impl FnMut(usize),
) -> Result<Motifs, ExplainError>
where
    ExplainError: From<E>,
{
    cfg.check()?;
    if cfg.importance != Importance::Ism {
        return Err(ExplainError::Config(
            "find_motifs computes importance by mutagenesis; use find_motifs_by_gradient".into(),
        ));
    }
    let (chosen, p_bound) = best_windows(positives, &mut score, cfg.windows, cfg.distinct)?;
    let refs: Vec<&[u8]> = chosen.iter().map(Vec::as_slice).collect();
    let maps = super::mutagenesis(&refs, &mut score, after_call)?;
    let importance = maps.iter().map(Mutagenesis::importance).collect();
    Ok(assemble(chosen, p_bound, importance, maps, cfg))
}

/// Motifs of one model by gradient x input: as [`find_motifs`], with each
/// window's importance from `gradient` (windows in, one track per window
/// out: a [`crate::train::Predictor`]'s `gradient_x_input`).
pub fn find_motifs_by_gradient<E, T: AsRef<[f64]>>(
    positives: &[&[u8]],
    mut score: impl FnMut(&[&[u8]]) -> Result<Vec<f64>, E>,
    mut gradient: impl FnMut(&[&[u8]]) -> Result<Vec<T>, E>,
    cfg: &MotifConfig,
) -> Result<Motifs, ExplainError>
where
    ExplainError: From<E>,
{
    cfg.check()?;
    let (chosen, p_bound) = best_windows(positives, &mut score, cfg.windows, cfg.distinct)?;
    let refs: Vec<&[u8]> = chosen.iter().map(Vec::as_slice).collect();
    let importance = gradient(&refs)?
        .iter()
        .map(|t| t.as_ref().to_vec())
        .collect();
    Ok(assemble(chosen, p_bound, importance, Vec::new(), cfg))
}

/// The `n` highest-scoring windows, best first (ties by input order), and
/// their scores; with `distinct > 0`, a window sharing a `distinct`-nt
/// stretch with one chosen before it is passed over.
#[allow(clippy::type_complexity)]
fn best_windows<E>(
    positives: &[&[u8]],
    score: &mut impl FnMut(&[&[u8]]) -> Result<Vec<f64>, E>,
    n: usize,
    distinct: usize,
) -> Result<(Vec<Vec<u8>>, Vec<f64>), E> {
    let probs = score(positives)?;
    let mut order: Vec<usize> = (0..positives.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    if distinct == 0 {
        order.truncate(n);
    } else {
        let mut seen: std::collections::HashSet<&[u8]> = Default::default();
        let mut kept = Vec::with_capacity(n);
        for i in order {
            if kept.len() == n {
                break;
            }
            let w = positives[i];
            if !w.windows(distinct).any(|s| seen.contains(s)) {
                seen.extend(w.windows(distinct));
                kept.push(i);
            }
        }
        order = kept;
    }
    Ok((
        order.iter().map(|&i| positives[i].to_vec()).collect(),
        order.iter().map(|&i| probs[i]).collect(),
    ))
}

/// Segments, k-mers and the weight matrix from windows and their importance.
fn assemble(
    windows: Vec<Vec<u8>>,
    p_bound: Vec<f64>,
    importance: Vec<Vec<f64>>,
    maps: Vec<Mutagenesis>,
    cfg: &MotifConfig,
) -> Motifs {
    let segments: Vec<(usize, Vec<u8>)> = windows
        .iter()
        .zip(&importance)
        .map(|(w, imp)| {
            let (start, s) = important_segment(w, imp, cfg.segment);
            (start, s.to_vec())
        })
        .collect();
    let cut: Vec<&[u8]> = segments.iter().map(|(_, s)| s.as_slice()).collect();
    let kmers = match cfg.background {
        Background::Shuffled => enriched_kmers(&cut, cfg),
        Background::Window => {
            let w: Vec<&[u8]> = windows.iter().map(Vec::as_slice).collect();
            enriched_in_windows(&cut, &w, cfg)
        }
    };
    let pwm = kmers
        .first()
        .map(|best| weight_matrix(&cut, best.kmer.as_bytes(), cfg.flank))
        .unwrap_or_default();
    Motifs {
        windows,
        p_bound,
        importance,
        maps,
        segments,
        kmers,
        pwm,
        counted: Vec::new(),
        counted_positives: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn random_seq(rng: &mut ChaCha8Rng, n: usize) -> Vec<u8> {
        (0..n).map(|_| BASES[rng.gen_range(0..4)]).collect()
    }

    #[test]
    fn binomial_tail_matches_exact_sums() {
        // Exact values from Python's fractions: sum(comb(n, j) p^j (1-p)^(n-j) for j >= k).
        assert!((binomial_upper_tail(10, 3, 0.2) - 0.32220_05).abs() < 1e-6);
        assert!((binomial_upper_tail(100, 10, 0.05) - 0.02818_83).abs() < 1e-6);
        assert_eq!(binomial_upper_tail(5, 0, 0.3), 1.0);
        assert_eq!(binomial_upper_tail(5, 6, 0.3), 0.0);
        // Far in the tail, still positive and finite.
        let tiny = binomial_upper_tail(500, 400, 0.01);
        assert!((0.0..1e-300).contains(&tiny));
    }

    #[test]
    fn a_planted_kmer_tops_the_table_and_its_matrix() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // 60 segments of 12 nt, 40 with UGUAAAUA planted at a random place.
        let segs: Vec<Vec<u8>> = (0..60)
            .map(|i| {
                let mut s = random_seq(&mut rng, 12);
                if i < 40 {
                    let at = rng.gen_range(0..=4);
                    s[at..at + 8].copy_from_slice(b"UGUAAAUA");
                }
                s
            })
            .collect();
        let refs: Vec<&[u8]> = segs.iter().map(Vec::as_slice).collect();
        let cfg = MotifConfig::default();
        let kmers = enriched_kmers(&refs, &cfg);
        let top5: Vec<&str> = kmers
            .iter()
            .filter(|e| e.kmer.len() == 5)
            .take(3)
            .map(|e| e.kmer.as_str())
            .collect();
        assert!(top5.iter().all(|k| "UGUAAAUA".contains(k)), "{top5:?}");
        assert!(
            kmers[0].p_value < 1e-10 && kmers[0].enrichment > 3.0,
            "{:?}",
            kmers[0]
        );
        let pwm = weight_matrix(&refs, b"UGUAA", 1);
        assert_eq!(pwm.len(), 7);
        for (col, want) in pwm[1..6].iter().zip(b"UGUAA") {
            let b = BASES.iter().position(|x| x == want).unwrap();
            assert!(col[b] > 0.95, "{col:?}");
            assert!((col.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        let bits = information_columns(&pwm);
        assert!(bits[2].iter().sum::<f64>() > 1.6 && bits[2].iter().sum::<f64>() <= 2.0);
    }

    #[test]
    fn composition_alone_is_not_enriched() {
        // GC-rich segments without any planted order: shuffles keep the
        // dinucleotides, so no k-mer should look significant.
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let segs: Vec<Vec<u8>> = (0..80)
            .map(|_| {
                (0..12)
                    .map(|_| {
                        if rng.gen_bool(0.8) {
                            [b'G', b'C'][rng.gen_range(0..2)]
                        } else {
                            b'A'
                        }
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&[u8]> = segs.iter().map(Vec::as_slice).collect();
        let kmers = enriched_kmers(&refs, &MotifConfig::default());
        assert!(kmers.iter().all(|e| e.p_value > 1e-4), "{:?}", &kmers[..3]);
    }

    #[test]
    fn counting_ranks_what_the_negatives_lack_and_one_copy_counts_once() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        // 200 positives, half with CGACG; 200 negatives without it.
        let with = |plant: bool, rng: &mut ChaCha8Rng| {
            let mut s = random_seq(rng, 101);
            while s.windows(5).any(|w| w == b"CGACG") {
                s = random_seq(rng, 101);
            }
            if plant {
                let at = rng.gen_range(0..=96);
                s[at..at + 5].copy_from_slice(b"CGACG");
            }
            s
        };
        let pos: Vec<Vec<u8>> = (0..200).map(|i| with(i % 2 == 0, &mut rng)).collect();
        let neg: Vec<Vec<u8>> = (0..200).map(|_| with(false, &mut rng)).collect();
        let (p, n): (Vec<&[u8]>, Vec<&[u8]>) = (
            pos.iter().map(Vec::as_slice).collect(),
            neg.iter().map(Vec::as_slice).collect(),
        );
        let k = counted_kmers(&p, &n, 5..=5);
        assert_eq!(
            (k[0].kmer.as_str(), k[0].segments, k[0].background),
            ("CGACG", 100, 0)
        );
        // Next come the k-mers that overlap the planted one with a flanking
        // base (GACGA: 45 positives), far behind; no other is significant.
        assert!(
            k[0].p_value < 1e-100 && k[1].p_value > 1e-30,
            "{:?}",
            &k[..2]
        );
        let unrelated = k.iter().filter(|e| {
            !(1..5).any(|o| {
                e.kmer.as_bytes()[o..] == b"CGACG"[..5 - o]
                    || e.kmer.as_bytes()[..5 - o] == b"CGACG"[o..]
            })
        });
        assert!(
            unrelated.clone().all(|e| e.p_value > 1e-4),
            "{:?}",
            unrelated.take(2).collect::<Vec<_>>()
        );

        // Ten copies of one window score best: with `distinct`, one is kept.
        let mut wins = vec![pos[0].clone(); 10];
        wins.extend(pos[1..40].iter().cloned());
        let refs: Vec<&[u8]> = wins.iter().map(Vec::as_slice).collect();
        let mut score = |ws: &[&[u8]]| -> Result<Vec<f64>, std::convert::Infallible> {
            Ok(ws
                .iter()
                .map(|w| if *w == p[0] { 0.99 } else { 0.5 })
                .collect())
        };
        let (all, _) = best_windows(&refs, &mut score, 20, 0).unwrap();
        assert_eq!(all.iter().filter(|w| **w == pos[0]).count(), 10);
        let (once, probs) = best_windows(&refs, &mut score, 20, 20).unwrap();
        assert_eq!(once.iter().filter(|w| **w == pos[0]).count(), 1);
        assert_eq!((once.len(), probs[0]), (20, 0.99));
    }

    #[test]
    fn a_u_tract_ranks_against_its_window_not_against_its_shuffles() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // Windows without U tracts, each with one planted where the
        // "important segment" is cut.
        let mut wins = Vec::new();
        let mut segs = Vec::new();
        for _ in 0..80 {
            let mut w = random_seq(&mut rng, 101);
            let at = rng.gen_range(0..=89);
            w[at..at + 12].copy_from_slice(b"ACUUUUUUUUGA");
            segs.push(w[at..at + 12].to_vec());
            wins.push(w);
        }
        let (s, w): (Vec<&[u8]>, Vec<&[u8]>) = (
            segs.iter().map(Vec::as_slice).collect(),
            wins.iter().map(Vec::as_slice).collect(),
        );
        let cfg = MotifConfig {
            k_min: 5,
            k_max: 5,
            ..Default::default()
        };
        let by_window = enriched_in_windows(&s, &w, &cfg);
        // The tract's k-mers lead (its edges first: random segments of a
        // window overlap its tract too, and hold the edges less often).
        assert!(
            by_window[..3].iter().all(|e| e.kmer.contains("UUU")),
            "{:?}",
            &by_window[..3]
        );
        let uuuuu = by_window.iter().find(|e| e.kmer == "UUUUU").unwrap();
        assert!(uuuuu.p_value < 1e-20, "{uuuuu:?}");
        // Shuffles keep the UU dinucleotides: UUUUU stays in most shuffles.
        let by_shuffle = enriched_kmers(&s, &cfg);
        let uuuuu = by_shuffle.iter().find(|e| e.kmer == "UUUUU").unwrap();
        assert!(uuuuu.p_value > 0.01, "{uuuuu:?}");
    }

    #[test]
    fn the_important_segment_is_where_importance_sums_highest() {
        let seq = b"AAAAACCCCCGGGGG".to_vec();
        // Importance 1 on positions 6..9: delta -1 for every substitution there.
        let delta = (0..15)
            .map(|i| {
                if (6..9).contains(&i) {
                    [-1.0; 4]
                } else {
                    [0.0; 4]
                }
            })
            .collect();
        let m = Mutagenesis {
            seq,
            p_ref: 0.9,
            delta,
        };
        let imp = m.importance();
        assert_eq!(important_segment(&m.seq, &imp, 5), (4, b"ACCCC".as_slice()));
        assert_eq!(important_segment(&m.seq, &imp, 3), (6, b"CCC".as_slice()));
    }

    /// A toy model that knows its motif: P(bound) is high when UGUAAAUA is
    /// in the window, and its "gradient" marks exactly those 8 positions.
    #[test]
    fn gradient_motifs_find_a_planted_site_and_ism_settings_are_refused() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let wins: Vec<Vec<u8>> = (0..40)
            .map(|_| {
                let mut s = random_seq(&mut rng, 101);
                let at = rng.gen_range(0..=93);
                s[at..at + 8].copy_from_slice(b"UGUAAAUA");
                s
            })
            .collect();
        let refs: Vec<&[u8]> = wins.iter().map(Vec::as_slice).collect();
        let site = |w: &[u8]| w.windows(8).position(|x| x == b"UGUAAAUA");
        let score = |ws: &[&[u8]]| -> Result<Vec<f64>, std::convert::Infallible> {
            Ok(ws
                .iter()
                .map(|w| if site(w).is_some() { 0.9 } else { 0.1 })
                .collect())
        };
        let gradient = |ws: &[&[u8]]| -> Result<Vec<Vec<f64>>, std::convert::Infallible> {
            Ok(ws
                .iter()
                .map(|w| {
                    let at = site(w).expect("planted");
                    (0..w.len())
                        .map(|i| f64::from(u8::from((at..at + 8).contains(&i))))
                        .collect()
                })
                .collect())
        };
        let cfg = MotifConfig {
            windows: 30,
            importance: Importance::Gradient,
            ..Default::default()
        };
        let found = find_motifs_by_gradient(&refs, score, gradient, &cfg).unwrap();
        assert_eq!((found.windows.len(), found.maps.len()), (30, 0));
        assert!(found
            .segments
            .iter()
            .all(|(_, s)| s.windows(8).any(|x| x == b"UGUAAAUA")));
        assert!(found
            .top(5, 3)
            .iter()
            .any(|e| b"UGUAAAUA".windows(5).any(|x| x == e.kmer.as_bytes())));
        assert!(matches!(
            find_motifs(&refs, score, &cfg, |_| {}),
            Err(ExplainError::Config(_))
        ));
    }

    #[test]
    fn check_rejects_nonsense() {
        let bad = [
            MotifConfig {
                windows: 0,
                ..Default::default()
            },
            MotifConfig {
                k_min: 6,
                k_max: 5,
                ..Default::default()
            },
            MotifConfig {
                segment: 5,
                ..Default::default()
            },
            MotifConfig {
                segment: 200,
                k_max: 7,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(c.check().is_err(), "{c:?}");
        }
        MotifConfig::default().check().unwrap();
    }
}
