//! Flags of `mttx serve`, the Arrow Flight SQL endpoint (cargo feature `serve`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The store to serve, as `mttx load --out` made it. Loads into it show up without a restart.
    #[arg(long, short, value_name = "STORE")]
    pub input: PathBuf,

    /// Address to listen on. Without --token-file only a loopback address is taken.
    #[arg(long, default_value = "127.0.0.1:50060", value_name = "HOST:PORT")]
    pub bind: String,

    /// A file holding the bearer token every call must carry (re-read on SIGHUP).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Serve TLS with this certificate (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// SLA policy (TOML) for the SLA KPIs and functions; default: the built-in policy.
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,

    /// Each query's time limit, from planning to its last row, the wait for a slot included:
    /// such as 60s, 2m or 500ms.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = duration)]
    pub query_timeout: Duration,

    /// A result with more rows fails (RESOURCE_EXHAUSTED); it is never cut short.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_rows: usize,

    /// Queries running at once; up to 64 more wait. Default: the number of cores.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent: Option<u16>,
}

/// `60s`, `2m`, `500ms`, `1h`, or a number of seconds.
fn duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?}: give a duration such as 60s, 2m or 500ms"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1e3,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: the unit is one of ms, s, m, h")),
    };
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!("{text:?}: give a duration from 1ms to 24h"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_with_units() {
        assert_eq!(duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(duration("0s").is_err());
        assert!(duration("5 minutes").is_err());
        assert!(duration("").is_err());
    }
}
