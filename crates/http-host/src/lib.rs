//! A small embedder of `wasmtime-wasi-http`'s [`ProxyHandler`], written the
//! way an application serving WASIp3 `wasi:http/service` components would
//! write it, and instrumented for tests.
//!
//! Every store's data ([`Host`]) reports its creation and its drop to a
//! shared [`Probe`], together with what the guests had written to stdout at
//! that moment. Tests wait on these reports (they are signals, not polls)
//! and on the responses, always under a generous bound.
//!
//! Requests are driven the way `wasmtime serve` drives them in 44.0.3: the
//! task handed to [`ProxyHandler::spawn`] calls `handle`, converts the guest's
//! response into an [`http::Response`], sends it to the caller, and then
//! stays in flight until the caller has dropped the response body.

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::AsyncWrite;
use tokio::sync::{oneshot, watch};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::handler::{HandlerState, Proxy, ProxyHandler, ProxyPre, StoreBundle};
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p3::{Request, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// The limits a [`TestState`] gives its [`ProxyHandler`], and how the host
/// behaves.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// [`HandlerState::request_timeout`].
    pub request_timeout: Duration,
    /// [`HandlerState::idle_instance_timeout`].
    pub idle_instance_timeout: Duration,
    /// [`HandlerState::max_instance_reuse_count`].
    pub max_instance_reuse_count: usize,
    /// [`HandlerState::max_instance_concurrent_reuse_count`].
    pub max_instance_concurrent_reuse_count: usize,
    /// Make guest stdout never accept a byte, so that a guest writing to it
    /// waits forever.
    pub stdout_blocks: bool,
    /// Make guest stdout take this long to accept each write: post-response
    /// work that lasts at least this long.
    pub stdout_delay: Option<Duration>,
    /// Use the pooling allocator with room for this many component instances
    /// at once.
    pub pool_component_instances: Option<u32>,
    /// [`HandlerState::post_return_timeout`]; `None` keeps its default.
    #[cfg(feature = "patched")]
    pub post_return_timeout: Option<Duration>,
    /// [`HandlerState::instance_wait_timeout`]; `None` keeps its default.
    #[cfg(feature = "patched")]
    pub instance_wait_timeout: Option<Duration>,
    /// Compile guests with epoch interruption and let them yield at every
    /// tick of a thread that advances the epoch every 10 ms, as `wasmtime
    /// serve` does when it has a deadline to enforce.
    pub epoch_interruption: bool,
    /// Make the first instantiation that finds no room wait, before it
    /// reports so, until the handler has reported an instance's end (which
    /// it does after counting the drop and waking the room waiter): the race
    /// between a failed instantiation and a drop, made certain.
    pub no_room_waits_for_a_drop: bool,
}

impl Default for Settings {
    /// `wasmtime serve`'s defaults for a WASIp3 component without `--timeout`.
    fn default() -> Self {
        Self {
            request_timeout: Duration::MAX,
            idle_instance_timeout: Duration::from_secs(1),
            max_instance_reuse_count: 128,
            max_instance_concurrent_reuse_count: 16,
            stdout_blocks: false,
            stdout_delay: None,
            pool_component_instances: None,
            #[cfg(feature = "patched")]
            post_return_timeout: None,
            #[cfg(feature = "patched")]
            instance_wait_timeout: None,
            epoch_interruption: false,
            no_room_waits_for_a_drop: false,
        }
    }
}

/// A store's lifetime as seen from outside, reported by [`Host`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// Stores created so far.
    pub stores_created: usize,
    /// Stores dropped so far.
    pub stores_dropped: usize,
    /// When each store was dropped, in order.
    pub dropped_at: Vec<Instant>,
    /// For each dropped store, in order: everything the guests had written
    /// to stdout (in all stores) when it was dropped.
    pub stdout_at_drop: Vec<String>,
    /// The `req_id` of every [`HandlerState::new_store`] call, in order.
    pub store_req_ids: Vec<Option<u64>>,
    /// Errors passed to [`HandlerState::handle_worker_error`].
    pub worker_errors: Vec<String>,
    /// The `req_id` of each request task spawned with one, in the order the
    /// tasks started to run.
    pub tasks_started: Vec<u64>,
    /// Errors of request tasks (a trap inside `handle`, for example).
    pub task_errors: Vec<String>,
    /// Request tasks dropped before they finished (a request timeout).
    pub tasks_dropped: usize,
    /// The reports passed to [`HandlerState::instance_ended`], in order,
    /// each with the number of stores dropped when it came.
    #[cfg(feature = "patched")]
    pub reports: Vec<(wasmtime_wasi_http::handler::InstanceReport, usize)>,
}

