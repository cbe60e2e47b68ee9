//! The keyword set a trial offers to `-k`: built from its name and marks the
//! way pytest builds a test item's keywords.

/// The keywords `-k` tests a trial against, borrowed from its name and
/// marks: each `::` segment of the path, the full name, each bracketed id
/// (`text_model=llama3`, or a data-driven case id) and each parameter's
/// value (`llama3`), then each mark.
///
/// `name` is a trial name as listed: `inference::chat::streaming[text_model=llama3]`.
pub(crate) fn trial_keywords<'a>(name: &'a str, marks: &[&'a str]) -> Vec<&'a str> {
    // Split off the brackets first: a parameter value may itself contain
    // `::` (`ollama::llama3`), which is not a path segment.
    let (path, ids) = match name.find('[') {
        Some(open) => (&name[..open], name[open + 1..].strip_suffix(']')),
        None => (name, None),
    };
    let mut keywords: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    keywords.push(name);
    for id in ids.into_iter().flat_map(|ids| ids.split(',')) {
        keywords.push(id);
        if let Some((_, value)) = id.split_once('=') {
            keywords.push(value);
        }
    }
    keywords.extend_from_slice(marks);
    keywords
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_give_segments_and_the_full_name() {
        assert_eq!(
            trial_keywords("inference::chat::basic", &[]),
            ["inference", "chat", "basic", "inference::chat::basic"]
        );
        assert_eq!(trial_keywords("top", &["slow"]), ["top", "top", "slow"]);
    }

    #[test]
    fn parameters_give_their_ids_and_values() {
        let name =
            "inference::chat::streaming[text_model=ollama::llama3,case_2,embedding_model=e5]";
        assert_eq!(
            trial_keywords(name, &["stream", "vision"]),
            [
                "inference",
                "chat",
                "streaming",
                name,
                "text_model=ollama::llama3",
                "ollama::llama3",
                "case_2",
                "embedding_model=e5",
                "e5",
                "stream",
                "vision",
            ]
        );
    }

    #[test]
    fn unbalanced_brackets_do_not_panic() {
        assert_eq!(trial_keywords("a::b[x=1", &[]), ["a", "b", "a::b[x=1"]);
        assert_eq!(trial_keywords("[]", &[]), ["[]", ""]);
        assert!(trial_keywords("", &[]).contains(&""));
    }
}
