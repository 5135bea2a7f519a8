//! Which negatives a zoo should learn from, measured on windows no model
//! has seen.
//!
//! The benchmark's negatives (the *pool*) are windows of 4–30 transcripts
//! per set, so a model can score a window by recognising those transcripts;
//! dinucleotide shuffles of the positives close that shortcut but teach
//! another contrast. Each kind's own test part favours it, so neither says
//! which model serves someone else's circRNAs. [`cross_negatives`] scores
//! both kinds of model, trained under the grouped split (no transcript in
//! both test and training), on the **same held-out positives** against two
//! kinds of non-binding window:
//!
//! * **held-out transcripts**: the pool windows of the negative transcripts
//!   the grouped split kept out of training, what the rest of an unseen
//!   circRNA looks like to `scan`;
//! * **shuffles**: one dinucleotide shuffle of each held-out positive, the
//!   same composition with the order destroyed.
//!
//! The 1–3-mer baseline, fitted on each kind's training part, is scored the
//! same way beside them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Zoo, ZooError};
use crate::baseline::{BaselineConfig, KmerLogistic};
use crate::data::split::SplitKind;
use crate::data::{Dataset, Negatives, Protocol, Registry, SetKind};
use crate::eval::metrics::roc_auc;
use crate::features::learned::DescriptorModels;
use crate::output::write_atomic;
use crate::train::{DeviceKind, Predictor, TrainError};

/// The test windows of one set that both kinds of model leave out of
/// training: one list of positives and the two lists of negatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldOut {
    /// Test-part positives (transcripts no model trained on).
    pub positives: Vec<Vec<u8>>,
    /// Test-part pool negatives: windows of held-out negative transcripts.
    pub transcripts: Vec<Vec<u8>>,
    /// One dinucleotide shuffle of each test-part positive.
    pub shuffles: Vec<Vec<u8>>,
}

/// A kind of model's training part under `protocol`: windows and labels.
type Part = (Vec<Vec<u8>>, Vec<u8>);

fn part(ds: &Dataset, idx: &[usize]) -> Part {
    (
        idx.iter().map(|&i| ds.records[i].seq.clone()).collect(),
        idx.iter().map(|&i| ds.labels[i]).collect(),
    )
}

fn check_grouped(p: &Protocol, what: &str) -> Result<(), String> {
    if p.split != SplitKind::Grouped {
        return Err(format!(
            "{what} was trained under the {} split; the comparison needs the grouped split (train \
             both zoos with `circssnn zoo train --split grouped`), or its test negatives come \
             from transcripts it trained on",
            p.split
        ));
    }
    Ok(())
}

/// The held-out windows of `ds` under the grouped split of `seed` (and
/// `max_per_set`), with the training parts of the pool and the shuffled
/// protocol for the baselines. Both protocols split the real set first, so
/// their test positives are the same windows; this is checked, not assumed.
pub fn held_out(
    ds: &Dataset,
    split_seed: u64,
    max_per_set: Option<usize>,
) -> Result<(HeldOut, [Part; 2]), String> {
    if ds.kind == SetKind::Linear {
        return Err(format!(
            "{} is a linear set: its records carry no transcript id, so no negative \
             transcript can be held out",
            ds.name
        ));
    }
    let protocol = |negatives| Protocol {
        split: SplitKind::Grouped,
        split_seed,
        negatives,
        max_per_set,
    };
    let (pool, ps) = protocol(Negatives::Pool).apply(ds);
    let (shuf, ss) = protocol(Negatives::Shuffled).apply(ds);
    let of = |d: &Dataset, idx: &[usize], label: u8| -> Vec<Vec<u8>> {
        idx.iter()
            .filter(|&&i| d.labels[i] == label)
            .map(|&i| d.records[i].seq.clone())
            .collect()
    };
    let positives = of(&pool, &ps.test, 1);
    let mut sorted = (positives.clone(), of(&shuf, &ss.test, 1));
    sorted.0.sort();
    sorted.1.sort();
    if sorted.0 != sorted.1 {
        return Err(format!(
            "{}: the pool and the shuffled protocol hold out different positives ({} and {})",
            ds.name,
            sorted.0.len(),
            sorted.1.len()
        ));
    }
    let held = HeldOut {
        positives,
        transcripts: of(&pool, &ps.test, 0),
        shuffles: of(&shuf, &ss.test, 0),
    };
    if held.positives.is_empty() || held.transcripts.is_empty() {
        return Err(format!(
            "{}: the grouped split's test part holds {} positives and {} negatives; both are \
             needed",
            ds.name,
            held.positives.len(),
            held.transcripts.len()
        ));
    }
    Ok((held, [part(&pool, &ps.train), part(&shuf, &ss.train)]))
}

