//! A real HTTP receiver on 127.0.0.1:0 that records every request and answers with scripted
//! statuses (200 once the script is used up).

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// The query string, as sent (empty when none).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// One scripted answer: a status and extra headers (e.g. `Retry-After`).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// Waits this long before answering (a slow peer).
    pub delay: Option<std::time::Duration>,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: None,
        }
    }

    /// A JSON answer with its content type.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: body.to_string(),
            delay: None,
        }
    }
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    script: VecDeque<Answer>,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    stop: CancellationToken,
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// On a given loopback port (a peer that comes back where it was).
    pub async fn start_on(port: u16) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let state = shared.clone();
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method,
                  uri: axum::http::Uri,
                  headers: HeaderMap,
                  body: Bytes| {
                let state = state.clone();
                async move {
                    let answer = {
                        let mut shared = state.lock().expect("receiver state");
                        let answer = shared
                            .script
                            .pop_front()
                            .unwrap_or_else(|| Answer::status(200));
                        shared.received.push(Received {
                            method: method.to_string(),
                            path: uri.path().to_owned(),
                            query: uri.query().unwrap_or_default().to_owned(),
                            headers,
                            body,
                            answered: answer.status,
                        });
                        answer
                    };
                    if let Some(delay) = answer.delay {
                        tokio::time::sleep(delay).await;
                    }
                    let mut response = (
                        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK),
                        answer.body,
                    )
                        .into_response();
                    for (name, value) in answer.headers {
                        if let Ok(v) = HeaderValue::from_str(&value) {
                            response.headers_mut().insert(name, v);
                        }
                    }
                    response
                }
            },
        );
        let stop = serve_until_stopped(listener, app);
        Self { url, shared, stop }
    }

    /// Answers the next requests with these, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.shared
            .lock()
            .expect("receiver state")
            .script
            .extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().expect("receiver state").received.clone()
    }
}

/// Serves `app` on `listener` in the background until the returned token is cancelled.
pub(crate) fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> CancellationToken {
    let stop = CancellationToken::new();
    let until = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(until.cancelled_owned())
            .await;
    });
    stop
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
