//! The open HTTP connections, kept below the process's open-file limit.
//!
//! Without a cap, idle keep-alive connections can use every file descriptor; the listener then
//! cannot accept, and a new client waits in the backlog until its own timeout. So at start-up the
//! soft `RLIMIT_NOFILE` is read ([`fd_limit`]) and a cap derived from it ([`cap_for`]) that leaves
//! room for the connections to ALTR, the logs and the audit file. A connection accepted at the cap
//! first closes the idle connection that has waited longest (hyper's graceful shutdown closes an
//! idle keep-alive connection at once); when every open connection is busy, the new one is
//! answered `503` with `Retry-After: 1` and `Connection: close` ([`refuse`]), and closed.
//! Shedding is logged in one warning at most every [`WARN_EVERY`].

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Descriptors always left for everything but accepted connections (at least; see [`cap_for`]).
pub const RESERVED_FDS: u64 = 64;

/// The most connections kept open, however high the open-file limit.
pub const MAX_CONNECTIONS: usize = 8192;

/// The open-file limit assumed when it cannot be read (the macOS default).
pub const FALLBACK_FD_LIMIT: u64 = 256;

/// The most connections being answered 503 at once; beyond it a new connection is closed unanswered.
const MAX_REFUSING: usize = 32;

/// How long a refused connection may take: reading its request head, then the client's close.
const REFUSE_TIME: Duration = Duration::from_secs(1);

/// The most of a refused request that is read before answering.
const REFUSE_READ_LIMIT: usize = 64 * 1024;

/// At most one warning about shedding in this time.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

/// The answer to a connection refused at the cap.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 72\r\n\
\r\n\
Service Unavailable: too many open connections; try again in a second.\r\n";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The soft `Max open files` of a `/proc/<pid>/limits` text; `u64::MAX` when unlimited.
pub fn parse_limits(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        return Some(u64::MAX);
    }
    soft.parse().ok()
}

/// The process's soft open-file limit, when it can be read (from `/proc/self/limits`).
pub fn fd_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .as_deref()
        .and_then(parse_limits)
}

/// The connection cap for an open-file limit: the limit less [`RESERVED_FDS`] or an eighth of it,
/// whichever is more (half the limit when that leaves less than half), at most [`MAX_CONNECTIONS`].
pub fn cap_for(limit: u64) -> usize {
    let reserve = RESERVED_FDS.max(limit / 8);
    let cap = if limit > 2 * reserve {
        limit - reserve
    } else {
        limit / 2
    };
    usize::try_from(cap)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_CONNECTIONS)
}

/// One open connection, as the cap sees it.
#[derive(Debug)]
pub struct ConnState {
    /// Requests being answered (their response bodies not yet sent).
    busy: AtomicUsize,
    /// When it last became idle (or was accepted), in ms since [`Conns`] was made.
    idle_since: AtomicU64,
    /// Cancelled to close the connection gracefully.
    close: CancellationToken,
}

impl ConnState {
    /// Cancelled when the connection should close (after the request it may be answering).
    pub fn close_requested(&self) -> &CancellationToken {
        &self.close
    }
}

/// A request in progress on a connection: the connection is busy until this is dropped.
#[derive(Debug)]
pub struct Busy {
    state: Arc<ConnState>,
    base: Instant,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.state
            .idle_since
            .store(millis_since(self.base), Ordering::Release);
        self.state.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

fn millis_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// What to do with a connection just accepted.
#[derive(Debug)]
pub enum Admit {
    /// Serve it; dropping the entry forgets it.
    Serve(Entry),
    /// Answer 503 and close ([`refuse`]).
    Refuse(Refusing),
    /// Close it unanswered: too many are being refused already.
    Drop,
}

/// An open connection in the table; dropping it removes it.
#[derive(Debug)]
pub struct Entry {
    id: u64,
    pub state: Arc<ConnState>,
    conns: Arc<Conns>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        lock(&self.conns.open).remove(&self.id);
    }
}

impl Entry {
    /// Count a request on this connection until the returned value is dropped.
    pub fn busy(&self) -> Busy {
        self.state.busy.fetch_add(1, Ordering::AcqRel);
        Busy {
            state: self.state.clone(),
            base: self.conns.base,
        }
    }
}

/// A connection being refused; dropping it ends the refusal.
#[derive(Debug)]
pub struct Refusing(Arc<Conns>);

