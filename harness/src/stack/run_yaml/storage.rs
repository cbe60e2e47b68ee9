//! Typing `storage`: backends per type with the stack's defaults, and the
//! stores that refer to them (llama_stack/core/storage/datatypes.py).

use serde_json::Value;

use super::env::Env;
use super::error::Problem;
use super::model::*;
use super::node::{Kind, Node};
use super::read::{Reader, join};

const STORAGE_KEYS: &[&str] = &["backends", "stores"];
const STORES_KEYS: &[&str] = &[
    "metadata",
    "inference",
    "conversations",
    "responses",
    "prompts",
    "connectors",
];
const KV_REF_KEYS: &[&str] = &["namespace", "backend"];
const SQL_REF_KEYS: &[&str] = &["table_name", "backend"];
const QUEUED_SQL_REF_KEYS: &[&str] = &[
    "table_name",
    "backend",
    "max_write_queue_size",
    "num_writers",
];

impl Reader<'_> {
    /// `storage` as written, or the stack's default when the file has none.
    pub(super) fn storage_or_default(&mut self, node: Option<&Node>) -> Storage {
        match node {
            Some(node) => self.storage(node),
            None => default_storage(self.env),
        }
    }

    pub(super) fn storage(&mut self, node: &Node) -> Storage {
        let Some(fields) = self.fields(node, "storage", STORAGE_KEYS) else {
            return default_storage(self.env);
        };
        let backends = match fields.get("backends") {
            None => default_storage(self.env).backends,
            Some(node) => match &node.kind {
                Kind::Map(entries) => entries
                    .iter()
                    .filter_map(|(k, v)| {
                        let backend = self.backend(v, &join("storage.backends", &k.name))?;
                        Some((k.name.clone(), backend))
                    })
                    .collect(),
                _ => {
                    self.wrong_type(node, "storage.backends", "a mapping");
                    Vec::new()
                }
            },
        };
        let stores = match fields.get("stores") {
            None => default_stores(),
            Some(node) => self.stores(node),
        };
        Storage { backends, stores }
    }

    fn backend(&mut self, node: &Node, path: &str) -> Option<Backend> {
        let type_name = match node.get("type") {
            Some(t) => self.string(t, &join(path, "type"))?,
            None => {
                let needed_by = "every storage backend".to_owned();
                self.issue(
                    node.line,
                    join(path, "type"),
                    Problem::Missing { needed_by },
                );
                return None;
            }
        };
        let Some(backend_type) = BackendType::from_name(&type_name) else {
            let valid = BackendType::ALL
                .iter()
                .map(|t| t.name().to_owned())
                .collect();
            let line = node.entry("type").map_or(node.line, |(k, _)| k.line);
            self.issue(
                line,
                join(path, "type"),
                Problem::UnknownBackendType {
                    found: type_name,
                    valid,
                },
            );
            return None;
        };
        let needed_by = format!("a `{type_name}` backend");
        let backend = match backend_type {
            BackendType::KvSqlite => {
                let f = self.fields(node, path, &["type", "namespace", "db_path"])?;
                Backend::KvSqlite {
                    namespace: self.optional_string(&f, "namespace"),
                    db_path: self.required_string(&f, "db_path", &needed_by)?,
                }
            }
            BackendType::SqlSqlite => {
                let f = self.fields(node, path, &["type", "db_path", "pool_pre_ping"])?;
                Backend::SqlSqlite {
                    db_path: self.required_string(&f, "db_path", &needed_by)?,
                    pool_pre_ping: self.bool_or(&f, "pool_pre_ping", true),
                }
            }
            BackendType::KvRedis => {
                let f = self.fields(node, path, &["type", "namespace", "host", "port"])?;
                Backend::KvRedis {
                    namespace: self.optional_string(&f, "namespace"),
                    host: self.string_or(&f, "host", "localhost"),
                    port: self.int_or(&f, "port", 6379),
                }
            }
            BackendType::KvPostgres => {
                let known = &[
                    "type",
                    "namespace",
                    "host",
                    "port",
                    "db",
                    "user",
                    "password",
                    "ssl_mode",
                    "ca_cert_path",
                    "table_name",
                ];
                let f = self.fields(node, path, known)?;
                Backend::KvPostgres(Box::new(PostgresKv {
                    namespace: self.optional_string(&f, "namespace"),
                    host: self.string_or(&f, "host", "localhost"),
                    port: f.get("port").map_or(Value::from(5432), Node::to_json),
                    db: self.string_or(&f, "db", "llamastack"),
                    user: self.required_string(&f, "user", &needed_by)?,
                    password: self.optional_string(&f, "password"),
                    ssl_mode: self.optional_string(&f, "ssl_mode"),
                    ca_cert_path: self.optional_string(&f, "ca_cert_path"),
                    table_name: self.string_or(&f, "table_name", "llamastack_kvstore"),
                }))
            }
            BackendType::KvMongodb => {
                let known = &[
                    "type",
                    "namespace",
                    "host",
                    "port",
                    "db",
                    "user",
                    "password",
                    "collection_name",
                ];
                let f = self.fields(node, path, known)?;
                Backend::KvMongodb(Box::new(MongoKv {
                    namespace: self.optional_string(&f, "namespace"),
                    host: self.string_or(&f, "host", "localhost"),
                    port: self.int_or(&f, "port", 27017),
                    db: self.string_or(&f, "db", "llamastack"),
                    user: self.optional_string(&f, "user"),
                    password: self.optional_string(&f, "password"),
                    collection_name: self.string_or(&f, "collection_name", "llamastack_kvstore"),
                }))
            }
            BackendType::SqlPostgres => {
                let known = &[
                    "type",
                    "host",
                    "port",
                    "db",
                    "user",
                    "password",
                    "pool_size",
                    "max_overflow",
                    "pool_recycle",
                    "pool_pre_ping",
                ];
                let f = self.fields(node, path, known)?;
                Backend::SqlPostgres(Box::new(PostgresSql {
                    host: self.string_or(&f, "host", "localhost"),
                    port: f.get("port").map_or(Value::from(5432), Node::to_json),
                    db: self.string_or(&f, "db", "llamastack"),
                    user: self.required_string(&f, "user", &needed_by)?,
                    password: self.optional_string(&f, "password"),
                    pool_size: self.int_or(&f, "pool_size", 10),
                    max_overflow: self.int_or(&f, "max_overflow", 20),
                    pool_recycle: self.int_or(&f, "pool_recycle", -1),
                    pool_pre_ping: self.bool_or(&f, "pool_pre_ping", true),
                }))
            }
        };
        Some(backend)
    }

    fn stores(&mut self, node: &Node) -> Stores {
        let Some(f) = self.fields(node, "storage.stores", STORES_KEYS) else {
            return default_stores();
        };
        let defaults = default_stores();
        let store =
            |reader: &mut Self, key: &str, kv: bool, default: Option<StoreRef>| match f.get(key) {
                None => default,
                Some(node) if node.kind == Kind::Null => None,
                Some(node) => reader.store_ref(node, &f.path(key), kv, key),
            };
        Stores {
            metadata: store(self, "metadata", true, defaults.metadata),
            inference: store(self, "inference", false, defaults.inference),
            conversations: store(self, "conversations", false, defaults.conversations),
            responses: store(self, "responses", false, defaults.responses),
            prompts: store(self, "prompts", true, defaults.prompts),
            connectors: store(self, "connectors", true, defaults.connectors),
        }
    }

    fn store_ref(&mut self, node: &Node, path: &str, kv: bool, name: &str) -> Option<StoreRef> {
        let queued = matches!(name, "inference" | "responses");
        let known = match (kv, queued) {
            (true, _) => KV_REF_KEYS,
            (false, true) => QUEUED_SQL_REF_KEYS,
            (false, false) => SQL_REF_KEYS,
        };
        let f = self.fields(node, path, known)?;
        let needed_by = format!("the `{name}` store");
        let backend = self.required_string(&f, "backend", &needed_by);
        let (namespace, table_name) = if kv {
            (self.required_string(&f, "namespace", &needed_by), None)
        } else if name == "responses" {
            (
                None,
                Some(self.string_or(&f, "table_name", "openai_responses")),
            )
        } else {
            (None, self.required_string(&f, "table_name", &needed_by))
        };
        let (max_write_queue_size, num_writers) = if queued {
            (
                Some(self.int_or(&f, "max_write_queue_size", 10000)),
                Some(self.int_or(&f, "num_writers", 4)),
            )
        } else {
            (None, None)
        };
        Some(StoreRef {
            backend: backend?,
            namespace,
            table_name,
            max_write_queue_size,
            num_writers,
            defaulted: false,
        })
    }
}

