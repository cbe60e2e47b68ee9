//! The per-test context and the shared HTTP client.

/// What a test receives.
pub struct TestContext {
    id: String,
}

impl TestContext {
    /// The trial's full name, parameters included.
    pub fn id(&self) -> &str {
        &self.id
    }
}
