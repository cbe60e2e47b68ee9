//! Which stack a session runs ([`Stack`]: the launcher and the version it
//! reports) and whether a declaration that names stacks ([`Stacks`],
//! `stacks = "llama-stack<0.8, ogx"` in `#[harness::test]`) applies to it.
//!
//! A declaration is a list of alternatives; each names a launcher and
//! optionally bounds its version, all of which must hold:
//!
//! ```text
//! llama-stack            every llama-stack version
//! llama-stack<0.8        llama-stack below 0.8 (0.7.3 yes, 0.8.0 no)
//! ogx>=1.5,<2            OGX from 1.5 up to, not including, 2
//! llama-stack, ogx<1.6   either
//! ```
//!
//! Versions compare by their release numbers, a missing number counting as
//! 0 (`0.8` is `0.8.0`). A pre-release or local suffix is ignored
//! (`1.6.0rc1` counts as `1.6.0`): a fix in 1.6 is in its release
//! candidates, so `<1.6` should not expect the bug there. The macro writes
//! declarations as static data, after checking their syntax at compile time
//! (an unknown launcher is rustc's "cannot find value" at the string), so
//! nothing here parses them.

use std::cmp::Ordering;
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

    fn compare(&self, other: &[u32]) -> Ordering {
        let len = self.release.len().max(other.len());
        let at = |v: &[u32], i: usize| v.get(i).copied().unwrap_or(0);
        (0..len)
            .map(|i| at(&self.release, i).cmp(&at(other, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
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

    /// Reads a label as [`Stack`]'s `Display` writes it: `ogx 1.5.0`.
    pub(crate) fn from_label(label: &str) -> Option<Stack> {
        let (launcher, version) = label.split_once(' ')?;
        let launcher = LauncherKind::parse(launcher).ok()?;
        let version = Version::parse(version).filter(|v| v.text == version)?;
        Some(Stack {
            launcher,
            version: Some(version),
        })
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

/// How a [`Bound`] compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Op {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Lt => ordering.is_lt(),
            Op::Le => ordering.is_le(),
            Op::Gt => ordering.is_gt(),
            Op::Ge => ordering.is_ge(),
            Op::Eq => ordering.is_eq(),
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }
}

/// `<0.8`: the version compared with release numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub op: Op,
    pub version: &'static [u32],
}

/// One alternative: a launcher, and bounds its version must all meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackReq {
    pub launcher: LauncherKind,
    pub bounds: &'static [Bound],
}

/// The stacks a declaration applies to: any of the alternatives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stacks(pub &'static [StackReq]);

/// Whether a declaration applies to the session's stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applies {
    Yes,
    No,
    /// An alternative for this launcher bounds the version, and the stack
    /// did not say which version it is.
    Unknown,
}

impl Stacks {
    pub(crate) fn applies_to(&self, stack: &Stack) -> Applies {
        let mut unknown = false;
        for req in self.0.iter().filter(|r| r.launcher == stack.launcher) {
            match &stack.version {
                _ if req.bounds.is_empty() => return Applies::Yes,
                None => unknown = true,
                Some(version) => {
                    if req
                        .bounds
                        .iter()
                        .all(|b| b.op.holds(version.compare(b.version)))
                    {
                        return Applies::Yes;
                    }
                }
            }
        }
        if unknown {
            Applies::Unknown
        } else {
            Applies::No
        }
    }
}

/// As it is declared: `llama-stack<0.8, ogx>=1.5,<2`.
impl fmt::Display for Stacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, req) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(req.launcher.name())?;
            for (j, bound) in req.bounds.iter().enumerate() {
                if j > 0 {
                    f.write_str(",")?;
                }
                let version: Vec<String> = bound.version.iter().map(u32::to_string).collect();
                write!(f, "{}{}", bound.op.symbol(), version.join("."))?;
            }
        }
        Ok(())
    }
}

/// The `#[harness::test]` expansion names a launcher as a path into this
/// module (`llama-stack` is `launchers::llama_stack`), so an unknown one is
/// rustc's "cannot find value" at the declaration.
///
/// ```compile_fail
/// use harness::prelude::*;
/// #[harness::test(only(stacks = "lama-stack", reason = "r"))] // E0425: cannot find value
/// // `lama_stack` in module `::harness::__private::launchers`
/// async fn t(_ctx: &TestContext) -> Result { Ok(()) }
/// fn main() {}
/// ```
#[expect(non_upper_case_globals, reason = "named as `--launcher` spells them")]
pub mod launchers {
    use super::LauncherKind;
    pub const llama_stack: LauncherKind = LauncherKind::LlamaStack;
    pub const ogx: LauncherKind = LauncherKind::Ogx;
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn req(launcher: LauncherKind, bounds: &'static [Bound]) -> StackReq {
        StackReq { launcher, bounds }
    }

    const fn bound(op: Op, version: &'static [u32]) -> Bound {
        Bound { op, version }
    }

