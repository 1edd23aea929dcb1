;; A subtask may return after the task that called it exited, and after a
;; new thread took the table slot the calling thread had; the result must
;; not be lowered as that new thread.
;;
;; Releases: passes on the patched 44.0.3 (series patches 21 and 31: a
;; thread's serial tells it apart from a later thread in the same slot);
;; mutant 47, which drops that check, fails it. 45.0.3 fails the call
;; (the harness shows no more than that the directive failed). 48.0.8
;; passes; this file does not show whether its table gives `g`'s thread
;; the same slot.
;;
;; The spec: CanonicalABI.md, "`canon lower`": the callee's result reaches
;; the caller through `on_resolve`, in the caller's instance; the thread
;; that made the call has no part in it, and no other thread's context is
;; visible to the caller's `realloc`. Concurrency.md, "Context-Local
;; Storage": each thread has its own slots.
;;
;; What happens: `outer` calls $B's stackful `run`, which starts $A's
;; callback `f` (it yields once, then returns a string), returns and exits.
;; `outer` drops `run` (which deletes its task), then calls $B's stackful
;; `g`, whose task, scratch set and implicit thread take the three slots
;; `run` left, in that order. `g` sets its context slot 0 to 77 and yields
;; until `f` has returned. `f`'s string goes to `run`'s return area through
;; $B's `realloc`, which records `context.get 0`. It must see 0, the slot
;; of no thread; `g`'s 77 means the result was lowered as `g`.
;;
;; expect patched: pass
;; expect upstream-45: fail "failed directive"
;; expect upstream-48: pass
(component
  (component $A
    (core module $Libc
      (memory (export "mem") 1)
      (data (i32.const 16) "hi"))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "" "task.return" (func $task-return (param i32 i32)))
      (global $done (mut i32) (i32.const 0))
      ;; callback: yield once, then return "hi" and exit
      (func (export "f") (result i32) (i32.const 1 (; YIELD ;)))
      (func (export "f-cb") (param $event i32) (param i32 i32) (result i32)
        (if (i32.ne (local.get $event) (i32.const 0 (; NONE ;)))
          (then unreachable))
        (call $task-return (i32.const 16) (i32.const 2))
        (global.set $done (i32.const 1))
        (i32.const 0 (; EXIT ;)))
      ;; sync: whether `f` has returned
      (func (export "done") (result i32) (global.get $done)))
    (core func $task-return (canon task.return (result string)
      (memory $libc "mem")))
    (core instance $m (instantiate $M
      (with "" (instance (export "task.return" (func $task-return))))))
    (func (export "f") async (result string)
      (canon lift (core func $m "f") async (memory $libc "mem")
        (callback (func $m "f-cb"))))
    (func (export "done") (result u32) (canon lift (core func $m "done"))))

  (component $B
    (import "f" (func $f async (result string)))
    (import "done" (func $done (result u32)))
    (core func $context-get (canon context.get i32 0))
    (core module $Libc
      (import "" "context.get" (func $context-get (result i32)))
      (memory (export "mem") 1)
      (global $seen (mut i32) (i32.const -1))
      ;; records the context slot 0 of the thread it runs as
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.set $seen (call $context-get))
        (i32.const 256))
      (func (export "seen") (result i32) (global.get $seen)))
    (core instance $libc (instantiate $Libc
      (with "" (instance (export "context.get" (func $context-get))))))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "libc" "seen" (func $seen (result i32)))
      (import "" "f" (func $f (param i32) (result i32)))
      (import "" "done" (func $done (result i32)))
      (import "" "context.set" (func $context-set (param i32)))
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return))
      ;; stackful: start `f` and exit without waiting for it
      (func (export "run")
        (if (i32.ne (i32.and (call $f (i32.const 8)) (i32.const 0xf))
                    (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (call $task-return))
      ;; stackful: set context slot 0, yield until `f` has returned
      (func (export "g") (local $n i32)
        (call $context-set (i32.const 77))
        (loop $turn
          (drop (call $yield))
          (local.set $n (i32.add (local.get $n) (i32.const 1)))
          (if (i32.gt_u (local.get $n) (i32.const 100)) (then unreachable))
          (br_if $turn (i32.eqz (call $done))))
        (call $task-return))
      ;; sync: what `realloc` saw
      (func (export "seen") (result i32) (call $seen)))
    (core func $f (canon lower (func $f) async (memory $libc "mem")
      (realloc (func $libc "realloc"))))
    (core func $done (canon lower (func $done)))
    (core func $context-set (canon context.set i32 0))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "f" (func $f))
        (export "done" (func $done))
        (export "context.set" (func $context-set))
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (canon lift (core func $m "run") async))
    (func (export "g") async (canon lift (core func $m "g") async))
    (func (export "seen") (result s32) (canon lift (core func $m "seen"))))

  (component $C
    (import "run" (func $run async))
    (import "g" (func $g async))
    (import "seen" (func $seen (result s32)))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "run" (func $run (result i32)))
      (import "" "g" (func $g (result i32)))
      (import "" "seen" (func $seen (result i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "task.return" (func $task-return (param i32)))

      ;; waits for the subtask `status` names to return, then drops it
      (func $finish (param $status i32) (param $ws i32) (local $h i32)
        (if (i32.eq (i32.and (local.get $status) (i32.const 0xf))
                    (i32.const 2 (; RETURNED ;)))
          (then return))
        (local.set $h (i32.shr_u (local.get $status) (i32.const 4)))
        (call $join (local.get $h) (local.get $ws))
        (loop $wait
          (br_if $wait (i32.ne (call $ws-wait (local.get $ws) (i32.const 0))
                               (i32.const 1 (; SUBTASK ;))))
          (br_if $wait (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;)))))
        (call $join (local.get $h) (i32.const 0))
        (call $subtask-drop (local.get $h)))

      ;; stackful
      (func (export "outer") (local $ws i32)
        (local.set $ws (call $ws-new))
        ;; `run` goes away with its task and thread
        (call $finish (call $run) (local.get $ws))
        ;; `g` takes their slots, and waits for `f` to return
        (call $finish (call $g) (local.get $ws))
        (if (i32.ne (call $seen) (i32.const 0))
          (then unreachable))
        (call $task-return (i32.const 42))))
    (core func $run (canon lower (func $run) async))
    (core func $g (canon lower (func $g) async))
    (core func $seen (canon lower (func $seen)))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $subtask-drop (canon subtask.drop))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "run" (func $run))
        (export "g" (func $g))
        (export "seen" (func $seen))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "subtask.drop" (func $subtask-drop))
        (export "task.return" (func $task-return))))))
    (func (export "outer") async (result u32) (canon lift (core func $m "outer") async)))

  (instance $a (instantiate $A))
  (instance $b (instantiate $B
    (with "f" (func $a "f"))
    (with "done" (func $a "done"))))
  (instance $c (instantiate $C
    (with "run" (func $b "run"))
    (with "g" (func $b "g"))
    (with "seen" (func $b "seen"))))
  (export "outer" (func $c "outer")))

(assert_return (invoke "outer") (u32.const 42))
