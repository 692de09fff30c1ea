//! The values a rule's condition read on one entity, for findings: the evidence an auditor
//! needs to see why the rule fired.

use arcstr::ArcStr;
use serde_json::Value;

use super::RunContext;
use crate::finding::ReadValues;
use crate::model::value::AttrRef;
use crate::model::{entity_type_index, AttrType, EvidenceEntity, ENTITY_TYPES};
use crate::time::format_rfc3339;

/// Resolves `resource.a.b` on `e`, following references through the snapshot.
fn resource_path(path: &[&str], e: &EvidenceEntity, ctx: &RunContext<'_>) -> Value {
    let Some((first, rest)) = path.split_first() else {
        return Value::Null;
    };
    let def = e.def();
    let Some(v) = e.attr(first) else {
        return Value::Null;
    };
    if rest.is_empty() {
        return v.to_json();
    }
    let (AttrRef::Ref(id), Some(AttrType::Ref(target))) = (v, def.attr(first).map(|a| a.ty)) else {
        return Value::Null;
    };
    let Some(ti) = entity_type_index(target) else {
        return Value::Null;
    };
    match ctx.store.find(&ctx.snapshot.entities, ti, id) {
        Some(i) => resource_path(rest, &ctx.snapshot.entities[i], ctx),
        None => Value::String(format!(
            "(no {} `{id}` in the evidence)",
            ENTITY_TYPES[ti].name
        )),
    }
}

/// The values at every path the rule reads: `reads` holds each path and its parts
/// (`resource.owner.status` and `["resource", "owner", "status"]`).
pub(super) fn read(
    reads: &[(ArcStr, Vec<&str>)],
    e: &EvidenceEntity,
    ctx: &RunContext<'_>,
) -> ReadValues {
    ReadValues::new(
        reads
            .iter()
            .map(|(path, parts)| {
                let value = match parts.as_slice() {
                    ["resource", rest @ ..] => resource_path(rest, e, ctx),
                    ["context", "now"] => Value::String(format_rfc3339(ctx.at)),
                    ["context", "params", name, ..] => {
                        ctx.params.get(*name).map_or(Value::Null, |p| p.to_json())
                    }
                    ["context", "facts", name, ..] => ctx
                        .facts
                        .iter()
                        .find(|f| f.name == *name)
                        .and_then(|f| f.value)
                        .map_or(Value::Null, |v| v.to_json()),
                    _ => Value::Null,
                };
                (path.clone(), value)
            })
            .collect(),
    )
}

/// One line: the rule's title and the resource and fact values it read.
pub(super) fn summary(title: &str, values: &ReadValues) -> String {
    use std::fmt::Write;
    let mut out = format!("not met: {title}");
    let mut first = true;
    for (k, v) in values.iter() {
        let Some(key) = k
            .strip_prefix("resource.")
            .or_else(|| k.strip_prefix("context.facts."))
        else {
            continue;
        };
        out.push_str(if first { " (" } else { ", " });
        first = false;
        out.push_str(key);
        out.push('=');
        match v {
            Value::Null => out.push_str("absent"),
            Value::String(s) => out.push_str(s.as_str()),
            Value::Array(items) if items.is_empty() => out.push_str("none"),
            // writing to a String cannot fail
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }
    if !first {
        out.push(')');
    }
    out
}
