//! `circssnn reproduce`: the paper's experiments as `circssnn train` jobs,
//! run several at once as child processes, one results row per finished
//! job (skipped on restart), then the report and its figures.
//!
//! Child processes rather than threads: each job is exactly the command a
//! user (or the Snakemake workflow) would run, a crash or a NaN in one run
//! cannot take the others down, and each keeps its own log.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rayon::prelude::*;

use circssnn::baseline::{run_baseline, BaselineConfig};
use circssnn::data::split::SplitKind;
use circssnn::data::{Negatives, Protocol, Registry};
use circssnn::features::bert::pretrain::load_report;
use circssnn::output::write_atomic;
use circssnn::plots::save_html;
use circssnn::reproduce::queue::{Next, TaskQueue};
use circssnn::reproduce::report::BASELINE_VIEWS;
use circssnn::reproduce::wall_time::{read_invocations, write_invocations, Invocation};
use circssnn::reproduce::{build_report, plan, Experiment, Job, PlanConfig, Profile, Suite};
use circssnn::train::results::{config_hash, read_rows, write_rows, RunRow, GIT_REVISION};

use super::Common;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SuiteArg {
    /// The 37 circRNA sets.
    Circ37,
    /// Every linear-RNA set under the data root.
    Lin31,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ProfileArg {
    /// CPU: small BERT, 4 epochs.
    Small,
    /// GPU: DNABERT-3-sized BERT, 10 epochs.
    Paper,
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Which sets.
    #[arg(long, value_enum, default_value = "circ37")]
    suite: SuiteArg,
    /// Only these sets of the suite (comma-separated or repeated).
    #[arg(long = "rbp", value_delimiter = ',')]
    sets: Vec<String>,
    /// Model sizes and epochs.
    #[arg(long, value_enum, default_value = "small")]
    profile: ProfileArg,
    /// Experiments (comma-separated): main, norm, ablation, stability, strict.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "main,norm,ablation,stability,strict"
    )]
    experiments: Vec<Experiment>,
    /// Keep about this many windows per set (each split part and class in proportion).
    #[arg(long)]
    max_per_set: Option<usize>,
    /// Output folder: results.csv, report.md, figures/, runs/
    /// (default results/<suite>-<profile>[-n<max>]).
    #[arg(long)]
    out: Option<PathBuf>,
    /// circRNA2Vec model (trained first if missing).
    #[arg(long, default_value = "models/circ2vec")]
    vec_model: PathBuf,
    /// BERT model (default models/bert-<profile>; pretrained first if missing).
    #[arg(long)]
    bert_model: Option<PathBuf>,
    /// Jobs at once (default: one per core, fewer if memory is short; each
    /// gets cores/jobs threads).
    #[arg(long)]
    jobs: Option<usize>,
    /// Memory one job may need, in GiB, for the default --jobs (measured:
    /// ~1 GiB peak for a 2,000-window three-view job; whole large sets with
    /// the BERT view need more).
    #[arg(long, default_value_t = 3.0)]
    mem_per_job: f64,
    /// Print the plan as JSON (one object per job: id, out, args) and stop.
    #[arg(long)]
    list: bool,
    /// Run nothing: collect finished jobs, compute the baselines, write the report.
    #[arg(long)]
    collect_only: bool,
}

