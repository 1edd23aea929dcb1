//! Helpers for the integration tests of the project's shell scripts.
//!
//! Every test works on throw-away copies: a copy of `scripts/` and `patches/`
//! in a temporary "project root" (so a test may corrupt a patch), a temporary
//! `WASMTIME_PATCHES_WORK`, and user "checkouts" cloned from the real pristine
//! base. Nothing here writes to the real repository, except that
//! [`real_base`] runs the real `scripts/base.sh` once, which creates
//! `work/base` if it is missing and otherwise only verifies it.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::hash::{DefaultHasher, Hasher};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The branch `scripts/apply.sh --wasmtime-dir` creates by default.
pub const DEFAULT_BRANCH: &str = "poll-no-interesting-tasks";

/// Identity for the commits the tests themselves make.
const TEST_IDENTITY: [&str; 4] = ["-c", "user.name=t", "-c", "user.email=t@t"];

/// Environment variables that would point git somewhere else than `-C DIR`.
const GIT_LOCATION_VARS: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
];

/// The root of the real project (the git repository holding `scripts/`).
pub fn project_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    fs::canonicalize(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()))
}

/// The real `work/` directory, as `scripts/lib.sh` computes it.
fn real_work() -> PathBuf {
    match std::env::var_os("WASMTIME_PATCHES_WORK") {
        Some(w) if !w.is_empty() => PathBuf::from(w),
        _ => project_root().join("work"),
    }
}

/// The real pristine base (`work/base`), made or verified by the real
/// `scripts/base.sh` once per test binary (concurrent runs of base.sh on the
/// same destination would race).
pub fn real_base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let script = project_root().join("scripts/base.sh");
        let out = run_command(script_command(&script), "scripts/base.sh (real)");
        out.expect_success();
        let base = real_work().join("base");
        assert!(
            base.join(".git").is_dir(),
            "{} is not a git repository",
            base.display()
        );
        base
    })
}

// ---------------------------------------------------------------------------
// Temporary directories

/// A fresh directory under `std::env::temp_dir()`, removed on drop.
///
/// Set `SCRIPT_TESTS_KEEP=1` to keep the directories of failing tests.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = format!("script-tests-{label}-{}-{n}-{nanos}", std::process::id());
            let path = std::env::temp_dir().join(name);
            match fs::create_dir(&path) {
                Ok(()) => {
                    let path = fs::canonicalize(&path).unwrap();
                    return TempDir { path };
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("{}: {e}", path.display()),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() && std::env::var_os("SCRIPT_TESTS_KEEP").is_some() {
            eprintln!("keeping {}", self.path.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Copies a directory tree (files keep their permission bits).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let ty = entry.file_type().unwrap();
        if ty.is_dir() {
            copy_dir(&src, &dst);
        } else if ty.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("{} -> {}: {e}", src.display(), dst.display()));
        }
    }
}

// ---------------------------------------------------------------------------
// Running commands

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    pub what: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "{}\nexit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}--------------",
            self.what, self.code, self.stdout, self.stderr
        )
    }

    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    #[track_caller]
    pub fn expect_success(&self) -> &Self {
        assert!(self.success(), "expected success:\n{}", self.describe());
        self
    }

    /// Non-zero exit (a signal does not count: the script must exit by itself).
    #[track_caller]
    pub fn expect_failure(&self) -> &Self {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "expected a non-zero exit:\n{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, phrase: &str) -> &Self {
        assert!(
            self.stderr.contains(phrase),
            "stderr lacks {phrase:?}:\n{}",
            self.describe()
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, phrase: &str) -> &Self {
        assert!(
            self.stdout.contains(phrase),
            "stdout lacks {phrase:?}:\n{}",
            self.describe()
        );
        self
    }
}

