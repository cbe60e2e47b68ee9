//! What the issuer puts in a token: the claims llama-stack's `oauth2_token`
//! provider reads (`sub`, `roles`, `groups`, `aud`, `iss`, `exp`, `iat`),
//! and the ways a token can be wrong that tests ask for.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::keys::Key;

/// How long a minted token is valid.
pub(crate) const LIFETIME: Duration = Duration::from_secs(3600);

/// A token the stack must refuse, or a valid one. Every invalid kind is
/// refused by llama-stack 0.7.3 with 401; all but [`TokenCase::NoSubject`]
/// with the one message `Invalid JWT token`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenCase {
    /// Signed by the issuer's current key, valid for an hour.
    #[default]
    Valid,
    /// `exp` an hour ago.
    Expired,
    /// `nbf` an hour from now.
    NotYetValid,
    /// `aud` another audience than the stack's.
    WrongAudience,
    /// `iss` another issuer than the stack's.
    WrongIssuer,
    /// Signed by a key the issuer never published, under the current
    /// key's id: a forged signature.
    ForeignKey,
    /// Signed by the current key, under a key id the issuer never published.
    UnknownKeyId,
    /// `alg: none` and no signature.
    Unsigned,
    /// Valid, but without `sub`: the stack cannot name the user
    /// (`Authentication service error`).
    NoSubject,
    /// Not a JWT at all.
    Malformed,
}

impl TokenCase {
    pub const ALL: [TokenCase; 10] = [
        TokenCase::Valid,
        TokenCase::Expired,
        TokenCase::NotYetValid,
        TokenCase::WrongAudience,
        TokenCase::WrongIssuer,
        TokenCase::ForeignKey,
        TokenCase::UnknownKeyId,
        TokenCase::Unsigned,
        TokenCase::NoSubject,
        TokenCase::Malformed,
    ];
}

/// What a test process asks the issuer to mint (`POST /mint`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct MintRequest {
    /// `sub`: the user's principal.
    pub(crate) user: String,
    /// `roles`.
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    /// `groups` (left out when empty).
    #[serde(default)]
    pub(crate) groups: Vec<String>,
    #[serde(default)]
    pub(crate) case: TokenCase,
}

/// What goes into every token: the stack's expectations.
#[derive(Clone, Debug)]
pub(crate) struct Claims {
    pub(crate) issuer: String,
    pub(crate) audience: String,
}

/// The keys a token may be signed with.
pub(crate) struct Signers<'k> {
    pub(crate) current: &'k Key,
    /// Never published: for [`TokenCase::ForeignKey`].
    pub(crate) foreign: &'k Key,
}

/// The key id no published key has.
pub(crate) const UNKNOWN_KID: &str = "stack-harness-unpublished-key";

