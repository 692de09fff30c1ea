//! Instants as the generator uses them: `i64` seconds since the Unix epoch, and the wire
//! formats each vendor writes them in. Nothing here reads the wall clock.

pub const MIN: i64 = 60;
pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number.
pub const fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An instant from a UTC calendar date and time.
pub const fn at(y: i64, m: i64, d: i64, hh: i64, mm: i64) -> i64 {
    days_from_civil(y, m, d) * DAY + hh * HOUR + mm * MIN
}

/// The collection instant of every generated snapshot: the default assessment instant.
pub const NOW: i64 = at(2026, 11, 20, 6, 0);
/// When every source's collection started.
pub const STARTED: i64 = at(2026, 11, 20, 5, 50);
/// The day Northwind's Okta tenant went live (accounts migrated from the old directory).
pub const OKTA_GO_LIVE: i64 = at(2025, 1, 13, 9, 0);

/// Midnight (UTC) of the day of `t`.
pub const fn midnight(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

/// Monday = 0 ... Sunday = 6.
pub const fn weekday(t: i64) -> i64 {
    (t.div_euclid(DAY) + 3).rem_euclid(7)
}

/// Moves `t` forward to a weekday between 08:00 and 18:00 UTC, keeping minutes.
pub fn business_hours(t: i64) -> i64 {
    let mut t = t;
    let secs = t.rem_euclid(DAY);
    if secs < 8 * HOUR {
        t += 8 * HOUR - secs + (secs % HOUR);
    } else if secs >= 18 * HOUR {
        t += DAY - secs + 8 * HOUR + (secs % HOUR);
    }
    while weekday(t) >= 5 {
        t += DAY;
    }
    t
}

/// A random time during the working day of `t` (or of the next weekday when `t` falls
/// outside working hours): 08:00 to 18:00 UTC.
pub fn work_time(t: i64, g: &mut crate::rng::Gen) -> i64 {
    midnight(business_hours(t)) + 8 * HOUR + g.range(0, 10 * HOUR - 1)
}

struct Parts {
    y: i64,
    mo: i64,
    d: i64,
    h: i64,
    mi: i64,
    s: i64,
}

fn parts(t: i64) -> Parts {
    let (y, mo, d) = civil_from_days(t.div_euclid(DAY));
    let secs = t.rem_euclid(DAY);
    Parts {
        y,
        mo,
        d,
        h: secs / HOUR,
        mi: (secs % HOUR) / MIN,
        s: secs % MIN,
    }
}

/// RFC 3339 with a `Z`: the format of entity attributes.
pub fn rfc3339(t: i64) -> String {
    conform_engine::time::format_rfc3339(t)
}

/// Okta: `2026-11-20T06:00:00.000Z`.
pub fn okta(t: i64) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        p.y, p.mo, p.d, p.h, p.mi, p.s
    )
}

/// Jira Cloud: `2026-11-20T06:00:00.000+0000`.
pub fn jira(t: i64) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000+0000",
        p.y, p.mo, p.d, p.h, p.mi, p.s
    )
}

/// ServiceNow Table API (display_value=false, UTC): `2026-11-20 06:00:00`.
pub fn snow(t: i64) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        p.y, p.mo, p.d, p.h, p.mi, p.s
    )
}

/// AWS credential report: `2026-11-20T06:00:00+00:00`.
pub fn aws(t: i64) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        p.y, p.mo, p.d, p.h, p.mi, p.s
    )
}

/// restic (Go `time.Time`, host in UTC): `2026-11-20T06:00:00.123456789Z`.
pub fn restic(t: i64, nanos: u32) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        p.y, p.mo, p.d, p.h, p.mi, p.s, nanos
    )
}

/// borg (local time without a zone; Northwind's hosts run in UTC): `2026-11-20T06:00:00.123456`.
pub fn borg(t: i64, micros: u32) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        p.y, p.mo, p.d, p.h, p.mi, p.s, micros
    )
}

/// A calendar date: `2026-11-20`.
pub fn date(t: i64) -> String {
    let p = parts(t);
    format!("{:04}-{:02}-{:02}", p.y, p.mo, p.d)
}

/// A borg archive name's timestamp: `2026-11-20T06:00:00`.
pub fn compact(t: i64) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        p.y, p.mo, p.d, p.h, p.mi, p.s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collection_instant_is_the_documented_one() {
        assert_eq!(rfc3339(NOW), "2026-11-20T06:00:00Z");
        assert_eq!(okta(STARTED), "2026-11-20T05:50:00.000Z");
        assert_eq!(jira(NOW), "2026-11-20T06:00:00.000+0000");
        assert_eq!(snow(NOW), "2026-11-20 06:00:00");
        assert_eq!(borg(NOW, 42), "2026-11-20T06:00:00.000042");
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        // 2026-11-20 is a Friday
        assert_eq!(weekday(NOW), 4);
        let sat = at(2026, 11, 21, 3, 15);
        assert_eq!(rfc3339(business_hours(sat)), "2026-11-23T08:15:00Z");
    }
}
