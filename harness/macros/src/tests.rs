//! The attribute's arguments as a test author writes them, and the exact
//! error each mistake gets, at the place it points to.

use proc_macro2::TokenStream as TokenStream2;
use syn::{Ident, ItemFn};

use super::{Args, expand};

/// The error for `attr`, and the column (in `attr`) it points at.
fn error(attr: &str) -> (String, usize) {
    let tokens: TokenStream2 = attr.parse().expect("tokens");
    match syn::parse2::<Args>(tokens) {
        Ok(_) => panic!("`{attr}` should not parse"),
        Err(e) => (e.to_string(), e.span().start().column),
    }
}

/// The expansion of `#[harness::test(attr)] async fn t(..)`, or its error.
fn expanded(attr: &str) -> syn::Result<String> {
    let args = syn::parse_str::<Args>(attr)?;
    let func: ItemFn =
        syn::parse_str("async fn t(ctx: &TestContext) -> Result { Ok(()) }").expect("a test fn");
    expand(args, func).map(|t| t.to_string())
}

#[test]
fn parameters_are_paths_into_the_harness_table() {
    let out = expanded("text_model, embedding_dimension").expect("expands");
    assert!(
        out.contains(
            "needs : & [:: harness :: __private :: params :: text_model , :: harness :: __private :: params :: embedding_dimension]"
        ),
        "{out}"
    );
}

#[test]
fn an_unknown_parameter_is_left_for_rustc_at_its_span() {
    // The macro knows no parameter names: `text_modle` becomes a path rustc
    // cannot find ("cannot find value `text_modle` in module `::harness::__private::params`"),
    // reported where the test wrote it.
    let attr = "marks(chat), text_modle";
    assert_eq!(
        column_in_expansion(attr, "text_modle"),
        attr.find("text_modle").expect("in attr")
    );
}

/// Where, in `attr`, the expansion's identifier `name` points.
fn column_in_expansion(attr: &str, name: &str) -> usize {
    let args = syn::parse_str::<Args>(attr).expect("the attribute parses");
    let func: ItemFn =
        syn::parse_str("async fn t(ctx: &TestContext) -> Result { Ok(()) }").expect("a test fn");
    let tokens = expand(args, func).expect("expands");
    let ident = find(tokens, name).expect("the name is in the expansion");
    ident.span().start().column
}

fn find(tokens: TokenStream2, name: &str) -> Option<Ident> {
    tokens.into_iter().find_map(|t| match t {
        proc_macro2::TokenTree::Ident(i) if i == name => Some(i),
        proc_macro2::TokenTree::Group(g) => find(g.stream(), name),
        _ => None,
    })
}

