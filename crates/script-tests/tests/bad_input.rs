//! The scripts against bad input: each case runs the real scripts (copied
//! into a temporary project root) and checks both what they say and that the
//! tree they were pointed at is exactly as it was.

use std::fs;
use std::path::{Path, PathBuf};

use script_tests::{
    DEFAULT_BRANCH, Project, Snapshot, amend_message, assert_same_files, commit_all, git,
    has_branch, sha256, walk,
};

/// A file the series touches, listed in patches/BASE.
const TOUCHED: &str = "crates/wasmtime/src/runtime/component/concurrent.rs";
const WASMTIME_MANIFEST: &str = "crates/wasmtime/Cargo.toml";
/// The root manifest (the wasmtime-cli package).
const ROOT_MANIFEST: &str = "Cargo.toml";

fn checkout_arg(dir: &Path) -> String {
    dir.to_str().expect("temporary paths are UTF-8").to_string()
}

/// Replaces the line `version = "<from>"` in the `[package]` section of a
/// manifest with `line`.
fn set_package_version_line(manifest: &Path, from: &str, line: &str) {
    let text = fs::read_to_string(manifest).unwrap();
    let mut section = String::new();
    let mut done = false;
    let mut out = String::new();
    for l in text.split_inclusive('\n') {
        if l.starts_with('[') {
            section = l.trim().to_string();
        }
        if !done && section == "[package]" && l.trim_end() == format!("version = \"{from}\"") {
            out.push_str(line);
            out.push('\n');
            done = true;
        } else {
            out.push_str(l);
        }
    }
    assert!(
        done,
        "{}: no `version = \"{from}\"` in [package]",
        manifest.display()
    );
    fs::write(manifest, out).unwrap();
}

/// How a checkout states its version.
#[derive(Clone, Copy)]
enum Manifests {
    /// As the registry crates do: `version = "X"` in each `[package]`.
    Registry,
    /// As the upstream repository does: the crates say
    /// `version.workspace = true` and the root manifest's
    /// `[workspace.package]` holds the version.
    Workspace,
}

/// A checkout with the pinned base's files that says it is Wasmtime
/// `version` (in the wasmtime crate's manifest and in the root one), committed.
fn checkout_of_release(p: &Project, name: &str, version: &str, shape: Manifests) -> PathBuf {
    let co = p.checkout(name);
    let pinned = p.base_version();
    for manifest in [WASMTIME_MANIFEST, ROOT_MANIFEST] {
        let line = match shape {
            Manifests::Registry => format!("version = \"{version}\""),
            Manifests::Workspace => "version.workspace = true".to_string(),
        };
        set_package_version_line(&co.join(manifest), &pinned, &line);
    }
    if let Manifests::Workspace = shape {
        let root = co.join(ROOT_MANIFEST);
        let mut text = fs::read_to_string(&root).unwrap();
        text.push_str(&format!("\n[workspace.package]\nversion = \"{version}\"\n"));
        fs::write(&root, text).unwrap();
    }
    commit_all(&co, &format!("pretend to be Wasmtime {version}"));
    co
}

/// The first release of the major version `delta` away from the pinned one
/// (44.0.3, -1 -> 43.0.0).
fn other_major(pinned: &str, delta: i64) -> String {
    let major: i64 = pinned.split('.').next().unwrap().parse().unwrap();
    format!("{}.0.0", major + delta)
}

/// Changes one byte of a file (the first ASCII lowercase letter, to another).
fn flip_one_byte(file: &Path) {
    let mut bytes = fs::read(file).unwrap();
    let i = bytes
        .iter()
        .position(u8::is_ascii_lowercase)
        .expect("a lowercase letter");
    bytes[i] = if bytes[i] == b'z' { b'y' } else { bytes[i] + 1 };
    fs::write(file, bytes).unwrap();
}

