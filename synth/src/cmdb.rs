//! The CMDB: configuration items and services in ServiceNow (`cmdb_ci*`, `cmdb_ci_service`).

use crate::clock::{at, days_from_civil, DAY, HOUR, NOW};
use crate::iam::Iam;
use crate::org::SupplierSpec;
use crate::rng::Gen;
use crate::unit::{Ns, Plant};
use crate::SynthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Server,
    Vm,
    Application,
    Database,
    Network,
    Endpoint,
    Storage,
    Cloud,
}

impl Class {
    pub fn model(self) -> &'static str {
        match self {
            Class::Server => "server",
            Class::Vm => "virtual_machine",
            Class::Application => "application",
            Class::Database => "database",
            Class::Network => "network",
            Class::Endpoint => "endpoint",
            Class::Storage => "storage",
            Class::Cloud => "cloud_service",
        }
    }
}

/// (os, version, vendor end of support)
pub type Platform = (&'static str, &'static str, Option<(i64, i64, i64)>);

const UBU24: Platform = ("Linux", "Ubuntu 24.04 LTS", Some((2029, 5, 31)));
const UBU22: Platform = ("Linux", "Ubuntu 22.04 LTS", Some((2027, 6, 1)));
const UBU20: Platform = ("Linux", "Ubuntu 20.04 LTS", Some((2025, 5, 31)));
const DEB12: Platform = ("Linux", "Debian 12", Some((2028, 6, 30)));
const WIN22: Platform = ("Windows", "Windows Server 2022", Some((2031, 10, 14)));
const WIN12: Platform = ("Windows", "Windows Server 2012 R2", None);
const PG16: Platform = ("PostgreSQL", "16.4", Some((2028, 11, 9)));
const PG13: Platform = ("PostgreSQL", "13.14", Some((2025, 11, 13)));
const MYSQL84: Platform = ("MySQL", "8.4.2", Some((2032, 4, 30)));
const FORTI: Platform = ("FortiOS", "7.4.4", Some((2027, 9, 30)));
const ARISTA: Platform = ("Arista EOS", "4.32.2F", Some((2028, 3, 31)));
const TRUENAS: Platform = ("TrueNAS SCALE", "24.10.2", Some((2027, 4, 30)));
const WIN11: Platform = (
    "Windows",
    "Windows 11 Enterprise 24H2",
    Some((2027, 10, 12)),
);
const MAC15: Platform = ("macOS", "15.6", None);
const SAAS: Platform = ("", "", None);

/// How an asset is planted, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Twist {
    None,
    NoOwner,
    FormerOwner,
    DanglingOwner,
    EndOfLife,
    NoBackup,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub class: Class,
    pub env: &'static str,
    pub crit: &'static str,
    pub data: bool,
    pub backup: bool,
    pub platform: Platform,
    pub service: Option<&'static str>,
    /// Backup jobs: `r` restic, `b` borg.
    pub jobs: &'static str,
    pub lifecycle: &'static str,
    pub in_scope: bool,
    pub supplier: Option<&'static str>,
    pub twist: Twist,
    /// When a retired / disposed asset left service, or a planned one was ordered.
    pub since: Option<(i64, i64, i64)>,
}

#[allow(clippy::too_many_arguments)]
const fn a(
    name: &'static str,
    class: Class,
    env: &'static str,
    crit: &'static str,
    flags: &'static str,
    platform: Platform,
    service: &'static str,
    jobs: &'static str,
) -> Spec {
    let f = flags.as_bytes();
    let data = !f.is_empty();
    let backup = f.len() == 2;
    Spec {
        name,
        class,
        env,
        crit,
        data,
        backup,
        platform,
        service: if service.is_empty() {
            None
        } else {
            Some(service)
        },
        jobs,
        lifecycle: "active",
        in_scope: true,
        supplier: None,
        twist: Twist::None,
        since: None,
    }
}

