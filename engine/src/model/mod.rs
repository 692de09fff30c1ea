//! The normalized evidence model: one typed vocabulary for every source.
//!
//! The model is a static table ([`ENTITY_TYPES`]) rather than one Rust struct per entity type,
//! because three things must agree on it and must never drift apart: the Cedar schema that
//! policies are validated against ([`crate::schema`]), the validation of entities read from a
//! snapshot ([`value`]), and the field mappings of connectors (attribute names are data).
//! Every attribute is typed; times are stored as RFC 3339 strings in snapshots and handed to
//! Cedar as `Long` seconds since the Unix epoch, so that rules compare and subtract them
//! cheaply (`context.now - resource.last_login_at > context.params.dormant_after`).

mod doc;
mod table;
pub mod value;

pub use doc::reference_markdown;
pub use table::ENTITY_TYPES;
pub use value::{AttrValue, EvidenceEntity, Provenance};

/// The type of one attribute of an entity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    Bool,
    Long,
    String,
    /// One of a closed set of strings.
    Enum(&'static [&'static str]),
    /// An instant; RFC 3339 in snapshots, `Long` epoch seconds in Cedar.
    Time,
    /// A reference to an entity of the named type.
    Ref(&'static str),
    /// A set of strings.
    StringSet,
    /// A set of references to entities of the named type.
    RefSet(&'static str),
}

/// How an attribute gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrOrigin {
    /// Read from the snapshot's entity line.
    Stored,
    /// Derived when the snapshot is loaded: the set of entities of `of_type` whose reference
    /// attribute `via` points at this entity (e.g. an Asset's `backup_jobs` are the BackupJobs
    /// whose `asset` is that Asset). Never written to snapshots, so it can never be stale.
    Inverse {
        of_type: &'static str,
        via: &'static str,
    },
}

/// One attribute of an entity type.
#[derive(Debug, Clone, Copy)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    /// Optional attributes may be absent; rules must test them with `has` (strict validation
    /// enforces it). Sets are always required (empty when there is nothing).
    pub optional: bool,
    pub origin: AttrOrigin,
    pub doc: &'static str,
}

/// One entity type of the model.
#[derive(Debug, Clone, Copy)]
pub struct EntityTypeDef {
    pub name: &'static str,
    pub doc: &'static str,
    /// The entity type this one can be a member of (Cedar `in`), e.g. Identity in Group.
    pub member_of: Option<&'static str>,
    pub attrs: &'static [AttrDef],
}

impl EntityTypeDef {
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// The entity type named `name`, if the model has it.
pub fn entity_type(name: &str) -> Option<&'static EntityTypeDef> {
    ENTITY_TYPES.iter().find(|t| t.name == name)
}

/// The index of an entity type in [`ENTITY_TYPES`]; stable for a given build.
pub fn entity_type_index(name: &str) -> Option<usize> {
    ENTITY_TYPES.iter().position(|t| t.name == name)
}

/// The principal every assessment request is made by, and the one action.
pub const ASSESSOR_TYPE: &str = "Assessor";
pub const ASSESSOR_ID: &str = "conform";
pub const ACTION_ID: &str = "assess";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_inverses_name_real_types_and_attributes() {
        for t in ENTITY_TYPES {
            if let Some(parent) = t.member_of {
                assert!(
                    entity_type(parent).is_some(),
                    "{}: member_of {parent}",
                    t.name
                );
            }
            for a in t.attrs {
                match a.ty {
                    AttrType::Ref(r) | AttrType::RefSet(r) => {
                        assert!(entity_type(r).is_some(), "{}.{} -> {r}", t.name, a.name)
                    }
                    _ => {}
                }
                if let AttrOrigin::Inverse { of_type, via } = a.origin {
                    let other = entity_type(of_type).expect("inverse type");
                    let via_def = other.attr(via).expect("inverse via attribute");
                    assert!(
                        matches!(via_def.ty, AttrType::Ref(x) | AttrType::RefSet(x) if x == t.name),
                        "{}.{} inverse of {of_type}.{via}",
                        t.name,
                        a.name
                    );
                    assert_eq!(a.ty, AttrType::RefSet(of_type));
                }
                if matches!(a.ty, AttrType::StringSet | AttrType::RefSet(_)) {
                    assert!(!a.optional, "{}.{} should be required", t.name, a.name);
                }
            }
        }
    }
}
