;; A task that may not block (a sync-lifted, sync-typed export that has not
;; returned) cancels a subtask with the async `subtask.cancel`: the callee,
;; waiting cancellably, takes the cancellation at once, and nothing else
;; runs before the caller continues.
;;
;; Releases: passes on the patched 44.0.3 (series patch 26). On 44.0.3 and
;; the series up to patch 25 a build with debug assertions panics ("assertion
;; failed" in `StoreOpaque::suspend`: the caller may not block); a release
;; build suspends `run` behind the other work of the store, `spin` runs
;; once in between, and `run` returns 14. 45.0.3 has the same assertion;
;; 48.0.8 skips it and behaves as 44.0.3 in release (both predicted from
;; reading 45.0.3 and 48.0.0, not run).
;;
;; The spec: CanonicalABI.md, "`canon subtask.cancel`": `trap_if(not
;; thread.task.may_block() and not async_)`, so the async form is allowed
;; here. `Task.request_cancellation` resumes a cancellable thread of the
;; callee "immediately", a nested `Thread.resume` that returns to the caller
;; when that thread suspends or exits, without the caller waiting for
;; anything else; if the callee resolved in that turn, the cancel returns
;; its state (CANCELLED_BEFORE_RETURNED, 4), otherwise BLOCKED.
;;
;; What happens: `spin` (stackful, in $D) returns and then yields in a loop,
;; counting its turns. `run` (sync in $B) starts $A's callback `f`, which
;; WAITs on an empty set (cancellably, as a callback's WAIT is), reads
;; `spin`'s count, cancels `f` with the async `subtask.cancel` (`f` gets
;; TASK_CANCELLED, calls `task.cancel` and exits), reads the count again,
;; and returns the cancel's status plus 10 times the turns `spin` took in
;; between: 4.
;;
;; expect patched: pass
;; expect upstream-45: fail "assertion failed"
;; expect upstream-48: fail "14"
(component
  (component $A
    (core module $M
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "task.cancel" (func $task-cancel))
      ;; callback: WAIT on a fresh, empty set until cancelled
      (func (export "f") (result i32)
        (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $ws-new) (i32.const 4))))
      (func (export "f-cb") (param $event i32) (param i32 i32) (result i32)
        (if (i32.ne (local.get $event) (i32.const 6 (; TASK_CANCELLED ;)))
          (then unreachable))
        (call $task-cancel)
        (i32.const 0 (; EXIT ;))))
    (core func $ws-new (canon waitable-set.new))
    (core func $task-cancel (canon task.cancel))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "waitable-set.new" (func $ws-new))
        (export "task.cancel" (func $task-cancel))))))
    (func (export "f") async
      (canon lift (core func $m "f") async (callback (func $m "f-cb")))))

  (component $D
    (core module $M
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return))
      (global $turns (mut i32) (i32.const 0))
      ;; stackful: return, then yield for good, counting the turns
      (func (export "spin")
        (call $task-return)
        (loop $spin
          (drop (call $yield))
          (global.set $turns (i32.add (global.get $turns) (i32.const 1)))
          (br $spin)))
      ;; sync
      (func (export "turns") (result i32) (global.get $turns)))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))))))
    (func (export "spin") async (canon lift (core func $m "spin") async))
    (func (export "turns") (result u32) (canon lift (core func $m "turns"))))

  (component $B
    (import "f" (func $f async))
    (import "turns" (func $turns (result u32)))
    (core module $M
      (import "" "f" (func $f (result i32)))
      (import "" "turns" (func $turns (result i32)))
      (import "" "subtask.cancel-async" (func $cancel-async (param i32) (result i32)))

      ;; sync-lifted, sync-typed: may not block
      (func (export "run") (result i32) (local $s i32) (local $before i32) (local $status i32)
        ;; `f` waits: STARTED (1)
        (local.set $s (call $f))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (local.set $before (call $turns))
        (local.set $status (call $cancel-async (i32.shr_u (local.get $s) (i32.const 4))))
        (i32.add
          (local.get $status)
          (i32.mul (i32.const 10) (i32.sub (call $turns) (local.get $before))))))
    (core func $f (canon lower (func $f) async))
    (core func $turns (canon lower (func $turns)))
    (core func $cancel-async (canon subtask.cancel async))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "f" (func $f))
        (export "turns" (func $turns))
        (export "subtask.cancel-async" (func $cancel-async))))))
    (func (export "run") (result u32) (canon lift (core func $m "run"))))

  (instance $a (instantiate $A))
  (instance $d (instantiate $D))
  (instance $b (instantiate $B
    (with "f" (func $a "f"))
    (with "turns" (func $d "turns"))))
  (export "spin" (func $d "spin"))
  (export "run" (func $b "run")))

;; `spin` returns, and keeps yielding in the background
(assert_return (invoke "spin"))
;; CANCELLED_BEFORE_RETURNED (4), and `spin` did not run during the cancel
(assert_return (invoke "run") (u32.const 4))
