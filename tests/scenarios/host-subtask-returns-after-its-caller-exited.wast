;; A task may make an async call to a host import and return and exit before
;; the host call finishes (Concurrency.md, "Subtasks and Supertasks": a
;; supertask may finish while its subtasks run on). The result is still
;; delivered into the caller's instance (CanonicalABI.md, "`canon lower`":
;; `on_resolve` lowers it with the caller's options), and any task of that
;; instance may then see the subtask RETURNED and drop it.
;;
;; 44.0.3 (and the series before patch 30) switched to the thread that made
;; the call before lowering the result, after that thread was deleted: the
;; store failed with "resource not present" or "resource is of another type",
;; and a thread that had taken the freed table slots would have been run as
;; the caller's.
;;
;; Stackful, callback and sync callers, each leaving a host subtask behind;
;; a live task holding the table slots that the first caller freed; then
;; another task of the instance takes the last subtask, sees it RETURNED
;; (note 100 + 2) and drops it.
(component
  (actor a
    (export f stackful (result 1) (body (start-block 1) return exit))
    (export g callback (result 2) (body (start-block 2) return exit))
    (export s sync (result 3) (body (start-block 3) exit))
    (export w stackful (result 4) (body return (block 4) exit))
    (export k callback (result 5) (body cancel-kept return exit))))

(call c1 a.f)
(call c2 a.g)
(call c3 a.s)
(drive)
(expect (result c1 1) (result c2 2) (result c3 3) (count 0) (ready))
(call c4 a.w)
(drive)
(expect (result c4 4) (count 1) (pending))
(release 1)
(drive)
(expect (count 1) (pending))
(release 2)
(drive)
(expect (count 1) (pending))
(release 3)
(drive)
(expect (count 1) (pending) (notes))
(call c5 a.k)
(drive)
(expect (result c5 5) (notes 102) (count 1) (pending))
(release 4)
(drive)
(expect (count 0) (ready) (wakes 1))

;; Upstream 45.0.3 still switches to the exited caller's thread before it
;; lowers the result, as 44.0.3 did; 48.0.8 passes.
(fails-on upstream-45 "resource not present"
  "a host call's late result is lowered after switching to the caller's exited thread")
