//! One mapped value: a JSONPath (or a constant) and how its result becomes an attribute
//! value. Written in a mapping file or `conform.toml` as a string (the JSONPath), a table
//! (`{ path = "…", map = "status" }`), a list of those (the first that yields a value wins),
//! or `false` (an override that removes a default mapping).

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

use super::convert::{as_text, Epoch};

/// A compiled JSONPath with its text.
#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    compiled: JpQuery,
}

impl Query {
    /// Compiles `text`; the error names the expression and the column where it goes wrong.
    pub fn compile(text: &str) -> Result<Self, String> {
        match parse_json_path(text) {
            Ok(compiled) => Ok(Self {
                text: text.to_string(),
                compiled,
            }),
            Err(jsonpath_rust::parser::errors::JsonPathError::PestError(e)) => {
                let col = match e.line_col {
                    pest::error::LineColLocation::Pos((_, c))
                    | pest::error::LineColLocation::Span((_, c), _) => c,
                };
                let what = e.variant.message().to_string();
                let what = what.replace('_', " ");
                Err(format!("invalid JSONPath `{text}` at column {col}: {what}"))
            }
            Err(e) => Err(format!("invalid JSONPath `{text}`: {e}")),
        }
    }

    /// The values the path selects (none when it selects nothing).
    pub fn run<'a>(&self, v: &'a Value) -> Vec<&'a Value> {
        js_path_process(&self.compiled, v)
            .map(|refs| refs.into_iter().map(|r| r.val()).collect())
            .unwrap_or_default()
    }
}

/// A condition on a record: `"$.path"` (yields a value), or a table with `path` and one of
/// `equals` (a value or a list), `not_in` (a list), `matches` (a regular expression that
/// a selected value contains a match of), `exists = false`.
#[derive(Debug, Clone)]
pub struct Cond {
    pub query: Query,
    pub test: CondTest,
}

#[derive(Debug, Clone)]
pub enum CondTest {
    Exists(bool),
    In(Vec<String>),
    NotIn(Vec<String>),
    Matches(regex::Regex),
}

/// Whether a selected value counts as "something": not null, not `false`, not an empty
/// string or array.
pub fn is_something(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

impl Cond {
    pub fn holds(&self, record: &Value) -> bool {
        let found = self.query.run(record);
        match &self.test {
            CondTest::Exists(want) => found.into_iter().any(is_something) == *want,
            CondTest::In(list) => found
                .into_iter()
                .filter_map(as_text)
                .any(|t| list.contains(&t)),
            CondTest::NotIn(list) => !found
                .into_iter()
                .filter_map(as_text)
                .any(|t| list.contains(&t)),
            CondTest::Matches(re) => found
                .into_iter()
                .filter_map(as_text)
                .any(|t| re.is_match(&t)),
        }
    }
}

fn texts(v: &toml::Value, key: &str) -> Result<Vec<String>, String> {
    let one = |x: &toml::Value| match x {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!("`{key}` takes strings, not `{other}`")),
    };
    match v {
        toml::Value::Array(a) => a.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

pub fn parse_cond(v: &toml::Value) -> Result<Cond, String> {
    match v {
        toml::Value::String(s) => Ok(Cond {
            query: Query::compile(s)?,
            test: CondTest::Exists(true),
        }),
        toml::Value::Table(t) => {
            for k in t.keys() {
                if !["path", "equals", "not_in", "matches", "exists"].contains(&k.as_str()) {
                    return Err(format!(
                        "unknown key `{k}` in a condition (expected `path` with `equals`, `not_in`, `matches` or `exists`)"
                    ));
                }
            }
            let path = t
                .get("path")
                .and_then(|p| p.as_str())
                .ok_or("a condition needs `path`")?;
            let test =
                if let Some(e) = t.get("equals") {
                    CondTest::In(texts(e, "equals")?)
                } else if let Some(n) = t.get("not_in") {
                    CondTest::NotIn(texts(n, "not_in")?)
                } else if let Some(m) = t.get("matches") {
                    let re = m.as_str().ok_or("`matches` takes a regular expression")?;
                    CondTest::Matches(regex::Regex::new(re).map_err(|e| {
                        format!("`matches` `{re}` is not a regular expression: {e}")
                    })?)
                } else {
                    CondTest::Exists(t.get("exists").and_then(|b| b.as_bool()).unwrap_or(true))
                };
            Ok(Cond {
                query: Query::compile(path)?,
                test,
            })
        }
        other => Err(format!(
            "a condition is a JSONPath or a table with `path`, not `{other}`"
        )),
    }
}

/// What happens to a value the field's value map does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmapped {
    /// The record is reported (the map needs the value).
    #[default]
    Error,
    /// The value is ignored (other selected values, or the default, are used).
    Skip,
    /// The value is used as it is.
    Keep,
}

/// Which selected value a single-valued attribute takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pick {
    #[default]
    First,
    Last,
    /// Booleans: true when any is true.
    Any,
    /// Booleans: true when all are true.
    All,
    /// Times and integers: the largest.
    Max,
    /// Times and integers: the smallest.
    Min,
}

