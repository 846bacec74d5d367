//! Transaction listings: booking statuses, history, the value-date filter, paging by
//! `_links.next`, the named hooks.

use chrono::{Days, NaiveDate, Utc};
use futures::TryStreamExt;
use psd2_registry::{BookingStatusKind, DateField, Hook};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::account::AccountId;
use crate::api::{AccountInformation, Bank};
use crate::error::ErrorKind;
use crate::transaction::{BookingStatus, TransactionQuery, TransactionStatus};

const TX_PATH: &str = "/v1/accounts/a1/transactions";

async fn page(server: &MockServer, status: &str, report: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .and(query_param("bookingStatus", status))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"transactions": report})))
        .mount(server)
        .await;
}

fn ids(list: &[crate::Transaction]) -> Vec<(String, TransactionStatus)> {
    list.iter()
        .map(|t| {
            (
                t.transaction_id.as_ref().unwrap().as_str().to_owned(),
                t.status.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn both_at_a_bank_refusing_it_is_asked_as_booked_then_pending() {
    let server = MockServer::start().await;
    page(
        &server,
        "booked",
        json!({"booked": [tx("b1", "-1.00", Some("2026-01-02"), None)]}),
    )
    .await;
    page(
        &server,
        "pending",
        json!({"pending": [tx("p1", "-2.00", None, None)]}),
    )
    .await;
    let bank = bank(&server, |e| {
        e.profile.transactions.booking_statuses =
            vec![BookingStatusKind::Booked, BookingStatusKind::Pending];
    });
    let query = TransactionQuery::new(None, None, BookingStatus::Both);
    let account = AccountId::new("a1");
    let list: Vec<_> = bank
        .transactions(&session(), &present(), &account, &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        ids(&list),
        [
            ("b1".to_owned(), TransactionStatus::Booked),
            ("p1".to_owned(), TransactionStatus::Pending)
        ]
    );
    let sent = server.received_requests().await.unwrap();
    let statuses: Vec<String> = sent.iter().map(|r| query_of(r, "bookingStatus")).collect();
    assert_eq!(statuses, ["booked", "pending"]);

    // A bank that offers `both` is asked once.
    let server = MockServer::start().await;
    page(&server, "both", json!({"booked": [], "pending": []})).await;
    let bank = super::bank(&server, |_| {});
    let list: Vec<_> = bank
        .transactions(&session(), &present(), &account, &query)
        .try_collect()
        .await
        .unwrap();
    assert!(list.is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Pending at a bank without pending entries is refused before sending.
    let only_booked = super::bank(&server, |e| {
        e.profile.transactions.booking_statuses = vec![BookingStatusKind::Booked];
    });
    let pending = TransactionQuery::new(None, None, BookingStatus::Pending);
    let error = only_booked
        .transactions(&session(), &present(), &account, &pending)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(error.kind, ErrorKind::Unsupported { .. }));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

fn query_of(request: &wiremock::Request, name: &str) -> String {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn date_from_beyond_the_history_is_moved_up_and_date_to_before_it_is_refused() {
    let server = MockServer::start().await;
    page(&server, "booked", json!({"booked": []})).await;
    let bank = bank(&server, |e| e.profile.transactions.history_days = 90);
    let today = Utc::now().date_naive();
    let long_ago = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let query = TransactionQuery::new(Some(long_ago), Some(today), BookingStatus::Booked);
    let account = AccountId::new("a1");
    let _: Vec<_> = bank
        .transactions(&session(), &present(), &account, &query)
        .try_collect()
        .await
        .unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    let earliest = today.checked_sub_days(Days::new(90)).unwrap();
    assert_eq!(query_of(sent, "dateFrom"), earliest.to_string());
    assert_eq!(query_of(sent, "dateTo"), today.to_string());

    let too_old = TransactionQuery::new(Some(long_ago), Some(long_ago), BookingStatus::Booked);
    let error = bank
        .transactions(&session(), &present(), &account, &too_old)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.detail().unwrap().contains("dateTo"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_value_date_filter_is_widened_and_entries_kept_by_booking_date() {
    let server = MockServer::start().await;
    page(
        &server,
        "booked",
        json!({"booked": [
            tx("before", "-1.00", Some("2026-02-27"), Some("2026-03-01")),
            tx("inside", "-2.00", Some("2026-03-05"), Some("2026-03-04")),
            tx("after", "-3.00", Some("2026-04-01"), Some("2026-03-31")),
        ]}),
    )
    .await;
    let bank = bank(&server, |e| {
        e.profile.transactions.date_filter = DateField::ValueDate;
        e.profile.transactions.history_days = 3650;
    });
    let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    let query = TransactionQuery::new(Some(from), Some(to), BookingStatus::Booked);
    let list: Vec<_> = bank
        .transactions(&session(), &present(), &AccountId::new("a1"), &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        ids(&list),
        [("inside".to_owned(), TransactionStatus::Booked)]
    );
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(query_of(sent, "dateFrom"), "2026-02-22");
    assert_eq!(query_of(sent, "dateTo"), "2026-04-07");
}

#[tokio::test]
async fn every_page_is_followed_by_its_next_link_with_the_query_kept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": {
                "booked": [tx("t2", "-2.00", Some("2026-01-02"), None)]
            }})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(TX_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": {
                "booked": [tx("t1", "-1.00", Some("2026-01-01"), None)],
                "_links": {"next": {"href": format!("{TX_PATH}?page=2")}}
            }})),
        )
        .mount(&server)
        .await;
    let bank = bank(&server, |_| {});
    let query = TransactionQuery::new(None, None, BookingStatus::Booked);
    let account = AccountId::new("a1");
    let pages: Vec<_> = bank
        .transaction_pages(&session(), &present(), &account, &query, None)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert!(pages[0].next.is_some());
    assert!(pages[1].next.is_none());
    let sent = server.received_requests().await.unwrap();
    assert_eq!(query_of(&sent[1], "page"), "2");
    assert_eq!(
        query_of(&sent[1], "bookingStatus"),
        "booked",
        "the query is put back"
    );

    // Resuming at the stored cursor fetches the second page only.
    let resumed: Vec<_> = bank
        .transaction_pages(
            &session(),
            &present(),
            &account,
            &query,
            pages[0].next.clone(),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(
        resumed[0].entries[0]
            .as_ref()
            .unwrap()
            .transaction_id
            .as_ref()
            .unwrap()
            .as_str(),
        "t2"
    );
}

#[tokio::test]
async fn named_hooks_fix_entries() {
    let server = MockServer::start().await;
    page(
        &server,
        "both",
        json!({
            "booked": [{"entryReference": "ref-1", "bookingDate": "2026-01-01",
                        "transactionAmount": {"currency": "EUR", "amount": "-1.00"}}],
            "pending": [{"transactionId": "p1", "valueDate": "2026-01-03",
                         "transactionAmount": {"currency": "EUR", "amount": "-2.00"}}]
        }),
    )
    .await;
    let query = TransactionQuery::new(None, None, BookingStatus::Both);
    let account = AccountId::new("a1");
    let plain = bank(&server, |_| {});
    let list: Vec<_> = plain
        .transactions(&session(), &present(), &account, &query)
        .try_collect()
        .await
        .unwrap();
    assert!(list[0].transaction_id.is_none());
    assert!(list[1].booking_date.is_none());
    let hooked = bank(&server, |e| {
        e.profile.hooks = vec![
            Hook::EntryReferenceAsTransactionId,
            Hook::ValueDateForPending,
        ];
    });
    let list: Vec<_> = hooked
        .transactions(&session(), &present(), &account, &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(list[0].transaction_id.as_ref().unwrap().as_str(), "ref-1");
    assert_eq!(list[1].booking_date, NaiveDate::from_ymd_opt(2026, 1, 3));
}

#[tokio::test]
async fn structured_remittance_is_read_in_both_versions_of_the_standard() {
    let server = MockServer::start().await;
    let mut old = tx("old", "-1.00", Some("2026-01-01"), None);
    old["remittanceInformationStructured"] = json!("123456789");
    let mut new = tx("new", "-2.00", Some("2026-01-02"), None);
    new["remittanceInformationStructured"] =
        json!({"reference": "RF18539007547034", "referenceType": "SCOR"});
    page(&server, "booked", json!({"booked": [old.clone(), new]})).await;
    Mock::given(method("GET"))
        .and(path(format!("{TX_PATH}/old")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"transactionsDetails": old})))
        .mount(&server)
        .await;
    let bank = bank(&server, |_| {});
    let query = TransactionQuery::new(None, None, BookingStatus::Booked);
    let account = AccountId::new("a1");
    let list: Vec<_> = bank
        .transactions(&session(), &present(), &account, &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(list[0].remittance_structured.as_deref(), Some("123456789"));
    assert_eq!(
        list[1].remittance_structured.as_deref(),
        Some("RF18539007547034")
    );
    let details = bank
        .transaction_details(
            &session(),
            &present(),
            &account,
            &crate::TransactionId::new("old"),
        )
        .await
        .unwrap();
    assert_eq!(details.remittance_structured.as_deref(), Some("123456789"));
    assert_eq!(details.status, TransactionStatus::Booked);
}

#[tokio::test]
async fn card_transactions_are_read_from_their_own_resource() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/card-accounts/c1/transactions"))
        .and(query_param("bookingStatus", "booked"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"cardTransactions": {
            "booked": [{
                "cardTransactionId": "ct-1", "bookingDate": "2026-01-02", "transactionDate": "2026-01-01",
                "transactionAmount": {"currency": "EUR", "amount": "-12.30"},
                "originalAmount": {"currency": "SEK", "amount": "-140.00"},
                "maskedPAN": "525412******3241", "transactionDetails": "Cafe"
            }]
        }})))
        .mount(&server)
        .await;
    let bank = bank(&server, |e| e.profile.accounts.card_accounts = true);
    let cards = bank.as_card_account_information().unwrap();
    let query = TransactionQuery::new(None, None, BookingStatus::Booked);
    let account = AccountId::new("c1");
    let list: Vec<_> = cards
        .card_transactions(&session(), &present(), &account, &query)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].transaction_id.as_ref().unwrap().as_str(), "ct-1");
    assert_eq!(list[0].amount.amount.to_string(), "-12.30");
    let card = list[0].card.as_ref().unwrap();
    assert_eq!(card.masked_pan.as_deref(), Some("525412******3241"));
    assert_eq!(
        card.original_amount.as_ref().unwrap().currency.as_str(),
        "SEK"
    );
    assert_eq!(
        list[0].transaction_date,
        NaiveDate::from_ymd_opt(2026, 1, 1)
    );

    // Without card accounts in the profile nothing is sent.
    let plain = super::bank(&server, |_| {});
    let error = crate::api::CardAccountInformation::card_transactions(
        &plain,
        &session(),
        &present(),
        &account,
        &query,
    )
    .try_collect::<Vec<_>>()
    .await
    .unwrap_err();
    assert!(matches!(error.kind, ErrorKind::Unsupported { .. }));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
