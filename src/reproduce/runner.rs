//! Running a plan: the 1–3-mer baselines in-process, missing descriptor
//! models and the `circssnn train` jobs as child processes, several at once,
//! one results row per finished job (skipped on restart), then the report
//! and its figures.
//!
//! Child processes rather than threads: each job is exactly the command a
//! user (or the Snakemake workflow) would run, a crash or a NaN in one run
//! cannot take the others down, and each keeps its own log. The runner
//! therefore needs the `circssnn` binary ([`RunnerOptions::exe`]); a
//! notebook passes `target/release/circssnn`.
//!
//! ```no_run
//! use circssnn::data::{default_root, Registry};
//! use circssnn::reproduce::runner::{reproduce, RunnerOptions};
//! use circssnn::reproduce::{PlanConfig, Profile, Suite};
//! let reg = Registry::scan(&default_root())?;
//! let cfg = PlanConfig { sets: vec!["QKI".into()], max_per_set: Some(1000), ..PlanConfig::new(Suite::Circ37, Profile::Small) };
//! let opts = RunnerOptions { exe: "../target/release/circssnn".into(), ..Default::default() };
//! let done = reproduce(&reg, &cfg, "results/qki".as_ref(), &opts)?;
//! println!("{} rows; report in results/qki/report.md", done.rows.len());
//! # Ok::<(), circssnn::reproduce::runner::ReproduceError>(())
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::plan::{plan, Experiment, Job, PlanConfig, Suite};
use super::queue::{Next, TaskQueue};
use super::report::build as build_report;
use super::wall_time::{read_invocations, write_invocations, Invocation};
use crate::baseline::{run_baseline, BaselineConfig};
use crate::data::split::SplitKind;
use crate::data::{LengthPolicy, Negatives, Protocol, Registry};
use crate::features::bert::pretrain::load_report;
use crate::output::{write_atomic, DirLock};
use crate::plots::save_html;
use crate::train::results::{read_rows, write_rows, RunRow, GIT_REVISION};
use crate::train::{DeviceKind, TrainError};

/// What can stop a reproduction (a failed job does not: it is reported in
/// [`Reproduction::failed`] and retried by the next invocation).
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] crate::DataError),
    /// A results file could not be read or written.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A baseline fit failed.
    #[error("baseline on {set} ({variant}): {source}")]
    Baseline {
        /// Set.
        set: String,
        /// Variant.
        variant: String,
        /// Why.
        source: Box<crate::Error>,
    },
    /// A file or folder could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The output folder holds a reproduction made with other settings.
    #[error(
        "{out} holds a reproduction made with other settings ({differ}); its finished rows would be \
         taken as this run's. Pass another --out, or delete the folder to start over"
    )]
    OtherSettings {
        /// The folder.
        out: PathBuf,
        /// Which settings differ, and how.
        differ: String,
    },
    /// Another process holds the results folder.
    #[error(transparent)]
    Lock(#[from] crate::output::LockError),
    /// The plan is empty.
    #[error("no {suite} sets found under {root} (or none of --rbp is one)")]
    NothingPlanned {
        /// Suite name.
        suite: String,
        /// Data root.
        root: PathBuf,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReproduceError + '_ {
    move |source| ReproduceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How to run a plan (what does not change its results).
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// The `circssnn` binary the jobs run as.
    pub exe: PathBuf,
    /// Data root handed to the jobs.
    pub data_dir: PathBuf,
    /// Windows of another length than 101, for the jobs.
    pub policy: LengthPolicy,
    /// Where the jobs' networks run.
    pub device: DeviceKind,
    /// Jobs at once (default: one per core, fewer if memory is short).
    pub jobs: Option<usize>,
    /// Memory one job may need, GiB, for the default number of jobs.
    pub mem_per_job: f64,
    /// Run nothing: collect finished jobs, fit the baselines, write the report.
    pub collect_only: bool,
    /// Progress lines and bars on stderr.
    pub progress: bool,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            exe: PathBuf::from("target/release/circssnn"),
            data_dir: crate::data::default_root(),
            policy: LengthPolicy::default(),
            device: DeviceKind::Cpu,
            jobs: None,
            mem_per_job: 3.0,
            collect_only: false,
            progress: true,
        }
    }
}

/// What a reproduction left behind.
#[derive(Debug, Clone)]
pub struct Reproduction {
    /// Every results row (earlier invocations' and this one's).
    pub rows: Vec<RunRow>,
    /// Jobs planned.
    pub planned: usize,
    /// Tasks that failed, with why (rerun to retry them).
    pub failed: Vec<String>,
    /// Every invocation's wall time, this one last.
    pub invocations: Vec<Invocation>,
}

