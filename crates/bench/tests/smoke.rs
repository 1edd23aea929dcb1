//! The benchmark code keeps building and running: every case once, with
//! tiny counts, against the patched build. No timing is asserted.

#[test]
fn every_case_runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench"))
        .arg("smoke")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench smoke failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (case, _) in [
        ("host-callback", ()),
        ("host-sync", ()),
        ("guest-async", ()),
        ("guest-sync", ()),
        ("live-10000", ()),
        ("poll-10000", ()),
    ] {
        assert!(
            stdout.contains(&format!("{case}: ")),
            "no result for {case}:\n{stdout}"
        );
    }
    assert!(stdout.contains("http: "), "no HTTP result:\n{stdout}");
    assert!(stdout.contains("plot: "), "no plot drawn:\n{stdout}");
}
