;; A callback that returned YIELD is owed `EventCode.NONE` on its next
;; turn; a thread of the same task that polls its own (empty) waitable set
;; in between must not take it.
;;
;; Releases: fails on Wasmtime 45.0.3, and on 44.0.3 before the series;
;; passes on the patched 44.0.3. 48.0.8 fails too: see
;; `callback-yield-event-taken-by-thread-poll-48.wast`.
;; Text: Wasmtime 44.0.3's and 45.0.3's built-in names (`thread.unsuspend`);
;; the same component with 48.0.8's (`thread.resume-later`) is
;; `callback-yield-event-taken-by-thread-poll-48.wast`.
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
;; has polled an empty waitable set; the callback then returns 42. 45.0.3
;; and 48.0.8 keep the owed NONE in the task's single event slot, where the
;; thread's poll takes it; the callback's next turn then finds no event and
;; hits Wasmtime's internal check "BUG: delivering non-present event" (a
;; panic when Wasmtime is built with debug assertions, a trap with that
;; message otherwise). A guest can thus panic a debug-built host. The
;; patched 44.0.3 keeps the event for the callback.
;;
;; expect patched: pass
;; expect upstream-45: fail "delivering non-present event"
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
    (import "" "thread.unsuspend" (func $resume-later (param i32)))
    (import "" "task.return" (func $task-return (param i32)))
    (import "" "waitable-set.new" (func $ws-new (result i32)))
    (import "" "waitable-set.poll" (func $poll (param i32 i32) (result i32)))
    (global $done (mut i32) (i32.const 0))
    (global $turns (mut i32) (i32.const 0))

    ;; the thread: poll an empty set, which has nothing to report
    (func $thread (param i32)
      (drop (call $poll (call $ws-new) (i32.const 0)))
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
  (core func $resume-later (canon thread.unsuspend))
  (core func $task-return (canon task.return (result u32)))
  (core func $ws-new (canon waitable-set.new))
  (core func $poll (canon waitable-set.poll (memory $libc "mem")))
  (core instance $m (instantiate $M
    (with "libc" (instance $libc))
    (with "" (instance
      (export "thread.new-indirect" (func $thread-new))
      (export "thread.unsuspend" (func $resume-later))
      (export "task.return" (func $task-return))
      (export "waitable-set.new" (func $ws-new))
      (export "waitable-set.poll" (func $poll))))))
  (func (export "run") async (result u32)
    (canon lift (core func $m "run") async (callback (func $m "run-cb")))))

(assert_return (invoke "run") (u32.const 42))
