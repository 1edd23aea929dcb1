;; A sync-lifted task, which may not block, cancels with the async
;; `subtask.cancel` (series patch 26): a callee waiting cancellably
;; (callback WAIT, stackful cancellable wait) takes the cancellation in its
;; own turn and the cancel returns CANCELLED_BEFORE_RETURNED (4, noted as
;; 104); a stackful callee in a non-cancellable `thread.yield` leaves the
;; cancel BLOCKED (noted as 99). The sync task is not suspended either way,
;; and in the second case it exits holding the subtask, which is allowed:
;; the callee goes on, returns (the pending cancellation is then void) and
;; exits, and counts until it does. `a.fins` cancels a subtask that another
;; task of its instance (`a.st`, still alive) started and kept in `a`'s
;; slot.
;;
;; The spec: CanonicalABI.md, "`canon subtask.cancel`": `trap_if(not
;; thread.task.may_block() and not async_)`, so the async form is allowed;
;; `Task.request_cancellation` resumes a cancellable thread of the callee
;; at once, and returns BLOCKED if the callee did not resolve; "Task
;; State": `Task.return_` replaces PENDING_CANCEL with RESOLVED. Nothing in
;; a task's exit looks at the subtasks in the instance's table.
;;
;; 44.0.3 suspended the sync caller in the async cancel, and tripped the
;; `debug_assert!` in `StoreOpaque::suspend` that a task that may not block
;; does not suspend (a panic in debug builds).
(component
  (actor b
    (export wc callback (result 2) (body wait-cancel))
    (export ws stackful (result 3) (body wait-cancel))
    (export r stackful (result 4) (body yield return yield-cancellable (note 5) exit)))
  (actor a
    (export s sync (result 1)
      (body (start b.wc) cancel-kept-async (start b.ws) cancel-kept-async))
    (export h sync (result 6) (body (start b.r) cancel-kept-async))
    (export st stackful (result 7) (body (start b.wc) return (block 1)))
    (export fins sync (result 8) (body cancel-kept-async))))

(call c1 a.s)
(drive)
(expect (result c1 1) (count 0) (ready) (notes 104 104))
(call c2 a.h)
(drive)
(expect (result c2 6) (count 0) (ready) (notes 104 104 99 5) (wakes 0))
(call c3 a.st)
(drive)
(expect (result c3 7) (count 2) (pending) (notes 104 104 99 5))
(call c4 a.fins)
(drive)
(expect (result c4 8) (count 1) (pending) (notes 104 104 99 5 104))
(release 1)
(drive)
(expect (count 0) (ready) (wakes 1))

;; 45.0.3 suspends the sync caller as 44.0.3 did, and trips the same
;; assertion.
(fails-on upstream-45 "SuspendReason::ExplicitlySuspending"
  "45 suspends a task that may not block in an async subtask.cancel")
;; 48.0.8 does not suspend the caller, but `b.r` returns after `a.h`, the
;; task that called it, exited: 48 switches to that exited thread to
;; deliver the result and fails on its table entry (series patch 21).
(fails-on upstream-48 "resource not present"
  "a subtask's result is lowered on the thread of its caller, which exited")
