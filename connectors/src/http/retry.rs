//! When to retry and how long to wait: `Retry-After` (seconds or HTTP date), the
//! `X-RateLimit-*` / `X-Rate-Limit-*` families, and exponential backoff with full jitter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use reqwest::header::HeaderMap;

/// Bounds on retrying one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// The first backoff step; doubled per attempt, with full jitter.
    pub base: Duration,
    /// The largest backoff step.
    pub max_backoff: Duration,
    /// The longest a rate limit is waited out at once.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after a transient fault (attempt counts from 1):
    /// a random duration in `[0, min(max_backoff, base × 2^(attempt-1))]`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        let cap = self.base.saturating_mul(factor).min(self.max_backoff);
        let ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=ms))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn until(t: SystemTime, now: SystemTime) -> Duration {
    t.duration_since(now).unwrap_or(Duration::ZERO)
}

/// `Retry-After: 30` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = header(headers, "retry-after")?;
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    httpdate::parse_http_date(v).ok().map(|t| until(t, now))
}

/// A rate-limit reset header: epoch seconds (ServiceNow, Okta), epoch milliseconds, seconds
/// from now (small numbers), or an ISO 8601 instant (Jira).
pub fn reset_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = ["x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset"]
        .iter()
        .find_map(|n| header(headers, n))?;
    if let Ok(n) = v.parse::<u64>() {
        let at = if n > 100_000_000_000 {
            UNIX_EPOCH + Duration::from_millis(n)
        } else if n > 1_000_000_000 {
            UNIX_EPOCH + Duration::from_secs(n)
        } else {
            return Some(Duration::from_secs(n));
        };
        return Some(until(at, now));
    }
    let secs = conform_engine::time::parse_rfc3339(v)?;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?);
    Some(until(at, now))
}

/// The wait a throttled (429 / 503) response asks for, if it says.
pub fn throttle_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    retry_after(headers, now).or_else(|| reset_at(headers, now))
}

/// After a successful response: the wait before the next request when the quota is spent
/// (`X-RateLimit-Remaining: 0` with a reset time).
pub fn quota_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let remaining = ["x-ratelimit-remaining", "x-rate-limit-remaining"]
        .iter()
        .find_map(|n| header(headers, n))?;
    if remaining.parse::<u64>().ok()? > 0 {
        return None;
    }
    reset_at(headers, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const NOW: u64 = 1_795_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now()),
            Some(Duration::from_secs(7))
        );
        let date = httpdate::fmt_http_date(now() + Duration::from_secs(90));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now()),
            Some(Duration::from_secs(90))
        );
        let past = httpdate::fmt_http_date(now() - Duration::from_secs(90));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "soon")]), now()),
            None
        );
    }

    #[test]
    fn reset_headers_in_every_vendor_dialect() {
        let epoch = (NOW + 30).to_string();
        assert_eq!(
            reset_at(&headers(&[("x-ratelimit-reset", &epoch)]), now()),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            reset_at(&headers(&[("x-rate-limit-reset", &epoch)]), now()),
            Some(Duration::from_secs(30))
        );
        let iso = conform_engine::time::format_rfc3339(NOW as i64 + 12);
        assert_eq!(
            reset_at(&headers(&[("x-ratelimit-reset", &iso)]), now()),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            reset_at(&headers(&[("x-ratelimit-reset", "5")]), now()),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn a_spent_quota_waits_for_the_reset() {
        let epoch = (NOW + 3).to_string();
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &epoch),
        ]);
        assert_eq!(quota_wait(&h, now()), Some(Duration::from_secs(3)));
        let h = headers(&[
            ("x-ratelimit-remaining", "4"),
            ("x-ratelimit-reset", &epoch),
        ]);
        assert_eq!(quota_wait(&h, now()), None);
    }

    #[test]
    fn backoff_stays_within_its_bounds() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
            ..RetryPolicy::default()
        };
        for attempt in 1..10 {
            assert!(p.backoff(attempt) <= Duration::from_millis(250));
        }
        assert!(p.backoff(1) <= Duration::from_millis(100));
    }
}
