//! Auth probes: an operation that needs a token refuses every request
//! without a valid one with 401.
//!
//! Every operation whose spec `security` requires a token is sent three
//! times on the first user's objects ([`Fixture`]), so that the only thing
//! wrong with each request is its credentials: without a token, with a
//! malformed token (the run's own token with its signature cut off, which
//! a server that decodes without verifying would accept) and with a forged
//! one (an HS256 JWT with the right claims, the run user's id among them,
//! signed with a random key). Each must answer 401. An operation whose
//! token is optional gets the no-token probe only where the spec documents
//! 401 for it: the people-task operations, which answer 401 to a request
//! with neither a token nor a secret.
//!
//! Probes that change nothing go first and deletes last, so that a server
//! wrongly accepting a delete spoils as little as possible; anything a
//! wrongly accepted create made goes into the ledger for cleanup.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::catalog::{Catalog, Location, OperationShape, TokenPolicy};
use crate::checks::CheckKind;
use crate::cleanup::Kind;
use crate::isolation::{Examples, Fixture};
use crate::session::{Session, StatusRule, Step};

const KIND: CheckKind = CheckKind::Auth;

/// The credentials one probe sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// No `Authorization` header.
    None,
    /// A token that is not a whole JWT.
    Malformed,
    /// A JWT with the right claims signed with another key.
    Forged,
}

impl Credentials {
    /// The expectation a probe with these credentials records.
    pub fn expectation(self) -> &'static str {
        match self {
            Credentials::None => "auth.no-token-is-401",
            Credentials::Malformed => "auth.malformed-token-is-401",
            Credentials::Forged => "auth.forged-token-is-401",
        }
    }
}

/// Every operation that is probed, with the credentials it is probed with,
/// in the spec's order.
pub fn planned(catalog: &Catalog) -> Vec<(String, Vec<Credentials>)> {
    catalog
        .operations()
        .iter()
        .filter_map(|op| {
            let probes = match op.token {
                TokenPolicy::Required => {
                    vec![
                        Credentials::None,
                        Credentials::Malformed,
                        Credentials::Forged,
                    ]
                }
                // A secret is the other way in; with neither, 401.
                TokenPolicy::Optional if op.parameter("secret", Location::Query).is_some() => {
                    vec![Credentials::None]
                }
                _ => return None,
            };
            Some((op.id.clone(), probes))
        })
        .collect()
}

/// The claims of the forged token, as the server's own tokens carry them.
#[derive(Serialize)]
struct Claims<'a> {
    id: &'a str,
    scope: [&'a str; 1],
    iat: u64,
    exp: u64,
}

/// An HS256 JWT for `user_id` that a server with any other key must refuse.
pub fn forged_token(user_id: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut key = uuid::Uuid::new_v4().as_bytes().to_vec();
    key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let claims = Claims {
        id: user_id,
        scope: ["user"],
        iat: now,
        exp: now + 3600,
    };
    let key = EncodingKey::from_secret(&key).expect("a 32-byte key is a valid HS256 key");
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .expect("HS256 signing of plain claims cannot fail")
}

/// `token` with its signature cut off: `header.payload.`, or a token that
/// is not a JWT at all when `token` is not one either.
pub fn malformed_token(token: Option<&str>) -> String {
    match token.and_then(|t| t.rsplit_once('.')) {
        Some((unsigned, _)) if unsigned.contains('.') => format!("{unsigned}."),
        _ => "not-a-jwt".into(),
    }
}

/// Plans the auth property on every probed operation.
pub fn plan(s: &mut Session, catalog: &Catalog, read_only: bool) {
    for (operation, _) in planned(catalog) {
        let write = catalog
            .get(&operation)
            .is_some_and(|op| op.method != reqwest::Method::GET);
        if !(read_only && write) {
            s.plan.expect(&operation, KIND);
        }
    }
}

