//! The issuer's RSA keys: generated per session by the `rsa` crate, signing
//! through `jsonwebtoken`, published as JWKs named by their RFC 7638
//! thumbprint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// One RS256 key pair with its key id.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) kid: String,
    pub(crate) encoding: EncodingKey,
    /// The public half as a JWK (`kty`, `kid`, `use`, `alg`, `n`, `e`).
    pub(crate) jwk: Value,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private half never reaches a log.
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot make an RSA key for the token issuer: {0}")]
pub(crate) struct KeyError(String);

impl KeyError {
    pub(crate) fn new(why: impl Into<String>) -> KeyError {
        KeyError(why.into())
    }
}

impl Key {
    /// A fresh 2048-bit key (exponent 65537) from the operating system's
    /// random source: 0.2 to 0.8 s of CPU with the crypto crates optimised
    /// (the workspace's dev profile does that), so callers run it off the
    /// async runtime.
    pub(crate) fn generate() -> Result<Key, KeyError> {
        let private: rsa::PrivateKey =
            rsa::Generate::try_generate().map_err(|e| KeyError(format!("{e:?}")))?;
        Key::from_private(&private)
    }

    /// A key from a PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`): the unit tests'
    /// fixed keys, which spare them a key generation each.
    #[cfg(test)]
    pub(crate) fn from_pem(pem: &str) -> Result<Key, KeyError> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let private = rsa::PrivateKey::from_pkcs1_pem(pem).map_err(|e| KeyError(e.to_string()))?;
        Key::from_private(&private)
    }

    fn from_private(private: &rsa::PrivateKey) -> Result<Key, KeyError> {
        let der = private
            .to_pkcs1_der()
            .map_err(|e| KeyError(e.to_string()))?;
        let public = private.to_public_key();
        let n = URL_SAFE_NO_PAD.encode(public.n().to_be_bytes_trimmed_vartime());
        let e = URL_SAFE_NO_PAD.encode(public.e().to_be_bytes_trimmed_vartime());
        // RFC 7638: the hash of the required members, in lexical order,
        // without spaces; a key's id that no other key shares.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let jwk = json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": e});
        Ok(Key {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            kid,
            jwk,
        })
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Keys made once with `openssl genrsa -traditional 2048`, for unit
    //! tests only: no session ever signs with them.
    use super::Key;

    pub(crate) fn key(which: usize) -> Key {
        let pem = [
            include_str!("testdata/key-a.pem"),
            include_str!("testdata/key-b.pem"),
            include_str!("testdata/key-c.pem"),
        ][which];
        Key::from_pem(pem).expect("the fixture keys parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_published_as_an_rs256_jwk_named_by_its_thumbprint() {
        let key = fixtures::key(0);
        let jwk = &key.jwk;
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["e"], "AQAB", "exponent 65537");
        // 2048 bits: 256 bytes, 342 base64url characters without padding.
        assert_eq!(jwk["n"].as_str().map(str::len), Some(342));
        assert_eq!(jwk["kid"], key.kid.as_str());
        assert_eq!(key.kid.len(), 43, "a base64url SHA-256");
        assert_ne!(fixtures::key(1).kid, key.kid);
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }
}
