//! The AWS IAM credential report (`aws iam get-credential-report`, base64-decoded): a CSV with
//! the report's fixed columns, one row per IAM user, the root account as `<root_account>`.

use serde_json::Value;

use super::{ExportsError, Files, Record};

/// The report's columns, in the order AWS writes them.
pub const COLUMNS: &[&str] = &[
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// One CSV field, quoted (RFC 4180) only when it has to be.
fn field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// `aws/credential-report.csv` from the report rows (JSON objects keyed by column name).
pub fn credential_report(files: &mut Files, records: &[Record]) -> Result<(), ExportsError> {
    let mut csv = COLUMNS.join(",");
    csv.push('\n');
    for r in records {
        let row = COLUMNS
            .iter()
            .map(|c| r.value.get(*c).and_then(Value::as_str).map(field))
            .collect::<Option<Vec<String>>>()
            .filter(|_| {
                r.value
                    .as_object()
                    .is_some_and(|o| o.len() == COLUMNS.len())
            })
            .ok_or(ExportsError::UnexpectedRecord {
                source_name: "aws-iam",
                line: r.line,
                expected: "a credential report row with exactly the report's columns",
            })?;
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    files.put("aws/credential-report.csv", csv);
    Ok(())
}
