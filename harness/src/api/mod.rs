//! The served API against a committed baseline: the stack's `/openapi.json`
//! (OpenAPI 3.1, parsed with `oas3`), its `/v1/` operations compared by our
//! own rules (`diff`, over the schema views of `schema`), breaking changes
//! failing the `api_conformance` gate (`gate`) unless acknowledged
//! (`crate::breaking`), and `stack-harness api` (`command`), which writes
//! the baseline and diffs two specs (`report`).

mod command;
mod diff;
mod gate;
mod report;
mod schema;
mod spec;

pub(crate) use command::{ApiArgs, api_main};
pub use diff::{Finding, Severity, Side, diff};
pub use gate::{Against, Conformance, ConformanceError, Verdict, shared};
pub use spec::{ApiSpec, BASELINE, SpecError};
