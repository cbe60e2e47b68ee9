//! The catalog: every registered test expanded into trials, one per
//! combination of the model values it needs and per data-driven case.
//!
//! A trial's name is the function's module path, then for parametrised
//! trials `[param=value,...]` (models in parameter order, then `case=id`):
//! `inference::chat::streaming[text_model=vllm/smollm2-135m,case=capital]`.
//! `--exact` with the bare module path selects every parametrisation.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::cases::{Case, CaseFile};
use super::def::TestDef;
use super::param::{Models, Param, params};
use super::vector_io::VectorIoProvider;

/// Why a trial does not run by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ignore {
    /// `#[harness::test(ignore = "...")]`: runs with `--ignored`.
    Marked(String),
    /// It cannot run at all in this run: a parameter it needs was not
    /// given, its value cannot run here (a provider whose server is not
    /// here), or that value lacks a capability the test needs.
    CannotRun(String),
}

impl Ignore {
    pub(crate) fn reason(&self) -> &str {
        match self {
            Ignore::Marked(r) | Ignore::CannotRun(r) => r,
        }
    }
}

/// The values one trial runs with.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TrialParams {
    /// The list parameters' values, in table order (as in the trial's name).
    pub models: Vec<(Param, String)>,
    /// The count parameters' values.
    pub counts: Vec<(Param, u32)>,
    pub case: Option<Arc<Case>>,
}

/// One runnable (or ignored) instance of a test.
#[derive(Debug)]
pub(crate) struct Trial {
    pub name: String,
    /// The function's module path, without parameters.
    pub path: String,
    pub def: &'static TestDef,
    pub params: TrialParams,
    pub ignore: Option<Ignore>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum CatalogError {
    #[error(
        "test `{test}` names cases file `{file}`, which is not under tests/integration/test_cases/ (files there: {known})"
    )]
    UnknownCasesFile {
        test: String,
        file: String,
        known: String,
    },
    #[error("test `{test}`: its cases_from function failed: {message}")]
    CaseSource { test: String, message: String },
    #[error(
        "test `{test}`: case id `{id}` may only use letters, digits, `_`, `-` and `.`, and must be unique"
    )]
    BadCaseId { test: String, id: String },
    #[error("two tests are named `{0}`")]
    DuplicateName(String),
    #[error(
        "test `{0}` declares needs(..), which are vector-io capabilities, but not the `vector_io` parameter they are checked against; add `vector_io` to its #[harness::test(..)]"
    )]
    NeedsWithoutVectorIo(String),
}

/// Every trial of the binary, sorted by name.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub trials: Vec<Trial>,
}

impl Catalog {
    pub(crate) fn build(
        defs: &'static [TestDef],
        models: &Models,
        cases: &BTreeMap<String, CaseFile>,
    ) -> Result<Catalog, CatalogError> {
        let mut sorted: Vec<&'static TestDef> = defs.iter().collect();
        sorted.sort_by_cached_key(|d| d.path());
        let mut trials = Vec::new();
        for def in sorted {
            expand(def, models, cases, &mut trials)?;
        }
        trials.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(w) = trials.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(CatalogError::DuplicateName(w[0].name.clone()));
        }
        Ok(Catalog { trials })
    }
}