/// Run (or resume) the plan of `cfg` into `out`: `results.csv`,
/// `invocations.csv`, `settings.json`, `runs/`, `logs/`, `report.md`,
/// `figures/`.
pub fn reproduce(
    reg: &Registry,
    cfg: &PlanConfig,
    out: &Path,
    opts: &RunnerOptions,
) -> Result<Reproduction, ReproduceError> {
    let jobs = plan(reg, cfg, &out.join("runs"))?;
    if jobs.is_empty() {
        return Err(ReproduceError::NothingPlanned {
            suite: cfg.suite.name().into(),
            root: reg.root.clone(),
        });
    }
    let standard = Protocol {
        max_per_set: cfg.max_per_set,
        ..Default::default()
    };
    let mut baselines = vec![(Experiment::Main, "baseline", standard)];
    if jobs.iter().any(|j| j.experiment == Experiment::Strict) {
        let grouped = Protocol {
            split: SplitKind::Grouped,
            ..standard
        };
        let shuffled = Protocol {
            negatives: Negatives::Shuffled,
            ..standard
        };
        baselines.push((Experiment::Strict, "grouped-baseline", grouped));
        baselines.push((Experiment::Strict, "shuffled-baseline", shuffled));
    }
    let batch = Batch {
        jobs,
        suite: cfg.suite,
        settings: serde_json::json!({
            "suite": cfg.suite,
            "profile": cfg.profile,
            "max_per_set": cfg.max_per_set,
            "vec_model": cfg.vec_model,
            "bert_model": cfg.bert_model,
        }),
        baselines,
        models: ModelDirs {
            vec: cfg.vec_model.clone(),
            bert: cfg.bert_model.clone(),
            profile: cfg.profile,
        },
    };
    let done = run_batch(reg, &batch, out, opts)?;
    write_report(out, &done.rows, &done.invocations)?;
    Ok(done)
}

/// Where a batch's jobs find their learned descriptor models, and the BERT
/// profile to pretrain when one is missing.
#[derive(Debug, Clone)]
pub struct ModelDirs {
    /// circRNA2Vec model folder.
    pub vec: PathBuf,
    /// BERT model folder.
    pub bert: PathBuf,
    /// Profile of the BERT to pretrain if it is missing.
    pub profile: super::Profile,
}

/// Jobs run into one results folder, with what surrounds them: the settings
/// the folder is guarded by, the baseline fits beside the jobs (by
/// experiment, variant and protocol, on every set of the jobs), and the
/// descriptor models they read. The reproduction and the model zoo are each
/// one batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The training jobs.
    pub jobs: Vec<Job>,
    /// Suite written in the baseline rows.
    pub suite: Suite,
    /// What must stay the same across invocations on this folder.
    pub settings: serde_json::Value,
    /// Baselines to fit on each set of the jobs.
    pub baselines: Vec<(Experiment, &'static str, Protocol)>,
    /// Descriptor models, trained first if a job needs one that is missing.
    pub models: ModelDirs,
}

