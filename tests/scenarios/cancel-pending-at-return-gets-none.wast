;; A cancellation still pending when the callee calls `task.return` is void
;; (series patch 22): the callee's callback, after `return yield`, gets
;; EVENT_NONE on its next turn (note 7), and the caller's async cancel,
;; which returned BLOCKED (note 99), sees RETURNED (note 102).
;;
;; The spec: CanonicalABI.md, "Task State": `Task.request_cancellation`
;; sets PENDING_CANCEL when no thread of `b.w` is cancellable (here it
;; waits in a sync call to `c.blk`); `Task.return_` replaces it with
;; RESOLVED, and `Task.deliver_pending_cancel` only delivers in
;; PENDING_CANCEL, so the callback loop's YIELD yields `(EventCode.NONE, 0,
;; 0)`.
;;
;; Before the fix the callback got TASK_CANCELLED after its YIELD and
;; acknowledged it with `task.cancel`, which trapped:
;; `(drive-trap TaskCancelOrReturnTwice)` after notes 99 102.
(component
  (actor c
    (export blk stackful (result 3) (body (block 1) return exit)))
  (actor b
    (export w callback (result 2)
      (body (call c.blk sync) return yield (note 7) exit)))
  (actor a
    (export run stackful (result 1)
      (body (call-cancel-async b.w) return exit))))

(call c1 a.run)
(drive)
(expect (result c1 pending) (notes 99) (count 3) (pending))
(release 1)
(drive)
(expect (result c1 1) (notes 99 102 7) (count 0) (ready) (wakes 1))

;; Upstream keeps the stale cancellation too: `task_complete` leaves
;; `GuestTask::event` alone in 45.0.3 and 48.0.8.
(fails-on upstream-45 "called more than once"
  "a cancellation pending at task.return is delivered to the next YIELD")
(fails-on upstream-48 "called more than once"
  "a cancellation pending at task.return is delivered to the next YIELD")
