//! Paging styles and the loop that walks a stream's pages.
//!
//! | style | used by | next page | end |
//! |---|---|---|---|
//! | [`Paging::Cursor`] | Jira | `nextPageToken` from the body as a query parameter | `isLast: true` or no token |
//! | [`Paging::Offset`] | Redmine | `offset += records on the page` | `offset >= total` or an empty page |
//! | [`Paging::Link`] | ServiceNow, Okta | `Link: <…>; rel="next"` | no `next` link |
//! | [`Paging::BodyNext`] | NetBox, Graph | the URL in the body's `next` | `next` null or absent |

use std::collections::{BTreeMap, HashSet};

use reqwest::Url;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{HttpClient, Response};
use crate::error::FetchError;
use crate::progress::Progress;

/// Where a stream's record count is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// A body field (`total_count`, `count`).
    Body(&'static str),
    /// A response header (`X-Total-Count`).
    Header(&'static str),
    None,
}

/// How a stream is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    Cursor {
        param: &'static str,
        token_field: &'static str,
        last_field: &'static str,
    },
    Offset {
        offset_param: &'static str,
        page_size: u64,
        total: Total,
    },
    Link {
        total: Total,
    },
    BodyNext {
        field: &'static str,
        total: Total,
    },
}

impl Paging {
    pub fn total(&self) -> Total {
        match self {
            Paging::Cursor { .. } => Total::None,
            Paging::Offset { total, .. }
            | Paging::Link { total }
            | Paging::BodyNext { total, .. } => *total,
        }
    }
}

/// One stream of records of a source: a table, an endpoint, a search.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    /// The stream's name: the mapping's `stream`, the offline file name.
    pub name: String,
    /// The first page.
    pub url: Url,
    /// The body field holding the page's records (`issues`, `result`, `results`).
    pub records_field: &'static str,
    /// The record field that identifies it, to drop a record a shifting page repeats; `None`
    /// where one record may legitimately span pages (Jira's bulk changelogs).
    pub id_field: Option<&'static str>,
    pub paging: Paging,
    /// A JSON body to POST instead of a GET; cursor tokens then go in the body.
    pub body: Option<Value>,
}

/// What a stream produced: its records (compact JSON, one per record), the pages or records
/// that could not be read, and the fault that stopped it, if one did.
#[derive(Debug, Default)]
pub struct StreamOutput {
    pub records: Vec<Vec<u8>>,
    pub errors: Vec<FetchError>,
    pub fatal: Option<FetchError>,
}

/// A page's records and its other top-level fields.
pub struct ParsedPage {
    pub records: Vec<Box<RawValue>>,
    fields: BTreeMap<String, Box<RawValue>>,
}

impl ParsedPage {
    pub fn field(&self, name: &str) -> Option<Value> {
        self.fields
            .get(name)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .filter(|v: &Value| !v.is_null())
    }
}

/// Reads a page body. A body that is not a JSON object, or lacks the records array, is
/// malformed; the message says where (JSON line and column).
pub fn parse_page(body: &[u8], records_field: &str) -> Result<ParsedPage, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8 text: {e}"))?;
    if text.trim_start().starts_with('[') {
        let records: Vec<Box<RawValue>> =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        return Ok(ParsedPage {
            records,
            fields: BTreeMap::new(),
        });
    }
    let mut fields: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text)
        .map_err(|e| format!("invalid JSON (expected an object with `{records_field}`): {e}"))?;
    let raw = fields
        .remove(records_field)
        .ok_or_else(|| format!("no `{records_field}` array in the page"))?;
    let records: Vec<Box<RawValue>> = serde_json::from_str(raw.get())
        .map_err(|_| format!("`{records_field}` is not an array of records"))?;
    Ok(ParsedPage { records, fields })
}

/// A record as one line: the received bytes when they hold no line break, else the same
/// JSON re-serialized compactly (key order kept).
pub fn compact(raw: &RawValue) -> Vec<u8> {
    let text = raw.get();
    if !text.contains(['\n', '\r']) {
        return text.as_bytes().to_vec();
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok())
        .unwrap_or_else(|| text.replace(['\n', '\r'], " ").into_bytes())
}

