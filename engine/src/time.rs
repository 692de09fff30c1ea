//! Instants and durations as the engine uses them: `i64` seconds since the Unix epoch (what
//! Cedar rules compare), RFC 3339 in files and output.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parses an RFC 3339 timestamp (`2026-11-20T06:00:00Z`, offsets allowed) to epoch seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// Formats epoch seconds as RFC 3339 in UTC with a `Z` suffix and whole seconds.
pub fn format_rfc3339(t: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(t) {
        Ok(dt) => {
            let d = dt.date();
            let tm = dt.time();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                u8::from(d.month()),
                d.day(),
                tm.hour(),
                tm.minute(),
                tm.second()
            )
        }
        Err(_) => t.to_string(),
    }
}

/// Parses a duration such as `90d`, `26h`, `15m`, `30s`, `2w` or a combination (`1d12h`) to
/// seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        any = true;
    }
    if !digits.is_empty() || !any {
        return None;
    }
    Some(total)
}

/// Formats seconds as the shortest duration string that [`parse_duration`] reads back.
pub fn format_duration(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut rest = secs;
    let mut out = String::new();
    for (unit, label) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
        if rest >= unit {
            out.push_str(&format!("{}{label}", rest / unit));
            rest %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_utc() {
        let t = parse_rfc3339("2026-11-20T07:30:00+01:00").unwrap();
        assert_eq!(format_rfc3339(t), "2026-11-20T06:30:00Z");
        assert_eq!(parse_rfc3339("2026-11-20"), None);
    }

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("90d"), Some(90 * 86_400));
        assert_eq!(parse_duration("1d12h"), Some(36 * 3_600));
        assert_eq!(parse_duration("2w"), Some(14 * 86_400));
        assert_eq!(parse_duration("12"), None);
        assert_eq!(parse_duration("3y"), None);
        assert_eq!(format_duration(36 * 3_600), "1d12h");
        assert_eq!(parse_duration(&format_duration(93_784)), Some(93_784));
    }
}
