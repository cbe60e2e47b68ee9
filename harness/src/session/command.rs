//! `stack-harness sessions [list]` and `stack-harness sessions stop
//! [NAME|--all]`: the live sessions under `target/stack-harness/sessions/`,
//! and stopping them (a `--keep-server` one, say) without knowing their
//! files. Stopping waits until the supervisor and every process of every
//! service it ran are gone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::files::{Phase, SessionDir, State, pid_alive};

/// How long `stop` waits for a session to be gone.
const STOP_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, clap::Args)]
pub(crate) struct SessionsArgs {
    #[command(subcommand)]
    command: Option<SessionsCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum SessionsCommand {
    /// One line per live session: name, config, port, pids, age, leases, kept.
    List,
    /// Stop a session (by the name `list` shows), or every one with `--all`.
    Stop {
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        all: bool,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CommandError {
    #[error("no live session is called `{name}`; live sessions: {}", if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
    Unknown { name: String, known: Vec<String> },
    #[error(
        "say which session to stop (`sessions stop NAME`, names from `sessions list`) or `--all`"
    )]
    NoName,
    #[error("session `{name}` is still running after {} s; its supervisor is pid {pid}", STOP_WAIT.as_secs())]
    StillRunning { name: String, pid: u32 },
    #[error("cannot write the output: {0}")]
    Output(String),
}

/// A live session: its directory name and published state.
#[derive(Debug, Clone, PartialEq)]
struct Live {
    name: String,
    state: State,
    leases: Vec<u32>,
}

/// Runs `sessions ...` against the sessions under `target_dir`.
pub(crate) fn sessions_main(
    args: &SessionsArgs,
    target_dir: &Path,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let root = sessions_root(target_dir);
    let live = live_sessions(&root);
    let write = |out: &mut dyn Write, text: String| {
        out.write_all(text.as_bytes())
            .map_err(|e| CommandError::Output(e.to_string()))
    };
    match &args.command {
        None | Some(SessionsCommand::List) => write(out, render(&live, unix_now())),
        Some(SessionsCommand::Stop { name, all }) => {
            let chosen: Vec<&Live> = match (name, all) {
                (_, true) => live.iter().collect(),
                (Some(name), false) => match live.iter().find(|l| &l.name == name) {
                    Some(l) => vec![l],
                    None => {
                        return Err(CommandError::Unknown {
                            name: name.clone(),
                            known: live.iter().map(|l| l.name.clone()).collect(),
                        });
                    }
                },
                (None, false) => return Err(CommandError::NoName),
            };
            if chosen.is_empty() {
                return write(out, "no live sessions\n".to_owned());
            }
            for session in chosen {
                stop(&root, session)?;
                write(out, format!("stopped {}\n", session.name))?;
            }
            Ok(())
        }
    }
}

fn sessions_root(target_dir: &Path) -> PathBuf {
    target_dir.join("stack-harness").join("sessions")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Sessions whose supervisor is alive, by name.
fn live_sessions(root: &Path) -> Vec<Live> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut live: Vec<Live> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let dir = SessionDir { dir: entry.path() };
            let state = dir.read_state()?;
            if !pid_alive(state.supervisor_pid) || state.phase == Phase::Stopped {
                return None;
            }
            Some(Live {
                name,
                leases: dir.live_leases(),
                state,
            })
        })
        .collect();
    live.sort_by(|a, b| a.name.cmp(&b.name));
    live
}

