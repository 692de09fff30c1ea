//! Rules: annotated Cedar `forbid` policies, one nonconformity condition each.

use std::collections::{BTreeMap, HashMap};

use cedar_policy::{
    ActionConstraint, Effect, Policy, PolicyId, PolicySet, PrincipalConstraint, ResourceConstraint,
    Schema, ValidationMode, Validator,
};

use super::errors::{diagnostic_message, diagnostic_offset, line_col};
use super::facts::{origin_offset, FactDef};
use super::params::Parameter;
use super::{reads, PackError, PackErrors, FACTS_FILE};
use crate::catalog::Catalogs;
use crate::finding::Severity;
use crate::model::{entity_type_index, ACTION_ID};

/// One rule of a pack.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    /// Full requirement ids, in the order written.
    pub requirements: Vec<String>,
    pub severity: Severity,
    pub rationale: String,
    pub remediation: String,
    /// Index into [`crate::model::ENTITY_TYPES`] of `resource is T`.
    pub type_index: usize,
    /// Path of the file relative to the pack, and the 1-based line of the policy's first line.
    pub file: String,
    pub line: usize,
    /// The policy, with its id set to the rule id.
    pub policy: Policy,
    /// The policy's source text.
    pub text: String,
    /// Attribute paths the condition reads (see [`reads::paths`]).
    pub reads: Vec<String>,
    /// Names of the facts the condition reads.
    pub facts: Vec<String>,
}

pub const REQUIRED_ANNOTATIONS: [&str; 6] = [
    "id",
    "title",
    "requirements",
    "severity",
    "rationale",
    "remediation",
];

fn id_is_well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.contains('.')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

/// The 1-based line where the policy annotated `@id("<id>")` starts in `text`.
fn policy_line(text: &str, id: &str) -> usize {
    let needle = format!("@id(\"{id}\")");
    text.find(&needle).map_or(1, |o| line_col(text, o).0)
}

pub(crate) fn parse_all(
    files: &[(String, String)],
    catalogs: &Catalogs,
    params: &[Parameter],
    facts: &[FactDef],
    errors: &mut PackErrors,
) -> Vec<Rule> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut seen: HashMap<String, (String, usize)> = HashMap::new();
    for (file, text) in files {
        let set = match text.parse::<PolicySet>() {
            Ok(s) => s,
            Err(e) => {
                for d in e.iter() {
                    let (line, col) = line_col(text, diagnostic_offset(d).unwrap_or(0));
                    errors.push(PackError::new(file, line, col, diagnostic_message(d)));
                }
                continue;
            }
        };
        if set.num_of_templates() > 0 {
            errors.push(PackError::new(
                file,
                1,
                1,
                "templates are not supported in packs",
            ));
        }
        let mut policies: Vec<&Policy> = set.policies().collect();
        policies.sort_by_key(|p| p.id().to_string());
        for policy in policies {
            if let Some(rule) = parse_rule(file, text, policy, catalogs, params, facts, errors) {
                if let Some((f, l)) = seen.get(&rule.id) {
                    errors.push(PackError::new(
                        file,
                        rule.line,
                        1,
                        format!("duplicate rule id `{}` (first defined at {f}:{l})", rule.id),
                    ));
                    continue;
                }
                seen.insert(rule.id.clone(), (file.clone(), rule.line));
                rules.push(rule);
            }
        }
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    rules
}

