//! Flow authentication: which components of a flow need an account, and
//! which of the user's accounts each can use.
//!
//! In a real engine each component type declares its service in the `auth`
//! section of its manifest. This server has no manifests, so it derives the
//! service from the type name by one rule, [`required_service`]:
//! - a type `vendor.connector.module.Name` needs the service
//!   `vendor:connector` (`appmixer.slack.list.SendChannelMessage` →
//!   `appmixer:slack`);
//! - types under `appmixer.utils.` need none (flow controls, test and
//!   utility components), except `appmixer.utils.ftp.*`, which needs
//!   `appmixer:utils:ftp`;
//! - a type with fewer than four dot-separated parts needs none.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::accounts::authentication_entry;
use crate::errors::ApiResult;
use crate::extractors::PathParams;
use crate::state::{SharedState, read};
use crate::users::Caller;

/// The routes of this area.
pub fn routes() -> Router<SharedState> {
    Router::new().route("/auth/flow/{flowId}", get(get_flow_authentication))
}

/// The service a component type needs an account of, if any.
pub fn required_service(component_type: &str) -> Option<String> {
    let parts: Vec<&str> = component_type.split('.').collect();
    if parts.len() < 4 || parts.iter().any(|part| part.is_empty()) {
        return None;
    }
    match (parts[0], parts[1], parts[2]) {
        ("appmixer", "utils", "ftp") => Some("appmixer:utils:ftp".to_owned()),
        ("appmixer", "utils", _) => None,
        (vendor, connector, _) => Some(format!("{vendor}:{connector}")),
    }
}

/// `GET /auth/flow/{flowId}`: one entry per component that needs an account,
/// in descriptor order, keyed by component id.
async fn get_flow_authentication(
    State(state): State<SharedState>,
    caller: Caller,
    PathParams(flow_id): PathParams<String>,
) -> ApiResult<Json<Value>> {
    let flows = read(&state.flows);
    let accounts = read(&state.accounts);
    let flow = flows.owned(&caller, &flow_id)?;
    let mut answer = Map::new();
    for (component_id, component_type) in flow.components() {
        let Some(service) = required_service(component_type) else {
            continue;
        };
        let assigned = accounts.assigned(&flow_id, component_id);
        let entries: Map<String, Value> = accounts
            .of_service(&caller.id, &service)
            .into_iter()
            .map(|account| {
                let is_assigned = assigned == Some(account.id.as_str());
                let entry = authentication_entry(account, Some(component_id), is_assigned);
                (account.id.clone(), entry)
            })
            .collect();
        answer.insert(
            component_id.to_owned(),
            json!({
                "componentId": component_id,
                "componentType": component_type,
                "service": service,
                "accounts": entries,
            }),
        );
    }
    Ok(Json(Value::Object(answer)))
}

#[cfg(test)]
mod tests {
    use super::required_service;

    #[test]
    fn the_service_is_vendor_and_connector_except_for_utilities() {
        let cases = [
            (
                "appmixer.slack.list.SendChannelMessage",
                Some("appmixer:slack"),
            ),
            ("appmixer.google.gmail.SendEmail", Some("appmixer:google")),
            ("acme.crm.contacts.Create", Some("acme:crm")),
            ("appmixer.utils.ftp.Upload", Some("appmixer:utils:ftp")),
            ("appmixer.utils.controls.OnStart", None),
            ("appmixer.utils.test.Assert", None),
            ("appmixer.slack.Send", None),
            ("appmixer..list.Send", None),
        ];

        for (component_type, service) in cases {
            assert_eq!(
                required_service(component_type).as_deref(),
                service,
                "{component_type}"
            );
        }
    }
}