/// Asks the supervisor to stop, then waits until it and every process of
/// every service it published are gone.
fn stop(root: &Path, session: &Live) -> Result<(), CommandError> {
    let dir = SessionDir {
        dir: root.join(&session.name),
    };
    let _ = dir.request_stop();
    let pids: Vec<u32> = session
        .state
        .services
        .iter()
        .flat_map(|s| s.pids.iter().copied())
        .collect();
    let until = Instant::now() + STOP_WAIT;
    loop {
        let gone = !pid_alive(session.state.supervisor_pid)
            && pids.iter().all(|p| !crate::process::group_is_alive(*p));
        if gone {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(CommandError::StillRunning {
                name: session.name.clone(),
                pid: session.state.supervisor_pid,
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `list` table.
fn render(live: &[Live], now: u64) -> String {
    if live.is_empty() {
        return "no live sessions\n".to_owned();
    }
    let header = [
        "NAME", "CONFIG", "PORT", "PHASE", "PIDS", "AGE", "LEASES", "KEPT", "SERVICES",
    ];
    let rows: Vec<[String; 9]> = live
        .iter()
        .map(|l| {
            let s = &l.state;
            let pids = match s.stack_pid {
                Some(stack) => format!("{}/{stack}", s.supervisor_pid),
                None => s.supervisor_pid.to_string(),
            };
            let leases = if l.leases.is_empty() {
                "0".to_owned()
            } else {
                format!(
                    "{} ({})",
                    l.leases.len(),
                    l.leases
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            };
            let services = s
                .services
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(",");
            [
                l.name.clone(),
                s.shown.clone(),
                s.port.to_string(),
                format!("{:?}", s.phase).to_lowercase(),
                pids,
                age(now.saturating_sub(s.started_at)),
                leases,
                if s.keep { "yes" } else { "no" }.to_owned(),
                services,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[&str]| {
        let mut text = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    out.push_str("PIDS is supervisor/stack; stop one with `cargo run -p stack-harness -- sessions stop NAME`\n");
    out
}

fn age(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::services::Running;

    fn live(name: &str, keep: bool) -> Live {
        Live {
            name: name.to_owned(),
            state: State {
                supervisor_pid: 100,
                phase: Phase::Ready,
                shown: "server:ci-tests:8321".into(),
                port: 8321,
                started_at: 1_000,
                stack_pid: Some(101),
                keep,
                services: vec![
                    Running {
                        name: "proxy".into(),
                        ..Running::default()
                    },
                    Running {
                        name: "stack".into(),
                        pids: vec![101],
                        ..Running::default()
                    },
                ],
                ..State::default()
            },
            leases: if keep { vec![] } else { vec![7, 8] },
        }
    }

    #[test]
    fn the_table_names_config_port_pids_age_leases_and_kept() {
        let text = render(
            &[live("port-8321", true), live("port-8400", false)],
            1_000 + 3_725,
        );
        assert_eq!(
            text,
            "NAME       CONFIG                PORT  PHASE  PIDS     AGE    LEASES   KEPT  SERVICES\n\
             port-8321  server:ci-tests:8321  8321  ready  100/101  1h02m  0        yes   proxy,stack\n\
             port-8400  server:ci-tests:8321  8321  ready  100/101  1h02m  2 (7,8)  no    proxy,stack\n\
             PIDS is supervisor/stack; stop one with `cargo run -p stack-harness -- sessions stop NAME`\n"
        );
        assert_eq!(render(&[], 0), "no live sessions\n");
    }

    #[test]
    fn stopping_an_unknown_session_lists_the_live_ones() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let args = SessionsArgs {
            command: Some(SessionsCommand::Stop {
                name: Some("port-1".into()),
                all: false,
            }),
        };
        let err = sessions_main(&args, tmp.path(), &mut Vec::new()).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "no live session is called `port-1`; live sessions: none"
        );
        let args = SessionsArgs {
            command: Some(SessionsCommand::Stop {
                name: None,
                all: false,
            }),
        };
        assert_eq!(
            sessions_main(&args, tmp.path(), &mut Vec::new()),
            Err(CommandError::NoName)
        );
    }

    #[test]
    fn a_session_whose_supervisor_is_gone_is_not_listed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = SessionDir::new(tmp.path(), "port-9");
        dir.create().expect("create");
        let mut state = live("port-9", false).state;
        state.supervisor_pid = 999_999_999;
        dir.write_state(&state).expect("write");
        let mut out = Vec::new();
        sessions_main(&SessionsArgs { command: None }, tmp.path(), &mut out).expect("list");
        assert_eq!(String::from_utf8(out).expect("utf-8"), "no live sessions\n");
    }
}
