//! Throughput of every stage, as `circssnn bench` prints it and a notebook
//! reads it: reading FASTA, KNFP and k-mer counting on a set's windows; the
//! network's training and inference windows/s per profile
//! ([`crate::train::throughput`]); the BERT descriptor's windows/s; and
//! explaining windows by mutagenesis and by gradient x input.
//!
//! Speed targets live here and in `bench/` (against PyTorch), never in timed
//! unit tests.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::data::{LengthPolicy, Registry};
use crate::features::bert::{
    Bert, BertConfig, BertDescriptor, BertProfile, KmerTokenizer, Paper, Small,
};
use crate::features::{kmer_counts, knfp_batch, knfp_into, Descriptor, ViewSet, KNFP_LEN};
use crate::model::{BERT_PAPER, BERT_SMALL};
use crate::train::throughput::{measure, Throughput};
use crate::train::{DeviceKind, TrainError};
use crate::with_device;

/// Which network profiles to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Profiles {
    /// The small CPU profile (BERT 128): KNFP alone and all three views.
    Small,
    /// The paper profile (BERT 768), all three views.
    Paper,
    /// Both.
    All,
    /// Only the data pipeline.
    None,
}

impl std::str::FromStr for Profiles {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "small" => Ok(Self::Small),
            "paper" => Ok(Self::Paper),
            "all" => Ok(Self::All),
            "none" => Ok(Self::None),
            _ => Err(format!(
                "unknown profile {s:?}: use small, paper, all or none"
            )),
        }
    }
}

impl Profiles {
    fn small(self) -> bool {
        matches!(self, Self::Small | Self::All)
    }
    fn paper(self) -> bool {
        matches!(self, Self::Paper | Self::All)
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Set whose windows are the input.
    pub set: String,
    /// Minimum time per data-pipeline and BERT measurement.
    pub min_time: Duration,
    /// Timed steps per network measurement (after one warm-up step).
    pub steps: usize,
    /// Network profiles.
    pub profiles: Profiles,
    /// Where the network runs.
    pub device: DeviceKind,
    /// Windows of another length than 101.
    pub policy: LengthPolicy,
    /// Skip the BERT, explain and all-RBP sections (the data-pipeline rows,
    /// a few seconds, still run), for `make -C bench compare`.
    pub network_only: bool,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            set: "AGO2".into(),
            min_time: Duration::from_secs(1),
            steps: 5,
            profiles: Profiles::All,
            device: DeviceKind::Cpu,
            policy: LengthPolicy::default(),
            network_only: false,
        }
    }
}

/// One measured rate.
#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    /// What was measured.
    pub stage: String,
    /// Windows per second.
    pub per_s: f64,
}

/// Everything measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Input set and its size.
    pub set: String,
    /// Windows in it.
    pub windows: usize,
    /// Rayon threads.
    pub threads: usize,
    /// Data-pipeline stages.
    pub pipeline: Vec<Rate>,
    /// The network per profile and view set.
    pub network: Vec<Throughput>,
    /// The BERT descriptor per profile (`small 128/4/4/512`, ...).
    pub bert: Vec<Rate>,
    /// Explaining windows with the KNFP network: mutagenesis and gradient x
    /// input (small profile only).
    pub explain: Vec<Rate>,
    /// Scoring each window for all 37 circular RBPs (KNFP networks): 37
    /// one-set networks against one multi-task network (small profile only).
    pub all_rbps: Vec<Rate>,
}

