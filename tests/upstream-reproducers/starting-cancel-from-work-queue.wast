;; A subtask that is still STARTING when its caller cancels it is resolved
;; as CANCELLED_BEFORE_STARTED, however far its start has got in the queue.
;;
;; Releases: fails on Wasmtime 45.0.3 (and 44.0.3 before the series); passes
;; on the patched 44.0.3 and on 48.0.8. One text for all three releases
;; (only built-ins whose names did not change, async function types
;; everywhere).
;;
;; The spec: CanonicalABI.md, `canon subtask.cancel`, traps only if the
;; subtask's resolution was already delivered, if it was already cancelled,
;; or if a synchronous cancel finds it in a waitable set; a subtask that has
;; not started is resolved without running the callee (`Task.
;; request_cancellation` in the INITIAL state). Concurrency.md,
;; "Cancellation": "If the subtask was waiting to start due to backpressure,
;; the subtask is immediately aborted without running the callee at all."
;; Neither says where the runtime keeps the start while it waits.
;;
;; What happens: $B raises backpressure from a stackful export `hold`, so
;; that a call to its export `later` waits to start (STARTING). `hold` then
;; returns and lowers backpressure in one go. In Wasmtime the return wakes
;; the caller first, and lowering the backpressure moves the start of
;; `later` from the instance's pending calls to the store's work queue
;; behind that wake-up; the caller cancels `later` before the work queue
;; runs its start. 45.0.3 looks for the start only among the pending calls
;; and traps with "`subtask.cancel` called after terminal status
;; delivered"; the patched 44.0.3 and 48.0.8 resolve it as
;; CANCELLED_BEFORE_STARTED (3), which `run` returns. (A scheduler that ran
;; the start of `later` before the caller would see RETURN_CANCELLED (4):
;; `later` waits cancellably and acknowledges. Wasmtime's order makes it 3.)
;;
;; expect patched: pass
;; expect upstream-45: fail "`subtask.cancel` called after terminal status delivered"
;; expect upstream-48: pass
(component
  (component $B
    (core module $M
      (import "" "backpressure.inc" (func $bp-inc))
      (import "" "backpressure.dec" (func $bp-dec))
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return))
      (import "" "task.cancel" (func $task-cancel))
      (import "" "waitable-set.new" (func $ws-new (result i32)))

      ;; stackful: hold the instance's backpressure up across one yield,
      ;; then return and let it down
      (func (export "hold")
        (call $bp-inc)
        (drop (call $yield))
        (call $task-return)
        (call $bp-dec))

      ;; callback: wait (cancellably, as the event loop does) on an empty
      ;; set until cancelled, then acknowledge
      (func (export "later") (result i32)
        (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $ws-new) (i32.const 4))))
      (func (export "later-cb") (param $event i32) (param i32) (param i32) (result i32)
        (if (i32.ne (local.get $event) (i32.const 6 (; TASK_CANCELLED ;)))
          (then unreachable))
        (call $task-cancel)
        (i32.const 0 (; EXIT ;))))
    (core func $bp-inc (canon backpressure.inc))
    (core func $bp-dec (canon backpressure.dec))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return))
    (core func $task-cancel (canon task.cancel))
    (core func $ws-new (canon waitable-set.new))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "backpressure.inc" (func $bp-inc))
        (export "backpressure.dec" (func $bp-dec))
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))
        (export "task.cancel" (func $task-cancel))
        (export "waitable-set.new" (func $ws-new))))))
    (func (export "hold") async (canon lift (core func $m "hold") async))
    (func (export "later") async
      (canon lift (core func $m "later") async (callback (func $m "later-cb")))))

  (component $C
    (import "hold" (func $hold async))
    (import "later" (func $later async))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "hold" (func $hold (result i32)))
      (import "" "later" (func $later (result i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "subtask.cancel" (func $cancel (param i32) (result i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "task.return" (func $task-return (param i32)))

      ;; stackful
      (func (export "run")
        (local $s i32) (local $hold i32) (local $later i32) (local $ws i32) (local $status i32)
        ;; `hold` raises backpressure and yields: STARTED (1)
        (local.set $s (call $hold))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (local.set $hold (i32.shr_u (local.get $s) (i32.const 4)))

        ;; `later` cannot start while the backpressure is up: STARTING (0)
        (local.set $s (call $later))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 0 (; STARTING ;)))
          (then unreachable))
        (local.set $later (i32.shr_u (local.get $s) (i32.const 4)))

        ;; wait until `hold` has returned (and lowered the backpressure)
        (local.set $ws (call $ws-new))
        (call $join (local.get $hold) (local.get $ws))
        (loop $wait
          (br_if $wait (i32.ne (call $ws-wait (local.get $ws) (i32.const 0))
                               (i32.const 1 (; SUBTASK ;))))
          (br_if $wait (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))))
        (call $join (local.get $hold) (i32.const 0))
        (call $subtask-drop (local.get $hold))

        ;; `later` has not started: cancel it, synchronously
        (local.set $status (call $cancel (local.get $later)))
        (call $subtask-drop (local.get $later))
        (call $task-return (local.get $status))))
    (core func $hold (canon lower (func $hold) async))
    (core func $later (canon lower (func $later) async))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $cancel (canon subtask.cancel))
    (core func $subtask-drop (canon subtask.drop))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "hold" (func $hold))
        (export "later" (func $later))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "subtask.cancel" (func $cancel))
        (export "subtask.drop" (func $subtask-drop))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (result u32) (canon lift (core func $m "run") async)))

  (instance $b (instantiate $B))
  (instance $c (instantiate $C
    (with "hold" (func $b "hold"))
    (with "later" (func $b "later"))))
  (export "run" (func $c "run")))

(assert_return (invoke "run") (u32.const 3 (; CANCELLED_BEFORE_STARTED ;)))
