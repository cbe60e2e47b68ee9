//! What the crate's unit tests share.

/// One HTTP client for the unit tests that talk to a server on loopback
/// (building one costs ~30 ms). No pooling: each test has its own runtime,
/// and a pooled connection would outlive it (and hold a server's graceful
/// shutdown open).
pub(crate) fn http_client() -> reqwest::Client {
    static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .expect("a plain HTTP client builds")
    });
    CLIENT.clone()
}
