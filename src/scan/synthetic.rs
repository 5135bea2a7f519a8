//! Made-up circRNAs of realistic lengths, for measuring `scan` on a
//! transcriptome-sized input without shipping one.
//!
//! Lengths are log-normal with σ = 0.8 and the asked-for mean (spliced
//! circRNA lengths in circBase are right-skewed, most a few hundred nt, a
//! long tail past 5,000; a mean near 1,200 nt), cut to 150..=20,000 nt;
//! bases are independent with a GC share of 0.45 (the mean GC of the
//! benchmark's positive windows is 0.43-0.49). What the windows hold does
//! not change how fast they are scored: only their number does.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

/// Shortest and longest transcript written.
pub const LENGTHS: std::ops::RangeInclusive<usize> = 150..=20_000;

/// What [`write_synthetic_circrnas`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Synthetic {
    /// Transcripts.
    pub records: usize,
    /// Nucleotides in all.
    pub nt: u64,
}

impl Synthetic {
    /// Mean transcript length, nt.
    pub fn mean_len(&self) -> f64 {
        self.nt as f64 / self.records.max(1) as f64
    }

    /// Windows a scan at `stride` scores on a circle: one per `stride`-th
    /// start, `ceil(len / stride)` per transcript, summed (approximately:
    /// from the mean length).
    pub fn windows_at(&self, stride: usize) -> f64 {
        self.nt as f64 / stride.max(1) as f64
    }
}

/// Write `records` made-up circRNAs (`>synthetic_<k> len=<n>`, 80 nt per
/// line, gzipped) to `path`, seeded: the same seed writes the same file.
pub fn write_synthetic_circrnas(
    path: &Path,
    records: usize,
    mean_len: f64,
    seed: u64,
) -> std::io::Result<Synthetic> {
    let sigma: f64 = 0.8;
    // Mean of a log-normal is exp(mu + sigma^2 / 2).
    let mu = mean_len.max(1.0).ln() - sigma * sigma / 2.0;
    let lengths = LogNormal::new(mu, sigma).map_err(std::io::Error::other)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Synthetic { records, nt: 0 };
    crate::output::write_atomic(path, |w| {
        let mut gz = GzEncoder::new(w, Compression::fast());
        let mut seq = Vec::new();
        for k in 1..=records {
            let len =
                (lengths.sample(&mut rng).round() as usize).clamp(*LENGTHS.start(), *LENGTHS.end());
            seq.clear();
            seq.extend((0..len).map(|_| {
                let gc = rng.gen_bool(0.45);
                match (gc, rng.gen_bool(0.5)) {
                    (true, true) => b'G',
                    (true, false) => b'C',
                    (false, true) => b'A',
                    (false, false) => b'U',
                }
            }));
            writeln!(gz, ">synthetic_{k} len={len}")?;
            for line in seq.chunks(80) {
                gz.write_all(line)?;
                gz.write_all(b"\n")?;
            }
            out.nt += len as u64;
        }
        gz.finish()?;
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_have_the_asked_mean_and_the_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.fa.gz");
        let s = write_synthetic_circrnas(&path, 4000, 1200.0, 1).unwrap();
        assert_eq!(s.records, 4000);
        // The cut at 20,000 nt barely moves the mean; sampling error of a
        // mean of 4,000 draws with sd ~1,100 is ~17 nt.
        assert!((s.mean_len() - 1200.0).abs() < 80.0, "{}", s.mean_len());
        let mut n = 0;
        let mut nt = 0u64;
        for r in crate::data::fasta::open(&path).unwrap() {
            let r = r.unwrap();
            assert!(LENGTHS.contains(&r.seq.len()));
            nt += r.seq.len() as u64;
            n += 1;
        }
        assert_eq!((n, nt), (4000, s.nt));
        // Seeded.
        let again = dir.path().join("t.fa.gz");
        write_synthetic_circrnas(&again, 4000, 1200.0, 1).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&again).unwrap()
        );
    }
}
