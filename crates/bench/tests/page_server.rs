//! The page server answers recorded requests with the sandbox's exact bytes, in any query
//! order, and forwards everything else to the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use psd2_bench::page_server::PageServer;
use psd2_bench::setup::{self, Settings};
use psd2_bench::stream::{self, Target};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_pages_come_back_byte_for_byte() {
    // 1,200 transactions in pages of 500: three pages.
    let env = setup::start(&Settings {
        history_size: 1_200,
        page_size: 500,
        faults: Vec::new(),
    })
    .await
    .unwrap();
    let target = Target::of(&env).unwrap();
    let headers = target.headers().unwrap();
    let http = reqwest::Client::new();
    let mut pages = PageServer::new(&env.base_url).unwrap();
    let crawl = pages
        .crawl(&http, &target.first_page(), &headers)
        .await
        .unwrap();
    assert_eq!((crawl.pages, crawl.items), (3, 1_200));
    assert_eq!(crawl.requests.len(), 3);
    let server = pages.start().await.unwrap();
    assert!(
        server.base_url().ends_with("/openpayments"),
        "{}",
        server.base_url()
    );

    // Every page, as the sandbox sends it now and as the page server sends it.
    let mut total = 0u64;
    for href in &crawl.requests {
        let direct = http
            .get(format!("{}{href}", env.base_url))
            .headers(headers.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(direct.status(), 200);
        let direct = direct.bytes().await.unwrap();
        let served = http
            .get(format!("{}{href}", server.base_url()))
            .header("X-Request-ID", "1b4e28ba-2fa1-11d2-883f-0016d3cca427")
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(
            served.headers()["x-request-id"],
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "the request id is echoed, as the sandbox does"
        );
        assert!(
            served.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let served = served.bytes().await.unwrap();
        assert_eq!(served, direct, "{href}");
        total += served.len() as u64;
    }
    assert_eq!(crawl.bytes, total);

    // The same first page with its query in another order: from memory too.
    let (from, to) = target.dates;
    let reordered = format!(
        "{}/psd2/accountinformation/v1/accounts/{}/transactions?dateTo={to}&dateFrom={from}&bookingStatus=both",
        server.base_url(),
        target.account
    );
    let body: Value = http
        .get(&reordered)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["transactions"]["booked"].as_array().unwrap().len()
            + body["transactions"]["pending"].as_array().unwrap().len(),
        500
    );
    let stats = server.stats();
    assert_eq!((stats.served, stats.forwarded), (4, 0));

    // Anything else goes to the sandbox: a window that was not recorded, with the headers
    // it needs, and a call without a token (the sandbox's 401 comes back unchanged).
    let other = format!(
        "{}/psd2/accountinformation/v1/accounts/{}/transactions?bookingStatus=booked&dateFrom={from}&dateTo={to}",
        server.base_url(),
        target.account
    );
    let resp = http
        .get(&other)
        .headers(headers.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = http
        .get(format!(
            "{}/psd2/accountinformation/v1/accounts",
            server.base_url()
        ))
        .header("X-Request-ID", "1b4e28ba-2fa1-11d2-883f-0016d3cca427")
        .header("X-BicFi", setup::BIC)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(server.stats().forwarded, 2);

    // The clients pull every transaction from it.
    let at = Target {
        base_url: server.base_url().to_string(),
        ..target
    };
    for mode in [
        stream::Mode::Facade,
        stream::Mode::Raw,
        stream::Mode::Floor,
        stream::Mode::Parse,
    ] {
        let outcome = stream::run_at(&at, mode).await.unwrap();
        assert_eq!((outcome.items, outcome.pages), (1_200, 3), "{mode:?}");
    }
}
