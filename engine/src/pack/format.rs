//! Canonical formatting of rule files with `cedar-policy-formatter` (what `cedar format` does).

use cedar_policy_formatter::{policies_str_to_pretty, Config};

/// The formatted text of a rule file: 80 columns, 2-space indent, as `cedar format`.
pub fn format_rules(text: &str) -> Result<String, String> {
    let config = Config {
        line_width: 80,
        indent_width: 2,
    };
    policies_str_to_pretty(text, &config).map_err(|e| format!("{e:#}"))
}
