;; Exit path 1, host caller: a sync-lifted export returns. Called with
;; `call_concurrent` and with `call_async`; either way the task is gone
;; once the call returned.
(component
  (actor a
    (export run sync (result 3)
      (body (note 1)))))

(call c1 a.run)
(drive)
(expect (result c1 3) (count 0) (ready) (notes 1))
(call-async c2 a.run)
(expect (result c2 3) (count 0) (ready) (notes 1 1))
