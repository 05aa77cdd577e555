//! Which signed-in caller each streamable-HTTP session belongs to. A session opened with a token
//! (a named static token or an OAuth access token) answers only requests carrying a token of the
//! same caller: another caller who learns its id gets 404, as for a session that does not exist,
//! and cannot read its stream, call in it or end it. Sessions opened without a token are not
//! bound (there is no one to bind them to).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Session id -> (owner, last use).
#[derive(Debug, Default)]
pub struct Owners {
    sessions: Mutex<HashMap<String, (String, Instant)>>,
    /// An entry unused this long is forgotten (the session has expired by then).
    idle: Duration,
}

impl Owners {
    pub fn new(idle: Duration) -> Owners {
        Owners {
            sessions: Mutex::default(),
            idle,
        }
    }

    /// Whether `caller` may use session `id`: the session is unbound, or bound to `caller`.
    /// Refreshes the entry's last use.
    pub fn admits(&self, id: &str, caller: Option<&str>) -> bool {
        let Ok(mut sessions) = self.sessions.lock() else {
            return false;
        };
        match sessions.get_mut(id) {
            None => true,
            Some((owner, used)) if Some(owner.as_str()) == caller => {
                *used = Instant::now();
                true
            }
            Some(_) => false,
        }
    }

    /// Bind a new session to its caller (forgetting entries idle for twice the idle timeout).
    pub fn bind(&self, id: &str, caller: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            let now = Instant::now();
            let keep = self.idle.saturating_mul(2);
            sessions.retain(|_, (_, used)| now.duration_since(*used) < keep);
            sessions.insert(id.to_string(), (caller.to_string(), now));
        }
    }

    /// Forget an ended session.
    pub fn forget(&self, id: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_session_admits_only_its_owner() {
        let o = Owners::new(Duration::from_secs(300));
        assert!(o.admits("s1", Some("alice")), "unbound");
        o.bind("s1", "alice");
        assert!(o.admits("s1", Some("alice")));
        assert!(!o.admits("s1", Some("bob")));
        assert!(!o.admits("s1", None));
        o.forget("s1");
        assert!(o.admits("s1", Some("bob")));
    }
}
