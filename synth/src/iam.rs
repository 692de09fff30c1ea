//! Identity and access: Okta users, groups and admin roles; AWS IAM users and access keys.
//! Generation only; the vendor records and entities are in [`crate::iam_wire`].

use crate::aws::{aws_users, AwsUser};
use crate::clock::{at, work_time, DAY, HOUR, MIN, NOW, OKTA_GO_LIVE};
use crate::names;
use crate::rng::Gen;
use crate::staff::{
    build_pools, make_groups, plant_guests, team_groups, GROUPS, G_EXTERNAL, G_HELP_DESK, G_SRE,
    ROSTER, SERVICE_ACCOUNTS,
};
use crate::unit::{Ns, Plant};
use crate::SynthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Human,
    Service,
    Guest,
}

impl Kind {
    pub fn model(self) -> &'static str {
        match self {
            Kind::Human => "human",
            Kind::Service => "service",
            Kind::Guest => "guest",
        }
    }
}

/// Okta user status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    PasswordExpired,
    LockedOut,
    Suspended,
    Staged,
    Deprovisioned,
}

impl Status {
    pub fn wire(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::PasswordExpired => "PASSWORD_EXPIRED",
            Status::LockedOut => "LOCKED_OUT",
            Status::Suspended => "SUSPENDED",
            Status::Staged => "STAGED",
            Status::Deprovisioned => "DEPROVISIONED",
        }
    }

    /// The normalized status (the mapping the Okta connector applies).
    pub fn model(self) -> &'static str {
        match self {
            Status::Active | Status::PasswordExpired => "active",
            Status::LockedOut => "locked",
            Status::Suspended => "suspended",
            Status::Staged => "staged",
            Status::Deprovisioned => "deprovisioned",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Team {
    Exec,
    Security,
    ServiceMgmt,
    Sre,
    Dev,
    Desk,
    Customer,
    Finance,
    People,
    Sales,
}

impl Team {
    pub fn department(self) -> &'static str {
        match self {
            Team::Exec => "Executive",
            Team::Security => "Information Security",
            Team::ServiceMgmt => "Service Management",
            Team::Sre => "Site Reliability Engineering",
            Team::Dev => "Platform Engineering",
            Team::Desk => "Service Desk",
            Team::Customer => "Customer Success",
            Team::Finance => "Finance",
            Team::People => "People",
            Team::Sales => "Sales",
        }
    }
}

pub struct Factor {
    pub id: String,
    pub factor_type: &'static str,
    pub provider: &'static str,
    pub active: bool,
    pub created: i64,
}

impl Factor {
    /// The normalized method name.
    pub fn method(&self) -> &'static str {
        match self.factor_type {
            "push" => "push",
            "token:software:totp" => "totp",
            "webauthn" => "webauthn",
            "token:hardware" => "hardware",
            "sms" => "sms",
            "call" => "voice",
            _ => "email",
        }
    }
}

/// The service request that approved an account.
pub struct AccessRequest {
    pub key: String,
    pub summary: String,
    pub created: i64,
    pub approved: i64,
    pub closed: i64,
    pub requester: usize,
    pub approver: usize,
}

pub struct Person {
    pub okta_id: String,
    pub first: String,
    pub last: String,
    pub email: String,
    pub sys_id: String,
    pub jira_account: String,
    pub kind: Kind,
    pub status: Status,
    pub team: Option<Team>,
    pub title: String,
    pub employee_number: Option<String>,
    pub created: i64,
    pub activated: Option<i64>,
    pub status_changed: Option<i64>,
    pub last_login: Option<i64>,
    pub password_changed: Option<i64>,
    pub terminated: Option<i64>,
    pub sponsor: Option<usize>,
    pub expires: Option<i64>,
    pub owner: Option<usize>,
    pub firm: Option<&'static str>,
    pub factors: Vec<Factor>,
    pub groups: Vec<usize>,
    pub access_request: Option<AccessRequest>,
    /// Not planted and active: may own things, approve, implement.
    pub clean: bool,
}

