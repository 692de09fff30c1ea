//! The entity types of the normalized model. Adding an attribute here adds it to the Cedar
//! schema, to snapshot validation and to the model reference in `docs/model.md` at once.

use super::AttrType::{Bool, Enum, Long, Ref, RefSet, String as Str, StringSet, Time};
use super::{AttrDef, AttrOrigin, AttrType, EntityTypeDef};

const fn req(name: &'static str, ty: AttrType, doc: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        optional: false,
        origin: AttrOrigin::Stored,
        doc,
    }
}

const fn opt(name: &'static str, ty: AttrType, doc: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        optional: true,
        origin: AttrOrigin::Stored,
        doc,
    }
}

const fn inverse(
    name: &'static str,
    of_type: &'static str,
    via: &'static str,
    doc: &'static str,
) -> AttrDef {
    AttrDef {
        name,
        ty: RefSet(of_type),
        optional: false,
        origin: AttrOrigin::Inverse { of_type, via },
        doc,
    }
}

const CRITICALITY: AttrType = Enum(&["critical", "high", "medium", "low"]);

pub const ENTITY_TYPES: &[EntityTypeDef] = &[
    EntityTypeDef {
        name: "Organization",
        doc: "The organisation whose management system is assessed; one per snapshot. \
              Population rules (facts) are evaluated with it as the resource.",
        member_of: None,
        attrs: &[
            req("name", Str, "Legal or trading name."),
            opt(
                "scope",
                Str,
                "Scope statement of the integrated management system.",
            ),
        ],
    },
    EntityTypeDef {
        name: "Identity",
        doc: "An account in an identity source (IdP, directory, cloud IAM): a person's, a \
              service's or a guest's.",
        member_of: Some("Group"),
        attrs: &[
            req(
                "kind",
                Enum(&["human", "service", "guest"]),
                "Who the account is for.",
            ),
            req(
                "status",
                Enum(&[
                    "active",
                    "staged",
                    "suspended",
                    "locked",
                    "disabled",
                    "deprovisioned",
                ]),
                "Lifecycle state, normalized across sources.",
            ),
            req("login", Str, "Login name or user principal name."),
            opt("email", Str, "E-mail address."),
            opt(
                "employee_id",
                Str,
                "HR employee number, for joins with the HR feed.",
            ),
            req(
                "privileged",
                Bool,
                "Holds an administrative role or privileged group.",
            ),
            req("break_glass", Bool, "Root or emergency-access account."),
            req(
                "mfa_enrolled",
                Bool,
                "At least one active second factor is registered.",
            ),
            req(
                "mfa_methods",
                StringSet,
                "Active factor kinds: push, totp, webauthn, hardware, sms, voice, email.",
            ),
            opt("created_at", Time, "When the account was created."),
            opt(
                "last_login_at",
                Time,
                "Last successful interactive sign-in.",
            ),
            opt("status_changed_at", Time, "When `status` last changed."),
            opt(
                "password_changed_at",
                Time,
                "When the password was last changed.",
            ),
            opt(
                "terminated_at",
                Time,
                "HR termination date of the person, when known.",
            ),
            opt(
                "owner",
                Ref("Identity"),
                "Accountable person for a service account.",
            ),
            opt(
                "sponsor",
                Ref("Identity"),
                "Internal sponsor of a guest account.",
            ),
            opt(
                "expires_at",
                Time,
                "Planned expiry of a guest or temporary account.",
            ),
            opt(
                "access_request",
                Ref("Ticket"),
                "The request that approved this account.",
            ),
            opt(
                "last_awareness_training_at",
                Time,
                "Latest completion of the information security awareness training (LMS or HR \
                 feed).",
            ),
            inverse(
                "credentials",
                "Credential",
                "identity",
                "Credentials of this account.",
            ),
        ],
    },
    EntityTypeDef {
        name: "Group",
        doc: "A group or role in an identity source; Identities are members (`in`).",
        member_of: None,
        attrs: &[
            req("kind", Enum(&["group", "role"]), "Group or role."),
            req(
                "privileged",
                Bool,
                "Membership grants administrative rights.",
            ),
            opt("owner", Ref("Identity"), "Accountable owner of the group."),
        ],
    },
    EntityTypeDef {
        name: "Credential",
        doc: "A non-interactive credential of an Identity: access key, API token, certificate.",
        member_of: None,
        attrs: &[
            req(
                "kind",
                Enum(&["access_key", "api_token", "certificate", "ssh_key"]),
                "Kind.",
            ),
            req("identity", Ref("Identity"), "The account it authenticates."),
            req("active", Bool, "Usable now."),
            opt("created_at", Time, "When it was issued."),
            opt("last_rotated_at", Time, "When it was last rotated."),
            opt("last_used_at", Time, "When it was last used."),
        ],
    },
    EntityTypeDef {
        name: "Asset",
        doc: "A configuration item: server, virtual machine, application, database, network \
              device, endpoint, storage or cloud service.",
        member_of: None,
        attrs: &[
            req(
                "class",
                Enum(&[
                    "server",
                    "virtual_machine",
                    "application",
                    "database",
                    "network",
                    "endpoint",
                    "storage",
                    "cloud_service",
                ]),
                "CI class.",
            ),
            req(
                "lifecycle",
                Enum(&[
                    "planned",
                    "active",
                    "maintenance",
                    "retired",
                    "disposed",
                    "discovered",
                ]),
                "Install status, normalized; `discovered`: found by discovery and not yet \
                 reconciled with the inventory.",
            ),
            req(
                "environment",
                Enum(&["production", "staging", "test", "development"]),
                "Environment.",
            ),
            req("criticality", CRITICALITY, "Business criticality."),
            req(
                "in_scope",
                Bool,
                "Within the scope of the management system.",
            ),
            req("data_bearing", Bool, "Stores or processes information."),
            req(
                "backup_required",
                Bool,
                "Backup is required by the backup policy.",
            ),
            opt("owner", Ref("Identity"), "Accountable owner."),
            opt("classification", Str, "Information classification label."),
            opt(
                "hostname",
                Str,
                "Host name, for joins with backup and monitoring.",
            ),
            opt("os", Str, "Operating system or platform."),
            opt("os_version", Str, "Operating system or platform version."),
            opt(
                "end_of_life_at",
                Time,
                "Vendor end of support of its OS or software.",
            ),
            opt("last_discovered_at", Time, "Last seen by discovery."),
            opt("first_discovered_at", Time, "First seen by discovery."),
            opt("updated_at", Time, "Last update of the CI record."),
            opt(
                "disposal_ticket",
                Ref("Ticket"),
                "Disposal or sanitisation record.",
            ),
            opt(
                "supplier",
                Ref("Supplier"),
                "Provider of a cloud or outsourced service.",
            ),
            inverse(
                "backup_jobs",
                "BackupJob",
                "asset",
                "Backup jobs protecting this asset.",
            ),
            inverse(
                "services",
                "Service",
                "components",
                "Services this asset is part of.",
            ),
        ],
    },
    EntityTypeDef {
        name: "Service",
        doc: "A service in the service catalogue, made of Assets.",
        member_of: None,
        attrs: &[
            req(
                "status",
                Enum(&["pipeline", "live", "retired"]),
                "Catalogue lifecycle.",
            ),
            req("criticality", CRITICALITY, "Business criticality."),
            req("in_catalogue", Bool, "Published in the service catalogue."),
            req("sla_defined", Bool, "An agreed, active SLA exists."),
            opt(
                "availability_target_bp",
                Long,
                "Agreed availability, in basis points.",
            ),
            opt("owner", Ref("Identity"), "Service owner."),
            req(
                "components",
                RefSet("Asset"),
                "Configuration items the service is made of.",
            ),
            opt(
                "last_report_at",
                Time,
                "Last service report delivered to the customer.",
            ),
            opt(
                "last_continuity_test_at",
                Time,
                "Last continuity or DR test.",
            ),
            opt(
                "availability_measured_bp",
                Long,
                "Availability measured over the latest reporting period, in basis points.",
            ),
            opt(
                "last_capacity_review_at",
                Time,
                "Last capacity review or update of the capacity plan.",
            ),
        ],
    },
    EntityTypeDef {
        name: "Ticket",
        doc: "A record in a ticketing system: incident, request, problem, change, security \
              incident, corrective action, audit, review, test. Kind-specific attributes are \
              optional.",
        member_of: None,
        attrs: &[
            req(
                "kind",
                Enum(&[
                    "incident",
                    "service_request",
                    "problem",
                    "change",
                    "security_incident",
                    "corrective_action",
                    "internal_audit",
                    "management_review",
                    "access_review",
                    "restore_test",
                    "continuity_test",
                    "vulnerability",
                    "improvement",
                    "disposal",
                ]),
                "Ticket kind, mapped from the source's issue type or table.",
            ),
            req(
                "status",
                Enum(&[
                    "new",
                    "open",
                    "in_progress",
                    "pending",
                    "resolved",
                    "closed",
                    "cancelled",
                ]),
                "Workflow state, normalized.",
            ),
            req("key", Str, "The ticket's key or number in its source."),
            opt(
                "priority",
                Enum(&["p1", "p2", "p3", "p4", "p5"]),
                "Priority.",
            ),
            opt(
                "severity",
                CRITICALITY,
                "Severity (security incidents, vulnerabilities).",
            ),
            req("major", Bool, "Flagged as a major incident."),
            opt("category", Str, "Category."),
            req("created_at", Time, "Opened."),
            opt("updated_at", Time, "Last updated."),
            opt("triaged_at", Time, "First triage or assignment."),
            opt("resolved_at", Time, "Resolved."),
            opt("closed_at", Time, "Closed."),
            opt("due_at", Time, "Due date or SLA target."),
            opt(
                "sla_breached",
                Bool,
                "The source's SLA engine marked it breached.",
            ),
            opt("requester", Ref("Identity"), "Requested by."),
            opt("assignee", Ref("Identity"), "Assigned to."),
            opt(
                "approver",
                Ref("Identity"),
                "Approved by (changes, requests).",
            ),
            opt("implementer", Ref("Identity"), "Implemented by (changes)."),
            req(
                "approval",
                Enum(&["not_required", "requested", "approved", "rejected"]),
                "Approval state.",
            ),
            opt("approved_at", Time, "When approval was granted."),
            opt(
                "change_type",
                Enum(&["standard", "normal", "emergency"]),
                "Change model.",
            ),
            opt("risk", CRITICALITY, "Assessed change risk."),
            req("backout_plan", Bool, "A backout plan is documented."),
            req("test_plan", Bool, "A test plan is documented."),
            opt(
                "planned_start_at",
                Time,
                "Planned implementation window start.",
            ),
            opt("planned_end_at", Time, "Planned implementation window end."),
            opt("implemented_at", Time, "Actual implementation start."),
            opt(
                "outcome",
                Enum(&["successful", "partial", "failed"]),
                "Result (close code).",
            ),
            opt(
                "reviewed_at",
                Time,
                "Post-implementation or post-incident review held.",
            ),
            req("lessons_learned", Bool, "Lessons learned recorded."),
            req(
                "root_cause",
                Bool,
                "Root cause recorded (problems, corrective actions).",
            ),
            req(
                "effectiveness_verified",
                Bool,
                "Effectiveness of a corrective action verified.",
            ),
            req("known_error", Bool, "Problem recorded as a known error."),
            req("workaround", Bool, "Workaround documented."),
            req(
                "pii_involved",
                Bool,
                "Personal data involved (security incidents).",
            ),
            opt(
                "notification_decided_at",
                Time,
                "Breach-notification decision recorded.",
            ),
            opt(
                "forensic",
                Bool,
                "Flagged for legal or forensic follow-up: evidence must be preserved (security \
                 incidents).",
            ),
            opt(
                "evidence_collected_at",
                Time,
                "Evidence collected and preserved with its chain of custody.",
            ),
            req("affected", RefSet("Asset"), "Configuration items affected."),
            opt("service", Ref("Service"), "Service affected or delivered."),
            opt("problem", Ref("Ticket"), "Linked problem record."),
        ],
    },
    EntityTypeDef {
        name: "BackupJob",
        doc: "A backup repository or job protecting one asset (restic, borg, ...), with the \
              state of its latest runs.",
        member_of: None,
        attrs: &[
            req("tool", Str, "Backup tool: restic, borg, ..."),
            req(
                "repository",
                Str,
                "Repository location, without credentials.",
            ),
            opt("asset", Ref("Asset"), "The asset it protects."),
            req("encrypted", Bool, "The repository is encrypted."),
            opt(
                "last_success_at",
                Time,
                "End of the latest successful backup.",
            ),
            opt("last_run_at", Time, "Start of the latest attempted backup."),
            opt(
                "last_status",
                Enum(&["success", "warning", "failed"]),
                "Latest run status.",
            ),
            opt("last_check_at", Time, "Latest repository integrity check."),
            opt("last_check_ok", Bool, "The latest integrity check passed."),
            opt(
                "oldest_restore_point_at",
                Time,
                "Oldest restorable point kept.",
            ),
            inverse("runs", "BackupRun", "job", "Recorded runs of the job."),
        ],
    },
    EntityTypeDef {
        name: "BackupRun",
        doc: "One run of a BackupJob.",
        member_of: None,
        attrs: &[
            req("job", Ref("BackupJob"), "The job."),
            req("started_at", Time, "Start."),
            opt("ended_at", Time, "End."),
            req(
                "status",
                Enum(&["success", "warning", "failed"]),
                "Outcome.",
            ),
            opt("exit_code", Long, "Exit code of the tool."),
            opt("incident", Ref("Ticket"), "Incident raised for a failure."),
        ],
    },
    EntityTypeDef {
        name: "RestoreTest",
        doc: "A test restore from a backup.",
        member_of: None,
        attrs: &[
            opt("job", Ref("BackupJob"), "The backup restored from."),
            opt("asset", Ref("Asset"), "The asset restored."),
            req("performed_at", Time, "When it was performed."),
            req("outcome", Enum(&["success", "failed"]), "Result."),
            opt("rto_achieved", Bool, "The recovery time objective was met."),
            opt("ticket", Ref("Ticket"), "The ticket recording it."),
        ],
    },
    EntityTypeDef {
        name: "Supplier",
        doc: "An external supplier or cloud service provider.",
        member_of: None,
        attrs: &[
            req(
                "status",
                Enum(&["active", "onboarding", "offboarded"]),
                "Relationship state.",
            ),
            req("criticality", CRITICALITY, "Criticality to the services."),
            opt("owner", Ref("Identity"), "Internal relationship owner."),
            req("cloud_service", Bool, "Provides a cloud service."),
            req(
                "security_clauses",
                Bool,
                "Contract has information security clauses.",
            ),
            req("exit_plan", Bool, "An exit plan is documented."),
            opt("contract_end_at", Time, "Contract end."),
            opt(
                "last_review_at",
                Time,
                "Last supplier performance and security review.",
            ),
        ],
    },
    EntityTypeDef {
        name: "Document",
        doc: "A controlled document of the management system: policy, procedure, plan.",
        member_of: None,
        attrs: &[
            req(
                "kind",
                Enum(&[
                    "policy",
                    "procedure",
                    "plan",
                    "register",
                    "report",
                    "change_model",
                ]),
                "Kind; `change_model`: a standard change model (pre-authorised change template).",
            ),
            req(
                "status",
                Enum(&["draft", "approved", "retired"]),
                "Approval state.",
            ),
            opt("owner", Ref("Identity"), "Document owner."),
            opt(
                "approver",
                Ref("Identity"),
                "Who approved the current version.",
            ),
            opt("approved_at", Time, "Approval of the current version."),
            opt("next_review_at", Time, "Next scheduled review."),
            opt("version", Str, "Current version label."),
        ],
    },
    EntityTypeDef {
        name: "Risk",
        doc: "An entry of the risk register.",
        member_of: None,
        attrs: &[
            req(
                "status",
                Enum(&["open", "treating", "accepted", "closed"]),
                "State.",
            ),
            req("level", CRITICALITY, "Current risk level."),
            opt("owner", Ref("Identity"), "Risk owner."),
            opt("last_reviewed_at", Time, "Last review."),
            opt("treatment_due_at", Time, "Due date of the treatment plan."),
        ],
    },
];
