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
//!
//! One deliberate departure: the stack turns any `distro_name` into text
//! (`[a]` becomes `"['a']"`); a list or mapping there is an error here.

use serde_json::{Map, Value};

use super::env::Env;
use super::error::{Issue, Problem};
use super::model::*;
use super::node::{Key, Kind, Node};
use super::pinned;

pub(super) struct Reader<'e> {
    pub(super) env: Env<'e>,
    pub(super) issues: Vec<Issue>,
    pub(super) warnings: Vec<Issue>,
}

/// A mapping being read, with the keys its class knows.
pub(super) struct Fields<'n> {
    node: &'n Node,
    entries: &'n [(Key, Node)],
    path: String,
    known: &'static [&'static str],
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
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

    pub(super) fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The line of `key`, or of this mapping when the key is absent.
    pub(super) fn line(&self, key: &str) -> u32 {
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

    pub(super) fn issue(&mut self, line: u32, key: String, problem: Problem) {
        self.issues.push(Issue { line, key, problem });
    }

    pub(super) fn wrong_type(&mut self, node: &Node, path: &str, expected: &'static str) {
        self.issue(
            node.line,
            path.to_owned(),
            Problem::WrongType {
                expected,
                found: node.describe(),
            },
        );
    }

    pub(super) fn fields<'n>(
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
    pub(super) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    /// A required `str` field.
    pub(super) fn required_string(
        &mut self,
        fields: &Fields,
        key: &str,
        needed_by: &str,
    ) -> Option<String> {
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
    pub(super) fn optional_string(&mut self, fields: &Fields, key: &str) -> Option<String> {
        match fields.get(key) {
            None => None,
            Some(node) if node.kind == Kind::Null => None,
            Some(node) => self.string(node, &fields.path(key)),
        }
    }

    /// A `str` field with a default.
    pub(super) fn string_or(&mut self, fields: &Fields, key: &str, default: &str) -> String {
        match fields.get(key) {
            None => default.to_owned(),
            Some(node) => self.string(node, &fields.path(key)).unwrap_or_default(),
        }
    }

    /// An `int` field with a default, lax: `8321`, `"8321"`, `8321.0`, `true`.
    pub(super) fn int_or(&mut self, fields: &Fields, key: &str, default: i64) -> i64 {
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
    pub(super) fn bool_or(&mut self, fields: &Fields, key: &str, default: bool) -> bool {
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
    pub(super) fn open_map(&mut self, fields: &Fields, key: &str) -> Map<String, Value> {
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
    pub(super) fn list<'n>(&mut self, fields: &Fields<'n>, key: &str) -> &'n [(usize, Node)] {
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
        let storage = self.storage_or_default(top.get("storage"));
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
            auth: f
                .get("auth")
                .filter(|n| n.kind != Kind::Null)
                .and_then(|n| self.auth(n, "server.auth")),
            quota: json("quota"),
            cors: json("cors"),
        }
    }
}
