//! Posts signals to a running Convene, receives the webhook deliveries on local endpoints, and
//! prints one Markdown table row: ingest rate, delivery rate, ingest→delivered latency, the
//! server's peak RSS and CPU time per 10k deliveries.

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::http::HeaderMap;
use clap::Parser;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Base URL of the server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    api: String,
    #[arg(long)]
    token: String,
    /// The server's process id, for RSS and CPU time.
    #[arg(long)]
    pid: u32,
    #[arg(long, default_value_t = 2000)]
    signals: usize,
    #[arg(long, default_value_t = 5)]
    endpoints: usize,
    /// Signals in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Signals per second (0 = as fast as possible).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    #[arg(long, default_value = "run")]
    label: String,
    /// Signals per request: 1 posts `/signals`, more post `/signals/batch`.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// The endpoints' signature scheme, `v1` (HMAC) or `v1a` (ed25519).
    #[arg(long, default_value = "v1")]
    signature: String,
    /// The endpoints' `ordering`, `none` or `per_subject`.
    #[arg(long, default_value = "none")]
    ordering: String,
    /// Signal `i` is about subject `i % subjects` (0 = none). With `per_subject`, the run fails
    /// when an endpoint receives a subject's signal before one that was accepted before it was
    /// sent (signals in flight together may commit in either order).
    #[arg(long, default_value_t = 0)]
    subjects: usize,
}

/// First arrival of each (message id, endpoint).
type Arrivals = Arc<Mutex<HashMap<(String, usize), Instant>>>;

