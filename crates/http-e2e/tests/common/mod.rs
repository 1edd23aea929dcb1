//! What the end-to-end tests share.

/// `wasmtime serve` for a WASIp3 component, each request on an instance of
/// its own, which the handler drops as soon as it may.
pub const FLAGS: &[&str] = &[
    "-Wcomponent-model-async",
    "-Sp3,cli",
    "--max-instance-reuse-count=1",
];

/// How many times the post-response guest's line appears in `stdout`.
pub fn lines(stdout: &str) -> usize {
    stdout
        .matches(http_guests::POST_RESPONSE_MESSAGE.trim_end())
        .count()
}