/// What the tests observe: store lifetimes, worker errors, and stdout.
pub struct Probe {
    events: watch::Sender<Events>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stdout_len: watch::Sender<usize>,
}

impl Probe {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            events: watch::channel(Events::default()).0,
            stdout: Default::default(),
            stdout_len: watch::channel(0).0,
        })
    }

    /// A copy of the events so far.
    pub fn events(&self) -> Events {
        self.events.borrow().clone()
    }

    /// Everything the guests wrote to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Waits (at most `bound`) until `pred` holds for the events.
    pub async fn wait_for(&self, bound: Duration, pred: impl FnMut(&Events) -> bool) -> Events {
        let mut rx = self.events.subscribe();
        match tokio::time::timeout(bound, rx.wait_for(pred)).await {
            Ok(events) => events.expect("probe outlives its receivers").clone(),
            Err(_) => panic!(
                "condition not met within {bound:?}; events so far: {:?}",
                self.events()
            ),
        }
    }

    /// Waits (at most `bound`) until stdout holds `text` `times` times.
    pub async fn wait_for_stdout(&self, bound: Duration, text: &str, times: usize) {
        let mut rx = self.stdout_len.subscribe();
        let found = tokio::time::timeout(
            bound,
            rx.wait_for(|_| self.stdout().matches(text).count() >= times),
        )
        .await;
        if found.is_err() {
            panic!(
                "stdout did not show {text:?} {times} time(s) within {bound:?}: {:?}",
                self.stdout()
            );
        }
    }

    fn record(&self, f: impl FnOnce(&mut Events)) {
        self.events.send_modify(f);
    }
}

/// Guest stdout: appends to the probe's buffer and signals every write (or,
/// with `blocks`, never accepts anything; with `delay`, accepts each write
/// that long after it was first offered).
struct Stdout {
    probe: Arc<Probe>,
    blocks: bool,
    delay: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Clone for Stdout {
    fn clone(&self) -> Self {
        Self {
            probe: self.probe.clone(),
            blocks: self.blocks,
            delay: self.delay,
            sleep: None,
        }
    }
}

impl Stdout {
    fn append(&self, buf: &[u8]) {
        let len = {
            let mut out = self.probe.stdout.lock().unwrap();
            out.extend_from_slice(buf);
            out.len()
        };
        self.probe.stdout_len.send_replace(len);
    }
}

impl AsyncWrite for Stdout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.blocks {
            return Poll::Pending;
        }
        if let Some(delay) = self.delay {
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl wasmtime_wasi::cli::IsTerminal for Stdout {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for Stdout {
    fn p2_stream(&self) -> Box<dyn wasmtime_wasi::p2::OutputStream> {
        // The example guests are WASIp3 only.
        Box::new(wasmtime_wasi::p2::pipe::SinkOutputStream)
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// `wasi:http` hooks for a host that makes no outgoing requests.
struct NoOutgoingRequests;

impl WasiHttpHooks for NoOutgoingRequests {
    fn send_request(
        &mut self,
        _request: http::Request<UnsyncBoxBody<Bytes, ErrorCode>>,
        _options: Option<wasmtime_wasi_http::p3::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), ErrorCode>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<UnsyncBoxBody<Bytes, ErrorCode>>,
                        Box<dyn Future<Output = Result<(), ErrorCode>> + Send>,
                    ),
                    wasmtime_wasi::TrappableError<ErrorCode>,
                >,
            > + Send,
    > {
        Box::new(async { Err(ErrorCode::HttpRequestDenied.into()) })
    }
}

/// The data of every store: WASI and `wasi:http` state, and the probe.
pub struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: NoOutgoingRequests,
    probe: Arc<Probe>,
    /// Whether the drop of the store counts in the [`Events`].
    counted: bool,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.hooks,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

impl Drop for Host {
    /// The store (and with it the instance) is going away: record what the
    /// guests had managed to write by now.
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let stdout = self.probe.stdout();
        self.probe.record(|e| {
            e.stores_dropped += 1;
            e.dropped_at.push(Instant::now());
            e.stdout_at_drop.push(stdout);
        });
    }
}

/// The application state behind the [`ProxyHandler`].
pub struct TestState {
    engine: Engine,
    settings: Settings,
    probe: Arc<Probe>,
    pre: wasmtime::component::InstancePre<Host>,
    /// Whether `instance_limit_reached` waited for a drop already.
    #[cfg(feature = "patched")]
    no_room_waited: std::sync::atomic::AtomicBool,
    _ticker: Option<EpochTicker>,
}

impl TestState {
    /// Instantiates the handler's component in a store of its own, outside
    /// the handler: another user of the same engine (and so of the same
    /// instance pool), holding a slot until the store is dropped.  Its store
    /// is not counted in the [`Events`].
    pub async fn occupy(&self) -> Result<Store<Host>> {
        let mut host = self.host();
        host.counted = false;
        let mut store = Store::new(&self.engine, host);
        self.pre.instantiate_async(&mut store).await?;
        Ok(store)
    }

    fn host(&self) -> Host {
        let wasi = WasiCtxBuilder::new()
            .stdout(Stdout {
                probe: self.probe.clone(),
                blocks: self.settings.stdout_blocks,
                delay: self.settings.stdout_delay,
                sleep: None,
            })
            .build();
        Host {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks: NoOutgoingRequests,
            probe: self.probe.clone(),
            counted: true,
        }
    }
}

/// Advances an engine's epoch every 10 ms until dropped.
struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                    engine.increment_epoch();
                }
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            _ = thread.join();
        }
    }
}

