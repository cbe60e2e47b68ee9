//! Who a request is sent as, on a session whose stack checks tokens
//! against the session's issuer: the default user, a named user with roles
//! and groups, nobody, a token of a given kind, or a raw `Authorization`
//! header. The token's text never leaves this module's callers' requests:
//! it is not in a type a test can print.

use serde::Deserialize;

use crate::issuer::{MintRequest, TokenCase};

/// The user every request runs as on a session with an issuer, unless the
/// test says otherwise.
pub(crate) const DEFAULT_USER: &str = "stack-harness";
/// Roles a user has when a test names none.
const DEFAULT_ROLES: [&str; 1] = ["user"];

/// A user to act as: `ctx.as_user("alice")`, or
/// `ctx.as_user(User::named("carol").roles(["restricted"]))`. Its token
/// carries `sub` (the name), `roles` (`["user"]` unless given) and `groups`
/// (none unless given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    name: String,
    roles: Vec<String>,
    groups: Vec<String>,
}

impl User {
    pub fn named(name: impl Into<String>) -> User {
        User {
            name: name.into(),
            roles: DEFAULT_ROLES.map(str::to_owned).to_vec(),
            groups: Vec::new(),
        }
    }

    /// The `roles` claim, instead of `["user"]`.
    pub fn roles<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> User {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// The `groups` claim.
    pub fn groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> User {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn mint_request(&self, case: TokenCase) -> MintRequest {
        MintRequest {
            user: self.name.clone(),
            roles: self.roles.clone(),
            groups: self.groups.clone(),
            case,
        }
    }
}

impl From<&str> for User {
    fn from(name: &str) -> User {
        User::named(name)
    }
}

/// Who a client's requests are sent as.
#[derive(Clone, Debug)]
pub(crate) enum Identity {
    /// The default user when the session has an issuer, else nobody.
    Default,
    /// No `Authorization` header.
    Anonymous,
    User(User),
    /// A fresh token of this kind for the default user.
    Token(TokenCase),
    /// This `Authorization` header, as is.
    Header(String),
}

impl Identity {
    /// Whether sending as this needs the session's issuer (the test skips
    /// without one).
    pub(crate) fn needs_issuer(&self) -> bool {
        !matches!(self, Identity::Default)
    }
}

/// A key rotation, as the issuer reports it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct KeyRotation {
    /// The key that signs from now on (published before the rotation).
    pub signing_kid: String,
    /// The key that signed until now; still published.
    pub retired_kid: String,
    /// The key published for the next rotation.
    pub next_kid: String,
    /// How long the issuer held the rotation back, in milliseconds, because
    /// the stack had not fetched the key set with the new signing key yet.
    pub waited_ms: u64,
}

/// The issuer's keys and the stack's fetches of them.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct IssuerStats {
    pub signing_kid: String,
    pub next_kid: String,
    pub retired_kids: Vec<String>,
    /// How often the stack fetched `/jwks`.
    pub jwks_fetches: u64,
    /// The key ids in the last set it fetched (none before its first fetch).
    pub last_fetch_kids: Option<Vec<String>>,
}
