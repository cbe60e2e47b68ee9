//! `-k EXPR`: pytest's keyword-expression grammar, parsed once into a
//! [`KeywordExpr`] and matched against each trial's keywords.
//!
//! ```text
//! expression: expr? EOF
//! expr:       and_expr ('or' and_expr)*
//! and_expr:   not_expr ('and' not_expr)*
//! not_expr:   'not' not_expr | '(' expr ')' | ident
//! ident:      (\w|:|\+|-|\.|\[|\]|\\|/|=|,)+
//! ```
//!
//! Unlike pytest we accept `=` and `,` inside identifiers, so a parameter id
//! such as `text_model=llama3` can be typed as is.

use std::fmt;

/// Deeper nesting than this is refused rather than risking the stack: no
/// real filter needs more, and the parser and matcher recurse per level.
const MAX_DEPTH: usize = 100;

/// A parsed `-k` expression. An empty one selects everything.
#[derive(Clone, Debug)]
pub(crate) struct KeywordExpr {
    /// `None` for an empty expression.
    root: Option<Node>,
}

/// `and`/`or` chains are n-ary so a long `a or b or c ...` stays flat: only
/// parentheses and `not` add depth, and those are bounded by [`MAX_DEPTH`].
#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// Lowercased once here so matching never lowercases the pattern.
    Ident(String),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

impl KeywordExpr {
    pub(crate) fn parse(src: &str) -> Result<KeywordExpr, KeywordError> {
        let tokens = tokenize(src)?;
        let mut parser = Parser {
            src,
            tokens: &tokens,
            pos: 0,
            depth: 0,
        };
        let root = if tokens.len() == 1 {
            None // only the end-of-input token: whitespace or nothing
        } else {
            let node = parser.expr()?;
            let next = parser.peek();
            match next.kind {
                TokenKind::Eof => {}
                TokenKind::RParen => return Err(parser.error(next, ErrorKind::UnexpectedRParen)),
                _ => {
                    return Err(parser.error(
                        next,
                        ErrorKind::ExpectedOperator {
                            found: next.describe(src),
                        },
                    ));
                }
            }
            Some(node)
        };
        Ok(KeywordExpr { root })
    }

    /// True if the expression holds when each identifier is tested as a
    /// case-insensitive substring of ANY of `keywords` (pytest's semantics:
    /// identifiers may match different keywords).
    pub(crate) fn matches<S: AsRef<str>>(&self, keywords: &[S]) -> bool {
        match &self.root {
            None => true,
            Some(node) => eval(node, &lowercase_joined(keywords)),
        }
    }
}

/// Every keyword lowercased, one per line. Lowercasing once per trial and
/// searching one buffer with std's (SIMD) `contains` is several times
/// faster than a case-folding search of each keyword per identifier, and
/// no identifier can span two keywords: `\n` is not an identifier character.
fn lowercase_joined<S: AsRef<str>>(keywords: &[S]) -> String {
    let len = keywords.iter().map(|k| k.as_ref().len() + 1).sum();
    let mut joined = String::with_capacity(len);
    for keyword in keywords {
        let keyword = keyword.as_ref();
        if keyword.is_ascii() {
            let start = joined.len();
            joined.push_str(keyword);
            joined[start..].make_ascii_lowercase();
        } else {
            joined.push_str(&keyword.to_lowercase());
        }
        joined.push('\n');
    }
    joined
}

fn eval(node: &Node, haystack: &str) -> bool {
    match node {
        Node::Ident(needle) => haystack.contains(needle.as_str()),
        Node::Not(inner) => !eval(inner, haystack),
        Node::And(nodes) => nodes.iter().all(|n| eval(n, haystack)),
        Node::Or(nodes) => nodes.iter().any(|n| eval(n, haystack)),
    }
}

/// A `-k` expression that does not parse, with the position to point at.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) struct KeywordError {
    expr: String,
    /// Character (not byte) offset of the offending token.
    column: usize,
    kind: ErrorKind,
}

#[derive(Debug, PartialEq)]
enum ErrorKind {
    ExpectedOperand { found: String },
    ExpectedRParen { found: String },
    ExpectedOperator { found: String },
    UnexpectedRParen,
    UnexpectedChar(char),
    TooDeep,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::ExpectedOperand { found } => {
                write!(f, "expected an identifier, `not` or `(`, found {found}")
            }
            ErrorKind::ExpectedRParen { found } => write!(f, "expected `)`, found {found}"),
            ErrorKind::ExpectedOperator { found } => {
                write!(f, "expected `and`, `or` or end of input, found {found}")
            }
            ErrorKind::UnexpectedRParen => f.write_str("unexpected `)`"),
            ErrorKind::UnexpectedChar(c) => {
                if c.is_control() {
                    write!(f, "unexpected character `{}`", c.escape_debug())?;
                } else {
                    write!(f, "unexpected character `{c}`")?;
                }
                match c {
                    '&' => f.write_str("; write `and`"),
                    '|' => f.write_str("; write `or`"),
                    '!' | '~' => f.write_str("; write `not`"),
                    '"' | '\'' => f.write_str("; identifiers are not quoted"),
                    _ => Ok(()),
                }
            }
            ErrorKind::TooDeep => write!(
                f,
                "expression nests too deeply (more than {MAX_DEPTH} levels of `(` or `not`)"
            ),
        }
    }
}

