//! Shared HTTP plumbing for every connector that talks to an API: authentication, retries
//! with backoff, rate limits, a per-source concurrency limit, timeouts and paging.

mod auth;
pub mod paging;
mod redact;
pub mod retry;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub use auth::Auth;
pub use redact::{redact, RedactedUrl};
pub use retry::RetryPolicy;

use crate::error::FetchError;
use crate::secret::Redactor;

/// How a source's HTTP requests behave (`[sources.<name>]` keys `timeout`, `retries`,
/// `backoff`, `max_wait`, `concurrency`).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub concurrency: usize,
    /// Certificate authorities trusted besides the public ones (`ca_file`): an on-premises
    /// ServiceNow, NetBox or Redmine behind an internal CA.
    pub ca_certificates: Vec<reqwest::Certificate>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            concurrency: 4,
            ca_certificates: Vec::new(),
        }
    }
}

/// The certificates of a PEM file (`ca_file`); an error names the file and what is wrong.
pub fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| format!("`ca_file` `{shown}` cannot be read: {e}"))?;
    let certs = reqwest::Certificate::from_pem_bundle(&bytes)
        .map_err(|e| format!("`ca_file` `{shown}` is not a PEM certificate bundle: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "`ca_file` `{shown}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)"
        ));
    }
    Ok(certs)
}

/// `base` + `path`, keeping a base path (`https://jira.example/jira` + `rest/...`).
pub fn endpoint(base: &Url, path: &str) -> Url {
    let mut u = base.clone();
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u.set_query(None);
    u.join(path).unwrap_or(u)
}

/// One HTTP response, read whole.
#[derive(Debug)]
pub struct Response {
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The HTTP client of one source: its credentials, its concurrency limit and its shared
/// "not before" instant (a rate limit pauses every request of the source).
pub struct HttpClient {
    client: reqwest::Client,
    auth: Auth,
    limit: Arc<Semaphore>,
    policy: RetryPolicy,
    not_before: Mutex<Option<Instant>>,
    redactor: Redactor,
    source: String,
}

impl HttpClient {
    pub fn new(
        source: &str,
        settings: &HttpSettings,
        auth: Auth,
        redactor: Redactor,
    ) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder();
        for cert in &settings.ca_certificates {
            builder = builder.add_root_certificate(cert.clone());
        }
        let client = builder
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(30)))
            .user_agent(concat!("conform/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            auth,
            limit: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            policy: settings.retry,
            not_before: Mutex::new(None),
            redactor,
            source: source.to_string(),
        })
    }

    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        if let Ok(mut nb) = self.not_before.lock() {
            if nb.is_none_or(|t| t < until) {
                *nb = Some(until);
            }
        }
    }

    async fn wait_turn(&self) {
        let until = self.not_before.lock().ok().and_then(|nb| *nb);
        if let Some(t) = until {
            tokio::time::sleep_until(t).await;
        }
    }

    /// A URL as logs and errors show it: credentials, secret-looking parameters and every
    /// configured secret value removed.
    pub fn show(&self, url: &Url) -> String {
        self.redactor.scrub(&redact(url))
    }

    /// GETs `url`, retrying timeouts, connection failures and 5xx with backoff, and waiting
    /// out 429s as the server asks. Any other non-2xx status is returned as an error at once.
    pub async fn get(&self, url: &Url) -> Result<Response, FetchError> {
        self.request(url, None).await
    }

    /// [`HttpClient::get`], or a POST of the JSON `body` when there is one (searches that
    /// take their parameters in the body, such as Jira's bulk changelog fetch).
    pub async fn request(&self, url: &Url, body: Option<&Value>) -> Result<Response, FetchError> {
        let shown = self.show(url);
        let mut last = String::new();
        let attempts = self.policy.attempts.max(1);
        for attempt in 1..=attempts {
            self.wait_turn().await;
            let outcome = self.send(url, body).await;
            let more = attempt < attempts;
            match outcome {
                Err(e) => {
                    let transient =
                        e.is_timeout() || e.is_connect() || e.is_request() || e.is_body();
                    last = self.describe(e);
                    if !transient {
                        return Err(FetchError::Transport {
                            url: shown,
                            message: last,
                        });
                    }
                    tracing::warn!(source = %self.source, attempt, "{shown}: {last}");
                    if more {
                        tokio::time::sleep(self.policy.backoff(attempt)).await;
                    }
                }
                Ok((status, headers, body)) if status.is_success() => {
                    if let Some(wait) = retry::quota_wait(&headers, SystemTime::now()) {
                        let wait = wait.min(self.policy.max_wait);
                        tracing::info!(source = %self.source, "rate limit quota spent; pausing {}ms", wait.as_millis());
                        self.pause(wait);
                    }
                    return Ok(Response {
                        url: url.clone(),
                        headers,
                        body,
                    });
                }
                Ok((status, headers, _))
                    if status == StatusCode::TOO_MANY_REQUESTS
                        || (status == StatusCode::SERVICE_UNAVAILABLE
                            && retry::throttle_wait(&headers, SystemTime::now()).is_some()) =>
                {
                    let asked = retry::throttle_wait(&headers, SystemTime::now());
                    let wait = asked
                        .unwrap_or_else(|| self.policy.backoff(attempt))
                        .min(self.policy.max_wait);
                    last = format!("HTTP {} (throttled)", status.as_u16());
                    tracing::warn!(
                        source = %self.source, attempt,
                        "{shown}: throttled (HTTP {}); waiting {}ms", status.as_u16(), wait.as_millis()
                    );
                    if more {
                        self.pause(wait);
                    }
                }
                Ok((status, _, body))
                    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT =>
                {
                    last = format!("HTTP {}{}", status.as_u16(), self.detail(&body));
                    tracing::warn!(source = %self.source, attempt, "{shown}: {last}");
                    if more {
                        tokio::time::sleep(self.policy.backoff(attempt)).await;
                    }
                }
                Ok((status, _, body)) => {
                    return Err(FetchError::Status {
                        status: status.as_u16(),
                        url: shown,
                        detail: self.detail(&body),
                    })
                }
            }
        }
        Err(FetchError::Exhausted {
            url: shown,
            attempts,
            last,
        })
    }

    async fn send(
        &self,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), reqwest::Error> {
        // The permit is held for the request only, not while waiting to retry.
        let _permit = self.limit.acquire().await.ok();
        let rb = match body {
            Some(b) => {
                tracing::debug!(source = %self.source, "POST {}", self.show(url));
                self.client
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(b.to_string())
            }
            None => {
                tracing::debug!(source = %self.source, "GET {}", self.show(url));
                self.client.get(url.clone())
            }
        }
        .header(ACCEPT, "application/json");
        let resp = self.auth.apply(rb).send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok((status, headers, body))
    }

    fn describe(&self, e: reqwest::Error) -> String {
        let e = e.without_url();
        let mut s = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(c) = cur {
            let m = c.to_string();
            if !s.contains(&m) {
                s.push_str(": ");
                s.push_str(&m);
            }
            cur = c.source();
        }
        self.redactor.scrub(&s)
    }

    /// `: <the server's message>`, from the vendors' error bodies, redacted and shortened.
    fn detail(&self, body: &[u8]) -> String {
        let text = error_message(body);
        if text.is_empty() {
            String::new()
        } else {
            format!(": {}", self.redactor.scrub(&text))
        }
    }
}

