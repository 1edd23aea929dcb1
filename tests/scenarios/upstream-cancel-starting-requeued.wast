;; Upstream 44.0.3 behaviour, found by the generator and pinned here (the
;; series leaves it alone): b.f0 is a callback that, after returning, makes
;; an async-lowered call; until that callee has started, b's instance counts
;; as entered, so a call into b from c.f1 meanwhile is STARTING and waits
;; among b's pending calls. When b.f0's callback returns, that start moves to
;; the store's work queue, and c.f1's `subtask.cancel` of it, which looks
;; only among the pending calls, traps with SubtaskCancelAfterTerminal.
;; The cancelled task was released through `cleanup_thread` before the trap:
;; only b.f0, a.f0 and c.f1 count.
(component
  (actor a
    (export f0 callback (result 1)
      (body yield (block 1) return exit)))
  (actor b
    (export wait callback (result 3)
      (body wait-cancel))
    (export f0 callback (result 4)
      (body return (call a.f0 async) exit)))
  (actor c
    (export f1 stackful (result 6)
      (body (call-cancel b.wait) return))))

(call c1 b.f0)
(call c2 c.f1)
(drive-trap SubtaskCancelAfterTerminal)
(expect (result c1 4) (result c2 pending) (count 3) (pending))
