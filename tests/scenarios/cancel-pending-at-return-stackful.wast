;; A cancellation that reaches a stackful callee in a non-cancellable
;; `thread.yield` stays pending; the callee then calls `task.return`, which
;; voids it (series patch 22): the cancellable `thread.yield` after the
;; return does not see it (the callee notes 5 and exits), and the caller's
;; cancel sees RETURNED (102; the async cancel first returned BLOCKED, 99).
;; `cancel-pending-at-return-gets-none` is the callback form.
;;
;; The spec: CanonicalABI.md, "Task State": `Task.request_cancellation`
;; sets PENDING_CANCEL when no thread of the callee is cancellable;
;; `Task.return_` replaces it with RESOLVED, and
;; `Task.deliver_pending_cancel` only delivers in PENDING_CANCEL.
;;
;; Before the fix the cancellable `thread.yield` after `task.return` saw
;; the stale cancellation (note 301) and the callee's `task.cancel`
;; trapped: a task cannot be cancelled after it returned.
(component
  (actor b
    (export r stackful (result 2) (body yield return yield-cancellable (note 5) exit)))
  (actor a
    (export run stackful (result 1) (body (call-cancel b.r) return))
    (export runa callback (result 3) (body (call-cancel-async b.r) return exit))))

(call c1 a.run)
(drive)
(expect (result c1 1) (count 0) (ready) (notes 102 5))
(call c2 a.runa)
(drive)
(expect (result c2 3) (count 0) (ready) (notes 102 5 99 102 5) (wakes 0))

;; Upstream keeps the stale cancellation: the cancellable `thread.yield`
;; after `task.return` reports it, and the callee's `task.cancel` traps.
(fails-on upstream-45 "called more than once"
  "a cancellation pending at task.return is delivered to the next cancellable yield")
(fails-on upstream-48 "called more than once"
  "a cancellation pending at task.return is delivered to the next cancellable yield")