async fn receiver(index: usize, arrivals: Arrivals) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/in", listener.local_addr()?);
    let app = axum::Router::new().fallback(move |headers: HeaderMap, _body: Bytes| {
        let arrivals = arrivals.clone();
        async move {
            if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                let mut seen = arrivals.lock().expect("arrivals");
                seen.entry((id.to_owned(), index))
                    .or_insert_with(Instant::now);
            }
            "ok"
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// (user + system CPU seconds, peak RSS in KiB) of a process.
fn usage(pid: u32) -> anyhow::Result<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Ok((ticks / 100.0, hwm))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = {
        convene_delivery::http::install_crypto();
        reqwest::Client::new()
    };
    let arrivals: Arrivals = Arc::default();
    for index in 0..args.endpoints {
        let url = receiver(index, arrivals.clone()).await?;
        let r = http
            .post(format!("{}/api/v1/webhooks", args.api))
            .bearer_auth(&args.token)
            .json(&serde_json::json!({"url": url, "event_types": ["bench.signal"], "signature": args.signature, "ordering": args.ordering}))
            .send()
            .await?;
        if r.status() != 201 {
            bail!("creating a webhook: {} {}", r.status(), r.text().await?);
        }
    }
    let (cpu_before, _) = usage(args.pid)?;
    let accepted: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let subjects = args.subjects;
    let started = Instant::now();
    let pace = (args.rate > 0).then(|| Duration::from_secs_f64(1.0 / args.rate as f64));
    let batch = args.batch.max(1);
    futures_util::stream::iter((0..args.signals).step_by(batch))
        .map(|first| {
            let (http, accepted, api, token) = (http.clone(), accepted.clone(), args.api.clone(), args.token.clone());
            let sent = sent.clone();
            let ids: Vec<usize> = (first..(first + batch).min(args.signals)).collect();
            async move {
                if let Some(pace) = pace {
                    tokio::time::sleep_until((started + pace * first as u32).into()).await;
                }
                let body = |i: usize| {
                    let mut signal = serde_json::json!({"id": format!("bench-{i}"), "type": "bench.signal", "data": {"bench": {"i": i}}});
                    if subjects > 0 {
                        signal["subject"] = format!("thing/{}", i % subjects).into();
                    }
                    signal
                };
                let at = Instant::now();
                sent.lock().expect("sent").extend(ids.iter().map(|&i| (i, at)));
                let request = if batch == 1 {
                    http.post(format!("{api}/api/v1/signals")).json(&body(first))
                } else {
                    let signals: Vec<_> = ids.iter().map(|&i| body(i)).collect();
                    http.post(format!("{api}/api/v1/signals/batch")).json(&serde_json::json!({"signals": signals}))
                };
                let r = request.bearer_auth(&token).send().await;
                let ok = match r {
                    Ok(r) if batch == 1 => r.status() == 202,
                    Ok(r) if r.status() == 200 => r
                        .json::<serde_json::Value>()
                        .await
                        .is_ok_and(|v| v["results"].as_array().is_some_and(|a| a.iter().all(|x| x["status"] == 202))),
                    _ => false,
                };
                if ok {
                    let at = Instant::now();
                    let mut accepted = accepted.lock().expect("accepted");
                    accepted.extend(ids.iter().map(|i| (format!("bench-{i}"), at)));
                }
            }
        })
        .buffer_unordered(args.concurrency)
        .collect::<Vec<()>>()
        .await;
    let ingest_s = started.elapsed().as_secs_f64();
    let accepted = Arc::try_unwrap(accepted)
        .map_err(|_| anyhow::anyhow!("still shared"))?
        .into_inner()?;
    let expected = accepted.len() * args.endpoints;
    let deadline = Instant::now() + Duration::from_secs(300);
    while arrivals.lock().expect("arrivals").len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrivals = arrivals.lock().expect("arrivals").clone();
    let last = arrivals.values().max().copied().unwrap_or(started);
    let (cpu_after, peak_kib) = usage(args.pid)?;
    let mut latencies: Vec<Duration> = arrivals
        .iter()
        .filter_map(|((id, _), at)| Some(at.saturating_duration_since(*accepted.get(id)?)))
        .collect();
    latencies.sort();
    let delivered = arrivals.len();
    let deliveries_per_s = delivered as f64 / last.duration_since(started).as_secs_f64().max(1e-9);
    let checked = args.ordering == "per_subject" && subjects > 0;
    let sent = sent.lock().expect("sent").clone();
    let out_of_order = if checked {
        out_of_order(&arrivals, &accepted, &sent, subjects)
    } else {
        0
    };
    let order_note = if checked {
        format!(" ({out_of_order} out of order)")
    } else {
        String::new()
    };
    println!(
        "| {} | {} x {} | {:.0} | {:.0} | {:.1} ms | {:.1} ms | {} MiB | {:.2} s | {}/{}{order_note} |",
        args.label,
        args.signals,
        args.endpoints,
        accepted.len() as f64 / ingest_s,
        deliveries_per_s,
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        peak_kib / 1024,
        (cpu_after - cpu_before) / delivered.max(1) as f64 * 10_000.0,
        delivered,
        expected,
    );
    if out_of_order > 0 {
        bail!(
            "{out_of_order} deliveries came before one of their subject accepted before they were sent"
        );
    }
    Ok(())
}

/// Pairs of one endpoint and subject where the later arrival was accepted (committed) before
/// the earlier one was even sent: what order per subject must never allow.
fn out_of_order(
    arrivals: &HashMap<(String, usize), Instant>,
    accepted: &HashMap<String, Instant>,
    sent: &HashMap<usize, Instant>,
    subjects: usize,
) -> usize {
    let mut lanes: HashMap<(usize, usize), Vec<(Instant, usize)>> = HashMap::new();
    for ((id, endpoint), at) in arrivals {
        if let Some(i) = id
            .strip_prefix("bench-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            lanes
                .entry((*endpoint, i % subjects))
                .or_default()
                .push((*at, i));
        }
    }
    let mut count = 0;
    for lane in lanes.values_mut() {
        lane.sort();
        for (n, (_, first)) in lane.iter().enumerate() {
            count += lane[n + 1..]
                .iter()
                .filter(|(_, later)| {
                    accepted
                        .get(&format!("bench-{later}"))
                        .zip(sent.get(first))
                        .is_some_and(|(a, s)| a < s)
                })
                .count();
        }
    }
    count
}
