//! Which stack a session runs ([`Stack`]: the launcher and the version it
//! reports), so that a test can state each stack's truth where they differ.
//!
//! The version is kept as reported, with its release numbers for
//! comparisons: `1.6.0rc1` has the release `[1, 6, 0]`.

use std::fmt;

use super::launcher::LauncherKind;

/// The stack a session talks to: `llama-stack 0.7.3`, `ogx 1.5.0`. Tests
/// read it with `ctx.stack()` to state each version's truth where the
/// stacks differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    launcher: LauncherKind,
    version: Option<Version>,
}

/// A version as the stack reports it (its package's dist-info, or
/// `/v1/version`), with the release numbers that comparisons use.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    text: String,
    release: Vec<u32>,
}

impl Version {
    /// `None` when the text starts with no number.
    fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let mut release = Vec::new();
        for part in text.trim_start_matches('v').split('.') {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            let Ok(number) = digits.parse() else { break };
            release.push(number);
            if digits.len() != part.len() {
                // `0rc1`, `0+local`: the release ends here.
                break;
            }
        }
        (!release.is_empty()).then(|| Version {
            text: text.to_owned(),
            release,
        })
    }
}

impl Stack {
    /// A stack of `launcher` that reported `version` (`None` when it did
    /// not say, or said something without a number).
    pub(crate) fn new(launcher: LauncherKind, version: Option<&str>) -> Stack {
        Stack {
            launcher,
            version: version.and_then(Version::parse),
        }
    }

    /// Which project runs the server.
    pub fn launcher(&self) -> LauncherKind {
        self.launcher
    }

    /// The version it reported, as it reported it: `0.7.3`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_ref().map(|v| v.text.as_str())
    }
}

/// `ogx 1.5.0`; `ogx (version unknown)`.
impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{} {}", self.launcher, v.text),
            None => write!(f, "{} (version unknown)", self.launcher),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llama(version: &str) -> Stack {
        Stack::new(LauncherKind::LlamaStack, Some(version))
    }

    #[test]
    fn the_release_numbers_end_at_the_first_suffix() {
        let release = |t: &str| Version::parse(t).map(|v| v.release);
        assert_eq!(release("0.7.3"), Some(vec![0, 7, 3]));
        assert_eq!(release("0.8.0rc1"), Some(vec![0, 8, 0]));
        assert_eq!(release("0.7.3.dev0"), Some(vec![0, 7, 3]));
        assert_eq!(release("0.7.3+local"), Some(vec![0, 7, 3]));
        assert_eq!(release("v1.2"), Some(vec![1, 2]));
        assert_eq!(release("main"), None);
        assert_eq!(release(""), None);
    }

    #[test]
    fn a_stack_prints_as_its_launcher_and_version() {
        assert_eq!(llama("0.7.3").to_string(), "llama-stack 0.7.3");
        assert_eq!(
            Stack::new(LauncherKind::Ogx, None).to_string(),
            "ogx (version unknown)"
        );
        let ogx = Stack::new(LauncherKind::Ogx, Some("1.5.0"));
        assert_eq!(ogx.version(), Some("1.5.0"));
        assert_eq!(ogx.launcher(), LauncherKind::Ogx);
    }
}