fn run_command(mut cmd: Command, what: &str) -> Outcome {
    cmd.stdin(Stdio::null());
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    Outcome {
        what: what.to_string(),
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

fn script_command(script: &Path) -> Command {
    let mut cmd = Command::new(script);
    for v in GIT_LOCATION_VARS {
        cmd.env_remove(v);
    }
    cmd
}

/// git without the user's configuration, in `dir`.
fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    for v in GIT_LOCATION_VARS {
        cmd.env_remove(v);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .arg("-C")
        .arg(dir);
    cmd
}

/// Runs git in `dir`; panics unless it succeeds; returns its trimmed stdout.
#[track_caller]
pub fn git<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> String {
    let mut cmd = git_command(dir);
    cmd.args(args);
    let what = format!(
        "git -C {} {}",
        dir.display(),
        args.iter()
            .map(|a| a.as_ref().to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = run_command(cmd, &what);
    out.expect_success();
    out.stdout.trim_end().to_string()
}

/// Commits every tracked change in `dir` under a test identity.
#[track_caller]
pub fn commit_all(dir: &Path, message: &str) {
    let mut args: Vec<&str> = TEST_IDENTITY.to_vec();
    args.extend(["commit", "--quiet", "--all", "-m", message]);
    git(dir, &args);
}

/// Amends the last commit of `dir` with the given `-m` paragraphs.
#[track_caller]
pub fn amend_message(dir: &Path, paragraphs: &[&str]) {
    let mut args: Vec<&str> = TEST_IDENTITY.to_vec();
    args.extend(["commit", "--quiet", "--amend"]);
    for p in paragraphs {
        args.extend(["-m", p]);
    }
    git(dir, &args);
}

/// Whether `dir` has a local branch `name`.
pub fn has_branch(dir: &Path, name: &str) -> bool {
    let mut cmd = git_command(dir);
    cmd.args([
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("refs/heads/{name}"),
    ]);
    run_command(cmd, "git rev-parse").success()
}

/// sha256 of a file, by the same tool the scripts use.
pub fn sha256(file: &Path) -> String {
    let mut cmd = Command::new("sha256sum");
    cmd.arg(file);
    let out = run_command(cmd, "sha256sum");
    out.expect_success();
    out.stdout.split_whitespace().next().unwrap().to_string()
}

// ---------------------------------------------------------------------------
// The temporary project

/// A copy of the project's `scripts/` and `patches/` plus a temporary work
/// directory; everything lives in one [`TempDir`].
pub struct Project {
    tmp: TempDir,
    /// The copied project root (holds `scripts/` and `patches/`).
    pub root: PathBuf,
    /// The default `WASMTIME_PATCHES_WORK` for [`Project::run`]; not created.
    pub work: PathBuf,
}

impl Project {
    pub fn new(label: &str) -> Project {
        let real = project_root();
        let tmp = TempDir::new(label);
        let root = tmp.path().join("project");
        copy_dir(&real.join("scripts"), &root.join("scripts"));
        copy_dir(&real.join("patches"), &root.join("patches"));
        let work = tmp.path().join("work");
        Project { tmp, root, work }
    }

    /// A path inside this project's temporary directory (not created).
    pub fn tmp_path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn patches(&self) -> PathBuf {
        self.root.join("patches")
    }

    /// Runs `scripts/<script>` of the copy, with `WASMTIME_PATCHES_WORK` set
    /// to [`Project::work`].
    pub fn run(&self, script: &str, args: &[&str]) -> Outcome {
        self.run_in(&self.work, script, args)
    }

    /// Runs `scripts/<script>` of the copy with `WASMTIME_PATCHES_WORK=work`.
    pub fn run_in(&self, work: &Path, script: &str, args: &[&str]) -> Outcome {
        let mut cmd = script_command(&self.root.join("scripts").join(script));
        cmd.args(args)
            .env("WASMTIME_PATCHES_WORK", work)
            .current_dir(&self.root);
        let what = format!(
            "WASMTIME_PATCHES_WORK={} scripts/{script} {}",
            work.display(),
            args.join(" ")
        );
        run_command(cmd, &what)
    }

    /// A user "checkout": a clone of the real pristine base.
    pub fn checkout(&self, name: &str) -> PathBuf {
        let dir = self.tmp_path(name);
        let base = real_base();
        git(
            self.tmp.path(),
            &[
                OsStr::new("clone"),
                OsStr::new("--quiet"),
                base.as_os_str(),
                dir.as_os_str(),
            ],
        );
        dir
    }

    /// Puts a clone of the real pristine base at `<work>/base`, which
    /// `scripts/base.sh` then verifies and reuses instead of fetching the
    /// crates again.
    pub fn seed_base(&self, work: &Path) {
        fs::create_dir_all(work).unwrap();
        let base = real_base();
        let dest = work.join("base");
        git(
            work,
            &[
                OsStr::new("clone"),
                OsStr::new("--quiet"),
                base.as_os_str(),
                dest.as_os_str(),
            ],
        );
    }

    /// The patch file names of the copied `patches/series`, in order.
    pub fn series(&self) -> Vec<String> {
        read_series(&self.patches().join("series"))
    }

    /// The Wasmtime version pinned in the copied `patches/BASE`.
    pub fn base_version(&self) -> String {
        base_entries(&self.patches(), "version")
            .into_iter()
            .next()
            .expect("patches/BASE names no version")
            .0
    }

    /// The version prefix of the releases the copied `patches/BASE` accepts
    /// (its `accept` line).
    pub fn accepted_prefix(&self) -> String {
        base_entries(&self.patches(), "accept")
            .into_iter()
            .next()
            .expect("patches/BASE has no accept line")
            .0
    }

    /// The pinned sha256 of `path` in the copied `patches/BASE`.
    pub fn pinned_sha256(&self, path: &str) -> String {
        base_entries(&self.patches(), "file")
            .into_iter()
            .find(|(_, p)| p == path)
            .unwrap_or_else(|| panic!("patches/BASE does not list {path}"))
            .0
    }
}

fn read_series(file: &Path) -> Vec<String> {
    fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// `(field 2, field 3)` of every `patches/BASE` line whose first field is `key`.
fn base_entries(patches: &Path, key: &str) -> Vec<(String, String)> {
    let text = fs::read_to_string(patches.join("BASE")).unwrap();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some(key)).then(|| {
                (
                    f.next().unwrap_or("").to_string(),
                    f.next().unwrap_or("").to_string(),
                )
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Snapshots: "nothing changed"

/// One entry of a directory walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { mode: u32 },
    File { mode: u32, len: u64, hash: u64 },
    Symlink { target: PathBuf },
}

/// Every entry under `dir` (relative paths), skipping a top-level `.git`.
pub fn walk(dir: &Path) -> BTreeMap<PathBuf, Entry> {
    fn go(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new(".git") {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode();
            if meta.is_symlink() {
                out.insert(
                    rel,
                    Entry::Symlink {
                        target: fs::read_link(&path).unwrap(),
                    },
                );
            } else if meta.is_dir() {
                out.insert(rel, Entry::Dir { mode });
                go(root, &path, out);
            } else {
                let bytes = fs::read(&path).unwrap();
                let mut h = DefaultHasher::new();
                h.write(&bytes);
                out.insert(
                    rel,
                    Entry::File {
                        mode,
                        len: bytes.len() as u64,
                        hash: h.finish(),
                    },
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    go(dir, dir, &mut out);
    out
}

/// The observable state of a git checkout.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub head: String,
    /// The checked-out branch, or empty when HEAD is detached.
    pub head_ref: String,
    /// Every ref (branches, tags, remotes) with its object.
    pub refs: String,
    pub status: String,
    /// `.git/rebase-apply`, `.git/MERGE_HEAD`... present: an operation was left half done.
    pub in_progress: Vec<String>,
    pub files: BTreeMap<PathBuf, Entry>,
}

impl Snapshot {
    pub fn of(dir: &Path) -> Snapshot {
        let head_ref = {
            let mut cmd = git_command(dir);
            cmd.args(["symbolic-ref", "--quiet", "HEAD"]);
            run_command(cmd, "git symbolic-ref")
                .stdout
                .trim()
                .to_string()
        };
        let in_progress = [
            "rebase-apply",
            "rebase-merge",
            "MERGE_HEAD",
            "CHERRY_PICK_HEAD",
            "index.lock",
        ]
        .into_iter()
        .filter(|p| dir.join(".git").join(p).exists())
        .map(String::from)
        .collect();
        Snapshot {
            head: git(dir, &["rev-parse", "HEAD"]),
            head_ref,
            refs: git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"]),
            status: git(
                dir,
                &[
                    "status",
                    "--porcelain",
                    "--untracked-files=all",
                    "--ignored",
                ],
            ),
            in_progress,
            files: walk(dir),
        }
    }

    /// Panics, saying what differs, unless `after` equals `self`.
    #[track_caller]
    pub fn assert_same(&self, after: &Snapshot, context: &str) {
        if self == after {
            return;
        }
        let mut msg = format!("{context}: the tree changed\n");
        let fields: [(&str, &dyn std::fmt::Debug, &dyn std::fmt::Debug, bool); 5] = [
            ("HEAD", &self.head, &after.head, self.head == after.head),
            (
                "HEAD ref",
                &self.head_ref,
                &after.head_ref,
                self.head_ref == after.head_ref,
            ),
            ("refs", &self.refs, &after.refs, self.refs == after.refs),
            (
                "status",
                &self.status,
                &after.status,
                self.status == after.status,
            ),
            (
                "in progress",
                &self.in_progress,
                &after.in_progress,
                self.in_progress == after.in_progress,
            ),
        ];
        for (name, before, now, same) in fields {
            if !same {
                let _ = writeln!(msg, "  {name}: before {before:?}, after {now:?}");
            }
        }
        let _ = write!(msg, "{}", diff_files(&self.files, &after.files));
        panic!("{msg}");
    }
}

/// Panics, naming the entries that differ, unless the two walks are equal.
#[track_caller]
pub fn assert_same_files(
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
    context: &str,
) {
    if before != after {
        panic!("{context}: files changed\n{}", diff_files(before, after));
    }
}

fn diff_files(before: &BTreeMap<PathBuf, Entry>, after: &BTreeMap<PathBuf, Entry>) -> String {
    let mut msg = String::new();
    for (p, e) in before {
        match after.get(p) {
            None => {
                let _ = writeln!(msg, "  removed: {}", p.display());
            }
            Some(a) if a != e => {
                let _ = writeln!(msg, "  changed: {} ({e:?} -> {a:?})", p.display());
            }
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        let _ = writeln!(msg, "  added: {}", p.display());
    }
    msg
}
