//! Northwind's staff structure: the roster of one unit, Okta groups and admin roles, who is
//! in which group, and the pools other generators pick people from.

use crate::clock::{DAY, NOW, OKTA_GO_LIVE};
use crate::iam::{okta_id, Group, Person, Pools, Team};
use crate::rng::Gen;
use crate::unit::{Ns, Plant};
use crate::SynthError;

/// (team, title, head count) of one unit's employees; the first row is Alice Ng.
pub const ROSTER: &[(Team, &str, usize)] = &[
    (Team::Security, "Chief Information Security Officer", 1),
    (Team::Exec, "Chief Executive Officer", 1),
    (Team::Exec, "Chief Operating Officer", 1),
    (Team::Exec, "Chief Financial Officer", 1),
    (Team::Security, "Security Engineer", 2),
    (Team::Security, "GRC Analyst", 1),
    (Team::ServiceMgmt, "Head of Service Management", 1),
    (Team::ServiceMgmt, "Change Manager", 2),
    (Team::ServiceMgmt, "Problem Manager", 1),
    (Team::ServiceMgmt, "Service Level Manager", 1),
    (Team::Sre, "Site Reliability Engineer", 10),
    (Team::Sre, "Network Engineer", 2),
    (Team::Sre, "Database Administrator", 2),
    (Team::Dev, "Engineering Manager", 2),
    (Team::Dev, "Software Engineer", 14),
    (Team::Dev, "QA Engineer", 2),
    (Team::Desk, "Service Desk Lead", 2),
    (Team::Desk, "Service Desk Analyst", 10),
    (Team::Customer, "Customer Success Manager", 8),
    (Team::Finance, "Finance Analyst", 5),
    (Team::People, "People Partner", 3),
    (Team::Sales, "Account Executive", 6),
];

pub const G_SUPER_ADMIN: usize = 0;
pub const G_HELP_DESK: usize = 1;
pub const G_READ_ONLY: usize = 2;
pub const G_AWS_ADMINS: usize = 3;
pub const G_SRE: usize = 4;
pub const G_ENGINEERING: usize = 5;
pub const G_DESK: usize = 6;
pub const G_FINANCE: usize = 7;
pub const G_EXTERNAL: usize = 8;

/// (slug, name, admin role type, privileged, description).
pub const GROUPS: &[(&str, &str, Option<&str>, bool, &str)] = &[
    (
        "SUPER_ADMIN",
        "Okta Super Administrators",
        Some("SUPER_ADMIN"),
        true,
        "Okta super administrators",
    ),
    (
        "HELP_DESK_ADMIN",
        "Okta Help Desk Administrators",
        Some("HELP_DESK_ADMIN"),
        true,
        "Password and factor resets",
    ),
    (
        "READ_ONLY_ADMIN",
        "Okta Read-only Administrators",
        Some("READ_ONLY_ADMIN"),
        false,
        "Read-only admin console access",
    ),
    (
        "aws-production-admins",
        "AWS Production Admins",
        None,
        true,
        "AdministratorAccess in the production AWS account",
    ),
    (
        "sre-oncall",
        "SRE On-Call",
        None,
        true,
        "sudo on production hosts and kubectl cluster-admin",
    ),
    ("engineering", "Engineering", None, false, "All engineers"),
    (
        "service-desk",
        "Service Desk",
        None,
        false,
        "Service desk agents (Jira Service Management)",
    ),
    ("finance", "Finance", None, false, "Finance systems"),
    (
        "external-contractors",
        "External Contractors",
        None,
        false,
        "Guests and contractors from partner firms",
    ),
];

pub const SERVICE_ACCOUNTS: &[&str] = &[
    "svc-jira-cmdb-sync",
    "svc-github-scim",
    "svc-backup-reporter",
    "svc-servicenow-int",
    "svc-grafana-sso",
    "svc-vault-oidc",
    "svc-pagerduty",
    "svc-terraform-okta",
    "svc-hr-feed",
];

