//! The Rust names the client gives to operations and SDK methods.
//!
//! Progenitor names a generated method after the snake_case of its
//! `operationId`, computed with `heck` as here, so the names in the docs are
//! the names in the generated code. An SDK method mapped through
//! `x-sdk-methods` is a hand-written wrapper named after the SDK method the
//! same way.

use heck::ToSnakeCase as _;

/// The Rust client method named after `name`, an `operationId` or an SDK method.
pub fn client_method(name: &str) -> String {
    name.to_snake_case()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_names_become_snake_case() {
        assert_eq!(client_method("getFlowsCount"), "get_flows_count");
        assert_eq!(client_method("startFlow"), "start_flow");
        assert_eq!(
            client_method("getStoreRecordsCount"),
            "get_store_records_count"
        );
    }
}
