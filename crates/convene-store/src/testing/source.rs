//! Inbound sources: unique names, tokens by hash, receipts logged with their signal at once.

use super::{TestStore, now, outbox_types};
use crate::{Conflict, Receipt, Signal, Source, StoreError};
use serde_json::json;

fn receipt(source: &str, id: &str, status: u16, signal: Option<&str>) -> Receipt {
    Receipt {
        id: id.into(),
        source_id: source.into(),
        status,
        reason: (status != 202).then(|| "bad".into()),
        content_type: Some("application/json".into()),
        body: "{}".into(),
        signal_id: signal.map(str::to_owned),
        received_at: now(),
    }
}

pub async fn sources_log_what_they_receive_with_its_signal(store: TestStore) {
    let t = now();
    let lms = Source {
        id: "src-1".into(),
        name: "lms".into(),
        kind: "openedx-webhooks".into(),
        token_sha256: "aa".into(),
        secret_sealed: None,
        id_member: None,
        created_at: t,
    };
    store.create_source(&lms).await.unwrap();
    let twin = Source {
        id: "src-2".into(),
        token_sha256: "bb".into(),
        ..lms.clone()
    };
    assert!(matches!(
        store.create_source(&twin).await,
        Err(StoreError::Conflict(Conflict::SourceName))
    ));
    assert_eq!(
        store.source_by_token("aa").await.unwrap(),
        Some(lms.clone())
    );
    assert!(store.set_source_token("src-1", "cc").await.unwrap());
    assert!(store.source_by_token("aa").await.unwrap().is_none());

    let signal = Signal {
        id: "src-1:e1".into(),
        event_type: "org.openedx.learning.student.registration.completed.v1".into(),
        data: json!({"user": {"id": 7}}),
        source: "openedx/lms/web".into(),
        occurred_at: t,
        subject: None,
    };
    assert!(
        store
            .receive(
                &receipt("src-1", "r1", 202, Some("src-1:e1")),
                Some(&signal)
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .receive(
                &receipt("src-1", "r2", 202, Some("src-1:e1")),
                Some(&signal)
            )
            .await
            .unwrap(),
        "a repeat is logged only"
    );
    assert!(
        !store
            .receive(&receipt("src-1", "r3", 422, None), None)
            .await
            .unwrap()
    );
    let log = store.receipts("src-1", 10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(
        store
            .receipt("r3")
            .await
            .unwrap()
            .unwrap()
            .reason
            .as_deref(),
        Some("bad")
    );
    let types = outbox_types(&store).await;
    assert_eq!(
        types
            .iter()
            .filter(|t| t.starts_with("org.openedx"))
            .count(),
        1,
        "{types:?}"
    );
    assert!(store.delete_source("src-1").await.unwrap());
    assert!(
        store.receipt("r1").await.unwrap().is_none(),
        "the log goes with its source"
    );
}