impl Spec {
    const fn life(mut self, lifecycle: &'static str, since: (i64, i64, i64)) -> Self {
        self.lifecycle = lifecycle;
        self.since = Some(since);
        self
    }
    const fn out_of_scope(mut self) -> Self {
        self.in_scope = false;
        self
    }
    const fn supplier(mut self, s: &'static str) -> Self {
        self.supplier = Some(s);
        self
    }
    const fn twist(mut self, t: Twist) -> Self {
        self.twist = t;
        self
    }
}

use Class::*;

const P: &str = "production";
const S: &str = "staging";
const CRIT: &str = "critical";
const HIGH: &str = "high";
const MED: &str = "medium";
const LOW: &str = "low";
/// Data-bearing and backup required / data-bearing only / neither.
const DB: &str = "DB";
const D: &str = "D";
const N: &str = "";

/// One unit's configuration items. Endpoints are added by [`generate`].
pub const ASSETS: &[Spec] = &[
    a("pay-api-01", Vm, P, CRIT, D, UBU24, "payments-api", ""),
    a("pay-api-02", Vm, P, CRIT, D, UBU24, "payments-api", ""),
    a(
        "pay-db-01",
        Database,
        P,
        CRIT,
        DB,
        PG16,
        "payments-api",
        "rb",
    ),
    a(
        "pay-db-02",
        Database,
        P,
        CRIT,
        DB,
        PG16,
        "payments-api",
        "rb",
    ),
    a("pay-mq-01", Vm, P, CRIT, DB, DEB12, "payments-api", "rb"),
    a("pay-api-stg-01", Vm, S, HIGH, D, UBU24, "payments-api", ""),
    a("pay-db-03", Database, P, CRIT, D, PG16, "payments-api", "").life("planned", (2026, 11, 9)),
    a(
        "portal-web-01",
        Vm,
        P,
        CRIT,
        D,
        UBU22,
        "customer-portal",
        "",
    ),
    a(
        "portal-web-02",
        Vm,
        P,
        CRIT,
        D,
        UBU22,
        "customer-portal",
        "",
    ),
    a(
        "portal-db-01",
        Database,
        P,
        CRIT,
        DB,
        PG16,
        "customer-portal",
        "rb",
    ),
    a(
        "portal-redis-01",
        Vm,
        P,
        HIGH,
        D,
        DEB12,
        "customer-portal",
        "",
    ),
    a(
        "portal-web-stg-01",
        Vm,
        S,
        MED,
        D,
        UBU22,
        "customer-portal",
        "",
    ),
    a(
        "portal-db-stg-01",
        Database,
        S,
        MED,
        DB,
        PG16,
        "customer-portal",
        "r",
    ),
    a(
        "cloudflare-zone",
        Cloud,
        P,
        HIGH,
        D,
        SAAS,
        "customer-portal",
        "",
    )
    .supplier("SUP-006"),
    a(
        "bkp-store-01",
        Storage,
        P,
        CRIT,
        DB,
        UBU24,
        "managed-backup",
        "b",
    ),
    a(
        "bkp-store-02",
        Storage,
        P,
        CRIT,
        DB,
        UBU24,
        "managed-backup",
        "b",
    ),
    a("bkp-proxy-01", Vm, P, HIGH, N, UBU24, "managed-backup", ""),
    a(
        "offsite-borg",
        Cloud,
        P,
        HIGH,
        D,
        SAAS,
        "managed-backup",
        "",
    )
    .supplier("SUP-007"),
    a("k8s-cp-01", Vm, P, CRIT, DB, UBU24, "managed-hosting", "rb"),
    a("k8s-cp-02", Vm, P, CRIT, DB, UBU24, "managed-hosting", "r"),
    a("k8s-cp-03", Vm, P, CRIT, DB, UBU24, "managed-hosting", "r"),
    a("k8s-node-01", Vm, P, HIGH, N, UBU24, "managed-hosting", ""),
    a("k8s-node-02", Vm, P, HIGH, N, UBU24, "managed-hosting", ""),
    a("k8s-node-03", Vm, P, HIGH, N, UBU24, "managed-hosting", ""),
    a("k8s-node-04", Vm, P, HIGH, N, UBU24, "managed-hosting", ""),
    a("k8s-node-05", Vm, P, HIGH, N, UBU24, "managed-hosting", ""),
    a("k8s-node-06", Vm, P, HIGH, N, UBU24, "managed-hosting", ""),
    a(
        "ceph-osd-01",
        Storage,
        P,
        CRIT,
        DB,
        UBU24,
        "managed-hosting",
        "r",
    ),
    a(
        "ceph-osd-02",
        Storage,
        P,
        CRIT,
        DB,
        UBU24,
        "managed-hosting",
        "r",
    ),
    a(
        "ceph-osd-03",
        Storage,
        P,
        CRIT,
        DB,
        UBU24,
        "managed-hosting",
        "r",
    ),
    a(
        "fw-edge-01",
        Network,
        P,
        CRIT,
        N,
        FORTI,
        "managed-hosting",
        "",
    ),
    a(
        "fw-edge-02",
        Network,
        P,
        CRIT,
        N,
        FORTI,
        "managed-hosting",
        "",
    ),
    a(
        "core-sw-01",
        Network,
        P,
        HIGH,
        N,
        ARISTA,
        "managed-hosting",
        "",
    ),
    a(
        "core-sw-02",
        Network,
        P,
        HIGH,
        N,
        ARISTA,
        "managed-hosting",
        "",
    ),
    a(
        "aws-prod-account",
        Cloud,
        P,
        CRIT,
        D,
        SAAS,
        "managed-hosting",
        "",
    )
    .supplier("SUP-001"),
    a("okta-tenant", Cloud, P, CRIT, D, SAAS, "identity-sso", "").supplier("SUP-002"),
    a("vault-01", Vm, P, CRIT, DB, UBU24, "identity-sso", "rb"),
    a("vault-02", Vm, P, CRIT, DB, UBU24, "identity-sso", "r"),
    a("vault-03", Vm, P, CRIT, DB, UBU24, "identity-sso", "r"),
    a("dc-01", Server, P, CRIT, DB, WIN22, "identity-sso", "rb"),
    a("dc-02", Server, P, CRIT, DB, WIN22, "identity-sso", "r"),
    a("mon-prom-01", Vm, P, HIGH, DB, UBU24, "monitoring", "r"),
    a("mon-graf-01", Vm, P, MED, DB, UBU24, "monitoring", "r").twist(Twist::NoOwner),
    a("mon-alert-01", Vm, P, HIGH, N, UBU24, "monitoring", ""),
    a("log-es-01", Vm, P, HIGH, DB, UBU22, "monitoring", "r"),
    a("log-es-02", Vm, P, HIGH, DB, UBU22, "monitoring", "r"),
    a("log-es-03", Vm, P, HIGH, DB, UBU22, "monitoring", "r"),
    a("log-es-04", Vm, P, HIGH, DB, UBU22, "monitoring", "r").life("maintenance", (2026, 11, 18)),
    a("pagerduty", Cloud, P, HIGH, D, SAAS, "monitoring", "").supplier("SUP-008"),
    a("jira-cloud", Cloud, P, HIGH, D, SAAS, "service-desk", "").supplier("SUP-004"),
    a("dwh-db-01", Database, P, HIGH, DB, PG16, "reporting", "rb"),
    a("etl-01", Vm, P, MED, DB, UBU24, "reporting", "r").twist(Twist::FormerOwner),
    a("report-db-01", Database, P, MED, DB, PG13, "reporting", "r").twist(Twist::EndOfLife),
    a("m365-tenant", Cloud, P, HIGH, D, SAAS, "email-collab", "").supplier("SUP-003"),
    a(
        "sftp-gw-01",
        Vm,
        P,
        HIGH,
        DB,
        UBU20,
        "secure-file-transfer",
        "r",
    )
    .twist(Twist::EndOfLife),
    a(
        "sftp-store-01",
        Storage,
        P,
        HIGH,
        DB,
        UBU24,
        "secure-file-transfer",
        "r",
    ),
    a("gitlab-01", Vm, P, HIGH, DB, UBU24, "ci-cd", "rb"),
    a("ci-runner-01", Vm, P, MED, N, UBU24, "ci-cd", ""),
    a("ci-runner-02", Vm, P, MED, N, UBU24, "ci-cd", ""),
    a("ci-runner-03", Vm, P, MED, N, UBU24, "ci-cd", "").twist(Twist::NoOwner),
    a("registry-01", Vm, P, MED, DB, UBU24, "ci-cd", "r"),
    a(
        "files-01",
        Storage,
        P,
        HIGH,
        DB,
        TRUENAS,
        "corporate-it",
        "rb",
    )
    .twist(Twist::FormerOwner),
    a("nas-02", Storage, P, MED, DB, TRUENAS, "corporate-it", "r").twist(Twist::NoOwner),
    a(
        "hr-files-01",
        Storage,
        P,
        HIGH,
        DB,
        TRUENAS,
        "corporate-it",
        "",
    )
    .twist(Twist::NoBackup),
    a(
        "crm-db-01",
        Database,
        P,
        HIGH,
        DB,
        MYSQL84,
        "corporate-it",
        "",
    )
    .twist(Twist::NoBackup),
    a("print-01", Server, P, LOW, N, WIN22, "corporate-it", ""),
    a("vpn-gw-01", Network, P, HIGH, N, FORTI, "corporate-it", "").twist(Twist::DanglingOwner),
    a("dev-k8s-01", Vm, "development", LOW, N, UBU24, "", "").out_of_scope(),
    a("test-db-01", Database, "test", LOW, D, PG16, "", "").out_of_scope(),
    a("sandbox-01", Vm, "development", LOW, N, UBU24, "", "").out_of_scope(),
    a(
        "legacy-crm-01",
        Server,
        P,
        MED,
        D,
        WIN12,
        "legacy-crm-hosting",
        "",
    )
    .life("retired", (2026, 3, 2)),
    a("old-file-01", Storage, P, MED, D, TRUENAS, "", "").life("disposed", (2025, 10, 20)),
    a("NW-LT-0087", Endpoint, P, MED, D, WIN11, "", "").life("disposed", (2026, 6, 15)),
    a("old-fw-01", Network, P, HIGH, N, FORTI, "", "").life("disposed", (2026, 1, 28)),
];

