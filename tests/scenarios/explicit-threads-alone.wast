;; Explicit threads alone do not keep the store busy: once the task has
;; returned and its implicit thread has exited, the store is idle although
;; the thread it spawned still waits on the host.
(component
  (actor a
    (export run callback (result 1)
      (body (spawn 0) return exit)
      (thread (block 1) (note 1)))))

(call c1 a.run)
(drive)
(expect (result c1 1) (count 0) (ready) (notes))
(release 1)
(drive)
(expect (notes 1) (count 0) (ready))
