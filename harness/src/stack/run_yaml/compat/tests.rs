//! Unit tests of the run-config compatibility check: how old configs fare
//! against this code, and the git side against throwaway repositories
//! (clones, shallow clones, tags). The acknowledgment rules are `breaking`'s.

use std::process::Command;

use super::*;

/// A config this code loads without a warning, in the current form.
const CURRENT: &str = "\
version: 2
distro_name: old
apis: [inference]
providers:
  inference:
  - provider_id: vllm
    provider_type: remote::vllm
    config:
      base_url: ${env.VLLM_URL:=http://127.0.0.1:8000/v1}
server:
  port: 8321
";

fn assessed(text: &str, strict: bool) -> Assessment {
    assess("main:run-configs/old/run.yaml", text, strict)
}

#[test]
fn the_current_form_loads_without_notes() {
    assert_eq!(assessed(CURRENT, true), Assessment::default());
}

#[test]
fn a_field_this_code_requires_breaks_configs_without_it() {
    // As if `distro_name` had just become required: old configs lack it.
    let old = CURRENT.replace("distro_name: old\n", "");
    assert_eq!(
        assessed(&old, false).problems,
        [
            "main:run-configs/old/run.yaml:1: distro_name: missing; name the distribution with `distro_name: <name>` (or the deprecated `image_name`)"
        ]
    );
}

#[test]
fn a_renamed_key_breaks_even_when_the_stack_would_start() {
    // A required key renamed: the old spelling is unknown, the new missing.
    let old = CURRENT.replace("provider_type:", "type:");
    assert_eq!(
        assessed(&old, false).problems,
        [
            "main:run-configs/old/run.yaml:6: providers.inference[0].provider_type: missing; every provider needs it"
        ]
    );
    // An optional key renamed: the stack ignores the old one and starts,
    // silently without the value, so it breaks the config all the same.
    let old = CURRENT.replace(
        "  port: 8321",
        "  port: 8321\n  tls_cert_file: /etc/cert.pem",
    );
    assert_eq!(
        assessed(&old, false),
        Assessment {
            problems: vec!["main:run-configs/old/run.yaml:12: server.tls_cert_file: unknown key, ignored by the stack (did you mean `tls_certfile`?)".to_owned()],
            notes: vec![],
        }
    );
}

#[test]
fn a_field_this_code_adds_as_optional_breaks_nothing() {
    // `server` (and in it `port`) are optional: configs without them load.
    let old = CURRENT.replace("server:\n  port: 8321\n", "");
    assert_eq!(assessed(&old, false), Assessment::default());
}

#[test]
fn a_deprecated_key_is_a_note_from_a_revision_and_a_problem_in_the_working_tree() {
    let old = CURRENT.replace("distro_name: old", "image_name: old");
    let deprecated =
        "main:run-configs/old/run.yaml:2: image_name: deprecated; use `distro_name` instead";
    assert_eq!(
        assessed(&old, false),
        Assessment {
            problems: vec![],
            notes: vec![deprecated.to_owned()]
        }
    );
    assert_eq!(assessed(&old, true).problems, [deprecated]);
}

#[test]
fn an_unknown_provider_type_suggests_the_nearest_known_one() {
    let old = CURRENT.replace("remote::vllm", "remote::vlm");
    assert_eq!(
        assessed(&old, false).problems,
        [
            "main:run-configs/old/run.yaml:7: providers.inference[0].provider_type: unknown provider type `remote::vlm` for api `inference`; did you mean `remote::vllm`?"
        ]
    );
}

#[test]
fn providers_enabled_by_the_proxy_url_are_checked_too() {
    // Off while OPENAI_URL is unset, so its id clashes with nothing; the
    // harness sets every upstream URL variable to its proxy, and then it
    // is a second `vllm`, which the stack refuses.
    let old = CURRENT.replace(
        "server:",
        "  - provider_id: ${env.OPENAI_URL:+vllm}\n    provider_type: remote::openai\n    config:\n      base_url: ${env.OPENAI_URL:=}\nserver:",
    );
    assert_eq!(
        assessed(&old, false).problems,
        [
            "with its upstream URL variables set, as the harness runs it (`OPENAI_URL`, `VLLM_URL`):",
            "  main:run-configs/old/run.yaml:10: providers.inference[1].provider_id: duplicate provider id `vllm` for api `inference`; the first is on line 6",
        ]
    );
}

#[test]
fn case_ids_keep_only_what_the_registry_allows() {
    assert_eq!(case_id("ci-tests"), "ci-tests");
    assert_eq!(case_id("my config+gpu"), "my_config_gpu");
}

/// A throwaway git repository, isolated from the user's git config.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git_in(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn git(&self, args: &[&str]) -> String {
        Repo::git_in(self.path(), args)
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["log", "-1", "--format=%h"])
    }
}

