//! `h2-settings-stall`: the server's side of the HTTP/2 preface never completes.

use serde::{Deserialize, Serialize};

use crate::conn::Exchange;
use crate::conn::http2::frame;
use crate::fault::{BoxFuture, FaultLeaf, Handling, Misbehave, setters};
use crate::journal::Ending;

/// What an [`H2SettingsStall`] withholds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Withhold {
    /// The server's SETTINGS: nothing is ever sent.
    #[default]
    Settings,
    /// The ACK of the client's SETTINGS: the server sends its own SETTINGS,
    /// then nothing more.
    Ack,
}

/// Accepts the connection and reads the client's preface, but never
/// completes its own side: no SETTINGS (or no ACK of the client's), no
/// answer to any stream. The connection never becomes usable; a client
/// waits for its SETTINGS timeout, if it has one, or its read timeout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct H2SettingsStall {
    /// What is withheld.
    pub withhold: Withhold,
}

setters! {
    H2SettingsStall {
        /// What is withheld (default [`Withhold::Settings`]).
        withhold: Withhold,
    }
}

impl Misbehave for H2SettingsStall {
    fn run<'a>(&'a self, exchange: &'a mut Exchange) -> BoxFuture<'a, Ending> {
        Box::pin(async move {
            match self.withhold {
                Withhold::Settings => exchange.did("never sent the server's SETTINGS"),
                Withhold::Ack => {
                    exchange.did("sent the server's SETTINGS, never acknowledged the client's");
                    if exchange.conn.send(&frame::empty_settings()).await.is_err() {
                        return Ending::ClientRst;
                    }
                }
            }
            exchange.conn.until_client_leaves().await
        })
    }
}

impl FaultLeaf for H2SettingsStall {
    fn handling(&self) -> Handling<'_> {
        Handling::Misbehave(self)
    }

    fn is_http2(&self) -> bool {
        true
    }

    fn acts_before_request(&self) -> bool {
        true
    }
}
