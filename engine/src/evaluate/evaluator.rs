//! The one narrow interface between the engine and policy evaluation: the policies of one
//! entity type × one entity → which were satisfied and which errored.
//!
//! [`CedarEvaluator`] implements it with `cedar_policy::Authorizer`. A faster evaluator (several
//! rules per call, or strictly validated Cedar compiled to closures) can replace it behind
//! [`PolicyEvaluator`], checked by differential tests against this one.

use std::collections::HashMap;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, EntityUid, Policy, PolicyId, PolicySet, Request,
};

use crate::model::{ACTION_ID, ASSESSOR_ID, ASSESSOR_TYPE};

/// What the policies of one set said about one entity. Indices are into the slice of policies
/// the evaluator was built from; both lists are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdicts {
    pub satisfied: Vec<usize>,
    pub errors: Vec<(usize, String)>,
}

/// Evaluates a fixed list of policies (all scoped to one entity type) on one entity.
pub trait PolicyEvaluator: Send + Sync {
    fn evaluate(&self, resource: &EntityUid, context: &Context) -> Verdicts;
}

const BASELINE_ID: &str = "conform::baseline-permit";

/// [`PolicyEvaluator`] on Cedar's authorizer: one `is_authorized` call per entity evaluates
/// every policy of the set; the response's reasons and errors give the per-policy verdicts.
pub struct CedarEvaluator<'a> {
    authorizer: Authorizer,
    set: PolicySet,
    index: HashMap<PolicyId, usize>,
    entities: &'a Entities,
    principal: EntityUid,
    action: EntityUid,
}

impl<'a> CedarEvaluator<'a> {
    /// `policies` must have distinct ids. For `forbid` rules a baseline `permit` is added so
    /// that an entity no rule fires on is allowed, never denied by default.
    pub fn new(policies: &[Policy], entities: &'a Entities) -> Result<Self, String> {
        let mut set = PolicySet::new();
        let mut index = HashMap::new();
        for (i, p) in policies.iter().enumerate() {
            index.insert(p.id().clone(), i);
            set.add(p.clone()).map_err(|e| e.to_string())?;
        }
        let baseline = Policy::parse(
            Some(PolicyId::new(BASELINE_ID)),
            "permit (principal, action, resource);",
        )
        .map_err(|e| e.to_string())?;
        set.add(baseline).map_err(|e| e.to_string())?;
        let principal = EntityUid::from_str(&format!("{ASSESSOR_TYPE}::\"{ASSESSOR_ID}\""))
            .map_err(|e| e.to_string())?;
        let action =
            EntityUid::from_str(&format!("Action::\"{ACTION_ID}\"")).map_err(|e| e.to_string())?;
        Ok(Self {
            authorizer: Authorizer::new(),
            set,
            index,
            entities,
            principal,
            action,
        })
    }
}

impl PolicyEvaluator for CedarEvaluator<'_> {
    fn evaluate(&self, resource: &EntityUid, context: &Context) -> Verdicts {
        let request = match Request::new(
            self.principal.clone(),
            self.action.clone(),
            resource.clone(),
            context.clone(),
            None,
        ) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("cannot build the request: {e}");
                return Verdicts {
                    satisfied: Vec::new(),
                    errors: (0..self.index.len()).map(|i| (i, msg.clone())).collect(),
                };
            }
        };
        let response = self
            .authorizer
            .is_authorized(&request, &self.set, self.entities);
        let diagnostics = response.diagnostics();
        let mut satisfied: Vec<usize> = diagnostics
            .reason()
            .filter_map(|id| self.index.get(id).copied())
            .collect();
        let mut errors: Vec<(usize, String)> = diagnostics
            .errors()
            .filter_map(|e| match e {
                cedar_policy::AuthorizationError::PolicyEvaluationError(pe) => self
                    .index
                    .get(pe.policy_id())
                    .map(|i| (*i, pe.inner().to_string())),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .collect();
        satisfied.sort_unstable();
        errors.sort();
        Verdicts { satisfied, errors }
    }
}
