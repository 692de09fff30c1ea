//! `docs/model.md`, generated from the model table so that it can never drift from it.

use std::fmt::Write;

use super::{AttrOrigin, AttrType, ENTITY_TYPES};

fn type_text(ty: AttrType) -> String {
    match ty {
        AttrType::Bool => "Bool".into(),
        AttrType::Long => "Long".into(),
        AttrType::String => "String".into(),
        AttrType::Enum(v) => format!(
            "String: {}",
            v.iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        AttrType::Time => "Time (RFC 3339; `Long` epoch seconds in Cedar)".into(),
        AttrType::Ref(t) => format!("→ {t}"),
        AttrType::StringSet => "Set<String>".into(),
        AttrType::RefSet(t) => format!("Set<→ {t}>"),
    }
}

/// The model reference in Markdown.
pub fn reference_markdown() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# The evidence model");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Generated from `engine/src/model/table.rs` by `cargo test -p conform-engine` (set\n\
         `UPDATE_DOCS=1` to rewrite it). Every source is normalized into these entity types;\n\
         the Cedar schema rules are validated against is generated from the same table\n\
         (`conform policy schema`). Optional attributes (`?`) must be tested with `has` in rules.\n\
         Derived attributes are computed when a snapshot is read and must not be stored in it."
    );
    for t in ENTITY_TYPES {
        let _ = writeln!(s);
        let _ = writeln!(s, "## {}", t.name);
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", t.doc);
        if let Some(m) = t.member_of {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "Member of (`in`, via the entity line's `member_of`): {m}."
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "| attribute | type | meaning |");
        let _ = writeln!(s, "|---|---|---|");
        for a in t.attrs {
            let opt = if a.optional { "?" } else { "" };
            let doc = match a.origin {
                AttrOrigin::Stored => a.doc.to_string(),
                AttrOrigin::Inverse { of_type, via } => {
                    format!(
                        "{} Derived: the {of_type}s whose `{via}` is this entity.",
                        a.doc
                    )
                }
            };
            let _ = writeln!(s, "| `{}{opt}` | {} | {doc} |", a.name, type_text(a.ty));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_model_md_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/model.md");
        let expected = super::reference_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/model.md is stale: run `UPDATE_DOCS=1 cargo test -p conform-engine`"
        );
    }
}
