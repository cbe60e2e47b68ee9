//! The small surface `benches/selection.rs` measures, re-exported from the
//! crate root as the doc-hidden `harness::__bench`, so `select` and
//! `report` can stay private. Not an API: it may change with the bench.

use std::io;

use super::{KeywordExpr, trial_keywords};
use crate::report::{Format, Listed, write_list};

/// Trial names and marks shaped like the real catalog's.
pub struct Trials {
    names: Vec<String>,
    marks: Vec<&'static [&'static str]>,
}

/// `n` distinct trials over ten areas and three text models, e.g.
/// `inference::chat_completion::test_streaming_17[text_model=ollama/llama3.2:3b]`.
pub fn synthetic_trials(n: usize) -> Trials {
    const AREAS: [&str; 10] = [
        "inference",
        "responses",
        "vector_io",
        "safety",
        "agents",
        "files",
        "batches",
        "embeddings",
        "tool_runtime",
        "conversations",
    ];
    const MODULES: [&str; 4] = ["chat_completion", "openai_completion", "basic", "errors"];
    const VERBS: [&str; 5] = [
        "non_streaming",
        "streaming",
        "structured_output",
        "tool_calling",
        "stop_sequence",
    ];
    const MODELS: [&str; 3] = [
        "ollama/llama3.2:3b",
        "openai/gpt-4o-mini",
        "vllm/Qwen/Qwen3-0.6B",
    ];
    const MARKS: [&[&str]; 4] = [&[], &["slow"], &["stream"], &["slow", "vision"]];
    let names = (0..n)
        .map(|i| {
            format!(
                "{}::{}::test_{}_{}[text_model={}]",
                AREAS[i % AREAS.len()],
                MODULES[i / AREAS.len() % MODULES.len()],
                VERBS[i / 3 % VERBS.len()],
                i,
                MODELS[i % MODELS.len()],
            )
        })
        .collect();
    let marks = (0..n).map(|i| MARKS[i % MARKS.len()]).collect();
    Trials { names, marks }
}

impl Trials {
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// `--list --format terse`, as the runner calls it.
    pub fn list_terse(&self, out: &mut Vec<u8>) -> io::Result<()> {
        let listed: Vec<Listed<'_>> = self
            .names
            .iter()
            .map(|name| Listed {
                name,
                ignored: false,
                ignore_reason: None,
                file: "tests/integration/inference/chat_completion.rs",
                line: 1,
            })
            .collect();
        write_list(Format::Terse, &listed, out)
    }

    /// Every trial's `-k` keyword set, built once.
    pub fn keyword_sets(&self) -> Vec<Vec<&str>> {
        self.names
            .iter()
            .zip(&self.marks)
            .map(|(name, marks)| trial_keywords(name, marks))
            .collect()
    }

    /// The baseline: a plain substring filter over the names.
    pub fn count_containing(&self, needle: &str) -> usize {
        self.names.iter().filter(|n| n.contains(needle)).count()
    }
}

/// A parsed `-k` expression.
pub struct Filter(KeywordExpr);

impl Filter {
    pub fn parse(src: &str) -> Result<Filter, String> {
        KeywordExpr::parse(src)
            .map(Filter)
            .map_err(|e| e.to_string())
    }

    /// Selection as the runner does it: build each trial's keywords, match.
    pub fn count(&self, trials: &Trials) -> usize {
        trials
            .names
            .iter()
            .zip(&trials.marks)
            .filter(|(name, marks)| self.0.matches(&trial_keywords(name, marks)))
            .count()
    }

    /// Matching alone, over keyword sets built beforehand.
    pub fn count_sets(&self, sets: &[Vec<&str>]) -> usize {
        sets.iter().filter(|set| self.0.matches(set)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_inputs_are_what_they_claim() {
        let trials = synthetic_trials(10_000);
        assert_eq!(
            trials.names()[17],
            "embeddings::openai_completion::test_non_streaming_17[text_model=vllm/Qwen/Qwen3-0.6B]"
        );
        let mut out = Vec::new();
        trials.list_terse(&mut out).expect("in memory");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 10_000);

        let filter = Filter::parse("chat and not stream or embeddings").expect("valid");
        let selected = filter.count(&trials);
        assert_eq!(selected, filter.count_sets(&trials.keyword_sets()));
        assert!(selected > 0 && selected < 10_000, "{selected}");
        assert!(trials.count_containing("chat") > 0);
        assert_eq!(
            Filter::parse("chat and")
                .err()
                .as_deref()
                .map(|e| e.lines().next()),
            Some(Some(
                "invalid -k expression: expected an identifier, `not` or `(`, found end of input"
            ))
        );
    }
}