/// Run (or resume) `batch` into `out`: the baselines, then the jobs (and
/// the descriptor models they need) as child processes; one results row per
/// finished job in `results.csv`, skipped on restart; the wall time of this
/// invocation in `invocations.csv`.
pub fn run_batch(
    reg: &Registry,
    batch: &Batch,
    out: &Path,
    opts: &RunnerOptions,
) -> Result<Reproduction, ReproduceError> {
    let jobs = &batch.jobs;
    std::fs::create_dir_all(out).map_err(io(out))?;
    // One batch per folder: two would skip and append each other's rows.
    let _lock = DirLock::acquire(out)?;
    check_settings(out, &batch.settings)?;
    let say = |line: String| {
        if opts.progress {
            eprintln!("{line}");
        }
    };
    let results_path = out.join("results.csv");
    let mut rows = if results_path.is_file() {
        read_rows(&results_path)?
    } else {
        Vec::new()
    };
    let done: BTreeSet<_> = rows.iter().map(RunRow::key).collect();
    let clock = Mutex::new(WallClock::start(out)?);

    // Baselines first: seconds for all sets, and a report has them from the start.
    let fitted = baselines(reg, opts.policy, batch, &done)?;
    let baselines_fitted = !fitted.is_empty();
    rows.extend(fitted);
    write_rows(&results_path, &rows)?;

    let pending: Vec<&Job> = jobs.iter().filter(|j| !done.contains(&j.key())).collect();
    say(format!(
        "{} jobs planned, {} already in {}, {} {}",
        jobs.len(),
        jobs.len() - pending.len(),
        results_path.display(),
        pending.len(),
        if opts.collect_only {
            "to collect from their run folders"
        } else {
            "to run"
        }
    ));
    let mut failed = Vec::new();
    let runs_tasks = !opts.collect_only && !pending.is_empty();
    if baselines_fitted || runs_tasks {
        lock(&clock).save(0)?;
    }
    if runs_tasks {
        let mut queue = TaskQueue::new();
        for m in model_tasks(&batch.models, &pending)? {
            say(format!(
                "{}: missing, trained first (jobs that do not read it run meanwhile)",
                m.label
            ));
            let view = m.view;
            queue.push(Task::Model(m), Some(view), &[]);
        }
        for &j in &pending {
            let v = j.spec.views;
            let needs: Vec<&str> = [(v.vec, "vec"), (v.bert, "bert")]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
            queue.push(Task::Train(j), None, &needs);
        }
        let results = Mutex::new(rows);
        let workers = opts
            .jobs
            .unwrap_or_else(|| default_workers(opts.mem_per_job, opts.progress));
        let run = Run {
            opts,
            out,
            results_path: &results_path,
            results: &results,
            clock: &clock,
        };
        failed = run.tasks(queue, workers)?;
        lock(&clock).save(0)?;
        rows = results
            .into_inner()
            .expect("no job panicked holding the results");
    } else {
        for j in &pending {
            if let Some(row) = finished_row(j)? {
                rows.push(row);
            }
        }
        write_rows(&results_path, &rows)?;
    }
    let invocations = lock(&clock).all();
    Ok(Reproduction {
        rows,
        planned: jobs.len(),
        failed,
        invocations,
    })
}

/// This invocation's row in `invocations.csv` beside the rows of earlier
/// ones, rewritten as tasks finish and every minute while they run, so an
/// invocation that is killed still counts its time.
struct WallClock {
    path: PathBuf,
    before: Vec<Invocation>,
    now: Invocation,
    t0: Instant,
}

impl WallClock {
    fn start(out: &Path) -> Result<Self, TrainError> {
        let path = out.join("invocations.csv");
        Ok(WallClock {
            before: read_invocations(&path)?,
            now: Invocation::starting_now(GIT_REVISION),
            t0: Instant::now(),
            path,
        })
    }

    /// Count `finished` more tasks and write the file.
    fn save(&mut self, finished: usize) -> Result<(), TrainError> {
        self.now.tasks_done += finished;
        self.now.seconds = self.t0.elapsed().as_secs().max(1) as f64;
        write_invocations(&self.path, &self.all())
    }

    /// Every invocation, this one last (if it has been saved).
    fn all(&self) -> Vec<Invocation> {
        let mut all = self.before.clone();
        if self.now.seconds > 0.0 {
            all.push(self.now.clone());
        }
        all
    }
}

fn lock(clock: &Mutex<WallClock>) -> MutexGuard<'_, WallClock> {
    clock
        .lock()
        .expect("no thread panicked holding the wall clock")
}

/// Refuse to add to a results folder written under other settings: its
/// finished rows would be skipped as done and reported as this run's. The
/// first run records its settings in `settings.json`; the sets and
/// experiments may differ between runs (they only choose jobs).
fn check_settings(out: &Path, now: &serde_json::Value) -> Result<(), ReproduceError> {
    let path = out.join("settings.json");
    if !path.is_file() {
        return write_atomic(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, now).map_err(std::io::Error::other)?;
            writeln!(w)
        })
        .map_err(io(&path));
    }
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let before: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ReproduceError::Io {
            path: path.clone(),
            source: std::io::Error::other(format!("not valid JSON: {e}")),
        })?;
    let differ: Vec<String> = now
        .as_object()
        .expect("an object")
        .iter()
        .filter(|(k, v)| before.get(k.as_str()) != Some(*v))
        .map(|(k, v)| {
            let was = before.get(k.as_str()).unwrap_or(&serde_json::Value::Null);
            format!("{k} {was} there, {v} now")
        })
        .collect();
    if !differ.is_empty() {
        return Err(ReproduceError::OtherSettings {
            out: out.to_path_buf(),
            differ: differ.join("; "),
        });
    }
    Ok(())
}

