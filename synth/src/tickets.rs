//! Tickets in Jira (Jira Service Management projects, one per ticket kind): the model, key
//! assignment and the generation order. Kind-specific generation is in [`crate::itsm`]
//! (incidents, requests, problems, changes) and [`crate::grc`] (security incidents,
//! corrective actions, audits, reviews, tests, vulnerabilities, improvements, disposals).

use crate::backup::Backups;
use crate::cmdb::Cmdb;
use crate::iam::Iam;
use crate::rng::Gen;
use crate::unit::{Ns, Plant};
use crate::{grc, itsm, SynthError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Incident,
    ServiceRequest,
    Problem,
    Change,
    SecurityIncident,
    CorrectiveAction,
    InternalAudit,
    ManagementReview,
    AccessReview,
    RestoreTest,
    ContinuityTest,
    Vulnerability,
    Improvement,
    Disposal,
}

pub const KINDS: &[Kind] = &[
    Kind::Incident,
    Kind::ServiceRequest,
    Kind::Problem,
    Kind::Change,
    Kind::SecurityIncident,
    Kind::CorrectiveAction,
    Kind::InternalAudit,
    Kind::ManagementReview,
    Kind::AccessReview,
    Kind::RestoreTest,
    Kind::ContinuityTest,
    Kind::Vulnerability,
    Kind::Improvement,
    Kind::Disposal,
];

impl Kind {
    pub fn model(self) -> &'static str {
        match self {
            Kind::Incident => "incident",
            Kind::ServiceRequest => "service_request",
            Kind::Problem => "problem",
            Kind::Change => "change",
            Kind::SecurityIncident => "security_incident",
            Kind::CorrectiveAction => "corrective_action",
            Kind::InternalAudit => "internal_audit",
            Kind::ManagementReview => "management_review",
            Kind::AccessReview => "access_review",
            Kind::RestoreTest => "restore_test",
            Kind::ContinuityTest => "continuity_test",
            Kind::Vulnerability => "vulnerability",
            Kind::Improvement => "improvement",
            Kind::Disposal => "disposal",
        }
    }

    /// (Jira project key, project name, first issue number, issue type id, issue type name)
    pub fn project(
        self,
    ) -> (
        &'static str,
        &'static str,
        usize,
        &'static str,
        &'static str,
    ) {
        match self {
            Kind::Incident => (
                "INC",
                "IT Service Desk - Incidents",
                2001,
                "10101",
                "Incident",
            ),
            Kind::ServiceRequest => (
                "REQ",
                "IT Service Desk - Requests",
                3001,
                "10102",
                "Service Request",
            ),
            Kind::Problem => ("PRB", "Problem Management", 401, "10103", "Problem"),
            Kind::Change => ("CHG", "Change Management", 1001, "10104", "Change"),
            Kind::SecurityIncident => (
                "SEC",
                "Security Incidents",
                101,
                "10105",
                "Security Incident",
            ),
            Kind::CorrectiveAction => (
                "CAPA",
                "Corrective Actions",
                51,
                "10106",
                "Corrective Action",
            ),
            Kind::InternalAudit => ("AUD", "Internal Audit", 11, "10107", "Internal Audit"),
            Kind::ManagementReview => ("MR", "Management Review", 5, "10108", "Management Review"),
            Kind::AccessReview => ("ACR", "Access Reviews", 21, "10109", "Access Review"),
            Kind::RestoreTest => ("RST", "Backup Restore Tests", 31, "10110", "Restore Test"),
            Kind::ContinuityTest => ("BCT", "Continuity Tests", 15, "10111", "Continuity Test"),
            Kind::Vulnerability => (
                "VULN",
                "Vulnerability Management",
                601,
                "10112",
                "Vulnerability",
            ),
            Kind::Improvement => ("IMP", "Continual Improvement", 71, "10113", "Improvement"),
            Kind::Disposal => ("DSP", "Asset Disposal", 81, "10114", "Disposal"),
        }
    }
}

/// A restore test recorded on an RST ticket (also normalized as a RestoreTest entity).
pub struct Restore {
    pub job: usize,
    pub performed: i64,
    pub success: bool,
    pub rto_achieved: bool,
}

