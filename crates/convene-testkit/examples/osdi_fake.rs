//! The fake Action Network server on its own, for `bench/osdi`: `osdi_fake PEOPLE PER_PAGE`
//! prints its entry point, then serves until killed.

use convene_testkit::osdi::{OsdiFake, person};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let per_page: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(25);
    let people = (0..n)
        .map(|i| {
            person(
                &format!("an-{i}"),
                "Given",
                &format!("Family{i}"),
                &format!("p{i}@example.org"),
            )
        })
        .collect();
    let fake = OsdiFake::start(people, per_page).await;
    println!("{}", fake.entry_point);
    std::future::pending::<()>().await;
}
