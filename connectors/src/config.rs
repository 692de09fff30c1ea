//! `[sources.<name>]` sections of `conform.toml`: checked as a whole before anything is
//! collected (unknown keys, missing secrets named by variable, bad JSONPath with its
//! position), and turned into a [`Plan`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderName;
use reqwest::Url;

use crate::connector::Connector;
use crate::error::{ConfigError, ConfigErrors};
use crate::http::{redact, Auth, HttpSettings};
use crate::mapping::{Mapping, RawMapping};
use crate::secret::{Redactor, Secret, SecretSource};

/// What a source kind's constructor gets.
pub struct KindInput<'a> {
    pub source: &'a str,
    pub table: &'a toml::Table,
    pub base_dir: &'a Path,
    /// The API's base URL (`url`), for HTTP kinds; a placeholder in offline mode without one.
    pub url: Url,
    pub page_size: Option<u64>,
    /// Read from `offline_dir`: the query keys may be left out.
    pub offline: bool,
}

/// A kind's constructor: the connector, or every problem of its own keys.
pub type BuildFn = fn(&KindInput<'_>) -> Result<Arc<dyn Connector>, Vec<ConfigError>>;

/// A source kind: its keys, default mapping files and constructor.
pub struct KindSpec {
    pub kind: &'static str,
    /// Talks HTTP (has `url`, credentials, retries, `offline_dir`).
    pub http: bool,
    /// Keys of its own, besides the common ones.
    pub keys: &'static [&'static str],
    /// The default mapping: (file name, text).
    pub mappings: &'static [(&'static str, &'static str)],
    /// The `auth` used when none is given.
    pub default_auth: &'static str,
    /// The header of `auth = "api-key"` when `header` is not given.
    pub api_key_header: Option<&'static str>,
    pub build: BuildFn,
}

/// Every source kind.
pub fn kinds() -> [&'static KindSpec; 5] {
    [
        &crate::jira::SPEC,
        &crate::servicenow::SPEC,
        &crate::redmine::SPEC,
        &crate::netbox::SPEC,
        &crate::files::SPEC,
    ]
}

const COMMON_KEYS: &[&str] = &["kind", "mapping", "mapping_file", "provides", "exported_at"];
const HTTP_KEYS: &[&str] = &[
    "url",
    "offline_dir",
    "auth",
    "username",
    "username_env",
    "token_env",
    "token_file",
    "header",
    "concurrency",
    "timeout",
    "retries",
    "backoff",
    "max_wait",
    "page_size",
    "ca_file",
];
const AUTH_KINDS: &[&str] = &["basic", "bearer", "api-key", "ssws", "token", "none"];

/// One source, ready to collect.
pub struct SourcePlan {
    pub name: String,
    pub kind: &'static str,
    pub connector: Arc<dyn Connector>,
    pub mapping: Mapping,
    pub provides: Vec<String>,
    pub offline_dir: Option<PathBuf>,
    /// `exported_at`: when the saved export was taken (offline sources only), in seconds since
    /// the epoch. It is the source's collection window instead of the clock, so the same
    /// exports always make the same snapshot.
    pub exported_at: Option<i64>,
    pub http: Option<(HttpSettings, Auth)>,
    pub redactor: Redactor,
}

/// The sources to collect, in configuration order.
pub struct Plan {
    pub sources: Vec<SourcePlan>,
}

/// Reads `[sources]`, keeping only `only` when it is not empty. Every problem of every
/// selected source is reported at once.
pub fn plan(sources: &toml::Table, base_dir: &Path, only: &[String]) -> Result<Plan, ConfigErrors> {
    let mut errors = Vec::new();
    if sources.is_empty() {
        errors.push(ConfigError::new(
            "",
            "no sources are configured: add a `[sources.<name>]` section to conform.toml (see docs/connectors.md)",
        ));
    }
    let configured: Vec<String> = sources.keys().map(|k| format!("`{k}`")).collect();
    for n in only {
        if !sources.contains_key(n) {
            errors.push(ConfigError::new(
                n,
                format!(
                    "no such source in `[sources]` (configured: {})",
                    configured.join(", ")
                ),
            ));
        }
    }
    let mut planned = Vec::new();
    for (name, value) in sources {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        match source_plan(name, value, base_dir) {
            Ok(p) => planned.push(p),
            Err(es) => errors.extend(es),
        }
    }
    if errors.is_empty() {
        Ok(Plan { sources: planned })
    } else {
        Err(ConfigErrors(errors))
    }
}