impl Person {
    pub fn identity_id(&self) -> String {
        format!("okta-prod:{}", self.email)
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
}

pub struct Group {
    pub id: String,
    pub okta_id: String,
    pub slug: &'static str,
    pub name: String,
    pub description: &'static str,
    pub role_type: Option<&'static str>,
    pub privileged: bool,
    pub owner: Option<usize>,
    pub created: i64,
    pub updated: i64,
}

/// People by what other generators may use them for (indices into `people`).
#[derive(Default)]
pub struct Pools {
    pub clean: Vec<usize>,
    pub owners: Vec<usize>,
    pub cab: Vec<usize>,
    pub managers: Vec<usize>,
    pub sre: Vec<usize>,
    pub engineers: Vec<usize>,
    pub desk: Vec<usize>,
    pub security: Vec<usize>,
    pub people_team: Vec<usize>,
    /// Deprovisioned former staff, oldest termination first.
    pub former: Vec<usize>,
}

pub struct Iam {
    pub people: Vec<Person>,
    pub groups: Vec<Group>,
    pub aws: Vec<AwsUser>,
    pub aws_account: String,
    pub pools: Pools,
}

impl Iam {
    pub fn person(&self, i: usize) -> Result<&Person, SynthError> {
        self.people
            .get(i)
            .ok_or(SynthError::EmptyPool("person index"))
    }

    pub fn id_of(&self, i: usize) -> Result<String, SynthError> {
        Ok(self.person(i)?.identity_id())
    }
}

pub fn okta_id(g: &mut Gen, prefix: &str) -> String {
    format!("{prefix}{}", g.base62(17))
}

fn active_factor(g: &mut Gen, ty: &'static str, provider: &'static str, created: i64) -> Factor {
    let id = okta_id(g, if ty == "push" { "opf" } else { "fwf" });
    Factor {
        id,
        factor_type: ty,
        provider,
        active: true,
        created,
    }
}

/// Generates the unit's identities and plants the IAM nonconformities.
pub fn generate(g: &mut Gen, ns: &Ns, plants: &mut Vec<Plant>) -> Result<Iam, SynthError> {
    let domain = ns.domain();
    let mut used = std::collections::BTreeSet::new();
    let mut people: Vec<Person> = Vec::new();
    let mut fresh_name = |g: &mut Gen, first_fixed: Option<(&str, &str)>| -> (String, String) {
        if let Some((f, l)) = first_fixed {
            used.insert(names::local_part(f, l));
            return (f.to_string(), l.to_string());
        }
        loop {
            let f = g.of(names::FIRST_NAMES, "Alex");
            let l = g.of(names::LAST_NAMES, "Smith");
            if used.insert(names::local_part(f, l)) {
                return (f.to_string(), l.to_string());
            }
        }
    };
    let new_person = |g: &mut Gen, first: String, last: String, email: String, kind: Kind| {
        let created = OKTA_GO_LIVE + g.range(0, 4 * HOUR);
        Person {
            okta_id: okta_id(g, "00u"),
            first,
            last,
            email,
            sys_id: g.hex(32),
            jira_account: format!(
                "712020:{}-{}-{}-{}-{}",
                g.hex(8),
                g.hex(4),
                g.hex(4),
                g.hex(4),
                g.hex(12)
            ),
            kind,
            status: Status::Active,
            team: None,
            title: String::new(),
            employee_number: None,
            created,
            activated: Some(created + 5 * MIN),
            status_changed: Some(created + 5 * MIN),
            last_login: Some(NOW - g.range(HOUR, 10 * DAY)),
            password_changed: Some(NOW - g.range(5 * DAY, 80 * DAY)),
            terminated: None,
            sponsor: None,
            expires: None,
            owner: None,
            firm: None,
            factors: Vec::new(),
            groups: Vec::new(),
            access_request: None,
            clean: false,
        }
    };

    // Employees.
    for (team, title, count) in ROSTER {
        for n in 0..*count {
            let fixed = if people.is_empty() {
                Some(("Alice", "Ng"))
            } else {
                None
            };
            let (first, last) = fresh_name(g, fixed);
            let email = format!("{}@{domain}", names::local_part(&first, &last));
            let mut p = new_person(g, first, last, email, Kind::Human);
            p.team = Some(*team);
            p.title = (*title).to_string();
            p.employee_number = Some(format!("E{}", 10_000 + ns.k * 100 + people.len()));
            p.groups = team_groups(*team, title, n);
            let push = active_factor(g, "push", "OKTA", p.created + 10 * MIN);
            p.factors.push(push);
            let privileged = p.groups.iter().any(|i| GROUPS.get(*i).is_some_and(|x| x.3));
            if privileged {
                p.factors
                    .push(active_factor(g, "webauthn", "FIDO", p.created + 20 * MIN));
            } else if g.chance(25) {
                p.factors.push(active_factor(
                    g,
                    "token:software:totp",
                    "GOOGLE",
                    p.created + HOUR,
                ));
            } else if g.chance(10) {
                p.factors
                    .push(active_factor(g, "sms", "OKTA", p.created + HOUR));
            }
            people.push(p);
        }
    }
    let humans = people.len();

    // Service accounts, owned by SREs (owners are set once pools exist).
    for name in SERVICE_ACCOUNTS {
        let email = format!("{name}@{domain}");
        let mut p = new_person(
            g,
            "Service".into(),
            (*name).to_string(),
            email,
            Kind::Service,
        );
        p.created = at(2025, 1, 20, 10, 0) + g.range(0, 150) * DAY;
        p.activated = Some(p.created + MIN);
        p.status_changed = p.activated;
        p.last_login = Some(NOW - g.range(10 * MIN, 36 * HOUR));
        p.password_changed = Some(NOW - g.range(10 * DAY, 60 * DAY));
        p.title = "Service account".into();
        people.push(p);
    }
    let services_end = people.len();

    // Guests from partner firms.
    for i in 0..8 {
        let (domain_base, firm) = names::GUEST_FIRMS[i % names::GUEST_FIRMS.len()];
        let (first, last) = fresh_name(g, None);
        let email = format!(
            "{}@{}",
            names::local_part(&first, &last),
            ns.ext(domain_base)
        );
        let mut p = new_person(g, first, last, email, Kind::Guest);
        p.created = work_time(NOW - g.range(20, 200) * DAY, g);
        p.activated = Some(p.created + 30 * MIN);
        p.status_changed = p.activated;
        p.last_login = Some(NOW - g.range(2 * HOUR, 14 * DAY));
        p.password_changed = Some(p.created + HOUR);
        p.expires = Some(NOW + g.range(30, 180) * DAY);
        p.firm = Some(firm);
        p.title = format!("Consultant, {firm}");
        p.groups = vec![G_EXTERNAL];
        p.factors
            .push(active_factor(g, "push", "OKTA", p.created + 40 * MIN));
        people.push(p);
    }

    let priv_of = |p: &Person| p.groups.iter().any(|i| GROUPS.get(*i).is_some_and(|x| x.3));
    let title_is = |p: &Person, t: &str| p.title == t;

    // Who may be picked for anomalies: ordinary, non-privileged staff.
    let mut ordinary: Vec<usize> = (0..humans)
        .filter(|i| {
            let p = &people[*i];
            !priv_of(p)
                && matches!(
                    p.team,
                    Some(Team::Dev | Team::Customer | Team::Sales | Team::Finance | Team::Desk)
                )
                && !title_is(p, "Engineering Manager")
        })
        .collect();
    g.shuffle(&mut ordinary);
    let mut take = |what: &'static str| -> Result<usize, SynthError> {
        ordinary.pop().ok_or(SynthError::EmptyPool(what))
    };

