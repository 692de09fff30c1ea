//! Evidence coverage of attributes. [`super::coverage`] says whether the snapshot holds the
//! entities of a type; this says whether the sources providing them supply the attributes a
//! rule or a fact reads. A source that provides `Identity` but has no MFA data leaves every
//! Identity without `mfa_enabled`, and a rule guarded by `resource has mfa_enabled` would then
//! read as conforming for everyone: missing evidence taken for conformity.
//!
//! What a source supplies is the manifest's `attributes` (what its mapping produces). A source
//! entry without it (older snapshots), or an entity type it wrote without declaring it, is
//! judged by its data: an attribute counts as supplied for a type by that source iff at least
//! one of its entities of that type carries it, all of its entities in the snapshot (a source
//! with no readable entity of the type, or with unreadable records of it, is then not judged:
//! the type's coverage already says its evidence is missing or incomplete). Attributes the model requires are always
//! supplied; an inverse attribute (`Asset.backup_jobs`) is supplied when its forward reference
//! is supplied by a source that is not failed.
//!
//! A (type, attribute) a rule reads that no ok or partial source supplies makes the rule not
//! assessed; one that only some of them supply makes the entities of the others (or whose
//! referenced entities come from the others) not assessed for that rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cedar_policy::Policy;

use super::coverage::Coverage;
use super::facts::{FactResult, FactState};
use super::native::SnapshotView;
use crate::model::{entity_type_index, AttrOrigin, AttrType, EvidenceEntity, ENTITY_TYPES};
use crate::pack::FactDef;
use crate::snapshot::{attributes_carried, Manifest, SourceStatus, Unreadable};

/// Every attribute of every entity type of the model, as a manifest's `attributes`: what an
/// in-memory snapshot that stands for "all evidence is there" declares.
pub fn all_attributes() -> BTreeMap<String, Vec<String>> {
    ENTITY_TYPES
        .iter()
        .map(|t| {
            let mut names: Vec<String> = t
                .attrs
                .iter()
                .filter(|a| a.origin == AttrOrigin::Stored)
                .map(|a| a.name.to_string())
                .collect();
            names.sort();
            (t.name.to_string(), names)
        })
        .collect()
}

/// Which attributes each source of a snapshot supplies, per entity type.
#[derive(Debug, Clone, Default)]
pub struct AttributeCoverage {
    sources: Vec<SourceAttributes>,
    by_name: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
struct SourceAttributes {
    name: String,
    /// Ok or partial: counted when deciding whether any source supplies an attribute.
    counted: bool,
    /// By type index: whether each attribute (by index) is supplied; `None` when the source
    /// neither provides the type nor wrote entities of it.
    types: Vec<Option<Vec<bool>>>,
}

impl AttributeCoverage {
    /// What each source of `manifest` supplies: its `attributes`, or else what its entities
    /// carry (`attributes_from_data`, derived when the snapshot was read, or from `entities`).
    /// A type judged by its data is not judged here when the source has no entity of it or
    /// has unreadable records of it: the type's coverage already says so.
    pub fn new(
        manifest: &Manifest,
        entities: &[EvidenceEntity],
        unreadable: &[Unreadable],
    ) -> Self {
        let names: Vec<String> = manifest.sources.iter().map(|s| s.name.clone()).collect();
        let from_entities = if manifest
            .sources
            .iter()
            .any(|s| s.attributes.is_none() && s.attributes_from_data.is_none())
        {
            attributes_carried(&names, entities)
        } else {
            Vec::new()
        };
        let mut sources = Vec::new();
        for (si, s) in manifest.sources.iter().enumerate() {
            let mut types: Vec<Option<Vec<bool>>> = vec![None; ENTITY_TYPES.len()];
            let provided = s.provides.iter().filter_map(|p| entity_type_index(p));
            let flags_of = |ti: usize, listed: Option<&Vec<String>>| {
                let def = &ENTITY_TYPES[ti];
                match listed {
                    Some(listed) => def
                        .attrs
                        .iter()
                        .map(|a| listed.iter().any(|n| n == a.name))
                        .collect(),
                    None => vec![true; def.attrs.len()],
                }
            };
            match &s.attributes {
                Some(declared) => {
                    let empty = Vec::new();
                    for ti in provided {
                        let listed = declared.get(ENTITY_TYPES[ti].name).unwrap_or(&empty);
                        types[ti] = Some(flags_of(ti, Some(listed)));
                    }
                }
                None => {
                    let data = s.attributes_from_data.as_ref().or(from_entities.get(si));
                    let carried = data
                        .into_iter()
                        .flat_map(|d| d.keys())
                        .filter_map(|t| entity_type_index(t));
                    for ti in provided.chain(carried) {
                        let name = ENTITY_TYPES[ti].name;
                        let tainted = unreadable.iter().any(|u| {
                            u.source == s.name && u.entity_type.as_deref().is_none_or(|t| t == name)
                        });
                        let listed = data.and_then(|d| d.get(name)).filter(|_| !tainted);
                        types[ti] = Some(flags_of(ti, listed));
                    }
                }
            }
            sources.push(SourceAttributes {
                name: s.name.clone(),
                counted: s.status != SourceStatus::Failed,
                types,
            });
        }
        let by_name = sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let mut cov = Self { sources, by_name };
        cov.fill_required_and_inverse();
        cov
    }

