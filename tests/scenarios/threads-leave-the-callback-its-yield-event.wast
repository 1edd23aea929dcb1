;; A callback that returns YIELD is owed a NONE event on its next turn
;; (CanonicalABI.md, the callback loop: YIELD resumes the callback with
;; EventCode.NONE). Explicit threads of the same task must not take it:
;; their waits, polls and yields are about their own waitable sets and about
;; cancellation. Host and guest callers; the count after every step.
;;
;; 44.0.3 kept that NONE in the task's single event slot, where a thread
;; could take it:
;; - a thread that waited (here on the host gate) took it, and the
;;   callback's turn then hit the internal check `delivering non-present
;;   event` (a panic in debug builds, an error in release builds);
;; - a thread's cancellable `thread.yield` found it, and the
;;   `assert!(matches!(event, Event::Cancelled))` of
;;   `take_pending_cancellation` panicked, in release builds too;
;; - a thread's `waitable-set.poll` was handed it, with the same end as the
;;   wait.
(component
  (actor a
    (export wait callback (result 1)
      (body (spawn 0) yield (note 10) exit)
      (thread (block 2) return (note 1)))
    (export yc callback (result 2)
      (body (spawn 0) yield (note 20) exit)
      (thread yield-cancellable (note 2) return))
    (export poll callback (result 3)
      (body (spawn 0) yield (note 30) exit)
      (thread poll-cancellable (note 3) return)))
  (actor b
    (export run stackful (result 4)
      (body (call a.yc async) (call a.poll async) return))))

(call c1 a.wait)
(drive)
(expect (result c1 pending) (notes 10) (count 1) (pending))
(release 2)
(drive)
(expect (result c1 1) (notes 10 1) (count 0) (ready) (wakes 1))

(call c2 a.yc)
(drive)
(expect (result c2 2) (notes 10 1 20 2) (count 0) (ready) (wakes 1))
(call c3 a.poll)
(drive)
(expect (result c3 3) (notes 10 1 20 2 3 30) (count 0) (ready) (wakes 1))

(call c4 b.run)
(drive)
(expect (result c4 4) (notes 10 1 20 2 3 30 20 2 3 30) (count 0) (ready) (wakes 1))

;; Upstream 45.0.3 and 48.0.8 keep the callback's NONE event in the task's
;; single event slot, as 44.0.3 did: a thread takes it, and the callback's
;; next turn hits the same internal check (a panic in these debug builds).
(fails-on upstream-45 "delivering non-present event"
  "a thread takes the NONE event owed to its task's YIELDed callback")
(fails-on upstream-48 "delivering non-present event"
  "a thread takes the NONE event owed to its task's YIELDed callback")
