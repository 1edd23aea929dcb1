;; Upstream 44.0.3 behaviour, found by the generator and pinned here (the
;; series leaves it alone): `thread.new-indirect` in a nested component
;; instance looks its start function up in the table of the first nested
;; instance that has one. Here `a`'s table has one entry and `d` spawns the
;; thread at index 1 of its own table, which traps as out of bounds. (With
;; threads only in the first actor, as in the other scenarios, it works.)
;; The task that trapped stays counted.
;;
;; Upstream 45.0.3 and 48.0.8 look the start function up in the spawning
;; instance's own table: the thread runs (noting 9), the call returns 7 and
;; the store goes idle.
(component
  (actor a
    (export f1 callback (result 2)
      (body (spawn 0) exit)
      (thread return)))
  (actor d
    (export f1 callback (result 6)
      (body (spawn 0) return exit)
      (thread (note 8)))
    (export f2 stackful (result 7)
      (body (spawn 0) return)
      (thread (note 9)))))

(call c1 d.f2)
(diverge "45 and later use the table of the instance that spawns the thread"
  (upstream-45 (drive) (expect (count 0) (ready) (notes 9) (result c1 7)))
  (upstream-48 (drive) (expect (count 0) (ready) (notes 9) (result c1 7)))
  (default (drive-trap TableOutOfBounds) (expect (count 1) (notes) (result c1 pending))))
