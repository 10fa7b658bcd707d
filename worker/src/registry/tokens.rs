//! Bearer tokens for `skillopt serve`: who may call the server, as whom, with which role.
//!
//! A token is `so_` and 64 hex digits (32 bytes from the system's CSPRNG); the registry keeps
//! only its SHA-256 (`tokens` table, migration 0003), so it is shown once, at creation, and
//! never again. Only the database backends store tokens: they are managed on the server's box,
//! not over HTTP.

use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Registry, RegistryError, Result};

/// What a token may do; each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Pull, log, diff, stats: every read.
    Reader,
    /// Also push skills under their own author name, revert them, record attributions
    /// and outcomes, and publish (and roll out) automatic versions of any skill.
    Member,
    /// Also push, revert, freeze, set the policy of and review any skill.
    Maintainer,
    /// Everything (tokens are managed on the server's box).
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Member => "member",
            Role::Maintainer => "maintainer",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = super::rows::UnknownValue;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "reader" => Ok(Role::Reader),
            "member" => Ok(Role::Member),
            "maintainer" => Ok(Role::Maintainer),
            "admin" => Ok(Role::Admin),
            _ => Err(super::rows::UnknownValue {
                what: "role",
                value: s.to_string(),
            }),
        }
    }
}

/// One token as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub user: String,
    pub role: Role,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Token storage, on the database backends.
pub trait Tokens {
    /// Stores a token's row with the SHA-256 of the token.
    fn add_token(&mut self, row: &TokenRow, sha256: &str) -> Result<()>;
    /// Every token, oldest first.
    fn tokens(&mut self) -> Result<Vec<TokenRow>>;
    /// Revokes a token at `at` (RFC 3339); false when there is no such token or it was
    /// revoked already.
    fn revoke_token(&mut self, id: &str, at: &str) -> Result<bool>;
    /// The token whose SHA-256 this is, revoked or not.
    fn token_by_hash(&mut self, sha256: &str) -> Result<Option<TokenRow>>;
}

/// What the server opens: a registry that also stores tokens.
pub trait ServerBackend: Send {
    fn registry(&mut self) -> &mut dyn Registry;
    fn tokens(&mut self) -> &mut dyn Tokens;
}

impl<T: Registry + Tokens> ServerBackend for T {
    fn registry(&mut self) -> &mut dyn Registry {
        self
    }
    fn tokens(&mut self) -> &mut dyn Tokens {
        self
    }
}

/// The stored form of a token: its SHA-256 in lower-case hex.
pub fn token_hash(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new token (`so_` + 64 hex digits) from the system's CSPRNG.
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| RegistryError::Backend(super::Cause::Thread(e)))?;
    Ok(format!(
        "so_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Creates a token for `user` with `role`: stores its row and hash, returns the row and the
/// token (to be shown once).
pub fn create_token(store: &mut dyn Tokens, user: &str, role: Role) -> Result<(TokenRow, String)> {
    let token = new_token()?;
    let row = TokenRow {
        id: ulid::Ulid::new().to_string().to_lowercase(),
        user: user.to_string(),
        role,
        created_at: skillopt_state::now_rfc3339(),
        revoked_at: None,
    };
    store.add_token(&row, &token_hash(&token))?;
    Ok((row, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("so_") && a.len() == 67, "{a}");
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
        assert!("reader".parse::<Role>().unwrap() < "admin".parse::<Role>().unwrap());
        assert!("root".parse::<Role>().is_err());
    }
}
