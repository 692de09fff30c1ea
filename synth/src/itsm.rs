//! IT service management tickets: incidents (with problems and majors), service requests and
//! changes, with the change and major-incident nonconformities planted.

use crate::backup::Backups;
use crate::clock::{work_time, DAY, HOUR, MIN, NOW};
use crate::cmdb::Cmdb;
use crate::iam::Iam;
use crate::names;
use crate::rng::Gen;
use crate::tickets::{pick_other, service_assets, Kind, Ticket};
use crate::SynthError;

pub const INCIDENTS: usize = 120;
pub const REQUESTS: usize = 80;
const PROBLEMS: usize = 10;
const INCIDENTS_PER_PROBLEM: usize = 3;
const OPEN_INCIDENTS: usize = 5;

/// SLA goal (time to resolution) by priority.
fn sla_goal(priority: u8) -> i64 {
    match priority {
        1 => 4 * HOUR,
        2 => 8 * HOUR,
        3 => 24 * HOUR,
        4 => 72 * HOUR,
        _ => 120 * HOUR,
    }
}

fn on(t: &mut Ticket, cmdb: &Cmdb, asset: usize) {
    t.affected = vec![asset];
    t.service = cmdb.assets.get(asset).and_then(|a| a.service);
}

fn asset_name(cmdb: &Cmdb, asset: usize) -> String {
    cmdb.assets
        .get(asset)
        .map(|a| a.name.clone())
        .unwrap_or_default()
}

/// An incident on `asset` created at `created`, resolved within its SLA.
fn incident(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    asset: usize,
    created: i64,
    priority: u8,
) -> Result<Ticket, SynthError> {
    let (category, template) = g.of(names::INCIDENT_SUMMARIES, ("Application", "Errors on {ci}"));
    let mut x = Ticket::new(
        Kind::Incident,
        template.replace("{ci}", &asset_name(cmdb, asset)),
        created,
    );
    x.category = Some(category);
    x.priority = Some(priority);
    on(&mut x, cmdb, asset);
    x.requester = Some(*g.pick("clean", &iam.pools.clean)?);
    let handlers: Vec<usize> = iam
        .pools
        .desk
        .iter()
        .chain(&iam.pools.sre)
        .copied()
        .collect();
    x.assignee = Some(pick_other(
        g,
        "handlers",
        &handlers,
        &[x.requester.unwrap_or(usize::MAX)],
    )?);
    x.triaged = Some(created + g.range(3 * MIN, 45 * MIN).min(sla_goal(priority) / 4));
    let goal = sla_goal(priority);
    x.sla = Some((goal, false));
    let resolved = created + g.range(goal / 8, goal * 9 / 10);
    x.finish(resolved, 5 * DAY, NOW);
    if x.resolved.is_none() {
        x.status = g.of(
            &["open", "in_progress", "in_progress", "pending"],
            "in_progress",
        );
    }
    Ok(x)
}

