;; post_response: a `wasi:http/service` guest that answers first and works
;; afterwards.
;;
;; `handle` builds a 200 response with an empty body, hands it to the host
;; with `task.return`, and returns to the host without exiting. From then on
;; the host drives the task through the callback: it sends the (empty)
;; trailers, yields a few times and then sleeps 100 ms on the monotonic
;; clock to stand for background work (logging, metrics, a flush), and
;; finally writes one line to stdout through `wasi:cli/stdout`, waiting until
;; the host has taken it. Only then does the callback return EXIT and the
;; task end.
;;
;; A host that drops the store as soon as the response is out never sees the
;; line. A host that waits until the store has no task in flight does.
;;
;; The export is lifted asynchronously with a callback
;; (`[async-lift]` + `[callback][async-lift]`), the usual way to write a p3
;; export by hand: the core function runs to a callback code and the host
;; calls the callback whenever the task may continue.
;;
;; Callback codes: 0 EXIT, 1 YIELD, 2 WAIT (the waitable set goes in the
;; upper 28 bits). Events: 0 NONE, 1 SUBTASK, 3 STREAM_WRITE, 4 FUTURE_READ,
;; 5 FUTURE_WRITE; the payload of a copy is (count << 4) | status, with
;; status 0 COMPLETED, 1 DROPPED. BLOCKED (-1) means the copy will finish
;; later, as an event. An async-lowered call returns (subtask << 4) | state,
;; with state 2 RETURNED; otherwise the subtask reports its progress later
;; as SUBTASK events whose payload is the new state.
;;
;; An instance may serve several requests at once, so every request keeps its
;; state in a task record (see `$task-alloc`) that the component-model context
;; slot 0 points to, never in globals.
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

  ;; --- wasi:cli/stdout ---------------------------------------------------
  ;; write-via-stream(data: stream<u8>) -> future<result<_, error-code>>
  (import "wasi:cli/stdout@0.3.0-rc-2026-03-15" "write-via-stream"
    (func $stdout-write-via-stream (param i32) (result i32)))
  (import "wasi:cli/stdout@0.3.0-rc-2026-03-15" "[stream-new-0]write-via-stream"
    (func $stdout-stream-new (result i64)))
  (import "wasi:cli/stdout@0.3.0-rc-2026-03-15" "[async-lower][stream-write-0]write-via-stream"
    (func $stdout-stream-write (param i32 i32 i32) (result i32)))
  (import "wasi:cli/stdout@0.3.0-rc-2026-03-15" "[stream-drop-writable-0]write-via-stream"
    (func $stdout-stream-drop-writable (param i32)))
  (import "wasi:cli/stdout@0.3.0-rc-2026-03-15" "[async-lower][future-read-1]write-via-stream"
    (func $stdout-result-read (param i32 i32) (result i32)))
  (import "wasi:cli/stdout@0.3.0-rc-2026-03-15" "[future-drop-readable-1]write-via-stream"
    (func $stdout-result-drop (param i32)))

  ;; --- wasi:clocks/monotonic-clock ---------------------------------------
  ;; wait-for(how-long: duration) is an `async` function: lowered with
  ;; `[async-lower]` it returns at once, as a subtask.
  (import "wasi:clocks/monotonic-clock@0.3.0-rc-2026-03-15" "[async-lower]wait-for"
    (func $wait-for (param i64) (result i32)))

  ;; --- the export's own task ---------------------------------------------
  ;; task.return(result<response, error-code>), flattened: the tag, then the
  ;; joined payload slots of `ok(response)` and `err(error-code)`.
  (import "[export]wasi:http/handler@0.3.0-rc-2026-03-15" "[task-return]handle"
    (func $task-return (param i32 i32 i32 i64 i32 i32 i32 i32)))

  ;; --- canonical built-ins -------------------------------------------------
  (import "$root" "[waitable-set-new]" (func $waitable-set-new (result i32)))
  (import "$root" "[waitable-set-drop]" (func $waitable-set-drop (param i32)))
  (import "$root" "[waitable-join]" (func $waitable-join (param i32 i32)))
  (import "$root" "[subtask-drop]" (func $subtask-drop (param i32)))
  (import "$root" "[context-get-0]" (func $context-get (result i32)))
  (import "$root" "[context-set-0]" (func $context-set (param i32)))

  (memory (export "memory") 1)

  ;; Fixed memory:
  ;;   0..64   `ok(none)` for the trailers future (all zeroes: tag ok, none)
  ;;   64..    the line written to stdout
  ;;   1024..  task records, 64 bytes each
  (data (i32.const 64) "post-response work done\n")
  (global $message i32 (i32.const 64))
  (global $message-len i32 (i32.const 24))

  ;; How many times the task yields after responding, and then how long it
  ;; sleeps (in nanoseconds) before it logs.
  (global $yields i32 (i32.const 3))
  (global $sleep i64 (i64.const 100_000_000))

  ;; A task record:
  ;;   +0  state (below)          +4  waitable set
  ;;   +8  trailers writer        +12 yields left
  ;;   +16 stdout stream writer   +20 stdout result future
  ;;   +24 bytes to write (ptr)   +28 bytes to write (len)
  ;;   +32 the stdout result, read here (1 byte used)
  ;;   +36 the sleeping subtask
  ;;   +40 next free record (while on the free list)
  ;;   +44 response/result pair from `response.new` (8 bytes)
  ;; States:
  (global $SENDING-TRAILERS i32 (i32.const 1))
  (global $YIELDING i32 (i32.const 2))
  (global $WRITING i32 (i32.const 3))
  (global $FLUSHING i32 (i32.const 4))
  (global $SLEEPING i32 (i32.const 5))

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

  ;; Give the current task's record back; the task is about to exit.
  (func $task-free
    (local $t i32)
    (local.set $t (call $context-get))
    (i32.store offset=40 (local.get $t) (global.get $free-records))
    (global.set $free-records (local.get $t))
    (call $context-set (i32.const 0)))

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

  ;; Sleep on the monotonic clock: call the async import, which either is
  ;; done at once or leaves a subtask to wait for.
  (func $start-sleep (result i32)
    (local $t i32)
    (local $status i32)
    (local.set $t (call $context-get))
    (local.set $status (call $wait-for (global.get $sleep)))
    (if (i32.eq (i32.and (local.get $status) (i32.const 0xf)) (i32.const 2))
      (then (return (call $start-log)))) ;; RETURNED already
    (i32.store offset=36 (local.get $t) (i32.shr_u (local.get $status) (i32.const 4)))
    (call $waitable-join (i32.load offset=36 (local.get $t)) (i32.load offset=4 (local.get $t)))
    (i32.store (local.get $t) (global.get $SLEEPING))
    (call $wait))

  ;; Open a stdout stream and start writing the message to it.
  (func $start-log (result i32)
    (local $t i32)
    (local $pair i64)
    (local.set $t (call $context-get))
    (local.set $pair (call $stdout-stream-new))
    (i32.store offset=16 (local.get $t)
      (i32.wrap_i64 (i64.shr_u (local.get $pair) (i64.const 32))))
    (i32.store offset=20 (local.get $t)
      (call $stdout-write-via-stream (i32.wrap_i64 (local.get $pair))))
    (i32.store offset=24 (local.get $t) (global.get $message))
    (i32.store offset=28 (local.get $t) (global.get $message-len))
    (call $pump-log))

  ;; Account for a finished stream write ((count << 4) | status).
  (func $written (param $result i32)
    (local $t i32)
    (local $n i32)
    (local.set $t (call $context-get))
    (if (i32.eq (i32.and (local.get $result) (i32.const 0xf)) (i32.const 1))
      (then ;; DROPPED: nobody reads any more
        (i32.store offset=28 (local.get $t) (i32.const 0))
        (return)))
    (local.set $n (i32.shr_u (local.get $result) (i32.const 4)))
    (i32.store offset=24 (local.get $t) (i32.add (i32.load offset=24 (local.get $t)) (local.get $n)))
    (i32.store offset=28 (local.get $t) (i32.sub (i32.load offset=28 (local.get $t)) (local.get $n))))

  ;; Write until the message is out or a write blocks.
  (func $pump-log (result i32)
    (local $t i32)
    (local $result i32)
    (local.set $t (call $context-get))
    (block $done
      (loop $more
        (br_if $done (i32.eqz (i32.load offset=28 (local.get $t))))
        (local.set $result
          (call $stdout-stream-write
            (i32.load offset=16 (local.get $t))
            (i32.load offset=24 (local.get $t))
            (i32.load offset=28 (local.get $t))))
        (if (i32.eq (local.get $result) (i32.const -1))
          (then
            (call $waitable-join (i32.load offset=16 (local.get $t)) (i32.load offset=4 (local.get $t)))
            (i32.store (local.get $t) (global.get $WRITING))
            (return (call $wait))))
        (call $written (local.get $result))
        (br $more)))
    (call $log-written))

  ;; All bytes are in the stream: close it, then wait for the host to report
  ;; that it has written them out.
  (func $log-written (result i32)
    (local $t i32)
    (local.set $t (call $context-get))
    (call $stdout-stream-drop-writable (i32.load offset=16 (local.get $t)))
    (if (i32.eq (call $stdout-result-read (i32.load offset=20 (local.get $t))
                                          (i32.add (local.get $t) (i32.const 32)))
                (i32.const -1))
      (then
        (call $waitable-join (i32.load offset=20 (local.get $t)) (i32.load offset=4 (local.get $t)))
        (i32.store (local.get $t) (global.get $FLUSHING))
        (return (call $wait))))
    (call $finish))

  (func $finish (result i32)
    (local $t i32)
    (local.set $t (call $context-get))
    (call $stdout-result-drop (i32.load offset=20 (local.get $t)))
    (call $waitable-set-drop (i32.load offset=4 (local.get $t)))
    (call $task-free)
    (i32.const 0)) ;; EXIT

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

    ;; Back from a YIELD: "work" a little more, or sleep.
    (if (i32.eq (local.get $state) (global.get $YIELDING))
      (then
        (i32.store offset=12 (local.get $t) (i32.sub (i32.load offset=12 (local.get $t)) (i32.const 1)))
        (if (i32.gt_s (i32.load offset=12 (local.get $t)) (i32.const 0))
          (then (return (i32.const 1)))) ;; YIELD
        (return (call $start-sleep))))

    ;; The sleep made progress (event SUBTASK): log once it has returned.
    (if (i32.eq (local.get $state) (global.get $SLEEPING))
      (then
        (if (i32.ne (local.get $payload) (i32.const 2))
          (then (return (call $wait))))
        (call $waitable-join (local.get $waitable) (i32.const 0))
        (call $subtask-drop (local.get $waitable))
        (return (call $start-log))))

    ;; A stdout write finished (event STREAM_WRITE).
    (if (i32.eq (local.get $state) (global.get $WRITING))
      (then
        (call $waitable-join (local.get $waitable) (i32.const 0))
        (call $written (local.get $payload))
        (return (call $pump-log))))

    ;; The host has written the line out (event FUTURE_READ).
    (if (i32.eq (local.get $state) (global.get $FLUSHING))
      (then
        (call $waitable-join (local.get $waitable) (i32.const 0))
        (return (call $finish))))

    unreachable)
)