const ENDPOINTS: usize = 10;

/// (slug, name, criticality, status, availability target in basis points)
pub const SERVICES: &[(&str, &str, &str, &str, i64)] = &[
    ("payments-api", "Payments API", CRIT, "live", 9995),
    ("customer-portal", "Customer Portal", CRIT, "live", 9990),
    ("managed-backup", "Managed Backup", CRIT, "live", 9990),
    (
        "managed-hosting",
        "Managed Hosting Platform",
        CRIT,
        "live",
        9995,
    ),
    ("identity-sso", "Identity & SSO", CRIT, "live", 9999),
    ("service-desk", "Service Desk", HIGH, "live", 9950),
    ("monitoring", "Monitoring & Alerting", HIGH, "live", 9950),
    (
        "reporting",
        "Customer Reporting & Analytics",
        MED,
        "live",
        9900,
    ),
    ("email-collab", "Email & Collaboration", HIGH, "live", 9990),
    (
        "secure-file-transfer",
        "Secure File Transfer",
        HIGH,
        "live",
        9950,
    ),
    ("ci-cd", "Build & Release Pipeline", MED, "live", 9900),
    ("corporate-it", "Corporate IT", MED, "live", 9900),
    ("ai-triage", "AI Ticket Triage", LOW, "pipeline", 0),
    (
        "legacy-crm-hosting",
        "Legacy CRM Hosting",
        MED,
        "retired",
        0,
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Person(usize),
    Missing,
    /// An e-mail address with no Okta account behind it.
    Dangling(String),
}

pub struct Asset {
    pub id: String,
    pub name: String,
    pub sys_id: String,
    pub spec: Spec,
    pub owner: Owner,
    pub owner_sys_id: String,
    pub classification: Option<&'static str>,
    pub ip: String,
    pub created: i64,
    pub updated: i64,
    pub discovered: Option<i64>,
    pub disposal_ticket: Option<String>,
    pub service: Option<usize>,
}

impl Asset {
    pub fn end_of_life(&self) -> Option<i64> {
        self.spec
            .platform
            .2
            .map(|(y, m, d)| days_from_civil(y, m, d) * DAY)
    }

    pub fn active(&self) -> bool {
        self.spec.lifecycle == "active"
    }
}

pub struct Service {
    pub id: String,
    pub slug: &'static str,
    pub name: String,
    pub sys_id: String,
    pub crit: &'static str,
    pub status: &'static str,
    pub availability_bp: i64,
    pub owner: usize,
    pub components: Vec<usize>,
    pub last_report: Option<i64>,
    pub last_continuity_test: Option<i64>,
    pub last_capacity_review: Option<i64>,
    pub availability_measured_bp: Option<i64>,
    pub sla_sys_id: String,
    pub updated: i64,
}

pub struct Cmdb {
    pub assets: Vec<Asset>,
    pub services: Vec<Service>,
}

impl Cmdb {
    pub fn by_name(&self, base: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.spec.name == base)
    }
}