fn parse_rule(
    file: &str,
    text: &str,
    policy: &Policy,
    catalogs: &Catalogs,
    params: &[Parameter],
    facts: &[FactDef],
    errors: &mut PackErrors,
) -> Option<Rule> {
    let ann = |k: &str| policy.annotation(k).map(str::to_string);
    let id = ann("id");
    let line = id.as_deref().map_or_else(
        || policy_line_fallback(text, policy),
        |i| policy_line(text, i),
    );
    let before = errors.0.len();
    // the policy's start offset, to locate a mistake at the text that makes it
    let start = text
        .match_indices('\n')
        .nth(line.saturating_sub(2))
        .map_or(0, |(o, _)| o + 1);
    let start = if line <= 1 { 0 } else { start };
    let locate = |needle: &str| {
        text.get(start..)
            .and_then(|t| t.find(needle))
            .map_or((line, 1), |o| line_col(text, start + o))
    };
    let mut err_at = |needle: &str, msg: String| {
        let (l, c) = locate(needle);
        errors.push(PackError::new(file, l, c, msg));
    };
    let label = id.clone().unwrap_or_else(|| "(without @id)".to_string());

    for key in REQUIRED_ANNOTATIONS {
        if ann(key).is_none_or(|v| v.trim().is_empty()) {
            err_at("", format!("rule `{label}` lacks the annotation `@{key}`"));
        }
    }
    if let Some(id) = &id {
        if !id_is_well_formed(id) {
            err_at("@id", format!("rule id `{id}` must be lowercase `area.kebab-case` (letters, digits, `.`, `-`)"));
        }
    }
    if policy.effect() != Effect::Forbid {
        err_at("permit", format!(
            "rule `{label}` is a `permit` policy; rules are `forbid` policies describing a nonconformity"
        ));
    }
    if !matches!(policy.principal_constraint(), PrincipalConstraint::Any) {
        err_at(
            "principal",
            format!("rule `{label}` must leave `principal` unconstrained"),
        );
    }
    let action_ok = match policy.action_constraint() {
        ActionConstraint::Eq(uid) => {
            uid.type_name().to_string() == "Action" && uid.id().unescaped() == ACTION_ID
        }
        _ => false,
    };
    if !action_ok {
        err_at(
            "action",
            format!("rule `{label}` must use `action == Action::\"{ACTION_ID}\"`"),
        );
    }
    let type_index = match policy.resource_constraint() {
        ResourceConstraint::Is(t) => {
            let name = t.to_string();
            let idx = entity_type_index(&name);
            if idx.is_none() {
                err_at(
                    &name,
                    format!("rule `{label}`: unknown entity type `{name}`"),
                );
            }
            idx
        }
        _ => {
            err_at(
                "resource",
                format!("rule `{label}` must name its entity type in the scope: `resource is T`"),
            );
            None
        }
    };
    let severity = ann("severity").and_then(|s| {
        let parsed = s.parse::<Severity>().ok();
        if parsed.is_none() {
            err_at(
                "@severity",
                format!(
                    "rule `{label}`: unknown severity `{s}` (expected major, minor or observation)"
                ),
            );
        }
        parsed
    });
    let requirements: Vec<String> = ann("requirements")
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    for r in &requirements {
        match catalogs.requirement(r) {
            None => err_at(
                r,
                format!(
                    "rule `{label}`: unknown requirement `{r}` (not in the catalogs the pack declares)"
                ),
            ),
            Some(req) if req.group => {
                let subs: Vec<&str> = catalogs.children(r).map(|c| c.node.as_str()).collect();
                err_at(
                    r,
                    format!(
                        "rule `{label}`: `{r}` is a heading; map the rule to the sub-clauses it tests ({})",
                        subs.join(", ")
                    ),
                )
            }
            Some(_) => {}
        }
    }
    let reads = reads::paths(policy);
    let mut rule_facts = Vec::new();
    for path in &reads {
        if let Some(rest) = path.strip_prefix("context.params.") {
            let name = rest.split('.').next().unwrap_or(rest);
            if !params.iter().any(|p| p.name == name) {
                err_at(
                    name,
                    format!("rule `{label}` reads unknown parameter `{name}`"),
                );
            }
        }
        if let Some(rest) = path.strip_prefix("context.facts.") {
            let name = rest.split('.').next().unwrap_or(rest).to_string();
            if !facts.iter().any(|f| f.name == name) {
                err_at(&name, format!("rule `{label}` reads unknown fact `{name}`"));
            } else if !rule_facts.contains(&name) {
                rule_facts.push(name);
            }
        }
    }
    if errors.0.len() > before {
        return None;
    }
    let id = id?;
    Some(Rule {
        policy: policy.new_id(PolicyId::new(&id)),
        title: ann("title")?,
        requirements,
        severity: severity?,
        rationale: ann("rationale")?,
        remediation: ann("remediation")?,
        type_index: type_index?,
        file: file.to_string(),
        line,
        text: policy.to_string(),
        reads,
        facts: rule_facts,
        id,
    })
}

/// Line of a policy without `@id`: the first line of its source text in the file.
fn policy_line_fallback(text: &str, policy: &Policy) -> usize {
    let src = policy.to_string();
    let first = src.lines().next().unwrap_or("");
    text.find(first).map_or(1, |o| line_col(text, o).0)
}

/// Validates every rule and fact condition strictly against the schema, reporting each
/// error at its position in the rule file or in `facts.toml`.
pub(crate) fn validate(
    rules: &[Rule],
    facts: &[FactDef],
    rule_files: &[(String, String)],
    facts_text: Option<&str>,
    schema: &Schema,
    errors: &mut PackErrors,
) {
    let mut set = PolicySet::new();
    // policy id -> (file, text of the file, maps an offset in the policy source to the file)
    let mut origin: BTreeMap<String, (String, &str, Option<&FactDef>)> = BTreeMap::new();
    let texts: HashMap<&str, &str> = rule_files
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    for r in rules {
        if set.add(r.policy.clone()).is_ok() {
            let text = texts.get(r.file.as_str()).copied().unwrap_or("");
            origin.insert(r.id.clone(), (r.file.clone(), text, None));
        }
    }
    for f in facts {
        for p in std::iter::once(&f.population).chain(f.meets.as_ref()) {
            if set.add(p.clone()).is_ok() {
                origin.insert(
                    p.id().to_string(),
                    (FACTS_FILE.to_string(), facts_text.unwrap_or(""), Some(f)),
                );
            }
        }
    }
    let result = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
    for e in result.validation_errors() {
        let pid = e.policy_id().to_string();
        let Some((file, text, fact)) = origin.get(&pid) else {
            continue;
        };
        let offset = diagnostic_offset(e).unwrap_or(0);
        let offset = match fact {
            Some(f) => origin_offset(f, &pid, offset).unwrap_or(0),
            None => offset,
        };
        let (line, col) = line_col(text, offset);
        let what = match fact {
            Some(f) => format!("fact `{}`", f.name),
            None => format!("rule `{pid}`"),
        };
        errors.push(PackError::new(
            file,
            line,
            col,
            format!("{what}: {}", diagnostic_message(e)),
        ));
    }
}
