//! Typing a substituted YAML tree into the run config model, the way
//! pydantic's lax mode would (`"8321"` is a fine port), recording every
//! problem with its line and key path.
//!
//! Unknown keys: pydantic's default (`extra="ignore"`) applies to every class
//! of the stack's run config, so the stack silently drops a misspelt key. We
//! accept such a file too (a config the stack runs must load), but record a
//! warning with a "did you mean" so `distro_nmae:` does not go unnoticed.
//! Maps the stack leaves open (provider `config`, model `metadata`, and the
//! sections kept as JSON) are not checked.

use serde_json::{Map, Value};

use super::env::Env;
use super::error::{Issue, Problem};
use super::model::*;
use super::node::{Key, Kind, Node};
use super::pinned;

pub(super) struct Reader<'e> {
    env: Env<'e>,
    pub(super) issues: Vec<Issue>,
    pub(super) warnings: Vec<Issue>,
}

/// A mapping being read, with the keys its class knows.
struct Fields<'n> {
    node: &'n Node,
    entries: &'n [(Key, Node)],
    path: String,
    known: &'static [&'static str],
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        debug_assert!(
            self.known.contains(&key),
            "`{key}` is not declared for `{}`",
            self.path
        );
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The line of `key`, or of this mapping when the key is absent.
    fn line(&self, key: &str) -> u32 {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map_or(self.node.line, |(k, _)| k.line)
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

const TOP_KEYS: &[&str] = &[
    "version",
    "distro_name",
    "image_name",
    "container_image",
    "apis",
    "providers",
    "storage",
    "registered_resources",
    "logging",
    "server",
    "external_providers_dir",
    "external_apis_dir",
    "vector_stores",
    "safety",
    "connectors",
];
const PROVIDER_KEYS: &[&str] = &["provider_id", "provider_type", "config", "module"];
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
const RESOURCES_KEYS: &[&str] = &[
    "models",
    "shields",
    "vector_stores",
    "datasets",
    "scoring_fns",
    "benchmarks",
    "tool_groups",
];
const MODEL_KEYS: &[&str] = &[
    "model_id",
    "provider_id",
    "provider_model_id",
    "model_type",
    "metadata",
];
const SERVER_KEYS: &[&str] = &[
    "port",
    "tls_certfile",
    "tls_keyfile",
    "tls_cafile",
    "auth",
    "host",
    "quota",
    "cors",
    "workers",
];

/// Everything `read` produces; `mod.rs` adds the source name and lines.
pub(super) struct Read {
    pub(super) version: i64,
    pub(super) distro_name: String,
    pub(super) image_name: Option<String>,
    pub(super) container_image: Option<String>,
    pub(super) apis: Vec<String>,
    pub(super) providers: Vec<ApiProviders>,
    pub(super) storage: Storage,
    pub(super) registered_resources: RegisteredResources,
    pub(super) server: Server,
    pub(super) external_providers_dir: Option<String>,
    pub(super) external_apis_dir: Option<String>,
    pub(super) other: Map<String, Value>,
}

impl<'e> Reader<'e> {
    pub(super) fn new(env: Env<'e>) -> Reader<'e> {
        Reader {
            env,
            issues: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn issue(&mut self, line: u32, key: String, problem: Problem) {
        self.issues.push(Issue { line, key, problem });
    }

    fn wrong_type(&mut self, node: &Node, path: &str, expected: &'static str) {
        self.issue(
            node.line,
            path.to_owned(),
            Problem::WrongType {
                expected,
                found: node.describe(),
            },
        );
    }

    fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        known: &'static [&'static str],
    ) -> Option<Fields<'n>> {
        let Kind::Map(entries) = &node.kind else {
            self.wrong_type(node, path, "a mapping");
            return None;
        };
        for (key, _) in entries {
            if !known.contains(&key.name.as_str()) {
                let suggestion =
                    pinned::nearest(&key.name, known.iter().copied()).map(str::to_owned);
                self.warnings.push(Issue {
                    line: key.line,
                    key: join(path, &key.name),
                    problem: Problem::UnknownKey { suggestion },
                });
            }
        }
        Some(Fields {
            node,
            entries,
            path: path.to_owned(),
            known,
        })
    }

    /// A `str` field: present and a string.
    fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    /// A required `str` field.
    fn required_string(&mut self, fields: &Fields, key: &str, needed_by: &str) -> Option<String> {
        match fields.get(key) {
            Some(node) => self.string(node, &fields.path(key)),
            None => {
                let needed_by = needed_by.to_owned();
                self.issue(
                    fields.line(key),
                    fields.path(key),
                    Problem::Missing { needed_by },
                );
                None
            }
        }
    }

    /// A `str | None` field.
    fn optional_string(&mut self, fields: &Fields, key: &str) -> Option<String> {
        match fields.get(key) {
            None => None,
            Some(node) if node.kind == Kind::Null => None,
            Some(node) => self.string(node, &fields.path(key)),
        }
    }

    /// A `str` field with a default.
    fn string_or(&mut self, fields: &Fields, key: &str, default: &str) -> String {
        match fields.get(key) {
            None => default.to_owned(),
            Some(node) => self.string(node, &fields.path(key)).unwrap_or_default(),
        }
    }

    /// An `int` field with a default, lax: `8321`, `"8321"`, `8321.0`, `true`.
    fn int_or(&mut self, fields: &Fields, key: &str, default: i64) -> i64 {
        let Some(node) = fields.get(key) else {
            return default;
        };
        let value = match &node.kind {
            Kind::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            Kind::Str(s) => s.trim().parse().ok(),
            Kind::Bool(b) => Some(i64::from(*b)),
            _ => None,
        };
        value.unwrap_or_else(|| {
            self.wrong_type(node, &fields.path(key), "an integer");
            default
        })
    }

    /// A `bool` field with a default, lax like pydantic (`yes`, `on`, `1`...).
    fn bool_or(&mut self, fields: &Fields, key: &str, default: bool) -> bool {
        let Some(node) = fields.get(key) else {
            return default;
        };
        let value = match &node.kind {
            Kind::Bool(b) => Some(*b),
            Kind::Number(n) => match n.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Kind::Str(s) => match s.to_lowercase().as_str() {
                "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
                "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
                _ => None,
            },
            _ => None,
        };
        value.unwrap_or_else(|| {
            self.wrong_type(node, &fields.path(key), "a boolean");
            default
        })
    }

    /// A `dict[str, Any]` field with `{}` as default (null is an error).
    fn open_map(&mut self, fields: &Fields, key: &str) -> Map<String, Value> {
        match fields.get(key) {
            None => Map::new(),
            Some(node) => match node.to_json() {
                Value::Object(map) => map,
                _ => {
                    self.wrong_type(node, &fields.path(key), "a mapping");
                    Map::new()
                }
            },
        }
    }

    /// A list field with `[]` as default, items with their file index.
    fn list<'n>(&mut self, fields: &Fields<'n>, key: &str) -> &'n [(usize, Node)] {
        match fields.get(key).map(|n| (n, &n.kind)) {
            None => &[],
            Some((_, Kind::Seq(items))) => items,
            Some((node, _)) => {
                self.wrong_type(node, &fields.path(key), "a list");
                &[]
            }
        }
    }

    pub(super) fn read(&mut self, root: &Node) -> Option<Read> {
        let top = self.fields(root, "", TOP_KEYS)?;
        let version = self.int_or(&top, "version", RUN_CONFIG_VERSION);
        // The stack casts `distro_name` to a string (`cast_distro_name_to_string`).
        let distro_name = match top.get("distro_name") {
            None => None,
            Some(node) => match &node.kind {
                Kind::Null => None,
                Kind::Str(s) => Some(s.clone()),
                Kind::Number(n) => Some(n.to_string()),
                Kind::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
                Kind::Seq(_) | Kind::Map(_) => {
                    self.wrong_type(node, "distro_name", "a string");
                    Some(String::new())
                }
            },
        };
        let image_name = self.optional_string(&top, "image_name");
        if image_name.is_some() {
            let advice = "use `distro_name` instead".to_owned();
            self.warnings.push(Issue {
                line: top.line("image_name"),
                key: "image_name".to_owned(),
                problem: Problem::Deprecated { advice },
            });
        }
        let distro_name = match distro_name.or_else(|| image_name.clone()) {
            Some(name) => name,
            None => {
                self.issue(
                    top.line("distro_name"),
                    "distro_name".to_owned(),
                    Problem::MissingDistroName,
                );
                String::new()
            }
        };
        let container_image = self.optional_string(&top, "container_image");
        let apis = self
            .list(&top, "apis")
            .iter()
            .filter_map(|(i, node)| self.string(node, &format!("apis[{i}]")))
            .collect();
        let providers = match top.get("providers") {
            Some(node) => self.providers(node),
            None => {
                let needed_by = "every run config".to_owned();
                self.issue(
                    top.line("providers"),
                    "providers".to_owned(),
                    Problem::Missing { needed_by },
                );
                Vec::new()
            }
        };
        let storage = match top.get("storage") {
            Some(node) => self.storage(node),
            None => default_storage(self.env),
        };
        let registered_resources = match top.get("registered_resources") {
            Some(node) => self.resources(node),
            None => RegisteredResources::default(),
        };
        let server = match top.get("server") {
            Some(node) => self.server(node),
            None => Server::default(),
        };
        let external_providers_dir = self.optional_string(&top, "external_providers_dir");
        let external_apis_dir = self.optional_string(&top, "external_apis_dir");
        let other = ["logging", "vector_stores", "safety", "connectors"]
            .into_iter()
            .filter_map(|key| top.get(key).map(|node| (key.to_owned(), node.to_json())))
            .collect();
        Some(Read {
            version,
            distro_name,
            image_name,
            container_image,
            apis,
            providers,
            storage,
            registered_resources,
            server,
            external_providers_dir,
            external_apis_dir,
            other,
        })
    }

    fn providers(&mut self, node: &Node) -> Vec<ApiProviders> {
        let Kind::Map(entries) = &node.kind else {
            self.wrong_type(node, "providers", "a mapping");
            return Vec::new();
        };
        let mut by_api = Vec::new();
        for (key, list) in entries {
            let path = join("providers", &key.name);
            let Kind::Seq(items) = &list.kind else {
                self.wrong_type(list, &path, "a list");
                continue;
            };
            let providers = items
                .iter()
                .filter_map(|(i, item)| self.provider(item, format!("{path}[{i}]")))
                .collect();
            by_api.push(ApiProviders {
                api: key.name.clone(),
                providers,
            });
        }
        by_api
    }

    fn provider(&mut self, node: &Node, path: String) -> Option<Provider> {
        let fields = self.fields(node, &path, PROVIDER_KEYS)?;
        let (provider_id, raw_provider_id) = match fields.get("provider_id") {
            None => {
                let needed_by = "every provider (null disables it)".to_owned();
                self.issue(
                    fields.line("provider_id"),
                    fields.path("provider_id"),
                    Problem::Missing { needed_by },
                );
                (None, None)
            }
            Some(id) => (self.optional_string(&fields, "provider_id"), id.raw.clone()),
        };
        let provider_type = self.required_string(&fields, "provider_type", "every provider")?;
        let config = self.open_map(&fields, "config");
        let raw_config = match fields.get("config").map(|c| &c.kind) {
            Some(Kind::Map(entries)) => entries
                .iter()
                .filter_map(|(k, v)| v.raw.as_ref().map(|raw| (k.name.clone(), raw.clone())))
                .collect(),
            _ => Vec::new(),
        };
        let module = self.optional_string(&fields, "module");
        Some(Provider {
            path,
            provider_id,
            provider_type,
            config,
            module,
            raw_provider_id,
            raw_config,
        })
    }

    fn storage(&mut self, node: &Node) -> Storage {
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

    fn resources(&mut self, node: &Node) -> RegisteredResources {
        let Some(f) = self.fields(node, "registered_resources", RESOURCES_KEYS) else {
            return RegisteredResources::default();
        };
        let mut models = Vec::new();
        for (i, item) in self.list(&f, "models") {
            models.extend(self.model(item, format!("registered_resources.models[{i}]")));
        }
        let mut others = Vec::new();
        for (list, id_key, _) in RESOURCE_KINDS {
            let mut resources = Vec::new();
            for (i, item) in self.list(&f, list) {
                let path = format!("registered_resources.{list}[{i}]");
                resources.extend(self.resource(item, path, id_key, list == "tool_groups"));
            }
            if list == "tool_groups" && !resources.is_empty() {
                let advice = "the stack ignores it and registers tool groups from the tool_runtime providers".to_owned();
                self.warnings.push(Issue {
                    line: f.line(list),
                    key: f.path(list),
                    problem: Problem::Deprecated { advice },
                });
            }
            others.push((list, resources));
        }
        RegisteredResources { models, others }
    }

    fn model(&mut self, node: &Node, path: String) -> Option<RegisteredModel> {
        let f = self.fields(node, &path, MODEL_KEYS)?;
        let model_id = self.required_string(&f, "model_id", "every registered model")?;
        let model_type = match f.get("model_type") {
            None => Some(ModelType::Llm),
            Some(node) if node.kind == Kind::Null => None,
            Some(node) => {
                let name = self.string(node, &f.path("model_type"))?;
                let Some(model_type) = ModelType::from_name(&name) else {
                    self.issue(
                        f.line("model_type"),
                        f.path("model_type"),
                        Problem::UnknownModelType { found: name },
                    );
                    return None;
                };
                Some(model_type)
            }
        };
        Some(RegisteredModel {
            model_id,
            provider_id: self.optional_string(&f, "provider_id"),
            provider_model_id: self.optional_string(&f, "provider_model_id"),
            model_type,
            metadata: self.open_map(&f, "metadata"),
            path,
        })
    }

    fn resource(
        &mut self,
        node: &Node,
        path: String,
        id_key: &str,
        needs_provider: bool,
    ) -> Option<RegisteredResource> {
        let Value::Object(fields) = node.to_json() else {
            self.wrong_type(node, &path, "a mapping");
            return None;
        };
        let id = match node.get(id_key) {
            Some(id) => self.string(id, &join(&path, id_key))?,
            None => {
                let needed_by = "every registered resource of this kind".to_owned();
                self.issue(
                    node.line,
                    join(&path, id_key),
                    Problem::Missing { needed_by },
                );
                return None;
            }
        };
        let provider_id = match node.get("provider_id") {
            None
            | Some(Node {
                kind: Kind::Null, ..
            }) if needs_provider => {
                let needed_by = "every tool group".to_owned();
                self.issue(
                    node.line,
                    join(&path, "provider_id"),
                    Problem::Missing { needed_by },
                );
                return None;
            }
            None
            | Some(Node {
                kind: Kind::Null, ..
            }) => None,
            Some(id) => Some(self.string(id, &join(&path, "provider_id"))?),
        };
        Some(RegisteredResource {
            path,
            id,
            provider_id,
            fields,
        })
    }

    fn server(&mut self, node: &Node) -> Server {
        let Some(f) = self.fields(node, "server", SERVER_KEYS) else {
            return Server::default();
        };
        let port = self.int_or(&f, "port", i64::from(DEFAULT_PORT));
        let port = match u16::try_from(port) {
            Ok(port) if port >= 1024 => port,
            _ => {
                self.issue(
                    f.line("port"),
                    f.path("port"),
                    Problem::PortOutOfRange { port },
                );
                DEFAULT_PORT
            }
        };
        let json = |key: &str| {
            f.get(key)
                .filter(|n| n.kind != Kind::Null)
                .map(Node::to_json)
        };
        Server {
            port,
            host: self.optional_string(&f, "host"),
            tls_certfile: self.optional_string(&f, "tls_certfile"),
            tls_keyfile: self.optional_string(&f, "tls_keyfile"),
            tls_cafile: self.optional_string(&f, "tls_cafile"),
            workers: self.int_or(&f, "workers", 1),
            auth: json("auth"),
            quota: json("quota"),
            cors: json("cors"),
        }
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
