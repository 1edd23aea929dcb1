;; A task that traps after returning its result. The trap surfaces from the
;; event loop; Wasmtime neither panics nor trips a debug assertion; the
;; trapped task never exits, so it stays counted and the store stays busy.
;; The store then refuses new calls, and a refused call leaves no task
;; behind to count.
(component
  (actor a
    (export run callback (result 1) (body return (block 1) trap))))

(call c1 a.run)
(drive)
(expect (result c1 1) (count 1) (pending))
(release 1)
(drive-trap UnreachableCodeReached)
(expect (count 1) (wakes 0))
(expect (pending))
(call c2 a.run)
(drive)
(expect (result c2 error) (count 1) (pending) (wakes 0))