pub(crate) fn get_str(
    source: &str,
    t: &toml::Table,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ConfigError::new(
            source,
            format!("`{key}` must be a string, not `{other}`"),
        )),
    }
}

pub(crate) fn get_list(
    source: &str,
    t: &toml::Table,
    key: &str,
) -> Result<Option<Vec<String>>, ConfigError> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    ConfigError::new(
                        source,
                        format!("`{key}` must be a list of strings; `{i}` is not a string"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(ConfigError::new(
            source,
            format!("`{key}` must be a list of strings, not `{other}`"),
        )),
    }
}

pub(crate) fn get_u64(
    source: &str,
    t: &toml::Table,
    key: &str,
) -> Result<Option<u64>, ConfigError> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Integer(i)) if *i > 0 => Ok(Some(*i as u64)),
        Some(other) => Err(ConfigError::new(
            source,
            format!("`{key}` must be a positive integer, not `{other}`"),
        )),
    }
}

/// `"30s"`, `"500ms"`, `"2m"`, `"1h"`, or a number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = t.split_at(
        t.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len()),
    );
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn get_duration(source: &str, t: &toml::Table, key: &str) -> Result<Option<Duration>, ConfigError> {
    let bad = |v: &toml::Value| {
        ConfigError::new(
            source,
            format!("`{key}` must be a duration such as \"30s\", \"500ms\" or \"2m\", not `{v}`"),
        )
    };
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(Duration::from_secs(*i as u64))),
        Some(v @ toml::Value::String(s)) => parse_duration(s).map(Some).ok_or_else(|| bad(v)),
        Some(v) => Err(bad(v)),
    }
}

