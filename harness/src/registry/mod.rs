//! Test registration and collection: the `#[harness::test]` definitions the
//! linker gathered, expanded by parametrisation and data-driven cases into the
//! [`Catalog`] of trials a run may select from.

mod cases;
mod catalog;
mod def;
mod param;
pub mod vector_io;

pub use cases::Case;
pub(crate) use cases::{CaseError, load_cases};
pub(crate) use catalog::{Catalog, CatalogError, Ignore, Trial, TrialParams};
pub use def::{CaseSource, Only, TESTS, TestDef, TestFn, Xfail};
pub use param::{Kind, Param, params};
pub(crate) use param::{Models, PARAMS};
pub use vector_io::{Capability, capabilities};
