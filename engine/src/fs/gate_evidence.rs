//! The deployment gate's evidence read through the snapshot index: each question the gate
//! asks is a few index lookups and a few verified entity lines, whatever the snapshot's size.

use std::collections::BTreeSet;

use super::snapshot_index::IndexedSnapshot;
use crate::gate::{GateEvidence, Handle, ServiceField};
use crate::model::{entity_type_index, EvidenceEntity, ENTITY_TYPES};
use crate::snapshot::index::IndexError;
use crate::snapshot::{Manifest, Unreadable};

fn ti(name: &str) -> usize {
    entity_type_index(name).unwrap_or(usize::MAX)
}

impl IndexedSnapshot {
    fn find_all(&mut self, type_name: &str, ids: Vec<String>) -> Result<Vec<Handle>, IndexError> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(h) = self.find(ti(type_name), &id)? {
                out.push(h);
            }
        }
        Ok(out)
    }
}

impl GateEvidence for IndexedSnapshot {
    fn manifest(&self) -> &Manifest {
        IndexedSnapshot::manifest(self)
    }

    fn unreadable(&self) -> &[Unreadable] {
        &self.index().unreadable
    }

    fn counts(&self) -> Vec<usize> {
        ENTITY_TYPES
            .iter()
            .map(|t| self.index().counts.get(t.name).copied().unwrap_or(0))
            .collect()
    }

    fn get(&self, h: Handle) -> &EvidenceEntity {
        self.entity(h)
    }

    fn find(&mut self, type_index: usize, id: &str) -> Result<Option<Handle>, IndexError> {
        IndexedSnapshot::find(self, type_index, id)
    }

    fn services_by(&mut self, field: ServiceField, value: &str) -> Result<Vec<Handle>, IndexError> {
        let field = match field {
            ServiceField::Name => "name",
            ServiceField::IdSuffix => "id_suffix",
        };
        let ids = self.lookup("Service", field, value)?;
        self.find_all("Service", ids)
    }

    fn tickets_by_key(&mut self, key: &str) -> Result<Vec<Handle>, IndexError> {
        let ids = self.lookup("Ticket", "key", key)?;
        self.find_all("Ticket", ids)
    }

    fn tickets_referring(
        &mut self,
        targets: &[(usize, String, &'static str)],
    ) -> Result<BTreeSet<Handle>, IndexError> {
        let mut ids = Vec::new();
        for (t, id, attr) in targets {
            let Some(def) = ENTITY_TYPES.get(*t) else {
                continue;
            };
            for r in self.refs_to(def.name, id)? {
                if r.2 == "Ticket" && r.4 == *attr {
                    ids.push(r.3);
                }
            }
        }
        ids.sort();
        ids.dedup();
        Ok(self.find_all("Ticket", ids)?.into_iter().collect())
    }
}