/// The 1–3-mer logistic regression of every planned set under each protocol
/// the plan uses, as results rows (those not already there).
fn baselines(
    reg: &Registry,
    policy: LengthPolicy,
    batch: &Batch,
    done: &BTreeSet<(String, Option<Experiment>, String)>,
) -> Result<Vec<RunRow>, ReproduceError> {
    let sets: BTreeSet<&str> = batch.jobs.iter().map(|j| j.set.as_str()).collect();
    let protocols = &batch.baselines;
    let todo: Vec<(&str, Experiment, &str, Protocol)> = sets
        .iter()
        .flat_map(|&s| protocols.iter().map(move |&(e, v, p)| (s, e, v, p)))
        .filter(|&(s, e, v, _)| !done.contains(&(s.to_string(), Some(e), v.to_string())))
        .collect();
    todo.par_iter()
        .map(|&(set, experiment, variant, p)| {
            let t = Instant::now();
            let ds = reg.get(set)?.load(policy)?;
            let (ds, split) = p.apply(&ds);
            let cfg_b = BaselineConfig::default();
            let r =
                run_baseline(&ds, &split, &cfg_b).map_err(|source| ReproduceError::Baseline {
                    set: set.into(),
                    variant: variant.into(),
                    source: Box::new(source),
                })?;
            let mut row = RunRow::from_baseline(set, &p, &cfg_b, &r, t.elapsed().as_secs_f64());
            // A zoo of all sets mixes suites: each baseline row takes its set's.
            row.suite = Some(
                batch
                    .jobs
                    .iter()
                    .find(|j| j.set == set)
                    .map_or(batch.suite, |j| j.suite),
            );
            row.experiment = Some(experiment);
            row.variant = variant.into();
            Ok(row)
        })
        .collect()
}

/// A descriptor model some jobs read, trained by a `circssnn embed` child.
struct ModelTask {
    /// The view it serves (`vec`, `bert`): the name its jobs wait on.
    view: &'static str,
    /// What it is, for progress and log lines.
    label: String,
    /// `circssnn embed ...` arguments, ending in `--out <dir>`.
    args: Vec<String>,
}

/// One unit of a reproduction's work.
enum Task<'a> {
    /// Train a missing descriptor model.
    Model(ModelTask),
    /// One `circssnn train` job.
    Train(&'a Job),
}

impl Task<'_> {
    fn label(&self) -> String {
        match self {
            Task::Model(m) => m.label.clone(),
            Task::Train(j) => j.id(),
        }
    }
}

/// The circRNA2Vec and BERT models the jobs read that are missing (or, for
/// BERT, unfinished: its pretraining resumes).
///
/// circRNA2Vec trains on one thread, the only setting that is bit-exact for
/// its seed, so a reproduction gives the same numbers every time it is run
/// on a machine; it runs beside the other tasks, so the idle cores are used.
fn model_tasks(cfg: &ModelDirs, jobs: &[&Job]) -> Result<Vec<ModelTask>, ReproduceError> {
    let mut tasks = Vec::new();
    let needs = |pick: fn(&Job) -> bool| jobs.iter().any(|j| pick(j));
    if needs(|j| j.spec.views.vec) && !cfg.vec.join("circ2vec.json").is_file() {
        let dir = cfg.vec.display().to_string();
        tasks.push(ModelTask {
            view: "vec",
            label: format!("circRNA2Vec model {dir}"),
            args: [
                "embed",
                "train-vec",
                "--threads",
                "1",
                "--quiet",
                "--out",
                &dir,
            ]
            .map(String::from)
            .to_vec(),
        });
    }
    if needs(|j| j.spec.views.bert) {
        let report = load_report(&cfg.bert).map_err(TrainError::from)?;
        let has_weights = cfg.bert.join("config.json").is_file();
        let finished = match &report {
            Some(r) => r.steps_done >= r.config.steps,
            // A user's own checkpoint has no pretraining report.
            None => has_weights,
        };
        if !finished {
            let dir = cfg.bert.display().to_string();
            let mut args: Vec<String> = ["embed", "pretrain-bert", "--profile", cfg.profile.name()]
                .map(String::from)
                .to_vec();
            if report.is_some() {
                args.push("--resume".into());
            }
            args.extend(["--quiet".into(), "--out".into(), dir.clone()]);
            tasks.push(ModelTask {
                view: "bert",
                label: format!("BERT model {dir}"),
                args,
            });
        }
    }
    Ok(tasks)
}

