//! Selection: which trials of the catalog a run keeps. `-k` keyword
//! expressions ([`KeywordExpr`]) and `--suite` ([`Suite`]).
#![cfg_attr(not(test), allow(dead_code))] // wired in by the runner; remove when used

mod expr;

pub(crate) use expr::{KeywordError, KeywordExpr};