/// The value, or nothing with the error kept.
fn keep<T>(r: Result<Option<T>, ConfigError>, errors: &mut Vec<ConfigError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok().flatten()
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

fn source_plan(
    name: &str,
    value: &toml::Value,
    base: &Path,
) -> Result<SourcePlan, Vec<ConfigError>> {
    let err = |m: String| vec![ConfigError::new(name, m)];
    if !valid_name(name) {
        return Err(err(
            "a source name may hold letters, digits, `-`, `_` and `.` only (it names the snapshot's files)".into(),
        ));
    }
    let Some(t) = value.as_table() else {
        return Err(err(format!("`[sources.{name}]` must be a table")));
    };
    let kind = get_str(name, t, "kind").map_err(|e| vec![e])?;
    let names: Vec<String> = kinds().iter().map(|k| format!("`{}`", k.kind)).collect();
    let Some(kind) = kind else {
        return Err(err(format!(
            "`kind` is missing (one of {})",
            names.join(", ")
        )));
    };
    let Some(spec) = kinds().into_iter().find(|k| k.kind == kind) else {
        return Err(err(format!(
            "unknown kind `{kind}` (expected one of {})",
            names.join(", ")
        )));
    };
    let mut errors = Vec::new();
    let allowed: Vec<&str> = COMMON_KEYS
        .iter()
        .chain(if spec.http { HTTP_KEYS } else { &[] })
        .chain(spec.keys)
        .copied()
        .collect();
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            let hint = if k.contains("token") || k.contains("password") || k.contains("secret") {
                " (credentials are read from `token_env` or `token_file`, never written in the configuration)"
            } else {
                ""
            };
            errors.push(ConfigError::new(
                name,
                format!(
                    "unknown key `{k}` for kind `{kind}`{hint} (expected one of {})",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let offline_dir = keep(get_str(name, t, "offline_dir"), &mut errors).map(|d| resolve(base, &d));
    let url_text = keep(get_str(name, t, "url"), &mut errors);
    let page_size = keep(get_u64(name, t, "page_size"), &mut errors);
    let mut settings = HttpSettings::default();
    if let Some(d) = keep(get_duration(name, t, "timeout"), &mut errors) {
        settings.timeout = d;
    }
    if let Some(d) = keep(get_duration(name, t, "backoff"), &mut errors) {
        settings.retry.base = d;
    }
    if let Some(d) = keep(get_duration(name, t, "max_wait"), &mut errors) {
        settings.retry.max_wait = d;
    }
    if let Some(n) = keep(get_u64(name, t, "retries"), &mut errors) {
        settings.retry.attempts = u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1);
    }
    if let Some(n) = keep(get_u64(name, t, "concurrency"), &mut errors) {
        settings.concurrency = usize::try_from(n).unwrap_or(1);
    }
    if let Some(f) = keep(get_str(name, t, "ca_file"), &mut errors) {
        match crate::http::read_ca_file(&resolve(base, &f)) {
            Ok(certs) => settings.ca_certificates = certs,
            Err(e) => errors.push(ConfigError::new(name, e)),
        }
    }
    if let Some(d) = &offline_dir {
        if !d.is_dir() {
            errors.push(ConfigError::new(
                name,
                format!("`offline_dir` `{}` is not a directory", d.display()),
            ));
        }
    }
    let url = match (&url_text, spec.http) {
        (Some(u), _) => match Url::parse(u) {
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                errors.push(ConfigError::new(
                    name,
                    format!(
                        "`url` `{}` holds credentials: put them in `username` and `token_env` / `token_file`",
                        redact(&url)
                    ),
                ));
                None
            }
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            Ok(url) => {
                errors.push(ConfigError::new(
                    name,
                    format!("`url` `{}` is not http(s)", redact(&url)),
                ));
                None
            }
            Err(e) => {
                errors.push(ConfigError::new(name, format!("`url` is not a URL: {e}")));
                None
            }
        },
        (None, true) if offline_dir.is_none() => {
            errors.push(ConfigError::new(
                name,
                "`url` is missing (or set `offline_dir` to read saved responses)",
            ));
            None
        }
        (None, _) => None,
    };
    let mut redactor = Redactor::default();
    let auth = if spec.http && offline_dir.is_none() {
        match auth_of(name, t, spec, base) {
            Ok(a) => {
                a.register(&mut redactor);
                if let (Some(u), false) = (&url, matches!(a, Auth::None)) {
                    let local = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
                    if u.scheme() == "http" && !local {
                        tracing::warn!(
                            source = name,
                            "credentials are sent over plain http to {}",
                            redact(u)
                        );
                    }
                }
                Some(a)
            }
            Err(es) => {
                errors.extend(es);
                None
            }
        }
    } else {
        None
    };
    let mapping = mapping_of(name, t, spec, base)
        .map_err(|es| errors.extend(es))
        .ok();
    let placeholder = Url::parse("http://offline.invalid/").map_err(|e| err(e.to_string()))?;
    let input = KindInput {
        source: name,
        table: t,
        base_dir: base,
        url: url.unwrap_or(placeholder),
        page_size,
        offline: offline_dir.is_some(),
    };
    let connector = (spec.build)(&input).map_err(|es| errors.extend(es)).ok();
    let exported_at = match keep(get_str(name, t, "exported_at"), &mut errors) {
        None => None,
        Some(_) if spec.http && offline_dir.is_none() => {
            errors.push(ConfigError::new(
                name,
                "`exported_at` is for saved exports only (`offline_dir`, or kind `files`): an online collection is timed by the clock",
            ));
            None
        }
        Some(text) => match conform_engine::time::parse_rfc3339(&text) {
            Some(t) => Some(t),
            None => {
                errors.push(ConfigError::new(
                    name,
                    format!("`exported_at` `{text}` is not an RFC 3339 time such as \"2026-11-20T06:00:00Z\""),
                ));
                None
            }
        },
    };
    let provides_cfg = keep(get_list(name, t, "provides"), &mut errors);
    if let Some(p) = &provides_cfg {
        for ty in p {
            if conform_engine::model::entity_type(ty).is_none() {
                errors.push(ConfigError::new(
                    name,
                    format!("`provides` names unknown entity type `{ty}`"),
                ));
            }
        }
    }
    let (Some(connector), Some(mapping), true) = (connector, mapping, errors.is_empty()) else {
        return Err(errors);
    };
    let provides = provides_cfg.unwrap_or_else(|| mapping.provides(&connector.streams()));
    Ok(SourcePlan {
        name: name.to_string(),
        kind: spec.kind,
        connector,
        mapping,
        provides,
        offline_dir,
        exported_at,
        http: auth.map(|a| (settings, a)),
        redactor,
    })
}

fn secret_source(
    name: &str,
    t: &toml::Table,
    base: &Path,
    env_key: &'static str,
    file_key: &'static str,
) -> Result<Option<SecretSource>, ConfigError> {
    let env = get_str(name, t, env_key)?;
    let file = get_str(name, t, file_key)?;
    match (env, file) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            name,
            format!("give `{env_key}` or `{file_key}`, not both"),
        )),
        (Some(var), None) => Ok(Some(SecretSource::Env { key: env_key, var })),
        (None, Some(f)) => Ok(Some(SecretSource::File {
            key: file_key,
            path: resolve(base, &f),
        })),
        (None, None) => Ok(None),
    }
}

