//! The model as a `proptest-state-machine` reference machine.
//!
//! [`Machine`] generates sequences of [`Step`]s from the current [`Model`]:
//! which steps are possible depends on what exists (only a live flow can be
//! started; a deleted one can still be deleted again, to see the 404), and
//! [`Model::accepts`] is the precondition that keeps shrunk sequences
//! possible. Everything a step carries is generated here, component ids
//! included, so one seed gives one set of sequences whatever the server
//! answers.
//!
//! proptest draws a whole sequence before the first of its steps is sent,
//! and goes on drawing cases it has no use for once the run has stopped.
//! [`draw_while`] tells the machine, on the thread that draws, when the run
//! no longer wants sequences; from then on drawing fails at the next step,
//! which ends proptest's runner.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::NewTree;
use proptest::test_runner::TestRunner;
use proptest_state_machine::ReferenceStateMachine;
use serde_json::{Value, json};

use crate::model::state::{Area, FieldsUpdate, Handle, Model, Step, TaskStatus, WEBHOOK_TYPE};
use crate::model::text;
use crate::pattern::pattern;

/// The services accounts are created for.
pub const SERVICES: &[&str] = &["appmixer:slack", "appmixer:jira", "appmixer:utils:ftp"];

/// The chart types of the spec's `ChartType`.
pub const CHART_TYPES: &[&str] = &["bar", "line", "scatter", "area", "pie"];

/// Flow categories (`customFields.category`); one has a colon, which a
/// `filter` value must keep.
pub const CATEGORIES: &[&str] = &["crm", "sales", "ops:eu"];

/// The reference state machine of the API.
#[derive(Debug, Clone, Copy)]
pub struct Machine;

thread_local! {
    /// Whether the run this thread draws sequences for still wants them.
    /// proptest calls the machine through plain functions, so the answer
    /// lives beside them rather than in them.
    static WANTED: RefCell<Option<Box<dyn Fn() -> bool>>> = const { RefCell::new(None) };
}

/// Lets the machine draw steps on this thread only while `wanted` says
/// so, until the returned guard is dropped.
pub fn draw_while(wanted: impl Fn() -> bool + 'static) -> DrawWhile {
    WANTED.with(|slot| *slot.borrow_mut() = Some(Box::new(wanted)));
    DrawWhile(PhantomData)
}

/// Keeps [`draw_while`]'s condition in force on this thread; dropping it
/// lets the machine draw unconditionally again. It cannot leave the thread
/// (the pointer marker), whose condition it clears.
#[derive(Debug)]
#[must_use = "the condition holds only while the guard lives"]
pub struct DrawWhile(PhantomData<*const ()>);

impl Drop for DrawWhile {
    fn drop(&mut self) {
        WANTED.with(|slot| *slot.borrow_mut() = None);
    }
}

fn still_wanted() -> bool {
    WANTED.with(|slot| slot.borrow().as_ref().is_none_or(|wanted| wanted()))
}

/// What the machine draws once the run wants no more steps: nothing. An
/// error is the one way a strategy can make proptest's runner give up.
#[derive(Debug)]
struct RunOver<T>(PhantomData<T>);

/// Why drawing stopped, as proptest's runner reports it.
pub const RUN_OVER: &str = "the run no longer wants sequences";

impl<T: Clone + fmt::Debug> Strategy for RunOver<T> {
    type Tree = Just<T>;
    type Value = T;

    fn new_tree(&self, _: &mut TestRunner) -> NewTree<Self> {
        Err(RUN_OVER.into())
    }
}

fn uuid() -> impl Strategy<Value = String> {
    any::<[u8; 16]>().prop_map(|bytes| {
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    })
}

/// A descriptor: a webhook trigger, optionally feeding one more component.
pub fn descriptor() -> impl Strategy<Value = Value> {
    (uuid(), uuid(), text::name(), any::<bool>(), -400i64..400).prop_map(
        |(webhook, other, label, two, x)| {
            let mut descriptor = json!({
                webhook.as_str(): {
                    "type": WEBHOOK_TYPE,
                    "label": label,
                    "x": x,
                    "y": 0,
                    "source": {},
                    "config": {"properties": {"immediateResponse": true}},
                }
            });
            if two {
                descriptor[other.as_str()] = json!({
                    "type": "appmixer.utils.controls.Condition",
                    "x": x + 240,
                    "y": 0,
                    "source": {"in": {webhook.as_str(): ["out"]}},
                    "config": {},
                });
            }
            descriptor
        },
    )
}

