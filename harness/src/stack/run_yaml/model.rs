//! The typed run config, field for field after Llama Stack 0.7.3's
//! `StackConfig` (llama_stack/core/datatypes.py) and storage classes
//! (llama_stack/core/storage/datatypes.py), with the stack's defaults.
//!
//! Values are as the stack sees them: after `${env...}` substitution. What
//! the harness never interprets (provider configs, `vector_stores`, `safety`,
//! `logging`, `connectors`) stays JSON.

use serde_json::{Map, Value};

/// The stack's `LLAMA_STACK_RUN_CONFIG_VERSION`.
pub(crate) const RUN_CONFIG_VERSION: i64 = 2;
pub(crate) const DEFAULT_PORT: u16 = 8321;

/// Providers configured for one API, in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiProviders {
    pub(crate) api: String,
    pub(crate) providers: Vec<Provider>,
}

/// One entry of `providers.<api>`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Provider {
    /// Where it sits, e.g. `providers.inference[2]` (index as in the file).
    pub(crate) path: String,
    /// `None` (or `__disabled__`): the provider is off, typically because its
    /// id is `${env.X:+id}` and X is unset.
    pub(crate) provider_id: Option<String>,
    pub(crate) provider_type: String,
    pub(crate) config: Map<String, Value>,
    /// An external provider's Python module; its type is then not in the
    /// pinned registry.
    pub(crate) module: Option<String>,
    /// `provider_id` before substitution, when it had `${env...}`.
    pub(crate) raw_provider_id: Option<String>,
    /// Top-level config values before substitution, for those that had
    /// `${env...}`, in file order: `("base_url", "${env.VLLM_URL:=}")`.
    pub(crate) raw_config: Vec<(String, String)>,
}

impl Provider {
    pub(crate) fn is_enabled(&self) -> bool {
        self.provider_id
            .as_deref()
            .is_some_and(|id| id != "__disabled__")
    }
}

/// `storage.backends.<name>.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BackendType {
    KvRedis,
    KvSqlite,
    KvPostgres,
    KvMongodb,
    SqlSqlite,
    SqlPostgres,
}

impl BackendType {
    pub(crate) const ALL: [BackendType; 6] = [
        BackendType::KvMongodb,
        BackendType::KvPostgres,
        BackendType::KvRedis,
        BackendType::KvSqlite,
        BackendType::SqlPostgres,
        BackendType::SqlSqlite,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            BackendType::KvRedis => "kv_redis",
            BackendType::KvSqlite => "kv_sqlite",
            BackendType::KvPostgres => "kv_postgres",
            BackendType::KvMongodb => "kv_mongodb",
            BackendType::SqlSqlite => "sql_sqlite",
            BackendType::SqlPostgres => "sql_postgres",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<BackendType> {
        BackendType::ALL.into_iter().find(|t| t.name() == name)
    }

    pub(crate) fn is_kv(self) -> bool {
        !matches!(self, BackendType::SqlSqlite | BackendType::SqlPostgres)
    }
}

/// A storage backend; fields per type, with the stack's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Backend {
    KvSqlite {
        namespace: Option<String>,
        db_path: String,
    },
    SqlSqlite {
        db_path: String,
        pool_pre_ping: bool,
    },
    KvRedis {
        namespace: Option<String>,
        host: String,
        port: i64,
    },
    KvPostgres(Box<PostgresKv>),
    KvMongodb(Box<MongoKv>),
    SqlPostgres(Box<PostgresSql>),
}

