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
    let args = syn::parse_str::<Args>(attr).expect("a bare name parses");
    let func: ItemFn =
        syn::parse_str("async fn t(ctx: &TestContext) -> Result { Ok(()) }").expect("a test fn");
    let tokens = expand(args, func).expect("expands");
    let name = find(tokens, "text_modle").expect("the name is in the expansion");
    assert_eq!(
        name.span().start().column,
        attr.find("text_modle").expect("in attr")
    );
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
            r#"xfail : :: core :: option :: Option :: Some (:: harness :: __private :: Xfail { reason : "400, not 404" , status : :: core :: option :: Option :: Some (400) , contains : :: core :: option :: Option :: Some ("not found") , })"#
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
            r#"unknown `xfail` argument `code`; expected reason = "..", status = N, contains = "..""#,
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
            r#"unknown argument `timeout_secs`; expected marks(..), cases = "..", cases_from = path, xfail(reason = "..", status = N, contains = ".."), ignore = "..", timeout = SECS, stack = false, or the bare name of a parameter the test needs (`text_model`)"#,
            "timeout_secs = 3",
        ),
        ("timeout = 0", "`timeout` must be at least 1 second", "0"),
        (
            r#"ignore = " ""#,
            "`ignore` needs a non-empty string",
            r#"" ""#,
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
