//! Fuzz targets and a byte mutator, on stable Rust: each target takes
//! arbitrary bytes and must return (an `Ok` or a clear `Err`), never panic.
//! Shared by `examples/fuzz` (long runs) and `tests/fuzz.rs` (a bounded run
//! in CI). Hand-written because cargo-fuzz needs a nightly toolchain that CI
//! does not have; the mutator is the usual byte-level one (flip, insert,
//! delete, duplicate, splice, truncate) over a committed seed corpus.

#![allow(dead_code)]

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use circssnn::data::fasta;
use circssnn::data::LengthPolicy;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A target: bytes in, any result out; it must not panic.
pub type Target = fn(&[u8]);

/// FASTA/FASTQ (plain or gzipped) read to the end, each record fitted to a
/// window the way `--pad --trim` would.
pub fn fasta(bytes: &[u8]) {
    let Ok(records) = fasta::from_reader(Path::new("fuzz.fa"), Cursor::new(bytes.to_vec())) else {
        return;
    };
    for r in records {
        let Ok(r) = r else { return };
        let _ = LengthPolicy {
            pad: true,
            trim: true,
        }
        .fit(r.seq, circssnn::data::WINDOW);
    }
}

/// A checkpoint's metadata (`best.json`) and weights (a safetensors file),
/// split at the first NUL byte: the metadata parsed and checked, the
/// weights read against a small expected layout (`a`: 2 x 3, `b`: 4) by the
/// same reader `load_checkpoint` uses for the network's ~30 tensors (small,
/// so each input costs microseconds, not a 3.6 MB copy).
pub fn checkpoint(bytes: &[u8]) {
    let (json, weights) = match bytes.iter().position(|&b| b == 0) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[][..]),
    };
    if let Ok(text) = std::str::from_utf8(json) {
        let _ = circssnn::train::checkpoint::parse_meta(text);
    }
    let expected = [("a".to_string(), vec![2, 3]), ("b".to_string(), vec![4])];
    let _ = circssnn::train::checkpoint::read_weights(weights, &expected);
}

/// A results CSV (`metrics.csv`, a reproduction's `results.csv`).
pub fn results_csv(bytes: &[u8]) {
    let _ = circssnn::train::results::read_rows_from(
        Path::new("fuzz.csv"),
        Cursor::new(bytes.to_vec()),
    );
}

/// The targets by name.
pub fn targets() -> [(&'static str, Target); 3] {
    [
        ("fasta", fasta),
        ("checkpoint", checkpoint),
        ("results_csv", results_csv),
    ]
}

/// The committed seed inputs of a target.
pub fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// One mutation of `input` (with `other` for splicing).
pub fn mutate(input: &[u8], other: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let n = v.len();
        match rng.gen_range(0..8) {
            0 if n > 0 => {
                let i = rng.gen_range(0..n);
                v[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if n > 0 => {
                let i = rng.gen_range(0..n);
                v[i] = *[
                    b'>', b'@', b'+', b'\n', b'\r', b'N', 0, 0xff, b',', b'"', b'{', b'}', b'9',
                ]
                .get(rng.gen_range(0..13))
                .unwrap();
            }
            2 => {
                let i = rng.gen_range(0..=n);
                let b: u8 = rng.gen();
                v.insert(i, b);
            }
            3 if n > 0 => {
                let i = rng.gen_range(0..n);
                let len = rng.gen_range(1..=(n - i).min(64));
                v.drain(i..i + len);
            }
            4 if n > 0 => {
                let i = rng.gen_range(0..n);
                let len = rng.gen_range(1..=(n - i).min(64));
                let chunk = v[i..i + len].to_vec();
                let at = rng.gen_range(0..=v.len());
                v.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                let i = rng.gen_range(0..=n);
                let j = rng.gen_range(0..other.len());
                v.truncate(i);
                v.extend_from_slice(&other[j..]);
            }
            6 if n > 0 => v.truncate(rng.gen_range(0..n)),
            _ => {
                // A number-ish token, to reach size and count fields.
                let i = rng.gen_range(0..=n);
                let tok = [
                    "0",
                    "-1",
                    "1e309",
                    "NaN",
                    "18446744073709551616",
                    "4294967296",
                ][rng.gen_range(0..6)];
                v.splice(i..i, tok.bytes());
            }
        }
    }
    v
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Stats {
    /// Inputs tried.
    pub execs: u64,
    /// Inputs that panicked (saved under `fuzz/crashes/<target>/`).
    pub panics: u64,
}

/// Run `target` on mutations of its corpus until `budget` runs out or
/// `max_execs` inputs were tried. Panicking inputs are saved and counted.
pub fn run(name: &str, target: Target, seed: u64, budget: Duration, max_execs: u64) -> Stats {
    let seeds = corpus(name);
    assert!(!seeds.is_empty(), "no corpus for {name}");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pool = seeds.clone();
    let mut stats = Stats::default();
    let t0 = Instant::now();
    // Quiet: a panic is reported by count and file, not by a backtrace per input.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while stats.execs < max_execs && t0.elapsed() < budget {
        let a = &pool[rng.gen_range(0..pool.len())];
        let b = &pool[rng.gen_range(0..pool.len())];
        let input = mutate(a, b, &mut rng);
        stats.execs += 1;
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            stats.panics += 1;
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/crashes")
                .join(name);
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("crash-{seed}-{}", stats.execs)), &input);
        }
        // Keep some mutants as parents, so mutations compound.
        if rng.gen_ratio(1, 16) && pool.len() < 4096 {
            pool.push(input);
        }
    }
    std::panic::set_hook(hook);
    stats
}