/// Keeps each record once per stream (offset paging over a changing table can repeat one).
#[derive(Default)]
pub struct Dedup {
    seen: HashSet<String>,
}

impl Dedup {
    /// False when the record's id was seen before in this stream.
    pub fn first(&mut self, raw: &RawValue, id_field: Option<&str>) -> bool {
        let Some(id_field) = id_field else {
            return true;
        };
        let id = serde_json::from_str::<BTreeMap<String, Value>>(raw.get())
            .ok()
            .and_then(|m| m.get(id_field).cloned())
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            });
        match id {
            Some(id) => self.seen.insert(id),
            None => true,
        }
    }
}

/// The `rel="next"` target of a `Link` header, resolved against the page's URL.
pub fn link_next(resp: &Response) -> Option<Url> {
    for value in resp.headers.get_all("link") {
        let Ok(text) = value.to_str() else { continue };
        let mut rest = text;
        while let Some(start) = rest.find('<') {
            let Some(end) = rest[start..].find('>') else {
                break;
            };
            let target = &rest[start + 1..start + end];
            let after = &rest[start + end + 1..];
            let params_end = after.find('<').unwrap_or(after.len());
            let params = &after[..params_end];
            let is_next = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.strip_prefix("rel=")
                    .map(|r| r.trim_matches('"').split_whitespace().any(|r| r == "next"))
                    .unwrap_or(false)
            });
            if is_next {
                return resp.url.join(target).ok();
            }
            rest = after;
        }
    }
    None
}

fn total_of(page: &ParsedPage, resp: Option<&Response>, total: Total) -> Option<u64> {
    match total {
        Total::Body(f) => page.field(f).and_then(|v| v.as_u64()),
        Total::Header(h) => resp?
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok()),
        Total::None => None,
    }
}

fn with_param(url: &Url, name: &str, value: &str) -> Url {
    let mut next = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    next
}

