//! Splits: the published NumPy split reproduced bit for bit, and the
//! stratified split's guarantees.

use circssnn::data::split::{numpy_legacy_permutation, published, stratified, SplitConfig};
use proptest::prelude::*;
use serde_json::Value;

#[test]
fn published_permutation_matches_numpy() {
    let golden: Value =
        serde_json::from_str(include_str!("fixtures/published_split.json")).unwrap();
    for case in golden["cases"].as_array().unwrap() {
        let n = case["n"].as_u64().unwrap() as usize;
        let perm = numpy_legacy_permutation(4, n);
        let head: Vec<usize> = serde_json::from_value(case["head"].clone()).unwrap();
        let tail: Vec<usize> = serde_json::from_value(case["tail"].clone()).unwrap();
        assert_eq!(&perm[..head.len()], &head[..], "head of permutation({n})");
        assert_eq!(
            &perm[n - tail.len()..],
            &tail[..],
            "tail of permutation({n})"
        );

        // The split itself: NumPy's training indices (with Python's round) are
        // exactly training + validation here, and the rest is the test part.
        let labels: Vec<u8> = (0..n).map(|i| (i < n / 2) as u8).collect();
        let s = published(&labels, 0.1, 7);
        let n_train = case["n_train"].as_u64().unwrap() as usize;
        assert_eq!(s.train.len() + s.valid.len(), n_train, "n={n}");
        let ss: u64 = s
            .train
            .iter()
            .chain(&s.valid)
            .map(|&i| (i * i) as u64)
            .sum();
        assert_eq!(
            ss,
            case["sum_of_squares_of_train"].as_u64().unwrap(),
            "n={n}"
        );
        let mut test = perm[n_train..].to_vec();
        test.sort();
        assert_eq!(s.test, test);
    }
}

#[test]
fn stratified_is_pinned_across_platforms_and_versions() {
    // ChaCha8 + rand 0.8's shuffle are specified bit for bit; if this changes,
    // every published number of the crate changes with it.
    let labels: Vec<u8> = (0..20).map(|i| (i % 2) as u8).collect();
    let s = stratified(
        &labels,
        &SplitConfig {
            test_frac: 0.2,
            valid_frac: 0.25,
            seed: 4,
        },
    );
    assert_eq!(s.test, vec![4, 7, 11, 16]);
    assert_eq!(s.valid, vec![1, 2, 5, 8]);
}

proptest! {
    #[test]
    fn stratified_partitions_and_keeps_class_balance(
        labels in prop::collection::vec(0u8..2, 1..400),
        seed in any::<u64>(),
        test_frac in 0.0f64..0.5,
        valid_frac in 0.0f64..0.5,
    ) {
        let cfg = SplitConfig { test_frac, valid_frac, seed };
        let s = stratified(&labels, &cfg);
        // A partition of all indices.
        let mut all: Vec<usize> = s.train.iter().chain(&s.valid).chain(&s.test).copied().collect();
        all.sort();
        prop_assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
        // Per class, the test part is the rounded fraction of that class.
        for class in [0u8, 1] {
            let n_c = labels.iter().filter(|&&y| y == class).count();
            let t_c = s.test.iter().filter(|&&i| labels[i] == class).count();
            prop_assert_eq!(t_c, (n_c as f64 * test_frac).round() as usize);
        }
        // Same seed, same split.
        prop_assert_eq!(&s, &stratified(&labels, &cfg));
    }
}