    fn fill_required_and_inverse(&mut self) {
        for s in &mut self.sources {
            for (ti, flags) in s.types.iter_mut().enumerate() {
                let Some(flags) = flags else { continue };
                for (ai, a) in ENTITY_TYPES[ti].attrs.iter().enumerate() {
                    if a.origin == AttrOrigin::Stored && !a.optional {
                        flags[ai] = true;
                    }
                }
            }
        }
        for (ti, t) in ENTITY_TYPES.iter().enumerate() {
            for (ai, a) in t.attrs.iter().enumerate() {
                let AttrOrigin::Inverse { of_type, via } = a.origin else {
                    continue;
                };
                let forward = entity_type_index(of_type).and_then(|of| {
                    let via_ai = ENTITY_TYPES[of].attrs.iter().position(|d| d.name == via)?;
                    Some((of, via_ai))
                });
                let supplied = forward.is_some_and(|(of, via_ai)| {
                    self.sources
                        .iter()
                        .any(|s| s.counted && s.types[of].as_ref().is_some_and(|f| f[via_ai]))
                });
                for s in &mut self.sources {
                    if let Some(flags) = &mut s.types[ti] {
                        flags[ai] = supplied;
                    }
                }
            }
        }
    }

    /// Whether `source` supplies attribute `ai` of type `ti`. A source the manifest does not
    /// list, or a type the source neither provides nor wrote, is not judged here (the type's
    /// coverage is).
    pub fn supplies(&self, source: &str, ti: usize, ai: usize) -> bool {
        self.by_name
            .get(source)
            .and_then(|&si| self.sources[si].types[ti].as_ref())
            .is_none_or(|flags| flags.get(ai).copied().unwrap_or(true))
    }

    /// Whether an ok or partial source provides entities of type `ti`.
    fn sourced(&self, ti: usize) -> bool {
        self.sources
            .iter()
            .any(|s| s.counted && s.types[ti].is_some())
    }

    /// The ok or partial sources of type `ti`, split by whether they supply attribute `ai`.
    fn providers(&self, ti: usize, ai: usize) -> (usize, Vec<&str>) {
        let mut supplying = 0;
        let mut lacking = Vec::new();
        for s in self.sources.iter().filter(|s| s.counted) {
            if let Some(flags) = &s.types[ti] {
                if flags[ai] {
                    supplying += 1;
                } else {
                    lacking.push(s.name.as_str());
                }
            }
        }
        (supplying, lacking)
    }

