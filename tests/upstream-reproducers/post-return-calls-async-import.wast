;; A `post-return` function that calls an async-lowered guest import traps.
;;
;; Releases: passes on the patched 44.0.3 (series patch 29). Without that
;; patch the series, 45.0.3 and 48.0.8 all fail the `debug_assert_eq!` in
;; the guest `prepare_call` ("assertion `left == right` failed").
;;
;; The spec: as in post-return-calls-sync-import.wast.
;;
;; What happens: as there, but `f`'s post-return calls the async-typed,
;; stackful `g` through an async lower, which reaches `prepare_call` from
;; $B while the current task is $C's.
;;
;; expect patched: pass
;; expect upstream-45: fail "assertion `left == right` failed"
;; expect upstream-48: fail "assertion `left == right` failed"
(component
  (component $G
    (core module $M
      (import "" "task.return" (func $task-return))
      (func (export "g") (call $task-return)))
    (core func $task-return (canon task.return))
    (core instance $m (instantiate $M
      (with "" (instance (export "task.return" (func $task-return))))))
    (func (export "g") async (canon lift (core func $m "g") async)))

  (component $B
    (import "g" (func $g async))
    (core module $M
      (import "" "g" (func $g (result i32)))
      (func (export "f") (result i32) (i32.const 5))
      ;; post-return: calls an import, which the spec forbids
      (func (export "pr") (param i32) (drop (call $g))))
    (core func $g (canon lower (func $g) async))
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
