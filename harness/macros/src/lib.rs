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
//! - `needs(keyword_search, metadata_filters)`: vector-io capabilities the
//!   test needs (with the `vector_io` parameter); a trial whose provider
//!   lacks one is ignored, naming it. The names are the harness's table
//!   (`harness::__private::capabilities`), resolved like the parameters;
//! - `cases = "file.yaml"`: run once per case of that file under
//!   `tests/integration/test_cases/`;
//! - `cases_from = path::to::function`: run once per case that function
//!   (`fn() -> harness::Result<Vec<harness::Case>>`) returns when the tests
//!   are collected, for cases that are not files (git revisions, say);
//! - `xfail(reason = "..", status = 400, contains = "..")`: known to fail in
//!   this way (an answer with that HTTP status where the test expected
//!   another, and/or a failure whose text contains that); at least one of
//!   `status` and `contains`. Passing fails loudly. `stacks = ".."` limits
//!   it to the stacks with the bug (see below); elsewhere the test runs
//!   unmarked. Repeated, one per stack set, when each names its `stacks`;
//! - `only(stacks = "..", reason = "..")`: the test applies to those stacks
//!   alone, and is reported ignored with the reason on the others;
//! - `ignore = "reason"`: run only with `--ignored`/`--include-ignored`;
//! - `timeout = SECS`: overrides `--test-timeout`;
//! - `stack = false`: the test never talks to the stack, so a run of only
//!   such tests starts no server.
//!
//! `stacks = ".."` is a comma-separated list of alternatives, each a
//! launcher as `--launcher` spells it with optional version bounds that must
//! all hold: `"llama-stack"`, `"llama-stack<0.8"`, `"ogx>=1.5,<2"`,
//! `"llama-stack, ogx<1.6"` (a bound after a comma belongs to the launcher
//! before it). Bounds are `<`, `<=`, `>`, `>=`, `==` and a version of
//! numbers and dots. The syntax is checked here; the launcher names resolve
//! in `harness::__private::launchers`, so an unknown one is rustc's error
//! at the string, and this crate knows none of them.

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

/// The arguments that are not parameters, for the unknown-argument error.
const KEYWORDS: &str = "marks(..), needs(..), cases = \"..\", cases_from = path, xfail(reason = \"..\", status = N, contains = \"..\", stacks = \"..\"), only(stacks = \"..\", reason = \"..\"), ignore = \"..\", timeout = SECS, stack = false";

/// How an `xfail` is written, for its errors.
const XFAIL_SYNTAX: &str =
    "xfail(reason = \"..\", status = 404) and/or contains = \"<text of the failure>\"";

#[derive(Default)]
struct Args {
    needs: Vec<Ident>,
    capabilities: Vec<Ident>,
    marks: Vec<LitStr>,
    cases: Option<LitStr>,
    cases_from: Option<syn::Path>,
    /// One per stack set when they name `stacks`; otherwise at most one.
    xfails: Vec<Xfail>,
    only: Option<Only>,
    ignore: Option<LitStr>,
    timeout: Option<LitInt>,
    stack: Option<syn::LitBool>,
}

/// `xfail(reason = "..", status = N, contains = "..", stacks = "..")`.
struct Xfail {
    reason: LitStr,
    status: Option<LitInt>,
    contains: Option<LitStr>,
    stacks: Option<StackSpec>,
}

/// `only(stacks = "..", reason = "..")`.
struct Only {
    key: Ident,
    stacks: StackSpec,
    reason: LitStr,
}

fn twice(key: &Ident) -> syn::Error {
    syn::Error::new(key.span(), format!("`{key}` given twice"))
}

/// A string that says something: `key = "..."`, not empty.
fn non_empty(input: ParseStream, key: &Ident) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    let value: LitStr = input.parse()?;
    if value.value().trim().is_empty() {
        return Err(syn::Error::new(
            value.span(),
            format!("`{key}` needs a non-empty string"),
        ));
    }
    Ok(value)
}