pub struct Ticket {
    pub key: String,
    pub jira_id: String,
    pub kind: Kind,
    pub summary: String,
    pub status: &'static str,
    pub priority: Option<u8>,
    pub severity: Option<&'static str>,
    pub major: bool,
    pub category: Option<&'static str>,
    pub created: i64,
    pub triaged: Option<i64>,
    pub resolved: Option<i64>,
    pub closed: Option<i64>,
    pub due: Option<i64>,
    pub sla: Option<(i64, bool)>,
    pub requester: Option<usize>,
    pub assignee: Option<usize>,
    pub approver: Option<usize>,
    pub implementer: Option<usize>,
    pub approval: &'static str,
    pub approved_at: Option<i64>,
    pub change_type: Option<&'static str>,
    pub risk: Option<&'static str>,
    pub backout_plan: bool,
    pub test_plan: bool,
    pub planned_start: Option<i64>,
    pub planned_end: Option<i64>,
    pub implemented: Option<i64>,
    pub outcome: Option<&'static str>,
    pub reviewed: Option<i64>,
    pub lessons: bool,
    pub root_cause: bool,
    pub effectiveness: bool,
    pub known_error: bool,
    pub workaround: bool,
    pub pii: bool,
    pub notification_decided: Option<i64>,
    pub affected: Vec<usize>,
    pub service: Option<usize>,
    /// Index of the linked problem ticket during generation; its key once keys exist.
    pub problem: Option<usize>,
    pub problem_key: Option<String>,
    pub restore: Option<Restore>,
    pub disposal_of: Option<usize>,
    pub continuity_of: Option<usize>,
    /// Which plants refer to this ticket (rule, detail, near miss), recorded once keys exist.
    pub plants: Vec<(&'static str, String, bool)>,
}

impl Ticket {
    pub fn new(kind: Kind, summary: impl Into<String>, created: i64) -> Self {
        Self {
            key: String::new(),
            jira_id: String::new(),
            kind,
            summary: summary.into(),
            status: "open",
            priority: None,
            severity: None,
            major: false,
            category: None,
            created,
            triaged: None,
            resolved: None,
            closed: None,
            due: None,
            sla: None,
            requester: None,
            assignee: None,
            approver: None,
            implementer: None,
            approval: "not_required",
            approved_at: None,
            change_type: None,
            risk: None,
            backout_plan: false,
            test_plan: false,
            planned_start: None,
            planned_end: None,
            implemented: None,
            outcome: None,
            reviewed: None,
            lessons: false,
            root_cause: false,
            effectiveness: false,
            known_error: false,
            workaround: false,
            pii: false,
            notification_decided: None,
            affected: Vec::new(),
            service: None,
            problem: None,
            problem_key: None,
            restore: None,
            disposal_of: None,
            continuity_of: None,
            plants: Vec::new(),
        }
    }

    /// Resolved at `resolved`, closed `close_after` later unless that is still in the future.
    pub fn finish(&mut self, resolved: i64, close_after: i64, now: i64) {
        if resolved > now {
            self.status = "in_progress";
            return;
        }
        self.resolved = Some(resolved);
        if resolved + close_after <= now {
            self.status = "closed";
            self.closed = Some(resolved + close_after);
        } else {
            self.status = "resolved";
        }
    }

    pub fn plant(&mut self, rule: &'static str, detail: impl Into<String>) {
        self.plants.push((rule, detail.into(), false));
    }

    pub fn near_miss(&mut self, rule: &'static str, detail: impl Into<String>) {
        self.plants.push((rule, detail.into(), true));
    }

    /// The latest instant recorded on the ticket.
    pub fn updated(&self) -> i64 {
        [
            Some(self.created),
            self.triaged,
            self.resolved,
            self.closed,
            self.approved_at,
            self.implemented,
            self.reviewed,
            self.notification_decided,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(self.created)
    }
}

/// Picks from `pool` a person not in `exclude`.
pub fn pick_other(
    g: &mut Gen,
    what: &'static str,
    pool: &[usize],
    exclude: &[usize],
) -> Result<usize, SynthError> {
    let rest: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|p| !exclude.contains(p))
        .collect();
    Ok(*g.pick(what, &rest)?)
}

/// Indices of active, in-scope production assets that belong to a service.
pub fn service_assets(cmdb: &Cmdb) -> Vec<usize> {
    cmdb.assets
        .iter()
        .enumerate()
        .filter(|(_, a)| a.active() && a.spec.env == "production" && a.service.is_some())
        .map(|(i, _)| i)
        .collect()
}

/// Generates the unit's tickets, assigns keys in creation order per project and Jira ids in
/// creation order overall, and links what other entities reference.
pub fn generate(
    g: &mut Gen,
    ns: &Ns,
    iam: &Iam,
    cmdb: &mut Cmdb,
    backups: &Backups,
    plants: &mut Vec<Plant>,
) -> Result<Vec<Ticket>, SynthError> {
    let mut t: Vec<Ticket> = Vec::new();
    let reserved = itsm::generate(g, iam, cmdb, backups, &mut t)?;
    grc::generate(g, iam, cmdb, backups, &mut t)?;

    // Keys: pre-assigned keys (joiner requests, backup incidents) stay; the rest are numbered
    // in creation order after them.
    for kind in KINDS {
        let (project, _, base, _, _) = kind.project();
        let mut idx: Vec<usize> = (0..t.len())
            .filter(|i| t[*i].kind == *kind && t[*i].key.is_empty())
            .collect();
        idx.sort_by_key(|i| (t[*i].created, *i));
        let first = reserved
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, n)| *n)
            .sum::<usize>();
        for (n, i) in idx.into_iter().enumerate() {
            t[i].key = ns.key(project, base, first + n);
        }
    }
    let mut order: Vec<usize> = (0..t.len()).collect();
    order.sort_by_key(|i| (t[*i].created, *i));
    for (seq, i) in order.into_iter().enumerate() {
        t[i].jira_id = ns.jira_id(seq);
    }
    let keys: Vec<String> = t.iter().map(|x| x.key.clone()).collect();
    for x in t.iter_mut() {
        x.problem_key = x.problem.and_then(|p| keys.get(p).cloned());
    }
    for x in &t {
        if let Some(a) = x.disposal_of.and_then(|a| cmdb.assets.get_mut(a)) {
            a.disposal_ticket = Some(x.key.clone());
        }
        if let Some(s) = x.continuity_of.and_then(|s| cmdb.services.get_mut(s)) {
            s.last_continuity_test = x.resolved;
        }
        for (rule, detail, near) in &x.plants {
            let p = Plant::new(rule, "Ticket", x.key.clone(), detail.clone());
            plants.push(if *near { p.near() } else { p });
        }
    }
    // Write order: by project, then issue number.
    t.sort_by_key(|x| {
        let n: usize = x
            .key
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (x.kind, n)
    });
    Ok(t)
}
