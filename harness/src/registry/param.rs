//! The parameters a test may need (`text_model`, `embedding_dimension`,
//! `vector_io`, …): one table, [`PARAMS`], that everything else reads. The attribute
//! macro names a parameter as a path into [`params`], so an unknown one is
//! rustc's own "cannot find value" at the name the test wrote; the catalog,
//! the command line (flag, variable, defaults-file key, help), the setups and
//! the test context take everything else from the row. Adding a parameter is
//! adding a row here and an accessor on `TestContext`.

use std::collections::BTreeMap;
use std::fmt;

/// What values a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A comma-separated list: the test runs once per value, and the value is
    /// part of the trial's name.
    List,
    /// One positive integer, the same for every trial: it never multiplies
    /// the trials and stays out of their names.
    Count,
}

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// How tests, trial names and `-k` spell it: `text_model`.
    pub id: &'static str,
    /// The flag that sets it: `--text-model`. Its defaults-file key is the
    /// flag without the dashes.
    pub flag: &'static str,
    /// The environment variable that sets it.
    pub env: &'static str,
    /// The value's name in `--help`.
    pub value_name: &'static str,
    pub kind: Kind,
    /// One line for `--help` and the README's options table.
    pub help: &'static str,
}

/// A model parameter: a row of [`PARAMS`]. Ordered as the table is, which is
/// the order of the parameters in a trial's name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Param(u8);

macro_rules! params {
    ($($id:ident: $kind:ident, $flag:literal, $env:literal, $value_name:literal, $help:literal;)*) => {
        /// Row numbers, so each constant below finds its row.
        #[expect(non_camel_case_types, reason = "named as tests write them")]
        enum Row { $($id),* }

        /// Every model parameter, in the order of trial names.
        pub(crate) const PARAMS: &[ParamSpec] = &[$(ParamSpec {
            id: stringify!($id),
            flag: $flag,
            env: $env,
            value_name: $value_name,
            kind: Kind::$kind,
            help: $help,
        }),*];

        /// One constant per parameter, named as `#[harness::test(...)]` takes
        /// it; the macro's expansion refers to `params::<name>`.
        ///
        /// ```compile_fail
        /// use harness::prelude::*;
        /// #[harness::test(text_modle)] // E0425: cannot find value `text_modle` in module
        /// // `::harness::__private::params` (help: a constant with a similar name exists)
        /// async fn t(_ctx: &TestContext) -> Result { Ok(()) }
        /// fn main() {}
        /// ```
        #[expect(non_upper_case_globals, reason = "named as tests write them")]
        pub mod params {
            use super::{Param, Row};
            $(pub const $id: Param = Param(Row::$id as u8);)*
        }
    };
}

params! {
    // First, so trial names read `[vector_io=milvus,embedding_model=...]`: the provider is what
    // tells a vector store test's trials apart. Its values are checked, `all` expanded and the
    // chosen providers enabled in the stack from the table in `vector_io.rs`.
    vector_io: List, "--vector-io-provider", "LLAMA_STACK_TEST_VECTOR_IO_PROVIDER", "PROVIDERS", "vector-io providers (`all`: every one that runs here); vector store tests run once per provider";
    text_model: List, "--text-model", "LLAMA_STACK_TEST_TEXT_MODEL", "MODELS", "text models; tests run once per model";
    vision_model: List, "--vision-model", "LLAMA_STACK_TEST_VISION_MODEL", "MODELS", "vision models";
    embedding_model: List, "--embedding-model", "LLAMA_STACK_TEST_EMBEDDING_MODEL", "MODELS", "embedding models";
    safety_shield: List, "--safety-shield", "LLAMA_STACK_TEST_SAFETY_SHIELD", "SHIELDS", "safety shields";
    judge_model: List, "--judge-model", "LLAMA_STACK_TEST_JUDGE_MODEL", "MODELS", "judge models";
    embedding_dimension: Count, "--embedding-dimension", "LLAMA_STACK_TEST_EMBEDDING_DIMENSION", "N", "the embedding models' dimension";
}

impl Param {
    /// Every parameter, in table order.
    pub fn all() -> impl Iterator<Item = Param> {
        (0..PARAMS.len()).map(|i| Param(i as u8))
    }

    pub fn spec(self) -> &'static ParamSpec {
        &PARAMS[usize::from(self.0)]
    }

    /// The id used in attributes, trial names and `-k`: `text_model`.
    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The flag that sets it, as a user types it: `--text-model`.
    pub fn flag(self) -> &'static str {
        self.spec().flag
    }

    /// Whether the parameter takes a list (and so multiplies trials and
    /// appears in their names) or one number.
    pub fn is_list(self) -> bool {
        self.spec().kind == Kind::List
    }
}

impl fmt::Debug for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The values the run was given for each parameter (from flags, variables,
/// the defaults file or a setup); any may be missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Models {
    lists: BTreeMap<Param, Vec<String>>,
    counts: BTreeMap<Param, u32>,
    /// Values given that cannot run in this run, with why (a vector-io
    /// provider whose server is not here): their trials are ignored.
    unavailable: BTreeMap<(Param, String), String>,
}

impl Models {
    /// A list parameter's values, in the order given (empty if none).
    pub(crate) fn values(&self, param: Param) -> &[String] {
        self.lists.get(&param).map_or(&[], Vec::as_slice)
    }

    /// A count parameter's value.
    pub(crate) fn count(&self, param: Param) -> Option<u32> {
        self.counts.get(&param).copied()
    }

    /// Whether the run has a value for `param`.
    pub(crate) fn has(&self, param: Param) -> bool {
        match param.spec().kind {
            Kind::List => !self.values(param).is_empty(),
            Kind::Count => self.count(param).is_some(),
        }
    }

    pub(crate) fn set_values(&mut self, param: Param, values: Vec<String>) {
        self.lists.insert(param, values);
    }

    pub(crate) fn set_count(&mut self, param: Param, count: u32) {
        self.counts.insert(param, count);
    }

    /// Why `value` of `param` cannot run here, if it cannot.
    pub(crate) fn unavailable(&self, param: Param, value: &str) -> Option<&str> {
        self.unavailable
            .get(&(param, value.to_owned()))
            .map(String::as_str)
    }

    pub(crate) fn set_unavailable(&mut self, param: Param, value: String, why: String) {
        self.unavailable.insert((param, value), why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_find_their_rows() {
        assert_eq!(params::text_model.id(), "text_model");
        assert_eq!(params::embedding_dimension.flag(), "--embedding-dimension");
        assert!(params::judge_model.is_list() && !params::embedding_dimension.is_list());
        let ids: Vec<&str> = Param::all().map(Param::id).collect();
        assert_eq!(
            ids,
            PARAMS.iter().map(|p| p.id).collect::<Vec<_>>(),
            "all() walks the table in order"
        );
        assert!(params::text_model < params::embedding_model);
    }

    #[test]
    fn every_row_is_spelt_consistently() {
        for p in PARAMS {
            assert!(p.flag.starts_with("--"), "{}: flag {}", p.id, p.flag);
            assert!(
                p.env.starts_with("LLAMA_STACK_TEST_")
                    && p.env.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{}: variable {}",
                p.id,
                p.env
            );
            assert!(
                p.id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}: an id is a Rust identifier tests write",
                p.id
            );
        }
    }
}
