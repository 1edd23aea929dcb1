;; A stackful async lift calls `task.return` and keeps running until its
;; core function returns: the caller has its result, the task still counts.
(component
  (actor a
    (export run stackful (result 9)
      (body return yield (block 1) yield (note 9)))))

(call c1 a.run)
(drive)
(expect (result c1 9) (count 1) (pending) (notes))
(release 1)
(drive)
(expect (notes 9) (count 0) (ready) (wakes 1))