/// Run `f` (which processes `items` items) until `min` has passed; items/s.
fn rate(items: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let t0 = Instant::now();
    let mut n = 0usize;
    while t0.elapsed() < min {
        f();
        n += items;
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

/// Measure every stage of `cfg` on the windows of `cfg.set`.
pub fn run(reg: &Registry, cfg: &BenchConfig) -> Result<BenchReport, TrainError> {
    let min = cfg.min_time;
    let t0 = Instant::now();
    let ds = reg.get(&cfg.set)?.load(cfg.policy)?;
    let load_rate = ds.len() as f64 / t0.elapsed().as_secs_f64();
    let seqs: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();

    let mut buf = vec![0f32; KNFP_LEN];
    let knfp_1 = rate(seqs.len(), min, || {
        for s in &seqs {
            knfp_into(s, &mut buf);
        }
        std::hint::black_box(&buf);
    });
    // Training batches of 64, as the model will request them; one batch for
    // the whole set would measure page faults of a 1.4 GB array instead.
    let knfp_par = rate(seqs.len(), min, || {
        for chunk in seqs.chunks(64) {
            std::hint::black_box(knfp_batch(chunk));
        }
    });
    let counts = rate(seqs.len(), min, || {
        for s in &seqs {
            std::hint::black_box(kmer_counts(s));
        }
    });
    let pipeline = [
        ("FASTA read + validate (cold, once)", load_rate),
        ("KNFP 101x84, one thread", knfp_1),
        ("KNFP 101x84, batches of 64 (rayon)", knfp_par),
        ("1-3-mer counts, one thread", counts),
    ]
    .map(|(stage, per_s)| Rate {
        stage: stage.into(),
        per_s,
    })
    .to_vec();

    let p = cfg.profiles;
    let full = !cfg.network_only;
    let mut network = Vec::new();
    let mut bert = Vec::new();
    let mut explain = Vec::new();
    let mut all_rbps = Vec::new();
    with_device!(cfg.device, 0, dev: Dev => {
        if p.small() {
            network.push(measure::<BERT_SMALL, Dev>(&dev, "small", ViewSet::KNFP, cfg.steps)?);
            network.push(measure::<BERT_SMALL, Dev>(&dev, "small", ViewSet::ALL, cfg.steps)?);
        }
        if p.small() && full {
            bert.push(Rate {
                stage: profile_stage(BertProfile::Small),
                per_s: bert_rate::<{ Small::WIDTH }, { Small::LAYERS }, { Small::HEADS }, { Small::FF }, Dev>(&dev, &seqs, 64, min),
            });
            explain = explain_rates(&dev, &seqs, min)?;
            all_rbps = all_rbp_rates(&dev, &seqs, min)?;
        }
        if p.paper() {
            network.push(measure::<BERT_PAPER, Dev>(&dev, "paper", ViewSet::ALL, cfg.steps)?);
        }
        if p.paper() && full {
            bert.push(Rate {
                stage: profile_stage(BertProfile::Paper),
                per_s: bert_rate::<{ Paper::WIDTH }, { Paper::LAYERS }, { Paper::HEADS }, { Paper::FF }, Dev>(&dev, &seqs, 8, min),
            });
        }
    });
    Ok(BenchReport {
        set: ds.name.clone(),
        windows: ds.len(),
        threads: rayon::current_num_threads(),
        pipeline,
        network,
        bert,
        explain,
        all_rbps,
    })
}

/// Windows/s of scoring every window for all 37 circular RBPs, batches of
/// 256, KNFP computed once per batch either way (as `scan` caches it): 37
/// one-set networks, one forward each, against one multi-task network, one
/// forward for all 37 heads. Random weights (the speed does not depend on
/// them).
fn all_rbp_rates<Dev: dfdx::prelude::Device<f32>>(
    dev: &Dev,
    seqs: &[&[u8]],
    min: Duration,
) -> Result<Vec<Rate>, TrainError> {
    use crate::model::{CircSsnn, CircSsnnMulti, ModelConfig};
    use crate::train::{make_batch, Descriptors};
    const RBPS: usize = 37;
    let cfg = ModelConfig::default();
    let singles: Vec<CircSsnn<BERT_SMALL, 1, Dev>> =
        (0..RBPS).map(|_| CircSsnn::new(dev, cfg)).collect();
    let multi = CircSsnnMulti::<BERT_SMALL, 1, RBPS, Dev>::new_multi(dev, cfg);
    let desc = Descriptors::knfp_only();
    let windows = &seqs[..1024.min(seqs.len())];
    let mut failed = None;
    let mut time = |score: &mut dyn FnMut(&crate::model::ViewBatch<BERT_SMALL, Dev>)| {
        rate(windows.len(), min, || {
            for chunk in windows.chunks(256) {
                match make_batch(dev, &desc, ViewSet::KNFP, chunk) {
                    Ok(b) => score(&b),
                    Err(e) => failed = Some(e),
                }
            }
        })
    };
    let per_set = time(&mut |b| {
        for net in &singles {
            std::hint::black_box(net.forward_eval(b).expect("the KNFP view"));
        }
    });
    let one = time(&mut |b| {
        std::hint::black_box(multi.forward_eval(b).expect("the KNFP view"));
    });
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(vec![
        Rate {
            stage: format!("{RBPS} one-set networks"),
            per_s: per_set,
        },
        Rate {
            stage: format!("one multi-task network, {RBPS} heads"),
            per_s: one,
        },
    ])
}

/// Windows/s of explaining windows with a randomly initialised KNFP
/// network (the speed does not depend on the weights): in-silico
/// mutagenesis (304 forward passes per window, batched as
/// [`crate::explain::mutagenesis`] does) and gradient x input (one forward
/// and backward pass per window, batches of 32).
fn explain_rates<Dev: dfdx::prelude::Device<f32>>(
    dev: &Dev,
    seqs: &[&[u8]],
    min: Duration,
) -> Result<Vec<Rate>, TrainError> {
    use crate::model::{CircSsnn, ModelConfig};
    use crate::train::{make_batch, predict_proba, Descriptors};
    let net = CircSsnn::<BERT_SMALL, 1, Dev>::new(dev, ModelConfig::default());
    let desc = Descriptors::knfp_only();
    let ism_windows = &seqs[..crate::explain::WINDOWS_PER_CALL.min(seqs.len())];
    let mut failed = None;
    let ism = rate(ism_windows.len(), min, || {
        let r = crate::explain::mutagenesis(
            ism_windows,
            |w| predict_proba(&net, dev, &desc, w, 256),
            |_| {},
        );
        if let Err(e) = r {
            failed = Some(e);
        }
    });
    let grad_windows = &seqs[..32.min(seqs.len())];
    let grad = rate(grad_windows.len(), min, || {
        match make_batch(dev, &desc, ViewSet::KNFP, grad_windows) {
            Ok(b) => {
                std::hint::black_box(net.gradient_x_input(&b).expect("the KNFP view"));
            }
            Err(e) => failed = Some(e),
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(vec![
        Rate {
            stage: "mutagenesis, KNFP network (304 passes)".into(),
            per_s: ism,
        },
        Rate {
            stage: "gradient x input, KNFP network".into(),
            per_s: grad,
        },
    ])
}

/// Windows/s of a randomly initialised `D/L/H/F` BERT descriptor on batches
/// of `batch` windows (the speed does not depend on the weights).
fn bert_rate<const D: usize, const L: usize, const H: usize, const F: usize, Dev>(
    dev: &Dev,
    seqs: &[&[u8]],
    batch: usize,
    min: Duration,
) -> f64
where
    Dev: dfdx::prelude::Device<f32>,
{
    let bert =
        Bert::<D, L, H, F, Dev>::new(dev, BertConfig::new(D, L, H, F)).expect("a valid shape");
    let desc = BertDescriptor::new(bert, KmerTokenizer::default(), String::new(), dev.clone());
    let chunk = &seqs[..batch.min(seqs.len())];
    rate(chunk.len(), min, || {
        std::hint::black_box(desc.encode_batch(chunk));
    })
}

/// A BERT row's label: the profile and its shape ("small 128/4/4/512").
fn profile_stage(p: BertProfile) -> String {
    let [d, l, h, f] = p.dims();
    format!("{} {d}/{l}/{h}/{f}", p.name())
}

/// What `circssnn bench --scan` measures: `scan` of a zoo on made-up
/// circRNAs of realistic lengths ([`crate::scan::synthetic`]).
#[derive(Debug, Clone)]
pub struct ScanBench {
    /// Transcripts in the generated FASTA.
    pub records: usize,
    /// Their mean length, nt.
    pub mean_len: f64,
    /// Transcripts scanned per measurement (the first ones: a scan streams,
    /// so the rest of the file changes neither its rate nor its memory).
    pub sample: usize,
    /// Window stride, nt.
    pub stride: usize,
    /// The zoo scanned with.
    pub zoo: std::path::PathBuf,
    /// The RBP of the one-model row.
    pub one: String,
    /// Where the FASTA and the scans' outputs go (a temporary folder).
    pub dir: std::path::PathBuf,
}

/// One measured scan.
#[derive(Debug, Clone, Serialize)]
pub struct ScanRate {
    /// Which models (`QKI`, or `all 22`).
    pub models: String,
    /// How many.
    pub count: usize,
    /// Transcripts scanned.
    pub records: usize,
    /// Windows scored, each by every model.
    pub windows: usize,
    /// Wall time of the whole `scan` call (reading, scoring, writing), s.
    pub seconds: f64,
    /// Windows per second, each scored by every model.
    pub per_s: f64,
    /// Peak resident memory of the process so far, MiB (Linux).
    pub peak_mib: Option<f64>,
    /// Bytes of output per window (`windows.tsv`, the bedGraphs and
    /// `peaks.bed`; `report.html` is left out: it draws only the first
    /// transcripts, so its size does not grow with the input).
    pub bytes_per_window: f64,
}

/// The generated input and the scans of it.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// The FASTA written.
    pub input: crate::scan::synthetic::Synthetic,
    /// Seconds to write it.
    pub write_seconds: f64,
    /// Its size on disk (gzipped), bytes.
    pub input_bytes: u64,
    /// One model, then every model of the zoo.
    pub rows: Vec<ScanRate>,
}

/// Write the FASTA and scan its first `sample` transcripts with one model
/// and with the whole zoo; one row each.
pub fn scan_throughput(
    cfg: &ScanBench,
    device: DeviceKind,
) -> Result<ScanReport, crate::scan::ScanError> {
    use crate::scan::{io, scan, synthetic, zoo_models, Fpr, ScanConfig};
    let input = cfg.dir.join("synthetic-circrnas.fa.gz");
    let t0 = Instant::now();
    let written = synthetic::write_synthetic_circrnas(&input, cfg.records, cfg.mean_len, 1)
        .map_err(io(&input))?;
    let write_seconds = t0.elapsed().as_secs_f64();
    let input_bytes = std::fs::metadata(&input).map_err(io(&input))?.len();
    let all = zoo_models(&cfg.zoo, &[], Fpr::Five, device)?;
    let one = zoo_models(&cfg.zoo, std::slice::from_ref(&cfg.one), Fpr::Five, device)?;
    let scan_cfg = ScanConfig {
        stride: cfg.stride,
        progress: false,
        max_records: Some(cfg.sample),
        ..Default::default()
    };
    let mut rows = Vec::new();
    for (name, models) in [(cfg.one.clone(), one), (format!("all {}", all.len()), all)] {
        let out = cfg.dir.join(format!("scan-{}", models.len()));
        let s = scan(&input, &models, &scan_cfg, &out)?;
        let bytes: u64 = std::fs::read_dir(&out)
            .map_err(io(&out))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name() != "report.html")
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        rows.push(ScanRate {
            models: name,
            count: models.len(),
            records: s.records,
            windows: s.windows,
            seconds: s.seconds,
            per_s: s.windows as f64 / s.seconds.max(1e-9),
            peak_mib: crate::train::throughput::peak_memory_mib(),
            bytes_per_window: bytes as f64 / s.windows.max(1) as f64,
        });
    }
    Ok(ScanReport {
        input: written,
        write_seconds,
        input_bytes,
        rows,
    })
}
