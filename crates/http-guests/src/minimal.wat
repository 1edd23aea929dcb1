;; minimal: the smallest useful `wasi:http/service` guest, for benchmarks.
;;
;; `handle` answers 200 with no headers and no body, returns the response
;; with `task.return`, and then writes `ok(none)` to the trailers future,
;; which ends the response. The task exits as soon as the host has taken
;; the trailers: there is no post-response work beyond that.
;;
;; Names and conventions are those of `streaming.wat` and `post_response.wat`.
(module
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[resource-drop]request"
    (func $request-drop (param i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[constructor]fields"
    (func $fields-new (result i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[static]response.new"
    (func $response-new (param i32 i32 i32 i32 i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[future-new-1][static]response.new"
    (func $trailers-new (result i64)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[async-lower][future-write-1][static]response.new"
    (func $trailers-write (param i32 i32) (result i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[future-drop-writable-1][static]response.new"
    (func $trailers-drop-writable (param i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[future-drop-readable-2][static]response.new"
    (func $response-result-drop (param i32)))
  (import "[export]wasi:http/handler@0.3.0-rc-2026-03-15" "[task-return]handle"
    (func $task-return (param i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "$root" "[waitable-set-new]" (func $waitable-set-new (result i32)))
  (import "$root" "[waitable-set-drop]" (func $waitable-set-drop (param i32)))
  (import "$root" "[waitable-join]" (func $waitable-join (param i32 i32)))
  (import "$root" "[context-get-0]" (func $context-get (result i32)))
  (import "$root" "[context-set-0]" (func $context-set (param i32)))

  (memory (export "memory") 1)

  ;; Fixed memory:
  ;;   0..64   `ok(none)` for the trailers future (all zeroes)
  ;;   1024..  task records, 16 bytes each:
  ;;           +0 trailers writer  +4 waitable set (0 until needed)
  ;;           +8 response/result pair from `response.new`
  ;;           +4 also links free records
  (global $next-record (mut i32) (i32.const 1024))
  (global $free-records (mut i32) (i32.const 0))

  (func $task-alloc
    (local $t i32)
    (if (global.get $free-records)
      (then
        (local.set $t (global.get $free-records))
        (global.set $free-records (i32.load offset=4 (local.get $t))))
      (else
        (local.set $t (global.get $next-record))
        (global.set $next-record (i32.add (local.get $t) (i32.const 16)))
        (if (i32.gt_u (global.get $next-record)
                      (i32.shl (memory.size) (i32.const 16)))
          (then (drop (memory.grow (i32.const 1)))))))
    (memory.fill (local.get $t) (i32.const 0) (i32.const 16))
    (call $context-set (local.get $t)))

  ;; Drop what the task still holds, free its record, and EXIT.
  (func $finish (result i32)
    (local $t i32)
    (local.set $t (call $context-get))
    (call $trailers-drop-writable (i32.load (local.get $t)))
    (if (i32.load offset=4 (local.get $t))
      (then (call $waitable-set-drop (i32.load offset=4 (local.get $t)))))
    (i32.store offset=4 (local.get $t) (global.get $free-records))
    (global.set $free-records (local.get $t))
    (call $context-set (i32.const 0))
    (i32.const 0)) ;; EXIT

  (func (export "[async-lift]wasi:http/handler@0.3.0-rc-2026-03-15#handle")
        (param $request i32) (result i32)
    (local $t i32)
    (local $trailers i64)
    (local $set i32)
    (call $task-alloc)
    (local.set $t (call $context-get))
    (call $request-drop (local.get $request))
    (local.set $trailers (call $trailers-new))
    (i32.store (local.get $t)
      (i32.wrap_i64 (i64.shr_u (local.get $trailers) (i64.const 32))))
    ;; 200, no headers, contents: none.
    (call $response-new
      (call $fields-new)
      (i32.const 0) (i32.const 0)
      (i32.wrap_i64 (local.get $trailers))
      (i32.add (local.get $t) (i32.const 8)))
    (call $response-result-drop (i32.load offset=12 (local.get $t)))
    (call $task-return
      (i32.const 0) (i32.load offset=8 (local.get $t))
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    ;; The trailers end the response. The host takes them when it reads the
    ;; body, which is usually later: then wait for the write to finish.
    (if (i32.ne (call $trailers-write (i32.load (local.get $t)) (i32.const 0))
                (i32.const -1))
      (then (return (call $finish))))
    (local.set $set (call $waitable-set-new))
    (i32.store offset=4 (local.get $t) (local.get $set))
    (call $waitable-join (i32.load (local.get $t)) (local.get $set))
    (i32.or (i32.const 2) (i32.shl (local.get $set) (i32.const 4)))) ;; WAIT

  ;; The only event this task waits for: the trailers were taken.
  (func (export "[callback][async-lift]wasi:http/handler@0.3.0-rc-2026-03-15#handle")
        (param $event i32) (param $waitable i32) (param $payload i32) (result i32)
    (call $waitable-join (local.get $waitable) (i32.const 0))
    (call $finish))
)