/// Generates incidents, problems, requests and changes. Returns how many keys per kind were
/// assigned before generation (they are numbered first).
pub fn generate(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    backups: &Backups,
    t: &mut Vec<Ticket>,
) -> Result<Vec<(Kind, usize)>, SynthError> {
    let assets = service_assets(cmdb);

    // Incidents raised for interrupted backups (keys reserved by the backup generator).
    for bi in &backups.incidents {
        let job = backups
            .jobs
            .get(bi.job)
            .ok_or(SynthError::EmptyPool("backup job"))?;
        let mut x = incident(g, iam, cmdb, job.asset, bi.created, 3)?;
        x.summary = format!(
            "Off-site backup of {} interrupted (borg checkpoint archive)",
            job.host
        );
        x.category = Some("Backup");
        x.key = bi.key.clone();
        t.push(x);
    }
    let mut incidents = backups.incidents.len();

    // Problems, each raised after a run of related incidents.
    for i in 0..PROBLEMS {
        let asset = *g.pick("assets", &assets)?;
        let created = work_time(NOW - g.range(20, 330) * DAY, g);
        let summary = names::PROBLEM_SUMMARIES
            .get(i)
            .copied()
            .unwrap_or("Recurring incidents");
        let mut p = Ticket::new(Kind::Problem, summary, created);
        on(&mut p, cmdb, asset);
        p.priority = Some(g.of(&[2, 3, 3], 3));
        p.category = Some("Problem");
        p.requester = Some(*g.pick("cab", &iam.pools.cab)?);
        p.assignee = Some(*g.pick("sre", &iam.pools.sre)?);
        p.triaged = Some(created + g.range(HOUR, 20 * HOUR));
        p.known_error = true;
        p.workaround = true;
        if created < NOW - 90 * DAY {
            p.root_cause = true;
            p.finish(created + g.range(20, 60) * DAY, 7 * DAY, NOW);
        } else {
            p.status = "in_progress";
        }
        let pi = t.len();
        t.push(p);
        for _ in 0..INCIDENTS_PER_PROBLEM {
            let c = work_time(created - g.range(1, 30) * DAY - g.range(0, 8 * HOUR), g)
                .min(created - HOUR);
            let pri = g.of(&[2, 3, 3, 4], 3);
            let mut x = incident(g, iam, cmdb, asset, c, pri)?;
            x.problem = Some(pi);
            t.push(x);
            incidents += 1;
        }
    }

    // Major incidents: three reviewed, one planted without a post-incident review.
    let majors: [(i64, bool); 4] = [(250, true), (160, true), (75, true), (30, false)];
    for (days, reviewed) in majors {
        let asset = *g.pick("assets", &assets)?;
        let resolved = work_time(NOW - days * DAY, g);
        let created = resolved - g.range(2 * HOUR, 3 * HOUR + 30 * MIN);
        let mut x = incident(g, iam, cmdb, asset, created, 1)?;
        x.major = true;
        x.summary = format!("MAJOR: {} service outage", {
            let s = x
                .service
                .and_then(|s| cmdb.services.get(s))
                .map(|s| s.name.clone());
            s.unwrap_or_else(|| "platform".into())
        });
        x.triaged = Some(created + g.range(2 * MIN, 10 * MIN));
        x.resolved = Some(resolved);
        if reviewed {
            let review = resolved + g.range(2, 6) * DAY;
            x.reviewed = Some(review);
            x.lessons = true;
            x.status = "closed";
            x.closed = Some(review + DAY);
        } else {
            x.status = "closed";
            x.closed = Some(resolved + 3 * DAY);
            x.plant(
                "incident.major-without-review",
                "major incident resolved 30 days ago, closed without a post-incident review",
            );
        }
        t.push(x);
        incidents += 1;
    }

    // Ordinary incidents over the last year.
    while incidents < INCIDENTS {
        let asset = *g.pick("assets", &assets)?;
        let mut created = NOW - g.range(2 * HOUR, 365 * DAY);
        if g.chance(70) {
            created = work_time(created, g).min(NOW - HOUR);
        }
        let pri = g.weighted(&[(2u8, 10), (3, 45), (4, 38), (5, 7)], 3);
        let mut x = incident(g, iam, cmdb, asset, created, pri)?;
        if incidents + OPEN_INCIDENTS >= INCIDENTS {
            // The last few are still being worked on.
            x.created = NOW - g.range(HOUR, 20 * HOUR);
            x.triaged = Some(x.created + g.range(5 * MIN, 40 * MIN));
            x.priority = Some(g.of(&[3, 4], 3));
            x.sla = x.priority.map(|p| (sla_goal(p), false));
            x.resolved = None;
            x.closed = None;
            x.status = g.of(
                &["open", "in_progress", "in_progress", "pending"],
                "in_progress",
            );
        }
        t.push(x);
        incidents += 1;
    }

    let joiners = requests(g, iam, t)?;
    let change_assets: Vec<usize> = assets
        .iter()
        .copied()
        .filter(|a| {
            cmdb.assets
                .get(*a)
                .is_some_and(|x| x.spec.class != crate::cmdb::Class::Endpoint)
        })
        .collect();
    changes(g, iam, cmdb, &change_assets, t)?;
    Ok(vec![
        (Kind::Incident, backups.incidents.len()),
        (Kind::ServiceRequest, joiners),
    ])
}