impl Drop for Refusing {
    fn drop(&mut self) {
        self.0.refusing.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The open connections and the cap.
#[derive(Debug)]
pub struct Conns {
    cap: usize,
    fd_limit: u64,
    base: Instant,
    next_id: AtomicU64,
    /// The connections not yet chosen to close.
    open: Mutex<HashMap<u64, Arc<ConnState>>>,
    refusing: AtomicUsize,
    closed_idle: AtomicU64,
    refused: AtomicU64,
    last_warn: Mutex<Option<Instant>>,
}

impl Conns {
    /// A table for this open-file limit ([`cap_for`]).
    pub fn new(fd_limit: u64) -> Arc<Self> {
        Self::with_cap(cap_for(fd_limit), fd_limit)
    }

    /// A table with an explicit cap.
    pub fn with_cap(cap: usize, fd_limit: u64) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            fd_limit,
            base: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            refusing: AtomicUsize::new(0),
            closed_idle: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            last_warn: Mutex::new(None),
        })
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Connections open and not chosen to close.
    pub fn open(&self) -> usize {
        lock(&self.open).len()
    }

    /// Decide about a connection just accepted: below the cap it is served; at the cap the
    /// longest-idle connection is closed to make room, or, when none is idle, it is refused.
    pub fn admit(self: &Arc<Self>) -> Admit {
        let mut open = lock(&self.open);
        let mut closed_one = false;
        if open.len() >= self.cap {
            if !self.close_one_idle(&mut open) {
                drop(open);
                self.refused.fetch_add(1, Ordering::Relaxed);
                self.warn();
                let refusing = self.refusing.fetch_add(1, Ordering::AcqRel);
                if refusing >= MAX_REFUSING {
                    self.refusing.fetch_sub(1, Ordering::AcqRel);
                    return Admit::Drop;
                }
                return Admit::Refuse(Refusing(self.clone()));
            }
            closed_one = true;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState {
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(millis_since(self.base)),
            close: CancellationToken::new(),
        });
        open.insert(id, state.clone());
        drop(open);
        if closed_one {
            self.closed_idle.fetch_add(1, Ordering::Relaxed);
            self.warn();
        }
        Admit::Serve(Entry {
            id,
            state,
            conns: self.clone(),
        })
    }

    /// Close the longest-idle connection to free a descriptor (when accepting failed for want
    /// of one); true when one was idle.
    pub fn shed_idle(&self) -> bool {
        let closed = self.close_one_idle(&mut lock(&self.open));
        if closed {
            self.closed_idle.fetch_add(1, Ordering::Relaxed);
            self.warn();
        }
        closed
    }

    fn close_one_idle(&self, open: &mut HashMap<u64, Arc<ConnState>>) -> bool {
        let oldest = open
            .iter()
            .filter(|(_, c)| c.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, c)| c.idle_since.load(Ordering::Acquire))
            .map(|(id, _)| *id);
        let Some(state) = oldest.and_then(|id| open.remove(&id)) else {
            return false;
        };
        state.close.cancel();
        true
    }

    /// One warning at most every [`WARN_EVERY`], with what was done since the last one.
    fn warn(&self) {
        let now = Instant::now();
        {
            let mut last = lock(&self.last_warn);
            if last.is_some_and(|t| now.duration_since(t) < WARN_EVERY) {
                return;
            }
            *last = Some(now);
        }
        let closed_idle = self.closed_idle.swap(0, Ordering::Relaxed);
        let refused = self.refused.swap(0, Ordering::Relaxed);
        tracing::warn!(
            max_connections = self.cap,
            open_file_limit = self.fd_limit,
            closed_idle,
            refused,
            "at the connection limit: closing idle keep-alive connections, and answering 503 (Retry-After: 1) when none is idle; at most one such warning every {} s",
            WARN_EVERY.as_secs()
        );
    }
}

/// Answer a connection refused at the cap: read its request head (briefly), answer 503 with
/// `Retry-After: 1` and `Connection: close`, and wait (briefly) for the client to close, so the
/// close does not reset the connection before the client has read the answer.
pub async fn refuse(mut stream: TcpStream, refusing: Refusing) {
    let _refusing = refusing;
    let mut head: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < REFUSE_READ_LIMIT {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend(buf.iter().take(n)),
            }
        }
        true
    };
    if matches!(
        tokio::time::timeout(REFUSE_TIME, read_head).await,
        Ok(false)
    ) {
        return;
    }
    let answer = async {
        stream.write_all(REFUSAL).await?;
        stream.shutdown().await?;
        let mut read = 0usize;
        while read < REFUSE_READ_LIMIT {
            match stream.read(&mut buf).await? {
                0 => break,
                n => read += n,
            }
        }
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(REFUSE_TIME, answer).await;
}