/// Parses `key .., key ..` (a trailing comma allowed): `item` reads what
/// follows each key.
fn comma_separated(
    input: ParseStream,
    mut item: impl FnMut(Ident, ParseStream) -> syn::Result<()>,
) -> syn::Result<()> {
    while !input.is_empty() {
        item(input.parse()?, input)?;
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// `(name = value, ..)` after `key`: `part` reads each value, and answers
/// `false` for a name it does not take, which is then an error naming
/// `expected`. Without the parentheses the error is `no_parens`, at `key`.
fn parenthesized_parts(
    input: ParseStream,
    key: &Ident,
    no_parens: String,
    expected: &str,
    mut part: impl FnMut(&Ident, ParseStream) -> syn::Result<bool>,
) -> syn::Result<()> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(key.span(), no_parens));
    }
    let content;
    parenthesized!(content in input);
    comma_separated(&content, |name, content| {
        if part(&name, content)? {
            Ok(())
        } else {
            Err(syn::Error::new(
                name.span(),
                format!("unknown `{key}` argument `{name}`; expected {expected}"),
            ))
        }
    })
}

/// Fills a slot of a parenthesised argument, which may be given once.
fn once<T>(slot: &mut Option<T>, value: T, name: &Ident) -> syn::Result<()> {
    if slot.replace(value).is_some() {
        return Err(twice(name));
    }
    Ok(())
}

/// `status = N`, an HTTP status.
fn http_status(input: ParseStream) -> syn::Result<LitInt> {
    input.parse::<Token![=]>()?;
    let code: LitInt = input.parse()?;
    if !(100..=599).contains(&code.base10_parse::<u16>().unwrap_or(0)) {
        return Err(syn::Error::new(
            code.span(),
            "`status` is an HTTP status, 100 to 599",
        ));
    }
    Ok(code)
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        comma_separated(input, |key, input| {
            let name = key.to_string();
            match name.as_str() {
                "marks" => {
                    let content;
                    parenthesized!(content in input);
                    let marks = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                    args.marks
                        .extend(marks.iter().map(|m| LitStr::new(&m.to_string(), m.span())));
                }
                "needs" if input.peek(syn::token::Paren) => {
                    let content;
                    parenthesized!(content in input);
                    for capability in Punctuated::<Ident, Token![,]>::parse_terminated(&content)? {
                        if args.capabilities.contains(&capability) {
                            return Err(twice(&capability));
                        }
                        args.capabilities.push(capability);
                    }
                }
                "cases" | "ignore" => {
                    let value = non_empty(input, &key)?;
                    let slot = if name == "cases" {
                        &mut args.cases
                    } else {
                        &mut args.ignore
                    };
                    if slot.replace(value).is_some() {
                        return Err(twice(&key));
                    }
                }
                "xfail" => {
                    let xfail = parse_xfail(input, &key)?;
                    // Several marks are for different stacks' bugs: each
                    // must say which, or the first would hide the others.
                    if !args.xfails.is_empty()
                        && (xfail.stacks.is_none()
                            || args.xfails.iter().any(|x| x.stacks.is_none()))
                    {
                        return Err(syn::Error::new(
                            key.span(),
                            "`xfail` given twice: several are allowed only when each names its `stacks = \"..\"`",
                        ));
                    }
                    args.xfails.push(xfail);
                }
                "only" => {
                    let only = parse_only(input, &key)?;
                    if args.only.replace(only).is_some() {
                        return Err(twice(&key));
                    }
                }
                "cases_from" => {
                    input.parse::<Token![=]>()?;
                    if args.cases_from.replace(input.parse()?).is_some() {
                        return Err(twice(&key));
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
                        return Err(twice(&key));
                    }
                    args.needs.push(key);
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown argument `{name}`; expected {KEYWORDS}, or the bare name of a parameter the test needs (`text_model`)"
                        ),
                    ));
                }
            }
            Ok(())
        })?;
        Ok(args)
    }
}

