//! The parsers never panic: each fuzz target (FASTA/FASTQ, checkpoint
//! metadata + weights, results CSV) runs on mutations of its committed
//! corpus for a bounded time (10 s each here; `cargo run --release --example
//! fuzz` for the long runs, 1,000,000+ inputs per target).

#[path = "../examples/fuzz/targets.rs"]
mod targets;

use std::time::Duration;

#[test]
fn no_input_makes_a_parser_panic() {
    for (name, target) in targets::targets() {
        let s = targets::run(name, target, 7, Duration::from_secs(10), u64::MAX);
        assert!(s.execs > 1000, "{name}: only {} inputs in 10 s", s.execs);
        assert_eq!(
            s.panics, 0,
            "{name}: {} panicking inputs, saved under fuzz/crashes/{name}/",
            s.panics
        );
    }
}

#[test]
fn every_corpus_seed_is_read() {
    // The seeds are valid inputs: the targets accept them (a mutation of a
    // valid input reaches deeper than random bytes).
    assert!(circssnn::data::fasta::from_reader(
        "seed".as_ref(),
        std::io::Cursor::new(targets::corpus("fasta")[0].clone())
    )
    .unwrap()
    .all(|r| r.is_ok()));
    let rows = circssnn::train::results::read_rows_from(
        "seed".as_ref(),
        std::io::Cursor::new(targets::corpus("results_csv")[0].clone()),
    )
    .unwrap();
    assert!(!rows.is_empty());
}