/// One way of finding a value.
#[derive(Debug, Clone, Default)]
pub struct Alt {
    pub query: Option<Query>,
    pub constant: Option<Value>,
    pub when: Option<Cond>,
    pub map: Option<String>,
    pub unmapped: Unmapped,
    pub template: Option<String>,
    pub pick: Pick,
    pub present: bool,
    pub split: Option<String>,
    pub end_of_day: bool,
    pub epoch: Epoch,
    pub scale: Option<f64>,
    /// Text in lower case.
    pub lowercase: bool,
    /// Text as a slug: lower case, runs of other characters than letters and digits as one
    /// separator (`slug = true`: `Payments API` → `payments-api`; `slug = "_"`:
    /// `Audit programme` → `audit_programme`), for ids and categories made of names.
    pub slug: Option<char>,
}

/// A mapped value: its alternatives (the first that yields wins) and a default.
#[derive(Debug, Clone, Default)]
pub struct Field {
    pub alts: Vec<Alt>,
    pub default: Option<Value>,
}

/// A field as written, or `false`: remove the mapping.
#[derive(Debug, Clone)]
pub enum FieldDef {
    Field(Field),
    Drop,
}

const KEYS: &[&str] = &[
    "path",
    "value",
    "when",
    "map",
    "unmapped",
    "default",
    "template",
    "pick",
    "present",
    "split",
    "end_of_day",
    "epoch",
    "scale",
    "lowercase",
    "slug",
];