impl fmt::Display for KeywordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid -k expression: {}", self.kind)?;
        // Echo the expression on one line so the caret lines up: a tab or
        // newline would shift or break it.
        let echoed: String = self
            .expr
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(f, "  {echoed}")?;
        write!(f, "  {:width$}^", "", width = self.column)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum TokenKind {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Ident,
    Eof,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: TokenKind,
    /// Byte range in the source.
    start: usize,
    end: usize,
}

impl Token {
    /// How an error message names this token.
    fn describe(&self, src: &str) -> String {
        match self.kind {
            TokenKind::Eof => "end of input".to_owned(),
            TokenKind::Ident => {
                let text = &src[self.start..self.end];
                let hint = match text.to_lowercase().as_str() {
                    "and" | "or" | "not" => " (operators are lowercase)",
                    _ => "",
                };
                format!("identifier `{text}`{hint}")
            }
            _ => format!("`{}`", &src[self.start..self.end]),
        }
    }
}

fn is_ident_char(c: char) -> bool {
    // `\w` in Python's Unicode regexes: letters, digits, underscore.
    c.is_alphanumeric()
        || c == '_'
        || matches!(
            c,
            ':' | '+' | '-' | '.' | '[' | ']' | '\\' | '/' | '=' | ','
        )
}

fn tokenize(src: &str) -> Result<Vec<Token>, KeywordError> {
    let mut tokens = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let kind = match c {
            ' ' | '\t' => continue,
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            c if is_ident_char(c) => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, c)) = chars.peek() {
                    if !is_ident_char(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token {
                    kind: keyword(&src[start..end]),
                    start,
                    end,
                });
                continue;
            }
            other => {
                return Err(KeywordError {
                    expr: src.to_owned(),
                    column: src[..start].chars().count(),
                    kind: ErrorKind::UnexpectedChar(other),
                });
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: start + 1,
        });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        start: src.len(),
        end: src.len(),
    });
    Ok(tokens)
}

/// Operators are keywords only in lowercase, as in pytest: `AND` is an
/// identifier and `nota` is one too.
fn keyword(word: &str) -> TokenKind {
    match word {
        "and" => TokenKind::And,
        "or" => TokenKind::Or,
        "not" => TokenKind::Not,
        _ => TokenKind::Ident,
    }
}

