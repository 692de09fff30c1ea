//! The conformance harness (`support/harness.rs`), run against every HTTP connector and a
//! local server answering as its vendor does (`support/vendors.rs`).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use support::harness::{self, Jira, NetBox, Redmine, ServiceNow, Vendor};

macro_rules! conformance {
    ($($module:ident: $vendor:ty),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[tokio::test]
            async fn pages_completely_through_a_429_and_a_transient_500() {
                harness::complete::<$vendor>().await;
            }

            #[tokio::test]
            async fn a_request_that_times_out_is_retried() {
                harness::timeout::<$vendor>().await;
            }

            #[tokio::test]
            async fn refused_credentials_fail_the_source() {
                harness::permanent::<$vendor>(<$vendor as Vendor>::AUTH_STATUS).await;
            }

            #[tokio::test]
            async fn a_404_fails_the_source() {
                harness::permanent::<$vendor>(404).await;
            }

            #[tokio::test]
            async fn a_lasting_500_is_retried_a_bounded_number_of_times() {
                harness::exhausted::<$vendor>().await;
            }

            #[tokio::test]
            async fn a_malformed_page_is_reported_with_url_and_position() {
                harness::malformed::<$vendor>().await;
            }
        }
    )*};
}

conformance!(jira: Jira, servicenow: ServiceNow, redmine: Redmine, netbox: NetBox);
