//! ServiceNow Table API records (`cmdb_ci*`, `cmdb_ci_service`) and their entities.

use conform_engine::fs::SourceWriter;
use serde_json::{json, Value};

use crate::clock::{date, snow};
use crate::cmdb::{Asset, Class, Cmdb, Owner, Service};
use crate::ent::{emit, Counts, Ent};
use crate::iam::Iam;
use crate::unit::Ns;
use crate::SynthError;

const INSTANCE: &str = "https://northwind.service-now.com/api/now/table";

fn reference(table: &str, sys_id: &str) -> Value {
    json!({ "link": format!("{INSTANCE}/{table}/{sys_id}"), "value": sys_id })
}

fn class_name(x: &Asset) -> &'static str {
    let (os, _, _) = x.spec.platform;
    match x.spec.class {
        Class::Server if os == "Windows" => "cmdb_ci_win_server",
        Class::Server => "cmdb_ci_linux_server",
        Class::Vm => "cmdb_ci_vm_instance",
        Class::Application => "cmdb_ci_appl",
        Class::Database if os == "MySQL" => "cmdb_ci_db_mysql_instance",
        Class::Database => "cmdb_ci_db_postgresql_instance",
        Class::Network if x.spec.name.contains("fw") || x.spec.name.contains("vpn") => {
            "cmdb_ci_ip_firewall"
        }
        Class::Network => "cmdb_ci_ip_switch",
        Class::Endpoint => "cmdb_ci_computer",
        Class::Storage => "cmdb_ci_storage_server",
        Class::Cloud => "cmdb_ci_cloud_service_account",
    }
}

fn install_status(lifecycle: &str) -> (&'static str, &'static str) {
    match lifecycle {
        "maintenance" => ("3", ""),
        "planned" => ("2", ""),
        "retired" => ("7", ""),
        "disposed" => ("7", "disposed"),
        _ => ("1", ""),
    }
}

fn criticality_wire(c: &str) -> &'static str {
    match c {
        "critical" => "1 - most critical",
        "high" => "2 - somewhat critical",
        "medium" => "3 - less critical",
        _ => "4 - not critical",
    }
}

fn env_wire(e: &str) -> &'static str {
    match e {
        "production" => "Production",
        "staging" => "Staging",
        "test" => "Test",
        _ => "Development",
    }
}

fn owner_email(iam: &Iam, owner: &Owner) -> Result<Option<String>, SynthError> {
    Ok(match owner {
        Owner::Person(i) => Some(iam.person(*i)?.email.clone()),
        Owner::Dangling(e) => Some(e.clone()),
        Owner::Missing => None,
    })
}

fn asset_record(ns: &Ns, iam: &Iam, x: &Asset) -> Result<Value, SynthError> {
    let email = owner_email(iam, &x.owner)?;
    let owner_sys = match &x.owner {
        Owner::Person(i) => iam.person(*i)?.sys_id.clone(),
        _ => x.owner_sys_id.clone(),
    };
    let (status, substatus) = install_status(x.spec.lifecycle);
    let host = x.spec.class != Class::Cloud;
    let flag = |b: bool| if b { "true" } else { "false" };
    Ok(json!({
        "sys_id": x.sys_id,
        "name": x.name,
        "sys_class_name": class_name(x),
        "install_status": status,
        "hardware_substatus": substatus,
        "operational_status": if x.active() { "1" } else { "2" },
        "environment": env_wire(x.spec.env),
        "business_criticality": criticality_wire(x.spec.crit),
        "owned_by": if email.is_some() { reference("sys_user", &owner_sys) } else { json!("") },
        "owned_by.email": email.unwrap_or_default(),
        "host_name": if host { x.name.clone() } else { String::new() },
        "fqdn": if host { format!("{}.nw.internal", x.name) } else { String::new() },
        "ip_address": if host { x.ip.clone() } else { String::new() },
        "os": x.spec.platform.0,
        "os_version": x.spec.platform.1,
        "u_end_of_support": x.end_of_life().map(date).unwrap_or_default(),
        "u_isms_scope": flag(x.spec.in_scope),
        "u_data_bearing": flag(x.spec.data),
        "u_backup_required": flag(x.spec.backup),
        "u_data_classification": x.classification.unwrap_or(""),
        "vendor": match x.spec.supplier {
            Some(_) => reference("core_company", &x.owner_sys_id),
            None => json!(""),
        },
        "vendor.u_supplier_id": x.spec.supplier.map(|s| format!("{s}{}", ns.sfx())).unwrap_or_default(),
        "u_disposal_record": x.disposal_ticket.clone().unwrap_or_default(),
        "last_discovered": x.discovered.map(snow).unwrap_or_default(),
        "sys_created_on": snow(x.created),
        "sys_updated_on": snow(x.updated),
    }))
}