/// Access requests of joiners and guests (keys pre-assigned), then other requests.
fn requests(g: &mut Gen, iam: &Iam, t: &mut Vec<Ticket>) -> Result<usize, SynthError> {
    let mut joiners = 0;
    let people = iam.people.iter().filter_map(|p| p.access_request.as_ref());
    let root = iam.aws.iter().filter_map(|u| u.access_request.as_ref());
    let mut access: Vec<&crate::iam::AccessRequest> = people.chain(root).collect();
    access.sort_by(|a, b| a.key.cmp(&b.key));
    for r in access {
        let mut x = Ticket::new(Kind::ServiceRequest, r.summary.clone(), r.created);
        x.key = r.key.clone();
        x.category = Some("Access");
        x.priority = Some(3);
        x.requester = Some(r.requester);
        x.approver = Some(r.approver);
        x.approval = "approved";
        x.approved_at = Some(r.approved);
        x.assignee = Some(pick_other(
            g,
            "desk",
            &iam.pools.desk,
            &[r.requester, r.approver],
        )?);
        x.triaged = Some(r.created + g.range(10 * MIN, 2 * HOUR));
        x.sla = Some((15 * DAY, false));
        x.finish(r.closed, 3 * DAY, NOW);
        t.push(x);
        joiners += 1;
    }
    for n in joiners..REQUESTS {
        let (category, summary) = g.of(names::REQUEST_SUMMARIES, ("Software", "Install software"));
        let created = if n + 4 >= REQUESTS {
            NOW - g.range(HOUR, 40 * HOUR)
        } else {
            work_time(NOW - g.range(HOUR, 365 * DAY), g).min(NOW - HOUR)
        };
        let mut x = Ticket::new(Kind::ServiceRequest, summary, created);
        x.category = Some(category);
        x.priority = Some(g.of(&[3, 4, 4], 4));
        x.requester = Some(*g.pick("clean", &iam.pools.clean)?);
        let requester = x.requester.unwrap_or(usize::MAX);
        x.assignee = Some(pick_other(g, "desk", &iam.pools.desk, &[requester])?);
        x.triaged = Some(created + g.range(5 * MIN, 3 * HOUR));
        x.sla = Some((5 * DAY, false));
        let mut start = created;
        if category == "Access" {
            x.approver = Some(pick_other(
                g,
                "managers",
                &iam.pools.managers,
                &[requester],
            )?);
            let approved = created + g.range(HOUR, 20 * HOUR);
            if approved < NOW {
                x.approval = "approved";
                x.approved_at = Some(approved);
                start = approved;
            } else {
                x.approval = "requested";
                x.status = "pending";
                t.push(x);
                continue;
            }
        }
        x.finish(start + g.range(2 * HOUR, 3 * DAY), 3 * DAY, NOW);
        if x.resolved.is_none() {
            x.status = "in_progress";
        }
        t.push(x);
    }
    Ok(joiners)
}

struct People {
    requester: usize,
    approver: usize,
    implementer: usize,
}

fn change_people(g: &mut Gen, iam: &Iam) -> Result<People, SynthError> {
    let requester = *g.pick("engineers", &iam.pools.engineers)?;
    let approver = pick_other(g, "cab", &iam.pools.cab, &[requester])?;
    let implementer = pick_other(g, "engineers", &iam.pools.engineers, &[requester, approver])?;
    Ok(People {
        requester,
        approver,
        implementer,
    })
}