/// The results row of a job whose run folder holds a finished run.
fn finished_row(j: &Job) -> Result<Option<RunRow>, TrainError> {
    let path = j.out.join("metrics.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let mut rows = read_rows(&path)?;
    let Some(mut r) = rows.pop() else {
        return Ok(None);
    };
    r.suite = Some(j.suite);
    r.experiment = Some(j.experiment);
    r.variant = j.variant.clone();
    Ok(Some(r))
}

/// One job per core, but no more than the available memory holds at
/// `gib_per_job` each (Linux's `MemAvailable`; no memory limit elsewhere).
fn default_workers(gib_per_job: f64, progress: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let available_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kib| kib / (1024.0 * 1024.0));
    let by_memory = available_gib.map_or(cores, |g| (g / gib_per_job.max(0.1)).floor() as usize);
    let workers = cores.min(by_memory).max(1);
    if progress {
        eprintln!(
            "{workers} jobs at once ({cores} cores{})",
            available_gib.map_or(String::new(), |g| format!(
                ", {g:.1} GiB available at ~{gib_per_job} GiB per job"
            ))
        );
    }
    workers
}

/// What the workers share.
struct Run<'a> {
    opts: &'a RunnerOptions,
    out: &'a Path,
    results_path: &'a Path,
    results: &'a Mutex<Vec<RunRow>>,
    clock: &'a Mutex<WallClock>,
}

impl Run<'_> {
    /// Run the queued tasks on `parallel` workers, appending each finished
    /// job's row to the results and rewriting the CSV; returns the failures.
    /// Model logs go to `out/logs/`, job logs to their run folders.
    fn tasks(
        &self,
        queue: TaskQueue<Task<'_>>,
        parallel: usize,
    ) -> Result<Vec<String>, ReproduceError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let n_tasks = queue.len();
        let workers = parallel.clamp(1, n_tasks.max(1));
        let threads = (cores / workers).max(1);
        let logs = self.out.join("logs");
        std::fs::create_dir_all(&logs).map_err(io(&logs))?;
        let failed = Mutex::new(Vec::new());
        let fail = |what: String| failed.lock().expect("failures").push(what);
        let bars = MultiProgress::with_draw_target(if self.opts.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let total = bars.add(
            ProgressBar::new(n_tasks as u64).with_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} tasks, {elapsed} elapsed, ETA {eta}",
                )
                .expect("valid template"),
            ),
        );
        let line =
            ProgressStyle::with_template("  {spinner} {msg} {elapsed}").expect("valid template");
        let print = |what: &str| {
            if self.opts.progress {
                bars.suspend(|| eprintln!("{what}"));
            }
        };
        // Also a log line per finished task, so a run without a terminal
        // (nohup, a cluster) shows its progress.
        let say = |what: String| {
            if let Err(e) = lock(self.clock).save(1) {
                print(&format!("note: {e}"));
            }
            let t = total.elapsed().as_secs();
            print(&format!(
                "{what} [{}/{n_tasks} tasks, {}:{:02}:{:02} elapsed]",
                total.position() + 1,
                t / 3600,
                t / 60 % 60,
                t % 60
            ));
        };
        let (stop, ticks) = std::sync::mpsc::channel::<()>();
        let live = AtomicUsize::new(workers);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                // Until the last worker is done.
                while let Err(RecvTimeoutError::Timeout) =
                    ticks.recv_timeout(Duration::from_secs(60))
                {
                    let _ = lock(self.clock).save(0);
                }
            });
            for _ in 0..workers {
                scope.spawn(|| {
                    let _last_out = LastOut(&live, &stop);
                    let bar = bars
                        .insert_before(&total, ProgressBar::new_spinner().with_style(line.clone()));
                    bar.enable_steady_tick(Duration::from_millis(500));
                    while let Some(next) = queue.next() {
                        match next {
                            Next::Blocked(task, why) => {
                                print(&format!("{}: {why}", task.label()));
                                fail(format!("{}: {why}", task.label()));
                            }
                            Next::Run(task) => {
                                bar.reset_elapsed();
                                bar.set_message(task.label());
                                let t = Instant::now();
                                match task {
                                    Task::Model(m) => {
                                        let log = logs.join(format!("embed-{}.log", m.view));
                                        let r = self.child(&m.args, threads, &log);
                                        queue.finished(m.view, r.clone());
                                        match r {
                                            Ok(()) => say(format!(
                                                "done {} ({:.0} s)",
                                                m.label,
                                                t.elapsed().as_secs_f64()
                                            )),
                                            Err(e) => {
                                                print(&format!("{} failed: {e}", m.label));
                                                fail(format!("{}: {e}", m.label));
                                            }
                                        }
                                    }
                                    Task::Train(job) => match self.train(job, threads) {
                                        Ok(row) => {
                                            say(format!(
                                                "done {}: AUC {:.4} ({:.0} s)",
                                                job.id(),
                                                row.auc,
                                                row.seconds
                                            ));
                                            let mut rows = self.results.lock().expect("results");
                                            rows.push(row);
                                            if let Err(e) = write_rows(self.results_path, &rows) {
                                                fail(format!("{}: {e}", job.id()));
                                            }
                                        }
                                        Err(e) => {
                                            print(&format!("{} failed: {e}", job.id()));
                                            fail(format!("{}: {e}", job.id()));
                                        }
                                    },
                                }
                            }
                        }
                        total.inc(1);
                    }
                    bar.finish_and_clear();
                });
            }
        });
        total.finish_and_clear();
        Ok(failed.into_inner().expect("failures"))
    }

    /// One `circssnn train` job, resumed if its folder holds an unfinished
    /// run; its results row.
    fn train(&self, job: &Job, threads: usize) -> Result<RunRow, String> {
        if !job.out.join("metrics.csv").is_file() {
            std::fs::create_dir_all(&job.out)
                .map_err(|e| format!("creating {}: {e}", job.out.display()))?;
            let mut args = vec!["train".to_string()];
            args.extend(job.args());
            args.extend([
                "--quiet".into(),
                "--out".into(),
                job.out.display().to_string(),
            ]);
            if job.out.join("state.json").is_file() {
                args.push("--resume".into());
            }
            self.child(&args, threads, &job.out.join("train.log"))?;
        }
        finished_row(job)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{} wrote no metrics.csv", job.out.display()))
    }

    /// `circssnn <args>` with `threads` rayon threads, stdout and stderr
    /// into `log`; a failure names the log's last line.
    fn child(&self, args: &[String], threads: usize, log: &Path) -> Result<(), String> {
        let o = self.opts;
        let mut cmd = Command::new(&o.exe);
        cmd.arg("--data-dir").arg(&o.data_dir);
        if o.policy.pad {
            cmd.arg("--pad");
        }
        if o.policy.trim {
            cmd.arg("--trim");
        }
        if o.device == DeviceKind::Cuda {
            cmd.args(["--device", "cuda"]);
        }
        cmd.args(args);
        let what = || format!("`circssnn {}`", args.join(" "));
        let f =
            std::fs::File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = f
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        cmd.stdout(f).stderr(err).stdin(Stdio::null());
        cmd.env("RAYON_NUM_THREADS", threads.to_string());
        let status = cmd
            .status()
            .map_err(|e| format!("{}: cannot start {}: {e}", what(), o.exe.display()))?;
        if !status.success() {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            let last = tail
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(format!(
                "{}: {status}; last line of {}: {last}",
                what(),
                log.display()
            ));
        }
        Ok(())
    }
}

