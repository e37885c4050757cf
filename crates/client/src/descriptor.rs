//! A flow descriptor exactly as the server sent it.
//!
//! The spec describes a descriptor as a map from component id to
//! `FlowComponent`, but the generated struct for a component would drop the
//! fields the spec does not name, reorder the `source` maps and leave out an
//! empty `config: {}`: a descriptor read and written back would not be the same
//! descriptor. [`FlowDescriptor`] therefore keeps the JSON object itself, in
//! its original key order, and offers typed views of its components on top.

use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::types;

/// The components of a flow, keyed by component id, kept as sent.
///
/// Serializing a deserialized descriptor gives back the same JSON, key order
/// included. `Deref` exposes the underlying [`serde_json::Map`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FlowDescriptor(Map<String, Value>);

impl FlowDescriptor {
    /// An empty descriptor: a flow without components.
    pub fn new() -> Self {
        Self::default()
    }

    /// The ids of the components, in descriptor order.
    pub fn component_ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The component `id` as raw JSON.
    pub fn component(&self, id: &str) -> Option<&Value> {
        self.0.get(id)
    }

    /// The component type of `id`, e.g. `appmixer.slack.list.SendChannelMessage`.
    pub fn component_type(&self, id: &str) -> Option<&str> {
        self.0.get(id)?.get("type")?.as_str()
    }

    /// The component `id` decoded into the spec's `FlowComponent`; fields the
    /// spec does not name end up in its `extra` map.
    pub fn typed_component(
        &self,
        id: &str,
    ) -> Option<Result<types::FlowComponent, serde_json::Error>> {
        let component = self.0.get(id)?;
        Some(types::FlowComponent::deserialize(component))
    }

    /// Adds or replaces the component `id`; returns the one it replaced.
    pub fn insert_component(
        &mut self,
        id: impl Into<String>,
        component: &types::FlowComponent,
    ) -> Result<Option<Value>, serde_json::Error> {
        let value = serde_json::to_value(component)?;
        Ok(self.0.insert(id.into(), value))
    }

    /// The underlying JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl Deref for FlowDescriptor {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for FlowDescriptor {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<Map<String, Value>> for FlowDescriptor {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

impl From<FlowDescriptor> for Map<String, Value> {
    fn from(descriptor: FlowDescriptor) -> Self {
        descriptor.0
    }
}

impl TryFrom<Value> for FlowDescriptor {
    type Error = serde_json::Error;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        serde_json::from_value(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A descriptor with what the generated types would lose: an undeclared
    /// field, `source` keys out of alphabetical order, an empty `config`.
    const DESCRIPTOR: &str = r#"{"z-last":{"type":"appmixer.utils.controls.OnStart","x":-120,"y":40,"source":{},"config":{},"undeclared":{"kept":true}},"a-first":{"type":"appmixer.utils.test.Assert","source":{"in":{"z-last":["out"],"b-middle":["out"]}},"version":"1.0.1","config":{"transform":{"in":{}}},"label":"Check"}}"#;

    #[test]
    fn round_trip_keeps_the_exact_json() {
        let descriptor: FlowDescriptor = serde_json::from_str(DESCRIPTOR).unwrap();

        let written = serde_json::to_string(&descriptor).unwrap();

        assert_eq!(written, DESCRIPTOR);
    }

    #[test]
    fn components_keep_descriptor_order() {
        let descriptor: FlowDescriptor = serde_json::from_str(DESCRIPTOR).unwrap();

        let ids: Vec<_> = descriptor.component_ids().collect();

        assert_eq!(ids, ["z-last", "a-first"]);
        assert_eq!(
            descriptor.component_type("a-first"),
            Some("appmixer.utils.test.Assert")
        );
        assert_eq!(descriptor.component_type("missing"), None);
    }

    #[test]
    fn typed_component_decodes_declared_fields() {
        let descriptor: FlowDescriptor = serde_json::from_str(DESCRIPTOR).unwrap();

        let component = descriptor.typed_component("z-last").unwrap().unwrap();

        assert_eq!(component.type_, "appmixer.utils.controls.OnStart");
        assert_eq!(component.x, Some(-120));
        assert_eq!(
            component.extra["undeclared"],
            serde_json::json!({"kept": true})
        );
    }

    #[test]
    fn a_non_object_is_not_a_descriptor() {
        let parsed = FlowDescriptor::try_from(serde_json::json!(["not", "a", "map"]));

        assert!(parsed.is_err());
    }
}
