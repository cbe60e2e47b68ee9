//! YAML cases.