impl HandlerState for TestState {
    type StoreData = Host;

    fn new_store(&self, req_id: Option<u64>) -> wasmtime::Result<StoreBundle<Host>> {
        let mut store = Store::new(&self.engine, self.host());
        if self.settings.epoch_interruption {
            store.epoch_deadline_async_yield_and_update(1);
        }
        self.probe.record(|e| {
            e.stores_created += 1;
            e.store_req_ids.push(req_id);
        });
        Ok(StoreBundle {
            store,
            write_profile: Box::new(|_| {}),
        })
    }

    fn request_timeout(&self) -> Duration {
        self.settings.request_timeout
    }

    fn idle_instance_timeout(&self) -> Duration {
        self.settings.idle_instance_timeout
    }

    fn max_instance_reuse_count(&self) -> usize {
        self.settings.max_instance_reuse_count
    }

    fn max_instance_concurrent_reuse_count(&self) -> usize {
        self.settings.max_instance_concurrent_reuse_count
    }

    fn handle_worker_error(&self, error: wasmtime::Error) {
        let error = format!("{error:?}");
        self.probe.record(|e| e.worker_errors.push(error));
    }

    #[cfg(feature = "patched")]
    fn instance_limit_reached(&self, error: &wasmtime::Error) -> bool {
        let full = error.is::<wasmtime::PoolConcurrencyLimitError>();
        if full
            && self.settings.no_room_waits_for_a_drop
            && !self
                .no_room_waited
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            // Runs on a worker thread of a multi-threaded runtime, while
            // another worker drops its instance.
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(
                    self.probe
                        .wait_for(Duration::from_secs(60), |e| !e.reports.is_empty()),
                )
            });
        }
        full
    }

    #[cfg(feature = "patched")]
    fn instance_wait_timeout(&self) -> Duration {
        self.settings.instance_wait_timeout.unwrap_or(Duration::MAX)
    }

    #[cfg(feature = "patched")]
    fn post_return_timeout(&self) -> Duration {
        self.settings
            .post_return_timeout
            .unwrap_or(self.settings.request_timeout)
    }

    #[cfg(feature = "patched")]
    fn instance_ended(&self, report: &wasmtime_wasi_http::handler::InstanceReport) {
        self.probe.record(|e| {
            let dropped = e.stores_dropped;
            e.reports.push((report.clone(), dropped))
        });
    }
}

/// A handler state of this crate, with its [`Probe`].
pub trait Probed: HandlerState<StoreData = Host> {
    /// The probe the state's stores report to.
    fn probe(&self) -> &Arc<Probe>;
}

impl Probed for TestState {
    fn probe(&self) -> &Arc<Probe> {
        &self.probe
    }
}

impl Probed for PlainState {
    fn probe(&self) -> &Arc<Probe> {
        &self.0.probe
    }
}

/// A [`TestState`] that implements only what a `HandlerState` had to before
/// the series, so that every method the series adds keeps its default.
pub struct PlainState(TestState);

impl HandlerState for PlainState {
    type StoreData = Host;

    fn new_store(&self, req_id: Option<u64>) -> wasmtime::Result<StoreBundle<Host>> {
        self.0.new_store(req_id)
    }

