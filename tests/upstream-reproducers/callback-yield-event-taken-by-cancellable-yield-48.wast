;; A callback that returned YIELD is owed `EventCode.NONE` on its next
;; turn; a thread of the same task that makes a cancellable `thread.yield`
;; in between must not take it, and, its task not being cancelled, must see
;; "not cancelled".
;;
;; Releases: passes on Wasmtime 48.0.8; 45.0.3 fails, see
;; `callback-yield-event-taken-by-cancellable-yield.wast`.
;; Text: Wasmtime 48.0.8's built-in names (`thread.resume-later`, which was
;; `thread.unsuspend` before), which 44.0.3 and 45.0.3 do not parse; the
;; same component with theirs is `callback-yield-event-taken-by-cancellable-yield.wast`.
;;
;; The spec: CanonicalABI.md, `canon lift`, the callback loop: a callback
;; that returns YIELD is called again with `EventCode.NONE` (or
;; TASK_CANCELLED), whatever other threads of its task do meanwhile. An
;; explicit thread's `waitable-set.poll` and `thread.yield` are about that
;; thread's own waitable set and about cancellation (`canon
;; waitable-set.poll`, `canon thread.yield`); neither hands out, or
;; consumes, an event of the callback loop.
;;
;; What happens: `run` spawns a thread and returns YIELD until the thread
;; has made a cancellable `thread.yield` (which must return 0, not
;; cancelled); the callback then returns 42. 45.0.3 keeps the owed NONE in
;; the task's single event slot, where the yield's check for a pending
;; cancellation finds it and panics on `assert!(matches!(event,
;; Event::Cancelled))` (`take_pending_cancellation`), in release builds too:
;; a guest can panic the host. 48.0.8 and the patched 44.0.3 leave the
;; event alone.
;;
;; expect upstream-48: pass
(component
  (core module $Libc
    (memory (export "mem") 1)
    (table (export "tab") 1 funcref))
  (core instance $libc (instantiate $Libc))
  (core type $start (func (param i32)))
  (core module $M
    (import "libc" "mem" (memory 1))
    (import "libc" "tab" (table 1 funcref))
    (import "" "thread.new-indirect" (func $thread-new (param i32 i32) (result i32)))
    (import "" "thread.resume-later" (func $resume-later (param i32)))
    (import "" "task.return" (func $task-return (param i32)))
    (import "" "thread.yield" (func $yield-cancellable (result i32)))
    (global $done (mut i32) (i32.const 0))
    (global $turns (mut i32) (i32.const 0))

    ;; the thread: a cancellable yield, which must not report a cancellation
    (func $thread (param i32)
      (if (call $yield-cancellable) (then unreachable))
      (global.set $done (i32.const 1)))
    (elem (i32.const 0) func $thread)

    ;; callback-lifted: start the thread (it runs when the event loop gets
    ;; to it) and yield
    (func (export "run") (result i32)
      (call $resume-later (call $thread-new (i32.const 0) (i32.const 0)))
      (i32.const 1 (; YIELD ;)))
    (func (export "run-cb") (param $event i32) (param i32) (param i32) (result i32)
      ;; resumed after YIELD: the event is NONE
      (if (local.get $event) (then unreachable))
      (if (global.get $done)
        (then
          (call $task-return (i32.const 42))
          (return (i32.const 0 (; EXIT ;)))))
      ;; the thread has not run yet: yield again, a bounded number of times
      (global.set $turns (i32.add (global.get $turns) (i32.const 1)))
      (if (i32.gt_u (global.get $turns) (i32.const 100)) (then unreachable))
      (i32.const 1 (; YIELD ;))))
  (core func $thread-new (canon thread.new-indirect $start (table $libc "tab")))
  (core func $resume-later (canon thread.resume-later))
  (core func $task-return (canon task.return (result u32)))
  (core func $yield-cancellable (canon thread.yield cancellable))
  (core instance $m (instantiate $M
    (with "libc" (instance $libc))
    (with "" (instance
      (export "thread.new-indirect" (func $thread-new))
      (export "thread.resume-later" (func $resume-later))
      (export "task.return" (func $task-return))
      (export "thread.yield" (func $yield-cancellable))))))
  (func (export "run") async (result u32)
    (canon lift (core func $m "run") async (callback (func $m "run-cb")))))

(assert_return (invoke "run") (u32.const 42))
