//! Where RBPs bind along whole circRNAs (or linear RNAs): every 101-nt
//! window of each transcript ([`windows`], circular across the back-splice
//! junction by default) scored by every selected model, each window's
//! descriptors encoded once and shared by the models that read them.
//!
//! Outputs, one folder ([`scan`]):
//!
//! * `windows.tsv` — id, rbp, start, end, wraps_junction, probability (0-based
//!   half-open transcript coordinates; `end < start` for a window across the
//!   junction);
//! * `<rbp>.bedGraph` — per nucleotide, the highest probability of the
//!   windows covering it;
//! * `peaks.bed` — BED6 of the windows above the model's threshold, merged;
//!   a peak across the junction is two intervals with one name;
//! * `report.html` — per transcript a track per RBP with the junction and
//!   the peaks marked, and an RBP x position heatmap (plotly.js embedded:
//!   it opens offline).
//!
//! Input is streamed record by record: memory grows with the longest
//! transcript, not with the number of transcripts. Sequences are read as
//! everywhere in the crate (any case, `T` as `U`, IUPAC codes as `N`, a
//! k-mer with `N` not counted); a transcript shorter than 101 nt is scored
//! once, padded with `N`; a record with no sequence is an error naming it.
//! The outputs appear together when the scan has finished, never half
//! written.

mod report;
pub mod synthetic;
pub mod windows;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::data::fasta;
use crate::features::learned::DescriptorModels;
use crate::output::{DirLock, TEMP_PREFIX};
use crate::train::{DeviceKind, EncodedViews, Predictor, TrainError};
use crate::zoo::{Blend, Zoo, ZooError};

/// What can stop a scan.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Reading the input.
    #[error(transparent)]
    Data(#[from] crate::DataError),
    /// Loading or running a model.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The zoo.
    #[error(transparent)]
    Zoo(#[from] ZooError),
    /// Another process holds the output folder.
    #[error(transparent)]
    Lock(#[from] crate::output::LockError),
    /// Writing an output.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Nothing to scan with.
    #[error("{0}")]
    Models(String),
    /// A transcript with no sequence.
    #[error("record {0:?} has no sequence: nothing to scan")]
    EmptyRecord(String),
    /// A character that is no nucleotide or IUPAC code.
    #[error(
        "record {id:?}, position {position}: byte 0x{byte:02X} is not a nucleotide or IUPAC code"
    )]
    Sequence {
        /// Record id.
        id: String,
        /// 1-based position.
        position: usize,
        /// The byte.
        byte: u8,
    },
}

/// An I/O error on `path` as a [`ScanError`] (also the scan benchmark's).
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ScanError + '_ {
    move |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Which false-positive rate a peak threshold holds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fpr {
    /// 5% of a model's validation negatives score above its threshold.
    #[default]
    Five,
    /// 1%.
    One,
}

impl std::str::FromStr for Fpr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim_end_matches('%') {
            "5" | "0.05" => Ok(Self::Five),
            "1" | "0.01" => Ok(Self::One),
            _ => Err(format!(
                "unknown false-positive rate {s:?}: use 5 or 1 (percent)"
            )),
        }
    }
}

/// A model that scans: its name in the outputs, the network, and the
/// probability above which a window counts towards a peak.
#[derive(Debug, Clone)]
pub struct ScanModel {
    /// RBP (set) name.
    pub name: String,
    /// The network and its descriptors.
    pub predictor: Predictor,
    /// Its blend with the 1–3-mer baseline (a zoo model's, unless scanned
    /// with the network alone): the probability the scan reports.
    pub blend: Option<Blend>,
    /// Peak threshold.
    pub threshold: f64,
    /// Where the threshold came from.
    pub threshold_source: String,
    /// What the model is and how well it did, for the report: its network
    /// (own, or a head of a multi-task one), training windows, whole-test
    /// AUC beside the 1–3-mer baseline's.
    pub about: String,
}

impl ScanModel {
    /// P(bound) of each 101-nt window as a scan scores it: the network's
    /// probability, blended with the baseline if the model has a blend.
    pub fn predict(&self, seqs: &[&[u8]]) -> Result<Vec<f64>, TrainError> {
        let p = self.predictor.predict(seqs)?;
        Ok(match &self.blend {
            Some(b) => b.apply(seqs, &p),
            None => p,
        })
    }
}

/// Models of `zoo_dir` for `rbps` (empty or `all`: every model), with their
/// thresholds at `fpr`; each blended with its 1–3-mer baseline where the
/// manifest has a blend ([`crate::zoo::Blend`]), the network alone where not.
pub fn zoo_models(
    zoo_dir: &Path,
    rbps: &[String],
    fpr: Fpr,
    device: DeviceKind,
) -> Result<Vec<ScanModel>, ScanError> {
    load_zoo_models(zoo_dir, rbps, fpr, device, true)
}