/// Walks every page of a stream. Records are kept in the order received; a malformed page
/// is reported with the URL and its position, and skipped when the paging style allows
/// (offset paging), else it ends the stream; a fault that retries did not cure ends it.
pub async fn fetch_stream(
    http: &HttpClient,
    spec: &StreamSpec,
    progress: &Progress,
) -> StreamOutput {
    let mut out = StreamOutput::default();
    let mut dedup = Dedup::default();
    let mut url = spec.url.clone();
    let mut body = spec.body.clone();
    let mut offset: u64 = 0;
    let mut announced = false;
    let mut known_total: Option<u64> = None;
    for page_no in 1u64.. {
        let position = match spec.paging {
            Paging::Offset { .. } => format!("`{}` page {page_no}, offset {offset}", spec.name),
            _ => format!(
                "`{}` page {page_no}, after {} records",
                spec.name,
                out.records.len()
            ),
        };
        let resp = match http.request(&url, body.as_ref()).await {
            Ok(r) => r,
            Err(e) => {
                out.fatal = Some(e);
                return out;
            }
        };
        let page = match parse_page(&resp.body, spec.records_field) {
            Ok(p) => p,
            Err(detail) => {
                tracing::warn!("malformed page {} ({position}): {detail}", http.show(&url));
                out.errors.push(FetchError::MalformedPage {
                    url: http.show(&url),
                    position,
                    detail,
                });
                match spec.paging {
                    Paging::Offset {
                        offset_param,
                        page_size,
                        ..
                    } => {
                        // Skip the page when the end is known; else there is no telling
                        // where the stream ends.
                        offset += page_size;
                        if known_total.is_none_or(|t| offset >= t) {
                            return out;
                        }
                        url = with_param(&url, offset_param, &offset.to_string());
                        continue;
                    }
                    _ => return out,
                }
            }
        };
        if !announced {
            if let Some(t) = total_of(&page, Some(&resp), spec.paging.total()) {
                progress.expect(t);
                known_total = Some(t);
                announced = true;
            }
        }
        let n = page.records.len() as u64;
        let previous_body = body.clone();
        for raw in &page.records {
            if dedup.first(raw, spec.id_field) {
                out.records.push(compact(raw));
            } else {
                tracing::info!(
                    "`{}`: a record repeated by a shifting page was dropped ({position})",
                    spec.name
                );
            }
        }
        progress.records(n);
        let next = match spec.paging {
            Paging::Cursor {
                param,
                token_field,
                last_field,
            } => {
                let last = page
                    .field(last_field)
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                match page
                    .field(token_field)
                    .and_then(|v| v.as_str().map(str::to_string))
                {
                    Some(token) if !last => match &mut body {
                        Some(Value::Object(b)) => {
                            b.insert(param.to_string(), Value::String(token));
                            Some(url.clone())
                        }
                        _ => Some(with_param(&url, param, &token)),
                    },
                    _ => None,
                }
            }
            Paging::Offset {
                offset_param,
                total,
                ..
            } => {
                offset += n;
                let total = total_of(&page, Some(&resp), total).or(known_total);
                if n == 0 || total.is_some_and(|t| offset >= t) {
                    None
                } else {
                    Some(with_param(&url, offset_param, &offset.to_string()))
                }
            }
            Paging::Link { .. } => link_next(&resp),
            Paging::BodyNext { field, .. } => page
                .field(field)
                .and_then(|v| v.as_str().map(str::to_string))
                .and_then(|s| url.join(&s).ok()),
        };
        match next {
            None => return out,
            Some(n) if n == url && body == previous_body => {
                out.fatal = Some(FetchError::Stuck {
                    url: http.show(&url),
                    position,
                });
                return out;
            }
            Some(n) => url = n,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn link_headers_in_servicenow_and_okta_style() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static(
                "<https://x.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=0>;rel=\"first\",<https://x.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=2>;rel=\"next\",<https://x.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=4>;rel=\"last\"",
            ),
        );
        let resp = Response {
            url: Url::parse("https://x.service-now.com/api/now/table/incident").unwrap(),
            headers,
            body: Vec::new(),
        };
        assert_eq!(
            link_next(&resp).unwrap().as_str(),
            "https://x.service-now.com/api/now/table/incident?sysparm_limit=2&sysparm_offset=2"
        );
        let mut headers = HeaderMap::new();
        headers.append(
            "link",
            HeaderValue::from_static("<https://o.okta.com/api/v1/users?limit=200>; rel=\"self\""),
        );
        headers.append(
            "link",
            HeaderValue::from_static(
                "<https://o.okta.com/api/v1/users?after=00u1&limit=200>; rel=\"next\"",
            ),
        );
        let resp = Response { headers, ..resp };
        assert_eq!(
            link_next(&resp).unwrap().as_str(),
            "https://o.okta.com/api/v1/users?after=00u1&limit=200"
        );
    }

    #[test]
    fn records_keep_their_bytes_unless_they_span_lines() {
        let page = parse_page(
            br#"{"issues":[{"id":"1","b":[1, 2]},{"id":"2",
 "x":null}],"isLast":true}"#,
            "issues",
        )
        .unwrap();
        assert_eq!(compact(&page.records[0]), br#"{"id":"1","b":[1, 2]}"#);
        assert_eq!(compact(&page.records[1]), br#"{"id":"2","x":null}"#);
        assert_eq!(page.field("isLast"), Some(Value::Bool(true)));
    }

    #[test]
    fn malformed_pages_say_where() {
        let err = parse_page(br#"{"issues":[{"id":"1"},"#, "issues")
            .err()
            .unwrap();
        assert!(err.contains("line 1 column"), "{err}");
        let err = parse_page(br#"{"values":[]}"#, "issues").err().unwrap();
        assert_eq!(err, "no `issues` array in the page");
    }

    #[test]
    fn cursor_parameters_are_replaced_not_repeated() {
        let u = Url::parse("http://h/s?jql=a&nextPageToken=1").unwrap();
        assert_eq!(
            with_param(&u, "nextPageToken", "2").as_str(),
            "http://h/s?jql=a&nextPageToken=2"
        );
    }
}
