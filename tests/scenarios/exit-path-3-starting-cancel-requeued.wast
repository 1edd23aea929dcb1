;; Exit path 3, STARTING wherever the start waits. A call is STARTING for as
;; long as its parameters were not lowered. Its start first waits among the
;; callee instance's pending calls; it moves to the store's work queue once
;; the instance may be entered again, and is still STARTING there until the
;; event loop runs it. `subtask.cancel` must cancel it in either place
;; (CanonicalABI.md, `canon_subtask_cancel`: a subtask that has not started
;; is resolved as CANCELLED_BEFORE_STARTED).
;;
;; Route 1: until b.f0's async callee has started, b counts as entered, so
;; c.f1's call of b.wait waits among b's pending calls; when b.f0's callback
;; returns, the start moves to the work queue, and c.f1 cancels it there.
;; 44.0.3 looked only among the pending calls and trapped with
;; SubtaskCancelAfterTerminal; now the status is START_CANCELLED (noted 103)
;; and the cancelled task is counted down once.
(component
  (actor a
    (export f0 callback (result 1)
      (body yield (block 1) return exit))
    (export f1 callback (result 2)
      (body yield (block 2) return exit)))
  (actor b
    (export wait callback (result 3)
      (body wait-cancel))
    (export swait stackful (result 4)
      (body wait-cancel))
    (export f0 callback (result 4)
      (body return (call a.f0 async) exit))
    (export f1 callback (result 5)
      (body return (call a.f1 async) exit)))
  (actor c
    (export f1 stackful (result 6)
      (body (call-cancel b.wait) return))
    (export f2 callback (result 7)
      (body (call-cancel-async b.swait) return))))

(call c1 b.f0)
(call c2 c.f1)
(drive)
(expect (result c1 4) (result c2 6) (notes 103) (count 2) (pending))
(release 1)
(drive)
(expect (count 0) (ready) (wakes 1))

;; The same with a callback caller, an async `subtask.cancel` and a stackful
;; callee.
(call c3 b.f1)
(call c4 c.f2)
(drive)
(expect (result c3 5) (result c4 7) (notes 103 103) (count 2) (pending))
(release 2)
(drive)
(expect (count 0) (ready) (wakes 2))

;; Upstream 45.0.3 has the 44.0.3 shortcoming: a start already moved to the
;; store's work queue is not cancelled, and the cancel traps. 48.0.8 cancels
;; it as the spec says (and as the series does).
(fails-on upstream-45 "`subtask.cancel` called after terminal status delivered"
  "45 does not cancel a STARTING subtask whose start is in the work queue")
