;; Exit path 4: a running callee waits for nothing until its caller cancels
;; it; it acknowledges with `task.cancel` and exits (status 4,
;; RETURN_CANCELLED, noted as 104). Callback-lifted and stackful callees.
(component
  (actor b
    (export cb callback (result 2)
      (body wait-cancel))
    (export sf stackful (result 3)
      (body wait-cancel)))
  (actor a
    (export run stackful (result 1)
      (body (call-cancel b.cb) (call-cancel b.sf) return (block 1)))))

(call c1 a.run)
(drive)
(expect (result c1 1) (notes 104 104) (count 1) (pending))
(release 1)
(drive)
(expect (count 0) (ready) (wakes 1))
