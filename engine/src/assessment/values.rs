//! The values a rule's condition read on one entity, for findings: the evidence an auditor
//! needs to see why the rule fired.

use std::collections::BTreeMap;

use arcstr::ArcStr;
use serde_json::Value;

use super::RunContext;
use crate::model::{entity_type_index, AttrType, AttrValue, EvidenceEntity, ENTITY_TYPES};
use crate::time::format_rfc3339;

fn attr_json(v: &AttrValue) -> Value {
    match v {
        AttrValue::Time(t) => Value::String(format_rfc3339(*t)),
        other => other.to_json(),
    }
}

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
        return attr_json(v);
    }
    let (AttrValue::Ref(id), Some(AttrType::Ref(target))) = (v, def.attr(first).map(|a| a.ty))
    else {
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

/// The values at every path the rule reads.
pub(super) fn read(
    reads: &[ArcStr],
    e: &EvidenceEntity,
    ctx: &RunContext<'_>,
) -> BTreeMap<ArcStr, Value> {
    reads
        .iter()
        .map(|path| {
            let parts: Vec<&str> = path.split('.').collect();
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
        .collect()
}

/// One line: the rule's title and the resource and fact values it read.
pub(super) fn summary(title: &str, values: &BTreeMap<ArcStr, Value>) -> String {
    let shown: Vec<String> = values
        .iter()
        .filter_map(|(k, v)| {
            let key = k
                .strip_prefix("resource.")
                .or_else(|| k.strip_prefix("context.facts."))?;
            let v = match v {
                Value::Null => "absent".to_string(),
                Value::String(s) => s.clone(),
                Value::Array(items) if items.is_empty() => "none".to_string(),
                other => other.to_string(),
            };
            Some(format!("{key}={v}"))
        })
        .collect();
    if shown.is_empty() {
        format!("not met: {title}")
    } else {
        format!("not met: {title} ({})", shown.join(", "))
    }
}
