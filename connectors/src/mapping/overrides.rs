//! `[sources.<name>.mapping]` in `conform.toml`: changes to a source's mapping.
//!
//! ```toml
//! [sources.jira-itsm.mapping]
//! approver = "$.fields.customfield_10010.accountId"   # every rule whose type has `approver`
//! sla_breached = false                                 # remove a default mapping
//! [sources.jira-itsm.mapping.maps.status]              # add or change value-map entries
//! "Waiting for customer" = "pending"
//! [sources.jira-itsm.mapping.refs]                     # how references become entity ids
//! Identity = "okta-prod:{}"
//! [sources.jira-itsm.mapping.rules.issue]              # one rule: any of its keys
//! id = { path = "$.key", template = "{}" }
//! [[sources.jira-itsm.mapping.entities]]               # an extra rule (attribute
//!                                                      # overrides do not apply to it)
//! ```

use super::{RawMapping, RawRule};

const RULE_KEYS: &[&str] = &[
    "when",
    "id",
    "name",
    "record_id",
    "member_of",
    "streams",
    "attrs",
];

pub fn apply(raw: &mut RawMapping, table: &toml::Table) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    // Rules added here come last, so that the attribute overrides above them change the
    // shipped rules only.
    let (added, changes): (Vec<_>, Vec<_>) = table.iter().partition(|(k, _)| *k == "entities");
    for (key, value) in changes.into_iter().chain(added) {
        match key.as_str() {
            "maps" => match value.as_table() {
                Some(maps) => {
                    for (name, entries) in maps {
                        match entries.as_table() {
                            Some(t) => raw
                                .maps
                                .entry(name.clone())
                                .or_default()
                                .extend(t.iter().map(|(k, v)| (k.clone(), v.clone()))),
                            None => errors.push(format!("`maps.{name}` must be a table")),
                        }
                    }
                }
                None => errors.push("`maps` must be a table of value maps".into()),
            },
            "refs" => match value.as_table() {
                Some(refs) => {
                    for (ty, tpl) in refs {
                        match tpl.as_str() {
                            Some(s) => {
                                raw.refs.insert(ty.clone(), s.to_string());
                            }
                            None => errors.push(format!("`refs.{ty}` must be a string")),
                        }
                    }
                }
                None => errors.push("`refs` must be a table".into()),
            },
            "entities" => match value.as_array() {
                Some(rules) => {
                    for r in rules {
                        match r.clone().try_into::<RawRule>() {
                            Ok(rule) => raw.entities.push(rule),
                            Err(e) => errors.push(format!("`entities`: {}", e.message().trim())),
                        }
                    }
                }
                None => {
                    errors.push("`entities` must be an array of tables (`[[…entities]]`)".into())
                }
            },
            "rules" => match value.as_table() {
                Some(rules) => {
                    for (name, changes) in rules {
                        if let Err(e) = override_rule(raw, name, changes) {
                            errors.push(e);
                        }
                    }
                }
                None => errors.push("`rules` must be a table of rule overrides".into()),
            },
            attr => {
                let mut hit = false;
                for rule in &mut raw.entities {
                    let has = conform_engine::model::entity_type(&rule.entity_type)
                        .is_some_and(|t| t.attr(attr).is_some());
                    if has {
                        rule.attrs.insert(attr.to_string(), value.clone());
                        hit = true;
                    }
                }
                if !hit {
                    errors.push(format!(
                        "no entity of this mapping has attribute `{attr}` (types: {})",
                        types(raw)
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors
            .into_iter()
            .map(|e| format!("mapping override: {e}"))
            .collect())
    }
}

fn types(raw: &RawMapping) -> String {
    let mut t: Vec<String> = raw
        .entities
        .iter()
        .map(|r| format!("`{}`", r.entity_type))
        .collect();
    t.sort();
    t.dedup();
    if t.is_empty() {
        "none".into()
    } else {
        t.join(", ")
    }
}

fn override_rule(raw: &mut RawMapping, name: &str, changes: &toml::Value) -> Result<(), String> {
    let known: Vec<String> = raw
        .entities
        .iter()
        .map(|r| format!("`{}`", r.rule))
        .collect();
    let Some(rule) = raw.entities.iter_mut().find(|r| r.rule == name) else {
        return Err(format!(
            "`rules.{name}`: no rule `{name}` in this mapping (rules: {})",
            known.join(", ")
        ));
    };
    let Some(changes) = changes.as_table() else {
        return Err(format!("`rules.{name}` must be a table"));
    };
    let opt = |v: &toml::Value| match v {
        toml::Value::Boolean(false) => None,
        other => Some(other.clone()),
    };
    for (k, v) in changes {
        match k.as_str() {
            "when" => rule.when = opt(v),
            "id" => rule.id = v.clone(),
            "name" => rule.name = opt(v),
            "record_id" => rule.record_id = opt(v),
            "member_of" => rule.member_of = opt(v),
            "streams" => {
                rule.streams = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .ok_or_else(|| format!("`rules.{name}.streams` must be a list of strings"))?
            }
            "attrs" => {
                let t = v
                    .as_table()
                    .ok_or_else(|| format!("`rules.{name}.attrs` must be a table"))?;
                for (a, f) in t {
                    rule.attrs.insert(a.clone(), f.clone());
                }
            }
            attr => {
                let has = conform_engine::model::entity_type(&rule.entity_type)
                    .is_some_and(|t| t.attr(attr).is_some());
                if !has {
                    return Err(format!(
                        "`rules.{name}`: unknown key `{attr}` (expected {} or an attribute of `{}`)",
                        RULE_KEYS.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                        rule.entity_type
                    ));
                }
                rule.attrs.insert(attr.to_string(), v.clone());
            }
        }
    }
    Ok(())
}