struct Parser<'a> {
    src: &'a str,
    /// Always ends with an `Eof` token, so `peek` never runs off the end.
    tokens: &'a [Token],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Token {
        self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn error(&self, at: Token, kind: ErrorKind) -> KeywordError {
        KeywordError {
            expr: self.src.to_owned(),
            column: self.src[..at.start].chars().count(),
            kind,
        }
    }

    fn expr(&mut self) -> Result<Node, KeywordError> {
        let mut terms = vec![self.and_expr()?];
        while self.peek().kind == TokenKind::Or {
            self.bump();
            terms.push(self.and_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Node::Or(terms)
        })
    }

    fn and_expr(&mut self) -> Result<Node, KeywordError> {
        let mut terms = vec![self.not_expr()?];
        while self.peek().kind == TokenKind::And {
            self.bump();
            terms.push(self.not_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Node::And(terms)
        })
    }

    fn not_expr(&mut self) -> Result<Node, KeywordError> {
        let token = self.bump();
        match token.kind {
            TokenKind::Not => {
                let inner = self.nested(token, Self::not_expr)?;
                Ok(Node::Not(Box::new(inner)))
            }
            TokenKind::LParen => {
                let inner = self.nested(token, Self::expr)?;
                let close = self.bump();
                if close.kind != TokenKind::RParen {
                    return Err(self.error(
                        close,
                        ErrorKind::ExpectedRParen {
                            found: close.describe(self.src),
                        },
                    ));
                }
                Ok(inner)
            }
            TokenKind::Ident => Ok(Node::Ident(self.src[token.start..token.end].to_lowercase())),
            TokenKind::And | TokenKind::Or | TokenKind::RParen | TokenKind::Eof => Err(self.error(
                token,
                ErrorKind::ExpectedOperand {
                    found: token.describe(self.src),
                },
            )),
        }
    }

    fn nested(
        &mut self,
        opener: Token,
        parse: fn(&mut Self) -> Result<Node, KeywordError>,
    ) -> Result<Node, KeywordError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(opener, ErrorKind::TooDeep));
        }
        self.depth += 1;
        let node = parse(self);
        self.depth -= 1;
        node
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(s: &str) -> Node {
        Node::Ident(s.to_owned())
    }

    fn tree(src: &str) -> Option<Node> {
        match KeywordExpr::parse(src) {
            Ok(expr) => expr.root,
            Err(e) => panic!("`{src}` should parse:\n{e}"),
        }
    }

    fn error(src: &str) -> String {
        match KeywordExpr::parse(src) {
            Ok(expr) => panic!("`{src}` should not parse, got {:?}", expr.root),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        assert_eq!(
            tree("a or b and not c"),
            Some(Node::Or(vec![
                ident("a"),
                Node::And(vec![ident("b"), Node::Not(Box::new(ident("c")))]),
            ]))
        );
        assert_eq!(
            tree("not a and b"),
            Some(Node::And(vec![Node::Not(Box::new(ident("a"))), ident("b")]))
        );
        assert_eq!(
            tree("not not a"),
            Some(Node::Not(Box::new(Node::Not(Box::new(ident("a"))))))
        );
    }

    #[test]
    fn chains_stay_flat_and_parentheses_group() {
        assert_eq!(
            tree("a or b or c"),
            Some(Node::Or(vec![ident("a"), ident("b"), ident("c")]))
        );
        assert_eq!(
            tree("(a or b) and c"),
            Some(Node::And(vec![
                Node::Or(vec![ident("a"), ident("b")]),
                ident("c")
            ]))
        );
        assert_eq!(tree("((a))"), Some(ident("a")));
        assert_eq!(
            tree("not(a)and(b)"),
            Some(Node::And(vec![Node::Not(Box::new(ident("a"))), ident("b")]))
        );
    }

    #[test]
    fn identifiers_take_every_allowed_character_and_are_lowercased_once() {
        assert_eq!(
            tree(r"inference::Chat[text_model=Llama-3.2:3B,x]"),
            Some(ident("inference::chat[text_model=llama-3.2:3b,x]"))
        );
        assert_eq!(tree(r"a/b\c+d"), Some(ident(r"a/b\c+d")));
        assert_eq!(tree("É_1"), Some(ident("é_1")));
    }

    #[test]
    fn operators_are_keywords_only_in_lowercase_and_as_whole_words() {
        assert_eq!(tree("nota"), Some(ident("nota")));
        assert_eq!(tree("android"), Some(ident("android")));
        assert_eq!(
            tree("or_else and notes"),
            Some(Node::And(vec![ident("or_else"), ident("notes")]))
        );
        assert_eq!(tree("NOT"), Some(ident("not")));
        assert_eq!(
            error("chat AND stream"),
            "invalid -k expression: expected `and`, `or` or end of input, found identifier `AND` (operators are lowercase)\n  chat AND stream\n       ^"
        );
    }

    #[test]
    fn empty_or_blank_selects_everything() {
        for src in ["", "   ", "\t \t"] {
            let expr = KeywordExpr::parse(src).expect("blank parses");
            assert_eq!(expr.root, None);
            assert!(expr.matches::<&str>(&[]));
            assert!(expr.matches(&["anything"]));
        }
    }

    #[test]
    fn matching_is_case_insensitive_substring_of_any_keyword() {
        let keywords = [
            "inference",
            "chat",
            "Streaming[text_model=Llama3]",
            "text_model=Llama3",
            "llama3",
            "slow",
        ];
        let cases = [
            ("chat", true),
            ("CHAT", true),
            ("stream", true),
            ("chat and stream", true),
            ("chat and not stream", false),
            ("chat and not stream or slow", true),
            ("chat and (not stream or slow)", true),
            ("embeddings", false),
            ("not embeddings", true),
            ("text_model=llama3", true),
            ("text_model=gpt", false),
            ("LLAMA", true),
            ("inference::chat", false),
            ("a or b and not c", true), // `a` is a substring of `chat`
        ];
        for (src, expected) in cases {
            let expr = KeywordExpr::parse(src).expect("valid expression");
            assert_eq!(expr.matches(&keywords), expected, "-k {src:?}");
        }
    }

    #[test]
    fn non_ascii_keywords_fold_case_too() {
        let expr = KeywordExpr::parse("ÉTÉ").expect("valid");
        assert!(expr.matches(&["un_été_chaud"]));
        assert!(!expr.matches(&["ete"]));
        assert!(
            KeywordExpr::parse("k")
                .expect("valid")
                .matches(&["\u{212A}elvin"])
        );
    }

    #[test]
    fn an_identifier_never_spans_two_keywords() {
        let expr = KeywordExpr::parse("bc").expect("valid");
        assert!(!expr.matches(&["ab", "cd"]));
        assert!(expr.matches(&["ab", "xBCx"]));
        assert!(!expr.matches::<&str>(&[]));
    }

    #[test]
    fn error_messages_point_at_the_offending_token() {
        let cases = [
            (
                "chat and",
                "invalid -k expression: expected an identifier, `not` or `(`, found end of input\n  chat and\n          ^",
            ),
            (
                "and chat",
                "invalid -k expression: expected an identifier, `not` or `(`, found `and`\n  and chat\n  ^",
            ),
            (
                "(chat or)",
                "invalid -k expression: expected an identifier, `not` or `(`, found `)`\n  (chat or)\n          ^",
            ),
            (
                "(chat",
                "invalid -k expression: expected `)`, found end of input\n  (chat\n       ^",
            ),
            (
                "(chat stream)",
                "invalid -k expression: expected `)`, found identifier `stream`\n  (chat stream)\n        ^",
            ),
            (
                "(a (b)",
                "invalid -k expression: expected `)`, found `(`\n  (a (b)\n     ^",
            ),
            (
                "chat)",
                "invalid -k expression: unexpected `)`\n  chat)\n      ^",
            ),
            (
                "chat foo",
                "invalid -k expression: expected `and`, `or` or end of input, found identifier `foo`\n  chat foo\n       ^",
            ),
            (
                "chat (foo)",
                "invalid -k expression: expected `and`, `or` or end of input, found `(`\n  chat (foo)\n       ^",
            ),
            (
                "not",
                "invalid -k expression: expected an identifier, `not` or `(`, found end of input\n  not\n     ^",
            ),
            (
                "()",
                "invalid -k expression: expected an identifier, `not` or `(`, found `)`\n  ()\n   ^",
            ),
            (
                "chat && stream",
                "invalid -k expression: unexpected character `&`; write `and`\n  chat && stream\n       ^",
            ),
            (
                "chat || stream",
                "invalid -k expression: unexpected character `|`; write `or`\n  chat || stream\n       ^",
            ),
            (
                "!chat",
                "invalid -k expression: unexpected character `!`; write `not`\n  !chat\n  ^",
            ),
            (
                "'chat'",
                "invalid -k expression: unexpected character `'`; identifiers are not quoted\n  'chat'\n  ^",
            ),
            (
                "a\nb",
                "invalid -k expression: unexpected character `\\n`\n  a b\n   ^",
            ),
            (
                "été or *",
                "invalid -k expression: unexpected character `*`\n  été or *\n         ^",
            ),
        ];
        for (src, expected) in cases {
            assert_eq!(error(src), expected, "-k {src:?}");
        }
    }

    #[test]
    fn tabs_are_echoed_as_spaces_so_the_caret_lines_up() {
        assert_eq!(
            error("chat\tand"),
            "invalid -k expression: expected an identifier, `not` or `(`, found end of input\n  chat and\n          ^"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(KeywordExpr::parse(&deep).is_ok());
        let too_deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
        let err = KeywordExpr::parse(&too_deep).expect_err("too deep");
        assert_eq!(
            err.kind.to_string(),
            "expression nests too deeply (more than 100 levels of `(` or `not`)"
        );
        assert_eq!(err.column, MAX_DEPTH);
        let nots = "not ".repeat(100_000) + "a";
        assert!(KeywordExpr::parse(&nots).is_err());
        // Long flat chains are fine: they do not nest.
        let chain = vec!["a"; 100_000].join(" or ");
        assert!(
            KeywordExpr::parse(&chain)
                .expect("flat chain")
                .matches(&["a"])
        );
    }

    /// No input, however garbled, may panic: parse and match random strings
    /// drawn from the grammar's own alphabet plus junk.
    #[test]
    fn never_panics_on_garbage() {
        const PIECES: &[&str] = &[
            "a", "chat", "and", "or", "not", "(", ")", " ", "\t", "\n", "[", "]", "=", ",", ":",
            "é", "\u{212A}", "&", "|", "\"", "\0", "🦀", "AND", "nota", "x=1",
        ];
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let src: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            match KeywordExpr::parse(&src) {
                Ok(expr) => {
                    let _ = expr.matches(&["chat", "a", "x=1"]);
                }
                Err(e) => {
                    let shown = e.to_string();
                    assert!(shown.starts_with("invalid -k expression: "), "{shown}");
                    assert!(e.column <= src.chars().count(), "{src:?}: {shown}");
                }
            }
        }
    }

    #[test]
    fn expressions_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<KeywordExpr>();
        assert_send_sync::<KeywordError>();
    }
}
