//! Metrics against scikit-learn's values and a brute-force pairwise AUC.

use circssnn::eval::{binary_metrics, published_batch_mean, roc_auc, roc_curve, MetricError};
use proptest::prelude::*;

const S: [f64; 10] = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.55, 0.4, 0.05];
const Y: [u8; 10] = [0, 0, 1, 1, 1, 1, 0, 0, 0, 1];

#[test]
fn matches_scikit_learn() {
    // sklearn 1.x: roc_auc_score, accuracy, precision, recall, f1, matthews_corrcoef
    // on the same vectors with predictions s >= 0.5.
    let m = binary_metrics(&S, &Y, 0.5).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(m.auc, 0.6), "{}", m.auc);
    assert!(close(m.accuracy, 0.6));
    assert!(close(m.precision, 2.0 / 3.0));
    assert!(close(m.recall, 0.4));
    assert!(close(m.f1, 0.5));
    assert!(close(m.mcc, 0.2182178902359924), "{}", m.mcc);
}

#[test]
fn roc_curve_matches_scikit_learn() {
    // sklearn roc_curve(..., drop_intermediate=False)
    let fpr = [0.0, 0.0, 0.0, 0.2, 0.6, 0.6, 0.8, 1.0, 1.0];
    let tpr = [0.0, 0.2, 0.4, 0.4, 0.6, 0.8, 0.8, 0.8, 1.0];
    let thr = [f64::INFINITY, 0.9, 0.8, 0.55, 0.4, 0.35, 0.2, 0.1, 0.05];
    let pts = roc_curve(&S, &Y).unwrap();
    assert_eq!(pts.len(), fpr.len());
    for (i, p) in pts.iter().enumerate() {
        assert!(
            (p.fpr - fpr[i]).abs() < 1e-12
                && (p.tpr - tpr[i]).abs() < 1e-12
                && p.threshold == thr[i],
            "point {i}: {p:?}"
        );
    }
}

#[test]
fn errors_are_explicit() {
    assert!(matches!(
        roc_auc(&[0.1, 0.2], &[1, 1]),
        Err(MetricError::OneClass {
            positives: 2,
            negatives: 0
        })
    ));
    assert!(matches!(
        roc_auc(&[0.1], &[1, 0]),
        Err(MetricError::LengthMismatch { .. })
    ));
    assert!(matches!(
        roc_auc(&[f64::NAN, 0.2], &[1, 0]),
        Err(MetricError::NotFinite { index: 0, .. })
    ));
    assert!(matches!(
        roc_auc(&[0.1, 0.2], &[2, 0]),
        Err(MetricError::BadLabel { index: 0, value: 2 })
    ));
}

#[test]
fn batch_mean_differs_from_whole_set() {
    // Two batches that are each perfectly ranked, but whose score scales differ:
    // every batch AUC is 1, the whole-set AUC is not.
    let scores = [0.9, 0.8, 0.1, 0.0, 0.3, 0.2];
    let labels = [1, 0, 1, 0, 1, 0];
    let pub_m = published_batch_mean(&scores, &labels, 2).unwrap();
    assert_eq!(pub_m.auc, 1.0);
    assert_eq!(pub_m.batches, 3);
    let whole = roc_auc(&scores, &labels).unwrap();
    // 0.9 beats all three negatives, 0.1 beats one, 0.3 beats two: 6 of 9 pairs.
    assert!((whole - 6.0 / 9.0).abs() < 1e-12, "{whole}");
}

#[test]
fn batch_mean_drops_tail_and_one_class_batches() {
    let m = published_batch_mean(&[0.9, 0.8, 0.7, 0.1, 0.5], &[1, 1, 1, 0, 1], 2).unwrap();
    assert_eq!((m.batches, m.skipped_one_class, m.dropped_tail), (1, 1, 1));
}

#[test]
fn batch_mean_without_a_usable_batch_is_undefined() {
    // Shorter than one batch: everything is the dropped tail.
    let m = published_batch_mean(&[0.9, 0.1, 0.4], &[1, 0, 1], 64).unwrap();
    assert_eq!((m.batches, m.dropped_tail), (0, 3));
    assert!(m.auc.is_nan() && m.accuracy.is_nan(), "{m:?}");
    // Full batches, but each of one class only.
    let m = published_batch_mean(&[0.9, 0.8, 0.2, 0.1], &[1, 1, 0, 0], 2).unwrap();
    assert_eq!((m.batches, m.skipped_one_class), (0, 2));
    assert!(m.auc.is_nan(), "{m:?}");
}

fn brute_force_auc(s: &[f64], y: &[u8]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for i in 0..s.len() {
        for j in 0..s.len() {
            if y[i] == 1 && y[j] == 0 {
                pairs += 1.0;
                wins += if s[i] > s[j] {
                    1.0
                } else if s[i] == s[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    wins / pairs
}

fn scored() -> impl Strategy<Value = Vec<(f64, u8)>> {
    // Scores from a small grid so that ties are common.
    prop::collection::vec(((0u8..12).prop_map(|v| v as f64 / 11.0), 0u8..2), 2..120)
        .prop_filter("both classes", |v| {
            v.iter().any(|p| p.1 == 1) && v.iter().any(|p| p.1 == 0)
        })
}

proptest! {
    #[test]
    fn auc_equals_pairwise_count(v in scored()) {
        let (s, y): (Vec<f64>, Vec<u8>) = v.into_iter().unzip();
        let auc = roc_auc(&s, &y).unwrap();
        prop_assert!((auc - brute_force_auc(&s, &y)).abs() < 1e-12);
        // The trapezoid area under roc_curve is the same number.
        let pts = roc_curve(&s, &y).unwrap();
        let area: f64 = pts.windows(2).map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0).sum();
        prop_assert!((auc - area).abs() < 1e-12);
        prop_assert_eq!((pts[0].fpr, pts[0].tpr), (0.0, 0.0));
        prop_assert_eq!((pts.last().unwrap().fpr, pts.last().unwrap().tpr), (1.0, 1.0));
    }

    #[test]
    fn confusion_counts_add_up(v in scored(), t in 0.0f64..1.0) {
        let (s, y): (Vec<f64>, Vec<u8>) = v.into_iter().unzip();
        let m = binary_metrics(&s, &y, t).unwrap();
        prop_assert_eq!(m.tp + m.fp + m.tn + m.fn_, s.len());
        prop_assert!((-1.0..=1.0).contains(&m.mcc));
        prop_assert!((0.0..=1.0).contains(&m.f1));
    }
}
