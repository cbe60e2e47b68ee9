//! `stack-harness`: the recordings tool (list, show, verify, prune); its
//! logic lives in the library (`record::tool`).
fn main() -> std::process::ExitCode {
    harness::tool_main()
}
