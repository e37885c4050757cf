//! The SDK's `startFlow` and `stopFlow`, which are one call on the wire.
//!
//! Both are `POST /flows/{flowId}/coordinator`, told apart by `command` in the
//! body; the generated `send_flow_command` takes that body, and these two
//! methods fill it in.

use crate::error::ApiError;
use crate::{Client, ResponseValue, types};

impl Client {
    /// Starts the flow `flow_id`; starting a running flow changes nothing.
    pub async fn start_flow(
        &self,
        flow_id: impl ToString,
    ) -> Result<ResponseValue<types::FlowCommandResult>, ApiError> {
        self.flow_command(flow_id, types::FlowCommandCommand::Start)
            .await
    }

    /// Stops the flow `flow_id` and waits until it has stopped; stopping a
    /// stopped flow changes nothing.
    pub async fn stop_flow(
        &self,
        flow_id: impl ToString,
    ) -> Result<ResponseValue<types::FlowCommandResult>, ApiError> {
        self.flow_command(flow_id, types::FlowCommandCommand::Stop)
            .await
    }

    async fn flow_command(
        &self,
        flow_id: impl ToString,
        command: types::FlowCommandCommand,
    ) -> Result<ResponseValue<types::FlowCommandResult>, ApiError> {
        self.send_flow_command()
            .flow_id(flow_id.to_string())
            .body(types::FlowCommand { command })
            .send()
            .await
    }
}
