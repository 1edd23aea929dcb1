//! Support for the tests that run on a paused clock.

use std::future::Future;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// Real time a test on a paused clock may take before it counts as hung.
pub const REAL_BOUND: Duration = Duration::from_secs(60);

/// Runs `test` on a current-thread runtime whose clock is paused, on a
/// thread of its own.
///
/// The paused clock jumps ahead whenever every task waits for a timer, so a
/// test waits for virtual seconds in no time, every run sees the same order
/// of events, and a `sleep` is a signal: when it returns, everything that was
/// due before has happened.  A handler that keeps the runtime busy forever
/// stops that clock, so the test would hang: after [`REAL_BOUND`] of real time
/// it fails instead.
pub fn paused<F>(test: impl FnOnce() -> F + Send + 'static)
where
    F: Future<Output = ()>,
{
    let (done_tx, done_rx) = channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(test());
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(REAL_BOUND) {
        Ok(()) => thread.join().unwrap(),
        Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(RecvTimeoutError::Timeout) => panic!(
            "the test did not finish within {REAL_BOUND:?} of real time: something keeps its \
             runtime busy"
        ),
    }
}
