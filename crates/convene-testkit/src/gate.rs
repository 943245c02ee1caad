//! A forwarding HTTP gate on a fixed loopback port: while open it passes requests to a target
//! and its answers back; closed, nothing listens (connection refused) — a peer that goes away
//! and comes back at the same address.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use tokio_util::sync::CancellationToken;

pub struct Gate {
    /// The gate's base URL (ends in `/`).
    pub url: String,
    port: u16,
    target: String,
    stop: Option<CancellationToken>,
}

impl Gate {
    /// An open gate in front of `target` (a base URL without a trailing slash).
    pub async fn open_to(target: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let mut gate = Self {
            url: format!("http://127.0.0.1:{port}/"),
            port,
            target: target.trim_end_matches('/').to_owned(),
            stop: None,
        };
        gate.serve(listener);
        gate
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let target = self.target.clone();
        let client = crate::http_client();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (client, target) = (client.clone(), target.clone());
                async move {
                    let path = uri.path_and_query().map_or("/", |p| p.as_str());
                    let mut request = client.request(method, format!("{target}{path}")).body(body);
                    for name in ["content-type", "accept"] {
                        if let Some(v) = headers.get(name) {
                            request = request.header(name, v);
                        }
                    }
                    match request.send().await {
                        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
                        Ok(answer) => {
                            let status = answer.status();
                            let kind = answer.headers().get("content-type").cloned();
                            let body = answer.bytes().await.unwrap_or_default();
                            let mut response = (status, body).into_response();
                            if let Some(kind) = kind {
                                response.headers_mut().insert("content-type", kind);
                            }
                            response
                        }
                    }
                }
            },
        );
        self.stop = Some(crate::receiver::serve_until_stopped(listener, app));
    }

    /// Stops listening: connections are refused until [`Gate::open`].
    pub async fn close(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.cancel();
        }
        // Until the port is free, the listener may still be draining.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the gate did not close");
    }

    /// Listens again on the same port.
    pub async fn open(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind the gate's port");
        self.serve(listener);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.cancel();
        }
    }
}