fn change(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    assets: &[usize],
    change_type: &'static str,
    created: i64,
) -> Result<Ticket, SynthError> {
    let asset = *g.pick("assets", assets)?;
    let template = g.of(names::CHANGE_SUMMARIES, "Change on {ci}");
    let release = format!("4.{}.{}", g.range(10, 60), g.range(0, 9));
    let summary = template
        .replace("{ci}", &asset_name(cmdb, asset))
        .replace("{rel}", &release);
    let mut x = Ticket::new(Kind::Change, summary, created);
    on(&mut x, cmdb, asset);
    x.change_type = Some(change_type);
    x.category = Some("Infrastructure");
    x.priority = Some(if change_type == "emergency" { 1 } else { 3 });
    let who = change_people(g, iam)?;
    x.requester = Some(who.requester);
    x.implementer = Some(who.implementer);
    x.assignee = Some(who.implementer);
    x.backout_plan = true;
    x.test_plan = true;
    x.risk = Some(match change_type {
        "standard" => "low",
        "emergency" => "high",
        _ => g.of(&["medium", "medium", "high", "low"], "medium"),
    });
    if change_type != "standard" {
        x.approver = Some(who.approver);
    }
    Ok(x)
}

/// Implementation window and close-out of a change approved (or not needing approval) by
/// `ready`.
fn implement(g: &mut Gen, x: &mut Ticket, start: i64) {
    x.planned_start = Some(start);
    x.planned_end = Some(start + g.range(1, 4) * HOUR);
    let implemented = start + g.range(0, 15 * MIN);
    x.implemented = Some(implemented);
    x.outcome = Some("successful");
    x.finish(
        implemented + g.range(30 * MIN, 3 * HOUR),
        g.range(1, 3) * DAY,
        NOW,
    );
}