impl Backend {
    pub(crate) fn backend_type(&self) -> BackendType {
        match self {
            Backend::KvSqlite { .. } => BackendType::KvSqlite,
            Backend::SqlSqlite { .. } => BackendType::SqlSqlite,
            Backend::KvRedis { .. } => BackendType::KvRedis,
            Backend::KvPostgres(_) => BackendType::KvPostgres,
            Backend::KvMongodb(_) => BackendType::KvMongodb,
            Backend::SqlPostgres(_) => BackendType::SqlPostgres,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PostgresKv {
    pub(crate) namespace: Option<String>,
    pub(crate) host: String,
    /// `int | str` in the stack.
    pub(crate) port: Value,
    pub(crate) db: String,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
    pub(crate) ssl_mode: Option<String>,
    pub(crate) ca_cert_path: Option<String>,
    pub(crate) table_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MongoKv {
    pub(crate) namespace: Option<String>,
    pub(crate) host: String,
    pub(crate) port: i64,
    pub(crate) db: String,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) collection_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PostgresSql {
    pub(crate) host: String,
    pub(crate) port: Value,
    pub(crate) db: String,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
    pub(crate) pool_size: i64,
    pub(crate) max_overflow: i64,
    pub(crate) pool_recycle: i64,
    pub(crate) pool_pre_ping: bool,
}

/// A store's reference to a backend: `{namespace, backend}` for key-value
/// stores, `{table_name, backend}` for SQL ones.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreRef {
    pub(crate) backend: String,
    pub(crate) namespace: Option<String>,
    pub(crate) table_name: Option<String>,
    /// Only `inference` and `responses` have write-queue tuning.
    pub(crate) max_write_queue_size: Option<i64>,
    pub(crate) num_writers: Option<i64>,
    /// Not written in the file: the stack's default for this store.
    pub(crate) defaulted: bool,
}

/// `storage.stores`: `None` when set to null (or, for `responses`, absent).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stores {
    pub(crate) metadata: Option<StoreRef>,
    pub(crate) inference: Option<StoreRef>,
    pub(crate) conversations: Option<StoreRef>,
    pub(crate) responses: Option<StoreRef>,
    pub(crate) prompts: Option<StoreRef>,
    pub(crate) connectors: Option<StoreRef>,
}

impl Stores {
    /// Each store with its name and whether it needs a key-value backend.
    pub(crate) fn each(&self) -> [(&'static str, bool, Option<&StoreRef>); 6] {
        [
            ("metadata", true, self.metadata.as_ref()),
            ("inference", false, self.inference.as_ref()),
            ("conversations", false, self.conversations.as_ref()),
            ("responses", false, self.responses.as_ref()),
            ("prompts", true, self.prompts.as_ref()),
            ("connectors", true, self.connectors.as_ref()),
        ]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Storage {
    /// In file order.
    pub(crate) backends: Vec<(String, Backend)>,
    pub(crate) stores: Stores,
}

impl Storage {
    pub(crate) fn backend(&self, name: &str) -> Option<&Backend> {
        self.backends
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelType {
    Llm,
    Embedding,
    Rerank,
}

impl ModelType {
    pub(crate) fn from_name(name: &str) -> Option<ModelType> {
        match name {
            "llm" => Some(ModelType::Llm),
            "embedding" => Some(ModelType::Embedding),
            "rerank" => Some(ModelType::Rerank),
            _ => None,
        }
    }
}

/// `registered_resources.models[i]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegisteredModel {
    pub(crate) path: String,
    pub(crate) model_id: String,
    pub(crate) provider_id: Option<String>,
    pub(crate) provider_model_id: Option<String>,
    /// `None` only when written as null; absent means `llm`.
    pub(crate) model_type: Option<ModelType>,
    pub(crate) metadata: Map<String, Value>,
}

/// Any other registered resource (shield, vector store, dataset, scoring
/// function, benchmark, tool group): its id, its provider, and the entry as
/// written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegisteredResource {
    pub(crate) path: String,
    pub(crate) id: String,
    pub(crate) provider_id: Option<String>,
    pub(crate) fields: Map<String, Value>,
}

/// The resource lists under `registered_resources`, with the id key of each
/// entry and the API whose providers serve it.
pub(crate) const RESOURCE_KINDS: [(&str, &str, &str); 6] = [
    ("shields", "shield_id", "safety"),
    ("vector_stores", "vector_store_id", "vector_io"),
    ("datasets", "dataset_id", "datasetio"),
    ("scoring_fns", "scoring_fn_id", "scoring"),
    ("benchmarks", "benchmark_id", "eval"),
    ("tool_groups", "toolgroup_id", "tool_runtime"),
];

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RegisteredResources {
    pub(crate) models: Vec<RegisteredModel>,
    /// Keyed by list name (`shields`, `vector_stores`, ...), as in [`RESOURCE_KINDS`].
    pub(crate) others: Vec<(&'static str, Vec<RegisteredResource>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Server {
    pub(crate) port: u16,
    pub(crate) host: Option<String>,
    pub(crate) tls_certfile: Option<String>,
    pub(crate) tls_keyfile: Option<String>,
    pub(crate) tls_cafile: Option<String>,
    pub(crate) workers: i64,
    pub(crate) auth: Option<super::auth::Auth>,
    pub(crate) quota: Option<Value>,
    pub(crate) cors: Option<Value>,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            port: DEFAULT_PORT,
            host: None,
            tls_certfile: None,
            tls_keyfile: None,
            tls_cafile: None,
            workers: 1,
            auth: None,
            quota: None,
            cors: None,
        }
    }
}