    fn request_timeout(&self) -> Duration {
        self.0.request_timeout()
    }

    fn idle_instance_timeout(&self) -> Duration {
        self.0.idle_instance_timeout()
    }

    fn max_instance_reuse_count(&self) -> usize {
        self.0.max_instance_reuse_count()
    }

    fn max_instance_concurrent_reuse_count(&self) -> usize {
        self.0.max_instance_concurrent_reuse_count()
    }

    fn handle_worker_error(&self, error: wasmtime::Error) {
        self.0.handle_worker_error(error)
    }
}

/// An engine configured as `wasmtime serve -Wcomponent-model-async` does.
pub fn engine(settings: &Settings) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    config.wasm_component_model_async_builtins(true);
    config.epoch_interruption(settings.epoch_interruption);
    if let Some(n) = settings.pool_component_instances {
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        pool.total_component_instances(n);
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    Ok(Engine::new(&config)?)
}

/// Compiles `component` (bytes from `http-guests`) and wraps it in a
/// [`ProxyHandler`] with the given settings.
pub fn handler(
    component: &[u8],
    settings: Settings,
) -> Result<(ProxyHandler<TestState>, Arc<Probe>)> {
    let (state, pre) = state(component, settings)?;
    let probe = state.probe.clone();
    Ok((ProxyHandler::new(state, pre), probe))
}

/// Like [`handler`], with a [`PlainState`]: the handler's new settings keep
/// their defaults and no report is recorded.
pub fn plain_handler(
    component: &[u8],
    settings: Settings,
) -> Result<(ProxyHandler<PlainState>, Arc<Probe>)> {
    let (state, pre) = state(component, settings)?;
    let probe = state.probe.clone();
    Ok((ProxyHandler::new(PlainState(state), pre), probe))
}

/// A guest compiled for an engine configured from [`Settings`], to make
/// several handlers of without compiling it again ([`handler_with`]).
pub struct Compiled {
    engine: Engine,
    component: Component,
    pool_component_instances: Option<u32>,
    epoch_interruption: bool,
}

/// Compiles `component` for an engine configured from `settings`.
pub fn compile(component: &[u8], settings: &Settings) -> Result<Compiled> {
    let engine = engine(settings)?;
    let component = Component::new(&engine, component)?;
    Ok(Compiled {
        engine,
        component,
        pool_component_instances: settings.pool_component_instances,
        epoch_interruption: settings.epoch_interruption,
    })
}

/// Like [`handler`], with a guest compiled already.  The settings of the
/// engine (the pool, epoch interruption) must be those it was compiled
/// with.
pub fn handler_with(
    compiled: &Compiled,
    settings: Settings,
) -> Result<(ProxyHandler<TestState>, Arc<Probe>)> {
    anyhow::ensure!(
        settings.pool_component_instances == compiled.pool_component_instances
            && settings.epoch_interruption == compiled.epoch_interruption,
        "the engine was configured with other settings"
    );
    let (state, pre) = state_with(compiled.engine.clone(), &compiled.component, settings)?;
    let probe = state.probe.clone();
    Ok((ProxyHandler::new(state, pre), probe))
}

fn state(component: &[u8], settings: Settings) -> Result<(TestState, ProxyPre<Host>)> {
    let engine = engine(&settings)?;
    let component = Component::new(&engine, component)?;
    state_with(engine, &component, settings)
}

fn state_with(
    engine: Engine,
    component: &Component,
    settings: Settings,
) -> Result<(TestState, ProxyPre<Host>)> {
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    let instance_pre = linker.instantiate_pre(component)?;
    let pre = ServicePre::new(instance_pre.clone())?;
    let state = TestState {
        _ticker: settings
            .epoch_interruption
            .then(|| EpochTicker::start(engine.clone())),
        engine,
        settings,
        probe: Probe::new(),
        pre: instance_pre,
        #[cfg(feature = "patched")]
        no_room_waited: Default::default(),
    };
    Ok((state, ProxyPre::P3(pre)))
}

/// A response whose body keeps the request's task in flight until dropped.
pub type Response = http::Response<UnsyncBoxBody<Bytes, ErrorCode>>;

/// How long [`get`] and [`send`] wait for a response head before they give
/// up with an error: a handler that never answers fails a test instead of
/// hanging it.
pub const RESPONSE_BOUND: Duration = Duration::from_secs(60);