fn changes(
    g: &mut Gen,
    iam: &Iam,
    cmdb: &Cmdb,
    assets: &[usize],
    t: &mut Vec<Ticket>,
) -> Result<(), SynthError> {
    // Standard changes: pre-approved models.
    for _ in 0..25 {
        let created = work_time(NOW - g.range(5, 360) * DAY, g);
        let mut x = change(g, iam, cmdb, assets, "standard", created)?;
        let start = work_time(created + g.range(1, 3) * DAY, g);
        implement(g, &mut x, start);
        t.push(x);
    }

    // Normal changes that went through the CAB and were implemented.
    let mut completed = Vec::new();
    for n in 0..22 {
        let created = work_time(NOW - g.range(15, 350) * DAY, g);
        let mut x = change(g, iam, cmdb, assets, "normal", created)?;
        let approved = work_time(created + g.range(1, 3) * DAY, g);
        x.approval = "approved";
        x.approved_at = Some(approved);
        let start = work_time(approved + g.range(1, 4) * DAY, g) + 10 * HOUR;
        implement(g, &mut x, start);
        if n < 2 {
            // Failed / partial changes, analysed through a problem and a review.
            x.outcome = Some(if n == 0 { "failed" } else { "partial" });
            let resolved = x.resolved.unwrap_or(start);
            x.reviewed = Some(resolved + g.range(1, 3) * DAY);
            x.lessons = true;
            x.problem = t.iter().position(|p| p.kind == Kind::Problem);
        } else {
            completed.push(t.len());
        }
        t.push(x);
    }
    g.shuffle(&mut completed);
    plant_changes(t, &completed)?;

    // Normal changes in flight: scheduled, awaiting approval, rejected.
    for n in 0..6 {
        let mut x = change(g, iam, cmdb, assets, "normal", NOW)?;
        match n {
            0..=2 => {
                x.created = NOW - g.range(3, 8) * DAY;
                x.approval = "approved";
                x.approved_at = Some(x.created + g.range(HOUR, 30 * HOUR));
                let start = work_time(NOW + g.range(1, 6) * DAY, g) + 10 * HOUR;
                x.planned_start = Some(start);
                x.planned_end = Some(start + 2 * HOUR);
                x.status = "pending";
            }
            3 | 4 => {
                x.created = NOW - g.range(4 * HOUR, 40 * HOUR);
                x.approval = "requested";
                x.status = if n == 3 { "new" } else { "pending" };
            }
            _ => {
                x.created = work_time(NOW - g.range(60, 200) * DAY, g);
                x.approval = "rejected";
                x.status = "cancelled";
                x.closed = Some(x.created + g.range(2, 5) * DAY);
            }
        }
        t.push(x);
    }

    // Emergency changes: approved by the ECAB minutes before, reviewed within days.
    let emergency: [(i64, Option<i64>); 7] = [
        (310, Some(2)),
        (240, Some(1)),
        (190, Some(4)),
        (130, Some(2)),
        (64, Some(3)),
        (41, Some(1)),
        (20, None),
    ];
    for (n, (days, review_after)) in emergency.into_iter().enumerate() {
        let implemented = NOW - days * DAY - g.range(0, 10 * HOUR);
        let approved = implemented - g.range(10 * MIN, 30 * MIN);
        let created = approved - g.range(10 * MIN, 40 * MIN);
        let mut x = change(g, iam, cmdb, assets, "emergency", created)?;
        x.approval = "approved";
        x.approved_at = Some(approved);
        x.planned_start = Some(implemented);
        x.planned_end = Some(implemented + HOUR);
        x.implemented = Some(implemented);
        x.outcome = Some("successful");
        let resolved = implemented + g.range(30 * MIN, 2 * HOUR);
        x.resolved = Some(resolved);
        match review_after {
            Some(d) => {
                let review = implemented + d * DAY;
                x.reviewed = Some(review);
                x.lessons = true;
                x.status = "closed";
                x.closed = Some(review + HOUR);
                if n == 4 {
                    x.near_miss(
                        "change.emergency-not-reviewed",
                        "emergency change reviewed 3 days after implementation (limit 5 days)",
                    );
                }
            }
            None => {
                x.status = "resolved";
                x.plant(
                    "change.emergency-not-reviewed",
                    "emergency change implemented 20 days ago, no post-implementation review",
                );
            }
        }
        t.push(x);
    }
    Ok(())
}

/// Plants the change nonconformities on seven distinct, otherwise clean, normal changes.
fn plant_changes(t: &mut [Ticket], picks: &[usize]) -> Result<(), SynthError> {
    let mut it = picks.iter().copied();
    let mut next = || it.next().ok_or(SynthError::EmptyPool("normal changes"));
    for after in [2 * HOUR, DAY] {
        let x = t.get_mut(next()?).ok_or(SynthError::EmptyPool("change"))?;
        let implemented = x.implemented.unwrap_or(x.created);
        x.approved_at = Some(implemented + after);
        x.plant(
            "change.not-approved-before-implementation",
            format!(
                "normal change approved {} after implementation started",
                if after == DAY { "1 day" } else { "2 hours" }
            ),
        );
    }
    {
        let x = t.get_mut(next()?).ok_or(SynthError::EmptyPool("change"))?;
        x.approval = "requested";
        x.approved_at = None;
        x.status = "resolved";
        x.closed = None;
        x.plant(
            "change.not-approved-before-implementation",
            "normal change implemented while its approval was still `requested`",
        );
    }
    for _ in 0..2 {
        let x = t.get_mut(next()?).ok_or(SynthError::EmptyPool("change"))?;
        x.approver = x.requester;
        x.plant(
            "change.requester-approves-own-change",
            "the requester approved the change",
        );
    }
    for _ in 0..2 {
        let x = t.get_mut(next()?).ok_or(SynthError::EmptyPool("change"))?;
        x.backout_plan = false;
        x.plant(
            "change.backout-plan-missing",
            "normal change with an empty backout plan",
        );
    }
    Ok(())
}
