//! Hands a reproduction's tasks to parallel workers in plan order, holding
//! back each task until the models it reads have been trained.
//!
//! Training the circRNA2Vec and BERT models takes about an hour on two
//! cores, and a third of the jobs (KNFP-only, circRNA2Vec-only) do not read
//! BERT at all. Queuing the models as tasks of their own lets those jobs run
//! beside the pretraining instead of after it. No crate fits: rayon and the
//! job-queue crates have no "wait until a named result exists" ordering, and
//! the rule is twenty lines over a `Mutex` and a `Condvar`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex};

/// What [`TaskQueue::next`] hands out.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// Run this task: everything it needs is there.
    Run(T),
    /// Do not run this task: a model it needs failed (the reason says which).
    Blocked(T, String),
}

#[derive(Debug)]
struct Entry<T> {
    task: T,
    provides: Option<String>,
    needs: Vec<String>,
}

#[derive(Debug)]
struct State<T> {
    entries: VecDeque<Entry<T>>,
    /// Names some queued or running task still has to provide.
    unfinished: BTreeSet<String>,
    /// Names whose task failed, with why.
    failed: BTreeMap<String, String>,
}

/// A queue shared by worker threads: each takes the first task whose needs
/// are met, waiting while only held-back tasks are left.
///
/// ```
/// use circssnn::reproduce::queue::{Next, TaskQueue};
/// let mut q = TaskQueue::new();
/// q.push("pretrain BERT", Some("bert"), &[]);
/// q.push("train on BERT", None, &["bert"]);
/// q.push("train on KNFP", None, &[]);
/// assert_eq!(q.next(), Some(Next::Run("pretrain BERT")));
/// // The BERT job waits; the KNFP job does not.
/// assert_eq!(q.next(), Some(Next::Run("train on KNFP")));
/// q.finished("bert", Ok(()));
/// assert_eq!(q.next(), Some(Next::Run("train on BERT")));
/// assert_eq!(q.next(), None);
/// ```
#[derive(Debug)]
pub struct TaskQueue<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
}

