//! Printing URLs and authentication without their secrets.

use std::fmt;

use reqwest::Url;

/// Query parameters whose values are treated as secrets, matched case-insensitively as
/// substrings of the parameter name. Paging cursors (`nextPageToken`, `after`, `cursor`) are
/// kept: they say where a failure happened.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "sig",
    "auth",
    "credential",
    "session",
    "code",
];
const CURSOR_PARAMS: &[&str] = &["pagetoken", "page_token", "cursor"];

fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| n.contains(s)) && !CURSOR_PARAMS.iter().any(|c| n.contains(c))
}

/// A URL as it may appear in logs, errors and snapshots: user and password removed, secret
/// query values replaced by `***`.
#[derive(Clone, Copy)]
pub struct RedactedUrl<'a>(pub &'a Url);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        write!(f, "{}://", url.scheme())?;
        if !url.username().is_empty() || url.password().is_some() {
            f.write_str("***@")?;
        }
        if let Some(host) = url.host_str() {
            f.write_str(host)?;
        }
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(url.path())?;
        if url.query().is_some() {
            let mut first = true;
            for (k, v) in url.query_pairs() {
                f.write_str(if first { "?" } else { "&" })?;
                first = false;
                let value = if is_secret_param(&k) { "***".into() } else { v };
                let mut ser = reqwest::Url::parse("http://x/").map_err(|_| fmt::Error)?;
                ser.query_pairs_mut().append_pair(&k, &value);
                f.write_str(ser.query().unwrap_or_default())?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The redacted text of a URL.
pub fn redact(url: &Url) -> String {
    RedactedUrl(url).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_secret_parameters_are_hidden() {
        let url = Url::parse(
            "https://alice:hunter2@example.atlassian.net:8443/rest/api/3/search/jql?jql=project%3DINC&api_key=abc&nextPageToken=CAEaAggD&access_token=zzz",
        )
        .unwrap();
        assert_eq!(
            redact(&url),
            "https://***@example.atlassian.net:8443/rest/api/3/search/jql?jql=project%3DINC&api_key=***&nextPageToken=CAEaAggD&access_token=***"
        );
    }

    #[test]
    fn plain_urls_are_unchanged() {
        let url =
            Url::parse("http://127.0.0.1:4000/api/now/table/incident?sysparm_offset=0").unwrap();
        assert_eq!(redact(&url), url.as_str());
    }
}
