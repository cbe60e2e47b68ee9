//! `#[harness::test]`: registers an `async fn(&TestContext) -> Result` with
//! the stack-harness runner.
//!
//! ```text
//! #[harness::test(text_model, marks(streaming), cases = "inference/chat.yaml")]
//! async fn streaming(ctx: &TestContext) -> harness::Result { ... }
//! ```
//!
//! Arguments, all optional and in any order:
//! - a bare name (`text_model`, `embedding_dimension`, …): a parameter the
//!   test needs; it runs once per combination of the values given and is
//!   ignored with a reason when one is missing. The names are the harness's
//!   parameter table (`harness::__private::params`): the expansion refers to
//!   `params::<name>`, so an unknown one is rustc's "cannot find value" at
//!   the name, and this crate knows none of them;
//! - `marks(a, b)`: keywords `-k` matches;
//! - `cases = "file.yaml"`: run once per case of that file under
//!   `tests/integration/test_cases/`;
//! - `cases_from = path::to::function`: run once per case that function
//!   (`fn() -> harness::Result<Vec<harness::Case>>`) returns when the tests
//!   are collected, for cases that are not files (git revisions, say);
//! - `xfail = "reason"`: known to fail; passing fails loudly;
//! - `ignore = "reason"`: run only with `--ignored`/`--include-ignored`;
//! - `timeout = SECS`: overrides `--test-timeout`;
//! - `stack = false`: the test never talks to the stack, so a run of only
//!   such tests starts no server.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, ItemFn, LitInt, LitStr, Token, parenthesized};

#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(attr as Args);
    let func = syn::parse_macro_input!(item as ItemFn);
    match expand(args, func) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

#[derive(Default)]
struct Args {
    needs: Vec<Ident>,
    marks: Vec<LitStr>,
    cases: Option<LitStr>,
    cases_from: Option<syn::Path>,
    xfail: Option<LitStr>,
    ignore: Option<LitStr>,
    timeout: Option<LitInt>,
    stack: Option<syn::LitBool>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            let name = key.to_string();
            match name.as_str() {
                "marks" => {
                    let content;
                    parenthesized!(content in input);
                    let marks = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                    args.marks
                        .extend(marks.iter().map(|m| LitStr::new(&m.to_string(), m.span())));
                }
                "cases" | "xfail" | "ignore" => {
                    input.parse::<Token![=]>()?;
                    let value: LitStr = input.parse()?;
                    if value.value().trim().is_empty() {
                        return Err(syn::Error::new(
                            value.span(),
                            format!("`{name}` needs a non-empty string"),
                        ));
                    }
                    let slot = match name.as_str() {
                        "cases" => &mut args.cases,
                        "xfail" => &mut args.xfail,
                        _ => &mut args.ignore,
                    };
                    if slot.replace(value).is_some() {
                        return Err(syn::Error::new(key.span(), format!("`{name}` given twice")));
                    }
                }
                "cases_from" => {
                    input.parse::<Token![=]>()?;
                    if args.cases_from.replace(input.parse()?).is_some() {
                        return Err(syn::Error::new(key.span(), "`cases_from` given twice"));
                    }
                }
                "stack" => {
                    input.parse::<Token![=]>()?;
                    args.stack = Some(input.parse()?);
                }
                "timeout" => {
                    input.parse::<Token![=]>()?;
                    let secs: LitInt = input.parse()?;
                    if secs.base10_parse::<u64>()? == 0 {
                        return Err(syn::Error::new(
                            secs.span(),
                            "`timeout` must be at least 1 second",
                        ));
                    }
                    args.timeout = Some(secs);
                }
                // A bare name is a parameter; rustc checks that it exists.
                _ if input.is_empty() || input.peek(Token![,]) => {
                    if args.needs.contains(&key) {
                        return Err(syn::Error::new(key.span(), format!("`{name}` given twice")));
                    }
                    args.needs.push(key);
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown argument `{name}`; expected marks(..), cases = \"..\", cases_from = path, xfail = \"..\", ignore = \"..\", timeout = SECS, stack = false, or the bare name of a parameter the test needs (`text_model`)"
                        ),
                    ));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

fn expand(args: Args, func: ItemFn) -> syn::Result<TokenStream2> {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            "a harness test must be an `async fn`",
        ));
    }
    if sig.inputs.len() != 1 {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "a harness test takes exactly one argument: `ctx: &TestContext`",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "a harness test cannot be generic",
        ));
    }
    let ident = &sig.ident;
    let fn_name = ident.to_string();
    let static_name = format_ident!("__HARNESS_TEST_{}", fn_name.to_uppercase());
    // Each name resolves in the harness's table, with the test's span, so
    // rustc reports an unknown one where it was written.
    let needs = args
        .needs
        .iter()
        .map(|n| quote_spanned!(n.span()=> ::harness::__private::params::#n));
    let marks = &args.marks;
    let opt = |v: &Option<LitStr>| match v {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    };
    if let (Some(file), Some(_)) = (&args.cases, &args.cases_from) {
        return Err(syn::Error::new(
            file.span(),
            "give `cases` or `cases_from`, not both",
        ));
    }
    let cases = opt(&args.cases);
    let cases_from = match &args.cases_from {
        Some(path) => quote!(::core::option::Option::Some(#path)),
        None => quote!(::core::option::Option::None),
    };
    let xfail = opt(&args.xfail);
    let ignore = opt(&args.ignore);
    let timeout = match &args.timeout {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    };
    let needs_stack = args.stack.as_ref().is_none_or(syn::LitBool::value);
    let line = quote_spanned!(ident.span()=> ::core::line!());
    let call = quote!(#ident(&ctx).await.map_err(::core::convert::Into::into));
    Ok(quote! {
        // rust-analyzer and RustRover decide syntactically what is a test;
        // rustc never sets `rust_analyzer`, so this only lights up the lens.
        #[cfg_attr(rust_analyzer, ::core::prelude::v1::test)]
        #func

        #[::harness::__private::linkme::distributed_slice(::harness::__private::TESTS)]
        #[linkme(crate = ::harness::__private::linkme)]
        #[doc(hidden)]
        static #static_name: ::harness::__private::TestDef = ::harness::__private::TestDef {
            module: ::core::module_path!(),
            function: #fn_name,
            file: ::core::file!(),
            line: #line,
            needs: &[#(#needs),*],
            marks: &[#(#marks),*],
            cases: #cases,
            cases_from: #cases_from,
            xfail: #xfail,
            ignore: #ignore,
            timeout_secs: #timeout,
            needs_stack: #needs_stack,
            run: {
                fn run(
                    ctx: ::std::sync::Arc<::harness::TestContext>,
                ) -> ::std::pin::Pin<::std::boxed::Box<
                    dyn ::core::future::Future<Output = ::harness::Result> + ::core::marker::Send,
                >> {
                    ::std::boxed::Box::pin(async move { #call })
                }
                run
            },
        };
    })
}

#[cfg(test)]
mod tests;
