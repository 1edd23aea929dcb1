;; The host drops a call future after the call started: the task keeps
;; running and keeps counting until it exits. With `call_async` (the future
;; is dropped while the guest waits on the host, before it returned) and
;; with `call_concurrent`.
(component
  (actor a
    (export run stackful (result 1) (body (block 1) (note 1) return))
    (export run2 callback (result 2) (body (block 2) (note 2) return exit))))

(call-async c1 a.run)
(expect (result c1 dropped) (count 1) (pending))
(call c2 a.run2)
(drive)
(drop c2)
(drive)
(expect (result c2 dropped) (count 2) (pending))
(release 1)
(drive)
(expect (notes 1) (count 1) (wakes 0))
(release 2)
(drive)
(expect (notes 1 2) (count 0) (wakes 1) (ready))
