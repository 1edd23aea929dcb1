;; trap_after_response: a `wasi:http/service` guest that traps after it
;; has answered.
;;
;; `handle` hands a 200 response with an empty body to the host with
;; `task.return`, the callback sends the trailers (so the response is
;; complete on the wire), yields once, and then executes `unreachable`.
;; The task never exits: a host waiting for the store to have no task in
;; flight would wait forever, so it has to notice the trap instead.
;;
;; The structure (task records, callback codes, events) is the one of
;; `post_response.wat`, which explains it; the stdout part is left out.
(module
  ;; --- wasi:http/types ---------------------------------------------------
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[resource-drop]request"
    (func $request-drop (param i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[constructor]fields"
    (func $fields-new (result i32)))
  ;; response.new(headers, contents: option<stream<u8>>, trailers: future<..>)
  ;;   -> tuple<response, future<result<_, error-code>>>
  ;; Flattened: headers, option tag, stream handle, trailers future, and a
  ;; pointer where the two results are stored.
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[static]response.new"
    (func $response-new (param i32 i32 i32 i32 i32)))
  ;; Futures and streams of `response.new` are numbered in the order they
  ;; appear in its type: 0 the body stream, 1 the trailers future, 2 the
  ;; result future it returns.
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[future-new-1][static]response.new"
    (func $trailers-new (result i64)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[async-lower][future-write-1][static]response.new"
    (func $trailers-write (param i32 i32) (result i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[future-drop-writable-1][static]response.new"
    (func $trailers-drop-writable (param i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[future-drop-readable-2][static]response.new"
    (func $response-result-drop (param i32)))

  ;; --- the export's own task ---------------------------------------------
  ;; task.return(result<response, error-code>), flattened: the tag, then the
  ;; joined payload slots of `ok(response)` and `err(error-code)`.
  (import "[export]wasi:http/handler@0.3.0-rc-2026-03-15" "[task-return]handle"
    (func $task-return (param i32 i32 i32 i64 i32 i32 i32 i32)))

  ;; --- canonical built-ins -------------------------------------------------
  (import "$root" "[waitable-set-new]" (func $waitable-set-new (result i32)))
  (import "$root" "[waitable-set-drop]" (func $waitable-set-drop (param i32)))
  (import "$root" "[waitable-join]" (func $waitable-join (param i32 i32)))
  (import "$root" "[context-get-0]" (func $context-get (result i32)))
  (import "$root" "[context-set-0]" (func $context-set (param i32)))

  (memory (export "memory") 1)

  ;; Fixed memory:
  ;;   0..64   `ok(none)` for the trailers future (all zeroes: tag ok, none)
  ;;   1024..  task records, 64 bytes each

  ;; How many times the task yields after responding before it traps.
  (global $yields i32 (i32.const 1))

  ;; A task record:
  ;;   +0  state (below)          +4  waitable set
  ;;   +8  trailers writer        +12 yields left
  ;;   +40 next free record (while on the free list)
  ;;   +44 response/result pair from `response.new` (8 bytes)
  ;; States:
  (global $SENDING-TRAILERS i32 (i32.const 1))
  (global $YIELDING i32 (i32.const 2))

  (global $next-record (mut i32) (i32.const 1024))
  (global $free-records (mut i32) (i32.const 0))

  ;; Take a zeroed task record and point context slot 0 at it.
  (func $task-alloc
    (local $t i32)
    (if (global.get $free-records)
      (then
        (local.set $t (global.get $free-records))
        (global.set $free-records (i32.load offset=40 (local.get $t))))
      (else
        (local.set $t (global.get $next-record))
        (global.set $next-record (i32.add (local.get $t) (i32.const 64)))
        (if (i32.gt_u (global.get $next-record)
                      (i32.shl (memory.size) (i32.const 16)))
          (then (drop (memory.grow (i32.const 1)))))))
    (memory.fill (local.get $t) (i32.const 0) (i32.const 64))
    (call $context-set (local.get $t)))

  ;; Callback code WAIT on this task's waitable set.
  (func $wait (result i32)
    (i32.or (i32.const 2)
            (i32.shl (i32.load offset=4 (call $context-get)) (i32.const 4))))

  ;; handle(request) -> result<response, error-code>
  (func (export "[async-lift]wasi:http/handler@0.3.0-rc-2026-03-15#handle")
        (param $request i32) (result i32)
    (local $t i32)
    (local $pair i64)
    (call $task-alloc)
    (local.set $t (call $context-get))

    ;; This guest ignores the request.
    (call $request-drop (local.get $request))

    ;; The trailers future: the host gets the readable end with the response,
    ;; the task keeps the writable end (future.new returns readable in the low
    ;; 32 bits, writable in the high 32 bits).
    (local.set $pair (call $trailers-new))
    (i32.store offset=8 (local.get $t)
      (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))

    ;; 200 (the default status), no headers, no body.
    (call $response-new
      (call $fields-new)
      (i32.const 0) (i32.const 0)            ;; contents: none
      (i32.wrap_i64 (local.get $pair))       ;; trailers
      (i32.add (local.get $t) (i32.const 44)))
    ;; The future that reports how the host sent the response: not needed.
    (call $response-result-drop (i32.load offset=48 (local.get $t)))

    ;; Hand the response over: ok(response).
    (call $task-return
      (i32.const 0) (i32.load offset=44 (local.get $t))
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))

    ;; The host has its response now. Everything from here on is
    ;; post-response work.
    (i32.store offset=4 (local.get $t) (call $waitable-set-new))
    (i32.store offset=12 (local.get $t) (global.get $yields))
    (call $send-trailers))

  ;; Write `ok(none)` to the trailers future, which ends the response body.
  (func $send-trailers (result i32)
    (local $t i32)
    (local.set $t (call $context-get))
    (if (i32.eq (call $trailers-write (i32.load offset=8 (local.get $t)) (i32.const 0))
                (i32.const -1))
      (then
        (call $waitable-join (i32.load offset=8 (local.get $t)) (i32.load offset=4 (local.get $t)))
        (i32.store (local.get $t) (global.get $SENDING-TRAILERS))
        (return (call $wait))))
    (call $trailers-sent))

  (func $trailers-sent (result i32)
    (local $t i32)
    (local.set $t (call $context-get))
    (call $trailers-drop-writable (i32.load offset=8 (local.get $t)))
    (i32.store (local.get $t) (global.get $YIELDING))
    (i32.const 1)) ;; YIELD

  ;; The host calls this whenever the task may go on: after a YIELD with
  ;; event NONE, after a WAIT with the event that ended it.
  (func (export "[callback][async-lift]wasi:http/handler@0.3.0-rc-2026-03-15#handle")
        (param $event i32) (param $waitable i32) (param $payload i32) (result i32)
    (local $t i32)
    (local $state i32)
    (local.set $t (call $context-get))
    (local.set $state (i32.load (local.get $t)))

    ;; The trailers were taken (event FUTURE_WRITE).
    (if (i32.eq (local.get $state) (global.get $SENDING-TRAILERS))
      (then
        (call $waitable-join (local.get $waitable) (i32.const 0))
        (return (call $trailers-sent))))

    ;; Back from a YIELD: "work" a little more, then fail.
    (if (i32.eq (local.get $state) (global.get $YIELDING))
      (then
        (i32.store offset=12 (local.get $t) (i32.sub (i32.load offset=12 (local.get $t)) (i32.const 1)))
        (if (i32.gt_s (i32.load offset=12 (local.get $t)) (i32.const 0))
          (then (return (i32.const 1)))) ;; YIELD
        ;; The post-response work fails: this task never exits.
        unreachable))

    unreachable)
)
