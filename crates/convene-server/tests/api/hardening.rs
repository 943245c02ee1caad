//! Every hole a hostile client found, one test each, numbered as in the hardening issue. A new
//! hole gets its test here first.

use crate::admin_ui::{set_password, try_login_from};
use crate::support::World;
use convene_testkit::{Method, TestApp, app_tests};
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// Whether the server closes `stream` within `within` (reading whatever it sends first).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base_url.trim_start_matches("http://"))
        .await
        .expect("connects")
}

app_tests! {
    // 1. Failed sign-ins: a budget per address, and a lock per name and address, so someone
    // else's guesses never lock a real admin out.
    async fn h01_sign_in_failures_are_bounded_per_address_not_per_name(app: TestApp) {
        let _w = World::new(&app).await;
        set_password(&app, "Alice").await;
        let (attacker, alice, sprayer) = (loopback(2), loopback(3), loopback(4));
        for _ in 0..5 {
            let r = try_login_from(&app, attacker, "Alice", "wrong password!", Some(&app.base_url), None).await;
            assert_eq!(r.status, 401, "{}", r.text);
        }
        let r = try_login_from(&app, attacker, "Alice", "correct horse battery", Some(&app.base_url), None).await;
        assert_eq!(r.status, 429, "the guesser's own pair is locked: {}", r.text);
        let r = try_login_from(&app, alice, "Alice", "correct horse battery", Some(&app.base_url), None).await;
        assert_eq!(r.status, 303, "Alice, elsewhere, still signs in: {}", r.text);

        for i in 0..10 {
            let r = try_login_from(&app, sprayer, &format!("Random{i}"), "whatever at all", Some(&app.base_url), None).await;
            assert_eq!(r.status, 401, "{}", r.text);
        }
        let r = try_login_from(&app, sprayer, "Random99", "whatever at all", Some(&app.base_url), None).await;
        assert_eq!(r.status, 429, "random names spend the address's budget too: {}", r.text);
        let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        app.clock.advance(time::Duration::seconds(61));
        let r = try_login_from(&app, sprayer, "Random100", "whatever at all", Some(&app.base_url), None).await;
        assert_eq!(r.status, 401, "a new minute, a new budget: {}", r.text);
    }
}

app_tests! {
    config = |c| { c.http.header_timeout_s = 1; };

    // 2a. A connection that sends nothing, or a header a byte at a time, is closed.
    async fn h02_idle_and_slow_connections_are_closed(app: TestApp) {
        let mut idle = connect(&app).await;
        assert!(closed_within(&mut idle, Duration::from_secs(10)).await, "an idle connection is closed");

        let mut slow = connect(&app).await;
        let trickle = async {
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa" {
                if slow.write_all(&[*byte]).await.is_err() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            false
        };
        let cut_off = tokio::time::timeout(Duration::from_secs(10), trickle).await.unwrap_or(false);
        assert!(cut_off || closed_within(&mut slow, Duration::from_secs(1)).await, "a trickled header is cut off");

        let mut kept = connect(&app).await;
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        assert!(closed_within(&mut kept, Duration::from_secs(10)).await, "an idle kept-alive connection is closed after its answer");
        let r = app.call(Method::GET, "/healthz").send().await;
        assert_eq!(r.status, 200);
    }
}

app_tests! {
    config = |c| { c.http.max_connections = 3; };

    // 2b. Past the connection cap, new connections are closed at once; the server recovers.
    async fn h02_connections_past_the_cap_are_closed(app: TestApp) {
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(connect(&app).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut extra = connect(&app).await;
        assert!(closed_within(&mut extra, Duration::from_secs(3)).await, "the fourth is closed");
        drop(held);
        let mut served = false;
        for _ in 0..50 {
            let mut s = connect(&app).await;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer).await;
            if answer.starts_with("HTTP/1.1 200") {
                served = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(served, "slots come back when connections close");
    }
}
