;; A subtask handle belongs to the instance: a task or thread other than
;; the one that made the call may cancel and drop it (series patch 20).
;;
;; The spec: CanonicalABI.md, "`canon subtask.cancel`" and "`canon
;; subtask.drop`": the subtask is looked up in `thread.task.inst.handles`,
;; and only its own state is checked (`resolve_delivered`,
;; `cancellation_requested`), with `may_block()` of the calling task for a
;; blocking cancel. A callee waiting cancellably is resumed at once by
;; `Task.request_cancellation`, acknowledges with `task.cancel`, and the
;; cancel returns CANCELLED_BEFORE_RETURNED (4, noted as 104) without
;; BLOCKED, for the async form too.
;;
;; `a.st` (stackful) and `a.stc` (callback) start a callee that waits to be
;; cancelled, keep the subtask in `a`'s slot, return and wait on a gate, so
;; that they are alive (and counted) and their table slots are not reused.
;; Other tasks of `a` take the subtask from the slot, cancel it (blocking
;; from a stackful task, async from a callback) and drop it (from a sync
;; task: `subtask-cancel-async-from-sync-task`). In `t`,
;; a thread cancels the host subtask (`block`) its task's implicit thread
;; started; Wasmtime's host aborts the call, which resolves as cancelled
;; (4).
;;
;; 44.0.3 asserted that the canceller was the thread that made the call
;; (`debug_assert_eq!(expected_caller, ...)` in `subtask_cancel` and
;; `subtask_drop`): a panic in debug builds.
(component
  (actor t
    (export h stackful (result 7)
      (body (start-block 9) (spawn 0) (block 3) return)
      (thread cancel-kept)))
  (actor b
    (export wc callback (result 2) (body wait-cancel))
    (export ws stackful (result 3) (body wait-cancel)))
  (actor a
    (export st stackful (result 1) (body (start b.wc) return (block 1)))
    (export stc callback (result 4) (body (start b.ws) return (block 2) exit))
    (export fin stackful (result 5) (body cancel-kept return))
    (export fina callback (result 6) (body cancel-kept-async return exit))))

(call c1 a.st)
(drive)
(expect (result c1 1) (count 2) (notes))
(call c2 a.fin)
(drive)
(expect (result c2 5) (count 1) (notes 104))

(call c3 a.stc)
(drive)
(expect (result c3 4) (count 3) (notes 104))
(call c4 a.fina)
(drive)
(expect (result c4 6) (count 2) (notes 104 104))

(release 1)
(release 2)
(poll main)
(drive)
(expect (count 0) (ready) (wakes 1))

(call c7 t.h)
(drive)
(expect (result c7 pending) (count 1) (pending) (notes 104 104 104))
(release 3)
(drive)
(expect (result c7 7) (count 0) (ready) (wakes 2))
