//! Jira Cloud issues (`/rest/api/3/search/jql` with `fields=*navigable`) and the Ticket and
//! RestoreTest entities the Jira connector's mapping produces from them.
//!
//! Custom fields of Northwind's Jira site (the connector mapping names them):
//!
//! | field | meaning |
//! |---|---|
//! | customfield_10010 | JSM approvals |
//! | customfield_10020 | JSM SLA "Time to resolution" |
//! | customfield_10201..10210 | change type, risk, implementer, backout plan, test plan, planned start / end, actual start, close code, post-implementation review date |
//! | customfield_10211 | major incident |
//! | customfield_10212 | severity |
//! | customfield_10213 | triaged at |
//! | customfield_10214 | affected configuration items (CMDB names) |
//! | customfield_10215 | service |
//! | customfield_10216..10222 | lessons learned, root cause, effectiveness verified, known error, workaround, personal data involved, notification decision at |
//! | customfield_10223..10226 | restore performed at, restore result, RTO met, backup job |

use conform_engine::fs::SourceWriter;
use serde_json::{json, Map, Value};

use crate::backup::Backups;
use crate::clock::{date, jira, midnight, DAY};
use crate::cmdb::Cmdb;
use crate::ent::{emit, Counts, Ent};
use crate::iam::{Iam, Status};
use crate::tickets::{Kind, Ticket};
use crate::SynthError;

const SITE: &str = "https://northwind.atlassian.net/rest/api/3/issue";

fn user(iam: &Iam, i: Option<usize>) -> Result<Value, SynthError> {
    let Some(i) = i else { return Ok(Value::Null) };
    let p = iam.person(i)?;
    Ok(json!({
        "accountId": p.jira_account,
        "emailAddress": p.email,
        "displayName": p.display_name(),
        "active": !matches!(p.status, Status::Deprovisioned | Status::Suspended),
        "timeZone": "Europe/London",
        "accountType": "atlassian",
    }))
}

fn when(t: Option<i64>) -> Value {
    t.map_or(Value::Null, |t| Value::String(jira(t)))
}

fn option(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |v| json!({ "value": v }))
}

fn yes(b: bool) -> Value {
    if b {
        json!({ "value": "Yes" })
    } else {
        Value::Null
    }
}

