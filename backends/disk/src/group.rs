//! Group commit. redb commits one write transaction at a time, and with
//! [`Durability::Immediate`](crate::Durability::Immediate) every commit waits for the disk. Writes
//! that arrive while a commit is running queue up; the next commit takes every queued write into
//! one transaction, so several writers share one wait for the disk. A write is acknowledged only
//! once the transaction holding it is committed, so what a successful `put` guarantees does not
//! change.
//!
//! One writer at a time leads: it takes the whole queue, commits it, answers the others, and
//! hands the lead to the oldest write still queued, so no writer waits behind more than the
//! commit in progress and its own. When a shared transaction fails, each write in it is
//! committed again on its own, so one write's error is never another's.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, MutexGuard};

use stowage_core::embedded::Record;
use stowage_core::{Error, ErrorKind, Result};

/// What a queued writer is told.
enum Turn {
    /// The transaction holding its records is committed, or failed.
    Done(Result<()>),
    /// Lead the next commit: the writer's own records are still queued.
    Lead,
}

struct Job {
    records: Vec<Record>,
    reply: Sender<Turn>,
}

#[derive(Default)]
struct State {
    queue: Vec<Job>,
    /// Whether a writer is committing (and will answer or hand the lead to every queued job).
    leading: bool,
}

/// Writes waiting for a commit; see the module docs.
#[derive(Default)]
pub(crate) struct Group {
    state: Mutex<State>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").finish_non_exhaustive()
    }
}

impl Group {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a queue and a flag, consistent after every statement.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Commit `records` atomically, together with whatever other writes are queued, through
    /// `commit` (one transaction of every record it is given, in order). Blocks until that
    /// transaction is committed.
    pub(crate) fn write(
        &self,
        records: Vec<Record>,
        commit: impl Fn(&mut dyn Iterator<Item = &Record>) -> Result<()>,
    ) -> Result<()> {
        let (reply, turn) = mpsc::channel();
        {
            let mut state = self.lock();
            state.queue.push(Job { records, reply });
            if state.leading {
                drop(state);
                match turn.recv() {
                    Ok(Turn::Done(result)) => return result,
                    Ok(Turn::Lead) => {}
                    Err(_) => return Err(lost()),
                }
            } else {
                state.leading = true;
            }
        }
        // Leading. The queue starts with this writer's own job: a writer that finds no leader
        // finds the queue empty (a leader stops only on an empty queue), and the lead is handed
        // to the first job queued.
        let batch = std::mem::take(&mut self.lock().queue);
        // A panic inside the engine fails this batch's writes instead of leaving the lead taken
        // and every later writer waiting for good.
        let results = std::panic::catch_unwind(AssertUnwindSafe(|| commit_batch(&batch, &commit)))
            .unwrap_or_else(|_| batch.iter().map(|_| Err(panicked())).collect());
        let mut results = results.into_iter();
        let own = results.next().unwrap_or_else(|| Err(lost()));
        for (job, result) in batch.iter().skip(1).zip(results) {
            let _ = job.reply.send(Turn::Done(result));
        }
        // Hand the lead to the oldest queued job, or stop leading.
        let mut state = self.lock();
        while let Some(next) = state.queue.first() {
            if next.reply.send(Turn::Lead).is_ok() {
                return own;
            }
            // Its writer is gone (it cannot be while it waits): drop the job.
            state.queue.remove(0);
        }
        state.leading = false;
        own
    }
}

/// Commit every job of `batch` in one transaction; when that fails and there is more than one
/// job, each job in a transaction of its own. Every job's result, in order.
fn commit_batch(
    batch: &[Job],
    commit: &impl Fn(&mut dyn Iterator<Item = &Record>) -> Result<()>,
) -> Vec<Result<()>> {
    match commit(&mut batch.iter().flat_map(|job| job.records.iter())) {
        Ok(()) => batch.iter().map(|_| Ok(())).collect(),
        Err(e) if batch.len() == 1 => vec![Err(e)],
        Err(_) => batch
            .iter()
            .map(|job| commit(&mut job.records.iter()))
            .collect(),
    }
}