#[test]
fn xfail_states_the_failure_it_expects() {
    let out = expanded(r#"xfail(reason = "400, not 404", status = 400, contains = "not found")"#)
        .expect("expands");
    assert!(
        out.contains(
            r#"xfails : & [:: harness :: __private :: Xfail { reason : "400, not 404" , status : :: core :: option :: Option :: Some (400) , contains : :: core :: option :: Option :: Some ("not found") , stacks : :: core :: option :: Option :: None , }]"#
        ),
        "{out}"
    );
    let out = expanded(r#"xfail(contains = "no [DONE]", reason = "r")"#).expect("expands");
    assert!(
        out.contains("status : :: core :: option :: Option :: None , contains : :: core :: option :: Option :: Some (\"no [DONE]\")"),
        "{out}"
    );
}

#[test]
fn every_mistake_gets_its_message_where_it_was_made() {
    let table: &[(&str, &str, &str)] = &[
        // (attribute, message, the attribute from where the error points)
        (
            r#"xfail = "the stack drops `n`""#,
            r#"`xfail` states the failure it expects: write xfail(reason = "the stack drops `n`", status = 404) and/or contains = "<text of the failure>""#,
            r#"= "the stack drops `n`""#,
        ),
        (
            "text_model, xfail",
            r#"`xfail` states the failure it expects: xfail(reason = "..", status = 404) and/or contains = "<text of the failure>""#,
            "xfail",
        ),
        (
            r#"xfail(reason = "flaky")"#,
            r#"`xfail` must state the failure it expects, so that no other failure passes for it: xfail(reason = "..", status = 404) and/or contains = "<text of the failure>""#,
            r#"xfail(reason = "flaky")"#,
        ),
        (
            "xfail(status = 400)",
            r#"`xfail` needs a `reason = ".."`: xfail(reason = "..", status = 404) and/or contains = "<text of the failure>""#,
            "xfail(status = 400)",
        ),
        (
            r#"xfail(reason = "r", status = 4000)"#,
            "`status` is an HTTP status, 100 to 599",
            "4000)",
        ),
        (
            r#"xfail(reason = "r", status = 400, code = 2)"#,
            r#"unknown `xfail` argument `code`; expected reason = "..", status = N, contains = "..", stacks = "..""#,
            "code = 2)",
        ),
        (
            r#"xfail(reason = "r", contains = "")"#,
            "`contains` needs a non-empty string",
            r#""")"#,
        ),
        (
            r#"xfail(reason = "r", status = 400, status = 404)"#,
            "`status` given twice",
            "status = 404)",
        ),
        (
            "text_model, text_model",
            "`text_model` given twice",
            "text_model",
        ),
        (
            "timeout_secs = 3",
            r#"unknown argument `timeout_secs`; expected marks(..), needs(..), cases = "..", cases_from = path, xfail(reason = "..", status = N, contains = "..", stacks = ".."), only(stacks = "..", reason = ".."), ignore = "..", timeout = SECS, stack = false, or the bare name of a parameter the test needs (`text_model`)"#,
            "timeout_secs = 3",
        ),
        ("timeout = 0", "`timeout` must be at least 1 second", "0"),
        (
            r#"ignore = " ""#,
            "`ignore` needs a non-empty string",
            r#"" ""#,
        ),
        (
            "text_model, only",
            r#"`only` names the stacks and why: only(stacks = "ogx>=1.5", reason = "<what the other stacks do instead>")"#,
            "only",
        ),
        (
            r#"only(stacks = "ogx")"#,
            r#"`only` needs a `reason = ".."`: only(stacks = "ogx>=1.5", reason = "<what the other stacks do instead>")"#,
            r#"only(stacks = "ogx")"#,
        ),
        (
            r#"only(reason = "r")"#,
            r#"`only` needs `stacks = ".."`: only(stacks = "ogx>=1.5", reason = "<what the other stacks do instead>")"#,
            r#"only(reason = "r")"#,
        ),
        (
            r#"only(stacks = "ogx", reason = "r", status = 4)"#,
            r#"unknown `only` argument `status`; expected stacks = "..", reason = "..""#,
            "status = 4)",
        ),
        (
            r#"xfail(reason = "r", status = 400, stacks = "ogx", stacks = "ogx")"#,
            "`stacks` given twice",
            r#"stacks = "ogx")"#,
        ),
    ];
    for (attr, message, rest) in table {
        let (got, column) = error(attr);
        assert_eq!(got, *message, "for `{attr}`");
        assert_eq!(
            &attr[column..],
            *rest,
            "where the error for `{attr}` points"
        );
    }
}

#[test]
fn cases_and_cases_from_exclude_each_other() {
    let err = expanded(r#"cases = "a.yaml", cases_from = f"#).expect_err("both");
    assert_eq!(err.to_string(), "give `cases` or `cases_from`, not both");
}

#[test]
fn stacks_become_data_with_each_launcher_a_path() {
    let out =
        expanded(r#"xfail(reason = "r", contains = "c", stacks = "llama-stack<0.8, ogx>=1.5,<2")"#)
            .expect("expands");
    assert!(
        out.contains(
            "stacks : :: core :: option :: Option :: Some (:: harness :: __private :: Stacks (& [:: harness :: __private :: StackReq { launcher : :: harness :: __private :: launchers :: llama_stack , bounds : & [:: harness :: __private :: Bound { op : :: harness :: __private :: Op :: Lt , version : & [0u32 , 8u32] , }] , } , :: harness :: __private :: StackReq { launcher : :: harness :: __private :: launchers :: ogx , bounds : & [:: harness :: __private :: Bound { op : :: harness :: __private :: Op :: Ge , version : & [1u32 , 5u32] , } , :: harness :: __private :: Bound { op : :: harness :: __private :: Op :: Lt , version : & [2u32] , }] , }]))"
        ),
        "{out}"
    );
    assert!(
        out.contains("only : :: core :: option :: Option :: None"),
        "{out}"
    );
    let out = expanded(r#"only(reason = "OGX moved it", stacks = "ogx")"#).expect("expands");
    assert!(
        out.contains(
            r#"only : :: core :: option :: Option :: Some (:: harness :: __private :: Only { stacks : :: harness :: __private :: Stacks (& [:: harness :: __private :: StackReq { launcher : :: harness :: __private :: launchers :: ogx , bounds : & [] , }]) , reason : "OGX moved it" , })"#
        ),
        "{out}"
    );
    // Without `stacks`, an xfail applies to every stack.
    let out = expanded(r#"xfail(reason = "r", status = 400)"#).expect("expands");
    assert!(
        out.contains("stacks : :: core :: option :: Option :: None , }]"),
        "{out}"
    );
}

#[test]
fn an_unknown_launcher_is_left_for_rustc_at_the_string() {
    // "cannot find value `lama_stack` in module `::harness::__private::launchers`",
    // pointing at the string that names it.
    let attr = r#"only(stacks = "lama-stack", reason = "r")"#;
    assert_eq!(
        column_in_expansion(attr, "lama_stack"),
        attr.find(r#""lama-stack""#).expect("in attr")
    );
}

#[test]
fn every_stacks_mistake_points_at_its_string() {
    let table: &[(&str, &str)] = &[
        // (the `stacks` string, the message)
        (
            "",
            r#"in `stacks`: name at least one stack: a launcher with optional bounds, e.g. "llama-stack<0.8, ogx""#,
        ),
        (
            "llama-stack,",
            r#"in `stacks`: an empty item in "llama-stack,": a launcher with optional bounds, e.g. "llama-stack<0.8, ogx""#,
        ),
        (
            "<0.8",
            r#"in `stacks`: `<0.8` bounds no launcher: write it after one, e.g. "llama-stack<0.8""#,
        ),
        (
            "llama_stack",
            "in `stacks`: `llama_stack` is not a launcher name: lowercase letters, digits and dashes, as `--launcher` takes it (`llama-stack`)",
        ),
        (
            "OGX",
            "in `stacks`: `OGX` is not a launcher name: lowercase letters, digits and dashes, as `--launcher` takes it (`llama-stack`)",
        ),
        (
            "ogx~=1.5",
            "in `stacks`: expected a bound after `ogx` (<, <=, >, >= or == and a version), found `~=1.5`",
        ),
        (
            "ogx=1.5",
            "in `stacks`: expected a bound after `ogx` (<, <=, >, >= or == and a version), found `=1.5`",
        ),
        (
            "ogx 1.5",
            "in `stacks`: expected a bound after `ogx` (<, <=, >, >= or == and a version), found `1.5`",
        ),
        (
            "ogx>=1.x",
            "in `stacks`: `1.x` is not a version: numbers and dots, e.g. `0.8` or `1.5.0`",
        ),
        (
            "ogx<1..2",
            "in `stacks`: `1..2` is not a version: numbers and dots, e.g. `0.8` or `1.5.0`",
        ),
        ("ogx<", "in `stacks`: `ogx<` needs a version after `<`"),
    ];
    for (stacks, message) in table {
        for attr in [
            format!(r#"xfail(reason = "r", status = 400, stacks = "{stacks}")"#),
            format!(r#"only(stacks = "{stacks}", reason = "r")"#),
        ] {
            let (got, column) = error(&attr);
            assert_eq!(got, *message, "for `{attr}`");
            assert_eq!(
                &attr[column..column + stacks.len() + 2],
                format!("\"{stacks}\""),
                "where the error for `{attr}` points"
            );
        }
    }
}

#[test]
fn a_stack_false_test_cannot_depend_on_the_stack() {
    let err =
        expanded(r#"stack = false, only(stacks = "ogx", reason = "r")"#).expect_err("no stack");
    assert_eq!(
        err.to_string(),
        "a `stack = false` test runs without a stack, so it cannot depend on which one"
    );
    let err = expanded(r#"stack = false, xfail(reason = "r", status = 400, stacks = "ogx")"#)
        .expect_err("no stack");
    assert_eq!(
        err.to_string(),
        "a `stack = false` test runs without a stack, so it cannot depend on which one"
    );
    expanded(r#"stack = false, xfail(reason = "r", status = 400)"#)
        .expect("an xfail of every stack needs none");
}

#[test]
fn several_xfails_each_name_their_stacks() {
    let out = expanded(
        r#"xfail(reason = "a", status = 400, stacks = "llama-stack"), xfail(reason = "b", status = 500, stacks = "ogx")"#,
    )
    .expect("expands");
    assert!(
        out.contains(r#"reason : "a""#) && out.contains(r#"reason : "b""#),
        "{out}"
    );
    for twice in [
        r#"xfail(reason = "a", status = 400), xfail(reason = "b", status = 500, stacks = "ogx")"#,
        r#"xfail(reason = "a", status = 400, stacks = "ogx"), xfail(reason = "b", status = 500)"#,
    ] {
        assert_eq!(
            expanded(twice).expect_err("refused").to_string(),
            "`xfail` given twice: several are allowed only when each names its `stacks = \"..\"`"
        );
    }
}

#[test]
fn capabilities_are_paths_into_the_harness_table() {
    let out = expanded("vector_io, needs(keyword_search, metadata_filters)").expect("expands");
    assert!(
        out.contains(
            "capabilities : & [:: harness :: __private :: capabilities :: keyword_search , :: harness :: __private :: capabilities :: metadata_filters]"
        ),
        "{out}"
    );
    assert!(
        out.contains("needs : & [:: harness :: __private :: params :: vector_io]"),
        "{out}"
    );
    let (message, column) = error("vector_io, needs(hybrid_search, hybrid_search)");
    assert_eq!(message, "`hybrid_search` given twice");
    assert_eq!(column, "vector_io, needs(hybrid_search, ".len());
}
