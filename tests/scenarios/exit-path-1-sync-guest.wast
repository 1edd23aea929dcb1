;; Exit path 1, guest caller: a stackful export calls a sync-lifted export
;; through a sync lower (the fused-adapter path that enters and exits a sync
;; guest call), then waits on the host. Only the caller is left.
(component
  (actor b
    (export run sync (result 2)
      (body (note 2))))
  (actor a
    (export run stackful (result 1)
      (body (call b.run sync) (call b.run sync) return (block 1) (note 1)))))

(call c1 a.run)
(drive)
(expect (result c1 1) (notes 2 2) (count 1) (pending))
(release 1)
(drive)
(expect (count 0) (ready) (wakes 1) (notes 2 2 1))