/// Whole-test AUCs of one model against both kinds of held-out negative.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Against {
    /// Held-out positives against held-out transcripts' windows.
    pub transcripts: f64,
    /// Held-out positives against their dinucleotide shuffles.
    pub shuffles: f64,
}

impl Against {
    /// Score `score`'s outputs on `held`.
    pub fn measure(
        held: &HeldOut,
        score: impl Fn(&[&[u8]]) -> Result<Vec<f64>, TrainError>,
    ) -> Result<Self, TrainError> {
        fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
            v.iter().map(|s| s.as_slice()).collect()
        }
        let pos = score(&refs(&held.positives))?;
        let auc = |neg: &[Vec<u8>]| -> Result<f64, TrainError> {
            let neg = score(&refs(neg))?;
            let scores: Vec<f64> = pos.iter().chain(&neg).copied().collect();
            let labels: Vec<u8> = std::iter::repeat_n(1, pos.len())
                .chain(std::iter::repeat_n(0, neg.len()))
                .collect();
            Ok(roc_auc(&scores, &labels)?)
        };
        Ok(Self {
            transcripts: auc(&held.transcripts)?,
            shuffles: auc(&held.shuffles)?,
        })
    }
}

/// One set of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossRow {
    /// The set.
    pub set: String,
    /// Held-out positives.
    pub positives: usize,
    /// Held-out transcripts' windows.
    pub transcript_windows: usize,
    /// The model trained on pool negatives.
    pub pool: Against,
    /// The model trained on shuffled negatives.
    pub shuffled: Against,
    /// The 1–3-mer baseline fitted on the pool protocol's training part.
    pub baseline_pool: Against,
    /// The 1–3-mer baseline fitted on the shuffled protocol's training part.
    pub baseline_shuffled: Against,
}

impl CrossRow {
    /// The four scored models in column order: pool-trained,
    /// shuffled-trained, baseline on pool, baseline on shuffled.
    pub fn models(&self) -> [Against; 4] {
        [
            self.pool,
            self.shuffled,
            self.baseline_pool,
            self.baseline_shuffled,
        ]
    }
}

