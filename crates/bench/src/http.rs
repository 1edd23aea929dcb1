//! The HTTP case: a trivial WASIp3 guest served over loopback through
//! `wasmtime-wasi-http`'s `ProxyHandler`, under a closed-loop load.
//!
//! The server (`bench http-serve`, a process of its own) is what an embedder
//! writes: hyper's HTTP/1 server, each request handed to the `ProxyHandler`
//! of `http-host` (instance reuse and limits as `wasmtime serve` sets
//! them). The load generator ([`load`], run by `bench compare`) opens a
//! fixed number of keep-alive connections; each sends its next request when
//! the previous response, body included, has arrived. So at most
//! `connections` requests are in flight, and the number of requests is
//! fixed: the load is bounded both ways.
//!
//! Patched, every instance also waits for its guest's tasks to finish
//! before it takes the next request or goes away; pristine, it does not.

use anyhow::{Context as _, Result};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;

/// What one slice of requests measured.
pub struct Outcome {
    /// Requests per second.
    pub rps: f64,
    /// Latency of every request.
    pub latencies: Vec<Duration>,
}

impl Outcome {
    /// Send `requests` requests to `addr` over `connections` connections.
    pub async fn measure(
        addr: std::net::SocketAddr,
        requests: u64,
        connections: usize,
    ) -> Result<Outcome> {
        let start = Instant::now();
        let latencies = load(addr, requests, connections).await?;
        Ok(Outcome {
            rps: requests as f64 / start.elapsed().as_secs_f64(),
            latencies,
        })
    }
}

/// The `q` quantile of `latencies` in microseconds (sorting them).
pub fn percentile(latencies: &mut [Duration], q: f64) -> f64 {
    latencies.sort_unstable();
    let i = ((latencies.len() - 1) as f64 * q).round() as usize;
    latencies[i].as_secs_f64() * 1e6
}

/// `bench http-serve`: serve the trivial guest on a free loopback port,
/// print the address, and serve until standard input ends; then fail if
/// the handler reported an error.
pub fn serve() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let component = http_guests::minimal()?;
    let (handler, probe) = http_host::handler(&component, http_host::Settings::default())?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    println!("{}", listener.local_addr()?);
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            stream.set_nodelay(true).ok();
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move {
                        let req = req.map(|body: hyper::body::Incoming| {
                            body.map_err(|_| ErrorCode::HttpProtocolError)
                                .boxed_unsync()
                        });
                        let response = http_host::send(&handler, None, req).await?;
                        anyhow::Ok(
                            response.map(|body| body.map_err(|code| anyhow::anyhow!("{code:?}"))),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())?;
    let errors = probe.events();
    anyhow::ensure!(
        errors.task_errors.is_empty() && errors.worker_errors.is_empty(),
        "the server failed: {errors:?}"
    );
    Ok(())
}

/// Send `requests` GETs over `connections` keep-alive connections, each
/// waiting for the whole previous response; the latency of every request.
pub async fn load(
    addr: std::net::SocketAddr,
    requests: u64,
    connections: usize,
) -> Result<Vec<Duration>> {
    let left = Arc::new(AtomicU64::new(requests));
    let mut clients = Vec::new();
    for _ in 0..connections {
        let left = left.clone();
        clients.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            let conn = tokio::spawn(conn);
            let mut latencies = Vec::new();
            // Take one request at a time from the shared budget.
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let request =
                    http::Request::get(format!("http://{addr}/")).body(Empty::<Bytes>::new())?;
                let start = Instant::now();
                let response = tokio::time::timeout(Duration::from_secs(30), async {
                    let response = sender.send_request(request).await?;
                    let status = response.status();
                    response.into_body().collect().await?;
                    anyhow::Ok(status)
                })
                .await
                .context("no response within 30 s")??;
                latencies.push(start.elapsed());
                anyhow::ensure!(response == http::StatusCode::OK, "status {response}");
            }
            drop(sender);
            conn.await??;
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(requests as usize);
    for client in clients {
        all.extend(client.await??);
    }
    anyhow::ensure!(
        all.len() as u64 == requests,
        "{} of {requests} requests answered",
        all.len()
    );
    Ok(all)
}
