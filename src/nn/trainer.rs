//! The loop every trainer of the crate runs: the CircSSNN network
//! ([`crate::train::fit()`], a unit is an epoch), k-mer BERT pretraining
//! ([`crate::features::bert::pretrain()`], a unit is an optimiser step) and
//! circRNA2Vec ([`crate::features::circ2vec::train`], a unit is a pass over
//! the corpus).
//!
//! A trainer says what one unit does, what to save after it and when to
//! stop; [`drive`] owns the rest once: the order of units, the check that
//! the loss stayed finite, early stopping, the progress display and the
//! wall clock. Lives in `nn` (below `features` and `train`) so that the
//! descriptor trainers can use it without depending on the network's.

use std::ops::RangeInclusive;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One training job, as a sequence of units of work.
pub trait Trainer {
    /// The trainer's error type.
    type Error;

    /// Run unit `unit` (1-based): train, and evaluate where the trainer
    /// evaluates. Returns the unit's mean training loss.
    fn run_unit(&mut self, unit: usize, progress: &TrainProgress) -> Result<f64, Self::Error>;

    /// After a finished unit: save what is due (a checkpoint, the run
    /// state).
    fn after_unit(&mut self, unit: usize, progress: &TrainProgress) -> Result<(), Self::Error>;

    /// Whether to stop before running `unit` (early stopping); never by
    /// default.
    fn stop_before(&self, _unit: usize) -> bool {
        false
    }

    /// The error for a loss that is not finite after `unit`.
    fn diverged(&self, unit: usize, loss: f64) -> Self::Error;
}

/// What [`drive`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Driven {
    /// Units run by this call.
    pub units_run: usize,
    /// Whether [`Trainer::stop_before`] ended the loop before its last unit.
    pub stopped_early: bool,
    /// Wall-clock seconds of this call.
    pub seconds: f64,
}

/// Run `units` of `trainer` in order: stop early when it asks, refuse a
/// non-finite loss with the trainer's own error, and save after each unit.
pub fn drive<T: Trainer>(
    trainer: &mut T,
    units: RangeInclusive<usize>,
    progress: &TrainProgress,
) -> Result<Driven, T::Error> {
    let t0 = Instant::now();
    let mut driven = Driven {
        units_run: 0,
        stopped_early: false,
        seconds: 0.0,
    };
    for unit in units {
        if trainer.stop_before(unit) {
            driven.stopped_early = true;
            break;
        }
        let loss = trainer.run_unit(unit, progress)?;
        if !loss.is_finite() {
            return Err(trainer.diverged(unit, loss));
        }
        trainer.after_unit(unit, progress)?;
        driven.units_run += 1;
    }
    progress.finish();
    driven.seconds = t0.elapsed().as_secs_f64();
    Ok(driven)
}

/// A progress bar on a terminal, and lines on stderr either way (a notebook
/// or a log file shows no bar, but does show the lines). Shared by threads:
/// circRNA2Vec's workers advance it together.
pub struct TrainProgress {
    bar: ProgressBar,
    on: bool,
}

impl TrainProgress {
    /// A display of `total` ticks drawn with an indicatif `template`; `on`
    /// false draws nothing and prints no lines.
    pub fn new(on: bool, total: u64, template: &str) -> Self {
        let target = if on {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("the crate's progress templates are valid")
                .progress_chars("=> "),
        );
        TrainProgress { bar, on }
    }

    /// Print a line above the bar (or alone, without a terminal).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.on {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{}", text.as_ref());
        } else {
            self.bar.println(text.as_ref());
        }
    }

    /// Advance by `n` ticks.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Start at tick `pos` (a resumed run).
    pub fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }

    /// The text after the bar (running loss).
    pub fn message(&self, text: String) {
        self.bar.set_message(text);
    }

    /// The text before the bar (which epoch).
    pub fn prefix(&self, text: String) {
        self.bar.set_prefix(text);
    }

    /// Clear the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Losses to return per unit, and what the driver called.
    struct Script {
        losses: Vec<f64>,
        stop_at: Option<usize>,
        saved: Vec<usize>,
    }

    impl Trainer for Script {
        type Error = String;
        fn run_unit(&mut self, unit: usize, _: &TrainProgress) -> Result<f64, String> {
            Ok(self.losses[unit - 1])
        }
        fn after_unit(&mut self, unit: usize, _: &TrainProgress) -> Result<(), String> {
            self.saved.push(unit);
            Ok(())
        }
        fn stop_before(&self, unit: usize) -> bool {
            self.stop_at == Some(unit)
        }
        fn diverged(&self, unit: usize, loss: f64) -> String {
            format!("unit {unit}: loss {loss}")
        }
    }

    fn script(losses: &[f64], stop_at: Option<usize>) -> Script {
        Script {
            losses: losses.to_vec(),
            stop_at,
            saved: Vec::new(),
        }
    }

    #[test]
    fn runs_the_units_in_order_and_saves_after_each() {
        let mut s = script(&[1.0, 0.5, 0.25], None);
        let d = drive(&mut s, 2..=3, &TrainProgress::new(false, 2, "{bar}")).unwrap();
        assert_eq!(s.saved, vec![2, 3]);
        assert_eq!((d.units_run, d.stopped_early), (2, false));
    }

    #[test]
    fn stops_early_when_asked_and_says_so() {
        let mut s = script(&[1.0, 0.5, 0.25], Some(2));
        let d = drive(&mut s, 1..=3, &TrainProgress::new(false, 3, "{bar}")).unwrap();
        assert_eq!(s.saved, vec![1]);
        assert_eq!((d.units_run, d.stopped_early), (1, true));
    }

    #[test]
    fn a_non_finite_loss_is_the_trainers_error_and_nothing_is_saved_for_it() {
        let mut s = script(&[1.0, f64::NAN, 0.25], None);
        let e = drive(&mut s, 1..=3, &TrainProgress::new(false, 3, "{bar}")).unwrap_err();
        assert_eq!(e, "unit 2: loss NaN");
        assert_eq!(s.saved, vec![1]);
    }
}
