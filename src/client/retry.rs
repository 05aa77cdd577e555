//! The retry policy as a pure function: given what happened to one attempt, wait and try again
//! or stop. Nothing here sleeps or touches the network, so every rule is a row in a unit test.
//!
//! Rules (design decision 3): 429 and 503 mean the request was not processed, so they are retried
//! for every operation; 500, 502, 504, timeouts and connection errors may have been processed, so
//! they are retried only for idempotent operations: the calling tool's effect decides (a PUT that
//! adds something is not idempotent), else the method (GET, HEAD, PUT, DELETE, OPTIONS). `Retry-After` in
//! seconds or as an HTTP date replaces the computed backoff; both are capped by MAX_RETRY_AFTER.
//! `max_attempts` counts every attempt, the first included.

use std::time::{Duration, SystemTime};

use reqwest::Method;

/// What one attempt produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// An HTTP response with this status and, perhaps, a `Retry-After` header value.
    Status(u16, Option<&'a str>),
    /// No response within REQUEST_TIMEOUT.
    Timeout,
    /// The connection failed or broke.
    Connection,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts allowed, at least 1.
    pub max_attempts: u32,
    /// Ceiling for any wait between attempts.
    pub max_delay: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The outcome is final (a success or an error that must not be retried).
    Stop,
    /// Retryable, but the attempts are used up.
    Exhausted,
    /// Wait this long, then try again.
    RetryAfter(Duration),
}

pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Whether the outcome may be retried for an operation at all; `idempotent` is whether the
/// operation may be repeated (the tool's effect or the request's override, else its method).
pub fn is_retryable(idempotent: bool, outcome: Outcome<'_>) -> bool {
    match outcome {
        Outcome::Status(429 | 503, _) => true,
        Outcome::Status(500 | 502 | 504, _) => idempotent,
        Outcome::Status(_, _) => false,
        Outcome::Timeout | Outcome::Connection => idempotent,
    }
}

/// Parse a `Retry-After` value: delta-seconds (decimals tolerated) or an HTTP date.
/// Returns `None` for anything unusable (negative, NaN, infinite, blank, unparsable).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
        }
        return None;
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff before attempt `attempt + 1`: 0.5 s, 1 s, 2 s ... plus up to 50% jitter.
/// `jitter` is a number in [0, 1).
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 0.5 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    Duration::from_secs_f64(base * (1.0 + jitter.clamp(0.0, 1.0) * 0.5))
}

