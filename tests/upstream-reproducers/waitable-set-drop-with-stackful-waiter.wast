;; Dropping a waitable set that a stackful task is blocked on traps, and the
;; blocked task's fiber is disposed of with the store.
;;
;; Releases: passes on the patched 44.0.3 (series patch 19) and on 45.0.3 and
;; 48.0.8, which check for waiters before deleting the set (upstream
;; 5247390a29, #12971, in 45.0.0). 44.0.3 and the series up to patch 18
;; abort the process: a `fail` expectation cannot catch that, so there is no
;; line for them. The upstream lines are predictions from reading 45.0.3 and
;; 48.0.0, not runs.
;;
;; The spec: CanonicalABI.md, "`canon waitable-set.drop`": `WaitableSet.drop`
;; does `trap_if(self.num_waiting > 0)`; the section says it "will trap if it
;; is non-empty or there is a concurrent `waitable-set.wait` or `async
;; callback` currently using this waitable set".
;;
;; What happens: `run` starts $A's stackful `wait`, which keeps a fresh,
;; empty set in a global and blocks in `waitable-set.wait` on it (STARTED).
;; `run` then calls $A's sync `drop`, which drops that set: the call traps
;; with "cannot drop waitable set with waiters". Before the fix, 44.0.3
;; deleted the set first and then trapped, dropping `wait`'s un-disposed
;; fiber with the set: the `assert!` in `StoreFiber`'s `Drop` failed ("attempted
;; to drop in-progress fiber without first calling `StoreFiber::dispose`")
;; and the unwinding aborted the test process.
;;
;; expect patched: pass
;; expect upstream-45: pass
;; expect upstream-48: pass
(component
  (component $A
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "waitable-set.drop" (func $ws-drop (param i32)))
      (import "" "task.return" (func $task-return))
      (global $set (mut i32) (i32.const 0))

      ;; stackful: block on a set nothing will ever be added to
      (func (export "wait")
        (global.set $set (call $ws-new))
        (drop (call $ws-wait (global.get $set) (i32.const 0)))
        (call $task-return))

      ;; sync: drop the set `wait` is blocked on
      (func (export "drop")
        (call $ws-drop (global.get $set))))
    (core func $ws-new (canon waitable-set.new))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $ws-drop (canon waitable-set.drop))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "waitable-set.new" (func $ws-new))
        (export "waitable-set.wait" (func $ws-wait))
        (export "waitable-set.drop" (func $ws-drop))
        (export "task.return" (func $task-return))))))
    (func (export "wait") async (canon lift (core func $m "wait") async))
    (func (export "drop") (canon lift (core func $m "drop"))))

  (component $C
    (import "wait" (func $wait async))
    (import "drop" (func $drop))
    (core module $M
      (import "" "wait" (func $wait (result i32)))
      (import "" "drop" (func $drop))
      (import "" "task.return" (func $task-return))

      ;; stackful
      (func (export "run")
        ;; `wait` blocks at once: STARTED (1)
        (if (i32.ne (i32.and (call $wait) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (call $drop)
        (call $task-return)))
    (core func $wait (canon lower (func $wait) async))
    (core func $drop (canon lower (func $drop)))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "wait" (func $wait))
        (export "drop" (func $drop))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (canon lift (core func $m "run") async)))

  (instance $a (instantiate $A))
  (instance $c (instantiate $C
    (with "wait" (func $a "wait"))
    (with "drop" (func $a "drop"))))
  (export "run" (func $c "run")))

(assert_trap (invoke "run") "cannot drop waitable set with waiters")
