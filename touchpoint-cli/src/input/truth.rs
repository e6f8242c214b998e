//! Ground-truth files (`*.truth.json`): `{"channels": {name: {"share": f, ...}}}`,
//! as `touchpoint simulate` writes and the shipped sample's truth is.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{CliError, Result};

#[derive(Debug, Deserialize)]
struct ChannelLine {
    share: f64,
}

#[derive(Debug, Deserialize)]
struct TruthFile {
    channels: BTreeMap<String, ChannelLine>,
}

/// True conversion shares per channel.
pub fn read(file: &str, data: &[u8]) -> Result<Vec<(String, f64)>> {
    let mut de = serde_json::Deserializer::from_slice(data);
    let t: TruthFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        CliError::data(
            file,
            Some(inner.line() as u64),
            (path != ".").then_some(path.as_str()),
            inner.to_string(),
        )
    })?;
    Ok(t.channels.into_iter().map(|(k, v)| (k, v.share)).collect())
}