/// A new flow's category: most have one, so that updates have a stored
/// field to keep or to drop.
fn category() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(0.8, select(CATEGORIES).prop_map(str::to_string))
}

/// What an update does to `customFields`: more often than not it sends
/// them, mostly without the category, so that a stored key the update leaves
/// out shows whether the server replaces or merges.
fn fields_update() -> impl Strategy<Value = FieldsUpdate> {
    prop_oneof![
        2 => Just(FieldsUpdate::Unchanged),
        1 => select(CATEGORIES).prop_map(|category| FieldsUpdate::Category(category.to_string())),
        2 => Just(FieldsUpdate::TagOnly),
    ]
}

fn handles(handles: impl Iterator<Item = Handle>) -> Vec<Handle> {
    handles.collect()
}

impl ReferenceStateMachine for Machine {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::default()).boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        // Checked per step: a long sequence takes seconds to draw.
        if !still_wanted() {
            return RunOver(PhantomData).boxed();
        }
        let next = Handle(state.next);
        let mut choices: Vec<(u32, BoxedStrategy<Step>)> = vec![
            (
                4,
                (text::name(), descriptor(), category())
                    .prop_map(move |(name, descriptor, category)| Step::CreateFlow {
                        flow: next,
                        name,
                        descriptor,
                        category,
                    })
                    .boxed(),
            ),
            (
                2,
                text::name()
                    .prop_map(move |name| Step::CreateStore { store: next, name })
                    .boxed(),
            ),
            (
                1,
                (select(SERVICES), text::name())
                    .prop_map(move |(service, name)| Step::CreateAccount {
                        account: next,
                        service: service.to_string(),
                        name,
                    })
                    .boxed(),
            ),
            (
                1,
                (text::name(), 0i64..5, select(CHART_TYPES))
                    .prop_map(move |(name, index, kind)| Step::CreateChart {
                        chart: next,
                        name,
                        index,
                        kind: kind.to_string(),
                    })
                    .boxed(),
            ),
        ];
        // People tasks cannot be deleted; a few per sequence are enough.
        if state.tasks.len() < 2 {
            choices.push((
                1,
                (text::name(), any::<bool>())
                    .prop_map(move |(title, approver_is_caller)| Step::CreateTask {
                        task: next,
                        title,
                        approver_is_caller,
                    })
                    .boxed(),
            ));
        }

        let live_flows = handles(state.flows.keys().copied());
        let all_flows = handles(state.flows.keys().copied().chain(state.gone_of(Area::Flow)));
        if !live_flows.is_empty() {
            let live = live_flows.clone();
            choices.push((
                3,
                (
                    select(live.clone()),
                    proptest::option::of(text::name()),
                    proptest::option::weighted(0.3, descriptor()),
                    fields_update(),
                    any::<bool>(),
                )
                    .prop_map(
                        |(flow, name, descriptor, custom_fields, force)| Step::UpdateFlow {
                            flow,
                            name,
                            descriptor,
                            custom_fields,
                            force,
                        },
                    )
                    .boxed(),
            ));
            choices.push((
                3,
                select(live.clone())
                    .prop_map(|flow| Step::StartFlow { flow })
                    .boxed(),
            ));
            choices.push((
                2,
                select(live.clone())
                    .prop_map(|flow| Step::StopFlow { flow })
                    .boxed(),
            ));
            choices.push((
                2,
                (select(live.clone()), pattern!("[A-Za-z]{0,4}( ✂ )?"))
                    .prop_map(move |(source, prefix)| Step::CloneFlow {
                        source,
                        clone: next,
                        prefix,
                    })
                    .boxed(),
            ));
            choices.push((
                2,
                (select(live), text::name())
                    .prop_map(|(flow, text)| Step::SendMessage { flow, text })
                    .boxed(),
            ));
        }
        if !all_flows.is_empty() {
            choices.push((
                2,
                select(all_flows)
                    .prop_map(|flow| Step::DeleteFlow { flow })
                    .boxed(),
            ));
        }

        let live_stores = handles(state.stores.keys().copied());
        if !live_stores.is_empty() {
            let known_keys: Vec<String> = state
                .stores
                .values()
                .flat_map(|store| store.records.keys().cloned())
                .collect();
            let key = if known_keys.is_empty() {
                text::key().boxed()
            } else {
                prop_oneof![text::key(), select(known_keys.clone())].boxed()
            };
            choices.push((
                4,
                (select(live_stores.clone()), key.clone(), text::tricky())
                    .prop_map(|(store, key, value)| Step::SetRecord { store, key, value })
                    .boxed(),
            ));
            choices.push((
                2,
                (select(live_stores.clone()), key.clone())
                    .prop_map(|(store, key)| Step::DeleteRecord { store, key })
                    .boxed(),
            ));
            choices.push((
                1,
                (
                    select(live_stores.clone()),
                    proptest::collection::vec(key, 1..=3),
                )
                    .prop_map(|(store, keys)| Step::DeleteRecords { store, keys })
                    .boxed(),
            ));
            choices.push((
                1,
                (select(live_stores), text::name())
                    .prop_map(|(store, name)| Step::RenameStore { store, name })
                    .boxed(),
            ));
        }
        let all_stores = handles(
            state
                .stores
                .keys()
                .copied()
                .chain(state.gone_of(Area::Store)),
        );
        if !all_stores.is_empty() {
            choices.push((
                1,
                select(all_stores)
                    .prop_map(|store| Step::DeleteStore { store })
                    .boxed(),
            ));
        }

        let all_accounts = handles(
            state
                .accounts
                .keys()
                .copied()
                .chain(state.gone_of(Area::Account)),
        );
        if !all_accounts.is_empty() {
            choices.push((
                1,
                (select(all_accounts.clone()), text::name())
                    .prop_map(|(account, display_name)| Step::RenameAccount {
                        account,
                        display_name,
                    })
                    .boxed(),
            ));
            choices.push((
                1,
                select(all_accounts)
                    .prop_map(|account| Step::DeleteAccount { account })
                    .boxed(),
            ));
        }

        let tasks = handles(state.tasks.keys().copied());
        if !tasks.is_empty() {
            let pending = state
                .tasks
                .values()
                .any(|task| task.status == TaskStatus::Pending);
            choices.push((
                if pending { 3 } else { 1 },
                (select(tasks), any::<bool>(), any::<bool>())
                    .prop_map(|(task, approve, with_secret)| Step::DecideTask {
                        task,
                        approve,
                        with_secret,
                    })
                    .boxed(),
            ));
        }

        let all_charts = handles(
            state
                .charts
                .keys()
                .copied()
                .chain(state.gone_of(Area::Chart)),
        );
        if !all_charts.is_empty() {
            choices.push((
                2,
                (
                    select(all_charts.clone()),
                    proptest::option::of(text::name()),
                    proptest::option::of(0i64..5),
                    proptest::option::of(select(CHART_TYPES).prop_map(str::to_string)),
                )
                    .prop_map(|(chart, name, index, kind)| Step::UpdateChart {
                        chart,
                        name,
                        index,
                        kind,
                    })
                    .boxed(),
            ));
            choices.push((
                1,
                select(all_charts)
                    .prop_map(|chart| Step::DeleteChart { chart })
                    .boxed(),
            ));
        }

        proptest::strategy::Union::new_weighted(choices).boxed()
    }

    fn apply(state: Model, step: &Step) -> Model {
        state.apply(step)
    }

    fn preconditions(state: &Model, step: &Step) -> bool {
        state.accepts(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::state::check_sequence;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    fn sequences(seed: u8) -> Vec<Vec<Step>> {
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let strategy = Machine::sequential_strategy(1..12);
        (0..8)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current().1)
            .collect()
    }

    #[test]
    fn the_same_seed_generates_the_same_sequences() {
        assert_eq!(sequences(7), sequences(7));
        assert_ne!(sequences(7), sequences(8));
    }

    #[test]
    fn every_generated_sequence_passes_the_check_of_saved_cases() {
        for steps in sequences(5) {
            assert_eq!(check_sequence(&steps), Ok(()), "{steps:?}");
        }
    }

    #[test]
    fn every_generated_sequence_satisfies_the_preconditions() {
        for steps in sequences(3) {
            let mut model = Model::default();
            for step in &steps {
                assert!(model.accepts(step), "{step:?} in {model:?}");
                model = model.apply(step);
            }
        }
    }
}
