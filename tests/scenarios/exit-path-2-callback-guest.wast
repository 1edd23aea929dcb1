;; Exit path 2, guest caller: a callback-lifted callee returns to its caller
;; at once and keeps running (yield, then a wait on the host) before EXIT.
;; The caller is done long before; the callee alone keeps the store busy.
(component
  (actor b
    (export run callback (result 2)
      (body return yield yield (block 1) (note 2) exit)))
  (actor a
    (export run stackful (result 1)
      (body (call b.run async) (note 1) return))))

(call c1 a.run)
(drive)
(expect (result c1 1) (notes 1) (count 1) (pending) (wakes 0))
(release 1)
(drive)
(expect (notes 1 2) (count 0) (ready) (wakes 1))