/// Decide what to do after attempt number `attempt` (1-based) ended with `outcome`.
pub fn decide(
    idempotent: bool,
    outcome: Outcome<'_>,
    attempt: u32,
    policy: RetryPolicy,
    now: SystemTime,
    jitter: f64,
) -> Decision {
    if !is_retryable(idempotent, outcome) {
        return Decision::Stop;
    }
    if attempt >= policy.max_attempts {
        return Decision::Exhausted;
    }
    let wait = match outcome {
        Outcome::Status(_, Some(header)) => parse_retry_after(header, now),
        _ => None,
    }
    .unwrap_or_else(|| backoff(attempt, jitter));
    Decision::RetryAfter(wait.min(policy.max_delay))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        max_delay: Duration::from_secs(60),
    };

    fn now() -> SystemTime {
        httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap()
    }

    #[test]
    fn which_outcomes_are_retried_for_which_methods() {
        use Outcome::*;
        let post = Method::POST;
        let patch = Method::PATCH;
        let get = Method::GET;
        let put = Method::PUT;
        let delete = Method::DELETE;
        #[rustfmt::skip]
        let table: &[(&Method, Outcome, bool)] = &[
            (&post, Status(429, None), true),
            (&post, Status(503, None), true),
            (&patch, Status(429, None), true),
            (&post, Status(500, None), false),
            (&post, Status(502, None), false),
            (&post, Status(504, None), false),
            (&patch, Status(500, None), false),
            (&post, Timeout, false),
            (&post, Connection, false),
            (&get, Status(500, None), true),
            (&get, Status(502, None), true),
            (&get, Status(504, None), true),
            (&put, Status(500, None), true),
            (&delete, Status(502, None), true),
            (&get, Timeout, true),
            (&get, Connection, true),
            (&delete, Timeout, true),
            (&get, Status(501, None), false),
            (&get, Status(400, None), false),
            (&get, Status(401, None), false),
            (&get, Status(403, None), false),
            (&get, Status(404, None), false),
            (&get, Status(409, None), false),
            (&get, Status(200, None), false),
            (&get, Status(204, None), false),
        ];
        for (method, outcome, expected) in table {
            assert_eq!(
                is_retryable(is_idempotent(method), *outcome),
                *expected,
                "{method} {outcome:?}"
            );
        }
    }

    #[test]
    fn retry_after_values() {
        let n = now();
        #[rustfmt::skip]
        let table: &[(&str, Option<Duration>)] = &[
            ("0", Some(Duration::ZERO)),
            ("5", Some(Duration::from_secs(5))),
            (" 2.5 ", Some(Duration::from_millis(2500))),
            ("-1", None),
            ("nan", None),
            ("inf", None),
            ("", None),
            ("   ", None),
            ("soon", None),
            ("Sun, 06 Nov 1994 08:49:47 GMT", Some(Duration::from_secs(10))),
            ("Sun, 06 Nov 1994 08:49:00 GMT", Some(Duration::ZERO)),
        ];
        for (value, expected) in table {
            assert_eq!(parse_retry_after(value, n), *expected, "{value:?}");
        }
        assert!(parse_retry_after("1e400", n).is_none());
    }

    #[test]
    fn attempts_are_counted_in_total() {
        let outcome = Outcome::Status(503, None);
        assert!(matches!(
            decide(true, outcome, 1, POLICY, now(), 0.0),
            Decision::RetryAfter(_)
        ));
        assert!(matches!(
            decide(true, outcome, 2, POLICY, now(), 0.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            decide(true, outcome, 3, POLICY, now(), 0.0),
            Decision::Exhausted
        );
        let single = RetryPolicy {
            max_attempts: 1,
            ..POLICY
        };
        assert_eq!(
            decide(true, outcome, 1, single, now(), 0.0),
            Decision::Exhausted
        );
        assert_eq!(
            decide(false, Outcome::Status(500, None), 1, POLICY, now(), 0.0),
            Decision::Stop
        );
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let capped = RetryPolicy {
            max_attempts: 3,
            max_delay: Duration::from_secs(4),
        };
        #[rustfmt::skip]
        let table: &[(&str, Duration)] = &[
            ("2", Duration::from_secs(2)),
            ("120", Duration::from_secs(4)),
            ("Sun, 06 Nov 1994 08:49:40 GMT", Duration::from_secs(3)),
            ("Sun, 06 Nov 1994 09:49:40 GMT", Duration::from_secs(4)),
        ];
        for (header, expected) in table {
            assert_eq!(
                decide(
                    false,
                    Outcome::Status(429, Some(header)),
                    1,
                    capped,
                    now(),
                    0.0
                ),
                Decision::RetryAfter(*expected),
                "{header}"
            );
        }
        // An unusable header falls back to backoff.
        assert_eq!(
            decide(
                false,
                Outcome::Status(429, Some("later")),
                1,
                capped,
                now(),
                0.0
            ),
            Decision::RetryAfter(Duration::from_millis(500))
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        assert_eq!(backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(2));
        assert_eq!(
            backoff(1, 0.999_999),
            Duration::from_secs_f64(0.5 * 1.4999995)
        );
        let tight = RetryPolicy {
            max_attempts: 10,
            max_delay: Duration::from_millis(300),
        };
        assert_eq!(
            decide(true, Outcome::Timeout, 8, tight, now(), 0.5),
            Decision::RetryAfter(Duration::from_millis(300))
        );
    }

    #[test]
    fn the_operation_decides_not_the_method() {
        // connect_tag's PUT adds something: not repeated after a 500 or a timeout.
        for outcome in [
            Outcome::Status(500, None),
            Outcome::Timeout,
            Outcome::Connection,
        ] {
            assert_eq!(
                decide(false, outcome, 1, POLICY, now(), 0.0),
                Decision::Stop
            );
            assert!(matches!(
                decide(true, outcome, 1, POLICY, now(), 0.0),
                Decision::RetryAfter(_)
            ));
        }
        // 429 and 503 were not processed: retried whatever the operation.
        for status in [429, 503] {
            assert!(matches!(
                decide(false, Outcome::Status(status, None), 1, POLICY, now(), 0.0),
                Decision::RetryAfter(_)
            ));
        }
    }
}