/// Sends every probe; `token` is the run's own token, `read_only` leaves
/// out the probes of operations that write.
pub async fn run(
    s: &mut Session,
    catalog: &Catalog,
    examples: &Examples,
    fixture: &Fixture,
    token: Option<&str>,
    read_only: bool,
) -> Step<()> {
    let forged = forged_token(&fixture.user_id);
    let malformed = malformed_token(token);
    let mut ordered: Vec<(&OperationShape, Vec<Credentials>)> = planned(catalog)
        .into_iter()
        .filter_map(|(id, probes)| catalog.get(&id).map(|op| (op, probes)))
        .filter(|(op, _)| !(read_only && op.method != reqwest::Method::GET))
        .collect();
    ordered.sort_by_key(|(op, _)| match op.method.as_str() {
        "GET" => 0,
        "DELETE" => 2,
        _ => 1,
    });

    for (op, probes) in ordered {
        let Some(call) = fixture
            .call(op, examples)
            .or_else(|| fixture.unknown_call(op, examples))
        else {
            continue;
        };
        for credentials in probes {
            let probe = match credentials {
                Credentials::None => call.clone().without_token().invalid(),
                Credentials::Malformed => call.clone().with_probe_token(&malformed),
                Credentials::Forged => call.clone().with_probe_token(&forged),
            };
            let exchange = s.call(probe).await?;
            adopt(s, &exchange);
            let status = exchange.status();
            s.expect_as(
                KIND,
                &op.id,
                credentials.expectation(),
                Some(&exchange),
                StatusRule::Exactly(401).accepts(status),
                || "status 401".into(),
                || format!("status {status}"),
            );
        }
    }
    Ok(())
}

/// Records what a wrongly accepted create made, so that cleanup deletes it.
fn adopt(s: &mut Session, exchange: &crate::transport::Exchange) {
    if !exchange.is_success() {
        return;
    }
    let made = match exchange.operation.as_str() {
        "createFlow" => Some((Kind::Flow, "/flowId")),
        "cloneFlow" => Some((Kind::Flow, "/cloneId")),
        "createStore" => Some((Kind::Store, "/storeId")),
        "createAccount" => Some((Kind::Account, "/accountId")),
        "createChart" => Some((Kind::Chart, "/chartId")),
        "createPeopleTask" => Some((Kind::PeopleTask, "/id")),
        _ => None,
    };
    if let Some((kind, pointer)) = made
        && let Some(id) = exchange.str_at(pointer)
    {
        s.created(kind, &id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn operations_needing_a_token_get_three_probes_and_people_tasks_one() {
        let spec = appmixer_spec::Spec::load(&appmixer_spec::default_path()).unwrap();
        let catalog = Catalog::from_spec(&spec).unwrap();

        let planned = planned(&catalog);
        let probes = |id: &str| {
            planned
                .iter()
                .find(|(op, _)| op == id)
                .map(|(_, p)| p.len())
        };

        assert_eq!(probes("getFlow"), Some(3));
        assert_eq!(probes("deleteStoreItems"), Some(3));
        assert_eq!(probes("getPeopleTask"), Some(1));
        assert_eq!(probes("approveTask"), Some(1));
        assert_eq!(probes("authenticateUser"), None);
        assert_eq!(probes("sendComponentMessage"), None);
    }

    #[test]
    fn the_forged_token_carries_the_claims_but_not_the_servers_signature() {
        let token = forged_token("5c6fc9932ff3ff000747ead4");

        let claims =
            jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(&token).unwrap();
        let strict = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(b"the server's key").unwrap(),
            &Validation::new(Algorithm::HS256),
        );

        assert_eq!(claims["id"], "5c6fc9932ff3ff000747ead4");
        assert_eq!(claims["scope"], serde_json::json!(["user"]));
        assert!(claims["exp"].as_u64() > claims["iat"].as_u64());
        assert!(strict.is_err());
    }

    #[test]
    fn a_malformed_token_is_the_real_one_without_its_signature() {
        assert_eq!(malformed_token(Some("aaa.bbb.ccc")), "aaa.bbb.");
        assert_eq!(malformed_token(Some("opaque")), "not-a-jwt");
        assert_eq!(malformed_token(None), "not-a-jwt");
    }
}
