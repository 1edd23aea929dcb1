;; A host `call_async` whose start sits in the batch the event loop is
;; running when an earlier item of the batch traps (series patch 23): the
;; call fails with the trap, its dropped future cancels the unstarted task,
;; and only the trapped task still counts.
;;
;; How the batch forms: `h` holds `b`'s backpressure up, so the start of
;; `x` waits among `b`'s pending calls. When gate 1 opens, `h` returns,
;; which wakes `p` (high priority), and lowers the backpressure; its EXIT
;; leaves `b`, which moves the start of `x` to the work queue behind `p`'s
;; wake-up. `p` then traps, and the event loop drops the rest of the batch,
;; the start of `x` included.
;;
;; Before the fix `TaskId::host_future_dropped` found the start nowhere:
;; `bail_bug!("queued start of an unstarted task not found")`, a panic in
;; debug builds, and in release builds an error that `SignalOnDrop`
;; (`func/typed.rs`) unwraps: the host panicked either way.
;;
;; Not expressible as a `tests/upstream-reproducers` file: `wasmtime-wast`
;; calls through the dynamic `Func::call_async`, which runs the call with
;; `call_concurrent` and never cancels a dropped call.
(component
  (actor b
    (export h callback (result 4)
      (body backpressure-inc (block 1) return backpressure-dec exit))
    (export x sync (result 5) (body (note 5))))
  (actor a
    (export p stackful (result 1) (body (call b.h async) trap))))

(call c1 a.p)
(drive)
(expect (result c1 pending) (count 2) (notes))
(release 1)
(call-async c2 b.x)
(expect (result c2 error) (notes) (count 1))

;; 45.0.3 bails with SubtaskCancelAfterTerminal there, and `SignalOnDrop`
;; unwraps it. 48.0.8 replaces the start of a call whose future was dropped
;; with one that fails the store when it runs (`TaskId::host_future_dropped`),
;; as it does for every dropped `call_async` (the generator's known entry).
(may-fail-on upstream-45 "unwrap()"
  "45.0.3 bails with SubtaskCancelAfterTerminal and SignalOnDrop unwraps it")
(may-fail-on upstream-48 "the host future for this call was dropped before it started"
  "48 fails the store instead of cancelling the call")
