;; A task may cancel and drop a subtask that another task of its instance
;; started, while the starter is still alive (so that its table slots are
;; not reused by the canceller's task).
;;
;; Releases: passes on the patched 44.0.3 (series patch 20) and on 45.0.3
;; and 48.0.8, where the assertions were removed (upstream 881ce470c5,
;; #13041, in 45.0.0). On 44.0.3 and the series up to patch 19, a build
;; with debug assertions panics (`assertion `left == right` failed` in
;; `subtask_cancel`); a release build passes. The upstream lines are
;; predictions from reading 45.0.3 and 48.0.0, not runs.
;;
;; The spec: CanonicalABI.md, "`canon subtask.cancel`" and "`canon
;; subtask.drop`": the subtask is looked up in `thread.task.inst.handles`
;; and only its own state is checked (`resolve_delivered`,
;; `cancellation_requested`), plus `may_block()` of the calling task for a
;; synchronous cancel. Nothing ties the handle to the thread that made the
;; call. Concurrency.md, "Subtasks and Supertasks", lets a supertask leave
;; its subtasks running.
;;
;; What happens: `run` calls $B's stackful `start`, which starts $A's
;; callback `f` (it yields until cancelled), keeps the subtask handle in a
;; global, returns and stays blocked. `run` then calls $B's `finish`, a
;; different task, which cancels `f` synchronously (`f` acknowledges: 4,
;; CANCELLED_BEFORE_RETURNED) and drops it, and returns the status.
;; `run-drop` does the same with `start-cancel`, which cancels `f` itself
;; and keeps the resolved handle, and `finish-drop`, which only drops it.
;;
;; expect patched: pass
;; expect upstream-45: pass
;; expect upstream-48: pass
(component
  (component $A
    (core module $M
      (import "" "task.cancel" (func $task-cancel))
      ;; callback: YIELD until cancelled, then acknowledge
      (func (export "f") (result i32) (i32.const 1 (; YIELD ;)))
      (func (export "f-cb") (param $event i32) (param i32 i32) (result i32)
        (if (result i32) (i32.eq (local.get $event) (i32.const 6 (; TASK_CANCELLED ;)))
          (then (call $task-cancel) (i32.const 0 (; EXIT ;)))
          (else (i32.const 1 (; YIELD ;))))))
    (core func $task-cancel (canon task.cancel))
    (core instance $m (instantiate $M
      (with "" (instance (export "task.cancel" (func $task-cancel))))))
    (func (export "f") async
      (canon lift (core func $m "f") async (callback (func $m "f-cb")))))

  (component $B
    (import "f" (func $f async))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "f" (func $f (result i32)))
      (import "" "subtask.cancel" (func $cancel (param i32) (result i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "task.return" (func $task-return))
      (import "" "task.return-u32" (func $task-return-u32 (param i32)))
      (global $subtask (mut i32) (i32.const 0))
      (global $status (mut i32) (i32.const 0))

      ;; start `f` (STARTED) and keep its handle
      (func $start-f (local $s i32)
        (local.set $s (call $f))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (global.set $subtask (i32.shr_u (local.get $s) (i32.const 4))))
      ;; keep this task and its thread alive for good
      (func $block-forever
        (drop (call $ws-wait (call $ws-new) (i32.const 0)))
        unreachable)

      ;; stackful
      (func (export "start")
        (call $start-f)
        (call $task-return)
        (call $block-forever))
      ;; stackful
      (func (export "start-cancel")
        (call $start-f)
        (global.set $status (call $cancel (global.get $subtask)))
        (call $task-return)
        (call $block-forever))
      ;; stackful: another task cancels and drops what `start` started
      (func (export "finish") (local $st i32)
        (local.set $st (call $cancel (global.get $subtask)))
        (call $subtask-drop (global.get $subtask))
        (call $task-return-u32 (local.get $st)))
      ;; stackful: another task drops what `start-cancel` resolved
      (func (export "finish-drop")
        (call $subtask-drop (global.get $subtask))
        (call $task-return-u32 (global.get $status))))
    (core func $f (canon lower (func $f) async))
    (core func $cancel (canon subtask.cancel))
    (core func $subtask-drop (canon subtask.drop))
    (core func $ws-new (canon waitable-set.new))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $task-return (canon task.return))
    (core func $task-return-u32 (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "f" (func $f))
        (export "subtask.cancel" (func $cancel))
        (export "subtask.drop" (func $subtask-drop))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable-set.wait" (func $ws-wait))
        (export "task.return" (func $task-return))
        (export "task.return-u32" (func $task-return-u32))))))
    (func (export "start") async (canon lift (core func $m "start") async))
    (func (export "start-cancel") async (canon lift (core func $m "start-cancel") async))
    (func (export "finish") async (result u32) (canon lift (core func $m "finish") async))
    (func (export "finish-drop") async (result u32)
      (canon lift (core func $m "finish-drop") async)))

  (component $C
    (import "start" (func $start async))
    (import "start-cancel" (func $start-cancel async))
    (import "finish" (func $finish async (result u32)))
    (import "finish-drop" (func $finish-drop async (result u32)))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "start" (func $start (result i32)))
      (import "" "start-cancel" (func $start-cancel (result i32)))
      (import "" "finish" (func $finish (result i32)))
      (import "" "finish-drop" (func $finish-drop (result i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "task.return" (func $task-return (param i32)))

      ;; wait until the subtask with packed status $s has returned, so that
      ;; it has stored its handle, and drop it
      (func $await (param $s i32) (local $h i32) (local $ws i32)
        (if (i32.eq (i32.and (local.get $s) (i32.const 0xf)) (i32.const 2 (; RETURNED ;)))
          (then (return)))
        (local.set $h (i32.shr_u (local.get $s) (i32.const 4)))
        (local.set $ws (call $ws-new))
        (call $join (local.get $h) (local.get $ws))
        (loop $wait
          (br_if $wait (i32.ne (call $ws-wait (local.get $ws) (i32.const 0))
                               (i32.const 1 (; SUBTASK ;))))
          (br_if $wait (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))))
        (call $join (local.get $h) (i32.const 0))
        (call $subtask-drop (local.get $h)))

      ;; stackful
      (func (export "run")
        (call $await (call $start))
        (call $task-return (call $finish)))
      ;; stackful
      (func (export "run-drop")
        (call $await (call $start-cancel))
        (call $task-return (call $finish-drop))))
    (core func $start (canon lower (func $start) async))
    (core func $start-cancel (canon lower (func $start-cancel) async))
    (core func $finish (canon lower (func $finish)))
    (core func $finish-drop (canon lower (func $finish-drop)))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $subtask-drop (canon subtask.drop))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "start" (func $start))
        (export "start-cancel" (func $start-cancel))
        (export "finish" (func $finish))
        (export "finish-drop" (func $finish-drop))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "subtask.drop" (func $subtask-drop))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (result u32) (canon lift (core func $m "run") async))
    (func (export "run-drop") async (result u32)
      (canon lift (core func $m "run-drop") async)))

  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "f" (func $a "f"))))
  (instance $c (instantiate $C
    (with "start" (func $b "start"))
    (with "start-cancel" (func $b "start-cancel"))
    (with "finish" (func $b "finish"))
    (with "finish-drop" (func $b "finish-drop"))))
  (export "run" (func $c "run"))
  (export "run-drop" (func $c "run-drop")))

;; CANCELLED_BEFORE_RETURNED (4), cancelled from another task
(assert_return (invoke "run") (u32.const 4))
;; the same status, dropped from another task
(assert_return (invoke "run-drop") (u32.const 4))
