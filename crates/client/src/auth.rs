//! Logging in and signing up: how a client gets its token.
//!
//! Both go through the generated operations (`authenticate_user`,
//! `signup_user`), so they are traced and retried like any other request, and
//! both keep the credentials in the client's session, which logs in again with
//! them when the server refuses an expired token.

use crate::error::ClientError;
use crate::session::Credentials;
use crate::{Client, ClientBuilder, Secret, types};

impl Client {
    /// Logs `username` in at `base_url` and returns a client that sends the
    /// token it got.
    ///
    /// A 403 answer becomes [`ClientError::UnknownUser`] (Appmixer's way of
    /// saying the user does not exist), a 401 [`ClientError::WrongPassword`].
    /// Use [`ClientBuilder::login`] to set timeouts or retries as well.
    pub async fn login(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Client, ClientError> {
        ClientBuilder::new(base_url).login(username, password).await
    }

    /// Creates the user `username` at `base_url` and returns a client that
    /// sends the new user's token.
    ///
    /// A 409 answer becomes [`ClientError::UserExists`]. Use
    /// [`ClientBuilder::signup`] to set timeouts or retries as well.
    pub async fn signup(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Client, ClientError> {
        ClientBuilder::new(base_url)
            .signup(username, password)
            .await
    }
}

impl ClientBuilder {
    /// Builds the client, logs `username` in and keeps the token; the client
    /// logs in again by itself when the token expires.
    pub async fn login(
        self,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Client, ClientError> {
        let credentials = Credentials {
            username: username.into(),
            password: password.into(),
        };
        let client = self.credentials(credentials.clone()).build()?;

        let token = authenticate(&client, &credentials).await?;

        client.session().set_token(token);
        Ok(client)
    }

    /// Builds the client, creates the user `username` and keeps the new
    /// user's token; the client logs in again by itself when it expires.
    pub async fn signup(
        self,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Result<Client, ClientError> {
        let credentials = Credentials {
            username: username.into(),
            password: password.into(),
        };
        let client = self.credentials(credentials.clone()).build()?;
        let body = types::Signup::builder()
            .username(credentials.username.clone())
            .password(credentials.password.expose().to_owned());

        let answer = client.signup_user().body(body).send().await;

        let result =
            answer.map_err(|error| match error.status().map(|status| status.as_u16()) {
                Some(409) => ClientError::UserExists {
                    username: credentials.username.clone(),
                },
                _ => ClientError::from(error),
            })?;
        client
            .session()
            .set_token(Secret::new(result.into_inner().token));
        Ok(client)
    }
}

/// Exchanges `credentials` for a token with `POST /user/auth`.
pub(crate) async fn authenticate(
    client: &Client,
    credentials: &Credentials,
) -> Result<Secret, ClientError> {
    let body = types::Credentials::builder()
        .username(credentials.username.clone())
        .password(credentials.password.expose().to_owned());

    let answer = client.authenticate_user().body(body).send().await;

    match answer {
        Ok(authentication) => Ok(Secret::new(authentication.into_inner().token)),
        Err(error) => Err(match error.status().map(|status| status.as_u16()) {
            Some(403) => ClientError::UnknownUser {
                username: credentials.username.clone(),
            },
            Some(401) => ClientError::WrongPassword {
                username: credentials.username.clone(),
            },
            _ => ClientError::from(error),
        }),
    }
}
