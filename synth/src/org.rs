//! The organisation register (source `org-register`, kind `csv`): the organisation itself,
//! suppliers, controlled documents and the risk register, each record one CSV row as a JSON
//! object keyed by the column names.

use conform_engine::fs::SourceWriter;
use serde_json::{json, Value};

use crate::clock::{at, date, days_from_civil, midnight, DAY, NOW};
use crate::ent::{emit, Counts, Ent};
use crate::iam::Iam;
use crate::rng::Gen;
use crate::unit::{Ns, Plant};
use crate::SynthError;

pub const ORG_ID: &str = "org-register:northwind-services";
pub const ORG_NAME: &str = "Northwind Services Ltd";
pub const ORG_SCOPE: &str = "The design, delivery and support of managed hosting, managed backup, \
     payments API and service desk services to business customers, from the London and \
     Manchester offices and the LD5 and AWS eu-west-2 hosting locations, including the \
     supporting IT, people and supplier processes.";

#[derive(Debug, Clone, Copy)]
pub struct SupplierSpec {
    pub code: &'static str,
    pub name: &'static str,
    pub service: &'static str,
    pub crit: &'static str,
    pub status: &'static str,
    pub cloud: bool,
    pub contract_end: (i64, i64, i64),
    /// Days before the collection of the last review; `None` picks a recent one.
    pub reviewed_days_ago: Option<i64>,
}

const fn s(
    code: &'static str,
    name: &'static str,
    service: &'static str,
    crit: &'static str,
    status: &'static str,
    cloud: bool,
    contract_end: (i64, i64, i64),
) -> SupplierSpec {
    SupplierSpec {
        code,
        name,
        service,
        crit,
        status,
        cloud,
        contract_end,
        reviewed_days_ago: None,
    }
}

pub const SUPPLIERS: &[SupplierSpec] = &[
    s(
        "SUP-001",
        "Amazon Web Services EMEA SARL",
        "IaaS hosting, eu-west-2",
        "critical",
        "active",
        true,
        (2027, 12, 31),
    ),
    s(
        "SUP-002",
        "Okta Inc.",
        "Workforce identity (SSO, MFA)",
        "critical",
        "active",
        true,
        (2027, 6, 30),
    ),
    s(
        "SUP-003",
        "Microsoft Ireland Operations Ltd",
        "Microsoft 365",
        "high",
        "active",
        true,
        (2027, 3, 31),
    ),
    s(
        "SUP-004",
        "Atlassian Pty Ltd",
        "Jira Service Management",
        "high",
        "active",
        true,
        (2027, 9, 30),
    ),
    SupplierSpec {
        reviewed_days_ago: Some(612),
        ..s(
            "SUP-005",
            "Equinix (UK) Ltd",
            "Colocation, LD5 data centre",
            "critical",
            "active",
            false,
            (2028, 3, 31),
        )
    },
    s(
        "SUP-006",
        "Cloudflare Ltd",
        "DNS, CDN and DDoS protection",
        "high",
        "active",
        true,
        (2027, 1, 31),
    ),
    s(
        "SUP-007",
        "Hetzner Online GmbH",
        "Off-site backup storage boxes",
        "high",
        "active",
        true,
        (2027, 5, 31),
    ),
    s(
        "SUP-008",
        "PagerDuty Inc.",
        "On-call alerting",
        "medium",
        "active",
        true,
        (2027, 2, 28),
    ),
    s(
        "SUP-009",
        "Stripe Payments UK Ltd",
        "Card payment processing",
        "critical",
        "active",
        true,
        (2028, 1, 31),
    ),
    s(
        "SUP-010",
        "Iron Mountain (UK) plc",
        "Media destruction",
        "medium",
        "active",
        false,
        (2027, 8, 31),
    ),
    s(
        "SUP-011",
        "NCC Group plc",
        "Penetration testing",
        "medium",
        "active",
        false,
        (2027, 4, 30),
    ),
    s(
        "SUP-012",
        "Rackspace Technology",
        "Legacy CRM hosting (exited)",
        "low",
        "offboarded",
        true,
        (2026, 2, 28),
    ),
    s(
        "SUP-013",
        "Datadog Inc.",
        "Observability platform (evaluation)",
        "medium",
        "onboarding",
        true,
        (2027, 11, 30),
    ),
];

/// The supplier table (the CMDB checks its cloud services' suppliers against it).
pub fn suppliers(_ns: &Ns) -> Vec<SupplierSpec> {
    SUPPLIERS.to_vec()
}

const DOCUMENTS: &[(&str, &str, &str)] = &[
    ("DOC-001", "Information Security Policy", "policy"),
    ("DOC-002", "Service Management Policy", "policy"),
    ("DOC-003", "Access Control Policy", "policy"),
    ("DOC-004", "Backup and Restore Policy", "policy"),
    ("DOC-005", "Change Management Procedure", "procedure"),
    (
        "DOC-006",
        "Incident and Major Incident Procedure",
        "procedure",
    ),
    (
        "DOC-007",
        "Business Continuity and Disaster Recovery Plan",
        "plan",
    ),
    ("DOC-008", "Supplier Management Procedure", "procedure"),
    ("DOC-009", "Risk Register", "register"),
    ("DOC-010", "Statement of Applicability", "register"),
];

