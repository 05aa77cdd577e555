//! What a valid OAuth access token adds to a call: the built binary over streamable HTTP
//! (stateless, so every request stands alone and is checked on its own) against its sandbox, with
//! a local identity provider started here (OpenID discovery and a JWKS with one Ed25519 key). The
//! same sequential `get_databases` calls are timed with a static bearer token (MCP_AUTH_TOKEN)
//! and with a signed access token (JWKS cached after the first call); the difference of the
//! medians is the token's cost.
//!
//! Run with `cargo bench --bench oauth`.

// A benchmark harness, like a test: failing loudly is what it should do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_altr-mcp");
const PUBLIC: &str = "https://altr-mcp.bench/mcp";
const CALLS: usize = 2000;

// Each benchmark uses part of the shared process helpers.
#[allow(dead_code)]
#[path = "support/proc.rs"]
mod proc;

/// The server over stateless streamable HTTP against its sandbox, with these settings.
fn server(env: &[(&str, &str)]) -> proc::HttpServer {
    let mut cmd = Command::new(BIN);
    cmd.arg("--sandbox")
        .env_clear()
        .env("MCP_TRANSPORT", "streamable-http")
        .env("MCP_PORT", "0")
        .env("MCP_STATELESS", "true")
        .env("LOG_LEVEL", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    proc::http_server(cmd)
}

/// A local identity provider; the issuer URL and a signed token for `PUBLIC` with altr:read.
async fn identity_provider() -> (String, String) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.public_key().as_ref());
    let jwks =
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA"}]});
    let discovery = json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")});
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        )
        .route("/jwks", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": issuer, "aud": PUBLIC, "sub": "bench", "scope": "altr:read", "exp": now + 3600});
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k1".into());
    let token =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(pkcs8.as_ref())).unwrap();
    (issuer, token)
}

/// The median and p99 of `CALLS` sequential calls with this bearer token.
async fn time_calls(url: &str, token: &str) -> (Duration, Duration) {
    let http = reqwest::Client::new();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_databases", "arguments": {}}}).to_string();
    let mut times = Vec::with_capacity(CALLS);
    for i in 0..CALLS + 50 {
        let start = Instant::now();
        let r = http
            .post(url)
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.windows(14).any(|w| w == b"\"success\":true"));
        // The first 50 warm up (connections, the JWKS fetch).
        if i >= 50 {
            times.push(start.elapsed());
        }
    }
    times.sort();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (issuer, token) = identity_provider().await;
        let static_token = "bench-static-token-0123456789";
        let plain = server(&[("MCP_AUTH_TOKEN", static_token)]);
        let (p50_static, p99_static) = time_calls(&plain.url, static_token).await;
        drop(plain);
        let oauth = server(&[("MCP_OAUTH_ISSUER", &issuer), ("MCP_PUBLIC_URL", PUBLIC)]);
        let (p50_oauth, p99_oauth) = time_calls(&oauth.url, &token).await;
        println!("oauth: {CALLS} sequential get_databases calls over streamable HTTP (stateless)");
        println!("  static bearer token:  p50 {p50_static:?}  p99 {p99_static:?}");
        println!("  OAuth access token:   p50 {p50_oauth:?}  p99 {p99_oauth:?}");
        println!(
            "  a valid token adds (p50): {:?}",
            p50_oauth.saturating_sub(p50_static)
        );
    });
}
