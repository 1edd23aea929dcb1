;; Upstream 44.0.3 behaviour, found by the generator and pinned here (the
;; series leaves it alone): a sync-lowered call of a sync-lifted export goes
;; straight through the fused adapter and enters the callee's instance even
;; while it has backpressure on, whereas a host call, or an async-lowered
;; guest call, waits to start. Either way each task is counted from creation
;; to exit. Upstream 45.0.3 and 48.0.8 behave the same (48 gives the sync
;; export an async type here, since another caller lowers it async).
(component
  (actor b
    (export hold callback (result 4)
      (body backpressure-inc return (block 1) backpressure-dec exit))
    (export s sync (result 7) (body (note 7))))
  (actor d
    (export viasync stackful (result 13) (body (call b.s sync) return))
    (export viaasync stackful (result 14) (body (call b.s async) return))))

(call h b.hold)
(drive)
(expect (result h 4) (count 1))
(call c1 d.viasync)
(drive)
(expect (result c1 13) (notes 7) (count 1))
(call c2 d.viaasync)
(call c3 b.s)
(drive)
(expect (result c2 pending) (result c3 pending) (notes 7) (count 4) (pending))
(release 1)
(drive)
(expect (result c2 14) (result c3 7) (notes 7 7 7) (count 0) (ready) (wakes 1))