impl<T> Default for TaskQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TaskQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        TaskQueue {
            state: Mutex::new(State {
                entries: VecDeque::new(),
                unfinished: BTreeSet::new(),
                failed: BTreeMap::new(),
            }),
            changed: Condvar::new(),
        }
    }

    /// Append `task`, which makes `provides` (if any) and needs `needs`. A
    /// need no queued task provides counts as met.
    pub fn push(&mut self, task: T, provides: Option<&str>, needs: &[&str]) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = provides {
            state.unfinished.insert(p.to_string());
        }
        state.entries.push_back(Entry {
            task,
            provides: provides.map(str::to_string),
            needs: needs.iter().map(|n| n.to_string()).collect(),
        });
    }

    /// Tasks not yet handed out.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether every task has been handed out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first task in queue order whose needs are met, waiting for one if
    /// all that are left wait on a running task; `None` once none are left.
    pub fn next(&self) -> Option<Next<T>> {
        let mut state = self.lock();
        loop {
            if state.entries.is_empty() {
                return None;
            }
            let mut pick = None;
            for (i, e) in state.entries.iter().enumerate() {
                if let Some(n) = e.needs.iter().find(|n| state.failed.contains_key(*n)) {
                    let why = format!("not run: {n} failed ({})", state.failed[n]);
                    pick = Some((i, Some(why)));
                    break;
                }
                if !e.needs.iter().any(|n| state.unfinished.contains(n)) {
                    pick = Some((i, None));
                    break;
                }
            }
            // Everything left waits, and on nothing a worker is running (a
            // cycle of needs): run the first rather than wait forever.
            let running = state.unfinished.iter().any(|u| {
                !state
                    .entries
                    .iter()
                    .any(|e| e.provides.as_deref() == Some(u.as_str()))
            });
            if pick.is_none() && !running {
                pick = Some((0, None));
            }
            if let Some((i, blocked)) = pick {
                let e = state.entries.remove(i).expect("index from the scan");
                if blocked.is_some() {
                    if let Some(p) = &e.provides {
                        // What it would have made is now missing too.
                        state.unfinished.remove(p);
                        state
                            .failed
                            .insert(p.clone(), "a model it needs failed".into());
                        self.changed.notify_all();
                    }
                }
                return Some(match blocked {
                    Some(why) => Next::Blocked(e.task, why),
                    None => Next::Run(e.task),
                });
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Report that the task providing `name` ended, well or with the reason
    /// it failed; wakes the workers waiting on it.
    pub fn finished(&self, name: &str, outcome: Result<(), String>) {
        let mut state = self.lock();
        state.unfinished.remove(name);
        if let Err(why) = outcome {
            state.failed.insert(name.to_string(), why);
        }
        self.changed.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A worker that panicked leaves the queue itself consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn order_is_kept_among_ready_tasks() {
        let mut q = TaskQueue::new();
        for t in [1, 2, 3] {
            q.push(t, None, &[]);
        }
        let got: Vec<_> = std::iter::from_fn(|| q.next()).collect();
        assert_eq!(got, [Next::Run(1), Next::Run(2), Next::Run(3)]);
    }

    #[test]
    fn a_need_nobody_provides_is_met() {
        let mut q = TaskQueue::new();
        q.push("job", None, &["vec"]);
        assert_eq!(q.next(), Some(Next::Run("job")));
    }

    #[test]
    fn jobs_of_a_failed_model_are_blocked_with_its_reason() {
        let mut q = TaskQueue::new();
        q.push("vec model", Some("vec"), &[]);
        q.push("vec job", None, &["vec"]);
        q.push("knfp job", None, &[]);
        assert_eq!(q.next(), Some(Next::Run("vec model")));
        assert_eq!(q.next(), Some(Next::Run("knfp job")));
        q.finished("vec", Err("disk full".into()));
        match q.next() {
            Some(Next::Blocked("vec job", why)) => assert!(why.contains("disk full"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(q.next(), None);
    }

    #[test]
    fn a_waiting_worker_wakes_when_the_model_is_done() {
        let mut q = TaskQueue::new();
        q.push("bert model", Some("bert"), &[]);
        q.push("bert job", None, &["bert"]);
        let q = &q;
        let ran_after_model = AtomicUsize::new(0);
        let model_done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            assert_eq!(q.next(), Some(Next::Run("bert model")));
            s.spawn(|| {
                // Blocks until the model is reported finished.
                assert_eq!(q.next(), Some(Next::Run("bert job")));
                if model_done.load(Ordering::SeqCst) == 1 {
                    ran_after_model.fetch_add(1, Ordering::SeqCst);
                }
            });
            std::thread::sleep(Duration::from_millis(50));
            model_done.store(1, Ordering::SeqCst);
            q.finished("bert", Ok(()));
        });
        assert_eq!(ran_after_model.load(Ordering::SeqCst), 1);
        assert!(q.is_empty());
    }

    #[test]
    fn a_cycle_of_needs_does_not_hang() {
        let mut q = TaskQueue::new();
        q.push("a", Some("a"), &["b"]);
        q.push("b", Some("b"), &["a"]);
        assert_eq!(q.next(), Some(Next::Run("a")));
    }

    #[test]
    fn many_workers_run_every_task_once_and_never_early() {
        let mut q = TaskQueue::new();
        q.push(0usize, Some("a"), &[]);
        q.push(1, Some("b"), &["a"]);
        for t in 2..40 {
            let needs: &[&str] = match t % 3 {
                0 => &["a"],
                1 => &["b"],
                _ => &[],
            };
            q.push(t, None, needs);
        }
        let done: Vec<AtomicUsize> = (0..40).map(|_| AtomicUsize::new(0)).collect();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    while let Some(Next::Run(t)) = q.next() {
                        // Tasks 0 and 1 are the providers themselves.
                        match t % 3 {
                            0 if t > 0 => assert_eq!(done[0].load(Ordering::SeqCst), 1),
                            1 if t > 1 => assert_eq!(done[1].load(Ordering::SeqCst), 1),
                            _ => {}
                        }
                        std::thread::sleep(Duration::from_millis(1));
                        done[t].fetch_add(1, Ordering::SeqCst);
                        match t {
                            0 => q.finished("a", Ok(())),
                            1 => q.finished("b", Ok(())),
                            _ => {}
                        }
                    }
                });
            }
        });
        assert!(done.iter().all(|d| d.load(Ordering::SeqCst) == 1));
    }
}
