;; A `post-return` function that calls a (sync-lowered) guest import traps.
;;
;; Releases: passes on the patched 44.0.3 (series patch 29). Without that
;; patch the series and 45.0.3 fail the `debug_assert_eq!` in
;; `enter_guest_sync_call` ("assertion `left == right` failed": a panic in a
;; build with debug assertions; without them the call runs as a subtask of
;; the caller's task). 48.0.8 returns 5 without a trap.
;;
;; The spec: CanonicalABI.md, `canon_lift`: `post-return` runs with
;; `inst.may_leave = False`; `canon_lower`: `trap_if(not
;; thread.task.inst.may_leave)`.
;;
;; What happens: the host calls $C's sync `run`, which sync-calls $B's sync
;; `f`; `f`'s post-return calls $G's `g`. The fused adapter (wasmtime-environ
;; 44.0.3, `compile_sync_to_sync_adapter`) switches back to `run`'s task with
;; `exit_sync_call` before it calls the post-return and leaves $B's
;; `may_leave` set, so the call to `g` reaches `enter_guest_sync_call` from
;; $B while the current task is $C's. The fix traps there with
;; `Trap::CannotLeaveComponent`.
;;
;; expect patched: pass
;; expect upstream-45: fail "assertion `left == right` failed"
;; expect upstream-48: fail "expected trap, got"
(component
  (component $G
    (core module $M (func (export "g")))
    (core instance $m (instantiate $M))
    (func (export "g") (canon lift (core func $m "g"))))

  (component $B
    (import "g" (func $g))
    (core module $M
      (import "" "g" (func $g))
      (func (export "f") (result i32) (i32.const 5))
      ;; post-return: calls an import, which the spec forbids
      (func (export "pr") (param i32) (call $g)))
    (core func $g (canon lower (func $g)))
    (core instance $m (instantiate $M
      (with "" (instance (export "g" (func $g))))))
    (func (export "f") (result u32)
      (canon lift (core func $m "f") (post-return (func $m "pr")))))

  (component $C
    (import "f" (func $f (result u32)))
    (core module $M
      (import "" "f" (func $f (result i32)))
      (func (export "run") (result i32) (call $f)))
    (core func $f (canon lower (func $f)))
    (core instance $m (instantiate $M
      (with "" (instance (export "f" (func $f))))))
    (func (export "run") (result u32) (canon lift (core func $m "run"))))

  (instance $g (instantiate $G))
  (instance $b (instantiate $B (with "g" (func $g "g"))))
  (instance $c (instantiate $C (with "f" (func $b "f"))))
  (export "run" (func $c "run")))

(assert_trap (invoke "run") "cannot leave component instance")
