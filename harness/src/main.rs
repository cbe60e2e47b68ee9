//! `stack-harness`: the recordings tool (list, show, verify, prune) and the
//! sessions tool (list, stop); the logic lives in the library (`tool`).
fn main() -> std::process::ExitCode {
    harness::tool_main()
}
