//! What a policy reads: the attribute paths rooted at `resource` and `context` that its
//! condition mentions, derived from the policy's JSON form (Cedar's EST). Findings report the
//! values at these paths, and the engine uses them to know which facts a rule depends on.

use std::collections::BTreeSet;

use cedar_policy::Policy;
use serde_json::Value;

/// Sorted attribute paths such as `resource.owner.status` or `context.params.dormant_after`.
pub fn paths(policy: &Policy) -> Vec<String> {
    let mut out = BTreeSet::new();
    if let Ok(est) = policy.to_json() {
        walk(&est, &mut out);
    }
    out.into_iter().collect()
}

/// The dotted path of an attribute-access chain ending at a variable, if it is one.
fn chain(expr: &Value) -> Option<String> {
    let obj = expr.as_object()?;
    if let Some(var) = obj.get("Var").and_then(Value::as_str) {
        return matches!(var, "resource" | "context").then(|| var.to_string());
    }
    let access = obj.get(".")?;
    let left = chain(access.get("left")?)?;
    let attr = access.get("attr")?.as_str()?;
    Some(format!("{left}.{attr}"))
}

fn walk(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(obj) => {
            for key in [".", "has"] {
                if let Some(access) = obj.get(key) {
                    if let (Some(left), Some(attr)) = (
                        access.get("left").and_then(chain),
                        access.get("attr").and_then(Value::as_str),
                    ) {
                        if left != "context" {
                            out.insert(format!("{left}.{attr}"));
                        } else if attr == "now" {
                            out.insert("context.now".to_string());
                        }
                    }
                }
            }
            for child in obj.values() {
                walk(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_resource_and_context_paths() {
        let p = Policy::parse(
            None,
            r#"forbid (principal, action, resource) when {
                resource has owner && resource.owner.status != "active" &&
                context.now - resource.created_at > context.params.max_age &&
                context.facts has latest
            };"#,
        )
        .unwrap();
        assert_eq!(
            paths(&p),
            vec![
                "context.facts.latest",
                "context.now",
                "context.params.max_age",
                "resource.created_at",
                "resource.owner",
                "resource.owner.status",
            ]
        );
    }
}