fn expand(
    def: &'static TestDef,
    models: &Models,
    cases: &BTreeMap<String, CaseFile>,
    out: &mut Vec<Trial>,
) -> Result<(), CatalogError> {
    let path = def.path();
    let case_list: Vec<Option<Arc<Case>>> = match (def.cases, def.cases_from) {
        (None, Some(source)) => {
            let cases = source().map_err(|e| CatalogError::CaseSource {
                test: path.clone(),
                message: format!("{e:#}"),
            })?;
            let mut seen = std::collections::BTreeSet::new();
            if let Some(bad) = cases
                .iter()
                .find(|c| !super::cases::valid_id(&c.id) || !seen.insert(c.id.clone()))
            {
                return Err(CatalogError::BadCaseId {
                    test: path,
                    id: bad.id.clone(),
                });
            }
            cases.into_iter().map(|c| Some(Arc::new(c))).collect()
        }
        (None, None) => vec![None],
        (Some(file), _) => match cases.get(file) {
            Some(f) => f.cases.iter().cloned().map(Some).collect(),
            None => {
                return Err(CatalogError::UnknownCasesFile {
                    test: path,
                    file: file.to_owned(),
                    known: if cases.is_empty() {
                        "none".to_owned()
                    } else {
                        cases
                            .keys()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                });
            }
        },
    };

    let mut needs: Vec<Param> = def.needs.to_vec();
    needs.sort();
    if !def.capabilities.is_empty() && !needs.contains(&params::vector_io) {
        return Err(CatalogError::NeedsWithoutVectorIo(path));
    }
    let missing = needs.iter().find(|p| !models.has(**p));
    if let Some(param) = missing {
        let ignore = Ignore::CannotRun(format!("no {} given", param.flag()));
        out.push(trial(
            def,
            path.clone(),
            path,
            TrialParams::default(),
            Some(ignore),
        ));
        return Ok(());
    }

    // The cartesian product of the list-valued parameters.
    let mut combos: Vec<Vec<(Param, String)>> = vec![Vec::new()];
    for param in needs.iter().filter(|p| p.is_list()) {
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                models.values(*param).iter().map(move |v| {
                    let mut c = combo.clone();
                    c.push((*param, v.clone()));
                    c
                })
            })
            .collect();
    }
    let counts: Vec<(Param, u32)> = needs
        .iter()
        .filter_map(|p| Some((*p, models.count(*p)?)))
        .collect();
    let marked = def.ignore.map(|r| Ignore::Marked(r.to_owned()));

    for combo in &combos {
        for case in &case_list {
            let mut ids: Vec<String> = combo
                .iter()
                .map(|(p, v)| format!("{}={v}", p.id()))
                .collect();
            if let Some(c) = case {
                ids.push(format!("case={}", c.id));
            }
            let name = if ids.is_empty() {
                path.clone()
            } else {
                format!("{path}[{}]", ids.join(","))
            };
            let params = TrialParams {
                models: combo.clone(),
                counts: counts.clone(),
                case: case.clone(),
            };
            let ignore = cannot_run(def, combo, models).or_else(|| marked.clone());
            out.push(trial(def, name, path.clone(), params, ignore));
        }
    }
    Ok(())
}

/// Why one combination of values cannot run here: a value the run marked
/// unavailable, or a vector-io provider lacking a capability the test needs
/// (from the one table, so "unsupported" never reaches a test as "no
/// results").
fn cannot_run(def: &TestDef, combo: &[(Param, String)], models: &Models) -> Option<Ignore> {
    let why = combo
        .iter()
        .find_map(|(p, v)| models.unavailable(*p, v).map(str::to_owned))
        .or_else(|| {
            let (_, provider) = combo.iter().find(|(p, _)| *p == params::vector_io)?;
            VectorIoProvider::find(provider)?.lacking(def.capabilities)
        })?;
    Some(Ignore::CannotRun(why))
}