fn unix(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Mints the token `request` asks for, as of `now`.
pub(crate) fn mint(
    request: &MintRequest,
    claims: &Claims,
    signers: &Signers<'_>,
    now: SystemTime,
) -> Result<String, jsonwebtoken::errors::Error> {
    let case = request.case;
    if case == TokenCase::Malformed {
        return Ok("stack-harness.not-a.jwt".to_owned());
    }
    let now = unix(now);
    let hour = i64::try_from(LIFETIME.as_secs()).unwrap_or(3600);
    let mut body = Map::new();
    let mut put = |k: &str, v: Value| {
        body.insert(k.to_owned(), v);
    };
    let issuer = match case {
        TokenCase::WrongIssuer => "https://another-issuer.invalid",
        _ => claims.issuer.as_str(),
    };
    put("iss", json!(issuer));
    let audience = match case {
        TokenCase::WrongAudience => "another-audience",
        _ => claims.audience.as_str(),
    };
    put("aud", json!(audience));
    if case != TokenCase::NoSubject {
        put("sub", json!(request.user));
    }
    match case {
        TokenCase::Expired => {
            put("iat", json!(now - 2 * hour));
            put("exp", json!(now - hour));
        }
        TokenCase::NotYetValid => {
            put("iat", json!(now));
            put("nbf", json!(now + hour));
            put("exp", json!(now + 2 * hour));
        }
        _ => {
            put("iat", json!(now));
            put("exp", json!(now + hour));
        }
    }
    put("roles", json!(request.roles));
    if !request.groups.is_empty() {
        put("groups", json!(request.groups));
    }
    let (key, kid) = match case {
        TokenCase::ForeignKey => (signers.foreign, signers.current.kid.as_str()),
        TokenCase::UnknownKeyId => (signers.current, UNKNOWN_KID),
        _ => (signers.current, signers.current.kid.as_str()),
    };
    if case == TokenCase::Unsigned {
        let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        return Ok(format!("{}.{}.", part(&header), part(&Value::Object(body))));
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, &body, &key.encoding)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;
    use crate::issuer::keys::fixtures;

    const ISSUER: &str = "http://127.0.0.1:4000";

    fn claims() -> Claims {
        Claims {
            issuer: ISSUER.to_owned(),
            audience: "llama-stack".to_owned(),
        }
    }

    fn minted(case: TokenCase) -> String {
        let (current, foreign) = (fixtures::key(0), fixtures::key(2));
        let request = MintRequest {
            user: "alice".to_owned(),
            roles: vec!["user".to_owned()],
            groups: vec!["eng".to_owned()],
            case,
        };
        let signers = Signers {
            current: &current,
            foreign: &foreign,
        };
        mint(&request, &claims(), &signers, SystemTime::now()).expect("mints")
    }

    /// The checks llama-stack makes (pyjwt: signature by the key the `kid`
    /// names, `exp`, `nbf`, `aud`, `iss`), with the published public key.
    fn verify(token: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
        let key = fixtures::key(0);
        if header.kid.as_deref() != Some(key.kid.as_str()) {
            return Err(format!("unknown kid {:?}", header.kid));
        }
        let public = DecodingKey::from_rsa_components(
            key.jwk["n"].as_str().unwrap_or_default(),
            key.jwk["e"].as_str().unwrap_or_default(),
        )
        .map_err(|e| e.to_string())?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["llama-stack"]);
        validation.set_issuer(&[ISSUER]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        jsonwebtoken::decode::<Value>(token, &public, &validation)
            .map(|data| data.claims)
            .map_err(|e| format!("{:?}", e.kind()))
    }

    #[test]
    fn a_valid_token_verifies_with_the_published_key_and_carries_the_user() {
        let claims = verify(&minted(TokenCase::Valid)).expect("valid");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["roles"], json!(["user"]));
        assert_eq!(claims["groups"], json!(["eng"]));
        assert_eq!(claims["aud"], "llama-stack");
        assert_eq!(claims["iss"], ISSUER);
        let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
        assert_eq!(exp.zip(iat).map(|(e, i)| e - i), Some(3600));
        assert!(claims.get("nbf").is_none());
    }

    #[test]
    fn each_invalid_case_fails_the_check_the_stack_makes() {
        let expected = [
            (TokenCase::Expired, "ExpiredSignature"),
            (TokenCase::NotYetValid, "ImmatureSignature"),
            (TokenCase::WrongAudience, "InvalidAudience"),
            (TokenCase::WrongIssuer, "InvalidIssuer"),
            (TokenCase::ForeignKey, "InvalidSignature"),
            (
                TokenCase::UnknownKeyId,
                "unknown kid Some(\"stack-harness-unpublished-key\")",
            ),
            (TokenCase::Unsigned, "header: "),
            (TokenCase::Malformed, "header: "),
        ];
        for (case, why) in expected {
            let err = verify(&minted(case)).expect_err(&format!("{case:?} must not verify"));
            assert!(err.starts_with(why), "{case:?}: {err}");
        }
    }

    #[test]
    fn the_odd_cases_are_what_they_say() {
        let no_subject = verify(&minted(TokenCase::NoSubject)).expect("only `sub` is missing");
        assert!(no_subject.get("sub").is_none());

        let unsigned = minted(TokenCase::Unsigned);
        let (header, rest) = unsigned.split_once('.').expect("three parts");
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("json");
        assert_eq!(header["alg"], "none");
        assert!(rest.ends_with('.'), "no signature: {rest}");

        let forged = minted(TokenCase::ForeignKey);
        let header = jsonwebtoken::decode_header(&forged).expect("a JWT");
        assert_eq!(
            header.kid,
            Some(fixtures::key(0).kid),
            "the current key's id"
        );
    }

    #[test]
    fn cases_have_kebab_case_names_on_the_wire() {
        let names: Vec<String> = TokenCase::ALL
            .iter()
            .map(|c| serde_json::to_value(c).expect("serialises").to_string())
            .collect();
        assert_eq!(
            names.join(" "),
            r#""valid" "expired" "not-yet-valid" "wrong-audience" "wrong-issuer" "foreign-key" "unknown-key-id" "unsigned" "no-subject" "malformed""#
        );
    }
}
