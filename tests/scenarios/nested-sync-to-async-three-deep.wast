;; Sync lowers into async lifts, nested three deep: a (stackful) calls b
;; (callback) with a sync lower, b calls c (stackful) with a sync lower. c
;; returns at once and keeps running; b and a return and exit on top of it.
(component
  (actor c
    (export run stackful (result 3) (body return (block 1) (note 3))))
  (actor b
    (export run callback (result 2) (body (call c.run sync) (note 2) return exit)))
  (actor a
    (export run stackful (result 1) (body (call b.run sync) (note 1) return))))

(call c1 a.run)
(drive)
(expect (result c1 1) (notes 2 1) (count 1) (pending))
(release 1)
(drive)
(expect (notes 2 1 3) (count 0) (ready) (wakes 1))
