;; Upstream 44.0.3 behaviour, found by the generator (seed 1768) and pinned
;; here (the series leaves it alone): a callback returns YIELD, which leaves
;; an `Event::None` on its task for the callback to receive next. An explicit
;; thread of the same task then waits (on the host gate); the wait takes the
;; task's event, and when the callback's turn comes there is no event to
;; deliver: Wasmtime's internal check `delivering non-present event` fires
;; (a panic in debug builds, an error in release builds).
(component
  (actor a
    (export f0 callback (result 1)
      (body (spawn 0) yield exit)
      (thread (block 2) return (note 1)))))

(call c1 a.f0)
(drive-panic non-present)
