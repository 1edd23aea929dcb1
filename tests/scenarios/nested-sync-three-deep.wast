;; Sync-to-sync guest calls nested three deep (a -> b -> c, all sync lifted,
;; sync lowered), called from the host, and from a stackful task that then
;; waits so that the count can be observed with only that task left.
(component
  (actor c
    (export run sync (result 3) (body (note 3))))
  (actor b
    (export run sync (result 2) (body (call c.run sync) (note 2))))
  (actor a
    (export run sync (result 1) (body (call b.run sync) (note 1))))
  (actor top
    (export run stackful (result 4)
      (body (call a.run sync) (call a.run sync) return (block 1)))))

(call c1 a.run)
(drive)
(expect (result c1 1) (notes 3 2 1) (count 0) (ready))
(call c2 top.run)
(drive)
(expect (result c2 4) (notes 3 2 1 3 2 1 3 2 1) (count 1) (pending))
(release 1)
(drive)
(expect (count 0) (ready) (wakes 1))
