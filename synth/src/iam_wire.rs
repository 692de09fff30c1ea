//! Okta user / group / role objects and AWS credential report rows, and the entities the
//! connectors normalize them to.

use conform_engine::fs::SourceWriter;
use serde_json::{json, Map, Value};

use crate::aws::{AwsKey, AwsUser, Password};
use crate::clock::{aws, okta, DAY};
use crate::ent::{emit, Counts, Ent};
use crate::iam::{Group, Iam, Kind, Person};
use crate::SynthError;

fn opt_okta(t: Option<i64>) -> Value {
    t.map_or(Value::Null, |t| Value::String(okta(t)))
}

fn group_record(iam: &Iam, gr: &Group) -> Result<Value, SynthError> {
    let mut profile = json!({ "name": gr.name, "description": gr.description });
    if let Some(obj) = profile.as_object_mut() {
        if let Some(role) = gr.role_type {
            obj.insert("nwAdminRole".into(), json!(role));
        }
        if let Some(o) = gr.owner {
            obj.insert("nwOwnerEmail".into(), json!(iam.person(o)?.email));
        }
    }
    Ok(json!({
        "id": gr.okta_id,
        "created": okta(gr.created),
        "lastUpdated": okta(gr.updated),
        "lastMembershipUpdated": okta(gr.updated),
        "objectClass": ["okta:user_group"],
        "type": "OKTA_GROUP",
        "profile": profile,
    }))
}

fn user_record(iam: &Iam, p: &Person) -> Result<Value, SynthError> {
    let mut profile = Map::new();
    let mut put = |k: &str, v: Value| {
        profile.insert(k.to_string(), v);
    };
    put("firstName", json!(p.first));
    put("lastName", json!(p.last));
    put("displayName", json!(p.display_name()));
    put("email", json!(p.email));
    put("login", json!(p.email));
    put("secondEmail", Value::Null);
    put("mobilePhone", Value::Null);
    let user_type = match p.kind {
        Kind::Human => "Employee",
        Kind::Service => "Service",
        Kind::Guest => "Guest",
    };
    put("userType", json!(user_type));
    if let Some(n) = &p.employee_number {
        put("employeeNumber", json!(n));
    }
    if let Some(team) = p.team {
        put("department", json!(team.department()));
    }
    put("title", json!(p.title));
    put(
        "organization",
        json!(p.firm.unwrap_or("Northwind Services Ltd")),
    );
    if let Some(t) = p.terminated {
        put("nwTerminationDate", json!(crate::clock::rfc3339(t)));
    }
    if let Some(s) = p.sponsor {
        put("nwSponsorEmail", json!(iam.person(s)?.email));
    }
    if let Some(t) = p.expires {
        put("nwAccountExpires", json!(crate::clock::rfc3339(t)));
    }
    if let Some(o) = p.owner {
        put("nwOwnerEmail", json!(iam.person(o)?.email));
    }
    if let Some(r) = &p.access_request {
        put("nwAccessRequest", json!(r.key));
    }
    let factors: Vec<Value> = p
        .factors
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "factorType": f.factor_type,
                "provider": f.provider,
                "vendorName": f.provider,
                "status": if f.active { "ACTIVE" } else { "PENDING_ACTIVATION" },
                "created": okta(f.created),
            })
        })
        .collect();
    let mut groups = Vec::new();
    let mut roles = Vec::new();
    for gi in &p.groups {
        let Some(gr) = iam.groups.get(*gi) else {
            continue;
        };
        groups.push(json!({ "id": gr.okta_id, "profile": { "name": gr.name } }));
        if let Some(role) = gr.role_type {
            roles.push(json!({
                "type": role, "label": gr.name, "assignmentType": "GROUP", "status": "ACTIVE"
            }));
        }
    }
    let updated = [
        p.created,
        p.status_changed.unwrap_or(0),
        p.password_changed.unwrap_or(0),
    ]
    .into_iter()
    .max()
    .unwrap_or(p.created);
    Ok(json!({
        "id": p.okta_id,
        "status": p.status.wire(),
        "created": okta(p.created),
        "activated": opt_okta(p.activated),
        "statusChanged": opt_okta(p.status_changed),
        "lastLogin": opt_okta(p.last_login),
        "lastUpdated": okta(updated),
        "passwordChanged": opt_okta(p.password_changed),
        "type": { "id": "otyg2nw0r7hw1nd5x417" },
        "profile": profile,
        "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } },
        "_embedded": { "factors": factors, "groups": groups, "roles": roles },
    }))
}

fn identity(iam: &Iam, p: &Person) -> Result<Ent, SynthError> {
    let privileged = p
        .groups
        .iter()
        .any(|i| iam.groups.get(*i).is_some_and(|g| g.privileged));
    let mut methods: Vec<String> = p
        .factors
        .iter()
        .filter(|f| f.active)
        .map(|f| f.method().to_string())
        .collect();
    methods.sort();
    methods.dedup();
    let member_of: Vec<String> = p
        .groups
        .iter()
        .filter_map(|i| iam.groups.get(*i))
        .map(|g| g.id.clone())
        .collect();
    let owner = p.owner.map(|o| iam.id_of(o)).transpose()?;
    let sponsor = p.sponsor.map(|o| iam.id_of(o)).transpose()?;
    Ok(Ent::new("Identity", p.identity_id(), p.display_name())
        .s("kind", p.kind.model())
        .s("status", p.status.model())
        .s("login", &p.email)
        .s("email", &p.email)
        .os("employee_id", p.employee_number.clone())
        .b("privileged", privileged)
        .b("break_glass", false)
        .b("mfa_enrolled", !methods.is_empty())
        .set("mfa_methods", methods)
        .t("created_at", p.created)
        .ot("last_login_at", p.last_login)
        .ot("status_changed_at", p.status_changed)
        .ot("password_changed_at", p.password_changed)
        .ot("terminated_at", p.terminated)
        .os("owner", owner)
        .os("sponsor", sponsor)
        .ot("expires_at", p.expires)
        .os(
            "access_request",
            p.access_request.as_ref().map(|r| r.key.clone()),
        )
        .member_of(member_of))
}

