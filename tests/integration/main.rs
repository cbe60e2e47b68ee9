//! The integration suite: every test under `tests/integration/<area>/` runs
//! against a real Llama Stack server. See the README for how to run it.

include!(concat!(env!("OUT_DIR"), "/integration_tests.rs"));

fn main() -> std::process::ExitCode {
    harness::main(env!("CARGO_MANIFEST_DIR"))
}
