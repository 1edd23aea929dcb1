;; A task that returns and exits while it still holds a resolved subtask it
;; never dropped: the exit is allowed, a later task of the instance drops
;; the subtask, and dropping the waitable set the subtask is still joined
;; to traps with a message that names the rule.
;;
;; The spec: CanonicalABI.md. `canon task.return` (`Task.return_`) checks
;; only the task's own state and the borrows it was lent; the exit
;; (`Task.exit`, the last thread unregistering) traps only if the task
;; never resolved; Concurrency.md, "Subtasks and Supertasks": a supertask
;; need not wait for its subtasks. `canon subtask.drop` needs only the
;; resolution delivered, from whichever task of the instance holds the
;; handle, and takes the subtask out of its set. `canon waitable-set.drop`
;; traps on a set that still has members (`trap_if(len(self.elems) > 0)`).
;;
;; What happens: `hold` starts A's `f`, waits on a set for its RETURNED
;; event and exits with the subtask still joined to the set. `later`, a
;; new task, drops the subtask, then the (now empty) set. `hold-drop-set`
;; drops the set with the subtask still in it: a trap.
;;
;; 44.0.3, 45.0.3 and 48.0.8 remove the set's handle, then fail to delete
;; the set from the store's table, which has a child: "resource has
;; children", an error of the host's table rather than a rule of the
;; component model. Series patch 28 checks first and names the rule.
;;
;; expect patched: pass
;; expect upstream-45: fail "resource has children"
;; expect upstream-48: fail "resource has children"
(component
  (component $A
    (core module $M
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return))
      ;; stackful: let the caller see STARTED, then return
      (func (export "f")
        (drop (call $yield))
        (call $task-return)))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))))))
    (func (export "f") async (canon lift (core func $m "f") async)))

  (component $B
    (import "f" (func $f async))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "f" (func $f (result i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "waitable-set.drop" (func $ws-drop (param i32)))
      (import "" "subtask.drop" (func $subtask-drop (param i32)))
      (import "" "task.return" (func $task-return))
      (global $subtask (mut i32) (i32.const 0))
      (global $set (mut i32) (i32.const 0))
      ;; start `f`, wait for its RETURNED event (resolution delivered), keep
      ;; the handle, joined to $set
      (func $call-f (local $s i32)
        (local.set $s (call $f))
        (if (i32.ne (i32.and (local.get $s) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (global.set $subtask (i32.shr_u (local.get $s) (i32.const 4)))
        (global.set $set (call $ws-new))
        (call $join (global.get $subtask) (global.get $set))
        (loop $wait
          (br_if $wait (i32.ne (call $ws-wait (global.get $set) (i32.const 0))
                               (i32.const 1 (; SUBTASK ;))))
          (br_if $wait (i32.ne (i32.load (i32.const 4)) (i32.const 2 (; RETURNED ;))))))
      ;; stackful: return and exit still holding the resolved subtask
      (func (export "hold")
        (call $call-f)
        (call $task-return))
      ;; stackful, a later task: drop it, which takes it out of the set,
      ;; then drop the set, now empty
      (func (export "later")
        (call $subtask-drop (global.get $subtask))
        (call $ws-drop (global.get $set))
        (call $task-return))
      ;; stackful: drop the set while the undropped subtask is still in it
      (func (export "hold-drop-set")
        (call $call-f)
        (call $ws-drop (global.get $set))
        (call $task-return)))
    (core func $f (canon lower (func $f) async))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $ws-drop (canon waitable-set.drop))
    (core func $subtask-drop (canon subtask.drop))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "f" (func $f))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "waitable-set.drop" (func $ws-drop))
        (export "subtask.drop" (func $subtask-drop))
        (export "task.return" (func $task-return))))))
    (func (export "hold") async (canon lift (core func $m "hold") async))
    (func (export "later") async (canon lift (core func $m "later") async))
    (func (export "hold-drop-set") async (canon lift (core func $m "hold-drop-set") async)))

  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "f" (func $a "f"))))
  (export "hold" (func $b "hold"))
  (export "later" (func $b "later"))
  (export "hold-drop-set" (func $b "hold-drop-set")))

(assert_return (invoke "hold"))
(assert_return (invoke "later"))
(assert_trap (invoke "hold-drop-set") "cannot drop a waitable set that waitables are still joined to")
