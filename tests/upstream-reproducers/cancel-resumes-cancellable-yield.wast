;; `subtask.cancel` resumes a callee thread that is suspended in a
;; cancellable `thread.yield` at once, with the cancellation.
;;
;; Releases: fails on Wasmtime 45.0.3 (and 44.0.3 before the series); passes
;; on the patched 44.0.3 and on 48.0.8. One text for all three releases
;; (only built-ins whose names did not change, async function types
;; everywhere).
;;
;; The spec: Concurrency.md, "Cancellation": "When `subtask.cancel` is
;; called, it will attempt to immediately resume one of the subtask's
;; threads which is in a cancellable state", a thread being in one when it
;; "calls one of the blocking built-ins with the `cancellable` immediate
;; set"; `thread.yield cancellable` is one. CanonicalABI.md, `Task.
;; request_cancellation`: a started task with a cancellable thread resumes it
;; with `Cancelled.TRUE`; `canon subtask.cancel` then returns the subtask's
;; state if that resolved it, and BLOCKED only otherwise.
;;
;; What happens: `run` starts $B's stackful `work`, which yields
;; cancellably, and cancels it with the async `subtask.cancel`. `work` sees
;; the yield return "cancelled", acknowledges with `task.cancel` and
;; returns, so the cancel returns RETURN_CANCELLED (4), which `run` returns.
;; 45.0.3 resumes only threads in a cancellable `waitable-set.wait`: the
;; cancel returns BLOCKED (0xffffffff), `work` sees the cancellation only
;; when its turn comes, and `run` returns BLOCKED after waiting for it.
;;
;; expect patched: pass
;; expect upstream-45: fail "4294967295"
;; expect upstream-48: pass
(component
  (component $B
    (core module $M
      (import "" "thread.yield" (func $yield-cancellable (result i32)))
      (import "" "task.return" (func $task-return))
      (import "" "task.cancel" (func $task-cancel))

      ;; stackful
      (func (export "work")
        (if (i32.eq (call $yield-cancellable) (i32.const 1 (; cancelled ;)))
          (then (call $task-cancel) (return)))
        (call $task-return)))
    (core func $yield-cancellable (canon thread.yield cancellable))
    (core func $task-return (canon task.return))
    (core func $task-cancel (canon task.cancel))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "thread.yield" (func $yield-cancellable))
        (export "task.return" (func $task-return))
        (export "task.cancel" (func $task-cancel))))))
    (func (export "work") async (canon lift (core func $m "work") async)))

  (component $C
    (import "work" (func $work async))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "work" (func $work (result i32)))
      (import "" "subtask.cancel" (func $cancel-async (param i32) (result i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "task.return" (func $task-return (param i32)))

      ;; stackful
      (func (export "run")
        (local $s i32) (local $work i32) (local $status i32) (local $ws i32)
        ;; `work` yields cancellably: STARTED (1)
        (local.set $s (call $work))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (local.set $work (i32.shr_u (local.get $s) (i32.const 4)))

        (local.set $status (call $cancel-async (local.get $work)))
        (if (i32.eq (local.get $status) (i32.const -1 (; BLOCKED ;)))
          (then
            ;; wait for `work` to resolve, so that it can be dropped
            (local.set $ws (call $ws-new))
            (call $join (local.get $work) (local.get $ws))
            (loop $wait
              (br_if $wait (i32.ne (call $ws-wait (local.get $ws) (i32.const 0))
                                   (i32.const 1 (; SUBTASK ;))))
              (br_if $wait (i32.lt_u (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))))
            (call $join (local.get $work) (i32.const 0))))
        (call $subtask-drop (local.get $work))
        (call $task-return (local.get $status))))
    (core func $work (canon lower (func $work) async))
    (core func $cancel-async (canon subtask.cancel async))
    (core func $subtask-drop (canon subtask.drop))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "work" (func $work))
        (export "subtask.cancel" (func $cancel-async))
        (export "subtask.drop" (func $subtask-drop))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (result u32) (canon lift (core func $m "run") async)))

  (instance $b (instantiate $B))
  (instance $c (instantiate $C (with "work" (func $b "work"))))
  (export "run" (func $c "run")))

(assert_return (invoke "run") (u32.const 4 (; RETURN_CANCELLED ;)))