fn config(name: &str) -> Value {
    json!({ "config": name })
}

fn old_form() -> String {
    CURRENT.replace("distro_name: old\n", "")
}

/// `main` holds `good` (current form) and `old` (lacking `distro_name`,
/// which this code requires); HEAD is a branch one commit ahead.
fn repo_with_a_break() -> Repo {
    let repo = Repo::new();
    repo.write("run-configs/good/run.yaml", CURRENT);
    repo.write("run-configs/old/run.yaml", &old_form());
    repo.write("run-configs/README.md", "not a config");
    repo.commit("run-configs: good and old");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("run-configs/old/run.yaml", CURRENT);
    repo
}

const OLD_PROBLEM: &str = "\n    main:run-configs/old/run.yaml:1: distro_name: missing; name the distribution with `distro_name: <name>` (or the deprecated `image_name`)";

fn checked(compat: &Compat, revision: Revision, name: &str) -> Result<Vec<String>, String> {
    compat
        .check(revision, &config(name))
        .map_err(|e| e.to_string())
}

#[test]
fn a_break_on_main_fails_unless_acknowledged() {
    let repo = repo_with_a_break();
    repo.commit("run_yaml: require distro_name");
    let compat = Compat::with_pr_title(repo.path(), None);
    let ids: Vec<String> = compat
        .cases(Revision::Main)
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["good", "old"]);
    assert_eq!(checked(&compat, Revision::Main, "good"), Ok(vec![]));
    assert_eq!(
        checked(&compat, Revision::Main, "old"),
        Err(format!(
            "run-config `old` on `main` no longer loads with this code, so users' copies of it would break:{OLD_PROBLEM}\n\
             Keep the old form loading, or, if the break is intended, acknowledge it: add a `BREAKING CHANGE: <what users must change>` \
             footer to a commit message (none of the 1 commit(s) in `main..HEAD` has one), or title the pull request \
             `type(scope)!: ...` (PR_TITLE is not set)."
        ))
    );
    // The working tree's copy was updated to the current form.
    assert_eq!(checked(&compat, Revision::WorkingTree, "old"), Ok(vec![]));
}

#[test]
fn a_breaking_change_commit_turns_the_failure_into_a_warning() {
    let repo = repo_with_a_break();
    let hash =
        repo.commit("run_yaml: require distro_name\n\nBREAKING CHANGE: name your distribution");
    repo.commit("docs: later work");
    let compat = Compat::with_pr_title(repo.path(), None);
    assert_eq!(
        checked(&compat, Revision::Main, "old"),
        Ok(vec![format!(
            "run-config `old` on `main` no longer loads with this code; accepted as a breaking change by commit {hash} (\"run_yaml: require distro_name\"):{OLD_PROBLEM}"
        )])
    );
    let main = repo.git(&["rev-parse", "--short=7", "main"]);
    assert_eq!(
        compat.describe(Revision::Main).map_err(|e| e.to_string()),
        Ok(format!(
            "`main` is {main}; run-configs: good, old; 2 commit(s) in `main..HEAD`; breaking changes acknowledged by commit {hash} (\"run_yaml: require distro_name\")"
        ))
    );
}

