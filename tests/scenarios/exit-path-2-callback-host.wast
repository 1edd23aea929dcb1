;; Exit path 2, host caller: a callback-lifted export calls `task.return`,
;; keeps working (a yield, then a wait on a host import the script
;; controls), and only then returns EXIT. It counts until EXIT, not until it
;; returned its result.
(component
  (actor a
    (export run callback (result 7)
      (body return yield (block 1) (note 1) exit))))

(expect (count 0) (ready) (notes))
(call c1 a.run)
(drive)
(expect (result c1 7) (count 1) (pending) (wakes 0) (notes))
(release 1)
(drive)
(expect (count 0) (wakes 1) (ready) (notes 1))