/// `storage` when the file has none: sqlite under `$SQLITE_STORE_DIR`, else
/// under the stack's config directory (`_default_backends`).
fn default_storage(env: Env) -> Storage {
    let home = || {
        env("HOME")
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "~".to_owned())
    };
    let base = env("SQLITE_STORE_DIR")
        .filter(|dir| !dir.is_empty())
        .map(|dir| match dir.strip_prefix("~/") {
            Some(rest) => format!("{}/{rest}", home()),
            None => dir,
        })
        .or_else(|| {
            env("LLAMA_STACK_CONFIG_DIR")
                .map(|dir| format!("{}/distributions", dir.trim_end_matches('/')))
        })
        .unwrap_or_else(|| format!("{}/.llama/distributions", home()));
    Storage {
        backends: vec![
            (
                "kv_default".to_owned(),
                Backend::KvSqlite {
                    namespace: None,
                    db_path: format!("{base}/kvstore.db"),
                },
            ),
            (
                "sql_default".to_owned(),
                Backend::SqlSqlite {
                    db_path: format!("{base}/sql_store.db"),
                    pool_pre_ping: true,
                },
            ),
        ],
        stores: default_stores(),
    }
}

/// `ServerStoresConfig()`'s defaults.
fn default_stores() -> Stores {
    let kv = |namespace: &str| StoreRef {
        backend: "kv_default".to_owned(),
        namespace: Some(namespace.to_owned()),
        table_name: None,
        max_write_queue_size: None,
        num_writers: None,
        defaulted: true,
    };
    let sql = |table: &str| StoreRef {
        backend: "sql_default".to_owned(),
        namespace: None,
        table_name: Some(table.to_owned()),
        max_write_queue_size: None,
        num_writers: None,
        defaulted: true,
    };
    Stores {
        metadata: Some(kv("registry")),
        inference: Some(StoreRef {
            max_write_queue_size: Some(10000),
            num_writers: Some(4),
            ..sql("inference_store")
        }),
        conversations: Some(sql("openai_conversations")),
        responses: None,
        prompts: Some(kv("prompts")),
        connectors: Some(kv("connectors")),
    }
}