pub fn team_groups(team: Team, title: &str, n: usize) -> Vec<usize> {
    let mut v = Vec::new();
    match team {
        Team::Security if title == "Security Engineer" => v.push(G_SUPER_ADMIN),
        Team::Security => v.push(G_READ_ONLY),
        Team::Sre => {
            v.push(G_ENGINEERING);
            let sre = title == "Site Reliability Engineer";
            let dba = title == "Database Administrator";
            if (sre && n < 5) || dba {
                v.push(G_SRE);
            }
            if sre && n == 0 {
                v.push(G_SUPER_ADMIN);
            }
            if (sre && n < 3) || dba {
                v.push(G_AWS_ADMINS);
            }
        }
        Team::Dev => v.push(G_ENGINEERING),
        Team::Desk => {
            v.push(G_DESK);
            if title == "Service Desk Lead" || n < 1 {
                v.push(G_HELP_DESK);
            }
        }
        Team::Finance => v.push(G_FINANCE),
        Team::Exec if title == "Chief Financial Officer" => v.push(G_FINANCE),
        _ => {}
    }
    v.sort();
    v
}

pub fn build_pools(people: &[Person], humans: usize, former: Vec<usize>) -> Pools {
    let clean: Vec<usize> = (0..humans).filter(|i| people[*i].clean).collect();
    let with = |f: &dyn Fn(&Person) -> bool| -> Vec<usize> {
        clean.iter().copied().filter(|i| f(&people[*i])).collect()
    };
    Pools {
        owners: with(&|p| {
            matches!(
                p.team,
                Some(Team::Sre | Team::Dev | Team::ServiceMgmt | Team::Security | Team::Exec)
            )
        }),
        cab: with(&|p| {
            matches!(
                p.title.as_str(),
                "Head of Service Management"
                    | "Change Manager"
                    | "Engineering Manager"
                    | "Chief Information Security Officer"
            )
        }),
        managers: with(&|p| {
            matches!(
                p.title.as_str(),
                "Engineering Manager"
                    | "Head of Service Management"
                    | "Service Desk Lead"
                    | "Chief Information Security Officer"
                    | "Chief Operating Officer"
            )
        }),
        sre: with(&|p| p.team == Some(Team::Sre)),
        engineers: with(&|p| matches!(p.team, Some(Team::Sre | Team::Dev))),
        desk: with(&|p| p.team == Some(Team::Desk)),
        security: with(&|p| p.team == Some(Team::Security)),
        people_team: with(&|p| p.team == Some(Team::People)),
        former,
        clean,
    }
}

/// Guests are sponsored by clean staff and time-boxed, except the two planted ones.
pub fn plant_guests(
    g: &mut Gen,
    people: &mut [Person],
    guests_start: usize,
    pools: &Pools,
    plants: &mut Vec<Plant>,
) -> Result<(), SynthError> {
    for (n, i) in (guests_start..people.len()).enumerate() {
        let sponsor = *g.pick("owners", &pools.owners)?;
        let p = &mut people[i];
        p.sponsor = Some(sponsor);
        p.clean = false;
        if n == 0 {
            p.sponsor = None;
            plants.push(Plant::new(
                "iam.guest-without-sponsor-or-expiry",
                "Identity",
                p.identity_id(),
                "active guest with no sponsor (expiry set)",
            ));
        } else if n == 1 {
            p.expires = None;
            plants.push(Plant::new(
                "iam.guest-without-sponsor-or-expiry",
                "Identity",
                p.identity_id(),
                "active guest with no expiry date (sponsor set)",
            ));
        }
    }
    Ok(())
}

pub fn make_groups(g: &mut Gen, ns: &Ns, pools: &Pools) -> Result<Vec<Group>, SynthError> {
    let mut out = Vec::new();
    for (slug, name, role, privileged, description) in GROUPS {
        let created = OKTA_GO_LIVE - g.range(1, 5) * DAY;
        let kind = if role.is_some() { "role" } else { "group" };
        let id = format!("okta-prod:{kind}:{slug}{}", ns.sfx());
        let okta_id = okta_id(g, "00g");
        let owner = Some(*g.pick("owners", &pools.owners)?);
        out.push(Group {
            id,
            okta_id,
            slug,
            name: ns.label(name),
            description,
            role_type: *role,
            privileged: *privileged,
            owner,
            created,
            updated: NOW - g.range(DAY, 40 * DAY),
        });
    }
    Ok(out)
}