fn to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn parse_alt(t: &toml::Table, field: &mut Field) -> Result<Alt, String> {
    let mut alt = Alt::default();
    for (k, v) in t {
        let s = || {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`{k}` takes a string, not `{v}`"))
        };
        let b = || {
            v.as_bool()
                .ok_or_else(|| format!("`{k}` takes true or false, not `{v}`"))
        };
        match k.as_str() {
            "path" => alt.query = Some(Query::compile(&s()?)?),
            "value" => alt.constant = Some(to_json(v)),
            "when" => alt.when = Some(parse_cond(v)?),
            "map" => alt.map = Some(s()?),
            "unmapped" => {
                alt.unmapped = match s()?.as_str() {
                    "error" => Unmapped::Error,
                    "skip" => Unmapped::Skip,
                    "keep" => Unmapped::Keep,
                    o => {
                        return Err(format!(
                            "`unmapped` is `error`, `skip` or `keep`, not `{o}`"
                        ))
                    }
                }
            }
            "default" => field.default = Some(to_json(v)),
            "template" => {
                let t = s()?;
                if !t.contains("{}") {
                    return Err(format!("`template` `{t}` has no `{{}}` for the value"));
                }
                alt.template = Some(t);
            }
            "pick" => {
                alt.pick = match s()?.as_str() {
                    "first" => Pick::First,
                    "last" => Pick::Last,
                    "any" => Pick::Any,
                    "all" => Pick::All,
                    "max" => Pick::Max,
                    "min" => Pick::Min,
                    o => {
                        return Err(format!(
                            "`pick` is `first`, `last`, `any`, `all`, `max` or `min`, not `{o}`"
                        ))
                    }
                }
            }
            "present" => alt.present = b()?,
            "split" => alt.split = Some(s()?),
            "end_of_day" => alt.end_of_day = b()?,
            "lowercase" => alt.lowercase = b()?,
            "slug" => {
                alt.slug = match v {
                    toml::Value::Boolean(true) => Some('-'),
                    toml::Value::Boolean(false) => None,
                    toml::Value::String(sep) if sep.chars().count() == 1 => sep.chars().next(),
                    other => {
                        return Err(format!(
                            "`slug` takes true or a one-character separator, not `{other}`"
                        ))
                    }
                }
            }
            "epoch" => {
                alt.epoch = match s()?.as_str() {
                    "s" => Epoch::Seconds,
                    "ms" => Epoch::Millis,
                    o => return Err(format!("`epoch` is `s` or `ms`, not `{o}`")),
                }
            }
            "scale" => {
                alt.scale = Some(
                    v.as_float()
                        .or_else(|| v.as_integer().map(|i| i as f64))
                        .ok_or_else(|| format!("`scale` takes a number, not `{v}`"))?,
                )
            }
            other => {
                return Err(format!(
                    "unknown key `{other}` (expected one of {})",
                    KEYS.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }
    if alt.query.is_none() && alt.constant.is_none() {
        if field.default.is_some() && t.len() == 1 {
            // `{ default = … }` alone: a constant default.
            return Ok(alt);
        }
        return Err("a field needs `path` or `value`".into());
    }
    Ok(alt)
}

/// Reads a field as written in a mapping.
pub fn parse_field(v: &toml::Value) -> Result<FieldDef, String> {
    let mut field = Field::default();
    let push = |v: &toml::Value, field: &mut Field| -> Result<(), String> {
        match v {
            toml::Value::String(s) => field.alts.push(Alt {
                query: Some(Query::compile(s)?),
                ..Alt::default()
            }),
            toml::Value::Table(t) => {
                let alt = parse_alt(t, field)?;
                if alt.query.is_some() || alt.constant.is_some() {
                    field.alts.push(alt);
                }
            }
            other => {
                return Err(format!(
                    "a field is a JSONPath, a table with `path` or `value`, or a list of those; not `{other}`"
                ))
            }
        }
        Ok(())
    };
    match v {
        toml::Value::Boolean(false) => return Ok(FieldDef::Drop),
        toml::Value::Array(items) => {
            for item in items {
                push(item, &mut field)?;
            }
        }
        other => push(other, &mut field)?,
    }
    Ok(FieldDef::Field(field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_jsonpath_is_reported_with_its_column() {
        let err = Query::compile("$.fields.[status").unwrap_err();
        assert!(
            err.starts_with("invalid JSONPath `$.fields.[status` at column "),
            "{err}"
        );
        let err = Query::compile("fields.status").unwrap_err();
        assert!(err.contains("at column 1"), "{err}");
    }

    #[test]
    fn conditions() {
        let rec = json!({"a": "x", "b": "", "c": ["p", "q"]});
        let c = |v: toml::Value| parse_cond(&v).unwrap().holds(&rec);
        assert!(c(toml::Value::String("$.a".into())));
        assert!(!c(toml::Value::String("$.b".into())));
        let t: toml::Table = toml::from_str(
            r#"path = "$.c[*]"
equals = ["q"]"#,
        )
        .unwrap();
        assert!(c(toml::Value::Table(t)));
        let t: toml::Table = toml::from_str(
            r#"path = "$.a"
not_in = ["x"]"#,
        )
        .unwrap();
        assert!(!c(toml::Value::Table(t)));
    }

    #[test]
    fn fields_in_every_form() {
        let v: toml::Table = toml::from_str(
            r#"
a = "$.x"
b = { path = "$.y", map = "m", pick = "last" }
c = [{ path = "$.z" }, "$.w", { default = false }]
d = false
e = { path = "$.y", colour = "red" }
"#,
        )
        .unwrap();
        assert!(matches!(parse_field(&v["a"]), Ok(FieldDef::Field(f)) if f.alts.len() == 1));
        assert!(
            matches!(parse_field(&v["b"]), Ok(FieldDef::Field(f)) if f.alts[0].pick == Pick::Last)
        );
        assert!(
            matches!(parse_field(&v["c"]), Ok(FieldDef::Field(f)) if f.alts.len() == 2 && f.default == Some(json!(false)))
        );
        assert!(matches!(parse_field(&v["d"]), Ok(FieldDef::Drop)));
        let err = parse_field(&v["e"]).unwrap_err();
        assert!(err.starts_with("unknown key `colour`"), "{err}");
    }
}
