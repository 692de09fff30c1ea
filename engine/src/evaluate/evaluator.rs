//! The one narrow interface between the engine and policy evaluation: the policies of one
//! entity type × one entity → which were satisfied and which errored.
//!
//! [`CedarEvaluator`] implements it with `cedar_policy::Authorizer`. [`CompiledEvaluator`]
//! implements it with the policies compiled from their text to an expression tree evaluated on
//! the snapshot directly (no Cedar entities, no requests); the differential tests
//! (`differential_tests.rs`) check every verdict and error message of it against this one.
//! The passes call the [`EntityEvaluator`] form (entity index, context bound), built by a
//! [`Backend`] for the [`EvaluatorKind`] the assessment selected.

use std::collections::HashMap;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, EntityUid, Policy, PolicyId, PolicySet, Request,
};

pub use super::compiled::CompiledPolicies;
pub use super::native::{CompiledEvaluator, SnapshotView};
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

/// The form the facts and rules passes call: the same policies on the snapshot entity at
/// `index`, with the context the evaluator was built for. [`BoundCedar`] adapts any
/// [`PolicyEvaluator`]; [`CompiledEvaluator`] implements both natively.
pub trait EntityEvaluator: Send + Sync {
    /// Replaces `out`'s verdicts with the entity's, reusing its buffers: the passes call this
    /// once per entity, and a fresh pair of lists each time would be an allocation each.
    fn evaluate_entity_into(&self, index: usize, out: &mut Verdicts);

    fn evaluate_entity(&self, index: usize) -> Verdicts {
        let mut out = Verdicts::default();
        self.evaluate_entity_into(index, &mut out);
        out
    }
}

/// A [`PolicyEvaluator`] bound to the snapshot's Cedar uids and one context.
pub struct BoundCedar<'a, E> {
    pub evaluator: E,
    pub uids: &'a [EntityUid],
    pub context: &'a Context,
}

impl<E: PolicyEvaluator> EntityEvaluator for BoundCedar<'_, E> {
    fn evaluate_entity_into(&self, index: usize, out: &mut Verdicts) {
        *out = self.evaluator.evaluate(&self.uids[index], self.context);
    }
}

/// Which evaluator the passes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvaluatorKind {
    /// `cedar_policy::Authorizer` over Cedar entities built from the snapshot.
    Cedar,
    /// The pack's policies compiled from their text ([`CompiledEvaluator`]), evaluated on the
    /// snapshot directly; Cedar entities are not built. When a policy uses a construct the
    /// compiler does not implement, the whole assessment uses [`EvaluatorKind::Cedar`].
    #[default]
    Compiled,
}

/// What the passes build their evaluators from.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    Cedar {
        entities: &'a Entities,
        uids: &'a [EntityUid],
    },
    Compiled {
        view: SnapshotView<'a>,
        /// The pack's policies, compiled once.
        compiled: &'a CompiledPolicies,
    },
}

impl<'a> Backend<'a> {
    /// An evaluator of `policies` (all on resources of type `resource_type`) with `context`.
    pub fn evaluator(
        &self,
        policies: &[Policy],
        resource_type: usize,
        context: &'a Context,
    ) -> Result<Box<dyn EntityEvaluator + 'a>, String> {
        match *self {
            Backend::Cedar { entities, uids } => Ok(Box::new(BoundCedar {
                evaluator: CedarEvaluator::new(policies, entities)?,
                uids,
                context,
            })),
            Backend::Compiled { view, compiled } => {
                CompiledEvaluator::with_cache(policies, resource_type, view, context, compiled)
                    .map(|e| Box::new(e) as Box<dyn EntityEvaluator + 'a>)
                    .map_err(|u| format!("cannot compile: {}", u.0))
            }
        }
    }
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

/// Every `(policy, resource type)` compiled, or `None` when one of them uses a construct the
/// compiler does not implement.
pub fn compile_all<'p>(
    policies: impl IntoIterator<Item = (&'p Policy, usize)>,
) -> Option<CompiledPolicies> {
    CompiledPolicies::compile(policies).ok()
}