pub fn asset_id(ns: &Ns, base: &str) -> String {
    format!("servicenow-cmdb:{}", ns.host(base))
}

/// Generates the unit's CIs and services and plants the CMDB nonconformities.
pub fn generate(
    g: &mut Gen,
    ns: &Ns,
    iam: &Iam,
    suppliers: &[SupplierSpec],
    plants: &mut Vec<Plant>,
) -> Result<Cmdb, SynthError> {
    let mut specs: Vec<Spec> = ASSETS.to_vec();
    for i in 0..ENDPOINTS {
        let name: &'static str = ENDPOINT_NAMES.get(i).copied().unwrap_or("NW-LT-0199");
        let platform = if i % 3 == 2 { MAC15 } else { WIN11 };
        specs.push(a(name, Endpoint, P, MED, D, platform, "corporate-it", ""));
    }
    let mut former = iam.pools.former.iter();
    let mut assets = Vec::new();
    for spec in specs {
        let name = ns.host(spec.name);
        let id = asset_id(ns, spec.name);
        let pool = if spec.class == Endpoint {
            &iam.pools.clean
        } else {
            &iam.pools.owners
        };
        let owner = match spec.twist {
            Twist::NoOwner => Owner::Missing,
            Twist::FormerOwner => {
                Owner::Person(*former.next().ok_or(SynthError::EmptyPool("former staff"))?)
            }
            Twist::DanglingOwner => Owner::Dangling(format!("r.kowalski@{}", ns.domain())),
            _ => Owner::Person(*g.pick("owners", pool)?),
        };
        let since = spec
            .since
            .map(|(y, m, d)| days_from_civil(y, m, d) * DAY + 10 * HOUR);
        let created = match (spec.lifecycle, since) {
            ("planned", Some(t)) => t,
            _ => at(2025, 1, 15, 9, 0) + g.range(0, 160) * DAY + g.range(0, 8 * HOUR),
        };
        let (updated, discovered) = match (spec.lifecycle, since) {
            ("active" | "maintenance", _) if spec.class == Cloud => {
                (NOW - g.range(1, 25) * DAY, None)
            }
            ("active" | "maintenance", _) => (
                NOW - g.range(1, 25) * DAY,
                Some(NOW - g.range(2 * HOUR, 5 * DAY)),
            ),
            (_, Some(t)) => (t + g.range(1, 5) * DAY, Some(t - g.range(1, 3) * DAY)),
            _ => (NOW - g.range(1, 25) * DAY, None),
        };
        let classification = spec.data.then_some(match spec.crit {
            CRIT => "Restricted",
            HIGH | MED => "Confidential",
            _ => "Internal",
        });
        let classification = if spec.class == Endpoint {
            Some("Internal")
        } else {
            classification
        };
        let detail = |what: String| Plant::new("", "Asset", id.clone(), what);
        match &spec.twist {
            Twist::NoOwner => plants.push(Plant {
                rule: "cmdb.asset-without-owner",
                ..detail(format!(
                    "in-scope active {} with an empty owned_by",
                    spec.class.model()
                ))
            }),
            Twist::FormerOwner => {
                let who = match &owner {
                    Owner::Person(i) => iam.id_of(*i)?,
                    _ => String::new(),
                };
                plants.push(Plant {
                    rule: "cmdb.owner-not-active",
                    ..detail(format!("owned by {who}, DEPROVISIONED in Okta"))
                })
            }
            Twist::DanglingOwner => plants.push(
                Plant {
                    rule: "cmdb.owner-not-active",
                    ..detail(format!(
                        "owned_by r.kowalski@{}: no such identity in the snapshot",
                        ns.domain()
                    ))
                }
                .indeterminate(),
            ),
            Twist::EndOfLife => plants.push(Plant {
                rule: "cmdb.end-of-life-in-production",
                ..detail(format!(
                    "{} {} in production, vendor support ended {}",
                    spec.platform.0,
                    spec.platform.1,
                    spec.platform
                        .2
                        .map_or(String::new(), |(y, m, d)| format!("{y}-{m:02}-{d:02}"))
                ))
            }),
            Twist::NoBackup => plants.push(Plant {
                rule: "backup.missing-for-required-asset",
                ..detail("backup_required, active, no restic or borg job".to_string())
            }),
            Twist::None => {}
        }
        if let Some(code) = spec.supplier {
            if !suppliers.iter().any(|x| x.code == code) {
                return Err(SynthError::EmptyPool("supplier code"));
            }
        }
        assets.push(Asset {
            id,
            name,
            sys_id: g.hex(32),
            spec,
            owner,
            owner_sys_id: g.hex(32),
            classification,
            ip: format!(
                "10.{}.{}.{}",
                20 + ns.k % 200,
                g.range(1, 30),
                g.range(10, 250)
            ),
            created,
            updated,
            discovered,
            disposal_ticket: None,
            service: None,
        });
    }
    let mut services = Vec::new();
    for (si, (slug, name, crit, status, bp)) in SERVICES.iter().enumerate() {
        let components: Vec<usize> = assets
            .iter()
            .enumerate()
            .filter(|(_, x)| x.spec.service == Some(slug))
            .map(|(i, _)| i)
            .collect();
        for c in &components {
            if let Some(x) = assets.get_mut(*c) {
                x.service = Some(si);
            }
        }
        services.push(Service {
            id: asset_id(ns, slug),
            slug,
            name: ns.label(name),
            sys_id: g.hex(32),
            crit,
            status,
            availability_bp: *bp,
            owner: *g.pick("owners", &iam.pools.owners)?,
            components,
            last_report: (*status == "live").then(|| at(2026, 11, 5, 9, 0) + g.range(0, 6 * HOUR)),
            last_continuity_test: None,
            last_capacity_review: (*status == "live").then(|| NOW - g.range(20, 150) * DAY),
            availability_measured_bp: (*status == "live" && *bp > 0)
                .then(|| (bp + g.range(0, (10_000 - bp) * 3 / 4)).min(10_000)),
            sla_sys_id: g.hex(32),
            updated: NOW - g.range(2, 40) * DAY,
        });
    }
    Ok(Cmdb { assets, services })
}

const ENDPOINT_NAMES: &[&str] = &[
    "NW-LT-0101",
    "NW-LT-0102",
    "NW-LT-0103",
    "NW-LT-0104",
    "NW-LT-0105",
    "NW-LT-0106",
    "NW-LT-0107",
    "NW-LT-0108",
    "NW-LT-0109",
    "NW-LT-0110",
];
