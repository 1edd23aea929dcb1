;; Exit path 5: the implicit thread exits without returning while an
;; explicit thread it spawned later calls `task.return` for the task and then
;; exits. Callback-lifted (EXIT code) and stackful implicit threads.
;;
;; Host callers: the thread keeps running after `task.return` (it waits on
;; the host again), so the task counts until that thread exits.
;; Guest caller: the thread exits right after `task.return`. (In 44.0.3 a
;; guest caller that drops such a subtask while the thread is still alive
;; hits an assertion in `GuestTask::dispose`; that is upstream behaviour this
;; series leaves alone.)
(component
  (actor b
    (export cb callback (result 4)
      (body (spawn 0) exit)
      (thread (block 1) return (block 2) (note 4)))
    (export sf stackful (result 5)
      (body (spawn 0))
      (thread (block 1) return (block 2) (note 5)))
    (export gcb callback (result 6)
      (body (spawn 0) exit)
      (thread (block 3) return (note 6)))
    (export gsf stackful (result 7)
      (body (spawn 0))
      (thread (block 3) return (note 7))))
  (actor a
    (export run stackful (result 1)
      (body (call b.gcb async) (call b.gsf async) return))))

(call h1 b.cb)
(call h2 b.sf)
(drive)
(expect (result h1 pending) (result h2 pending) (count 2) (pending))
(release 1)
(drive)
(expect (result h1 4) (result h2 5) (count 2) (wakes 0))
(release 2)
(drive)
(expect (notes 4 5) (count 0) (ready) (wakes 1))

(call g a.run)
(drive)
(expect (result g pending) (count 2) (pending))
(release 3)
(drive)
(expect (result g 1) (notes 4 5 6 7) (count 0) (ready) (wakes 2))
