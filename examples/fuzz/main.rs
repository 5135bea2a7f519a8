//! Long fuzzing runs of the crate's parsers (see `targets.rs`):
//!
//!     cargo run --release --example fuzz -- [TARGET|all] [EXECS] [SEED]
//!
//! Default: every target, 1,000,000 inputs each, seed 1. Panicking inputs
//! are written to `fuzz/crashes/<target>/`; the exit status is non-zero if
//! there were any.

mod targets;

use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("all", String::as_str);
    let execs: u64 = args
        .get(1)
        .map_or(1_000_000, |a| a.parse().expect("EXECS is a number"));
    let seed: u64 = args
        .get(2)
        .map_or(1, |a| a.parse().expect("SEED is a number"));
    let mut panics = 0;
    for (name, target) in targets::targets() {
        if which != "all" && which != name {
            continue;
        }
        let t0 = Instant::now();
        let s = targets::run(name, target, seed, Duration::MAX, execs);
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "{name}: {} inputs, {} panics, {secs:.0} s ({:.0} inputs/s)",
            s.execs,
            s.panics,
            s.execs as f64 / secs
        );
        panics += s.panics;
    }
    if panics > 0 {
        eprintln!("{panics} panicking inputs saved under fuzz/crashes/");
        std::process::exit(1);
    }
}
