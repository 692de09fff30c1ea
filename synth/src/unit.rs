//! One organisational unit: the demo organisation is unit 0; a scaled organisation is many
//! units with the same composition, each namespaced so that ids stay unique.

use crate::rng::Gen;
use crate::{backup, cmdb, iam, org, tickets, SynthError};

/// Namespacing of one unit's names and ids.
#[derive(Debug, Clone, Copy)]
pub struct Ns {
    pub k: usize,
}

impl Ns {
    /// `""` for unit 0, `-c007` for unit 7.
    pub fn sfx(&self) -> String {
        if self.k == 0 {
            String::new()
        } else {
            format!("-c{:03}", self.k)
        }
    }

    /// A host name: `pay-db-01` in unit 0, `c007-pay-db-01` in unit 7.
    pub fn host(&self, base: &str) -> String {
        if self.k == 0 {
            base.to_string()
        } else {
            format!("c{:03}-{base}", self.k)
        }
    }

    /// Display names: `Payments API`, `Payments API (c007)`.
    pub fn label(&self, base: &str) -> String {
        if self.k == 0 {
            base.to_string()
        } else {
            format!("{base} (c{:03})", self.k)
        }
    }

    /// The e-mail domain of the unit's staff.
    pub fn domain(&self) -> String {
        self.ext("northwind.example")
    }

    /// An external domain, made unique per unit.
    pub fn ext(&self, base: &str) -> String {
        if self.k == 0 {
            base.to_string()
        } else {
            format!("c{:03}.{base}", self.k)
        }
    }

    /// A ticket key: projects number their issues from `base`, 1000 per unit.
    pub fn key(&self, project: &str, base: usize, i: usize) -> String {
        format!("{project}-{}", base + self.k * 1000 + i)
    }

    /// A Jira numeric issue id, unique across units.
    pub fn jira_id(&self, seq: usize) -> String {
        (10_001 + self.k * 2_000 + seq).to_string()
    }
}

/// How a planted item is expected to come out of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The rule fires on the entity.
    Finding,
    /// The rule cannot be evaluated on the entity (on purpose).
    Indeterminate,
    /// A near miss: close to the threshold, the rule must not fire.
    NearMiss,
}

/// One planted nonconformity or near miss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plant {
    pub rule: &'static str,
    pub entity_type: &'static str,
    pub id: String,
    pub detail: String,
    pub expect: Expect,
}

impl Plant {
    pub fn new(
        rule: &'static str,
        entity_type: &'static str,
        id: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            entity_type,
            id: id.into(),
            detail: detail.into(),
            expect: Expect::Finding,
        }
    }

    pub fn near(mut self) -> Self {
        self.expect = Expect::NearMiss;
        self
    }

    pub fn indeterminate(mut self) -> Self {
        self.expect = Expect::Indeterminate;
        self
    }
}

/// Everything one unit holds.
pub struct Unit {
    pub ns: Ns,
    pub iam: iam::Iam,
    pub cmdb: cmdb::Cmdb,
    pub backups: backup::Backups,
    pub tickets: Vec<tickets::Ticket>,
    pub register: org::Register,
    pub plants: Vec<Plant>,
}

/// Generates unit `k` of the organisation seeded with `seed`. Pure and deterministic.
pub fn generate(seed: u64, k: usize) -> Result<Unit, SynthError> {
    let ns = Ns { k };
    let mut g = Gen::new(seed, k as u64);
    let mut plants = Vec::new();
    let register_base = org::suppliers(&ns);
    let iam = iam::generate(&mut g, &ns, &mut plants)?;
    let mut cmdb = cmdb::generate(&mut g, &ns, &iam, &register_base, &mut plants)?;
    let backups = backup::generate(&mut g, &ns, &cmdb, &mut plants)?;
    let tickets = tickets::generate(&mut g, &ns, &iam, &mut cmdb, &backups, &mut plants)?;
    let register = org::generate(&mut g, &ns, &iam, register_base, &mut plants)?;
    if k == 0 {
        organisation_plants(&tickets, &backups, &mut plants);
    }
    Ok(Unit {
        ns,
        iam,
        cmdb,
        backups,
        tickets,
        register,
        plants,
    })
}

/// The population rules, evaluated on the Organization: one fires, two must not.
fn organisation_plants(t: &[tickets::Ticket], backups: &backup::Backups, plants: &mut Vec<Plant>) {
    let latest = |kind: tickets::Kind| {
        t.iter()
            .filter(|x| x.kind == kind && x.status == "closed")
            .filter_map(|x| x.closed.map(|c| (c, x.key.clone())))
            .max()
    };
    let age = |c: i64| (crate::clock::NOW - c) / crate::clock::DAY;
    if let Some((closed, key)) = latest(tickets::Kind::ManagementReview) {
        plants.push(Plant::new(
            "ms.management-review-overdue",
            "Organization",
            org::ORG_ID,
            format!(
                "latest closed management review {key} closed {} ({} days before the assessment; interval 365d)",
                crate::clock::date(closed),
                age(closed)
            ),
        ));
    }
    if let Some((closed, key)) = latest(tickets::Kind::InternalAudit) {
        plants.push(
            Plant::new(
                "ms.internal-audit-overdue",
                "Organization",
                org::ORG_ID,
                format!(
                    "latest closed internal audit {key} closed {} ({} days ago): within 365d",
                    crate::clock::date(closed),
                    age(closed)
                ),
            )
            .near(),
        );
    }
    let (total, within) = backups.critical_coverage;
    plants.push(
        Plant::new(
            "backup.critical-coverage-below-target",
            "Organization",
            org::ORG_ID,
            format!(
                "{within} of {total} backup jobs of critical assets succeeded within 24h ({}.{}%): above the 95% target",
                within * 1000 / total.max(1) / 10,
                within * 1000 / total.max(1) % 10
            ),
        )
        .near(),
    );
}

impl Unit {
    /// The readable entities this unit writes.
    pub fn entity_count(&self) -> u64 {
        let keys: usize = self
            .iam
            .aws
            .iter()
            .map(|u| u.keys.iter().filter(|k| k.is_some()).count())
            .sum();
        let restores = self.tickets.iter().filter(|t| t.restore.is_some()).count();
        let runs: usize = self.backups.jobs.iter().map(|j| j.runs.len()).sum();
        let n = self.iam.people.len()
            + self.iam.aws.len()
            + self.iam.groups.len()
            + keys
            + self.cmdb.assets.len()
            + self.cmdb.services.len()
            + self.tickets.len()
            + restores
            + self.backups.jobs.len()
            + runs
            + self.register.suppliers.len()
            + self.register.documents.len()
            + self.register.risks.len()
            + usize::from(self.ns.k == 0);
        n as u64
    }
}
