;; A thread blocked in `waitable-set.wait` whose event another task of the
;; instance takes with `waitable-set.poll` before the thread runs again
;; goes on waiting.
;;
;; Releases: passes on the patched 44.0.3 (series patch 24). 44.0.3 and the
;; series up to patch 23 fail with "BUG: event expected to be present" (a
;; panic in a build with debug assertions, a trap with that message in a
;; release build). 45.0.3 and 48.0.8 have the same check (predicted from
;; reading 45.0.3 and 48.0.0, not run).
;;
;; The spec: CanonicalABI.md, "`canon waitable-set.wait`": `WaitableSet.
;; wait_for_event` waits with `thread.wait_until(ready_and_has_event,
;; cancellable)`, and the store only resumes a waiting thread whose
;; `ready()` holds at that moment, so the wait never returns without an
;; event. "`canon waitable-set.poll`" takes a pending event whether or not a
;; thread waits on the set (only `waitable-set.drop` looks at waiters).
;;
;; What happens: `run` starts $B's stackful `waiter`, which creates a
;; future, starts an async read of it (BLOCKED), puts the readable end in a
;; fresh set, returns and waits on the set. `run` then calls $B's sync
;; `poke`: it writes the future, which completes the read and wakes
;; `waiter`, and polls the set itself, taking the FUTURE_READ (4) event
;; before `waiter` runs; it returns the event code. `run` yields, so that
;; `waiter` is resumed, and returns 4. With the fix `waiter` finds nothing
;; and waits again (for good); before it, the wait failed.
;;
;; expect patched: pass
;; expect upstream-45: fail "event expected to be present"
;; expect upstream-48: fail "event expected to be present"
(component
  (component $B
    (type $f (future))
    (core module $Libc (memory (export "mem") 1))
    (core instance $libc (instantiate $Libc))
    (core module $M
      (import "libc" "mem" (memory 1))
      (import "" "future.new" (func $future-new (result i64)))
      (import "" "future.read" (func $future-read (param i32 i32) (result i32)))
      (import "" "future.write" (func $future-write (param i32 i32) (result i32)))
      (import "" "waitable-set.new" (func $ws-new (result i32)))
      (import "" "waitable.join" (func $join (param i32 i32)))
      (import "" "waitable-set.wait" (func $ws-wait (param i32 i32) (result i32)))
      (import "" "waitable-set.poll" (func $ws-poll (param i32 i32) (result i32)))
      (import "" "task.return" (func $task-return))
      (global $write (mut i32) (i32.const 0))
      (global $set (mut i32) (i32.const 0))

      ;; stackful: read a future of its own, and wait for the read in a set
      (func (export "waiter") (local $new i64) (local $read i32)
        (local.set $new (call $future-new))
        (local.set $read (i32.wrap_i64 (local.get $new)))
        (global.set $write (i32.wrap_i64 (i64.shr_u (local.get $new) (i64.const 32))))
        (if (i32.ne (call $future-read (local.get $read) (i32.const 0))
                    (i32.const -1 (; BLOCKED ;)))
          (then unreachable))
        (global.set $set (call $ws-new))
        (call $join (local.get $read) (global.get $set))
        (call $task-return)
        (drop (call $ws-wait (global.get $set) (i32.const 16))))

      ;; sync: complete the read, then take its event from the set
      (func (export "poke") (result i32)
        (drop (call $future-write (global.get $write) (i32.const 0)))
        (call $ws-poll (global.get $set) (i32.const 32))))
    (core func $future-new (canon future.new $f))
    (core func $future-read (canon future.read $f async (memory $libc "mem")))
    (core func $future-write (canon future.write $f async (memory $libc "mem")))
    (core func $ws-new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $ws-wait (canon waitable-set.wait (memory $libc "mem")))
    (core func $ws-poll (canon waitable-set.poll (memory $libc "mem")))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "libc" (instance $libc))
      (with "" (instance
        (export "future.new" (func $future-new))
        (export "future.read" (func $future-read))
        (export "future.write" (func $future-write))
        (export "waitable-set.new" (func $ws-new))
        (export "waitable.join" (func $join))
        (export "waitable-set.wait" (func $ws-wait))
        (export "waitable-set.poll" (func $ws-poll))
        (export "task.return" (func $task-return))))))
    (func (export "waiter") async (canon lift (core func $m "waiter") async))
    (func (export "poke") (result u32) (canon lift (core func $m "poke"))))

  (component $C
    (import "waiter" (func $waiter async))
    (import "poke" (func $poke (result u32)))
    (core module $M
      (import "" "waiter" (func $waiter (result i32)))
      (import "" "poke" (func $poke (result i32)))
      (import "" "thread.yield" (func $yield (result i32)))
      (import "" "task.return" (func $task-return (param i32)))

      ;; stackful
      (func (export "run") (local $event i32)
        ;; `waiter` waits: STARTED (1), or RETURNED (2) since it returns
        ;; before it waits
        (if (i32.lt_u (i32.and (call $waiter) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
          (then unreachable))
        (local.set $event (call $poke))
        ;; let `waiter` run
        (drop (call $yield))
        (drop (call $yield))
        (call $task-return (local.get $event))))
    (core func $waiter (canon lower (func $waiter) async))
    (core func $poke (canon lower (func $poke)))
    (core func $yield (canon thread.yield))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "waiter" (func $waiter))
        (export "poke" (func $poke))
        (export "thread.yield" (func $yield))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (result u32) (canon lift (core func $m "run") async)))

  (instance $b (instantiate $B))
  (instance $c (instantiate $C
    (with "waiter" (func $b "waiter"))
    (with "poke" (func $b "poke"))))
  (export "run" (func $c "run")))

;; FUTURE_READ (4), taken by `poke`
(assert_return (invoke "run") (u32.const 4))
