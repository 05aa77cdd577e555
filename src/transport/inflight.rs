//! Counting the MCP requests still being answered, so a shutdown can wait for them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// The number of requests in flight, with a way to wait until there are none.
#[derive(Debug, Default)]
pub struct Inflight {
    count: AtomicUsize,
    idle: Notify,
}

/// One request in flight; dropping it ends the request.
#[derive(Debug)]
pub struct Held(Arc<Inflight>);

impl Drop for Held {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Inflight {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Count one more request until the returned value is dropped.
    pub fn enter(self: &Arc<Self>) -> Held {
        self.count.fetch_add(1, Ordering::AcqRel);
        Held(self.clone())
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Wait until nothing is in flight, or `limit` has passed; true when idle.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.count() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_the_last_request() {
        let f = Inflight::new();
        assert!(f.wait_idle(Duration::from_millis(1)).await);
        let a = f.enter();
        let b = f.enter();
        assert_eq!(f.count(), 2);
        assert!(!f.wait_idle(Duration::from_millis(20)).await);
        let waiter = tokio::spawn({
            let f = f.clone();
            async move { f.wait_idle(Duration::from_secs(5)).await }
        });
        drop(a);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished());
        drop(b);
        assert!(waiter.await.unwrap());
        assert_eq!(f.count(), 0);
    }
}