/// (id, title, status, level)
const RISKS: &[(&str, &str, &str, &str)] = &[
    (
        "RSK-001",
        "Ransomware encrypts production and backup data",
        "treating",
        "critical",
    ),
    (
        "RSK-002",
        "Compromise of privileged cloud credentials",
        "treating",
        "high",
    ),
    (
        "RSK-003",
        "Loss of the LD5 colocation site",
        "accepted",
        "medium",
    ),
    (
        "RSK-004",
        "Regional outage of AWS eu-west-2",
        "treating",
        "high",
    ),
    (
        "RSK-005",
        "Insider exfiltration of customer data",
        "open",
        "high",
    ),
    (
        "RSK-006",
        "Unpatched internet-facing systems",
        "treating",
        "high",
    ),
    (
        "RSK-007",
        "Failed change causes a payments outage",
        "treating",
        "medium",
    ),
    ("RSK-008", "Loss of key SRE staff", "accepted", "medium"),
    (
        "RSK-009",
        "Social engineering of service desk staff",
        "open",
        "medium",
    ),
    (
        "RSK-010",
        "Misconfigured storage bucket exposes customer data",
        "treating",
        "high",
    ),
    (
        "RSK-011",
        "DDoS against the customer portal",
        "accepted",
        "low",
    ),
    (
        "RSK-012",
        "Restores do not meet the agreed RTO",
        "open",
        "medium",
    ),
    (
        "RSK-013",
        "Late personal-data breach notification",
        "closed",
        "low",
    ),
    (
        "RSK-014",
        "Capacity exhaustion of the hosting cluster",
        "open",
        "medium",
    ),
    (
        "RSK-015",
        "Compromised third-party library (supply chain)",
        "closed",
        "low",
    ),
];

pub struct Supplier {
    pub spec: SupplierSpec,
    pub owner: usize,
    pub last_review: i64,
}

pub struct Document {
    pub id: &'static str,
    pub title: &'static str,
    pub kind: &'static str,
    pub owner: usize,
    pub approver: usize,
    pub approved: i64,
    pub version: String,
}

pub struct Risk {
    pub id: &'static str,
    pub title: &'static str,
    pub status: &'static str,
    pub level: &'static str,
    pub owner: usize,
    pub reviewed: i64,
    pub due: Option<i64>,
}

pub struct Register {
    pub suppliers: Vec<Supplier>,
    pub documents: Vec<Document>,
    pub risks: Vec<Risk>,
}

