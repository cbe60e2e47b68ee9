//! Loopback networking for the processes we start: port checks and a
//! dependency-free HTTP status probe.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::ProcessError;

/// True when nothing listens on 127.0.0.1:`port` and we could bind it.
pub(crate) fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A port on 127.0.0.1 that was free a moment ago (the kernel's choice).
pub(crate) fn free_port() -> Result<u16, ProcessError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(ProcessError::NoFreePort)
}

/// The answer to one HTTP GET, as shown in messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    Status(u16),
    /// Nothing listening.
    Refused,
    /// Connected, but no well-formed answer in time, or a bad URL.
    Failed(String),
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Probe::Status(code) => write!(f, "GET answered {code}"),
            Probe::Refused => f.write_str("connection refused"),
            Probe::Failed(why) => f.write_str(why),
        }
    }
}

/// One HTTP/1.1 GET to a plain-http URL, status code only. Blocking and
/// dependency-free so it works in and out of an async runtime; the servers
/// it checks are on loopback.
pub(crate) fn probe(url: &str, timeout: Duration) -> Probe {
    let parsed = match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" => u,
        Ok(u) => {
            return Probe::Failed(format!(
                "cannot check `{url}`: scheme `{}` is not http",
                u.scheme()
            ));
        }
        Err(e) => return Probe::Failed(format!("bad URL `{url}`: {e}")),
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return Probe::Failed(format!("bad URL `{url}`: no host"));
    };
    let addrs: Vec<SocketAddr> = match (host.trim_matches(['[', ']']), port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => return Probe::Failed(format!("cannot resolve `{host}`: {e}")),
    };
    let mut stream = None;
    for addr in &addrs {
        if let Ok(s) = TcpStream::connect_timeout(addr, timeout) {
            stream = Some(s);
            break;
        }
    }
    let Some(mut stream) = stream else {
        return Probe::Refused;
    };
    let target = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let host_header = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let answer = (|| -> io::Result<Vec<u8>> {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.write_all(request.as_bytes())?;
        let mut head = Vec::new();
        let mut buf = [0u8; 256];
        // The status line is all we need.
        while !head.contains(&b'\n') && head.len() < 4096 {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok(head)
    })();
    match answer {
        Ok(head) => parse_status_line(&head)
            .map(Probe::Status)
            .unwrap_or_else(|| Probe::Failed("no HTTP answer".to_owned())),
        Err(e) => Probe::Failed(format!("no HTTP answer: {e}")),
    }
}

fn parse_status_line(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

/// `127.0.0.1:8321` out of a URL, for progress lines.
pub(super) fn display_host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)))
        .unwrap_or_else(|| url.to_owned())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A one-shot HTTP server answering every connection with `status`.
    pub(in crate::process) fn http_answering(status: &'static str) -> u16 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            }
        });
        port
    }

    #[test]
    fn ports_report_free_and_held() {
        let port = free_port().unwrap();
        assert!(port_is_free(port));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        assert!(!port_is_free(port));
        drop(listener);
    }

    #[test]
    fn probe_reads_status_lines_and_rejects_bad_urls() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(
            parse_status_line(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(parse_status_line(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(
            probe("https://127.0.0.1:1/v1/health", Duration::from_millis(100)).to_string(),
            "cannot check `https://127.0.0.1:1/v1/health`: scheme `https` is not http"
        );
        assert_eq!(
            probe("not a url", Duration::from_millis(100)).to_string(),
            "bad URL `not a url`: relative URL without a base"
        );
        assert_eq!(
            display_host("http://127.0.0.1:8321/v1/health"),
            "127.0.0.1:8321"
        );
    }
}
