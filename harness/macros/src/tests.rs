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
fn mistakes_get_their_message_where_they_were_made() {
    let table: &[(&str, &str, &str)] = &[
        // (attribute, message, the attribute from where the error points)
        (
            "text_model, text_model",
            "`text_model` given twice",
            "text_model",
        ),
        (
            "timeout_secs = 3",
            r#"unknown argument `timeout_secs`; expected marks(..), cases = "..", cases_from = path, xfail = "..", ignore = "..", timeout = SECS, stack = false, or the bare name of a parameter the test needs (`text_model`)"#,
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