#[test]
fn a_bang_pr_title_acknowledges_and_a_plain_one_does_not() {
    let repo = repo_with_a_break();
    repo.commit("run_yaml: require distro_name");
    let title = "feat(run_yaml)!: require distro_name";
    let compat = Compat::with_pr_title(repo.path(), Some(title.to_owned()));
    assert_eq!(
        checked(&compat, Revision::Main, "old"),
        Ok(vec![format!(
            "run-config `old` on `main` no longer loads with this code; accepted as a breaking change by the pull request title \"{title}\":{OLD_PROBLEM}"
        )])
    );
    let compat = Compat::with_pr_title(repo.path(), Some("feat(run_yaml): x".to_owned()));
    let failure = checked(&compat, Revision::Main, "old").expect_err("not acknowledged");
    assert!(
        failure.ends_with("(PR_TITLE is \"feat(run_yaml): x\")."),
        "{failure}"
    );
}

#[test]
fn on_main_itself_nothing_acknowledges() {
    let repo = repo_with_a_break();
    repo.git(&["checkout", "-q", "main"]);
    let compat = Compat::with_pr_title(repo.path(), None);
    let failure = checked(&compat, Revision::Main, "old").expect_err("a break");
    assert!(
        failure.contains("(none of the 0 commit(s) in `main..HEAD` has one)"),
        "{failure}"
    );
}

#[test]
fn origin_main_stands_in_for_a_missing_local_main() {
    let repo = repo_with_a_break();
    repo.commit("feat!: require distro_name");
    let clone = tempfile::tempdir().expect("a temporary directory");
    let url = format!("file://{}", repo.path().display());
    let target = clone.path().join("c");
    Repo::git_in(
        clone.path(),
        &["clone", "-q", "--branch", "feature", &url, "c"],
    );
    let compat = Compat::with_pr_title(&target, None);
    let warnings = checked(&compat, Revision::Main, "old").expect("acknowledged");
    assert!(
        warnings[0].starts_with("run-config `old` on `origin/main` no longer loads")
            && warnings[0].contains("\n    origin/main:run-configs/old/run.yaml:1: distro_name"),
        "{warnings:?}"
    );
}

#[test]
fn a_shallow_clone_without_main_says_so_and_checks_the_working_tree() {
    let repo = repo_with_a_break();
    repo.commit("run_yaml: require distro_name");
    let clone = tempfile::tempdir().expect("a temporary directory");
    let url = format!("file://{}", repo.path().display());
    let target = clone.path().join("c");
    Repo::git_in(
        clone.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &url, "c",
        ],
    );
    let compat = Compat::with_pr_title(&target, None);
    assert_eq!(compat.cases(Revision::Main), []);
    assert_eq!(
        compat.describe(Revision::Main).map_err(|e| e.to_string()),
        Err("this clone is shallow and has no `main` branch (nor `origin/main`), so run-configs on `main` cannot be checked against this code; \
             fetch it (`git fetch --unshallow origin main:main`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`), \
             or skip the gate: `cargo test --test backward_compat -- --skip main_branch::`".to_owned())
    );
    assert_eq!(compat.release_tag(), None);
    assert_eq!(
        compat
            .describe(Revision::Release)
            .map_err(|e| e.to_string()),
        Ok("no release tag `v*` in this clone".to_owned())
    );
    assert_eq!(
        compat
            .describe(Revision::WorkingTree)
            .map_err(|e| e.to_string()),
        Ok("run-configs in the working tree: good, old".to_owned())
    );
}

