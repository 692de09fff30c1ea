//! Governance, risk and compliance tickets: security incidents, corrective actions, internal
//! audits, management reviews, access reviews, restore and continuity tests,
//! vulnerabilities, improvements and disposals.

use crate::backup::Backups;
use crate::clock::{at, work_time, DAY, HOUR, MIN, NOW};
use crate::cmdb::Cmdb;
use crate::iam::Iam;
use crate::names;
use crate::rng::Gen;
use crate::tickets::{pick_other, service_assets, Kind, Restore, Ticket};
use crate::SynthError;

fn priority_of(severity: &str) -> u8 {
    match severity {
        "critical" => 1,
        "high" => 2,
        "medium" => 3,
        _ => 4,
    }
}

fn owner_pair(g: &mut Gen, iam: &Iam) -> Result<(usize, usize), SynthError> {
    let requester = *g.pick("security", &iam.pools.security)?;
    let assignee = pick_other(g, "owners", &iam.pools.owners, &[requester])?;
    Ok((requester, assignee))
}

pub fn generate(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    backups: &Backups,
    t: &mut Vec<Ticket>,
) -> Result<(), SynthError> {
    security_incidents(g, iam, cmdb, t)?;
    corrective_actions(g, iam, t)?;
    audits_and_reviews(g, iam, t)?;
    tests(g, iam, cmdb, backups, t)?;
    vulnerabilities(g, iam, cmdb, t)?;
    improvements_and_disposals(g, iam, cmdb, t)?;
    Ok(())
}

fn security_incidents(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    t: &mut Vec<Ticket>,
) -> Result<(), SynthError> {
    let assets = service_assets(cmdb);
    // (severity, triage delay planted late?)
    let plan: [(&str, Option<i64>); 12] = [
        ("critical", None),
        ("critical", Some(9 * HOUR + 40 * MIN)),
        ("high", None),
        ("high", Some(6 * HOUR + 15 * MIN)),
        ("high", None),
        ("high", None),
        ("medium", None),
        ("medium", None),
        ("medium", None),
        ("medium", None),
        ("low", None),
        ("low", None),
    ];
    for (n, (severity, late)) in plan.into_iter().enumerate() {
        let (category, template) = g.of(
            names::SECURITY_SUMMARIES,
            ("Phishing", "Phishing e-mail reported"),
        );
        let asset = *g.pick("assets", &assets)?;
        let ci = cmdb
            .assets
            .get(asset)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let recent = n == 9;
        let created = if recent {
            NOW - 3 * DAY - g.range(0, 5 * HOUR)
        } else {
            NOW - g.range(12, 330) * DAY - g.range(0, 20 * HOUR)
        };
        let mut x = Ticket::new(
            Kind::SecurityIncident,
            template.replace("{ci}", &ci),
            created,
        );
        x.category = Some(category);
        x.severity = Some(severity);
        x.priority = Some(priority_of(severity));
        if template.contains("{ci}") {
            x.affected = vec![asset];
            x.service = cmdb.assets.get(asset).and_then(|a| a.service);
        }
        x.requester = Some(*g.pick("clean", &iam.pools.clean)?);
        let requester = x.requester.unwrap_or(usize::MAX);
        x.assignee = Some(pick_other(
            g,
            "security",
            &iam.pools.security,
            &[requester],
        )?);
        let triage = match late {
            Some(d) => {
                x.plant(
                    "security-incident.triage-late",
                    format!(
                        "{severity} security incident triaged {}h{:02} after it was reported (limit 4h)",
                        d / HOUR,
                        (d % HOUR) / MIN
                    ),
                );
                d
            }
            None => g.range(10 * MIN, 3 * HOUR),
        };
        x.triaged = Some(created + triage);
        x.pii = matches!(
            category,
            "Data exposure" | "Lost device" | "Account compromise"
        );
        if x.pii {
            x.notification_decided = Some(created + g.range(20 * HOUR, 60 * HOUR));
        }
        if recent {
            x.status = "in_progress";
            t.push(x);
            continue;
        }
        let resolved = created + triage + g.range(HOUR, 5 * DAY);
        x.resolved = Some(resolved);
        x.status = "closed";
        x.closed = Some(resolved + g.range(2, 7) * DAY);
        if matches!(severity, "critical" | "high") {
            let review = resolved + g.range(2, 8) * DAY;
            x.reviewed = Some(review);
            x.lessons = true;
            x.root_cause = true;
            x.closed = Some(review + DAY);
        }
        t.push(x);
    }
    Ok(())
}

