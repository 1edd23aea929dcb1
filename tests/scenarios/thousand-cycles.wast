;; A thousand start/exit cycles in one store, the count back at zero after
;; each: every lift kind, host-called, and a guest caller over all three.
(component
  (actor b
    (export s sync (result 1) (body))
    (export c callback (result 2) (body return yield exit))
    (export f stackful (result 3) (body return yield)))
  (actor a
    (export run callback (result 4)
      (body (call b.s sync) (call b.c async) (call b.f async) return exit))))

(repeat 250
  (call x b.s) (call y b.c) (call z b.f) (call w a.run)
  (drive)
  (expect (result x 1) (result y 2) (result z 3) (result w 4) (count 0)))
(expect (ready) (wakes 0))
