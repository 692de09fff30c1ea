//! Pack parameters: typed thresholds with defaults that an organisation may override.

use std::collections::BTreeMap;

use cedar_policy::RestrictedExpression;
use serde::Deserialize;

use crate::time::{format_duration, parse_duration};

/// The declared type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    Duration,
    Percent,
    Long,
    String,
    Bool,
    StringSet,
}

impl ParamType {
    pub fn cedar_type(self) -> &'static str {
        match self {
            ParamType::Duration | ParamType::Percent | ParamType::Long => "Long",
            ParamType::String => "String",
            ParamType::Bool => "Bool",
            ParamType::StringSet => "Set<String>",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ParamType::Duration => "a duration such as \"90d\" or \"26h\"",
            ParamType::Percent => "a percentage such as \"95%\"",
            ParamType::Long => "an integer",
            ParamType::String => "a string",
            ParamType::Bool => "a boolean",
            ParamType::StringSet => "an array of strings",
        }
    }
}

/// A parameter's value, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// Seconds.
    Duration(i64),
    /// Basis points (1 % = 100).
    Percent(i64),
    Long(i64),
    String(String),
    Bool(bool),
    StringSet(Vec<String>),
}

impl ParamValue {
    /// Reads a TOML value as a parameter of type `ty`.
    pub fn parse(ty: ParamType, v: &toml::Value) -> Result<Self, String> {
        let wrong = || format!("expected {}, found `{v}`", ty.describe());
        Ok(match ty {
            ParamType::Duration => {
                ParamValue::Duration(v.as_str().and_then(parse_duration).ok_or_else(wrong)?)
            }
            ParamType::Percent => {
                ParamValue::Percent(v.as_str().and_then(parse_percent).ok_or_else(wrong)?)
            }
            ParamType::Long => ParamValue::Long(v.as_integer().ok_or_else(wrong)?),
            ParamType::String => ParamValue::String(v.as_str().ok_or_else(wrong)?.to_string()),
            ParamType::Bool => ParamValue::Bool(v.as_bool().ok_or_else(wrong)?),
            ParamType::StringSet => {
                let arr = v.as_array().ok_or_else(wrong)?;
                let mut out = arr
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).ok_or_else(wrong))
                    .collect::<Result<Vec<_>, _>>()?;
                out.sort();
                out.dedup();
                ParamValue::StringSet(out)
            }
        })
    }

    pub fn to_cedar(&self) -> RestrictedExpression {
        match self {
            ParamValue::Duration(n) | ParamValue::Percent(n) | ParamValue::Long(n) => {
                RestrictedExpression::new_long(*n)
            }
            ParamValue::String(s) => RestrictedExpression::new_string(s.clone()),
            ParamValue::Bool(b) => RestrictedExpression::new_bool(*b),
            ParamValue::StringSet(v) => RestrictedExpression::new_set(
                v.iter().cloned().map(RestrictedExpression::new_string),
            ),
        }
    }

    /// The value as a user writes it (`"90d"`, `"95%"`), for reports.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            ParamValue::Duration(s) => Value::String(format_duration(*s)),
            ParamValue::Percent(bp) => Value::String(format_percent(*bp)),
            ParamValue::Long(n) => Value::from(*n),
            ParamValue::String(s) => Value::String(s.clone()),
            ParamValue::Bool(b) => Value::Bool(*b),
            ParamValue::StringSet(v) => {
                Value::Array(v.iter().cloned().map(Value::String).collect())
            }
        }
    }
}

/// `"95%"` or `"99.5%"` to basis points.
pub fn parse_percent(s: &str) -> Option<i64> {
    let n = s.trim().strip_suffix('%')?.trim();
    let (whole, frac) = n.split_once('.').unwrap_or((n, ""));
    if frac.len() > 2 || whole.is_empty() {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    let bp = whole.checked_mul(100)?.checked_add(frac)?;
    (0..=10_000).contains(&bp).then_some(bp)
}

/// Basis points as a percentage string (`9550` is `"95.5%"`).
pub fn format_percent(bp: i64) -> String {
    if bp % 100 == 0 {
        format!("{}%", bp / 100)
    } else {
        let s = format!("{}.{:02}", bp / 100, bp % 100);
        format!("{}%", s.trim_end_matches('0'))
    }
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub ty: ParamType,
    pub default: ParamValue,
    pub description: String,
}

/// Resolves the values of every parameter: the defaults, with `overrides` applied.
/// Unknown overrides and values of the wrong type are errors.
pub fn resolve(
    params: &[Parameter],
    overrides: &BTreeMap<String, toml::Value>,
) -> Result<BTreeMap<String, ParamValue>, Vec<String>> {
    let mut values: BTreeMap<String, ParamValue> = params
        .iter()
        .map(|p| (p.name.clone(), p.default.clone()))
        .collect();
    let mut errors = Vec::new();
    for (name, v) in overrides {
        match params.iter().find(|p| &p.name == name) {
            None => errors.push(format!("unknown parameter `{name}`")),
            Some(p) => match ParamValue::parse(p.ty, v) {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(e) => errors.push(format!("parameter `{name}`: {e}")),
            },
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_basis_points() {
        assert_eq!(parse_percent("95%"), Some(9500));
        assert_eq!(parse_percent("99.5%"), Some(9950));
        assert_eq!(parse_percent("99.95%"), Some(9995));
        assert_eq!(parse_percent("101%"), None);
        assert_eq!(parse_percent("95"), None);
        assert_eq!(format_percent(9950), "99.5%");
        assert_eq!(format_percent(9500), "95%");
    }

    #[test]
    fn overrides_are_typed_and_must_exist() {
        let params = vec![Parameter {
            name: "dormant_after".into(),
            ty: ParamType::Duration,
            default: ParamValue::Duration(90 * 86_400),
            description: String::new(),
        }];
        let mut o = BTreeMap::new();
        o.insert(
            "dormant_after".to_string(),
            toml::Value::String("60d".into()),
        );
        let v = resolve(&params, &o).unwrap();
        assert_eq!(v["dormant_after"], ParamValue::Duration(60 * 86_400));
        o.insert("dormant_after".to_string(), toml::Value::Integer(60));
        o.insert("colour".to_string(), toml::Value::Integer(1));
        let errs = resolve(&params, &o).unwrap_err();
        assert_eq!(
            errs,
            vec![
                "unknown parameter `colour`".to_string(),
                "parameter `dormant_after`: expected a duration such as \"90d\" or \"26h\", found `60`"
                    .to_string()
            ]
        );
    }
}