#[test]
fn outside_git_only_the_working_tree_is_checked() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let compat = Compat::with_pr_title(dir.path(), None);
    assert_eq!(
        compat.describe(Revision::Main).map_err(|e| e.to_string()),
        Err(format!(
            "`{}` is not in a git repository, so run-configs on `main` cannot be checked against this code; check it from a clone",
            dir.path().display()
        ))
    );
    assert_eq!(
        compat
            .describe(Revision::WorkingTree)
            .map_err(|e| e.to_string()),
        Err(format!(
            "cannot read `{}/run-configs`: No such file or directory (os error 2)",
            dir.path().display()
        ))
    );
    std::fs::create_dir(dir.path().join("run-configs")).expect("mkdir");
    assert_eq!(
        compat
            .describe(Revision::WorkingTree)
            .map_err(|e| e.to_string()),
        Err(format!(
            "no run-configs to check: `{}/run-configs` has no `<name>/run.yaml`; the check would pass having checked nothing",
            dir.path().display()
        ))
    );
}

#[test]
fn the_latest_release_is_checked_for_information_only() {
    let repo = repo_with_a_break();
    repo.git(&["tag", "v0.9.0", "main"]);
    repo.git(&["tag", "-a", "-m", "release", "v0.10.0", "main"]);
    repo.git(&["tag", "very-old", "main"]);
    repo.commit("run_yaml: require distro_name");
    let compat = Compat::with_pr_title(repo.path(), None);
    assert_eq!(compat.release_tag(), Some("v0.10.0"));
    let tagged = repo.git(&["rev-parse", "--short=7", "v0.10.0^{commit}"]);
    assert_eq!(
        compat
            .describe(Revision::Release)
            .map_err(|e| e.to_string()),
        Ok(format!("`v0.10.0` is {tagged}; run-configs: good, old"))
    );
    assert_eq!(
        checked(&compat, Revision::Release, "old"),
        Ok(vec![
            "run-config `old` of release `v0.10.0` no longer loads with this code (informational: only `main` is a gate):\n    \
             v0.10.0:run-configs/old/run.yaml:1: distro_name: missing; name the distribution with `distro_name: <name>` (or the deprecated `image_name`)".to_owned()
        ])
    );
    assert_eq!(checked(&compat, Revision::Release, "good"), Ok(vec![]));
}

#[test]
fn the_working_tree_must_load_without_warnings() {
    let repo = Repo::new();
    repo.write(
        "run-configs/deprecated/run.yaml",
        &CURRENT.replace("distro_name: old", "image_name: old"),
    );
    repo.write("run-configs/my config/run.yaml", CURRENT);
    let compat = Compat::with_pr_title(repo.path(), None);
    let cases = compat.cases(Revision::WorkingTree);
    assert_eq!(
        cases,
        [
            Case::new("deprecated", config("deprecated")),
            Case::new("my_config", config("my config")),
        ]
    );
    assert_eq!(
        checked(&compat, Revision::WorkingTree, "deprecated"),
        Err(
            "run-config `deprecated` does not load cleanly with this code:\n    \
             run-configs/deprecated/run.yaml:2: image_name: deprecated; use `distro_name` instead"
                .to_owned()
        )
    );
    assert_eq!(
        checked(&compat, Revision::WorkingTree, "my config"),
        Ok(vec![])
    );
    // An unborn `main` (no commit yet) is as good as none.
    assert_eq!(
        compat.describe(Revision::Main).map_err(|e| e.to_string()),
        Err("this clone has no `main` branch (nor `origin/main`), so run-configs on `main` cannot be checked against this code; \
             fetch it (`git fetch origin main:main`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`), \
             or skip the gate: `cargo test --test backward_compat -- --skip main_branch::`".to_owned())
    );
}

