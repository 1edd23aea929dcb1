;; streaming: a `wasi:http/service` guest whose body is written after
;; `handle` has returned.
;;
;; `handle` creates the body stream, hands a 200 response that carries the
;; stream's readable end to the host with `task.return`, and returns. The
;; callback then writes the body in three chunks, yielding between them, so
;; every byte of the body is produced after the response was returned. When
;; the last chunk is out it closes the stream, sends the (empty) trailers and
;; exits.
;;
;; A host that stops running the store once `handle` returned gets the
;; status line and headers but never the body.
;;
;; The structure (task records, callback codes, events) is the one of
;; `post_response.wat`, which explains it.
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
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[stream-new-0][static]response.new"
    (func $body-new (result i64)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[async-lower][stream-write-0][static]response.new"
    (func $body-write (param i32 i32 i32) (result i32)))
  (import "wasi:http/types@0.3.0-rc-2026-03-15" "[stream-drop-writable-0][static]response.new"
    (func $body-drop-writable (param i32)))
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
  ;;   64..88  the body, three chunks of 8 bytes
  ;;   1024..  task records, 64 bytes each
  (data (i32.const 64) "chunk 1\nchunk 2\nchunk 3\n")
  (global $body i32 (i32.const 64))
  (global $chunk-len i32 (i32.const 8))
  (global $chunks i32 (i32.const 3))

  ;; A task record:
  ;;   +0  state (below)          +4  waitable set
  ;;   +8  trailers writer        +12 chunks written so far
  ;;   +16 body stream writer
  ;;   +24 bytes to write (ptr)   +28 bytes to write (len)
  ;;   +40 next free record (while on the free list)
  ;;   +44 response/result pair from `response.new` (8 bytes)
  ;; States:
  (global $WRITING i32 (i32.const 1))
  (global $BETWEEN-CHUNKS i32 (i32.const 2))
  (global $SENDING-TRAILERS i32 (i32.const 3))

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
    (local $trailers i64)
    (local $body i64)
    (call $task-alloc)
    (local.set $t (call $context-get))

    ;; This guest ignores the request.
    (call $request-drop (local.get $request))

    ;; Both the body stream and the trailers future go to the host with the
    ;; response (readable ends, low 32 bits); the task keeps the writable
    ;; ends (high 32 bits).
    (local.set $trailers (call $trailers-new))
    (i32.store offset=8 (local.get $t)
      (i32.wrap_i64 (i64.shr_u (local.get $trailers) (i64.const 32))))
    (local.set $body (call $body-new))
    (i32.store offset=16 (local.get $t)
      (i32.wrap_i64 (i64.shr_u (local.get $body) (i64.const 32))))

    ;; 200 (the default status), no headers, a body still to be written.
    (call $response-new
      (call $fields-new)
      (i32.const 1) (i32.wrap_i64 (local.get $body)) ;; contents: some(stream)
      (i32.wrap_i64 (local.get $trailers))
      (i32.add (local.get $t) (i32.const 44)))
    (call $response-result-drop (i32.load offset=48 (local.get $t)))

    ;; Hand the response over: ok(response).
    (call $task-return
      (i32.const 0) (i32.load offset=44 (local.get $t))
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))

    ;; Not a byte of the body exists yet. Write the first chunk.
    (i32.store offset=4 (local.get $t) (call $waitable-set-new))
    (i32.store offset=24 (local.get $t) (global.get $body))
    (i32.store offset=28 (local.get $t) (global.get $chunk-len))
    (call $pump-body))

  ;; Account for a finished stream write ((count << 4) | status).
  (func $written (param $result i32)
    (local $t i32)
    (local $n i32)
    (local.set $t (call $context-get))
    (if (i32.eq (i32.and (local.get $result) (i32.const 0xf)) (i32.const 1))
      (then ;; DROPPED: the host stopped reading (the client went away)
        (i32.store offset=12 (local.get $t) (global.get $chunks))
        (i32.store offset=28 (local.get $t) (i32.const 0))
        (return)))
    (local.set $n (i32.shr_u (local.get $result) (i32.const 4)))
    (i32.store offset=24 (local.get $t) (i32.add (i32.load offset=24 (local.get $t)) (local.get $n)))
    (i32.store offset=28 (local.get $t) (i32.sub (i32.load offset=28 (local.get $t)) (local.get $n))))

  ;; Write until the current chunk is out or a write blocks.
  (func $pump-body (result i32)
    (local $t i32)
    (local $result i32)
    (local.set $t (call $context-get))
    (block $done
      (loop $more
        (br_if $done (i32.eqz (i32.load offset=28 (local.get $t))))
        (local.set $result
          (call $body-write
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
    (call $chunk-written))

  ;; One more chunk is out: yield before the next one, or finish the body.
  (func $chunk-written (result i32)
    (local $t i32)
    (local.set $t (call $context-get))
    (i32.store offset=12 (local.get $t) (i32.add (i32.load offset=12 (local.get $t)) (i32.const 1)))
    (if (i32.lt_u (i32.load offset=12 (local.get $t)) (global.get $chunks))
      (then
        (i32.store offset=28 (local.get $t) (global.get $chunk-len))
        (i32.store (local.get $t) (global.get $BETWEEN-CHUNKS))
        (return (i32.const 1)))) ;; YIELD
    ;; Closing the stream ends the body's data.
    (call $body-drop-writable (i32.load offset=16 (local.get $t)))
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
    (call $finish))

  (func $finish (result i32)
    (local $t i32)
    (local.set $t (call $context-get))
    (call $trailers-drop-writable (i32.load offset=8 (local.get $t)))
    (call $waitable-set-drop (i32.load offset=4 (local.get $t)))
    (call $task-free)
    (i32.const 0)) ;; EXIT

  ;; The host calls this whenever the task may go on: after a YIELD with
  ;; event NONE, after a WAIT with the event that ended it.
  (func (export "[callback][async-lift]wasi:http/handler@0.3.0-rc-2026-03-15#handle")
        (param $event i32) (param $waitable i32) (param $payload i32) (result i32)
    (local $state i32)
    (local.set $state (i32.load (call $context-get)))

    ;; A body write finished (event STREAM_WRITE).
    (if (i32.eq (local.get $state) (global.get $WRITING))
      (then
        (call $waitable-join (local.get $waitable) (i32.const 0))
        (call $written (local.get $payload))
        (return (call $pump-body))))

    ;; Back from the YIELD between two chunks.
    (if (i32.eq (local.get $state) (global.get $BETWEEN-CHUNKS))
      (then (return (call $pump-body))))

    ;; The trailers were taken (event FUTURE_WRITE).
    (if (i32.eq (local.get $state) (global.get $SENDING-TRAILERS))
      (then
        (call $waitable-join (local.get $waitable) (i32.const 0))
        (return (call $finish))))

    unreachable)
)
