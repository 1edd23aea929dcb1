;; Exit path 3, guest caller: the callee instance has backpressure on, so a
;; new call to it stays STARTING; the caller cancels it with `subtask.cancel`
;; (status 3, START_CANCELLED, noted as 103). The cancelled task is counted
;; down; only the task holding the backpressure remains.
(component
  (actor b
    (export hold callback (result 5)
      (body backpressure-inc return (block 1) backpressure-dec exit))
    (export run callback (result 6)
      (body return exit)))
  (actor a
    (export run stackful (result 1)
      (body (call b.hold async) (call-cancel b.run) return))))

(call c1 a.run)
(drive)
(expect (result c1 1) (notes 103) (count 1) (pending))
(release 1)
(drive)
(expect (count 0) (ready) (wakes 1))
