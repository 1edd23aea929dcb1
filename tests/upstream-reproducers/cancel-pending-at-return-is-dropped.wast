;; A cancellation that is still pending when the callee calls `task.return`
;; is void: the callee's next callback turn gets EVENT_NONE, and the caller
;; sees RETURNED.
;;
;; Releases: passes on the patched 44.0.3 (series patch 22). 44.0.3 and the
;; series up to patch 21 hand the callback TASK_CANCELLED, and `run` returns
;; 206. 45.0.3 and 48.0.8 keep the stale cancellation the same way
;; (predicted from reading 45.0.3 and 48.0.0, not run).
;;
;; The spec: CanonicalABI.md, "Task State": `Task.request_cancellation` sets
;; PENDING_CANCEL when none of the task's threads is cancellable; `Task.
;; return_` sets RESOLVED, replacing it ("the initial `trap_if` allows a
;; task to return a value even after cancellation has been requested"), and
;; `Task.deliver_pending_cancel` only delivers in PENDING_CANCEL. So the
;; callback loop's `YIELD` (`thread.yield_until(..., cancellable = True)`)
;; gives `(EventCode.NONE, 0, 0)`. "`canon subtask.cancel`": the async form
;; returns BLOCKED while the subtask has not resolved.
;;
;; What happens: `run` starts $B's callback `w`, whose core function yields
;; (not cancellably), and cancels it with the async `subtask.cancel`:
;; BLOCKED, since `w` cannot take the cancellation in a plain
;; `thread.yield`. `w` then calls `task.return` and returns YIELD; its
;; callback records the event it gets and exits. `run` waits for `w`'s
;; terminal event, drops it, waits until the callback has run, and returns
;; 100 * status + event: 200 (RETURNED, EVENT_NONE). Before the fix the
;; callback got TASK_CANCELLED (6): 206.
;;
;; expect patched: pass
;; expect upstream-45: fail "206"
;; expect upstream-48: fail "206"
(component
  (component $B
    (core module $M
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return))
      (global $event (mut i32) (i32.const 255 (; none yet ;)))
      ;; callback: yield (not cancellably), return, then YIELD
      (func (export "w") (result i32)
        (drop (call $yield))
        (call $task-return)
        (i32.const 1 (; YIELD ;)))
      ;; record the event of the turn after the YIELD, and exit
      (func (export "w-cb") (param $event i32) (param i32 i32) (result i32)
        (global.set $event (local.get $event))
        (i32.const 0 (; EXIT ;)))
      ;; sync: the event `w-cb` got, 255 until it ran
      (func (export "event") (result i32) (global.get $event)))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))))))
    (func (export "w") async
      (canon lift (core func $m "w") async (callback (func $m "w-cb"))))
    (func (export "event") (result u32) (canon lift (core func $m "event"))))

  (component $A
    (import "w" (func $w async))
    (import "event" (func $event (result u32)))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "w" (func $w (result i32)))
      (import "" "event" (func $event (result i32)))
      (import "" "subtask.cancel" (func $cancel-async (param i32) (result i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return (param i32)))

      ;; stackful
      (func (export "run")
        (local $s i32) (local $h i32) (local $ws i32) (local $status i32) (local $n i32)
        ;; `w` yields at once: STARTED (1)
        (local.set $s (call $w))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (local.set $h (i32.shr_u (local.get $s) (i32.const 4)))

        ;; `w` cannot take the cancellation now: BLOCKED
        (if (i32.ne (call $cancel-async (local.get $h)) (i32.const -1 (; BLOCKED ;)))
          (then unreachable))

        ;; wait for `w`'s terminal event
        (local.set $ws (call $ws-new))
        (call $join (local.get $h) (local.get $ws))
        (loop $wait
          (br_if $wait (i32.ne (call $ws-wait (local.get $ws) (i32.const 0))
                               (i32.const 1 (; SUBTASK ;))))
          (local.set $status (i32.load (i32.const 4)))
          (br_if $wait (i32.lt_u (local.get $status) (i32.const 2 (; RETURNED ;)))))
        (call $join (local.get $h) (i32.const 0))
        (call $subtask-drop (local.get $h))

        ;; let `w`'s callback take its turn (giving up after 100 yields)
        (loop $turn
          (drop (call $yield))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (if (i32.gt_u (local.get $n) (i32.const 100)) (then unreachable))
          (br_if $turn (i32.eq (call $event) (i32.const 255))))

        (call $task-return
          (i32.add (i32.mul (local.get $status) (i32.const 100)) (call $event)))))
    (core func $w (canon lower (func $w) async))
    (core func $event (canon lower (func $event)))
    (core func $cancel-async (canon subtask.cancel async))
    (core func $subtask-drop (canon subtask.drop))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "w" (func $w))
        (export "event" (func $event))
        (export "subtask.cancel" (func $cancel-async))
        (export "subtask.drop" (func $subtask-drop))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (result u32) (canon lift (core func $m "run") async)))

  (instance $b (instantiate $B))
  (instance $a (instantiate $A
    (with "w" (func $b "w"))
    (with "event" (func $b "event"))))
  (export "run" (func $a "run")))

;; RETURNED (2), then EVENT_NONE (0) for the callback
(assert_return (invoke "run") (u32.const 200))