fn parse_xfail(input: ParseStream, key: &Ident) -> syn::Result<Xfail> {
    if input.peek(Token![=]) {
        // The old form, `xfail = "reason"`, which expected any failure.
        let eq = input.parse::<Token![=]>()?;
        let reason = input
            .parse::<LitStr>()
            .map_or_else(|_| "..".to_owned(), |r| r.value());
        return Err(syn::Error::new(
            eq.span,
            format!(
                "`xfail` states the failure it expects: write xfail(reason = {reason:?}, status = 404) and/or contains = \"<text of the failure>\""
            ),
        ));
    }
    let (mut reason, mut status, mut contains, mut stacks) = (None, None, None, None);
    parenthesized_parts(
        input,
        key,
        format!("`xfail` states the failure it expects: {XFAIL_SYNTAX}"),
        "reason = \"..\", status = N, contains = \"..\", stacks = \"..\"",
        |part, content| {
            match part.to_string().as_str() {
                "reason" => once(&mut reason, non_empty(content, part)?, part)?,
                "contains" => once(&mut contains, non_empty(content, part)?, part)?,
                "stacks" => once(&mut stacks, stack_spec(content)?, part)?,
                "status" => once(&mut status, http_status(content)?, part)?,
                _ => return Ok(false),
            }
            Ok(true)
        },
    )?;
    let Some(reason) = reason else {
        return Err(syn::Error::new(
            key.span(),
            format!("`xfail` needs a `reason = \"..\"`: {XFAIL_SYNTAX}"),
        ));
    };
    if status.is_none() && contains.is_none() {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "`xfail` must state the failure it expects, so that no other failure passes for it: {XFAIL_SYNTAX}"
            ),
        ));
    }
    Ok(Xfail {
        reason,
        status,
        contains,
        stacks,
    })
}

/// How `only` is written, for its errors.
const ONLY_SYNTAX: &str =
    "only(stacks = \"ogx>=1.5\", reason = \"<what the other stacks do instead>\")";

fn parse_only(input: ParseStream, key: &Ident) -> syn::Result<Only> {
    let (mut stacks, mut reason) = (None, None);
    parenthesized_parts(
        input,
        key,
        format!("`only` names the stacks and why: {ONLY_SYNTAX}"),
        "stacks = \"..\", reason = \"..\"",
        |part, content| {
            match part.to_string().as_str() {
                "stacks" => once(&mut stacks, stack_spec(content)?, part)?,
                "reason" => once(&mut reason, non_empty(content, part)?, part)?,
                _ => return Ok(false),
            }
            Ok(true)
        },
    )?;
    match (stacks, reason) {
        (Some(stacks), Some(reason)) => Ok(Only {
            key: key.clone(),
            stacks,
            reason,
        }),
        (None, _) => Err(syn::Error::new(
            key.span(),
            format!("`only` needs `stacks = \"..\"`: {ONLY_SYNTAX}"),
        )),
        (_, None) => Err(syn::Error::new(
            key.span(),
            format!("`only` needs a `reason = \"..\"`: {ONLY_SYNTAX}"),
        )),
    }
}

/// `stacks = "llama-stack<0.8, ogx"`, checked: its alternatives.
struct StackSpec {
    lit: LitStr,
    alternatives: Vec<StackReq>,
}

/// One alternative: a launcher as `--launcher` spells it, and its bounds.
struct StackReq {
    launcher: String,
    bounds: Vec<(&'static str, Vec<u32>)>,
}

/// The bound operators and the `harness::__private::Op` each becomes;
/// two-character ones first, so `<=` is not read as `<`.
const OPS: [(&str, &str); 5] = [
    ("<=", "Le"),
    (">=", "Ge"),
    ("==", "Eq"),
    ("<", "Lt"),
    (">", "Gt"),
];

fn stack_spec(input: ParseStream) -> syn::Result<StackSpec> {
    input.parse::<Token![=]>()?;
    let lit: LitStr = input.parse()?;
    let alternatives = parse_stacks(&lit.value())
        .map_err(|problem| syn::Error::new(lit.span(), format!("in `stacks`: {problem}")))?;
    Ok(StackSpec { lit, alternatives })
}

/// The grammar of a `stacks` string; the error says what is wrong and how
/// it is written.
fn parse_stacks(text: &str) -> Result<Vec<StackReq>, String> {
    const FORM: &str = "a launcher with optional bounds, e.g. \"llama-stack<0.8, ogx\"";
    let mut alternatives: Vec<StackReq> = Vec::new();
    if text.trim().is_empty() {
        return Err(format!("name at least one stack: {FORM}"));
    }
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("an empty item in \"{text}\": {FORM}"));
        }
        let name_len = item
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(item.len());
        let (name, rest) = item.split_at(name_len);
        let rest = rest.trim();
        if !name.is_empty() {
            if !name.starts_with(|c: char| c.is_ascii_lowercase())
                || name.chars().any(|c| c == '_' || c.is_ascii_uppercase())
            {
                return Err(format!(
                    "`{name}` is not a launcher name: lowercase letters, digits and dashes, as `--launcher` takes it (`llama-stack`)"
                ));
            }
            alternatives.push(StackReq {
                launcher: name.to_owned(),
                bounds: Vec::new(),
            });
            if rest.is_empty() {
                continue;
            }
        }
        let Some(last) = alternatives.last_mut() else {
            return Err(format!(
                "`{item}` bounds no launcher: write it after one, e.g. \"llama-stack{item}\""
            ));
        };
        last.bounds.push(parse_bound(rest, &last.launcher)?);
    }
    Ok(alternatives)
}