fn corrective_actions(g: &mut Gen, iam: &Iam, t: &mut Vec<Ticket>) -> Result<(), SynthError> {
    for (n, summary) in names::CAPA_SUMMARIES.iter().enumerate() {
        let (requester, assignee) = owner_pair(g, iam)?;
        let created = match n {
            0..=5 => work_time(NOW - g.range(120, 330) * DAY, g),
            6 | 7 => work_time(NOW - g.range(20, 40) * DAY, g),
            8 => work_time(NOW - 80 * DAY, g),
            _ => work_time(NOW - 65 * DAY, g),
        };
        let mut x = Ticket::new(Kind::CorrectiveAction, *summary, created);
        x.category = Some(if n % 2 == 0 {
            "Internal audit"
        } else {
            "Incident"
        });
        x.priority = Some(3);
        x.requester = Some(requester);
        x.assignee = Some(assignee);
        x.triaged = Some(created + g.range(HOUR, 2 * DAY));
        x.root_cause = true;
        match n {
            0..=5 => {
                let due = created + g.range(30, 90) * DAY;
                x.due = Some(due);
                let resolved = (due - g.range(10, 25) * DAY).max(created + 5 * DAY);
                x.resolved = Some(resolved);
                x.effectiveness = true;
                x.status = "closed";
                x.closed = Some(resolved + g.range(2, 8) * DAY);
            }
            6 | 7 => {
                x.due = Some(NOW + g.range(10, 60) * DAY);
                x.status = "in_progress";
            }
            _ => {
                let overdue = if n == 8 { 20 } else { 6 };
                x.due = Some(at(2026, 11, 20, 17, 0) - (overdue + 1) * DAY);
                x.status = if n == 8 { "in_progress" } else { "open" };
                x.plant(
                    "capa.overdue",
                    format!(
                        "corrective action still {} {overdue} days after its due date",
                        x.status
                    ),
                );
            }
        }
        t.push(x);
    }
    Ok(())
}

