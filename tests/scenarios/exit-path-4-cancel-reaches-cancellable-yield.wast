;; Exit path 4 through a cancellable `thread.yield`. A callee suspended in a
;; `thread.yield` that may be cancelled is resumed by its caller's
;; `subtask.cancel` at once, with the cancellation, as one suspended in a
;; cancellable `waitable-set.wait` is (CanonicalABI.md: `subtask.cancel`
;; resumes a thread of the subtask that waits cancellably). The callee sees
;; the yield return "cancelled" (noted 301), acknowledges with `task.cancel`
;; and exits, all before the async `subtask.cancel` returns, which therefore
;; returns RETURN_CANCELLED (noted 104) rather than BLOCKED.
;;
;; 44.0.3 resumed only cancellable waits: the cancel returned BLOCKED (noted
;; 99), and the callee saw the cancellation when its turn came.
;;
;; A cancellation that arrives while the callee is in a non-cancellable
;; built-in (here a plain `thread.yield`) stays pending: the cancel returns
;; BLOCKED, and the callee's next cancellable yield, poll (noted 302) or
;; wait receives it. The task counts until it has exited.
(component
  (actor b
    (export sf stackful (result 2)
      (body yield-cancellable (note 9) return exit))
    (export cb callback (result 3)
      (body yield-cancellable (note 9) return exit))
    (export late stackful (result 4)
      (body yield yield-cancellable (note 9) return exit))
    (export poll stackful (result 5)
      (body yield poll-cancellable (note 9) return exit))
    (export wait stackful (result 6)
      (body yield wait-cancel)))
  (actor a
    (export run stackful (result 1)
      (body (call-cancel-async b.sf) (call-cancel-async b.cb) return (block 1)))
    (export pending callback (result 7)
      (body (call-cancel-async b.late) (call-cancel-async b.poll) (call-cancel-async b.wait) return (block 2)))))

(call c1 a.run)
(drive)
;; Upstream 45.0.3 still resumes only cancellable waits, as 44.0.3 did;
;; 48.0.8 resumes a cancellable `thread.yield` too.
(diverge "45 does not resume a callee in a cancellable thread.yield"
  (upstream-45 (expect (result c1 1) (notes 99 301 104 99 301 104) (count 1) (pending)))
  (default (expect (result c1 1) (notes 301 104 301 104) (count 1) (pending))))
(release 1)
(drive)
(expect (count 0) (ready) (wakes 1))

(call c2 a.pending)
(drive)
(diverge "45 does not resume a callee in a cancellable thread.yield"
  (upstream-45
    (expect (result c2 7) (notes 99 301 104 99 301 104 99 301 104 99 302 104 99 104) (count 1) (pending)))
  (default
    (expect (result c2 7) (notes 301 104 301 104 99 301 104 99 302 104 99 104) (count 1) (pending))))
(release 2)
(drive)
(expect (count 0) (ready) (wakes 2))
