//! The inference mode: whether the proxy replays, records or just forwards.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::RecordError;

/// How the proxy answers a provider request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum InferenceMode {
    /// Answer from the recordings only; never touch the network. A miss is
    /// a 404 so the OpenAI SDK in the stack does not retry it.
    #[default]
    Replay,
    /// Forward every request and store (overwrite) its exchange.
    Record,
    /// Replay what exists, forward and store what does not.
    RecordIfMissing,
    /// Forward only; store nothing.
    Live,
}

impl InferenceMode {
    pub(crate) const ALL: [InferenceMode; 4] = [
        InferenceMode::Replay,
        InferenceMode::Record,
        InferenceMode::RecordIfMissing,
        InferenceMode::Live,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InferenceMode::Replay => "replay",
            InferenceMode::Record => "record",
            InferenceMode::RecordIfMissing => "record-if-missing",
            InferenceMode::Live => "live",
        }
    }

    /// Whether this mode may contact a real upstream.
    pub(crate) fn uses_network(self) -> bool {
        self != InferenceMode::Replay
    }

    /// Whether this mode writes recordings.
    pub(crate) fn writes(self) -> bool {
        matches!(self, InferenceMode::Record | InferenceMode::RecordIfMissing)
    }
}

impl fmt::Display for InferenceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InferenceMode {
    type Err = RecordError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InferenceMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == s)
            .ok_or_else(|| RecordError::UnknownMode {
                value: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_round_trips_through_its_name() {
        for mode in InferenceMode::ALL {
            assert_eq!(mode.to_string().parse::<InferenceMode>().unwrap(), mode);
        }
        assert_eq!(InferenceMode::default(), InferenceMode::Replay);
        let network: Vec<bool> = InferenceMode::ALL
            .iter()
            .map(|m| m.uses_network())
            .collect();
        assert_eq!(network, [false, true, true, true]);
        let writes: Vec<bool> = InferenceMode::ALL.iter().map(|m| m.writes()).collect();
        assert_eq!(writes, [false, true, true, false]);
    }

    #[test]
    fn an_unknown_mode_lists_the_valid_ones() {
        let err = "foo".parse::<InferenceMode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown inference mode `foo`; expected one of: replay, record, record-if-missing, live"
        );
        // Names are exact: no case folding, no underscores.
        assert!("Replay".parse::<InferenceMode>().is_err());
        assert!("record_if_missing".parse::<InferenceMode>().is_err());
    }

    #[test]
    fn serde_uses_the_flag_spelling() {
        let json = serde_json::to_string(&InferenceMode::RecordIfMissing).unwrap();
        assert_eq!(json, "\"record-if-missing\"");
    }
}