fn trial(
    def: &'static TestDef,
    name: String,
    path: String,
    params: TrialParams,
    ignore: Option<Ignore>,
) -> Trial {
    Trial {
        name,
        path,
        def,
        params,
        ignore,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::registry::{TestFn, params};

    fn never(
        _: Arc<crate::client::TestContext>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>> {
        Box::pin(async { Ok(()) })
    }
    const RUN: TestFn = never;

    /// A definition as the macro would write it, for tests.
    pub(crate) const fn def(
        module: &'static str,
        function: &'static str,
        needs: &'static [Param],
    ) -> TestDef {
        TestDef {
            module,
            function,
            file: "tests/integration/x.rs",
            line: 1,
            needs,
            marks: &[],
            cases: None,
            cases_from: None,
            xfails: &[],
            only: None,
            ignore: None,
            capabilities: &[],
            timeout_secs: None,
            needs_stack: true,
            run: RUN,
        }
    }

    fn models(pairs: &[(Param, &str)]) -> Models {
        let env: BTreeMap<&str, String> = BTreeMap::new();
        let mut line = vec!["integration".to_owned()];
        for (p, v) in pairs {
            line.push(format!("{}={v}", p.flag()));
        }
        let args = crate::cli::RawArgs::parse_from(line).expect("parses");
        crate::cli::Config::resolve(
            args,
            &|k| env.get(k).cloned(),
            &crate::cli::Defaults::default(),
            std::path::Path::new("/r"),
        )
        .expect("resolves")
        .models
    }

    fn names(c: &Catalog) -> Vec<&str> {
        c.trials.iter().map(|t| t.name.as_str()).collect()
    }

    static PLAIN: [TestDef; 1] = [def("integration::health::basic", "is_ok", &[])];
    static MODELS: [TestDef; 1] = [def(
        "integration::inference::chat",
        "streams",
        &[params::embedding_model, params::text_model],
    )];

    #[test]
    fn plain_tests_are_named_by_module_path_without_the_crate() {
        let c = Catalog::build(&PLAIN, &Models::default(), &BTreeMap::new()).expect("builds");
        assert_eq!(names(&c), ["health::basic::is_ok"]);
    }

    #[test]
    fn parametrised_tests_run_once_per_combination() {
        let m = models(&[(params::text_model, "a,b"), (params::embedding_model, "e")]);
        let c = Catalog::build(&MODELS, &m, &BTreeMap::new()).expect("builds");
        assert_eq!(
            names(&c),
            [
                "inference::chat::streams[text_model=a,embedding_model=e]",
                "inference::chat::streams[text_model=b,embedding_model=e]",
            ]
        );
        assert!(
            c.trials
                .iter()
                .all(|t| t.path == "inference::chat::streams" && t.ignore.is_none())
        );
    }

    #[test]
    fn a_missing_parameter_ignores_the_test_with_a_reason() {
        let m = models(&[(params::text_model, "a")]);
        let c = Catalog::build(&MODELS, &m, &BTreeMap::new()).expect("builds");
        assert_eq!(names(&c), ["inference::chat::streams"]);
        assert_eq!(
            c.trials[0].ignore,
            Some(Ignore::CannotRun("no --embedding-model given".into()))
        );
    }

    static COUNTED: [TestDef; 1] = [def(
        "integration::embeddings::basic",
        "sized",
        &[params::embedding_dimension, params::embedding_model],
    )];

    #[test]
    fn a_count_parameter_neither_multiplies_nor_names_trials() {
        let m = models(&[
            (params::embedding_model, "e,f"),
            (params::embedding_dimension, "384"),
        ]);
        let c = Catalog::build(&COUNTED, &m, &BTreeMap::new()).expect("builds");
        assert_eq!(
            names(&c),
            [
                "embeddings::basic::sized[embedding_model=e]",
                "embeddings::basic::sized[embedding_model=f]"
            ]
        );
        assert_eq!(
            c.trials[0].params.counts,
            [(params::embedding_dimension, 384)]
        );
        let m = models(&[(params::embedding_model, "e")]);
        let c = Catalog::build(&COUNTED, &m, &BTreeMap::new()).expect("builds");
        assert_eq!(
            c.trials[0].ignore,
            Some(Ignore::CannotRun("no --embedding-dimension given".into()))
        );
    }

    static CASED: [TestDef; 1] = [TestDef {
        cases: Some("inference/chat.yaml"),
        marks: &["streaming"],
        ..def(
            "integration::inference::chat",
            "cases",
            &[params::text_model],
        )
    }];

    #[test]
    fn cases_multiply_trials_and_name_them() {
        let mut files = BTreeMap::new();
        files.insert(
            "inference/chat.yaml".to_owned(),
            super::super::cases::parse_cases("x", "cases:\n  - id: one\n  - id: Two\n")
                .expect("parses"),
        );
        let m = models(&[(params::text_model, "m")]);
        let c = Catalog::build(&CASED, &m, &files).expect("builds");
        assert_eq!(
            names(&c),
            [
                "inference::chat::cases[text_model=m,case=Two]",
                "inference::chat::cases[text_model=m,case=one]"
            ]
        );

        let err = Catalog::build(&CASED, &m, &BTreeMap::new()).expect_err("no such file");
        assert_eq!(
            err.to_string(),
            "test `inference::chat::cases` names cases file `inference/chat.yaml`, which is not under tests/integration/test_cases/ (files there: none)"
        );
    }

    static KEYWORD: [TestDef; 1] = [TestDef {
        capabilities: &[crate::registry::Capability::KeywordSearch],
        ..def(
            "integration::vector_stores::modes",
            "keyword",
            &[params::vector_io],
        )
    }];
    static NO_PARAM: [TestDef; 1] = [TestDef {
        capabilities: &[crate::registry::Capability::KeywordSearch],
        ..def("integration::vector_stores::modes", "keyword", &[])
    }];

    #[test]
    fn a_provider_lacking_a_needed_capability_ignores_its_trial_naming_it() {
        let m = models(&[(params::vector_io, "faiss,sqlite-vec,weaviate")]);
        let c = Catalog::build(&KEYWORD, &m, &BTreeMap::new()).expect("builds");
        assert_eq!(
            names(&c),
            [
                "vector_stores::modes::keyword[vector_io=faiss]",
                "vector_stores::modes::keyword[vector_io=sqlite-vec]",
                "vector_stores::modes::keyword[vector_io=weaviate]",
            ]
        );
        let faiss = c.trials[0].ignore.as_ref().expect("faiss is ignored");
        assert!(
            faiss
                .reason()
                .starts_with("faiss lacks keyword search: inline::faiss has no keyword search"),
            "{faiss:?}"
        );
        assert_eq!(c.trials[1].ignore, None);
        let weaviate = c.trials[2].ignore.as_ref().expect("weaviate is ignored");
        assert!(
            weaviate
                .reason()
                .contains("point at one with --env WEAVIATE_CLUSTER_URL="),
            "{weaviate:?}"
        );

        let err = Catalog::build(&NO_PARAM, &m, &BTreeMap::new()).expect_err("no vector_io");
        assert!(
            matches!(err, CatalogError::NeedsWithoutVectorIo(ref t) if t == "vector_stores::modes::keyword"),
            "{err}"
        );
    }

    fn two_revisions() -> anyhow::Result<Vec<Case>> {
        Ok(vec![
            Case::new("main.starter", serde_json::json!({"rev": "main"})),
            Case::new("v1.ci", serde_json::json!({})),
        ])
    }
    fn broken_source() -> anyhow::Result<Vec<Case>> {
        Err(anyhow::anyhow!("no git here"))
    }
    fn bad_ids() -> anyhow::Result<Vec<Case>> {
        Ok(vec![Case::new("a b", serde_json::json!({}))])
    }
    static FROM_FN: [TestDef; 1] = [TestDef {
        cases_from: Some(two_revisions),
        ..def("integration::compat::load", "loads", &[])
    }];
    static BROKEN: [TestDef; 1] = [TestDef {
        cases_from: Some(broken_source),
        ..def("integration::compat::load", "loads", &[])
    }];
    static BAD: [TestDef; 1] = [TestDef {
        cases_from: Some(bad_ids),
        ..def("integration::compat::load", "loads", &[])
    }];

    #[test]
    fn cases_from_a_function_are_computed_at_collection() {
        let c = Catalog::build(&FROM_FN, &Models::default(), &BTreeMap::new()).expect("builds");
        assert_eq!(
            names(&c),
            [
                "compat::load::loads[case=main.starter]",
                "compat::load::loads[case=v1.ci]"
            ]
        );
        assert_eq!(
            c.trials[0]
                .params
                .case
                .as_ref()
                .map(|c| c.data["rev"].clone()),
            Some(serde_json::json!("main"))
        );
        let err = Catalog::build(&BROKEN, &Models::default(), &BTreeMap::new()).expect_err("fails");
        assert_eq!(
            err.to_string(),
            "test `compat::load::loads`: its cases_from function failed: no git here"
        );
        let err = Catalog::build(&BAD, &Models::default(), &BTreeMap::new()).expect_err("fails");
        assert_eq!(
            err.to_string(),
            "test `compat::load::loads`: case id `a b` may only use letters, digits, `_`, `-` and `.`, and must be unique"
        );
    }
}