    // 1. privileged without MFA (+ near miss: suspended privileged without MFA).
    let mut privileged_sre: Vec<usize> = (0..humans)
        .filter(|i| {
            people[*i].title == "Site Reliability Engineer" && people[*i].groups.contains(&G_SRE)
        })
        .skip(1)
        .collect();
    g.shuffle(&mut privileged_sre);
    let desk_admins: Vec<usize> = (0..humans)
        .filter(|i| {
            people[*i].title == "Service Desk Analyst" && people[*i].groups.contains(&G_HELP_DESK)
        })
        .collect();
    let no_mfa_sre = *privileged_sre.first().ok_or(SynthError::EmptyPool("sre"))?;
    let no_mfa_desk = *g.pick("desk admins", &desk_admins)?;
    let suspended_admin = *privileged_sre.get(1).ok_or(SynthError::EmptyPool("sre"))?;
    for (i, pending) in [(no_mfa_sre, true), (no_mfa_desk, false)] {
        let p = &mut people[i];
        p.factors.clear();
        if pending {
            let mut f = active_factor(g, "push", "OKTA", NOW - 40 * DAY);
            f.active = false;
            p.factors.push(f);
        }
        plants.push(Plant::new(
            "iam.privileged-without-mfa",
            "Identity",
            p.identity_id(),
            format!(
                "active {} in privileged groups, no active factor{}",
                p.title,
                if pending {
                    " (Okta Verify enrolment pending since 40 days)"
                } else {
                    ""
                }
            ),
        ));
    }
    {
        let p = &mut people[suspended_admin];
        p.factors.clear();
        p.status = Status::Suspended;
        p.status_changed = Some(NOW - 20 * DAY);
        p.last_login = Some(NOW - 21 * DAY);
        plants.push(
            Plant::new(
                "iam.privileged-without-mfa",
                "Identity",
                p.identity_id(),
                "privileged SRE without MFA, but its Okta status is SUSPENDED (since 20 days)",
            )
            .near(),
        );
    }

