;; Many tasks alive at once: the store is idle only after the last exits.
;; Fifty tasks wait on gate 1, one more on gate 2.
(component
  (actor a
    (export run callback (result 1) (body return (block 1) exit))
    (export last stackful (result 2) (body return (block 2)))))

(repeat 50 (call c a.run))
(call l a.last)
(drive)
(expect (count 51) (pending) (wakes 0))
(release 1)
(drive)
(expect (count 1) (pending) (wakes 0))
(release 2)
(drive)
(expect (count 0) (ready) (wakes 1))
