//! Raw JSON values to the model's attribute types: times to epoch seconds (written as
//! RFC 3339), booleans, integers, enum values.

use serde_json::Value;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// How a number that is a time counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Epoch {
    #[default]
    Seconds,
    Millis,
}

/// A value as text: strings as they are, numbers and booleans printed; nothing else.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

const JIRA: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory][offset_minute]"
);
const ZONELESS_T: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");
const ZONELESS_SPACE: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]");
const DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// An instant from the forms the sources use: RFC 3339 (`2026-11-20T06:00:00Z`), Jira
/// (`2026-11-20T06:00:00.000+0000`), ServiceNow and zoneless times (`2026-11-20 06:00:00`,
/// read as UTC), dates (`2026-11-20`: the start of the day, or its last second with
/// `end_of_day`), and epoch numbers (or numeric strings).
pub fn parse_time(v: &Value, epoch: Epoch, end_of_day: bool) -> Option<i64> {
    let from_number = |n: f64| -> Option<i64> {
        if !n.is_finite() {
            return None;
        }
        Some(match epoch {
            Epoch::Seconds => n.floor() as i64,
            Epoch::Millis => (n / 1000.0).floor() as i64,
        })
    };
    match v {
        Value::Number(n) => from_number(n.as_f64()?),
        Value::String(s) => {
            let s = s.trim();
            if let Some(t) = conform_engine::time::parse_rfc3339(s) {
                return Some(t);
            }
            if let Ok(t) = OffsetDateTime::parse(s, JIRA) {
                return Some(t.unix_timestamp());
            }
            for f in [ZONELESS_T, ZONELESS_SPACE] {
                if let Ok(t) = PrimitiveDateTime::parse(s, f) {
                    return Some(t.assume_offset(UtcOffset::UTC).unix_timestamp());
                }
            }
            if let Ok(d) = Date::parse(s, DATE) {
                let time = if end_of_day {
                    Time::from_hms(23, 59, 59).ok()?
                } else {
                    Time::MIDNIGHT
                };
                return Some(
                    PrimitiveDateTime::new(d, time)
                        .assume_utc()
                        .unix_timestamp(),
                );
            }
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return from_number(s.parse().ok()?);
            }
            None
        }
        _ => None,
    }
}

/// A boolean from JSON booleans, `true`/`false`/`yes`/`no`/`y`/`n`/`on`/`off`/`1`/`0`
/// (any case), and the numbers 0 and 1.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An integer from a number or numeric string, multiplied by `scale` first when given
/// (`"99.95"` with `scale = 100` is 9995).
pub fn parse_long(v: &Value, scale: Option<f64>) -> Option<i64> {
    let f = match v {
        Value::Number(n) => {
            if scale.is_none() {
                if let Some(i) = n.as_i64() {
                    return Some(i);
                }
            }
            n.as_f64()?
        }
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    let f = f * scale.unwrap_or(1.0);
    if !f.is_finite() || f.abs() > 9.0e15 {
        return None;
    }
    let r = f.round();
    ((f - r).abs() < 1e-6).then_some(r as i64)
}

/// The enum value a source string stands for without a value map: the same text, or the
/// text in lower case with spaces and hyphens as underscores (`In Progress` → `in_progress`).
pub fn enum_value(text: &str, allowed: &[&'static str]) -> Option<&'static str> {
    if let Some(v) = allowed.iter().find(|a| **a == text) {
        return Some(v);
    }
    let norm: String = text
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    allowed.iter().find(|a| **a == norm).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use conform_engine::time::format_rfc3339;
    use serde_json::json;

    fn t(v: Value) -> String {
        parse_time(&v, Epoch::Seconds, false)
            .map(format_rfc3339)
            .unwrap_or_default()
    }

    #[test]
    fn every_vendor_time_format() {
        assert_eq!(t(json!("2026-11-20T06:00:00Z")), "2026-11-20T06:00:00Z");
        assert_eq!(
            t(json!("2026-11-20T07:00:00.123+01:00")),
            "2026-11-20T06:00:00Z"
        );
        assert_eq!(
            t(json!("2026-11-20T07:30:00.000+0130")),
            "2026-11-20T06:00:00Z"
        );
        assert_eq!(t(json!("2026-11-20 06:00:00")), "2026-11-20T06:00:00Z");
        assert_eq!(t(json!("2026-11-20T06:00:00")), "2026-11-20T06:00:00Z");
        assert_eq!(t(json!("2026-11-20")), "2026-11-20T00:00:00Z");
        assert_eq!(
            parse_time(&json!("2026-11-20"), Epoch::Seconds, true).map(format_rfc3339),
            Some("2026-11-20T23:59:59Z".into())
        );
        assert_eq!(t(json!(1_795_000_000)), "2026-11-18T11:06:40Z");
        assert_eq!(
            parse_time(&json!(1_795_000_000_123u64), Epoch::Millis, false).map(format_rfc3339),
            Some("2026-11-18T11:06:40Z".into())
        );
        assert_eq!(t(json!("next tuesday")), "");
    }

    #[test]
    fn booleans_integers_and_enums() {
        assert_eq!(parse_bool(&json!("TRUE")), Some(true));
        assert_eq!(parse_bool(&json!("no")), Some(false));
        assert_eq!(parse_bool(&json!(2)), None);
        assert_eq!(parse_long(&json!("99.95"), Some(100.0)), Some(9995));
        assert_eq!(parse_long(&json!(42), None), Some(42));
        assert_eq!(parse_long(&json!("4.5"), None), None);
        let statuses = &["new", "in_progress", "closed"];
        assert_eq!(enum_value("In Progress", statuses), Some("in_progress"));
        assert_eq!(enum_value("Closed", statuses), Some("closed"));
        assert_eq!(enum_value("Blocked", statuses), None);
    }
}
