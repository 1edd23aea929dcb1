;; A subtask may return after the task that called it has exited and been
;; deleted; its `task.return` must still succeed.
;;
;; Releases: passes on the patched 44.0.3 (series patch 21). Fails on 44.0.3
;; and the series up to patch 20 with "resource is of another type" (the
;; caller's task slot was taken by a waitable set). 45.0.3 and 48.0.8 switch
;; to the exited thread the same way (48 marks the spot with a FIXME, see
;; component-model#678); predicted from reading 45.0.3 and 48.0.0, not run,
;; they fail with a table error ("resource not present", or "resource is of
;; another type").
;;
;; The spec: Concurrency.md, "Subtasks and Supertasks": a supertask may
;; finish while its subtasks keep running. CanonicalABI.md, "`canon lower`":
;; the callee's result reaches the caller through `on_resolve`, which lowers
;; it into the caller's instance; nothing there needs the calling thread to
;; exist. `Task.return_` traps only on the callee's own state.
;;
;; What happens: `outer` calls $B's stackful `run`, which starts $A's
;; callback `f` (it yields once before it returns), returns and exits.
;; `outer` waits for `run` to return, drops it (which deletes `run`'s task)
;; and creates a waitable set, which takes the table slot `run`'s task had.
;; It then yields until `f` has taken its turn: `f` calls `task.return`,
;; whose result goes to the exited `run`. 44.0.3 switched to `run`'s thread
;; to lower it and failed on the table entry; with the fix the result is
;; lowered without it, `f` exits, and `outer` returns 42.
;;
;; expect patched: pass
;; expect upstream-45: fail "resource"
;; expect upstream-48: fail "resource"
(component
  (component $A
    (core module $M
      (import "" "task.return" (func $task-return))
      (global $done (mut i32) (i32.const 0))
      ;; callback: yield once, then return and exit
      (func (export "f") (result i32) (i32.const 1 (; YIELD ;)))
      (func (export "f-cb") (param $event i32) (param i32 i32) (result i32)
        (if (i32.ne (local.get $event) (i32.const 0 (; NONE ;)))
          (then unreachable))
        (call $task-return)
        (global.set $done (i32.const 1))
        (i32.const 0 (; EXIT ;)))
      ;; sync: whether `f` has returned
      (func (export "done") (result i32) (global.get $done)))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "" (instance (export "task.return" (func $task-return))))))
    (func (export "f") async
      (canon lift (core func $m "f") async (callback (func $m "f-cb"))))
    (func (export "done") (result u32) (canon lift (core func $m "done"))))

  (component $B
    (import "f" (func $f async))
    (core module $M
      (import "" "f" (func $f (result i32)))
      (import "" "task.return" (func $task-return))
      ;; stackful: start `f` and exit without waiting for it
      (func (export "run")
        (if (i32.ne (i32.and (call $f) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (call $task-return)))
    (core func $f (canon lower (func $f) async))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "f" (func $f))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (canon lift (core func $m "run") async)))

  (component $C
    (import "run" (func $run async))
    (import "done" (func $done (result u32)))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "run" (func $run (result i32)))
      (import "" "done" (func $done (result i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return (param i32)))

      ;; stackful
      (func (export "outer") (local $s i32) (local $h i32) (local $ws i32) (local $n i32)
        (local.set $s (call $run))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 2 (; RETURNED ;)))
          (then
            ;; wait for `run` to return, then drop it: its task goes away
            (local.set $h (i32.shr_u (local.get $s) (i32.const 4)))
            (local.set $ws (call $ws-new))
            (call $join (local.get $h) (local.get $ws))
            (loop $wait
              (br_if $wait (i32.ne (call $ws-wait (local.get $ws) (i32.const 0))
                                   (i32.const 1 (; SUBTASK ;))))
              (br_if $wait (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))))
            (call $join (local.get $h) (i32.const 0))
            (call $subtask-drop (local.get $h))))
        ;; a new table entry, in the slot `run`'s task had
        (drop (call $ws-new))
        ;; let `f` take its turn and return (giving up after 100 yields)
        (loop $turn
          (drop (call $yield))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (if (i32.gt_u (local.get $n) (i32.const 100)) (then unreachable))
          (br_if $turn (i32.eqz (call $done))))
        (call $task-return (i32.const 42))))
    (core func $run (canon lower (func $run) async))
    (core func $done (canon lower (func $done)))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $subtask-drop (canon subtask.drop))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "run" (func $run))
        (export "done" (func $done))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "subtask.drop" (func $subtask-drop))
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))))))
    (func (export "outer") async (result u32) (canon lift (core func $m "outer") async)))

  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "f" (func $a "f"))))
  (instance $c (instantiate $C
    (with "run" (func $b "run"))
    (with "done" (func $a "done"))))
  (export "outer" (func $c "outer")))

(assert_return (invoke "outer") (u32.const 42))