fn text(b: bool, s: &str) -> Value {
    if b {
        Value::String(s.to_string())
    } else {
        Value::Null
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn status_wire(model: &str) -> (&'static str, &'static str, &'static str) {
    match model {
        "new" => ("New", "new", "To Do"),
        "open" => ("Open", "new", "To Do"),
        "in_progress" => ("In Progress", "indeterminate", "In Progress"),
        "pending" => ("Pending", "indeterminate", "In Progress"),
        "resolved" => ("Resolved", "done", "Done"),
        "closed" => ("Closed", "done", "Done"),
        _ => ("Cancelled", "done", "Done"),
    }
}

fn priority_name(p: u8) -> &'static str {
    match p {
        1 => "Highest",
        2 => "High",
        3 => "Medium",
        4 => "Low",
        _ => "Lowest",
    }
}

/// The end (23:59:59 UTC) of the day of a Jira `duedate`: how the connector reads it.
pub fn due_end_of_day(t: i64) -> i64 {
    midnight(t) + DAY - 1
}

fn stamp(t: i64) -> Value {
    json!({ "iso8601": jira(t), "epochMillis": t * 1000 })
}

fn approvals(iam: &Iam, x: &Ticket) -> Result<Value, SynthError> {
    if x.approval == "not_required" {
        return Ok(json!([]));
    }
    let decision = match x.approval {
        "approved" => "approved",
        "rejected" => "declined",
        _ => "pending",
    };
    let mut a = json!({
        "id": "1",
        "name": if x.kind == Kind::Change { "Change approval" } else { "Manager approval" },
        "finalDecision": decision,
        "canAnswerApproval": false,
        "approvers": [{ "approver": user(iam, x.approver)?, "approverDecision": decision }],
        "createdDate": stamp(x.created),
    });
    let completed = match x.approval {
        "approved" => x.approved_at,
        "rejected" => x.closed,
        _ => None,
    };
    if let (Some(c), Some(obj)) = (completed, a.as_object_mut()) {
        obj.insert("completedDate".into(), stamp(c));
    }
    Ok(json!([a]))
}

fn sla(x: &Ticket) -> Value {
    let Some((goal, breached)) = x.sla else {
        return Value::Null;
    };
    let cycle = |stop: Option<i64>| {
        let elapsed = stop.unwrap_or(x.created) - x.created;
        json!({
            "startTime": stamp(x.created),
            "breachTime": stamp(x.created + goal),
            "breached": breached,
            "goalDuration": { "millis": goal * 1000 },
            "elapsedTime": { "millis": elapsed * 1000 },
            "remainingTime": { "millis": (goal - elapsed) * 1000 },
        })
    };
    match x.resolved {
        Some(r) => json!({
            "id": "1", "name": "Time to resolution",
            "completedCycles": [cycle(Some(r))],
        }),
        None => json!({
            "id": "1", "name": "Time to resolution",
            "completedCycles": [],
            "ongoingCycle": cycle(None),
        }),
    }
}

fn record(iam: &Iam, cmdb: &Cmdb, backups: &Backups, x: &Ticket) -> Result<Value, SynthError> {
    let (project, project_name, _, type_id, type_name) = x.kind.project();
    let (status, cat_key, cat_name) = status_wire(x.status);
    let done = matches!(x.status, "resolved" | "closed" | "cancelled");
    let mut f = Map::new();
    let mut put = |k: &str, v: Value| {
        f.insert(k.to_string(), v);
    };
    put("summary", json!(x.summary));
    put("issuetype", json!({ "id": type_id, "name": type_name }));
    put("project", json!({ "key": project, "name": project_name }));
    put(
        "status",
        json!({ "name": status, "statusCategory": { "key": cat_key, "name": cat_name } }),
    );
    put(
        "priority",
        x.priority
            .map_or(Value::Null, |p| json!({ "name": priority_name(p) })),
    );
    put("created", json!(jira(x.created)));
    put("updated", json!(jira(x.updated())));
    put(
        "resolutiondate",
        when(if x.status == "cancelled" {
            x.closed
        } else {
            x.resolved
        }),
    );
    put(
        "resolution",
        if !done {
            Value::Null
        } else if x.status == "cancelled" {
            json!({ "name": "Won't Do" })
        } else {
            json!({ "name": "Done" })
        },
    );
    put("duedate", x.due.map_or(Value::Null, |d| json!(date(d))));
    put("reporter", user(iam, x.requester)?);
    put("assignee", user(iam, x.assignee)?);
    put(
        "labels",
        json!(if x.major {
            vec!["major-incident"]
        } else {
            Vec::new()
        }),
    );
    put(
        "components",
        json!(x
            .category
            .map(|c| vec![json!({ "name": c })])
            .unwrap_or_default()),
    );
    let links: Vec<Value> = x
        .problem_key
        .iter()
        .map(|k| json!({ "type": { "name": "Problem/Incident" }, "outwardIssue": { "key": k } }))
        .collect();
    put("issuelinks", json!(links));
    put("customfield_10010", approvals(iam, x)?);
    if x.sla.is_some() {
        put("customfield_10020", sla(x));
    }
    if x.kind == Kind::Change {
        put(
            "customfield_10201",
            option(x.change_type.map(capital).as_deref()),
        );
        put("customfield_10202", option(x.risk.map(capital).as_deref()));
        put("customfield_10203", user(iam, x.implementer)?);
        put(
            "customfield_10204",
            text(
                x.backout_plan,
                "Roll back to the previous release / snapshot; see runbook.",
            ),
        );
        put(
            "customfield_10205",
            text(
                x.test_plan,
                "Smoke tests and synthetic checks after the change.",
            ),
        );
        put("customfield_10206", when(x.planned_start));
        put("customfield_10207", when(x.planned_end));
        put("customfield_10208", when(x.implemented));
    }
    if x.outcome.is_some() && x.kind != Kind::RestoreTest {
        put(
            "customfield_10209",
            option(x.outcome.map(capital).as_deref()),
        );
    }
    if x.reviewed.is_some() || x.kind == Kind::Change || x.major {
        put("customfield_10210", when(x.reviewed));
    }
    if x.kind == Kind::Incident {
        put("customfield_10211", yes(x.major));
    }
    if let Some(s) = x.severity {
        put("customfield_10212", option(Some(&capital(s))));
    }
    if x.triaged.is_some() {
        put("customfield_10213", when(x.triaged));
    }
    let cis: Vec<&str> = x
        .affected
        .iter()
        .filter_map(|a| cmdb.assets.get(*a))
        .map(|a| a.name.as_str())
        .collect();
    put("customfield_10214", json!(cis));
    let service = x
        .service
        .and_then(|s| cmdb.services.get(s))
        .map(|s| s.name.as_str());
    put("customfield_10215", option(service));
    put(
        "customfield_10216",
        text(x.lessons, "Lessons learned recorded in the review page."),
    );
    put(
        "customfield_10217",
        text(x.root_cause, "Root cause analysis attached."),
    );
    put("customfield_10218", yes(x.effectiveness));
    if x.kind == Kind::Problem {
        put("customfield_10219", yes(x.known_error));
        put(
            "customfield_10220",
            text(x.workaround, "Documented in the known error database."),
        );
    }
    if x.kind == Kind::SecurityIncident {
        put(
            "customfield_10221",
            json!({ "value": if x.pii { "Yes" } else { "No" } }),
        );
        put("customfield_10222", when(x.notification_decided));
    }
    if let Some(r) = &x.restore {
        let job = backups
            .jobs
            .get(r.job)
            .ok_or(SynthError::EmptyPool("restore job"))?;
        put("customfield_10223", json!(jira(r.performed)));
        put(
            "customfield_10224",
            json!({ "value": if r.success { "Success" } else { "Failed" } }),
        );
        put(
            "customfield_10225",
            json!({ "value": if r.rto_achieved { "Yes" } else { "No" } }),
        );
        put(
            "customfield_10226",
            json!(format!("{}/{}", job.tool.name(), job.host)),
        );
    }
    Ok(json!({
        "id": x.jira_id,
        "key": x.key,
        "self": format!("{SITE}/{}", x.jira_id),
        "fields": f,
    }))
}

fn entities(iam: &Iam, cmdb: &Cmdb, backups: &Backups, x: &Ticket) -> Result<Vec<Ent>, SynthError> {
    let id = |i: Option<usize>| i.map(|i| iam.id_of(i)).transpose();
    let approver = if matches!(x.approval, "approved" | "rejected") {
        x.approver
    } else {
        None
    };
    let affected: Vec<String> = x
        .affected
        .iter()
        .filter_map(|a| cmdb.assets.get(*a))
        .map(|a| a.id.clone())
        .collect();
    let ticket = Ent::new("Ticket", x.key.clone(), x.summary.clone())
        .s("kind", x.kind.model())
        .s("status", x.status)
        .s("key", x.key.clone())
        .os("priority", x.priority.map(|p| format!("p{p}")))
        .os("severity", x.severity)
        .b("major", x.major)
        .os(
            "category",
            x.category.map(|c| c.to_lowercase().replace(' ', "_")),
        )
        .t("created_at", x.created)
        .t("updated_at", x.updated())
        .ot("triaged_at", x.triaged)
        .ot("resolved_at", x.resolved)
        .ot("closed_at", x.closed)
        .ot("due_at", x.due.map(due_end_of_day))
        .ob("sla_breached", x.sla.map(|s| s.1))
        .os("requester", id(x.requester)?)
        .os("assignee", id(x.assignee)?)
        .os("approver", id(approver)?)
        .os("implementer", id(x.implementer)?)
        .s("approval", x.approval)
        .ot("approved_at", x.approved_at)
        .os("change_type", x.change_type)
        .os("risk", x.risk)
        .b("backout_plan", x.backout_plan)
        .b("test_plan", x.test_plan)
        .ot("planned_start_at", x.planned_start)
        .ot("planned_end_at", x.planned_end)
        .ot("implemented_at", x.implemented)
        .os("outcome", x.outcome)
        .ot("reviewed_at", x.reviewed)
        .b("lessons_learned", x.lessons)
        .b("root_cause", x.root_cause)
        .b("effectiveness_verified", x.effectiveness)
        .b("known_error", x.known_error)
        .b("workaround", x.workaround)
        .b("pii_involved", x.pii)
        .ot("notification_decided_at", x.notification_decided)
        .set("affected", affected)
        .os(
            "service",
            x.service
                .and_then(|s| cmdb.services.get(s))
                .map(|s| s.id.clone()),
        )
        .os("problem", x.problem_key.clone());
    let mut out = vec![ticket];
    if let Some(r) = &x.restore {
        let job = backups
            .jobs
            .get(r.job)
            .ok_or(SynthError::EmptyPool("restore job"))?;
        let asset = cmdb
            .assets
            .get(job.asset)
            .ok_or(SynthError::EmptyPool("restore asset"))?;
        out.push(
            Ent::new(
                "RestoreTest",
                format!("jira-itsm:{}", x.key),
                x.summary.clone(),
            )
            .s("job", job.id.clone())
            .s("asset", asset.id.clone())
            .t("performed_at", r.performed)
            .s("outcome", if r.success { "success" } else { "failed" })
            .b("rto_achieved", r.rto_achieved)
            .s("ticket", x.key.clone()),
        );
    }
    Ok(out)
}

/// Writes the `jira-itsm` source's records and entities for one unit.
pub fn write(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    iam: &Iam,
    cmdb: &Cmdb,
    backups: &Backups,
    tickets: &[Ticket],
) -> Result<(), SynthError> {
    for x in tickets {
        let raw = record(iam, cmdb, backups, x)?;
        emit(
            src,
            counts,
            &raw,
            &x.jira_id,
            entities(iam, cmdb, backups, x)?,
        )?;
    }
    Ok(())
}
