;; A `post-return` function that calls a built-in (`thread.yield`) should
;; trap; it does not, on any backend (no panic either).
;;
;; The spec: CanonicalABI.md, `canon_lift` (post-return runs with
;; `may_leave` cleared) and `canon thread.yield` (`trap_if(not
;; thread.task.inst.may_leave)`). The built-in's own `may_leave` check looks
;; at $B's flag, which the adapter left set; the yield runs on `run`'s
;; (async, may-block) task. Not fixed by the series: the flag
;; is cleared (or not) by the fused adapter, which wasmtime-environ
;; generates, outside the files the series changes.
;;
;; expect patched: fail "expected trap, got Component([U32(5)])"
;; expect upstream-45: fail "expected trap, got Component([U32(5)])"
;; expect upstream-48: fail "expected trap, got Component([U32(5)])"
(component
  (component $B
    (core module $M
      (import "" "thread.yield" (func $yield (result i32)))
      (func (export "f") (result i32) (i32.const 5))
      ;; post-return: calls a built-in, which the spec forbids
      (func (export "pr") (param i32) (drop (call $yield))))
    (core func $yield (canon thread.yield))
    (core instance $m (instantiate $M
      (with "" (instance (export "thread.yield" (func $yield))))))
    (func (export "f") (result u32)
      (canon lift (core func $m "f") (post-return (func $m "pr")))))

  (component $C
    (import "f" (func $f (result u32)))
    (core module $M
      (import "" "f" (func $f (result i32)))
      (import "" "task.return" (func $task-return (param i32)))
      ;; stackful: may block
      (func (export "run") (call $task-return (call $f))))
    (core func $f (canon lower (func $f)))
    (core func $task-return (canon task.return (result u32)))
    (core instance $m (instantiate $M
      (with "" (instance
        (export "f" (func $f))
        (export "task.return" (func $task-return))))))
    (func (export "run") async (result u32) (canon lift (core func $m "run") async)))

  (instance $b (instantiate $B))
  (instance $c (instantiate $C (with "f" (func $b "f"))))
  (export "run" (func $c "run")))

(assert_trap (invoke "run") "cannot leave component instance")
