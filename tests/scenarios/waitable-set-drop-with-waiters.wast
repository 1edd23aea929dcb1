;; `waitable-set.drop` of a set that tasks of the instance wait on traps,
;; and the store behaves as after any other trap (series patch 19); without
;; a waiter the drop is allowed.
;;
;; The spec: CanonicalABI.md, "`canon waitable-set.drop`":
;; `WaitableSet.drop` does `trap_if(len(self.elems) > 0)` and
;; `trap_if(self.num_waiting > 0)`; the set "will trap if it is non-empty or
;; there is a concurrent `waitable-set.wait` or `async callback` currently
;; using this waitable set". Contract: a trapped task never exits, so it
;; keeps counting, and the waiters stay counted too.
;;
;; `a.sw`, a stackful callee of a guest caller, and `a.cw`, a callback, both
;; return and then wait on `a`'s shared set for good (`wait-set`); `a.d`, a
;; sync task of the same instance, drops that set.
;;
;; 44.0.3 deleted the set before it checked for waiters: the stackful
;; waiter's fiber, owned by the set, was dropped un-disposed, the `assert!`
;; in `StoreFiber`'s `Drop` failed and the process aborted (in release builds
;; too).
(component
  (actor a
    (export sw stackful (result 1) (body return wait-set))
    (export cw callback (result 2) (body return wait-set))
    (export d sync (result 3) (body drop-set)))
  (actor b
    (export run stackful (result 4) (body (call a.sw async) return))))

;; No set yet: `drop-set` drops a new one, which nobody waits on.
(call c1 a.d)
(drive)
(expect (result c1 3) (count 0) (ready))

(call c2 b.run)
(drive)
(expect (result c2 4) (count 1) (pending))
(call c3 a.cw)
(drive)
(expect (result c3 2) (count 2) (pending))

(call c4 a.d)
(drive-trap WaitableSetDropHasWaiters)
(expect (count 3) (wakes 0) (pending))
(call c5 a.d)
(drive)
(expect (result c5 error) (count 3) (pending) (wakes 0))
