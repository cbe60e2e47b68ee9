//! `stack-harness`: the recordings tool (list, show, verify, prune).
//!
//! Its logic lives in the library (`record::tool`); wiring it here needs
//! `#[doc(hidden)] pub use record::tool_main;` in lib.rs, after which this
//! `main` becomes `harness::tool_main()`.
fn main() -> std::process::ExitCode {
    eprintln!(
        "error: the recordings tool is not wired into the library yet; add `#[doc(hidden)] pub use record::tool_main;` to harness/src/lib.rs"
    );
    std::process::ExitCode::from(2)
}
