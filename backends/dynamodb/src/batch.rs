//! Batches within DynamoDB's limits, and the loop that resends what DynamoDB left unprocessed.

use std::future::Future;
use std::time::Duration;

use stowage_core::{Error, ErrorKind, Result};

/// Most writes in one `BatchWriteItem`.
pub const MAX_BATCH_WRITE: usize = 25;
/// Most keys in one `BatchGetItem`.
pub const MAX_BATCH_GET: usize = 100;

/// Rounds without any progress before giving up with a retryable error.
const MAX_IDLE_ROUNDS: u32 = 8;
const FIRST_DELAY: Duration = Duration::from_millis(20);
const MAX_DELAY: Duration = Duration::from_secs(1);

/// Send `pending` with `send` until nothing is left unprocessed.
///
/// `send` gets a batch and returns what it produced and what DynamoDB left unprocessed. Leftovers
/// are resent after an exponential backoff (20 ms doubling up to 1 s, reset on progress); after
/// [`MAX_IDLE_ROUNDS`] rounds that processed nothing the call fails with a retryable
/// [`Unavailable`](ErrorKind::Unavailable) error.
pub(crate) async fn drain<T, O, F, Fut>(mut pending: Vec<T>, mut send: F) -> Result<Vec<O>>
where
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = Result<(Vec<O>, Vec<T>)>>,
{
    let mut out = Vec::new();
    let mut delay = FIRST_DELAY;
    let mut idle = 0;
    while !pending.is_empty() {
        let sent = pending.len();
        let (done, left) = send(pending).await?;
        out.extend(done);
        if left.is_empty() {
            break;
        }
        if left.len() < sent {
            idle = 0;
            delay = FIRST_DELAY;
        } else {
            idle += 1;
            if idle >= MAX_IDLE_ROUNDS {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "DynamoDB left {} items unprocessed after {idle} retries",
                        left.len()
                    ),
                ));
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_DELAY);
        pending = left;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn leftovers_are_resent_until_done() {
        let rounds = Mutex::new(Vec::new());
        let done = drain((0..10).collect(), |batch: Vec<u32>| {
            rounds.lock().unwrap().push(batch.len());
            // Process only the first half of each batch.
            let half = batch.len().div_ceil(2);
            let (now, later) = batch.split_at(half);
            let result = (now.to_vec(), later.to_vec());
            async move { Ok(result) }
        })
        .await
        .unwrap();
        assert_eq!(done, (0..10).collect::<Vec<_>>());
        assert_eq!(*rounds.lock().unwrap(), [10, 5, 2, 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn no_progress_is_a_retryable_error() {
        let err = drain(vec![1, 2], |batch: Vec<u32>| async move {
            Ok((Vec::<u32>::new(), batch))
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.is_retryable());
    }
}
