//! Selection: which trials of the catalog a run keeps. `-k` keyword
//! expressions ([`KeywordExpr`]) matched against [`trial_keywords`], and
//! `--suite` ([`Suite`]).

pub(crate) mod bench_api;
mod expr;
mod keywords;
mod suite;

pub(crate) use expr::{KeywordError, KeywordExpr};
pub(crate) use keywords::trial_keywords;
pub(crate) use suite::Suite;
