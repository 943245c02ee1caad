//! A TCP forwarder on a loopback port, in front of a database server: it passes bytes both ways
//! until told to turn into a black hole, which cuts every open connection and then accepts new
//! ones without ever answering (a server that hangs, the hardest outage to notice).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub struct TcpGate {
    pub port: u16,
    holes: Arc<AtomicBool>,
    cut: Arc<std::sync::Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl TcpGate {
    /// Forwards 127.0.0.1:`port` to `target` (`host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let gate = Self {
            port,
            holes: Arc::new(AtomicBool::new(false)),
            cut: Arc::new(std::sync::Mutex::new(CancellationToken::new())),
            stop: CancellationToken::new(),
        };
        let (holes, cut, stop, target) = (
            gate.holes.clone(),
            gate.cut.clone(),
            gate.stop.clone(),
            target.to_owned(),
        );
        tokio::spawn(async move {
            let mut swallowed = Vec::new();
            loop {
                let (mut inbound, _) = tokio::select! {
                    accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                    () = stop.cancelled() => return,
                };
                if holes.load(Ordering::SeqCst) {
                    swallowed.push(inbound);
                    continue;
                }
                let cut = cut.lock().expect("gate state").clone();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        () = cut.cancelled() => {}
                    }
                });
            }
        });
        gate
    }

    /// Cuts every open connection; new ones are accepted and never answered.
    pub fn black_hole(&self) {
        self.holes.store(true, Ordering::SeqCst);
        let mut cut = self.cut.lock().expect("gate state");
        cut.cancel();
        *cut = CancellationToken::new();
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.holes.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpGate {
    fn drop(&mut self) {
        self.stop.cancel();
        self.cut.lock().expect("gate state").cancel();
    }
}
