;; The waker: woken exactly once, at the transition to zero and not before;
;; only the waker of the most recent poll is woken; a new task after idle
;; needs a new poll, which arms the waker again.
(component
  (actor a
    (export one callback (result 1) (body return (block 1) exit))
    (export two callback (result 2) (body return (block 2) exit))
    (export three stackful (result 3) (body return (block 3)))))

(expect (ready) (wakes 0))
(call c1 a.one)
(call c2 a.two)
(drive)
(poll old)
(expect (count 2) (pending) (wakes 0) (wakes old 0))
(release 1)
(drive)
;; One task left: nobody is woken.
(expect (count 1) (wakes 0) (wakes old 0))
(release 2)
(drive)
;; Zero: only the most recent waker (probe `main`, polled after `old`).
(expect (count 0) (wakes 1) (wakes old 0) (ready))
;; Busy again: the old wake does not count twice, a new poll re-arms.
(call c3 a.three)
(drive)
(expect (count 1) (wakes 1) (pending))
(release 3)
(drive)
(expect (count 0) (wakes 2) (ready) (wakes old 0))