/// Writes the `okta-prod` source's records and entities for one unit.
pub fn write_okta(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    iam: &Iam,
) -> Result<(), SynthError> {
    for gr in &iam.groups {
        let owner = gr.owner.map(|o| iam.id_of(o)).transpose()?;
        let raw = group_record(iam, gr)?;
        let ent = Ent::new("Group", gr.id.clone(), gr.name.clone())
            .s(
                "kind",
                if gr.role_type.is_some() {
                    "role"
                } else {
                    "group"
                },
            )
            .b("privileged", gr.privileged)
            .os("owner", owner);
        emit(src, counts, &raw, &gr.okta_id, [ent])?;
    }
    for p in &iam.people {
        let raw = user_record(iam, p)?;
        emit(src, counts, &raw, &p.okta_id, [identity(iam, p)?])?;
    }
    Ok(())
}

fn key_columns(row: &mut Map<String, Value>, n: usize, key: Option<&AwsKey>) {
    let mut put = |col: &str, v: String| {
        row.insert(format!("access_key_{n}_{col}"), Value::String(v));
    };
    match key {
        Some(k) => {
            put("active", k.active.to_string());
            put("last_rotated", aws(k.last_rotated));
            match k.last_used {
                Some((t, region, service)) => {
                    put("last_used_date", aws(t));
                    put("last_used_region", region.into());
                    put("last_used_service", service.into());
                }
                None => {
                    put("last_used_date", "N/A".into());
                    put("last_used_region", "N/A".into());
                    put("last_used_service", "N/A".into());
                }
            }
        }
        None => {
            put("active", "false".into());
            for col in [
                "last_rotated",
                "last_used_date",
                "last_used_region",
                "last_used_service",
            ] {
                put(col, "N/A".into());
            }
        }
    }
}

/// One credential report row, with the report's exact column names, in column order.
fn report_row(u: &AwsUser) -> Value {
    let mut row = Map::new();
    let mut put = |k: &str, v: String| {
        row.insert(k.to_string(), Value::String(v));
    };
    put("user", u.user.clone());
    put("arn", u.arn.clone());
    put("user_creation_time", aws(u.created));
    let (enabled, used, changed, next) = match &u.password {
        Password::Root { last_used } => (
            "not_supported".to_string(),
            last_used.map_or("no_information".to_string(), aws),
            "not_supported".to_string(),
            "not_supported".to_string(),
        ),
        Password::Disabled => ("false".into(), "N/A".into(), "N/A".into(), "N/A".into()),
        Password::Enabled {
            last_used,
            last_changed,
        } => (
            "true".into(),
            aws(*last_used),
            aws(*last_changed),
            aws(*last_changed + 90 * DAY),
        ),
    };
    put("password_enabled", enabled);
    put("password_last_used", used);
    put("password_last_changed", changed);
    put("password_next_rotation", next);
    put("mfa_active", u.mfa.to_string());
    key_columns(&mut row, 1, u.keys[0].as_ref());
    key_columns(&mut row, 2, u.keys[1].as_ref());
    for c in ["cert_1_active", "cert_2_active"] {
        row.insert(c.into(), json!("false"));
        row.insert(c.replace("active", "last_rotated"), json!("N/A"));
    }
    Value::Object(row)
}

/// Writes the `aws-iam` source's records and entities for one unit.
pub fn write_aws(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    iam: &Iam,
) -> Result<(), SynthError> {
    for u in &iam.aws {
        let last_login = match &u.password {
            Password::Root { last_used } => *last_used,
            Password::Enabled { last_used, .. } => Some(*last_used),
            Password::Disabled => None,
        };
        // Dormancy: the latest use of the password or of either access key.
        let key_use = u
            .keys
            .iter()
            .flatten()
            .filter_map(|k| k.last_used.map(|x| x.0))
            .max();
        let last_login = last_login.max(key_use);
        let owner = u.owner.map(|o| iam.id_of(o)).transpose()?;
        let changed = match &u.password {
            Password::Enabled { last_changed, .. } => Some(*last_changed),
            _ => None,
        };
        let mut ents = vec![Ent::new("Identity", u.id.clone(), u.user.clone())
            .s("kind", u.kind.model())
            .s("status", "active")
            .s("login", u.user.clone())
            .b("privileged", u.privileged)
            .b("break_glass", u.root)
            .b("mfa_enrolled", u.mfa)
            .set("mfa_methods", Vec::new())
            .t("created_at", u.created)
            .ot("last_login_at", last_login)
            .ot("password_changed_at", changed)
            .os("owner", owner)
            .os(
                "access_request",
                u.access_request.as_ref().map(|r| r.key.clone()),
            )];
        for (n, key) in u.keys.iter().enumerate() {
            let Some(k) = key else { continue };
            ents.push(
                Ent::new(
                    "Credential",
                    format!("{}/access_key_{}", u.id, n + 1),
                    format!("{} access key {}", u.user, n + 1),
                )
                .s("kind", "access_key")
                .s("identity", u.id.clone())
                .b("active", k.active)
                .t("created_at", k.last_rotated)
                .t("last_rotated_at", k.last_rotated)
                .ot("last_used_at", k.last_used.map(|x| x.0)),
            );
        }
        emit(src, counts, &report_row(u), &u.arn, ents)?;
    }
    Ok(())
}
