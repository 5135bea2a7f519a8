//! Reproducing the paper's tables and figures, and evaluating more strictly
//! than the paper: the job plan ([`plan`](mod@plan)), the paper's published numbers
//! ([`published`]), the report built from results rows ([`report`]) and the
//! queue that orders jobs after the models they read ([`queue`]) and the
//! wall time of a run resumed over several invocations ([`wall_time`]).
//!
//! The [`runner`] trains missing descriptor models and runs the plan's
//! `circssnn train` jobs as child processes, several at once, appends one
//! [`RunRow`](crate::train::results::RunRow) per finished job to the
//! results CSV (skipping finished ones on restart) and writes the report;
//! `circssnn reproduce` is a thin CLI over it, and `workflow/Snakefile` runs
//! the same jobs on a cluster.

pub mod plan;
pub mod published;
pub mod queue;
pub mod report;
pub mod runner;
pub mod wall_time;

pub use plan::{plan, Experiment, Job, PlanConfig, Profile, Suite};
pub use report::{build as build_report, Report};
pub use runner::{reproduce, ReproduceError, Reproduction, RunnerOptions};