/// Stops the wall-clock ticker when the last worker ends, even by a panic
/// (which would otherwise leave the scope waiting on the ticker forever).
struct LastOut<'a>(&'a AtomicUsize, &'a Sender<()>);

impl Drop for LastOut<'_> {
    fn drop(&mut self) {
        if self.0.fetch_sub(1, Ordering::SeqCst) == 1 {
            let _ = self.1.send(());
        }
    }
}

/// `report.md` and `figures/*.html` (+ `.svg` with the static-export feature).
pub fn write_report(
    out: &Path,
    rows: &[RunRow],
    invocations: &[Invocation],
) -> Result<(), ReproduceError> {
    let mut report = build_report(rows);
    if !invocations.is_empty() {
        report.note_wall_time(invocations);
    }
    let figures = out.join("figures");
    std::fs::create_dir_all(&figures).map_err(io(&figures))?;
    for (name, plot) in &report.figures {
        let path = figures.join(format!("{name}.html"));
        save_html(plot, &path).map_err(|e| ReproduceError::Io {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        #[cfg(feature = "static-export")]
        if let Err(e) = crate::plots::save_image(
            plot,
            &figures.join(format!("{name}.svg")),
            crate::plots::ImageFormat::SVG,
            900,
            560,
        ) {
            eprintln!("note: {name}.svg not written ({e}); the HTML is");
        }
    }
    let path = out.join("report.md");
    write_atomic(&path, |w| w.write_all(report.markdown.as_bytes())).map_err(io(&path))
}