/// Sends a `GET /` through `handler` and waits (at most [`RESPONSE_BOUND`])
/// for the response head.
///
/// The request's task stays in flight, as in `wasmtime serve`, until the
/// returned response (and so its body) is dropped.
pub async fn get<S: Probed>(handler: &ProxyHandler<S>) -> Result<Response> {
    send(handler, None, empty_get()?).await
}

/// Like [`get`], with `req_id` passed to [`ProxyHandler::spawn`] and recorded
/// in [`Events::tasks_started`] when the task starts.
pub async fn get_as<S: Probed>(handler: &ProxyHandler<S>, req_id: u64) -> Result<Response> {
    send(handler, Some(req_id), empty_get()?).await
}

fn empty_get() -> Result<http::Request<UnsyncBoxBody<Bytes, ErrorCode>>> {
    Ok(http::Request::builder().uri("http://localhost/").body(
        http_body_util::Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    )?)
}

/// Sends `request` through `handler` and waits (at most [`RESPONSE_BOUND`])
/// for the response head.
///
/// As with [`get`], the request's task stays in flight until the returned
/// response is dropped.  The error says whether the handler dropped the task
/// without running it, or the task ended without a response.
pub async fn send<S: Probed>(
    handler: &ProxyHandler<S>,
    req_id: Option<u64>,
    request: http::Request<UnsyncBoxBody<Bytes, ErrorCode>>,
) -> Result<Response> {
    let (tx, rx) = oneshot::channel();
    let probe = handler.state().probe().clone();
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let task_started = started.clone();
    handler.spawn(
        req_id,
        Box::new(move |store, proxy| {
            task_started.store(true, std::sync::atomic::Ordering::SeqCst);
            if let Some(req_id) = req_id {
                probe.record(|e| e.tasks_started.push(req_id));
            }
            Box::pin(async move {
                let unfinished = Unfinished(probe.clone());
                if let Err(error) = serve(store, proxy, request, tx).await {
                    let error = format!("{error:?}");
                    probe.record(|e| e.task_errors.push(error));
                }
                std::mem::forget(unfinished);
            })
        }),
    );
    match tokio::time::timeout(RESPONSE_BOUND, rx).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(_)) if !started.load(std::sync::atomic::Ordering::SeqCst) => {
            bail!("the handler dropped the request's task without running it")
        }
        Ok(Err(_)) => bail!("the request's task ended without a response"),
        Err(_) => bail!("no response within {RESPONSE_BOUND:?}"),
    }
}

async fn serve(
    store: &wasmtime::component::Accessor<Host>,
    proxy: &Proxy,
    request: http::Request<UnsyncBoxBody<Bytes, ErrorCode>>,
    tx: oneshot::Sender<Response>,
) -> Result<()> {
    #[allow(
        irrefutable_let_patterns,
        reason = "the p2 variant exists with the p2 feature"
    )]
    let Proxy::P3(service) = proxy else {
        bail!("not a WASIp3 service")
    };
    let (request, request_io) = Request::from_http(request);
    let response = match service.handle(store, request).await? {
        Ok(response) => response,
        Err(code) => bail!("guest answered with an error: {code:?}"),
    };
    let response = store.with(|mut store| response.into_http(&mut store, request_io))?;
    let (body_dropped_tx, body_dropped_rx) = oneshot::channel::<()>();
    let response = response.map(|body| {
        BodyGuard {
            body,
            _dropped: body_dropped_tx,
        }
        .boxed_unsync()
    });
    if tx.send(response).is_ok() {
        // Stay in flight while the body is read; the store must keep
        // running for a body the guest writes after `handle` returned.
        _ = body_dropped_rx.await;
    }
    Ok(())
}

/// Records a request task dropped before it finished.
struct Unfinished(Arc<Probe>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        self.0.record(|e| e.tasks_dropped += 1);
    }
}

/// A body that tells, by dropping its sender, when the caller is done.
struct BodyGuard {
    body: UnsyncBoxBody<Bytes, ErrorCode>,
    _dropped: oneshot::Sender<()>,
}

impl http_body::Body for BodyGuard {
    type Data = Bytes;
    type Error = ErrorCode;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, ErrorCode>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Reads a whole body (at most `bound`), then drops it.
pub async fn read_body(response: Response, bound: Duration) -> Result<String> {
    let body = tokio::time::timeout(bound, response.into_body().collect())
        .await
        .context("the body did not end in time")?
        .map_err(|code| anyhow::anyhow!("body error: {code:?}"))?
        .to_bytes();
    Ok(String::from_utf8(body.to_vec())?)
}