/// [`zoo_models`] without their blends: each network alone, with its own
/// thresholds (`scan --network-only`).
pub fn zoo_networks(
    zoo_dir: &Path,
    rbps: &[String],
    fpr: Fpr,
    device: DeviceKind,
) -> Result<Vec<ScanModel>, ScanError> {
    load_zoo_models(zoo_dir, rbps, fpr, device, false)
}

fn load_zoo_models(
    zoo_dir: &Path,
    rbps: &[String],
    fpr: Fpr,
    device: DeviceKind,
    blend: bool,
) -> Result<Vec<ScanModel>, ScanError> {
    let zoo = Zoo::load(zoo_dir)?;
    let all = rbps.is_empty() || rbps.iter().any(|r| r == "all");
    let mut picked = Vec::new();
    if all {
        picked.extend(zoo.models.iter());
    } else {
        for r in rbps {
            picked.push(zoo.get(r).ok_or_else(|| {
                ScanError::Models(format!(
                    "the zoo in {} has no model for {r:?}; it has: {}",
                    zoo_dir.display(),
                    zoo.models
                        .iter()
                        .map(|m| m.set.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?);
        }
    }
    let models = DescriptorModels {
        cache: zoo_dir.join("cache"),
        ..Default::default()
    };
    // A multi-task zoo lists one entry per head of one network: load it once.
    let mut loaded: BTreeMap<PathBuf, Vec<Predictor>> = BTreeMap::new();
    picked
        .into_iter()
        .map(|m| {
            let dir = zoo_dir.join(&m.dir);
            if !loaded.contains_key(&dir) {
                let heads = Predictor::load_heads(&dir, &models, device).map_err(|e| {
                    ScanError::Models(format!(
                        "zoo model {} cannot be used: {e} (its views need descriptor models this \
                         zoo does not provide; train them, or pick other models with --rbp)",
                        m.set
                    ))
                })?;
                loaded.insert(dir.clone(), heads);
            }
            let predictor = m.pick(&loaded[&dir], &dir).map_err(ScanError::Models)?;
            let blend = m.blend.clone().filter(|_| blend);
            let thresholds = blend.as_ref().map_or(m.thresholds, |b| b.thresholds);
            let (threshold, which) = match fpr {
                Fpr::Five => (thresholds.fpr_05, "5%"),
                Fpr::One => (thresholds.fpr_01, "1%"),
            };
            let network = match m.head {
                None => "its own network".to_string(),
                Some(h) => format!("head {h} of the multi-task network {}", m.dir.display()),
            };
            let scored = match &blend {
                Some(b) => format!(
                    "; scored blended with the baseline (weight {:.1} on the network, \
                     whole-test AUC {:.3})",
                    b.weight, b.test_auc
                ),
                None => String::new(),
            };
            Ok(ScanModel {
                name: m.set.clone(),
                predictor,
                blend,
                threshold,
                threshold_source: format!("{which} FPR on its validation part"),
                about: format!(
                    "{network}, {} training windows; whole-test AUC {:.3} (1–3-mer baseline \
                     {:.3}){scored}",
                    m.n_train, m.test_auc, m.baseline_auc
                ),
            })
        })
        .collect()
}

/// Models from run folders (`circssnn train` output, or a multi-task
/// network's folder: one model per head), named by their set; without a
/// zoo manifest there is no calibrated threshold, so peaks use `threshold`
/// (0.5 unless given).
pub fn run_models(
    dirs: &[PathBuf],
    threshold: f64,
    device: DeviceKind,
) -> Result<Vec<ScanModel>, ScanError> {
    let mut out = Vec::new();
    for d in dirs {
        for predictor in Predictor::load_heads(d, &DescriptorModels::default(), device)? {
            out.push(ScanModel {
                name: predictor.meta.set.clone(),
                predictor,
                blend: None,
                threshold,
                threshold_source: "given (no zoo manifest)".into(),
                about: format!("{} (no zoo manifest: not measured here)", d.display()),
            });
        }
    }
    Ok(out)
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// A window starts every this many nt.
    pub stride: usize,
    /// Circular transcripts (windows wrap across the back-splice junction).
    pub circular: bool,
    /// Transcripts drawn in `report.html` (the first ones).
    pub report_records: usize,
    /// Progress bar on stderr.
    pub progress: bool,
    /// Stop after this many transcripts (`None`: all of them), to try a
    /// scan or time one on the start of a large file.
    pub max_records: Option<usize>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            stride: 10,
            circular: true,
            report_records: 10,
            progress: true,
            max_records: None,
        }
    }
}

/// What a scan did.
#[derive(Debug, Clone, Default)]
pub struct ScanSummary {
    /// Transcripts scanned.
    pub records: usize,
    /// Transcripts skipped (empty).
    pub empty: usize,
    /// Windows scored (each by every model).
    pub windows: usize,
    /// Peaks written.
    pub peaks: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// One transcript's result for one model: every window's probability and
/// the per-nucleotide maximum over the windows covering it.
#[derive(Debug, Clone)]
pub struct Track {
    /// Per window (in the order of [`TranscriptScan::windows`]), P(bound).
    pub probs: Vec<f64>,
    /// Per nucleotide, the highest P(bound) of the windows covering it.
    pub per_nt: Vec<f64>,
}

/// One transcript scored by every model: what [`scan`] writes for it, as
/// values (the call a notebook makes, see [`score_transcript`]).
#[derive(Debug, Clone)]
pub struct TranscriptScan {
    /// Record id.
    pub id: String,
    /// Transcript length, nt.
    pub len: usize,
    /// Whether windows wrapped across the back-splice junction.
    pub circular: bool,
    /// The windows scored.
    pub windows: Vec<windows::Window>,
    /// Per model (in the order given), its track.
    pub tracks: Vec<Track>,
}

/// A peak: positions covered by windows at or above a model's threshold,
/// merged; on a circle, a peak across the junction has two parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Peak {
    /// `<id>:<rbp>:peak<k>`.
    pub name: String,
    /// The RBP.
    pub rbp: String,
    /// Half-open `[start, end)` intervals (two for a peak across the junction).
    pub parts: Vec<(usize, usize)>,
    /// Its highest per-nucleotide probability.
    pub top: f64,
}

impl TranscriptScan {
    /// The peaks of every model, in model order.
    pub fn peaks(&self, models: &[ScanModel]) -> Vec<Peak> {
        let mut out = Vec::new();
        for (m, t) in models.iter().zip(&self.tracks) {
            let mut on = vec![false; self.len];
            for (w, &p) in self.windows.iter().zip(&t.probs) {
                if p >= m.threshold {
                    for pos in w.positions(self.len) {
                        on[pos] = true;
                    }
                }
            }
            for (k, (s, e)) in runs(&on, self.circular).into_iter().enumerate() {
                let parts: Vec<(usize, usize)> = if e <= s {
                    vec![(s, self.len), (0, e)]
                } else {
                    vec![(s, e)]
                };
                let top = parts
                    .iter()
                    .flat_map(|&(a, b)| t.per_nt[a..b].iter().copied())
                    .fold(0.0, f64::max);
                out.push(Peak {
                    name: format!("{}:{}:peak{}", self.id, m.name, k + 1),
                    rbp: m.name.clone(),
                    parts,
                    top,
                });
            }
        }
        out
    }

    /// The transcript's tracks as a plotly figure: one line per model,
    /// the junction dashed (the figure `report.html` draws).
    pub fn track_plot(&self, models: &[ScanModel]) -> plotly::Plot {
        report::Drawn::new(&self.id, self.len, self.circular, &self.tracks).track_plot(models)
    }

    /// Every model along the transcript as an RBP x position heatmap.
    pub fn heatmap_plot(&self, models: &[ScanModel]) -> plotly::Plot {
        report::Drawn::new(&self.id, self.len, self.circular, &self.tracks).heatmap_plot(models)
    }
}

/// The output files, written under temporary names and renamed together
/// at the end, so a failed scan leaves no half-written outputs.
struct Outputs {
    dir: PathBuf,
    windows: BufWriter<File>,
    peaks: BufWriter<File>,
    graphs: BTreeMap<String, BufWriter<File>>,
    files: Vec<(PathBuf, PathBuf)>,
}

/// Removes the temporary files of a scan that did not finish.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Outputs {
    fn create(dir: &Path, models: &[ScanModel]) -> Result<Self, ScanError> {
        let mut files = Vec::new();
        let mut open = |name: &str| -> Result<BufWriter<File>, ScanError> {
            let tmp = dir.join(format!("{TEMP_PREFIX}{name}"));
            let f = File::create(&tmp).map_err(io(&tmp))?;
            files.push((tmp, dir.join(name)));
            Ok(BufWriter::new(f))
        };
        let mut windows = open("windows.tsv")?;
        writeln!(windows, "id\trbp\tstart\tend\twraps_junction\tprobability").map_err(io(dir))?;
        let peaks = open("peaks.bed")?;
        let mut graphs = BTreeMap::new();
        for m in models {
            let mut g = open(&format!("{}.bedGraph", m.name))?;
            writeln!(
                g,
                "track type=bedGraph name=\"{0}\" description=\"circssnn P(bound) of {0}, max over windows\"",
                m.name
            )
            .map_err(io(dir))?;
            graphs.insert(m.name.clone(), g);
        }
        Ok(Outputs {
            dir: dir.to_path_buf(),
            windows,
            peaks,
            graphs,
            files,
        })
    }

    fn finish(mut self) -> Result<(), ScanError> {
        let dir = self.dir.clone();
        self.windows.flush().map_err(io(&dir))?;
        self.peaks.flush().map_err(io(&dir))?;
        for g in self.graphs.values_mut() {
            g.flush().map_err(io(&dir))?;
        }
        drop((self.windows, self.peaks, self.graphs));
        for (tmp, to) in &self.files {
            std::fs::rename(tmp, to).map_err(io(to))?;
        }
        Ok(())
    }
}

/// Scan every transcript of `input` with `models` into `out`.
pub fn scan(
    input: &Path,
    models: &[ScanModel],
    cfg: &ScanConfig,
    out: &Path,
) -> Result<ScanSummary, ScanError> {
    if models.is_empty() {
        return Err(ScanError::Models("no models to scan with".into()));
    }
    let t0 = Instant::now();
    std::fs::create_dir_all(out).map_err(io(out))?;
    let _lock = DirLock::acquire(out)?;
    crate::output::remove_leftovers(out).map_err(io(out))?;
    let mut files = Outputs::create(out, models)?;
    let mut cleanup = Cleanup(files.files.iter().map(|(tmp, _)| tmp.clone()).collect());
    let mut drawn = Vec::new();
    let mut summary = ScanSummary::default();
    let bar = ProgressBar::with_draw_target(
        None,
        if cfg.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} transcripts, {msg} ({elapsed})")
            .expect("static template"),
    );
    for rec in fasta::open(input)? {
        if cfg.max_records.is_some_and(|n| summary.records >= n) {
            break;
        }
        let rec = rec?;
        if rec.seq.is_empty() {
            summary.empty += 1;
            continue;
        }
        let t = score_transcript(&rec.id, &rec.seq, models, cfg)?;
        summary.records += 1;
        summary.windows += t.windows.len();
        summary.peaks += write_record(&mut files, &t, models)?;
        if drawn.len() < cfg.report_records {
            drawn.push(report::Drawn::new(&t.id, t.len, t.circular, &t.tracks));
        }
        bar.inc(1);
        bar.set_message(format!(
            "{} windows x {} models",
            summary.windows,
            models.len()
        ));
    }
    bar.finish_and_clear();
    files.finish()?;
    cleanup.0.clear();
    let html = report::html(&drawn, models, cfg, &summary);
    let path = out.join("report.html");
    crate::output::write_atomic(&path, |w| w.write_all(html.as_bytes())).map_err(io(&path))?;
    summary.seconds = t0.elapsed().as_secs_f64();
    Ok(summary)
}

/// Windows per forward pass of every model.
const BATCH: usize = 256;

/// Every model's probabilities for every window of one transcript, each
/// view encoded once per batch and shared by the models that read it.
/// `seq` is read as everywhere in the crate (any case, `T` as `U`).
///
/// ```no_run
/// use circssnn::scan::{score_transcript, zoo_models, Fpr, ScanConfig};
/// use circssnn::train::DeviceKind;
/// let models = zoo_models("data/zoo".as_ref(), &["QKI".into()], Fpr::Five, DeviceKind::Cpu)?;
/// let t = score_transcript("my_circ", b"ACUAACUAAUGC", &models, &ScanConfig::default())?;
/// for p in t.peaks(&models) {
///     println!("{} {:?} {:.2}", p.name, p.parts, p.top);
/// }
/// # Ok::<(), circssnn::scan::ScanError>(())
/// ```
pub fn score_transcript(
    id: &str,
    seq: &[u8],
    models: &[ScanModel],
    cfg: &ScanConfig,
) -> Result<TranscriptScan, ScanError> {
    if seq.is_empty() {
        return Err(ScanError::EmptyRecord(id.to_string()));
    }
    let seq = seq
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            crate::data::sequence::normalise_base(b).ok_or_else(|| ScanError::Sequence {
                id: id.to_string(),
                position: i + 1,
                byte: b,
            })
        })
        .collect::<Result<Vec<u8>, _>>()?;
    let len = seq.len();
    let wins = windows::windows(&seq, cfg.stride, cfg.circular);
    let mut probs: Vec<Vec<f64>> = vec![Vec::with_capacity(wins.len()); models.len()];
    for chunk in wins.chunks(BATCH) {
        let seqs: Vec<&[u8]> = chunk.iter().map(|w| w.seq.as_slice()).collect();
        let mut views = EncodedViews::new();
        // Every head of a multi-task network from one forward pass: (the
        // first model reading that network, its `n x heads` probabilities).
        let mut shared: Vec<(usize, Vec<f64>)> = Vec::new();
        for (k, (m, p)) in models.iter().zip(probs.iter_mut()).enumerate() {
            for key in m.predictor.view_keys() {
                if let std::collections::btree_map::Entry::Vacant(e) = views.entry(key) {
                    let v = m.predictor.encode(e.key(), &seqs);
                    e.insert(v);
                }
            }
            let network = if m.predictor.head().1 == 1 {
                m.predictor.predict_views(seqs.len(), &views)?
            } else {
                let at = shared
                    .iter()
                    .position(|(j, _)| models[*j].predictor.shares_network_with(&m.predictor));
                let at = match at {
                    Some(at) => at,
                    None => {
                        let all = m.predictor.predict_views_all(seqs.len(), &views)?;
                        shared.push((k, all));
                        shared.len() - 1
                    }
                };
                m.predictor.column(&shared[at].1)
            };
            match &m.blend {
                Some(b) => p.extend(b.apply(&seqs, &network)),
                None => p.extend(network),
            }
        }
    }
    let tracks = probs
        .into_iter()
        .map(|probs| {
            let mut per_nt = vec![0.0f64; len];
            for (w, &p) in wins.iter().zip(&probs) {
                for pos in w.positions(len) {
                    per_nt[pos] = per_nt[pos].max(p);
                }
            }
            Track { probs, per_nt }
        })
        .collect();
    Ok(TranscriptScan {
        id: id.to_string(),
        len,
        circular: cfg.circular,
        windows: wins,
        tracks,
    })
}

