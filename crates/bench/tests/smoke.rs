//! The benchmark code keeps building and running: `bench smoke` runs the
//! whole comparison with tiny counts against the patched build (standing in
//! for both builds). No timing is asserted.

#[test]
fn the_comparison_runs() {
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
    let row = |start: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no row {start:?}:\n{stdout}"))
    };
    // Every case has a time for both builds (the same binary) and a ratio;
    // the poll cases only the patched time.
    for case in [
        "host-callback",
        "host-sync",
        "guest-async",
        "guest-sync",
        "live-1",
        "live-100",
        "live-10000",
    ] {
        let cells: Vec<&str> = row(&format!("| `{case}` |")).split(" | ").collect();
        for cell in &cells[2..5] {
            let v: f64 = cell.parse().unwrap_or_else(|_| panic!("{case}: {cell:?}"));
            assert!(v > 0.0, "{case}: {cell}");
        }
    }
    for case in ["poll-0", "poll-1", "poll-10000"] {
        let cells: Vec<&str> = row(&format!("| `{case}` |")).split(" | ").collect();
        assert!(cells[2].parse::<f64>().unwrap() > 0.0, "{case}");
        assert_eq!(cells[3], "-", "{case}");
    }
    for metric in [
        "| requests/s |",
        "| latency p50 (µs) |",
        "| latency p99 (µs) |",
    ] {
        let cells: Vec<&str> = row(metric).split(" | ").collect();
        assert!(cells[1].parse::<f64>().unwrap() > 0.0, "{metric}");
    }
    assert!(stdout.contains("Peak RSS"), "no memory line:\n{stdout}");
    let png: u64 = row("plot: ")
        .trim_start_matches("plot: ")
        .trim_end_matches(" bytes")
        .parse()
        .unwrap();
    assert!(png > 1000, "plot of {png} bytes");
}