    /// What the attribute paths `paths` (see `pack::reads`) read from `resource` of type
    /// `type_index` are worth as evidence.
    pub fn reads(&self, type_index: usize, paths: &[String]) -> ReadEvidence {
        let chains = chains(type_index, paths);
        let mut unprovided = BTreeSet::new();
        let mut partial: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut partial_chains = Vec::new();
        let mut unsourced = BTreeSet::new();
        for chain in chains {
            let mut crosses_partial = false;
            for (hop, &(ti, ai)) in chain.iter().enumerate() {
                let (supplying, lacking) = self.providers(ti, ai);
                if hop > 0 && !self.sourced(ti) {
                    // every reference into the type dangles: what is read through one is
                    // missing evidence (`has` would be false), so the entities that hold one
                    // are not assessed (the rule's own type is judged by its coverage)
                    crosses_partial = true;
                    unsourced.insert(ENTITY_TYPES[ti].name.to_string());
                    continue;
                }
                if lacking.is_empty() {
                    continue;
                }
                let name = format!(
                    "{}.{}",
                    ENTITY_TYPES[ti].name, ENTITY_TYPES[ti].attrs[ai].name
                );
                if supplying == 0 {
                    unprovided.insert(name);
                } else {
                    crosses_partial = true;
                    partial
                        .entry(name)
                        .or_insert_with(|| lacking.iter().map(|s| s.to_string()).collect());
                }
            }
            if crosses_partial {
                partial_chains.push(chain);
            }
        }
        ReadEvidence {
            unprovided: unprovided.into_iter().collect(),
            partial: partial.into_iter().collect(),
            unsourced: unsourced.into_iter().collect(),
            chains: partial_chains,
        }
    }

    /// What a fact's conditions (and, for `latest`, its value attribute) read.
    pub fn fact_reads(&self, fact: &FactDef) -> ReadEvidence {
        let policies: Vec<&Policy> = std::iter::once(&fact.population)
            .chain(fact.meets.as_ref())
            .collect();
        let mut paths: Vec<String> = policies
            .iter()
            .flat_map(|p| crate::pack::reads::paths(p))
            .collect();
        if let Some(ai) = fact.value_attr {
            if let Some(a) = ENTITY_TYPES[fact.type_index].attrs.get(ai) {
                paths.push(format!("resource.{}", a.name));
            }
        }
        self.reads(fact.type_index, &paths)
    }

    /// Marks as having no evidence every computed or indeterminate fact that reads an
    /// attribute no source supplies, or that some entity of its population lacks because its
    /// source does not supply it.
    pub fn apply_to_facts(
        &self,
        facts: &[FactDef],
        results: &mut [FactResult],
        view: &SnapshotView,
    ) {
        for r in results.iter_mut() {
            if matches!(r.state, FactState::NoEvidence(_)) {
                continue;
            }
            let Some(def) = facts.iter().find(|f| f.name == r.name) else {
                continue;
            };
            let reads = self.fact_reads(def);
            let reason = reads.no_evidence_reason().or_else(|| {
                let unsupplied = view.by_type[def.type_index]
                    .iter()
                    .filter(|&&ei| reads.unsupplied_on(self, view, ei))
                    .count();
                reads.incomplete_reason(unsupplied, def.type_index)
            });
            if let Some(reason) = reason {
                r.value = None;
                r.state = FactState::NoEvidence(reason);
            }
        }
    }
}

/// The (type index, attribute index) hops of each attribute path read from `resource` of type
/// `type_index`, following references: `resource.owner.status` on an Asset is
/// `[(Asset, owner), (Identity, status)]`.
fn chains(type_index: usize, paths: &[String]) -> BTreeSet<Vec<(usize, usize)>> {
    let mut out = BTreeSet::new();
    for path in paths {
        let Some(rest) = path.strip_prefix("resource.") else {
            continue;
        };
        let mut ti = Some(type_index);
        let mut chain = Vec::new();
        for attr in rest.split('.') {
            let Some(t) = ti else { break };
            let Some(ai) = ENTITY_TYPES[t].attrs.iter().position(|a| a.name == attr) else {
                break;
            };
            chain.push((t, ai));
            ti = match ENTITY_TYPES[t].attrs[ai].ty {
                AttrType::Ref(target) => entity_type_index(target),
                _ => None,
            };
        }
        if !chain.is_empty() {
            out.insert(chain);
        }
    }
    out
}

/// The types whose entities reading `paths` from a `resource` of type `type_index` looks up by
/// id: `resource.owner.status` on an Asset looks up an Identity.
pub(crate) fn dereferenced_types(type_index: usize, paths: &[String]) -> BTreeSet<usize> {
    chains(type_index, paths)
        .iter()
        .flat_map(|chain| chain.iter().skip(1).map(|&(ti, _)| ti))
        .collect()
}

/// What the attributes one rule or fact reads are worth as evidence.
#[derive(Debug, Clone, Default)]
pub struct ReadEvidence {
    /// `Type.attr` that no ok or partial source supplies, sorted.
    pub unprovided: Vec<String>,
    /// `Type.attr` that only some of the ok or partial sources of the type supply, with the
    /// sources that do not.
    pub partial: Vec<(String, Vec<String>)>,
    /// Referenced types no ok or partial source provides, sorted.
    pub unsourced: Vec<String>,
    /// The chains that cross a partially supplied attribute or an unsourced type: checked
    /// entity by entity.
    chains: Vec<Vec<(usize, usize)>>,
}

impl ReadEvidence {
    /// Why nothing can be concluded at all: ``no source provides `Identity.mfa_enabled` ``.
    pub fn no_evidence_reason(&self) -> Option<String> {
        (!self.unprovided.is_empty()).then(|| {
            let names: Vec<String> = self.unprovided.iter().map(|n| format!("`{n}`")).collect();
            format!("no source provides {}", names.join(", "))
        })
    }