/// The human message of a vendor error body: Jira `errorMessages`, ServiceNow
/// `error.message`/`error.detail`, NetBox `detail`, Redmine `errors`; else the text itself.
fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let strings = |v: &serde_json::Value| -> Option<String> {
                let parts: Vec<&str> = v.as_array()?.iter().filter_map(|x| x.as_str()).collect();
                (!parts.is_empty()).then(|| parts.join("; "))
            };
            strings(&v["errorMessages"])
                .or_else(|| strings(&v["errors"]))
                .or_else(|| {
                    let m = v["error"]["message"].as_str()?;
                    Some(match v["error"]["detail"].as_str() {
                        Some(d) if !d.is_empty() => format!("{m} ({d})"),
                        _ => m.to_string(),
                    })
                })
                .or_else(|| v["detail"].as_str().map(str::to_string))
                .or_else(|| v["errorSummary"].as_str().map(str::to_string))
        });
    let msg = from_json.unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "));
    let mut short: String = msg.chars().take(200).collect();
    if short.len() < msg.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_error_bodies_are_summarised() {
        assert_eq!(
            error_message(br#"{"errorMessages":["The value 'X' does not exist for the field 'project'."],"errors":{}}"#),
            "The value 'X' does not exist for the field 'project'."
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}"#),
            "User Not Authenticated (Required to provide Auth information)"
        );
        assert_eq!(
            error_message(br#"{"detail":"Invalid token"}"#),
            "Invalid token"
        );
        assert_eq!(
            error_message(b"<html>\n<b>Unauthorized</b></html>"),
            "<html> <b>Unauthorized</b></html>"
        );
    }
}