fn parse_bound(text: &str, launcher: &str) -> Result<(&'static str, Vec<u32>), String> {
    let Some((symbol, op)) = OPS.iter().find(|(symbol, _)| text.starts_with(symbol)) else {
        return Err(format!(
            "expected a bound after `{launcher}` (<, <=, >, >= or == and a version), found `{text}`"
        ));
    };
    let version = text[symbol.len()..].trim();
    if version.is_empty() {
        return Err(format!(
            "`{launcher}{symbol}` needs a version after `{symbol}`"
        ));
    }
    let numbers: Option<Vec<u32>> = version
        .split('.')
        .map(|n| {
            n.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| n.parse().ok())
                .flatten()
        })
        .collect();
    match numbers {
        Some(numbers) => Ok((op, numbers)),
        None => Err(format!(
            "`{version}` is not a version: numbers and dots, e.g. `0.8` or `1.5.0`"
        )),
    }
}

/// The spec as `harness::__private::Stacks` data; each launcher a path into
/// `launchers`, spanned at the string, for rustc to resolve.
fn stacks_tokens(spec: &StackSpec) -> TokenStream2 {
    let alternatives = spec.alternatives.iter().map(|req| {
        let launcher = Ident::new(&req.launcher.replace('-', "_"), spec.lit.span());
        let bounds = req.bounds.iter().map(|(op, version)| {
            let op = format_ident!("{op}");
            quote!(::harness::__private::Bound {
                op: ::harness::__private::Op::#op,
                version: &[#(#version),*],
            })
        });
        let path = quote_spanned!(spec.lit.span()=> ::harness::__private::launchers::#launcher);
        quote!(::harness::__private::StackReq {
            launcher: #path,
            bounds: &[#(#bounds),*],
        })
    });
    quote!(::harness::__private::Stacks(&[#(#alternatives),*]))
}

fn some_or_none(value: Option<TokenStream2>) -> TokenStream2 {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
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
    if let (Some(file), Some(_)) = (&args.cases, &args.cases_from) {
        return Err(syn::Error::new(
            file.span(),
            "give `cases` or `cases_from`, not both",
        ));
    }
    if args.stack.as_ref().is_some_and(|s| !s.value()) {
        let stacks = args
            .xfails
            .iter()
            .find_map(|x| x.stacks.as_ref())
            .map(|s| s.lit.span())
            .or(args.only.as_ref().map(|o| o.key.span()));
        if let Some(span) = stacks {
            return Err(syn::Error::new(
                span,
                "a `stack = false` test runs without a stack, so it cannot depend on which one",
            ));
        }
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
    let capabilities = args
        .capabilities
        .iter()
        .map(|c| quote_spanned!(c.span()=> ::harness::__private::capabilities::#c));
    let marks = &args.marks;
    let cases = some_or_none(args.cases.as_ref().map(|c| quote!(#c)));
    let cases_from = some_or_none(args.cases_from.as_ref().map(|p| quote!(#p)));
    let xfails = args.xfails.iter().map(|x| {
        let reason = &x.reason;
        let status = some_or_none(x.status.as_ref().map(|s| quote!(#s)));
        let contains = some_or_none(x.contains.as_ref().map(|c| quote!(#c)));
        let stacks = some_or_none(x.stacks.as_ref().map(stacks_tokens));
        quote!(::harness::__private::Xfail {
            reason: #reason,
            status: #status,
            contains: #contains,
            stacks: #stacks,
        })
    });
    let only = some_or_none(args.only.as_ref().map(|o| {
        let (stacks, reason) = (stacks_tokens(&o.stacks), &o.reason);
        quote!(::harness::__private::Only {
            stacks: #stacks,
            reason: #reason,
        })
    }));
    let ignore = some_or_none(args.ignore.as_ref().map(|i| quote!(#i)));
    let timeout = some_or_none(args.timeout.as_ref().map(|t| quote!(#t)));
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
            xfails: &[#(#xfails),*],
            only: #only,
            ignore: #ignore,
            capabilities: &[#(#capabilities),*],
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
