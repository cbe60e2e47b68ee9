use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::*;
use crate::issuer::TokenCase;
use crate::issuer::keys::fixtures;

/// An issuer on a free port whose keys are the fixtures, in order.
async fn issuer() -> Issuer {
    let made = AtomicUsize::new(0);
    let options = IssuerOptions {
        port: 0,
        issuer: None,
        audience: "llama-stack".to_owned(),
        key_recheck_period: Duration::from_secs(3600),
    };
    let source: KeySource =
        Arc::new(move || Ok(fixtures::key(made.fetch_add(1, Ordering::SeqCst) % 3)));
    Issuer::start_with(options, source).await.expect("starts")
}

/// One client for all (making one loads the system's certificates), which
/// keeps no connection: each test has its own runtime.
fn http() -> &'static reqwest::Client {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("a client")
    })
}

async fn get(url: &str) -> (u16, Value) {
    let response = http().get(url).send().await.expect("answers");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = http().post(url).json(body).send().await.expect("answers");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

/// Verifies `token` as the stack does, with the key its `kid` names in
/// `jwks`; the claims, or what failed.
fn verify(token: &str, jwks: &Value, issuer: &str) -> Result<Value, String> {
    let kid = jsonwebtoken::decode_header(token)
        .map_err(|e| e.to_string())?
        .kid
        .ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .ok_or_else(|| format!("kid {kid} is not published"))?;
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or_default(),
        jwk["e"].as_str().unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["llama-stack"]);
    validation.set_issuer(&[issuer]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| format!("{:?}", e.kind()))
}