pub fn generate(
    g: &mut Gen,
    ns: &Ns,
    iam: &Iam,
    specs: Vec<SupplierSpec>,
    plants: &mut Vec<Plant>,
) -> Result<Register, SynthError> {
    let pools = &iam.pools;
    let mut suppliers = Vec::new();
    for spec in specs {
        let last_review = match spec.reviewed_days_ago {
            Some(d) => midnight(NOW - d * DAY),
            None => midnight(NOW - g.range(20, 330) * DAY),
        };
        if spec.reviewed_days_ago.is_some() {
            plants.push(Plant::new(
                "supplier.review-overdue",
                "Supplier",
                format!("org-register:{}{}", spec.code, ns.sfx()),
                format!(
                    "critical active supplier ({}) last reviewed {}, 20 months ago",
                    spec.name,
                    date(last_review)
                ),
            ));
        }
        suppliers.push(Supplier {
            spec,
            owner: *g.pick("owners", &pools.owners)?,
            last_review,
        });
    }
    let mut documents = Vec::new();
    for (id, title, kind) in DOCUMENTS {
        let owner = *g.pick("owners", &pools.owners)?;
        let approver = crate::tickets::pick_other(g, "cab", &pools.cab, &[owner])?;
        documents.push(Document {
            id,
            title,
            kind,
            owner,
            approver,
            approved: midnight(NOW - g.range(20, 300) * DAY),
            version: format!("{}.{}", g.range(1, 4), g.range(0, 5)),
        });
    }
    let mut risks = Vec::new();
    for (id, title, status, level) in RISKS {
        risks.push(Risk {
            id,
            title,
            status,
            level,
            owner: *g.pick("owners", &pools.owners)?,
            reviewed: midnight(NOW - g.range(10, 200) * DAY),
            due: matches!(*status, "open" | "treating")
                .then(|| midnight(NOW + g.range(20, 200) * DAY)),
        });
    }
    Ok(Register {
        suppliers,
        documents,
        risks,
    })
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

/// Writes the `org-register` source for one unit; unit 0 also carries the Organization row
/// and the one deliberately malformed risk line. Returns the number of malformed lines.
pub fn write(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    ns: &Ns,
    iam: &Iam,
    reg: &Register,
) -> Result<u64, SynthError> {
    let sfx = ns.sfx();
    if ns.k == 0 {
        let raw = json!({
            "org_id": "NW",
            "legal_name": ORG_NAME,
            "company_number": "11873029",
            "registered_office": "4th Floor, 18 Finsbury Square, London EC2A 1AH",
            "isms_scope": ORG_SCOPE,
        });
        let ent = Ent::new("Organization", ORG_ID, ORG_NAME)
            .s("name", ORG_NAME)
            .s("scope", ORG_SCOPE);
        emit(src, counts, &raw, "NW", [ent])?;
    }
    for sup in &reg.suppliers {
        let sp = &sup.spec;
        let code = format!("{}{sfx}", sp.code);
        let owner = iam.person(sup.owner)?;
        let (y, m, d) = sp.contract_end;
        let contract_end = days_from_civil(y, m, d) * DAY;
        let active = sp.status == "active";
        let status_wire = match sp.status {
            "active" => "Active",
            "onboarding" => "Onboarding",
            _ => "Offboarded",
        };
        let raw = json!({
            "supplier_id": code,
            "name": sp.name,
            "service": sp.service,
            "status": status_wire,
            "criticality": match sp.crit { "critical" => "Critical", "high" => "High", "medium" => "Medium", _ => "Low" },
            "relationship_owner": owner.email,
            "cloud_service": yes_no(sp.cloud),
            "security_clauses": yes_no(sp.status != "onboarding"),
            "exit_plan": yes_no(active || sp.status == "offboarded"),
            "contract_end": date(contract_end),
            "last_review": date(sup.last_review),
        });
        let ent = Ent::new("Supplier", format!("org-register:{code}"), sp.name)
            .s("status", sp.status)
            .s("criticality", sp.crit)
            .s("owner", owner.identity_id())
            .b("cloud_service", sp.cloud)
            .b("security_clauses", sp.status != "onboarding")
            .b("exit_plan", active || sp.status == "offboarded")
            .t("contract_end_at", contract_end)
            .t("last_review_at", sup.last_review);
        emit(src, counts, &raw, &code, [ent])?;
    }
    for doc in &reg.documents {
        let code = format!("{}{sfx}", doc.id);
        let owner = iam.person(doc.owner)?;
        let approver = iam.person(doc.approver)?;
        let next = doc.approved + 365 * DAY;
        let raw = json!({
            "doc_id": code,
            "title": doc.title,
            "type": doc.kind,
            "status": "Approved",
            "version": doc.version,
            "owner": owner.email,
            "approver": approver.email,
            "approved_on": date(doc.approved),
            "next_review": date(next),
        });
        let ent = Ent::new("Document", format!("org-register:{code}"), doc.title)
            .s("kind", doc.kind)
            .s("status", "approved")
            .s("owner", owner.identity_id())
            .s("approver", approver.identity_id())
            .t("approved_at", doc.approved)
            .t("next_review_at", next)
            .s("version", doc.version.clone());
        emit(src, counts, &raw, &code, [ent])?;
    }
    for r in &reg.risks {
        let code = format!("{}{sfx}", r.id);
        let owner = iam.person(r.owner)?;
        let raw = risk_row(
            &code,
            r.title,
            r.status,
            r.level,
            &owner.email,
            r.reviewed,
            r.due,
        );
        let ent = Ent::new("Risk", format!("org-register:{code}"), r.title)
            .s("status", r.status)
            .s("level", r.level)
            .s("owner", owner.identity_id())
            .t("last_reviewed_at", r.reviewed)
            .ot("treatment_due_at", r.due);
        emit(src, counts, &raw, &code, [ent])?;
    }
    if ns.k != 0 {
        return Ok(0);
    }
    // The deliberately malformed line: a risk level outside the model's enum. It is written
    // directly (not counted as an entity): the engine must report it as unreadable.
    let owner = iam.person(
        *iam.pools
            .owners
            .first()
            .ok_or(SynthError::EmptyPool("owners"))?,
    )?;
    let reviewed = at(2026, 10, 2, 0, 0);
    let title = "Legacy FTP service exposed to the internet";
    let raw = risk_row(
        "RSK-016",
        title,
        "open",
        "Severe",
        &owner.email,
        reviewed,
        None,
    );
    let bytes = serde_json::to_vec(&raw)?;
    let sha = src.record(&bytes)?;
    let ent = Ent::new("Risk", "org-register:RSK-016", title)
        .s("status", "open")
        .raw("level", json!("severe"))
        .s("owner", owner.identity_id())
        .t("last_reviewed_at", reviewed);
    ent.declare_on(src);
    src.entity(&ent.into_line("RSK-016", &sha))?;
    Ok(1)
}

fn risk_row(
    code: &str,
    title: &str,
    status: &str,
    level: &str,
    owner: &str,
    reviewed: i64,
    due: Option<i64>,
) -> Value {
    let cap = |s: &str| -> String {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    };
    json!({
        "risk_id": code,
        "title": title,
        "status": cap(status),
        "level": cap(level),
        "owner": owner,
        "last_reviewed": date(reviewed),
        "treatment_due": due.map(date).unwrap_or_default(),
        "treatment_plan": if due.is_some() { "See treatment plan in the risk register workbook" } else { "" },
    })
}