    // 2. leavers still active (+ near miss within the 1-day grace).
    for days in [3, 9, 26] {
        let i = take("leavers")?;
        let p = &mut people[i];
        let t = at(2026, 11, 20, 17, 0) - days * DAY - 24 * HOUR;
        p.terminated = Some(t);
        p.last_login = Some(t - g.range(2 * HOUR, 30 * HOUR));
        plants.push(Plant::new(
            "iam.leaver-not-deprovisioned",
            "Identity",
            p.identity_id(),
            format!("terminated {days}d 13h ago (HR), Okta status still ACTIVE"),
        ));
    }
    {
        let i = take("leavers")?;
        let p = &mut people[i];
        p.terminated = Some(NOW - 12 * HOUR);
        p.last_login = Some(NOW - 15 * HOUR);
        plants.push(
            Plant::new(
                "iam.leaver-not-deprovisioned",
                "Identity",
                p.identity_id(),
                "terminated 12h ago, still ACTIVE: within the 1-day grace",
            )
            .near(),
        );
    }

    // 3. dormant active accounts (+ near miss at 89 days).
    for days in [95, 122, 163, 201] {
        let i = take("dormant")?;
        let p = &mut people[i];
        p.last_login = Some(NOW - days * DAY - g.range(0, 5 * HOUR));
        p.password_changed = Some(NOW - (days + 20) * DAY);
        plants.push(Plant::new(
            "iam.dormant-account",
            "Identity",
            p.identity_id(),
            format!("ACTIVE, last sign-in {days} days ago"),
        ));
    }
    {
        let i = take("dormant")?;
        let p = &mut people[i];
        p.last_login = Some(NOW - 89 * DAY);
        p.password_changed = Some(NOW - 100 * DAY);
        plants.push(
            Plant::new(
                "iam.dormant-account",
                "Identity",
                p.identity_id(),
                "ACTIVE, last sign-in exactly 89 days ago",
            )
            .near(),
        );
    }

    // Clean lifecycle variety: former staff, suspensions, a lock-out, an expired password.
    let mut former = Vec::new();
    for _ in 0..6 {
        let i = take("former staff")?;
        let p = &mut people[i];
        let t = at(2025, 5, 2, 17, 0) + g.range(0, 540) * DAY;
        p.terminated = Some(t);
        p.status = Status::Deprovisioned;
        p.status_changed = Some(t + g.range(HOUR, 20 * HOUR));
        p.last_login = Some(t - g.range(4 * HOUR, 3 * DAY));
        p.password_changed = Some(t - g.range(20, 70) * DAY);
        p.groups.clear();
        p.factors.clear();
        former.push((t, i));
    }
    former.sort();
    for _ in 0..2 {
        let i = take("suspended")?;
        let p = &mut people[i];
        let t = NOW - g.range(10, 60) * DAY;
        p.status = Status::Suspended;
        p.status_changed = Some(t);
        p.last_login = Some(t - g.range(HOUR, 2 * DAY));
    }
    let locked = take("locked")?;
    people[locked].status = Status::LockedOut;
    people[locked].status_changed = Some(NOW - 2 * HOUR);
    people[locked].last_login = Some(NOW - 26 * HOUR);
    let expired = take("password expired")?;
    people[expired].status = Status::PasswordExpired;
    people[expired].last_login = Some(NOW - 3 * DAY);
    people[expired].password_changed = Some(NOW - 91 * DAY);
    let mut staged = Vec::new();
    for _ in 0..2 {
        let i = take("staged")?;
        let p = &mut people[i];
        p.status = Status::Staged;
        p.created = work_time(NOW - g.range(2, 5) * DAY, g);
        p.activated = None;
        p.status_changed = None;
        p.last_login = None;
        p.password_changed = None;
        p.factors.clear();
        staged.push(i);
    }

    // Everyone not touched above is clean.
    let planted_ids: Vec<String> = plants.iter().map(|p| p.id.clone()).collect();
    for p in people.iter_mut() {
        p.clean = p.status == Status::Active
            && p.terminated.is_none()
            && !planted_ids.contains(&p.identity_id());
    }

    let pools = build_pools(&people, humans, former.iter().map(|x| x.1).collect());
    plant_guests(g, &mut people, services_end, &pools, plants)?;
    // Service accounts are owned by SREs.
    for p in people.iter_mut().take(services_end).skip(humans) {
        p.owner = Some(*g.pick("sre", &pools.sre)?);
    }

