//! `stack-harness`: the recordings tool (list, show, verify, prune).
fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