/// Runs of positions `[start, end)` where `on` holds; on a circle a run
/// through the junction is one run from the last start to the first end
/// (`end < start`).
fn runs(on: &[bool], circular: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < on.len() {
        if on[i] {
            let s = i;
            while i < on.len() && on[i] {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    if circular && out.len() > 1 {
        let (first, last) = (out[0], out[out.len() - 1]);
        if first.0 == 0 && last.1 == on.len() {
            out.pop();
            out[0] = (last.0, first.1);
        }
    }
    out
}

/// Write one transcript's windows, bedGraph runs and peaks; returns the
/// number of peaks.
fn write_record(
    files: &mut Outputs,
    t: &TranscriptScan,
    models: &[ScanModel],
) -> Result<usize, ScanError> {
    let dir = files.dir.clone();
    let id = &t.id;
    for (m, track) in models.iter().zip(&t.tracks) {
        for (w, p) in t.windows.iter().zip(&track.probs) {
            writeln!(
                files.windows,
                "{id}\t{}\t{}\t{}\t{}\t{p:.6}",
                m.name, w.start, w.end, w.wraps
            )
            .map_err(io(&dir))?;
        }
        // bedGraph: runs of equal value (at the printed precision).
        let g = files
            .graphs
            .get_mut(&m.name)
            .expect("one bedGraph per model");
        let value = |k: usize| format!("{:.4}", track.per_nt[k]);
        let mut start = 0;
        for i in 1..=t.len {
            if i == t.len || value(i) != value(start) {
                writeln!(g, "{id}\t{start}\t{i}\t{}", value(start)).map_err(io(&dir))?;
                start = i;
            }
        }
    }
    let peaks = t.peaks(models);
    for p in &peaks {
        for &(a, b) in &p.parts {
            writeln!(
                files.peaks,
                "{id}\t{a}\t{b}\t{}\t{}\t+",
                p.name,
                (p.top * 1000.0).round() as u32
            )
            .map_err(io(&dir))?;
        }
    }
    Ok(peaks.len())
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_merge_across_the_junction_on_a_circle_only() {
        let on = [true, true, false, false, true, false, true];
        assert_eq!(runs(&on, false), vec![(0, 2), (4, 5), (6, 7)]);
        assert_eq!(runs(&on, true), vec![(6, 2), (4, 5)]);
        assert_eq!(runs(&[true; 4], true), vec![(0, 4)]);
        assert!(runs(&[false; 4], true).is_empty());
    }
}