#[tokio::test]
async fn discovery_names_the_issuer_and_its_key_set() {
    let issuer = issuer().await;
    let (status, discovery) = get(&format!(
        "{}/.well-known/openid-configuration",
        issuer.url()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(discovery["issuer"], issuer.url().as_str());
    assert_eq!(discovery["jwks_uri"], issuer.jwks_uri().as_str());
    assert_eq!(issuer.issuer(), issuer.url());
    assert_eq!(issuer.audience(), "llama-stack");

    let (status, jwks) = get(&issuer.jwks_uri()).await;
    assert_eq!(status, 200);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    let (_, stats) = get(&format!("{}/stats", issuer.url())).await;
    let (signing, next) = (stats["signing_kid"].as_str(), stats["next_kid"].as_str());
    assert_eq!(kids.len(), 2);
    assert_eq!(
        (Some(kids[0]), Some(kids[1])),
        (signing, next),
        "current, then next"
    );
    assert_ne!(signing, next);
    for key in jwks["keys"].as_array().expect("keys") {
        let mut names: Vec<&String> = key.as_object().expect("object").keys().collect();
        names.sort();
        assert_eq!(
            names,
            ["alg", "e", "kid", "kty", "n", "use"],
            "public members only"
        );
    }
    issuer.shutdown().await;
}

#[tokio::test]
async fn minted_tokens_verify_with_the_published_keys_and_edge_cases_do_not() {
    let issuer = issuer().await;
    let (_, jwks) = get(&issuer.jwks_uri()).await;
    let mint = |case: TokenCase| {
        let url = format!("{}/mint", issuer.url());
        async move {
            let body = json!({"user": "alice", "roles": ["user"], "case": case});
            let (status, answer) = post(&url, &body).await;
            assert_eq!(status, 200, "{answer}");
            answer["token"].as_str().expect("a token").to_owned()
        }
    };
    let claims = verify(&mint(TokenCase::Valid).await, &jwks, &issuer.url()).expect("valid");
    assert_eq!(
        (claims["sub"].as_str(), claims["roles"].clone()),
        (Some("alice"), json!(["user"]))
    );
    assert_eq!(claims["iss"], issuer.url().as_str());

    for (case, why) in [
        (TokenCase::Expired, "ExpiredSignature"),
        (TokenCase::WrongAudience, "InvalidAudience"),
        (TokenCase::WrongIssuer, "InvalidIssuer"),
        (TokenCase::ForeignKey, "InvalidSignature"),
        (
            TokenCase::UnknownKeyId,
            "kid stack-harness-unpublished-key is not published",
        ),
    ] {
        let err = verify(&mint(case).await, &jwks, &issuer.url()).expect_err("refused");
        assert_eq!(err, why, "{case:?}");
    }
    issuer.shutdown().await;
}

#[tokio::test]
async fn rotation_signs_with_the_published_next_key_and_keeps_the_old_one() {
    let issuer = issuer().await;
    let (_, before) = get(&issuer.jwks_uri()).await;
    let (_, stats) = get(&format!("{}/stats", issuer.url())).await;
    let (status, rotation) = post(&format!("{}/rotate", issuer.url()), &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        rotation["signing_kid"], stats["next_kid"],
        "the next key signs"
    );
    assert_eq!(rotation["retired_kid"], stats["signing_kid"]);
    assert_eq!(
        rotation["next_kid"],
        fixtures::key(2).kid.as_str(),
        "a new key"
    );
    assert_eq!(
        rotation["waited_ms"], 0,
        "the key set fetched before had it"
    );

    let (_, token) = post(&format!("{}/mint", issuer.url()), &json!({"user": "bob"})).await;
    let token = token["token"].as_str().expect("a token");
    verify(token, &before, &issuer.url())
        .expect("verifies with the set fetched before the rotation");
    let (_, after) = get(&issuer.jwks_uri()).await;
    assert_eq!(
        after["keys"].as_array().map(Vec::len),
        Some(3),
        "retired, current, next"
    );

    let (_, stats) = get(&format!("{}/stats", issuer.url())).await;
    assert_eq!(stats["jwks_fetches"], 2);
    assert_eq!(stats["signing_kid"], rotation["signing_kid"]);
    assert_eq!(stats["last_fetch_kids"].as_array().map(Vec::len), Some(3));
    issuer.shutdown().await;
}

#[tokio::test]
async fn bad_requests_are_answered_with_what_is_served() {
    let issuer = issuer().await;
    let (status, answer) = post(
        &format!("{}/mint", issuer.url()),
        &json!({"case": "expired"}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing field `user`")),
        "{answer}"
    );
    let (status, answer) = get(&format!("{}/token", issuer.url())).await;
    assert_eq!(status, 404);
    assert_eq!(
        answer["error"]["message"],
        "stack-harness issuer: no route `GET /token`; it serves GET /.well-known/openid-configuration, GET /jwks, POST /mint, POST /rotate, GET /stats"
    );
    issuer.shutdown().await;
}

#[tokio::test]
async fn a_port_in_use_is_an_error_naming_it() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = held.local_addr().expect("addr").port();
    let options = IssuerOptions {
        port,
        issuer: None,
        audience: "llama-stack".to_owned(),
        key_recheck_period: Duration::from_secs(3600),
    };
    let err = Issuer::start(options)
        .await
        .err()
        .expect("the port is held");
    assert_eq!(
        err.to_string(),
        format!("cannot listen on 127.0.0.1:{port}: Address already in use (os error 98)")
    );
}

#[test]
fn a_key_the_stack_has_not_fetched_waits_for_its_next_look() {
    let now = Instant::now();
    let kids = ["a".to_owned(), "b".to_owned()];
    let hour = Duration::from_secs(3600);
    assert_eq!(
        refetch_wait(None, "c", hour, now),
        Duration::ZERO,
        "never fetched"
    );
    assert_eq!(
        refetch_wait(Some((now, &kids)), "b", hour, now),
        Duration::ZERO,
        "fetched"
    );
    assert_eq!(
        refetch_wait(Some((now, &kids)), "c", hour, now),
        Duration::from_millis(30_500),
        "the 30 s cooldown, with the default recheck period"
    );
    assert_eq!(
        refetch_wait(
            Some((now, &kids)),
            "c",
            Duration::from_secs(5),
            now + Duration::from_secs(2)
        ),
        Duration::from_millis(3_500),
        "a shorter recheck period, 2 s after the fetch"
    );
}