    /// Why `unsupplied` entities of type `ti` were not assessed, if any were.
    pub fn incomplete_reason(&self, unsupplied: usize, ti: usize) -> Option<String> {
        if unsupplied == 0 {
            return None;
        }
        let gaps: Vec<String> = self
            .partial
            .iter()
            .map(|(attr, sources)| {
                let names: Vec<String> = sources.iter().map(|s| format!("`{s}`")).collect();
                format!(
                    "source{} {} do{} not provide `{attr}`",
                    if sources.len() == 1 { "" } else { "s" },
                    names.join(", "),
                    if sources.len() == 1 { "es" } else { "" }
                )
            })
            .chain(
                self.unsourced
                    .iter()
                    .map(|t| format!("no source provides the `{t}` entities referred to")),
            )
            .collect();
        Some(format!(
            "{}: {unsupplied} `{}` entit{} not assessed",
            gaps.join("; "),
            ENTITY_TYPES[ti].name,
            if unsupplied == 1 { "y" } else { "ies" }
        ))
    }

    /// Whether entity `ei` (or an entity it refers to along a chain read) comes from a source
    /// that does not supply an attribute read: its result would be missing evidence.
    pub fn unsupplied_on(&self, cov: &AttributeCoverage, view: &SnapshotView, ei: usize) -> bool {
        let entities = view.entities;
        self.chains.iter().any(|chain| {
            let mut cur = ei;
            for (hop, &(ti, ai)) in chain.iter().enumerate() {
                let e = &entities[cur];
                if e.type_index != ti {
                    return false;
                }
                if !cov.supplies(&e.provenance.source, ti, ai) {
                    return true;
                }
                let Some((next_ti, _)) = chain.get(hop + 1) else {
                    return false;
                };
                let Some(crate::model::value::AttrRef::Ref(id)) = e.value(ai) else {
                    return false;
                };
                if !cov.sourced(*next_ti) {
                    return true;
                }
                match view.find(*next_ti, id) {
                    Some(i) => cur = i,
                    None => return false,
                }
            }
            false
        })
    }
}

/// `coverage` of a rule's type, made incomplete when `unsupplied` entities were not assessed
/// because their source does not supply an attribute the rule reads.
pub fn rule_coverage(coverage: &Coverage, reason: Option<String>) -> Coverage {
    match (coverage, reason) {
        (c, None) | (c @ Coverage::Missing(_), _) => c.clone(),
        (Coverage::Complete, Some(r)) => Coverage::Incomplete(r),
        (Coverage::Incomplete(c), Some(r)) => Coverage::Incomplete(format!("{c}; {r}")),
    }
}