/// Score the one-set models of the pool zoo in `pool` and the shuffled zoo
/// in `shuffled` (both `zoo train --split grouped`, same seed and size) on
/// the held-out windows of every set both have, in set order.
pub fn cross_negatives(
    reg: &Registry,
    pool: &Path,
    shuffled: &Path,
    progress: bool,
) -> Result<Vec<CrossRow>, ZooError> {
    let (pz, sz) = (Zoo::load(pool)?, Zoo::load(shuffled)?);
    let bad = |dir: &Path, message: String| ZooError::Manifest {
        path: dir.join(super::MANIFEST),
        message,
    };
    let load = |dir: &Path, m: &super::ZooEntry| -> Result<Predictor, ZooError> {
        if m.head.is_some() {
            return Err(bad(
                dir,
                format!(
                    "{} is a head of a multi-task network; compare one-set zoos (`zoo train`)",
                    m.set
                ),
            ));
        }
        Ok(Predictor::load(
            &dir.join(&m.dir),
            &DescriptorModels::default(),
            DeviceKind::Cpu,
        )?)
    };
    let mut rows = Vec::new();
    for pm in &pz.models {
        let Some(sm) = sz.get(&pm.set) else {
            if progress {
                eprintln!("{}: no model in {}, left out", pm.set, shuffled.display());
            }
            continue;
        };
        let (pp, sp) = (load(pool, pm)?, load(shuffled, sm)?);
        let (a, b) = (pp.meta.protocol(), sp.meta.protocol());
        check_grouped(&a, &format!("{}'s model in {}", pm.set, pool.display()))
            .map_err(|e| bad(pool, e))?;
        check_grouped(&b, &format!("{}'s model in {}", sm.set, shuffled.display()))
            .map_err(|e| bad(shuffled, e))?;
        if a.negatives != Negatives::Pool || b.negatives != Negatives::Shuffled {
            return Err(bad(
                pool,
                format!(
                    "{}: expected a pool-trained model here and a shuffled-trained one in {} \
                     (got {} and {})",
                    pm.set,
                    shuffled.display(),
                    a.negatives,
                    b.negatives
                ),
            ));
        }
        if (a.split_seed, a.max_per_set) != (b.split_seed, b.max_per_set) {
            return Err(bad(
                shuffled,
                format!(
                    "{}: split seed {} and windows {:?} here, {} and {:?} in {}: train both zoos \
                     with the same --max-per-set and seed",
                    sm.set,
                    b.split_seed,
                    b.max_per_set,
                    a.split_seed,
                    a.max_per_set,
                    pool.display()
                ),
            ));
        }
        let ds = reg.get(&pm.set)?.load(Default::default())?;
        let (held, [pool_train, shuf_train]) =
            held_out(&ds, a.split_seed, a.max_per_set).map_err(|e| bad(pool, e))?;
        let baseline = |(x, y): &Part| -> Result<Against, ZooError> {
            let fit = KmerLogistic::fit(x, y, &BaselineConfig::default())
                .map_err(|e| bad(pool, format!("{}: baseline: {e}", pm.set)))?;
            Ok(Against::measure(&held, |s| Ok(fit.predict_proba(s)))?)
        };
        let row = CrossRow {
            set: pm.set.clone(),
            positives: held.positives.len(),
            transcript_windows: held.transcripts.len(),
            pool: Against::measure(&held, |s| pp.predict(s))?,
            shuffled: Against::measure(&held, |s| sp.predict(s))?,
            baseline_pool: baseline(&pool_train)?,
            baseline_shuffled: baseline(&shuf_train)?,
        };
        if progress {
            eprintln!(
                "{}: pool-trained {:.3} / {:.3}, shuffled-trained {:.3} / {:.3} (held-out \
                 transcripts / shuffles)",
                row.set,
                row.pool.transcripts,
                row.pool.shuffles,
                row.shuffled.transcripts,
                row.shuffled.shuffles
            );
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(bad(
            shuffled,
            format!("has no model of a set that {} has", pool.display()),
        ));
    }
    Ok(rows)
}

/// The mean of each column of `rows`, in [`CrossRow::models`] order.
pub fn cross_means(rows: &[CrossRow]) -> [Against; 4] {
    let n = rows.len().max(1) as f64;
    std::array::from_fn(|k| Against {
        transcripts: rows.iter().map(|r| r.models()[k].transcripts).sum::<f64>() / n,
        shuffles: rows.iter().map(|r| r.models()[k].shuffles).sum::<f64>() / n,
    })
}

/// Write `negatives.csv` (one row per set) and `negatives.md` (the table
/// with its means) into `out`; returns the markdown.
pub fn write_cross(rows: &[CrossRow], out: &Path) -> Result<String, ZooError> {
    let io = |path: &Path, e: std::io::Error| ZooError::Manifest {
        path: path.to_path_buf(),
        message: format!("cannot write: {e}"),
    };
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let mut csv = String::from(
        "set,positives,transcript_windows,pool_vs_transcripts,pool_vs_shuffles,\
         shuffled_vs_transcripts,shuffled_vs_shuffles,baseline_pool_vs_transcripts,\
         baseline_pool_vs_shuffles,baseline_shuffled_vs_transcripts,\
         baseline_shuffled_vs_shuffles\n",
    );
    // One pair of cells per model, joined with `sep`.
    let cells = |models: [Against; 4], digits: usize, sep: &str| {
        models
            .iter()
            .map(|a| format!("{:.digits$}{sep}{:.digits$}", a.transcripts, a.shuffles))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let mut md = String::from(
        "Whole held-out AUC: held-out positives against windows of held-out negative \
         transcripts (T) and against their dinucleotide shuffles (S).\n\n\
         | set | positives | transcript windows | pool-trained T | pool-trained S | \
         shuffled-trained T | shuffled-trained S | baseline (pool) T | baseline (pool) S | \
         baseline (shuffled) T | baseline (shuffled) S |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let (set, n, t) = (&r.set, r.positives, r.transcript_windows);
        csv.push_str(&format!("{set},{n},{t},{}\n", cells(r.models(), 4, ",")));
        md.push_str(&format!(
            "| {set} | {n} | {t} | {} |\n",
            cells(r.models(), 3, " | ")
        ));
    }
    let bold = cross_means(rows)
        .iter()
        .map(|a| format!("**{:.3}** | **{:.3}**", a.transcripts, a.shuffles))
        .collect::<Vec<_>>()
        .join(" | ");
    md.push_str(&format!("| **mean of {}** | | | {bold} |\n", rows.len()));
    for (name, text) in [("negatives.csv", &csv), ("negatives.md", &md)] {
        let path = out.join(name);
        write_atomic(&path, |w| w.write_all(text.as_bytes())).map_err(|e| io(&path, e))?;
    }
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Record;

    /// 120 random 101-nt windows per class, from 12 transcripts each.
    fn toy() -> Dataset {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut records, mut labels) = (Vec::new(), Vec::new());
        for label in [1u8, 0] {
            for i in 0..120usize {
                let seq: Vec<u8> = (0..101).map(|_| b"ACGU"[rng.gen_range(0..4)]).collect();
                records.push(Record {
                    id: format!("hsa_circ_{}{}", if label == 1 { "p" } else { "n" }, i % 12),
                    header: String::new(),
                    seq,
                });
                labels.push(label);
            }
        }
        Dataset {
            name: "toy".into(),
            kind: SetKind::Circular,
            records,
            labels,
            test_start: None,
        }
    }

    #[test]
    fn both_kinds_hold_out_the_same_positives_and_unseen_transcripts() {
        let ds = toy();
        let (held, [pool_train, shuf_train]) = held_out(&ds, 4, None).unwrap();
        assert!(!held.positives.is_empty() && !held.transcripts.is_empty());
        assert_eq!(held.shuffles.len(), held.positives.len());
        // No held-out window is a training window of either kind.
        for w in held.positives.iter().chain(&held.transcripts) {
            assert!(!pool_train.0.contains(w) && !shuf_train.0.contains(w));
        }
        // Each shuffle keeps its positive's dinucleotides.
        let mut pos_pairs: Vec<Vec<[u8; 2]>> = held
            .positives
            .iter()
            .map(|s| {
                let mut d: Vec<[u8; 2]> = s.windows(2).map(|w| [w[0], w[1]]).collect();
                d.sort();
                d
            })
            .collect();
        pos_pairs.sort();
        let mut shuf_pairs: Vec<Vec<[u8; 2]>> = held
            .shuffles
            .iter()
            .map(|s| {
                let mut d: Vec<[u8; 2]> = s.windows(2).map(|w| [w[0], w[1]]).collect();
                d.sort();
                d
            })
            .collect();
        shuf_pairs.sort();
        assert_eq!(pos_pairs, shuf_pairs);
        // The shuffled protocol trains on positives and shuffles only.
        assert_eq!(
            shuf_train.1.iter().filter(|&&y| y == 1).count(),
            shuf_train.1.iter().filter(|&&y| y == 0).count()
        );
    }

    #[test]
    fn a_model_off_the_grouped_split_is_refused() {
        let err = check_grouped(&Protocol::default(), "QKI's model in z").unwrap_err();
        assert!(
            err.contains("random split") && err.contains("--split grouped"),
            "{err}"
        );
        let grouped = Protocol {
            split: SplitKind::Grouped,
            ..Default::default()
        };
        assert!(check_grouped(&grouped, "QKI's model in z").is_ok());
    }

    #[test]
    fn a_linear_set_is_refused() {
        let mut ds = toy();
        ds.kind = SetKind::Linear;
        let err = held_out(&ds, 4, None).unwrap_err();
        assert!(err.contains("no transcript id"), "{err}");
    }

    #[test]
    fn against_scores_positives_against_each_negative_kind() {
        let held = HeldOut {
            positives: vec![b"AAA".to_vec(), b"AAC".to_vec()],
            transcripts: vec![b"CCC".to_vec(), b"CCA".to_vec()],
            shuffles: vec![b"ACA".to_vec(), b"CAA".to_vec()],
        };
        // Scores the count of A: perfect against transcripts; the shuffles
        // tie or beat the positives.
        let a = Against::measure(&held, |s| {
            Ok(s.iter()
                .map(|w| w.iter().filter(|&&c| c == b'A').count() as f64)
                .collect())
        })
        .unwrap();
        assert_eq!(a.transcripts, 1.0);
        assert!((a.shuffles - 0.75).abs() < 1e-12, "{a:?}");
    }
}