fn asset_entity(ns: &Ns, iam: &Iam, x: &Asset) -> Result<Ent, SynthError> {
    let owner = owner_email(iam, &x.owner)?.map(|e| format!("okta-prod:{e}"));
    let host = x.spec.class != Class::Cloud;
    let os = (!x.spec.platform.0.is_empty()).then_some(x.spec.platform.0);
    let os_version = (!x.spec.platform.1.is_empty()).then_some(x.spec.platform.1);
    Ok(Ent::new("Asset", x.id.clone(), x.name.clone())
        .s("class", x.spec.class.model())
        .s("lifecycle", x.spec.lifecycle)
        .s("environment", x.spec.env)
        .s("criticality", x.spec.crit)
        .b("in_scope", x.spec.in_scope)
        .b("data_bearing", x.spec.data)
        .b("backup_required", x.spec.backup)
        .os("owner", owner)
        .os("classification", x.classification.map(str::to_lowercase))
        .os("hostname", host.then(|| x.name.clone()))
        .os("os", os)
        .os("os_version", os_version)
        .ot("end_of_life_at", x.end_of_life())
        .ot("last_discovered_at", x.discovered)
        .t("updated_at", x.updated)
        .os("disposal_ticket", x.disposal_ticket.clone())
        .os(
            "supplier",
            x.spec
                .supplier
                .map(|s| format!("org-register:{s}{}", ns.sfx())),
        ))
}

fn service_record(iam: &Iam, cmdb: &Cmdb, s: &Service) -> Result<Value, SynthError> {
    let owner = iam.person(s.owner)?;
    let names: Vec<&str> = s
        .components
        .iter()
        .filter_map(|i| cmdb.assets.get(*i))
        .map(|a| a.name.as_str())
        .collect();
    let ids: Vec<&str> = s
        .components
        .iter()
        .filter_map(|i| cmdb.assets.get(*i))
        .map(|a| a.sys_id.as_str())
        .collect();
    let live = s.status == "live";
    Ok(json!({
        "sys_id": s.sys_id,
        "name": s.name,
        "sys_class_name": "cmdb_ci_service",
        "service_classification": "Business Service",
        "life_cycle_stage": match s.status { "live" => "Operational", "pipeline" => "Design", _ => "End of Life" },
        "operational_status": if live { "1" } else { "2" },
        "busines_criticality": criticality_wire(s.crit),
        "owned_by": reference("sys_user", &owner.sys_id),
        "owned_by.email": owner.email,
        "u_in_catalog": if live { "true" } else { "false" },
        "sla": if live { reference("contract_sla", &s.sla_sys_id) } else { json!("") },
        "u_availability_target": if s.availability_bp > 0 { format!("{:.2}", s.availability_bp as f64 / 100.0) } else { String::new() },
        "u_last_service_report": s.last_report.map(snow).unwrap_or_default(),
        "u_last_continuity_test": s.last_continuity_test.map(snow).unwrap_or_default(),
        "u_last_capacity_review": s.last_capacity_review.map(snow).unwrap_or_default(),
        "u_availability_measured_30d": s.availability_measured_bp.map(|bp| format!("{:.2}", bp as f64 / 100.0)).unwrap_or_default(),
        "u_components": { "display_value": names.join(","), "value": ids.join(",") },
        "sys_updated_on": snow(s.updated),
    }))
}

fn service_entity(iam: &Iam, cmdb: &Cmdb, s: &Service) -> Result<Ent, SynthError> {
    let live = s.status == "live";
    let components: Vec<String> = s
        .components
        .iter()
        .filter_map(|i| cmdb.assets.get(*i))
        .map(|a| a.id.clone())
        .collect();
    let ent = Ent::new("Service", s.id.clone(), s.name.clone())
        .s("status", s.status)
        .s("criticality", s.crit)
        .b("in_catalogue", live)
        .b("sla_defined", live)
        .s("owner", iam.id_of(s.owner)?)
        .set("components", components)
        .ot("last_report_at", s.last_report)
        .ot("last_continuity_test_at", s.last_continuity_test)
        .ot("last_capacity_review_at", s.last_capacity_review);
    let ent = match s.availability_measured_bp {
        Some(bp) => ent.n("availability_measured_bp", bp),
        None => ent,
    };
    Ok(if s.availability_bp > 0 {
        ent.n("availability_target_bp", s.availability_bp)
    } else {
        ent
    })
}

/// Writes the `servicenow-cmdb` source's records and entities for one unit.
pub fn write(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    ns: &Ns,
    iam: &Iam,
    cmdb: &Cmdb,
) -> Result<(), SynthError> {
    for x in &cmdb.assets {
        emit(
            src,
            counts,
            &asset_record(ns, iam, x)?,
            &x.sys_id,
            [asset_entity(ns, iam, x)?],
        )?;
    }
    for s in &cmdb.services {
        emit(
            src,
            counts,
            &service_record(iam, cmdb, s)?,
            &s.sys_id,
            [service_entity(iam, cmdb, s)?],
        )?;
    }
    Ok(())
}