    // Joiners since go-live came through an access request.
    let mut joiner_pool: Vec<usize> = (1..humans)
        .filter(|i| {
            let p = &people[*i];
            p.status != Status::Deprovisioned && p.status != Status::Staged
        })
        .collect();
    g.shuffle(&mut joiner_pool);
    let mut joiners: Vec<usize> = joiner_pool.into_iter().take(20).collect();
    for i in &joiners {
        let p = &mut people[*i];
        p.created = work_time(at(2025, 3, 3, 9, 0) + g.range(0, 390) * DAY, g);
        p.activated = Some(p.created + 30 * MIN);
        p.status_changed = p.status_changed.map(|t| t.max(p.created + 30 * MIN));
        for f in p.factors.iter_mut() {
            f.created = f.created.max(p.created + HOUR);
        }
    }
    joiners.extend(staged);
    joiners.extend(services_end..people.len());
    let mut requests: Vec<(Option<usize>, AccessRequest)> = Vec::new();
    for i in joiners {
        let p = &people[i];
        let requester = match p.sponsor {
            Some(s) => s,
            None if p.kind == Kind::Guest => *g.pick("cab", &pools.cab)?,
            None => *g.pick("people team", &pools.people_team)?,
        };
        let approver = crate::tickets::pick_other(g, "managers", &pools.managers, &[requester])?;
        let created = work_time(p.created - g.range(6, 14) * DAY, g);
        let summary = match p.kind {
            Kind::Guest => format!(
                "Guest account for {} ({})",
                p.display_name(),
                p.firm.unwrap_or("partner")
            ),
            _ => format!("New starter: accounts and access for {}", p.display_name()),
        };
        let request = AccessRequest {
            key: String::new(),
            summary,
            created,
            approved: created + g.range(HOUR, 30 * HOUR),
            closed: p.created + g.range(10 * MIN, 3 * HOUR),
            requester,
            approver,
        };
        requests.push((Some(i), request));
    }
    // Privileged access of accounts migrated at go-live was requested and approved too.
    for (i, p) in people.iter().enumerate().take(humans) {
        if requests.iter().any(|(x, _)| *x == Some(i)) {
            continue;
        }
        let groups: Vec<&str> = p
            .groups
            .iter()
            .filter_map(|gi| GROUPS.get(*gi))
            .filter(|gr| gr.3)
            .map(|gr| gr.1)
            .collect();
        if groups.is_empty() {
            continue;
        }
        let requester = crate::tickets::pick_other(g, "managers", &pools.managers, &[i])?;
        let approver = crate::tickets::pick_other(g, "security", &pools.security, &[requester, i])?;
        let created = work_time(OKTA_GO_LIVE - g.range(4, 10) * DAY, g);
        let summary = format!(
            "Privileged access for {}: {}",
            p.display_name(),
            groups.join(", ")
        );
        let approved = created + g.range(HOUR, 20 * HOUR);
        let request = AccessRequest {
            key: String::new(),
            summary,
            created,
            approved,
            closed: approved + g.range(HOUR, 6 * HOUR),
            requester,
            approver,
        };
        requests.push((Some(i), request));
    }
    // The sealed AWS root credentials: custody approved when the account was set up.
    let root_request = {
        let requester = *g.pick("sre", &pools.sre)?;
        let approver = crate::tickets::pick_other(g, "security", &pools.security, &[requester])?;
        let created = at(2025, 1, 3, 10, 20);
        AccessRequest {
            key: String::new(),
            summary:
                "Break-glass custody of the AWS root account (sealed credentials, dual control)"
                    .into(),
            created,
            approved: created + 5 * HOUR,
            closed: at(2025, 1, 7, 16, 5),
            requester,
            approver,
        }
    };
    requests.push((None, root_request));
    requests.sort_by_key(|(i, r)| (r.created, *i));
    let (aws_account, mut aws) = aws_users(g, ns, &people, &pools, plants)?;
    for (n, (target, mut request)) in requests.into_iter().enumerate() {
        request.key = ns.key("REQ", 3001, n);
        match target {
            Some(i) => people[i].access_request = Some(request),
            None => {
                if let Some(root) = aws.iter_mut().find(|u| u.root) {
                    root.access_request = Some(request);
                }
            }
        }
    }

    let groups = make_groups(g, ns, &pools)?;
    Ok(Iam {
        people,
        groups,
        aws,
        aws_account,
        pools,
    })
}