pub fn run(common: &Common, a: ReproduceArgs) -> Result<()> {
    let suite = match a.suite {
        SuiteArg::Circ37 => Suite::Circ37,
        SuiteArg::Lin31 => Suite::Lin31,
    };
    let profile = match a.profile {
        ProfileArg::Small => Profile::Small,
        ProfileArg::Paper => Profile::Paper,
    };
    let out = a.out.clone().unwrap_or_else(|| {
        let n = a.max_per_set.map_or(String::new(), |n| format!("-n{n}"));
        PathBuf::from("results").join(format!("{}-{}{n}", suite.name(), profile.name()))
    });
    let cfg = PlanConfig {
        suite,
        sets: a.sets.clone(),
        profile,
        experiments: a.experiments.clone(),
        max_per_set: a.max_per_set,
        vec_model: a.vec_model.clone(),
        bert_model: a
            .bert_model
            .clone()
            .unwrap_or_else(|| profile.bert_dir().into()),
    };
    let reg = Registry::scan(&common.data_dir)?;
    let jobs = plan(&reg, &cfg, &out.join("runs"))?;
    if jobs.is_empty() {
        bail!(
            "no {} sets found under {} (or none of --rbp is one)",
            suite.name(),
            reg.root.display()
        );
    }
    if a.list {
        let list: Vec<_> = jobs
            .iter()
            .map(|j| serde_json::json!({"id": j.id(), "out": j.out, "args": j.args}))
            .collect();
        // An error, not a panic, when the reader goes away (`| head`).
        writeln!(
            std::io::stdout().lock(),
            "{}",
            serde_json::to_string_pretty(&list)?
        )?;
        return Ok(());
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    check_settings(&out, &cfg)?;
    let results_path = out.join("results.csv");
    let mut rows = if results_path.is_file() {
        read_rows(&results_path)?
    } else {
        Vec::new()
    };
    let key = |r: &RunRow| (r.set.clone(), r.experiment.clone(), r.variant.clone());
    let done: BTreeSet<_> = rows.iter().map(key).collect();
    let t0 = Instant::now();
    let clock = Mutex::new(WallClock::start(&out)?);

    // Baselines first: seconds for all sets, and a report has them from the start.
    let fitted = baselines(common, &reg, &jobs, &cfg, &done)?;
    let baselines_fitted = !fitted.is_empty();
    rows.extend(fitted);
    write_rows(&results_path, &rows)?;

    let pending: Vec<&Job> = jobs
        .iter()
        .filter(|j| {
            !done.contains(&(
                j.set.clone(),
                j.experiment.name().to_string(),
                j.variant.clone(),
            ))
        })
        .collect();
    eprintln!(
        "{} jobs planned, {} already in {}, {} {}",
        jobs.len(),
        jobs.len() - pending.len(),
        results_path.display(),
        pending.len(),
        if a.collect_only {
            "to collect from their run folders"
        } else {
            "to run"
        }
    );
    let mut failed = Vec::new();
    let runs_tasks = !a.collect_only && !pending.is_empty();
    if baselines_fitted || runs_tasks {
        lock(&clock).save(0)?;
    }
    if runs_tasks {
        let mut queue = TaskQueue::new();
        let models = model_tasks(&cfg, profile, &pending)?;
        for m in models {
            eprintln!(
                "{}: missing, trained first (jobs that do not read it run meanwhile)",
                m.label
            );
            let view = m.view;
            queue.push(Task::Model(m), Some(view), &[]);
        }
        for &j in &pending {
            let needs: Vec<&str> = ["vec", "bert"].into_iter().filter(|v| j.needs(v)).collect();
            queue.push(Task::Train(j), None, &needs);
        }
        let results = Mutex::new(rows);
        let workers = a.jobs.unwrap_or_else(|| default_workers(a.mem_per_job));
        failed = run_tasks(
            common,
            queue,
            workers,
            &out,
            &results_path,
            &results,
            &clock,
        )?;
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
    write_report(&out, &rows, &lock(&clock).all())?;
    eprintln!(
        "{} results rows in {}; report {} ({:.0} s)",
        rows.len(),
        results_path.display(),
        out.join("report.md").display(),
        t0.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        bail!(
            "{} jobs failed (rerun the same command to retry them):\n{}",
            failed.len(),
            failed.join("\n")
        );
    }
    Ok(())
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
    fn start(out: &Path) -> Result<Self> {
        let path = out.join("invocations.csv");
        Ok(WallClock {
            before: read_invocations(&path)?,
            now: Invocation::starting_now(GIT_REVISION),
            t0: Instant::now(),
            path,
        })
    }

    /// Count `finished` more tasks and write the file.
    fn save(&mut self, finished: usize) -> Result<()> {
        self.now.tasks_done += finished;
        self.now.seconds = self.t0.elapsed().as_secs().max(1) as f64;
        Ok(write_invocations(&self.path, &self.all())?)
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

fn lock(clock: &Mutex<WallClock>) -> std::sync::MutexGuard<'_, WallClock> {
    clock
        .lock()
        .expect("no thread panicked holding the wall clock")
}

/// Refuse to add to a results folder written under other settings: its
/// finished rows would be skipped as done and reported as this run's. The
/// first run records its settings in `settings.json`; the sets and
/// experiments may differ between runs (they only choose jobs).
fn check_settings(out: &Path, cfg: &PlanConfig) -> Result<()> {
    let path = out.join("settings.json");
    let now = serde_json::json!({
        "suite": cfg.suite,
        "profile": cfg.profile,
        "max_per_set": cfg.max_per_set,
        "vec_model": cfg.vec_model,
        "bert_model": cfg.bert_model,
    });
    if !path.is_file() {
        return write_atomic(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, &now).map_err(std::io::Error::other)?;
            writeln!(w)
        })
        .with_context(|| format!("writing {}", path.display()));
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let before: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
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
        bail!(
            "{} holds a reproduction made with other settings ({}); its finished rows would be \
             taken as this run's. Pass another --out, or delete the folder to start over",
            out.display(),
            differ.join("; ")
        );
    }
    Ok(())
}

/// The 1–3-mer logistic regression of every planned set under each protocol
/// the plan uses, as results rows (those not already there).
fn baselines(
    common: &Common,
    reg: &Registry,
    jobs: &[Job],
    cfg: &PlanConfig,
    done: &BTreeSet<(String, String, String)>,
) -> Result<Vec<RunRow>> {
    let sets: BTreeSet<&str> = jobs.iter().map(|j| j.set.as_str()).collect();
    let standard = Protocol {
        max_per_set: cfg.max_per_set,
        ..Default::default()
    };
    let mut protocols = vec![("main", "baseline", standard)];
    if jobs.iter().any(|j| j.experiment == Experiment::Strict) {
        protocols.push((
            "strict",
            "grouped-baseline",
            Protocol {
                split: SplitKind::Grouped,
                ..standard
            },
        ));
        protocols.push((
            "strict",
            "shuffled-baseline",
            Protocol {
                negatives: Negatives::Shuffled,
                ..standard
            },
        ));
    }
    let todo: Vec<(&str, &str, &str, Protocol)> = sets
        .iter()
        .flat_map(|&s| protocols.iter().map(move |&(e, v, p)| (s, e, v, p)))
        .filter(|(s, e, v, _)| !done.contains(&(s.to_string(), e.to_string(), v.to_string())))
        .collect();
    todo.par_iter()
        .map(|&(set, experiment, variant, p)| -> Result<RunRow> {
            let t = Instant::now();
            let ds = reg.get(set)?.load(common.policy())?;
            let (ds, split) = p.apply(&ds);
            let r = run_baseline(&ds, &split, &BaselineConfig::default())
                .with_context(|| format!("baseline on {set} ({variant})"))?;
            let m = r.test;
            Ok(RunRow {
                set: set.to_string(),
                views: BASELINE_VIEWS.into(),
                norm: String::new(),
                depth: 0,
                split: p.split.to_string(),
                split_seed: p.split_seed,
                seed: p.split_seed,
                best_epoch: 0,
                auc: m.auc,
                accuracy: m.accuracy,
                precision: m.precision,
                recall: m.recall,
                f1: m.f1,
                mcc: m.mcc,
                valid_auc: r.valid.map_or(f64::NAN, |v| v.auc),
                published_auc: f64::NAN,
                seconds: (t.elapsed().as_secs_f64() * 10.0).round() / 10.0,
                negatives: p.negatives.to_string(),
                max_per_set: p.max_per_set,
                suite: cfg.suite.name().into(),
                experiment: experiment.into(),
                variant: variant.into(),
                git_rev: GIT_REVISION.into(),
                config_hash: config_hash(&(BASELINE_VIEWS, BaselineConfig::default(), p)),
            })
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
fn model_tasks(cfg: &PlanConfig, profile: Profile, jobs: &[&Job]) -> Result<Vec<ModelTask>> {
    let mut tasks = Vec::new();
    if jobs.iter().any(|j| j.needs("vec")) && !cfg.vec_model.join("circ2vec.json").is_file() {
        let dir = cfg.vec_model.display().to_string();
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
    if jobs.iter().any(|j| j.needs("bert")) {
        let report = load_report(&cfg.bert_model)?;
        let has_weights = cfg.bert_model.join("config.json").is_file();
        let finished = match &report {
            Some(r) => r.steps_done >= r.config.steps,
            // A user's own checkpoint has no pretraining report.
            None => has_weights,
        };
        if !finished {
            let dir = cfg.bert_model.display().to_string();
            let mut args: Vec<String> = ["embed", "pretrain-bert", "--profile", profile.name()]
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

/// Train one model as a child process with `threads` rayon threads, its
/// output in `log`.
fn run_model(common: &Common, m: &ModelTask, threads: usize, log: &Path) -> Result<()> {
    let mut cmd = base_command(common)?;
    cmd.args(&m.args);
    run_logged(cmd, threads, log).with_context(|| format!("`circssnn {}`", m.args.join(" ")))
}

fn base_command(common: &Common) -> Result<Command> {
    let exe = std::env::current_exe().context("locating the circssnn binary")?;
    let mut cmd = Command::new(exe);
    cmd.arg("--data-dir").arg(&common.data_dir);
    if common.pad {
        cmd.arg("--pad");
    }
    if common.trim {
        cmd.arg("--trim");
    }
    if common.device == super::DeviceKind::Cuda {
        cmd.args(["--device", "cuda"]);
    }
    Ok(cmd)
}

/// The results row of a job whose run folder holds a finished run.
fn finished_row(j: &Job) -> Result<Option<RunRow>> {
    let path = j.out.join("metrics.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let mut rows = read_rows(&path)?;
    let Some(mut r) = rows.pop() else {
        return Ok(None);
    };
    r.suite = j.suite.name().into();
    r.experiment = j.experiment.name().into();
    r.variant = j.variant.clone();
    Ok(Some(r))
}

/// One job per core, but no more than the available memory holds at
/// `gib_per_job` each (Linux's `MemAvailable`; no memory limit elsewhere).
fn default_workers(gib_per_job: f64) -> usize {
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
    eprintln!(
        "{workers} jobs at once ({cores} cores{})",
        available_gib.map_or(String::new(), |g| format!(
            ", {g:.1} GiB available at ~{gib_per_job} GiB per job"
        ))
    );
    workers
}

/// Run the queued tasks on `parallel` workers, appending each finished
/// job's row to `results` and rewriting the CSV; returns the failures.
/// Model logs go to `out/logs/`, job logs to their run folders.
fn run_tasks(
    common: &Common,
    queue: TaskQueue<Task<'_>>,
    parallel: usize,
    out: &Path,
    results_path: &Path,
    results: &Mutex<Vec<RunRow>>,
    clock: &Mutex<WallClock>,
) -> Result<Vec<String>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n_tasks = queue.len();
    let workers = parallel.clamp(1, n_tasks.max(1));
    let threads = (cores / workers).max(1);
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let failed = Mutex::new(Vec::new());
    let fail = |what: String| failed.lock().expect("failures").push(what);
    let bars = MultiProgress::new();
    let total = bars.add(
        ProgressBar::new(n_tasks as u64).with_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} tasks, {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template"),
        ),
    );
    let line = ProgressStyle::with_template("  {spinner} {msg} {elapsed}").expect("valid template");
    // Also a log line per finished task, so a run without a terminal
    // (nohup, a cluster) shows its progress.
    let say = |what: String| {
        if let Err(e) = lock(clock).save(1) {
            bars.suspend(|| eprintln!("note: {e:#}"));
        }
        let t = total.elapsed().as_secs();
        bars.suspend(|| {
            eprintln!(
                "{what} [{}/{n_tasks} tasks, {}:{:02}:{:02} elapsed]",
                total.position() + 1,
                t / 3600,
                t / 60 % 60,
                t % 60
            )
        });
    };
    let (stop, ticks) = std::sync::mpsc::channel::<()>();
    let live = AtomicUsize::new(workers);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // Until the last worker is done.
            while let Err(RecvTimeoutError::Timeout) = ticks.recv_timeout(Duration::from_secs(60)) {
                let _ = lock(clock).save(0);
            }
        });
        for _ in 0..workers {
            scope.spawn(|| {
                let _last_out = LastOut(&live, &stop);
                let bar =
                    bars.insert_before(&total, ProgressBar::new_spinner().with_style(line.clone()));
                bar.enable_steady_tick(Duration::from_millis(500));
                while let Some(next) = queue.next() {
                    match next {
                        Next::Blocked(task, why) => {
                            bars.suspend(|| eprintln!("{}: {why}", task.label()));
                            fail(format!("{}: {why}", task.label()));
                        }
                        Next::Run(task) => {
                            bar.reset_elapsed();
                            bar.set_message(task.label());
                            let t = Instant::now();
                            match task {
                                Task::Model(m) => {
                                    let log = logs.join(format!("embed-{}.log", m.view));
                                    let r = run_model(common, &m, threads, &log);
                                    queue.finished(
                                        m.view,
                                        r.as_ref().map(|_| ()).map_err(|e| format!("{e:#}")),
                                    );
                                    match r {
                                        Ok(()) => say(format!(
                                            "done {} ({:.0} s)",
                                            m.label,
                                            t.elapsed().as_secs_f64()
                                        )),
                                        Err(e) => {
                                            bars.suspend(|| eprintln!("{} failed: {e:#}", m.label));
                                            fail(format!("{}: {e:#}", m.label));
                                        }
                                    }
                                }
                                Task::Train(job) => {
                                    match run_one(common, job, threads).and_then(|()| {
                                        finished_row(job)?.with_context(|| {
                                            format!("{} wrote no metrics.csv", job.out.display())
                                        })
                                    }) {
                                        Ok(row) => {
                                            say(format!(
                                                "done {}: AUC {:.4} ({:.0} s)",
                                                job.id(),
                                                row.auc,
                                                row.seconds
                                            ));
                                            let mut rows = results.lock().expect("results");
                                            rows.push(row);
                                            if let Err(e) = write_rows(results_path, &rows) {
                                                fail(format!("{}: {e}", job.id()));
                                            }
                                        }
                                        Err(e) => {
                                            bars.suspend(|| {
                                                eprintln!("{} failed: {e:#}", job.id())
                                            });
                                            fail(format!("{}: {e:#}", job.id()));
                                        }
                                    }
                                }
                            }
                        }
                    }
                    total.inc(1);
                }
                bar.finish_and_clear();
            });
        }
    });
    total.finish();
    Ok(failed.into_inner().expect("failures"))
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

/// One `circssnn train` job, resumed if its folder holds an unfinished run.
fn run_one(common: &Common, job: &Job, threads: usize) -> Result<()> {
    if job.out.join("metrics.csv").is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(&job.out).with_context(|| format!("creating {}", job.out.display()))?;
    let mut cmd = base_command(common)?;
    cmd.arg("train")
        .args(&job.args)
        .arg("--quiet")
        .arg("--out")
        .arg(&job.out);
    if job.out.join("state.json").is_file() {
        cmd.arg("--resume");
    }
    run_logged(cmd, threads, &job.out.join("train.log"))
}

/// Run `cmd` with `threads` rayon threads, stdout and stderr into `log`; a
/// failure names the log's last line.
fn run_logged(mut cmd: Command, threads: usize, log: &Path) -> Result<()> {
    let f = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    cmd.stdout(f.try_clone()?).stderr(f).stdin(Stdio::null());
    cmd.env("RAYON_NUM_THREADS", threads.to_string());
    let status = cmd.status().context("starting circssnn")?;
    if !status.success() {
        let tail = std::fs::read_to_string(log).unwrap_or_default();
        let last = tail
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        bail!("{status}; last line of {}: {last}", log.display());
    }
    Ok(())
}

/// `report.md` and `figures/*.html` (+ `.svg` with the static-export feature).
fn write_report(out: &Path, rows: &[RunRow], invocations: &[Invocation]) -> Result<()> {
    let mut report = build_report(rows);
    if !invocations.is_empty() {
        report.note_wall_time(invocations);
    }
    let figures = out.join("figures");
    std::fs::create_dir_all(&figures)?;
    for (name, plot) in &report.figures {
        save_html(plot, &figures.join(format!("{name}.html")))
            .with_context(|| format!("writing figure {name}"))?;
        #[cfg(feature = "static-export")]
        if let Err(e) = circssnn::plots::save_image(
            plot,
            &figures.join(format!("{name}.svg")),
            circssnn::plots::ImageFormat::SVG,
            900,
            560,
        ) {
            eprintln!("note: {name}.svg not written ({e}); the HTML is");
        }
    }
    write_atomic(&out.join("report.md"), |w| {
        w.write_all(report.markdown.as_bytes())
    })
    .with_context(|| format!("writing {}", out.join("report.md").display()))?;
    Ok(())
}