/// A service that marks its connection busy from each request until its response body is sent.
#[derive(Debug, Clone)]
pub struct Tracked<S> {
    inner: S,
    entry: Arc<Entry>,
}

impl<S> Tracked<S> {
    pub fn new(inner: S, entry: Arc<Entry>) -> Self {
        Self { inner, entry }
    }
}

impl<S, R, B> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R, Response = axum::http::Response<B>>,
    S::Future: Send + 'static,
{
    type Response = axum::http::Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, req: R) -> Self::Future {
        let busy = self.entry.busy();
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| TrackedBody { body, _busy: busy }))
        })
    }
}

/// A response body that keeps its connection busy until it is sent (or dropped).
#[derive(Debug)]
pub struct TrackedBody<B> {
    body: B,
    _busy: Busy,
}

impl<B: HttpBody + Unpin> HttpBody for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_read_from_proc_limits() {
        let text =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max open files            1024                 1048576              files     \n";
        assert_eq!(parse_limits(text), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_limits(unlimited), Some(u64::MAX));
        assert_eq!(parse_limits("Max processes 5 5 processes\n"), None);
        assert_eq!(
            parse_limits("Max open files            lots  lots files\n"),
            None
        );
        #[cfg(target_os = "linux")]
        assert!(fd_limit().is_some_and(|n| n > 0));
    }

    #[test]
    fn the_refusal_is_a_complete_response() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
    }

    #[test]
    fn the_cap_leaves_room_below_the_limit() {
        assert_eq!(cap_for(128), 64);
        assert_eq!(cap_for(256), 192);
        assert_eq!(cap_for(1024), 896);
        assert_eq!(cap_for(100), 50);
        assert_eq!(cap_for(1), 1);
        assert_eq!(cap_for(0), 1);
        assert_eq!(cap_for(1 << 20), MAX_CONNECTIONS);
        assert_eq!(cap_for(u64::MAX), MAX_CONNECTIONS);
        for limit in [10, 64, 128, 300, 5000, 70_000] {
            let cap = cap_for(limit) as u64;
            assert!(cap <= limit / 2 || limit - cap >= RESERVED_FDS, "{limit}");
        }
    }

    fn served(a: Admit) -> Entry {
        match a {
            Admit::Serve(e) => e,
            other => panic!("expected to serve, got {other:?}"),
        }
    }

    #[test]
    fn at_the_cap_the_longest_idle_connection_closes_first() {
        let conns = Conns::with_cap(2, 10);
        let a = served(conns.admit());
        std::thread::sleep(Duration::from_millis(5));
        let b = served(conns.admit());
        // `b` is busy; `a` is idle: the third closes `a`.
        let busy = b.busy();
        let c = served(conns.admit());
        assert!(a.state.close_requested().is_cancelled());
        assert!(!b.state.close_requested().is_cancelled());
        assert_eq!(conns.open(), 2);
        // Now `b` and `c` are busy: the next is refused, and no connection is closed.
        let busy_c = c.busy();
        let refused = conns.admit();
        assert!(matches!(refused, Admit::Refuse(_)), "{refused:?}");
        assert!(!b.state.close_requested().is_cancelled());
        assert!(!c.state.close_requested().is_cancelled());
        assert!(!conns.shed_idle());
        // Too many refusals at once: closed unanswered.
        let held: Vec<Admit> = (0..MAX_REFUSING).map(|_| conns.admit()).collect();
        assert!(matches!(conns.admit(), Admit::Drop));
        drop(held);
        drop(refused);
        // `c` becomes idle (it was busy last): shed on demand.
        drop(busy_c);
        assert!(conns.shed_idle());
        assert!(c.state.close_requested().is_cancelled());
        drop(busy);
        drop((a, c));
        assert_eq!(conns.open(), 1);
        drop(b);
        assert_eq!(conns.open(), 0);
        assert!(matches!(conns.admit(), Admit::Serve(_)));
    }
}