#[test]
fn a_newly_deprecated_key_on_main_is_a_warning_not_a_failure() {
    let repo = Repo::new();
    repo.write(
        "run-configs/dep/run.yaml",
        &CURRENT.replace("distro_name: old", "image_name: old"),
    );
    repo.commit("run-configs: dep");
    let compat = Compat::with_pr_title(repo.path(), None);
    assert_eq!(
        checked(&compat, Revision::Main, "dep"),
        Ok(vec![
            "run-config `dep` still loads, but: main:run-configs/dep/run.yaml:2: image_name: deprecated; use `distro_name` instead".to_owned()
        ])
    );
}

#[test]
fn a_project_below_the_repository_root_reads_its_own_configs() {
    let repo = Repo::new();
    repo.write("project/run-configs/a/run.yaml", CURRENT);
    repo.write("run-configs/not-this-one/run.yaml", CURRENT);
    repo.commit("a project in a monorepo");
    let compat = Compat::with_pr_title(&repo.path().join("project"), None);
    assert_eq!(compat.cases(Revision::Main), [Case::new("a", config("a"))]);
    assert_eq!(checked(&compat, Revision::Main, "a"), Ok(vec![]));
}

#[test]
fn variants_beside_a_config_are_configs_of_their_own() {
    let files = [
        "ci-tests/run.yaml",
        "ci-tests/run-with-postgres-store.yaml",
        "ci-tests/README.md",
        "starter/run.yaml",
        "loose/only-a-variant.yaml",
        "deep/er/run.yaml",
    ];
    assert_eq!(
        super::config_names(files.into_iter()),
        [
            "ci-tests",
            "ci-tests::run-with-postgres-store.yaml",
            "starter"
        ]
    );
    assert_eq!(super::config_path("ci-tests"), "ci-tests/run.yaml");
    assert_eq!(
        super::config_path("ci-tests::run-with-postgres-store.yaml"),
        "ci-tests/run-with-postgres-store.yaml"
    );
}

/// The project's run-configs that are copies of another, kept in step by
/// hand (a variant beside its config, starter beside ci-tests), differ from
/// it only where their `# in step with <file> except: <keys>` line says; a
/// variant without that line fails, so a new one cannot drift unnoticed.
#[test]
fn the_projects_run_config_copies_differ_only_where_they_say() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../run-configs");
    let mut checked = 0;
    for folder in std::fs::read_dir(&root).expect("run-configs").flatten() {
        for file in std::fs::read_dir(folder.path())
            .expect("a folder")
            .flatten()
        {
            let path = file.path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let line = text.lines().find_map(|l| l.strip_prefix("# in step with "));
            let Some(line) = line else {
                assert!(
                    path.file_name().is_some_and(|n| n == "run.yaml"),
                    "{} is a variant without an `# in step with run.yaml except: <keys>` line",
                    path.display()
                );
                continue;
            };
            let (other, keys) = line.split_once(" except: ").unwrap_or_else(|| {
                panic!("{}: `# in step with <file> except: <keys>`", path.display())
            });
            let other_text =
                std::fs::read_to_string(folder.path().join(other)).expect("the file it follows");
            let mine = without(yaml(&text), keys);
            let theirs = without(yaml(&other_text), keys);
            let differing: std::collections::BTreeSet<&String> = mine
                .as_object()
                .expect("a map")
                .keys()
                .chain(theirs.as_object().expect("a map").keys())
                .filter(|k| mine.get(k.as_str()) != theirs.get(k.as_str()))
                .collect();
            assert!(
                differing.is_empty(),
                "{} differs from {other} under {differing:?} beyond what it declares ({keys})",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "only {checked} copies checked");
}

fn yaml(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).expect("valid YAML")
}

/// `value` without the dotted paths in `keys` (comma-separated).
fn without(mut value: serde_json::Value, keys: &str) -> serde_json::Value {
    for key in keys.split(',').map(str::trim) {
        let mut parts: Vec<&str> = key.split('.').collect();
        let last = parts.pop().expect("a key");
        let mut node = &mut value;
        for part in parts {
            node = &mut node[part];
        }
        if let Some(map) = node.as_object_mut() {
            map.remove(last);
        }
    }
    value
}
