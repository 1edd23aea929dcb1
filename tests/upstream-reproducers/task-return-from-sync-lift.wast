;; A synchronously lifted function that calls `task.return` traps.
;;
;; Releases: passes on the patched 44.0.3 (series patch 25). 44.0.3 and the
;; series up to patch 24 deliver the value and then fail with "BUG:
;; lift_result field is missing" when the core function returns (a panic
;; in a build with debug assertions, a trap with that message in a release
;; build). 45.0.3 and 48.0.8 do the same (predicted from reading 45.0.3 and
;; 48.0.0, not run).
;;
;; The spec: CanonicalABI.md, "`canon task.return`": `trap_if(not
;; task.opts.async_)`, which "prevents `task.return` from being called by
;; synchronously-lifted functions (which return their value by returning
;; from the lifted core function)". "`canon task.cancel`" has the same
;; guard.
;;
;; What happens: the host calls `f`, lifted without `async`, whose core
;; function calls `task.return` with the right type and options, then
;; returns the same value. The call traps in `task.return`, with Wasmtime's
;; trap for a `task.return` whose signature or options do not fit the
;; current task.
;;
;; expect patched: pass
;; expect upstream-45: fail "lift_result field is missing"
;; expect upstream-48: fail "lift_result field is missing"
(component
  (core module $M
    (import "" "task.return" (func $task-return (param i32)))
    (func (export "f") (result i32)
      (call $task-return (i32.const 7))
      (i32.const 7)))
  (core func $task-return (canon task.return (result u32)))
  (core instance $m (instantiate $M
    (with "" (instance (export "task.return" (func $task-return))))))
  (func (export "f") (result u32) (canon lift (core func $m "f"))))

(assert_trap (invoke "f") "invalid `task.return` signature and/or options for current task")