/// (summary, opened on, closed on)
type Meeting = (&'static str, (i64, i64, i64), Option<(i64, i64, i64)>);

fn audits_and_reviews(g: &mut Gen, iam: &Iam, t: &mut Vec<Ticket>) -> Result<(), SynthError> {
    let audits: [Meeting; 4] = [
        (
            "Internal audit 2025-1: ISMS clauses 4-10 and organisational controls",
            (2025, 4, 14),
            Some((2025, 5, 16)),
        ),
        (
            "Internal audit 2025-2: service management (ISO/IEC 20000-1 clause 8)",
            (2025, 10, 13),
            Some((2025, 11, 14)),
        ),
        (
            "Internal audit 2026-1: technological controls and change management",
            (2026, 7, 20),
            Some((2026, 8, 21)),
        ),
        (
            "Internal audit 2027-1: integrated management system (planned)",
            (2026, 11, 10),
            None,
        ),
    ];
    for (summary, (y, m, d), closed) in audits {
        let (requester, assignee) = owner_pair(g, iam)?;
        let mut x = Ticket::new(Kind::InternalAudit, summary, at(y, m, d, 9, 30));
        x.requester = Some(requester);
        x.assignee = Some(assignee);
        x.category = Some("Audit programme");
        match closed {
            Some((y, m, d)) => {
                let c = at(y, m, d, 16, 0);
                x.resolved = Some(c - DAY);
                x.closed = Some(c);
                x.status = "closed";
                x.root_cause = false;
            }
            None => {
                x.status = "new";
                x.due = Some(at(2027, 2, 26, 17, 0));
            }
        }
        t.push(x);
    }
    let reviews: [Meeting; 3] = [
        (
            "Management review H1 2025",
            (2025, 3, 3),
            Some((2025, 3, 27)),
        ),
        (
            "Management review H2 2025",
            (2025, 8, 25),
            Some((2025, 9, 19)),
        ),
        ("Management review 2026 (scheduled)", (2026, 10, 15), None),
    ];
    for (summary, (y, m, d), closed) in reviews {
        let (requester, assignee) = owner_pair(g, iam)?;
        let mut x = Ticket::new(Kind::ManagementReview, summary, at(y, m, d, 10, 0));
        x.requester = Some(requester);
        x.assignee = Some(assignee);
        x.category = Some("Management system");
        match closed {
            Some((y, m, d)) => {
                let c = at(y, m, d, 16, 0);
                x.resolved = Some(c - 2 * HOUR);
                x.closed = Some(c);
                x.status = "closed";
            }
            None => {
                x.status = "open";
                x.due = Some(at(2026, 12, 10, 17, 0));
            }
        }
        t.push(x);
    }
    let quarters = [
        ("Q4 2025", (2026, 1, 5)),
        ("Q1 2026", (2026, 4, 6)),
        ("Q2 2026", (2026, 7, 6)),
        ("Q3 2026", (2026, 10, 5)),
    ];
    for (q, (y, m, d)) in quarters {
        for system in ["okta-prod", "aws-iam"] {
            let (requester, assignee) = owner_pair(g, iam)?;
            let created = at(y, m, d, 9, 0) + g.range(0, 2) * DAY;
            let mut x = Ticket::new(
                Kind::AccessReview,
                format!("{q} access review: {system}"),
                created,
            );
            x.requester = Some(requester);
            x.assignee = Some(assignee);
            x.category = Some("Access control");
            x.due = Some(created + 21 * DAY);
            x.finish(created + g.range(7, 18) * DAY, DAY, NOW);
            t.push(x);
        }
    }
    Ok(())
}

fn tests(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    backups: &Backups,
    t: &mut Vec<Ticket>,
) -> Result<(), SynthError> {
    // Restore tests of critical assets' backups; the failed one is retested two weeks later.
    let mut critical: Vec<usize> = (0..backups.jobs.len())
        .filter(|j| {
            backups
                .jobs
                .get(*j)
                .and_then(|j| cmdb.assets.get(j.asset))
                .is_some_and(|a| a.spec.crit == "critical")
        })
        .collect();
    g.shuffle(&mut critical);
    let mut plan: Vec<(usize, i64, bool)> = Vec::new();
    for (n, j) in critical.iter().take(9).enumerate() {
        let performed = work_time(NOW - (7 + n as i64 * 34) * DAY - g.range(0, 5) * DAY, g);
        plan.push((*j, performed, n != 4));
        if n == 4 {
            plan.push((*j, work_time(performed + 14 * DAY, g), true));
        }
    }
    for (j, performed, success) in plan {
        let job = backups.jobs.get(j).ok_or(SynthError::EmptyPool("jobs"))?;
        let asset = cmdb
            .assets
            .get(job.asset)
            .ok_or(SynthError::EmptyPool("assets"))?;
        let summary = format!(
            "Restore test: {} from {} ({})",
            asset.name,
            job.tool.name(),
            job.repository
        );
        let created = work_time(performed - g.range(1, 5) * DAY, g).min(performed - HOUR);
        let mut x = Ticket::new(Kind::RestoreTest, summary, created);
        x.category = Some("Backup");
        x.affected = vec![job.asset];
        x.service = asset.service;
        x.requester = Some(*g.pick("cab", &iam.pools.cab)?);
        x.assignee = Some(*g.pick("sre", &iam.pools.sre)?);
        x.outcome = Some(if success { "successful" } else { "failed" });
        x.lessons = !success;
        x.restore = Some(Restore {
            job: j,
            performed,
            success,
            rto_achieved: success,
        });
        x.finish(performed + g.range(2 * HOUR, 6 * HOUR), DAY, NOW);
        t.push(x);
    }
    // Continuity tests of the critical live services.
    for (si, s) in cmdb.services.iter().enumerate() {
        if s.crit != "critical" || s.status != "live" {
            continue;
        }
        let performed = work_time(NOW - g.range(30, 330) * DAY, g);
        let mut x = Ticket::new(
            Kind::ContinuityTest,
            format!("DR failover exercise: {}", s.name),
            performed - g.range(7, 20) * DAY,
        );
        x.category = Some("Continuity");
        x.service = Some(si);
        x.affected = s.components.iter().copied().take(3).collect();
        x.requester = Some(*g.pick("cab", &iam.pools.cab)?);
        x.assignee = Some(*g.pick("sre", &iam.pools.sre)?);
        x.outcome = Some("successful");
        x.lessons = true;
        x.continuity_of = Some(si);
        x.finish(performed + g.range(3 * HOUR, 8 * HOUR), 2 * DAY, NOW);
        t.push(x);
    }
    Ok(())
}

fn vulnerabilities(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    t: &mut Vec<Ticket>,
) -> Result<(), SynthError> {
    let assets = service_assets(cmdb);
    let severities = [
        "critical", "critical", "high", "high", "high", "high", "high", "high",
    ];
    for n in 0..20 {
        let severity = severities
            .get(n)
            .copied()
            .unwrap_or(if n < 16 { "medium" } else { "low" });
        let sla_days = match severity {
            "critical" => 15,
            "high" => 30,
            "medium" => 90,
            _ => 180,
        };
        let asset = *g.pick("assets", &assets)?;
        let ci = cmdb
            .assets
            .get(asset)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let template = g.of(names::VULN_SUMMARIES, "Vulnerability on {ci}");
        let created = NOW - g.range(2 * DAY, 200 * DAY);
        let mut x = Ticket::new(Kind::Vulnerability, template.replace("{ci}", &ci), created);
        x.category = Some("Scanner finding");
        x.severity = Some(severity);
        x.priority = Some(priority_of(severity));
        x.affected = vec![asset];
        x.service = cmdb.assets.get(asset).and_then(|a| a.service);
        x.due = Some(created + sla_days * DAY);
        x.assignee = Some(*g.pick("sre", &iam.pools.sre)?);
        x.triaged = Some(created + g.range(HOUR, DAY));
        let fixed = created + g.range(DAY, (sla_days - 2) * DAY);
        if fixed <= NOW - HOUR {
            x.resolved = Some(fixed);
            x.status = "closed";
            x.closed = Some(fixed + g.range(HOUR, 12 * HOUR).min(NOW - fixed));
        } else {
            x.status = "in_progress";
        }
        t.push(x);
    }
    Ok(())
}

fn improvements_and_disposals(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    t: &mut Vec<Ticket>,
) -> Result<(), SynthError> {
    for summary in names::IMPROVEMENT_SUMMARIES {
        let (requester, assignee) = owner_pair(g, iam)?;
        let created = work_time(NOW - g.range(10, 300) * DAY, g);
        let mut x = Ticket::new(Kind::Improvement, *summary, created);
        x.category = Some("Continual improvement");
        x.requester = Some(requester);
        x.assignee = Some(assignee);
        let due = created + g.range(60, 200) * DAY;
        x.due = Some(due);
        if due < NOW {
            x.resolved = Some(due - g.range(1, 30) * DAY);
            x.closed = x.resolved.map(|r| r + DAY);
            x.status = "closed";
        } else {
            x.status = g.of(&["open", "in_progress"], "open");
        }
        t.push(x);
    }
    for (ai, asset) in cmdb.assets.iter().enumerate() {
        if !matches!(asset.spec.lifecycle, "retired" | "disposed") {
            continue;
        }
        let since = asset
            .spec
            .since
            .map_or(NOW - 100 * DAY, |(y, m, d)| at(y, m, d, 10, 0));
        let created = work_time(since - g.range(1, 10) * DAY, g).min(since - HOUR);
        let what = if asset.spec.data {
            "secure erase and certificate of destruction"
        } else {
            "decommission"
        };
        let mut x = Ticket::new(
            Kind::Disposal,
            format!("Dispose of {} ({what})", asset.name),
            created,
        );
        x.category = Some("Asset disposal");
        x.affected = vec![ai];
        x.requester = Some(*g.pick("sre", &iam.pools.sre)?);
        x.assignee = Some(pick_other(g, "desk", &iam.pools.desk, &[])?);
        x.approver = Some(*g.pick("cab", &iam.pools.cab)?);
        x.approval = "approved";
        x.approved_at = Some(created + g.range(HOUR, DAY));
        x.disposal_of = Some(ai);
        x.finish(since + g.range(2, 20) * DAY, DAY, NOW);
        t.push(x);
    }
    Ok(())
}
