//! How well two per-nucleotide importance tracks of the same windows agree
//! (in-silico mutagenesis against gradient x input): per-window Pearson and
//! Spearman correlation, and the overlap of their most important positions.
//!
//! Hand-written: three textbook formulas over 101 numbers, where a
//! statistics crate would bring a linear-algebra stack with it.

/// Positions compared by [`Agreement::top_overlap`].
pub const TOP_POSITIONS: usize = 10;

/// Agreement of two importance tracks over a set of windows.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Agreement {
    /// Windows compared (those where both tracks vary).
    pub windows: usize,
    /// Mean per-window Pearson correlation.
    pub pearson_mean: f64,
    /// Median per-window Pearson correlation.
    pub pearson_median: f64,
    /// Mean per-window Spearman (rank) correlation.
    pub spearman_mean: f64,
    /// Mean share of the first track's [`TOP_POSITIONS`] most important
    /// positions that are also among the second's (random tracks: ~0.1).
    pub top_overlap: f64,
}

/// Pearson correlation of `a` and `b` (`None` when either is constant).
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    assert_eq!(a.len(), b.len(), "tracks of one window have one length");
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

/// Ranks from 1, ties sharing their mean rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (`None` when either track is constant).
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(&ranks(a), &ranks(b))
}

/// Indices of the `k` largest values.
fn top(v: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[j].total_cmp(&v[i]).then(i.cmp(&j)));
    order.truncate(k);
    order
}

/// Agreement of `first[w]` and `second[w]` over windows `w`.
///
/// ```
/// use circssnn::explain::agreement;
/// let a = vec![vec![0.0, 1.0, 2.0, 3.0]];
/// let b = vec![vec![0.0, 10.0, 20.0, 31.0]];
/// let g = agreement(&a, &b);
/// assert!(g.pearson_mean > 0.99 && (g.spearman_mean - 1.0).abs() < 1e-12);
/// ```
pub fn agreement(first: &[Vec<f64>], second: &[Vec<f64>]) -> Agreement {
    assert_eq!(
        first.len(),
        second.len(),
        "one track of each kind per window"
    );
    let mut rs = Vec::new();
    let (mut rho, mut overlap) = (0.0, 0.0);
    for (a, b) in first.iter().zip(second) {
        let (Some(r), Some(s)) = (pearson(a, b), spearman(a, b)) else {
            continue;
        };
        rs.push(r);
        rho += s;
        let k = TOP_POSITIONS.min(a.len());
        let tb = top(b, k);
        overlap += top(a, k).iter().filter(|i| tb.contains(i)).count() as f64 / k as f64;
    }
    let n = rs.len();
    let mean = |x: f64| if n == 0 { f64::NAN } else { x / n as f64 };
    rs.sort_by(f64::total_cmp);
    Agreement {
        windows: n,
        pearson_mean: mean(rs.iter().sum()),
        pearson_median: if n == 0 {
            f64::NAN
        } else if n % 2 == 1 {
            rs[n / 2]
        } else {
            (rs[n / 2 - 1] + rs[n / 2]) / 2.0
        },
        spearman_mean: mean(rho),
        top_overlap: mean(overlap),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlations_match_scipy() {
        // scipy.stats.pearsonr / spearmanr of these lists: 0.825430 and 0.869657 (ties averaged).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [2.0, 1.0, 4.0, 4.0, 7.0, 5.0];
        assert!((pearson(&a, &b).unwrap() - 0.825_430).abs() < 1e-5);
        assert!((spearman(&a, &b).unwrap() - 0.869_657).abs() < 1e-5);
        assert_eq!(pearson(&a, &[3.0; 6]), None);
        assert_eq!(ranks(&[5.0, 1.0, 5.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn agreement_of_a_track_with_itself_and_its_negation() {
        let t: Vec<Vec<f64>> = (0..5)
            .map(|w| (0..101).map(|i| ((i * 37 + w * 11) % 101) as f64).collect())
            .collect();
        let same = agreement(&t, &t);
        assert_eq!(same.windows, 5);
        assert!((same.pearson_mean - 1.0).abs() < 1e-12 && (same.top_overlap - 1.0).abs() < 1e-12);
        let neg: Vec<Vec<f64>> = t.iter().map(|v| v.iter().map(|x| -x).collect()).collect();
        let opp = agreement(&t, &neg);
        assert!((opp.spearman_mean + 1.0).abs() < 1e-12 && opp.top_overlap == 0.0);
    }
}