    const LLAMA_BELOW_0_8: Stacks =
        Stacks(&[req(LauncherKind::LlamaStack, &[bound(Op::Lt, &[0, 8])])]);
    const ANY_LLAMA_OR_OGX_BELOW_1_6: Stacks = Stacks(&[
        req(LauncherKind::LlamaStack, &[]),
        req(LauncherKind::Ogx, &[bound(Op::Lt, &[1, 6])]),
    ]);
    const OGX_1_5_TO_2: Stacks = Stacks(&[req(
        LauncherKind::Ogx,
        &[bound(Op::Ge, &[1, 5]), bound(Op::Lt, &[2])],
    )]);
    const EXACTLY_0_7_3: Stacks =
        Stacks(&[req(LauncherKind::LlamaStack, &[bound(Op::Eq, &[0, 7, 3])])]);
    const ABOVE: Stacks = Stacks(&[req(
        LauncherKind::LlamaStack,
        &[bound(Op::Gt, &[0, 7]), bound(Op::Le, &[0, 7, 3])],
    )]);

    fn llama(version: &str) -> Stack {
        Stack::new(LauncherKind::LlamaStack, Some(version))
    }

    fn ogx(version: &str) -> Stack {
        Stack::new(LauncherKind::Ogx, Some(version))
    }

    #[test]
    fn versions_compare_by_release_numbers() {
        use Applies::{No, Unknown, Yes};
        let table: &[(Stacks, Stack, Applies)] = &[
            (LLAMA_BELOW_0_8, llama("0.7.3"), Yes),
            (LLAMA_BELOW_0_8, llama("0.8"), No),
            (LLAMA_BELOW_0_8, llama("0.8.0"), No),
            (LLAMA_BELOW_0_8, llama("0.10.0"), No),
            (LLAMA_BELOW_0_8, llama("0.7.99"), Yes),
            // A release candidate counts as its release.
            (LLAMA_BELOW_0_8, llama("0.8.0rc1"), No),
            (LLAMA_BELOW_0_8, llama("0.7.3.dev0"), Yes),
            (LLAMA_BELOW_0_8, llama("0.7.3+local"), Yes),
            // Another launcher's version is never compared.
            (LLAMA_BELOW_0_8, ogx("0.1"), No),
            (ANY_LLAMA_OR_OGX_BELOW_1_6, llama("9.9"), Yes),
            (ANY_LLAMA_OR_OGX_BELOW_1_6, ogx("1.5.0"), Yes),
            (ANY_LLAMA_OR_OGX_BELOW_1_6, ogx("1.6.0"), No),
            (OGX_1_5_TO_2, ogx("1.4.9"), No),
            (OGX_1_5_TO_2, ogx("1.5"), Yes),
            (OGX_1_5_TO_2, ogx("1.99.0"), Yes),
            (OGX_1_5_TO_2, ogx("2.0.0"), No),
            (EXACTLY_0_7_3, llama("0.7.3"), Yes),
            (EXACTLY_0_7_3, llama("0.7.3.0"), Yes),
            (EXACTLY_0_7_3, llama("0.7.4"), No),
            (ABOVE, llama("0.7.0"), No),
            (ABOVE, llama("0.7.1"), Yes),
            (ABOVE, llama("0.7.3"), Yes),
            (ABOVE, llama("0.7.4"), No),
            // A bound cannot be checked without a version; a launcher alone can.
            (
                LLAMA_BELOW_0_8,
                Stack::new(LauncherKind::LlamaStack, None),
                Unknown,
            ),
            (
                LLAMA_BELOW_0_8,
                Stack::new(LauncherKind::LlamaStack, Some("main")),
                Unknown,
            ),
            (
                ANY_LLAMA_OR_OGX_BELOW_1_6,
                Stack::new(LauncherKind::LlamaStack, None),
                Yes,
            ),
            (
                ANY_LLAMA_OR_OGX_BELOW_1_6,
                Stack::new(LauncherKind::Ogx, None),
                Unknown,
            ),
            (OGX_1_5_TO_2, Stack::new(LauncherKind::LlamaStack, None), No),
        ];
        for (stacks, stack, expected) in table {
            assert_eq!(
                stacks.applies_to(stack),
                *expected,
                "`{stacks}` for {stack}"
            );
        }
    }

    #[test]
    fn declarations_and_stacks_print_as_written() {
        assert_eq!(LLAMA_BELOW_0_8.to_string(), "llama-stack<0.8");
        assert_eq!(
            ANY_LLAMA_OR_OGX_BELOW_1_6.to_string(),
            "llama-stack, ogx<1.6"
        );
        assert_eq!(OGX_1_5_TO_2.to_string(), "ogx>=1.5,<2");
        assert_eq!(EXACTLY_0_7_3.to_string(), "llama-stack==0.7.3");
        assert_eq!(ABOVE.to_string(), "llama-stack>0.7,<=0.7.3");
        assert_eq!(llama("0.7.3").to_string(), "llama-stack 0.7.3");
        assert_eq!(
            Stack::new(LauncherKind::Ogx, None).to_string(),
            "ogx (version unknown)"
        );
        assert_eq!(ogx("1.5.0").version(), Some("1.5.0"));
        assert_eq!(ogx("1.5.0").launcher(), LauncherKind::Ogx);
    }

    #[test]
    fn a_label_reads_back() {
        for label in ["llama-stack 0.7.3", "ogx 1.5.0", "ogx 1.6.0rc1"] {
            let stack = Stack::from_label(label).expect(label);
            assert_eq!(stack.to_string(), label);
        }
        for bad in [
            "",
            "ogx",
            "ogx ",
            "ogx 1.5.0 ",
            "llama 0.7.3",
            "ogx one",
            "ogx (version unknown)",
        ] {
            assert_eq!(Stack::from_label(bad), None, "{bad:?}");
        }
    }
}