fn panicked() -> Error {
    Error::new(ErrorKind::Backend, "the commit holding this write panicked")
}

fn lost() -> Error {
    Error::new(
        ErrorKind::Backend,
        "the write's commit ended without an answer",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};
    use std::thread;
    use std::time::Duration;

    /// Transactions committed, each the records it held in order.
    type Log = Arc<Mutex<Vec<Vec<Record>>>>;

    /// A commit that takes `delay` and fails when it holds a record keyed `bad`.
    fn committer(
        log: &Log,
        delay: Duration,
    ) -> impl Fn(&mut dyn Iterator<Item = &Record>) -> Result<()> {
        let log = Arc::clone(log);
        move |records| {
            let records: Vec<Record> = records.cloned().collect();
            thread::sleep(delay);
            if records.iter().any(|(k, _)| k == b"bad") {
                return Err(Error::new(ErrorKind::InvalidValue, "bad record"));
            }
            log.lock().unwrap().push(records);
            Ok(())
        }
    }

    fn job(name: &str) -> Vec<Record> {
        (0..3)
            .map(|i| (name.as_bytes().to_vec(), vec![i]))
            .collect()
    }

    #[test]
    fn concurrent_writes_share_commits_and_each_stays_whole() {
        let group = Arc::new(Group::default());
        let log: Log = Arc::default();
        let writers = 8;
        let start = Arc::new(Barrier::new(writers));
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (group, log, start) = (group.clone(), log.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    group.write(
                        job(&format!("w{w}")),
                        committer(&log, Duration::from_millis(30)),
                    )
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        let log = log.lock().unwrap();
        assert!(
            log.len() < writers,
            "{} commits for {writers} concurrent writes",
            log.len()
        );
        let all: Vec<&Record> = log.iter().flatten().collect();
        assert_eq!(all.len(), writers * 3);
        for w in 0..writers {
            let name = format!("w{w}");
            let at: Vec<usize> = all
                .iter()
                .enumerate()
                .filter(|(_, (k, _))| k == name.as_bytes())
                .map(|(i, _)| i)
                .collect();
            assert_eq!(at.len(), 3, "{name}");
            assert_eq!(at[2] - at[0], 2, "{name}'s records split: {at:?}");
            let values: Vec<u8> = at.iter().map(|&i| all[i].1[0]).collect();
            assert_eq!(values, [0, 1, 2]);
        }
        let state = group.lock();
        assert!(!state.leading && state.queue.is_empty());
    }

    #[test]
    fn a_panicking_commit_fails_its_writes_and_the_next_write_commits() {
        let group = Group::default();
        let err = group.write(job("a"), |_| panic!("engine bug")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend);
        let log: Log = Arc::default();
        group
            .write(job("b"), committer(&log, Duration::ZERO))
            .unwrap();
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_failing_write_fails_alone() {
        let group = Arc::new(Group::default());
        let log: Log = Arc::default();
        // The first writer leads a slow commit; the next two queue behind it and share one
        // transaction, which fails because of the bad one.
        let first = {
            let (group, log) = (group.clone(), log.clone());
            thread::spawn(move || {
                group.write(job("a"), committer(&log, Duration::from_millis(200)))
            })
        };
        while !group.lock().leading {
            thread::yield_now();
        }
        let queued: Vec<_> = ["bad", "c"]
            .into_iter()
            .map(|name| {
                let (group, log) = (group.clone(), log.clone());
                thread::spawn(move || group.write(job(name), committer(&log, Duration::ZERO)))
            })
            .collect();
        while group.lock().queue.len() < 2 {
            thread::yield_now();
        }
        assert!(first.join().unwrap().is_ok());
        let results: Vec<Result<()>> = queued.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            results[0].as_ref().unwrap_err().kind(),
            ErrorKind::InvalidValue
        );
        assert!(results[1].is_ok());
        let committed: Vec<Vec<u8>> = log
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            committed,
            [b"a", b"a", b"a", b"c", b"c", b"c"].map(|k| k.to_vec())
        );
    }
}