/// Makes a context line of the first hunk of `patch` no longer match.
fn corrupt_first_hunk_context(patch: &Path) {
    let text = fs::read_to_string(patch).unwrap();
    let mut out = String::new();
    let mut in_first_hunk = false;
    let mut done = false;
    for line in text.split_inclusive('\n') {
        if !done && line.starts_with("@@") {
            in_first_hunk = true;
        } else if in_first_hunk && !done && line.starts_with(' ') {
            let body = line.trim_end_matches('\n');
            out.push_str(&format!(
                "{body} /* this context line no longer matches */\n"
            ));
            done = true;
            continue;
        } else if in_first_hunk && (line.starts_with("@@") || line.starts_with("diff --git")) {
            in_first_hunk = false;
        }
        out.push_str(line);
    }
    assert!(
        done,
        "{}: no context line in the first hunk",
        patch.display()
    );
    fs::write(patch, out).unwrap();
}

/// Entries of `work` whose names start with `prefix` (left-over scratch trees).
fn leftovers(work: &Path, prefix: &str) -> Vec<String> {
    match fs::read_dir(work) {
        Err(_) => Vec::new(),
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(prefix))
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// 1. wrong version

/// A checkout that claims another major release is refused, untouched.
fn assert_release_refused(label: &str, delta: i64) {
    let p = Project::new(label);
    let pinned = p.base_version();
    let wrong = other_major(&pinned, delta);
    let co = checkout_of_release(&p, "checkout", &wrong, Manifests::Registry);
    let before = Snapshot::of(&co);

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_failure()
        .stderr_has(&format!("is Wasmtime {wrong}"))
        .stderr_has(&format!("the series is for Wasmtime {pinned}"));

    before.assert_same(
        &Snapshot::of(&co),
        &format!("apply.sh on a checkout of Wasmtime {wrong}"),
    );
    assert!(!has_branch(&co, DEFAULT_BRANCH));
    assert!(
        !p.work.exists(),
        "apply.sh --wasmtime-dir created the work directory"
    );
}

#[test]
fn apply_refuses_checkout_of_the_previous_major_release_and_leaves_it_unchanged() {
    assert_release_refused("release-43", -1);
}

#[test]
fn apply_refuses_checkout_of_the_next_major_release_and_leaves_it_unchanged() {
    assert_release_refused("release-45", 1);
}

// 1b. another release of the accepted line, with the pinned files

/// The series is on `DEFAULT_BRANCH` of `co`, one commit per patch on top of
/// `base_head`, and the tree is clean.
#[track_caller]
fn assert_series_on_branch(p: &Project, co: &Path, base_head: &str) {
    let n = p.series().len();
    assert!(n > 0, "patches/series is empty");
    assert_eq!(
        git(co, &["symbolic-ref", "--short", "HEAD"]),
        DEFAULT_BRANCH
    );
    assert_eq!(
        git(co, &["rev-list", "--count", &format!("{base_head}..HEAD")]),
        n.to_string()
    );
    assert_eq!(git(co, &["status", "--porcelain"]), "");
}

/// A checkout of release `<accept prefix><patch>` whose touched files are the
/// pinned ones takes the series, and apply.sh names the release it found.
fn assert_release_accepted(label: &str, patch: u32, shape: Manifests) {
    let p = Project::new(label);
    let pinned = p.base_version();
    let release = format!("{}{patch}", p.accepted_prefix());
    assert_ne!(release, pinned, "pick a release other than the pinned one");
    let co = checkout_of_release(&p, "checkout", &release, shape);
    let base_head = git(&co, &["rev-parse", "HEAD"]);

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_success()
        .stderr_has(&format!("found Wasmtime {release};"))
        .stderr_has(&format!("match the pinned {pinned} sources"))
        .stderr_has(&format!("on branch '{DEFAULT_BRANCH}'"));
    assert_series_on_branch(&p, &co, &base_head);
}

#[test]
fn apply_accepts_a_44_0_0_shaped_checkout_with_the_pinned_files() {
    assert_release_accepted("release-44-0-0", 0, Manifests::Registry);
}

#[test]
fn apply_accepts_a_44_0_1_shaped_checkout_with_workspace_version() {
    assert_release_accepted("release-44-0-1", 1, Manifests::Workspace);
}

#[test]
fn apply_refuses_an_accepted_release_whose_touched_file_differs() {
    let p = Project::new("release-44-0-1-edited");
    let pinned = p.base_version();
    let release = format!("{}1", p.accepted_prefix());
    let co = checkout_of_release(&p, "checkout", &release, Manifests::Registry);
    flip_one_byte(&co.join(TOUCHED));
    commit_all(&co, "a release whose file differs from the pinned one");
    let before = Snapshot::of(&co);

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_failure()
        .stderr_has(&format!("{TOUCHED}: modified"))
        .stderr_has(&format!("(Wasmtime {release}) does not match"))
        .stderr_has(&format!("the pristine Wasmtime {pinned} files"));

    before.assert_same(
        &Snapshot::of(&co),
        "apply.sh on an accepted release with a differing file",
    );
    assert!(!has_branch(&co, DEFAULT_BRANCH));
}

// 2. edited file

#[test]
fn apply_refuses_checkout_with_edited_file_naming_file_and_checksums() {
    let p = Project::new("edited-file");
    let co = p.checkout("checkout");
    let pinned = p.pinned_sha256(TOUCHED);
    flip_one_byte(&co.join(TOUCHED));
    commit_all(&co, "edit a file the series touches");
    let found = sha256(&co.join(TOUCHED));
    assert_ne!(found, pinned);
    let before = Snapshot::of(&co);

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_failure()
        .stderr_has(&format!("{TOUCHED}: modified"))
        .stderr_has(&format!("expected sha256 {pinned}"))
        .stderr_has(&format!("found {found}"))
        .stderr_has("does not match the pristine Wasmtime");

    before.assert_same(
        &Snapshot::of(&co),
        "apply.sh on a checkout with an edited file",
    );
    assert!(!has_branch(&co, DEFAULT_BRANCH));
}

// 3. dirty tree

#[test]
fn apply_refuses_dirty_checkout_and_keeps_the_modification() {
    let p = Project::new("dirty");
    let co = p.checkout("checkout");
    let file = co.join(TOUCHED);
    let mut bytes = fs::read(&file).unwrap();
    bytes.extend_from_slice(b"\n// an uncommitted local change\n");
    fs::write(&file, &bytes).unwrap();
    let before = Snapshot::of(&co);
    assert!(
        before.status.contains(TOUCHED),
        "the edit is not seen by git: {:?}",
        before.status
    );

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_failure()
        .stderr_has("uncommitted changes")
        .stderr_has(TOUCHED);

    before.assert_same(&Snapshot::of(&co), "apply.sh on a dirty checkout");
    assert_eq!(
        fs::read(&file).unwrap(),
        bytes,
        "the uncommitted change was altered"
    );
    assert!(!has_branch(&co, DEFAULT_BRANCH));
}

// 4. double apply

#[test]
fn apply_twice_to_checkout_second_run_is_a_noop() {
    let p = Project::new("double-checkout");
    let co = p.checkout("checkout");
    let base_head = git(&co, &["rev-parse", "HEAD"]);

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_success()
        .stderr_has(&format!("found Wasmtime {}", p.base_version()))
        .stderr_has(&format!("on branch '{DEFAULT_BRANCH}'"));
    assert_series_on_branch(&p, &co, &base_head);

    let before = Snapshot::of(&co);
    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_success()
        .stderr_has("already has the series");
    before.assert_same(&Snapshot::of(&co), "second apply.sh --wasmtime-dir");
}

#[test]
fn apply_twice_embedded_second_run_is_a_noop() {
    let p = Project::new("double-embedded");
    p.seed_base(&p.work);
    let tree = p.work.join("wasmtime");

    p.run("apply.sh", &[])
        .expect_success()
        .stderr_has("patched tree at");
    assert!(tree.is_dir());
    assert_eq!(git(&tree, &["status", "--porcelain"]), "");

    let before = Snapshot::of(&tree);
    let base_before = Snapshot::of(&p.work.join("base"));
    p.run("apply.sh", &[])
        .expect_success()
        .stderr_has("already has the series");
    before.assert_same(
        &Snapshot::of(&tree),
        "second embedded apply.sh (work/wasmtime)",
    );
    base_before.assert_same(
        &Snapshot::of(&p.work.join("base")),
        "second embedded apply.sh (work/base)",
    );
}

/// Two work directories, one with a base fetched from the registry by
/// scripts/base.sh itself and one with a clone of the real base, give the
/// same commits.
#[test]
fn apply_embedded_in_two_work_dirs_gives_identical_commits() {
    let p = Project::new("determinism");
    let (fresh, seeded) = (p.tmp_path("work-fresh"), p.tmp_path("work-seeded"));
    p.seed_base(&seeded);

    p.run_in(&fresh, "apply.sh", &[]).expect_success();
    p.run_in(&seeded, "apply.sh", &[]).expect_success();

    let head = |w: &Path, tree: &str| git(&w.join(tree), &["rev-parse", "HEAD"]);
    assert_eq!(
        head(&fresh, "base"),
        head(&seeded, "base"),
        "the base commit depends on the work directory"
    );
    assert_eq!(
        head(&fresh, "wasmtime"),
        head(&seeded, "wasmtime"),
        "the patched commits depend on the work directory"
    );
    assert_eq!(
        git(
            &fresh.join("wasmtime"),
            &["rev-list", "--count", "pristine..HEAD"]
        ),
        p.series().len().to_string()
    );
}

// 5. missing directory

#[test]
fn apply_refuses_missing_wasmtime_dir() {
    let p = Project::new("missing-dir");
    let missing = "/nonexistent/path";
    assert!(!Path::new(missing).exists());

    p.run("apply.sh", &["--wasmtime-dir", missing])
        .expect_failure()
        .stderr_has("no such directory")
        .stderr_has(missing);

    assert!(!Path::new(missing).exists(), "apply.sh created {missing}");
    assert!(
        !p.work.exists(),
        "apply.sh --wasmtime-dir created the work directory"
    );
}

// 6. a patch that does not apply

#[test]
fn apply_with_non_applying_patch_leaves_checkout_as_it_was() {
    let p = Project::new("no-apply-checkout");
    let last = p.series().pop().expect("patches/series is empty");
    corrupt_first_hunk_context(&p.patches().join(&last));
    let co = p.checkout("checkout");
    let before = Snapshot::of(&co);

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_failure()
        .stderr_has("does not apply");

    before.assert_same(
        &Snapshot::of(&co),
        "apply.sh --wasmtime-dir with a patch that does not apply",
    );
    assert!(
        !has_branch(&co, DEFAULT_BRANCH),
        "the branch was left behind"
    );
    assert_eq!(
        git(&co, &["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
}

#[test]
fn apply_embedded_with_non_applying_patch_writes_no_tree() {
    let p = Project::new("no-apply-embedded");
    let last = p.series().pop().expect("patches/series is empty");
    corrupt_first_hunk_context(&p.patches().join(&last));
    p.seed_base(&p.work);
    let base_before = Snapshot::of(&p.work.join("base"));

    p.run("apply.sh", &[])
        .expect_failure()
        .stderr_has("does not apply");

    assert!(
        !p.work.join("wasmtime").exists(),
        "work/wasmtime exists after a failed apply"
    );
    assert_eq!(
        leftovers(&p.work, "wasmtime"),
        Vec::<String>::new(),
        "scratch trees left in work/"
    );
    base_before.assert_same(
        &Snapshot::of(&p.work.join("base")),
        "failed embedded apply.sh (work/base)",
    );
}

/// Not in the list of cases, but the same promise: a branch name that is
/// taken is refused before anything happens.
#[test]
fn apply_refuses_existing_branch_name() {
    let p = Project::new("branch-taken");
    let co = p.checkout("checkout");
    git(&co, &["branch", DEFAULT_BRANCH]);
    let before = Snapshot::of(&co);

    p.run("apply.sh", &["--wasmtime-dir", &checkout_arg(&co)])
        .expect_failure()
        .stderr_has(&format!("already has a branch '{DEFAULT_BRANCH}'"));

    before.assert_same(
        &Snapshot::of(&co),
        "apply.sh --wasmtime-dir onto a taken branch name",
    );
}

// 7. refresh --check

#[test]
fn refresh_check_passes_after_apply_and_fails_after_amend() {
    let p = Project::new("refresh-check");
    p.seed_base(&p.work);
    p.run("apply.sh", &[]).expect_success();
    let tree = p.work.join("wasmtime");
    let tree_arg = checkout_arg(&tree);
    let last = p.series().pop().expect("patches/series is empty");
    let patches_before = walk(&p.patches());

    let before = Snapshot::of(&tree);
    p.run("refresh.sh", &["--check", "--tree", &tree_arg])
        .expect_success()
        .stderr_has("matches");
    before.assert_same(&Snapshot::of(&tree), "refresh.sh --check (passing)");

    // Same subject, other body: the same file name, other contents.
    let subject = git(&tree, &["log", "-1", "--format=%s"]);
    amend_message(&tree, &[&subject, "A paragraph that is not in the patch."]);
    p.run("refresh.sh", &["--check", "--tree", &tree_arg])
        .expect_failure()
        .stderr_has(&format!("{last} differs from the tree's commit"))
        .stderr_has("does not match");

    // Another subject: the patch file of the series is gone from the tree.
    amend_message(&tree, &["x"]);
    let before = Snapshot::of(&tree);
    p.run("refresh.sh", &["--check", "--tree", &tree_arg])
        .expect_failure()
        .stderr_has(&format!("{last} is in patches/ but not in the tree"))
        .stderr_has("does not match");
    before.assert_same(&Snapshot::of(&tree), "refresh.sh --check (failing)");

    assert_same_files(
        &patches_before,
        &walk(&p.patches()),
        "refresh.sh --check wrote to patches/",
    );
}

#[test]
fn refresh_without_edits_rewrites_identical_patches() {
    let p = Project::new("refresh-noop");
    p.seed_base(&p.work);
    p.run("apply.sh", &[]).expect_success();
    let tree = p.work.join("wasmtime");
    let patches_before = walk(&p.patches());
    let before = Snapshot::of(&tree);

    p.run("refresh.sh", &[])
        .expect_success()
        .stderr_has("wrote");

    assert_same_files(
        &patches_before,
        &walk(&p.patches()),
        "refresh.sh on an unedited tree",
    );
    before.assert_same(
        &Snapshot::of(&tree),
        "refresh.sh on an unedited tree (the tree itself)",
    );
}

// 8. --help and unknown arguments

/// Executable scripts of the copied project: every scripts/*.sh that starts
/// with a shebang (lib.sh is sourced, not run).
fn scripts(p: &Project) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(p.root.join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sh"))
        .filter(|path| fs::read(path).unwrap().starts_with(b"#!"))
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in ["apply.sh", "base.sh", "refresh.sh"] {
        assert!(
            names.iter().any(|n| n == expected),
            "scripts/{expected} not found among {names:?}"
        );
    }
    names
}

#[test]
fn every_script_prints_usage_on_help() {
    let p = Project::new("help");
    for script in scripts(&p) {
        for flag in ["--help", "-h"] {
            p.run(&script, &[flag])
                .expect_success()
                .stdout_has("Usage:")
                .stdout_has(&format!("scripts/{script}"));
        }
    }
    assert!(!p.work.exists(), "--help created the work directory");
}

#[test]
fn every_script_rejects_unknown_argument() {
    let p = Project::new("unknown-arg");
    for script in scripts(&p) {
        p.run(&script, &["--no-such-option"])
            .expect_failure()
            .stderr_has("unknown argument '--no-such-option'");
    }
    assert!(
        !p.work.exists(),
        "an unknown argument created the work directory"
    );
}

#[test]
fn build_cli_refuses_a_missing_cli_source() {
    let p = Project::new("build-cli-bad-src");
    let missing = p.tmp_path("no-such-tree");
    p.run("build-cli.sh", &["--cli-src", missing.to_str().unwrap()])
        .expect_failure()
        .stderr_has("--cli-src:")
        .stderr_has("has no src/commands");
    p.run("build-cli.sh", &["--cli-src"])
        .expect_failure()
        .stderr_has("--cli-src needs a directory");
    assert!(
        !p.work.exists(),
        "a refused build created the work directory"
    );
    assert!(
        !p.root.join("target/cli").exists(),
        "a refused build created the CLI's target directory"
    );
}

#[test]
fn conformance_and_fuzz_refuse_a_bad_argument() {
    let p = Project::new("bad-backend");
    for script in ["conformance.sh", "fuzz.sh"] {
        p.run(script, &["--backend"])
            .expect_failure()
            .stderr_has("--backend needs a value");
        p.run(script, &["--seeds", "many"])
            .expect_failure()
            .stderr_has("--seeds takes a whole number, not 'many'");
    }
    assert!(!p.work.exists(), "a refused run created the work directory");
}

/// The backends are the conformance suite's own list
/// (`crates/conformance/src/backends.rs`), which the scripts ask of its
/// `backends` tool; the tool builds in the workspace, with the patched tree
/// this test was built against. So these run the real scripts.
#[test]
fn conformance_and_fuzz_refuse_an_unknown_backend() {
    let root = script_tests::project_root();
    for script in ["conformance.sh", "fuzz.sh"] {
        let out = std::process::Command::new(root.join("scripts").join(script))
            .args(["--backend", "upstream-46"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{script} accepted upstream-46");
        assert!(
            stderr
                .contains("unknown backend 'upstream-46' (known: patched upstream-45 upstream-48)"),
            "{script}: {stderr}"
        );
    }
}

// 9. broken links in the documentation

/// A README and one docs page whose links all resolve.
fn docs_tree(p: &Project) -> PathBuf {
    let dir = p.tmp_path("docs-tree");
    fs::create_dir_all(dir.join("docs")).unwrap();
    fs::write(
        dir.join("README.md"),
        "# Read me\n\nSee [the series](docs/series.md#patch-1-one-constructor), \
         [upstream](https://example.org/x) and [this page](#read-me).\n\n\
         ```sh\n[not a link](missing.md)\n```\n",
    )
    .unwrap();
    fs::write(
        dir.join("docs/series.md"),
        "# The series\n\n## Patch 1: one constructor\n\nBack to [the README](../README.md).\n",
    )
    .unwrap();
    dir
}

#[test]
fn check_links_passes_when_every_link_resolves() {
    let p = Project::new("links-ok");
    let dir = docs_tree(&p);
    p.run("check-links.sh", &["--root", &checkout_arg(&dir)])
        .expect_success()
        .stderr_has("3 relative links in 2 files resolve");
}

#[test]
fn check_links_fails_naming_file_and_link_of_each_broken_one() {
    let p = Project::new("links-broken");
    let dir = docs_tree(&p);
    let page = dir.join("docs/series.md");
    let mut text = fs::read_to_string(&page).unwrap();
    text.push_str("\nSee [gone](gone.md) and [no such heading](../README.md#nowhere).\n");
    fs::write(&page, text).unwrap();
    let before = walk(&dir);

    p.run("check-links.sh", &["--root", &checkout_arg(&dir)])
        .expect_failure()
        .stderr_has("docs/series.md:7: broken link 'gone.md': no such file")
        .stderr_has("docs/series.md:7: broken link '../README.md#nowhere'")
        .stderr_has("no heading with anchor '#nowhere' in README.md")
        .stderr_has("2 broken link(s)");

    assert_same_files(&before, &walk(&dir), "check-links.sh on broken links");
}