fn auth_of(
    name: &str,
    t: &toml::Table,
    spec: &KindSpec,
    base: &Path,
) -> Result<Auth, Vec<ConfigError>> {
    let one = |e: ConfigError| vec![e];
    let kind = get_str(name, t, "auth")
        .map_err(one)?
        .unwrap_or_else(|| spec.default_auth.to_string());
    if !AUTH_KINDS.contains(&kind.as_str()) {
        return Err(vec![ConfigError::new(
            name,
            format!(
                "unknown `auth` `{kind}` (expected one of {})",
                AUTH_KINDS
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )]);
    }
    if kind == "none" {
        return Ok(Auth::None);
    }
    let token = || -> Result<Secret, Vec<ConfigError>> {
        match secret_source(name, t, base, "token_env", "token_file").map_err(one)? {
            Some(s) => s.load(name).map_err(one),
            None => Err(vec![ConfigError::new(
                name,
                format!("`auth = \"{kind}\"` needs a secret: set `token_env` (an environment variable) or `token_file`"),
            )]),
        }
    };
    Ok(match kind.as_str() {
        "basic" => {
            let username = match (
                get_str(name, t, "username").map_err(one)?,
                get_str(name, t, "username_env").map_err(one)?,
            ) {
                (Some(u), None) => u,
                (None, Some(var)) => SecretSource::Env {
                    key: "username_env",
                    var,
                }
                .load(name)
                .map_err(one)?
                .expose()
                .to_string(),
                (Some(_), Some(_)) => {
                    return Err(vec![ConfigError::new(
                        name,
                        "give `username` or `username_env`, not both",
                    )])
                }
                (None, None) => {
                    return Err(vec![ConfigError::new(
                        name,
                        "`auth = \"basic\"` needs `username` (or `username_env`)",
                    )])
                }
            };
            Auth::Basic {
                username,
                password: token()?,
            }
        }
        "bearer" => Auth::Bearer(token()?),
        "ssws" => Auth::Scheme {
            scheme: "SSWS".into(),
            token: token()?,
        },
        "token" => Auth::Scheme {
            scheme: "Token".into(),
            token: token()?,
        },
        _ => {
            let header = get_str(name, t, "header")
                .map_err(one)?
                .or(spec.api_key_header.map(str::to_string))
                .ok_or_else(|| {
                    vec![ConfigError::new(
                        name,
                        "`auth = \"api-key\"` needs `header` (the header's name)",
                    )]
                })?;
            let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
                vec![ConfigError::new(
                    name,
                    format!("`header` `{header}` is not a valid header name"),
                )]
            })?;
            Auth::Header {
                name: header,
                value: token()?,
            }
        }
    })
}

fn mapping_of(
    name: &str,
    t: &toml::Table,
    spec: &KindSpec,
    base: &Path,
) -> Result<Mapping, Vec<ConfigError>> {
    let errs = |es: Vec<String>| {
        es.into_iter()
            .map(|e| ConfigError::new(name, e))
            .collect::<Vec<_>>()
    };
    let mut raw = match get_str(name, t, "mapping_file").map_err(|e| vec![e])? {
        Some(f) => {
            let path = resolve(base, &f);
            crate::mapping::load_files(&[&path]).map_err(|e| errs(vec![e]))?
        }
        None => {
            let mut raw = RawMapping::default();
            for (file, text) in spec.mappings {
                raw.merge(
                    RawMapping::parse(text, &format!("connectors/mappings/{file}"))
                        .map_err(|e| errs(vec![e]))?,
                );
            }
            raw
        }
    };
    // Override problems and compile problems are reported together.
    let mut problems = Vec::new();
    match t.get("mapping") {
        None => {}
        Some(toml::Value::Table(over)) => {
            if let Err(es) = raw.override_with(over) {
                problems.extend(es);
            }
        }
        Some(other) => {
            return Err(errs(vec![format!(
                "`mapping` must be a table, not `{other}`"
            )]))
        }
    }
    if raw.entities.is_empty() {
        return Err(errs(vec![format!(
            "the mapping has no `[[entities]]` rules: kind `{}` has no default mapping, so give `mapping_file` or `[[sources.{name}.mapping.entities]]`",
            spec.kind
        )]));
    }
    match Mapping::compile(&raw, name) {
        Ok(m) if problems.is_empty() => Ok(m),
        Ok(_) => Err(errs(problems)),
        Err(es) => {
            problems.extend(es.into_iter().map(|e| format!("mapping: {e}")));
            Err(errs(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("soon"), None);
    }
}
