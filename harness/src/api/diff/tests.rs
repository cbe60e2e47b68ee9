//! Each rule on a pair of small specs, with the exact finding.

use serde_json::{Value, json};

use super::*;

/// A 3.1 spec with these paths and component schemas.
fn spec(paths: Value, schemas: Value) -> Spec {
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    });
    oas3::from_json(doc.to_string()).expect("a valid spec")
}

/// One line per finding: severity, side, pointer, message, operations.
fn found(old: &Spec, new: &Spec) -> Vec<String> {
    diff(old, new)
        .iter()
        .map(|f| {
            let ops: Vec<&str> = f.operations.iter().map(String::as_str).collect();
            format!("{:?} {:?} {f} [{}]", f.severity, f.side, ops.join("; "))
        })
        .collect()
}

fn ok(schema: Value) -> Value {
    json!({"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}})
}

fn get(schema: Value) -> Value {
    json!({"get": {"responses": ok(schema)}})
}

fn post(body: Value) -> Value {
    json!({"post": {
        "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
        "responses": ok(json!({"type": "object"})),
    }})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

#[test]
fn a_removed_path_breaks_and_a_new_one_informs() {
    let old = spec(json!({"/v1/tools": get(json!({}))}), json!({}));
    let new = spec(json!({"/v1/admin/tools": get(json!({}))}), json!({}));
    assert_eq!(
        found(&old, &new),
        [
            "Breaking Old /paths/~1v1~1tools: removed path `/v1/tools` (GET) [GET /v1/tools]",
            "Info New /paths/~1v1~1admin~1tools: new path `/v1/admin/tools` (GET) [GET /v1/admin/tools]",
        ]
    );
}

#[test]
fn a_removed_method_breaks_and_a_new_one_informs() {
    let mut both = get(json!({}));
    both["delete"] = both["get"].clone();
    let old = spec(json!({"/v1/x": both}), json!({}));
    let mut posted = get(json!({}));
    posted["post"] = posted["get"].clone();
    let new = spec(json!({"/v1/x": posted}), json!({}));
    assert_eq!(
        found(&old, &new),
        [
            "Breaking Old /paths/~1v1~1x/delete: removed operation `DELETE /v1/x` [DELETE /v1/x]",
            "Info New /paths/~1v1~1x/post: new operation `POST /v1/x` [POST /v1/x]",
        ]
    );
}

#[test]
fn only_v1_paths_are_compared() {
    let old = spec(
        json!({"/v1alpha/admin/x": get(json!({})), "/health": get(json!({}))}),
        json!({}),
    );
    let new = spec(json!({}), json!({}));
    assert_eq!(found(&old, &new), Vec::<String>::new());
}

#[test]
fn a_new_required_parameter_breaks_and_an_optional_one_informs() {
    let with = |params: Value| {
        spec(
            json!({"/v1/x": {"get": {"parameters": params, "responses": ok(json!({}))}}}),
            json!({}),
        )
    };
    let old = with(json!([{"name": "limit", "in": "query", "schema": {"type": "integer"}}]));
    let new = with(json!([
        {"name": "limit", "in": "query", "required": true, "schema": {"type": "integer"}},
        {"name": "order", "in": "query", "required": true, "schema": {"type": "string"}},
        {"name": "after", "in": "query", "schema": {"type": "string"}},
    ]));
    assert_eq!(
        found(&old, &new),
        [
            "Breaking New /paths/~1v1~1x/get/parameters/0: query parameter `limit` is now required [GET /v1/x]",
            "Breaking New /paths/~1v1~1x/get/parameters/1: new required query parameter `order` [GET /v1/x]",
            "Info New /paths/~1v1~1x/get/parameters/2: new optional query parameter `after` [GET /v1/x]",
        ]
    );
}

#[test]
fn a_new_required_request_field_breaks() {
    let old = spec(
        json!({"/v1/x": post(object(json!({"model": {"type": "string"}}), &["model"]))}),
        json!({}),
    );
    let new = spec(
        json!({"/v1/x": post(object(
            json!({"model": {"type": "string"}, "input": {"type": "string"}, "seed": {"type": "integer"}}),
            &["model", "input"],
        ))}),
        json!({}),
    );
    assert_eq!(
        found(&old, &new),
        [
            "Breaking New /paths/~1v1~1x/post/requestBody/content/application~1json/schema/properties/input: new required field `input` [POST /v1/x]",
            "Info New /paths/~1v1~1x/post/requestBody/content/application~1json/schema/properties/seed: new optional field `seed` [POST /v1/x]",
        ]
    );
}

#[test]
fn a_narrowed_request_type_breaks_and_a_widened_one_informs() {
    let body = |stop: Value, n: Value| post(object(json!({"stop": stop, "n": n}), &[]));
    let old = spec(
        json!({"/v1/x": body(json!({"type": ["string", "array"]}), json!({"type": "integer"}))}),
        json!({}),
    );
    let new = spec(
        json!({"/v1/x": body(json!({"type": "string"}), json!({"type": "number"}))}),
        json!({}),
    );
    let at = "/paths/~1v1~1x/post/requestBody/content/application~1json/schema/properties";
    assert_eq!(
        found(&old, &new),
        [
            format!(
                "Breaking New {at}/stop: type narrowed from `array | string` to `string` [POST /v1/x]"
            ),
            format!("Info New {at}/n: type widened from `integer` to `number` [POST /v1/x]"),
        ]
    );
}

#[test]
fn a_narrowed_request_enum_or_lost_null_breaks() {
    let body = |purpose: Value| post(object(json!({"purpose": purpose}), &[]));
    let old = spec(
        json!({"/v1/files": body(json!({"anyOf": [{"enum": ["assistants", "batch"], "type": "string"}, {"type": "null"}]}))}),
        json!({}),
    );
    let new = spec(
        json!({"/v1/files": body(json!({"enum": ["batch", "vision"], "type": "string"}))}),
        json!({}),
    );
    let at =
        "/paths/~1v1~1files/post/requestBody/content/application~1json/schema/properties/purpose";
    assert_eq!(
        found(&old, &new),
        [
            format!("Breaking New {at}: enum no longer has \"assistants\" [POST /v1/files]"),
            format!("Breaking New {at}: no longer accepts null [POST /v1/files]"),
            format!("Info New {at}: enum now also has \"vision\" [POST /v1/files]"),
        ]
    );
}

#[test]
fn a_removed_or_optional_response_field_breaks_once_for_every_operation() {
    let conversation = |properties: Value, required: &[&str]| json!({"Conversation": object(properties, required)});
    let paths = json!({
        "/v1/conversations": post(json!({"type": "object"})),
        "/v1/conversations/{id}": get(json!({"$ref": "#/components/schemas/Conversation"})),
    });
    let mut paths = paths;
    paths["/v1/conversations"]["post"]["responses"] =
        ok(json!({"$ref": "#/components/schemas/Conversation"}));
    let old = spec(
        paths.clone(),
        conversation(
            json!({"id": {"type": "string"}, "items": {"type": "array"}, "created_at": {"type": "integer"}}),
            &["id", "created_at"],
        ),
    );
    let new = spec(
        paths,
        conversation(
            json!({"id": {"type": "string"}, "created_at": {"type": "integer"}, "metadata": {"type": "object"}}),
            &["id"],
        ),
    );
    let ops = "GET /v1/conversations/{id}; POST /v1/conversations";
    assert_eq!(
        found(&old, &new),
        [
            format!(
                "Breaking New /components/schemas/Conversation/properties/created_at: response field `created_at` is no longer required [{ops}]"
            ),
            format!(
                "Breaking Old /components/schemas/Conversation/properties/items: removed response field `items` [{ops}]"
            ),
            format!(
                "Info New /components/schemas/Conversation/properties/metadata: new response field `metadata` [{ops}]"
            ),
        ]
    );
}

#[test]
fn a_response_that_may_now_be_null_or_another_type_breaks() {
    let old = spec(
        json!({"/v1/x": get(object(json!({"n": {"type": "integer"}, "s": {"type": "string"}}), &[]))}),
        json!({}),
    );
    let new = spec(
        json!({"/v1/x": get(object(json!({"n": {"type": ["integer", "null"]}, "s": {"type": ["string", "integer"]}}), &[]))}),
        json!({}),
    );
    let at = "/paths/~1v1~1x/get/responses/200/content/application~1json/schema/properties";
    assert_eq!(
        found(&old, &new),
        [
            format!("Breaking New {at}/n: may now be null [GET /v1/x]"),
            format!(
                "Breaking New {at}/s: type widened from `string` to `integer | string` [GET /v1/x]"
            ),
        ]
    );
}

#[test]
fn a_response_that_became_a_union_breaks_for_each_new_form() {
    let schemas = json!({
        "OpenAIList": object(json!({"data": {"type": "array"}}), &["data"]),
        "AnthropicList": object(json!({"models": {"type": "array"}}), &["models"]),
    });
    let old = spec(
        json!({"/v1/models": get(json!({"$ref": "#/components/schemas/OpenAIList"}))}),
        schemas.clone(),
    );
    let new = spec(
        json!({"/v1/models": get(json!({"oneOf": [
            {"$ref": "#/components/schemas/OpenAIList"},
            {"$ref": "#/components/schemas/AnthropicList"},
        ]}))}),
        schemas,
    );
    assert_eq!(
        found(&old, &new),
        [
            "Breaking New /paths/~1v1~1models/get/responses/200/content/application~1json/schema: may now also be the `AnthropicList` form [GET /v1/models]"
        ]
    );
}

#[test]
fn a_removed_success_response_or_media_type_breaks() {
    let old = spec(
        json!({"/v1/x": get(json!({})), "/v1/y": get(json!({}))}),
        json!({}),
    );
    let mut created = json!({"get": {"responses": {"201": {"description": "made"}}}});
    created["get"]["responses"]["201"]["content"] = json!({"application/json": {"schema": {}}});
    let text = json!({"get": {"responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {}}}}}}});
    let new = spec(json!({"/v1/x": created, "/v1/y": text}), json!({}));
    assert_eq!(
        found(&old, &new),
        [
            "Breaking Old /paths/~1v1~1x/get/responses/200: removed response `200` [GET /v1/x]",
            "Breaking Old /paths/~1v1~1y/get/responses/200/content/application~1json: response `200` no longer has media type `application/json` [GET /v1/y]",
            "Info New /paths/~1v1~1x/get/responses/201: new response `201` [GET /v1/x]",
            "Info New /paths/~1v1~1y/get/responses/200/content/text~1plain: response `200` has a new media type `text/plain` [GET /v1/y]",
        ]
    );
}

#[test]
fn a_recursive_schema_is_compared_once_and_ends() {
    let node = |extra: Value| {
        let mut properties =
            json!({"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}});
        properties
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"Node": object(properties, &[])})
    };
    let paths = json!({"/v1/tree": get(json!({"$ref": "#/components/schemas/Node"}))});
    let old = spec(paths.clone(), node(json!({"name": {"type": "string"}})));
    let new = spec(paths, node(json!({})));
    assert_eq!(
        found(&old, &new),
        [
            "Breaking Old /components/schemas/Node/properties/name: removed response field `name` [GET /v1/tree]"
        ]
    );
}

#[test]
fn the_same_spec_has_no_findings() {
    let paths = json!({"/v1/x": post(object(json!({"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}}), &["a"]))});
    assert_eq!(
        found(&spec(paths.clone(), json!({})), &spec(paths, json!({}))),
        Vec::<String>::new()
    );
}
