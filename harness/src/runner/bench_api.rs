//! What `benches/selection.rs` measures of the runner's own path: ten
//! thousand registered tests collected into the catalog, planned and listed
//! as `--list --format terse` prints them. Not an API.

use std::collections::BTreeMap;
use std::path::Path;

use super::plan::plan;
use crate::cli::{Config, Defaults, RawArgs};
use crate::registry::{Catalog, TestDef, params};
use crate::report::write_list;

/// `n` registered tests over ten areas, each needing a text model, run with
/// three text models: `3 * n` trials.
pub struct Registered {
    defs: &'static [TestDef],
    config: Config,
}

fn never(
    _: std::sync::Arc<crate::client::TestContext>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>> {
    Box::pin(async { Ok(()) })
}

/// Leaks the definitions, as the linker's static slice would hold them.
pub fn synthetic_registered(n: usize) -> Registered {
    const AREAS: [&str; 10] = [
        "inference",
        "responses",
        "vector_io",
        "safety",
        "agents",
        "files",
        "batches",
        "embeddings",
        "tools",
        "conversations",
    ];
    let defs: Vec<TestDef> = (0..n)
        .map(|i| TestDef {
            module: Box::leak(
                format!(
                    "integration::{}::module_{}",
                    AREAS[i % AREAS.len()],
                    i / 100
                )
                .into_boxed_str(),
            ),
            function: Box::leak(format!("test_{i}").into_boxed_str()),
            file: "tests/integration/x.rs",
            line: 1,
            needs: &[params::text_model],
            marks: &["streaming"],
            cases: None,
            cases_from: None,
            xfails: &[],
            only: None,
            ignore: None,
            capabilities: &[],
            timeout_secs: None,
            needs_stack: true,
            run: never,
        })
        .collect();
    let args = RawArgs::parse_from([
        "bench",
        "--list",
        "--format",
        "terse",
        "--text-model",
        "a/m1,b/m2,c/m3",
    ])
    .expect("the bench's flags parse");
    let config = Config::resolve(args, &|_| None, &Defaults::default(), Path::new("/bench"))
        .expect("the bench's configuration resolves");
    Registered {
        defs: Vec::leak(defs),
        config,
    }
}

impl Registered {
    /// Collect, plan and print the list, as the runner does for `--list`.
    pub fn list_terse(&self, out: &mut Vec<u8>) -> usize {
        let catalog = Catalog::build(self.defs, &self.config.models, &BTreeMap::new())
            .expect("distinct names");
        let plan = plan(&catalog, &self.config).expect("no --exact");
        let listed = plan.listed();
        write_list(self.config.format, &listed, out).expect("writing to memory");
        listed.len()
    }
}
