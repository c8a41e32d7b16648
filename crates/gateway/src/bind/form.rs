//! Form bodies: `application/x-www-form-urlencoded` and `multipart/form-data`.
//!
//! Both are parsed from the buffered body (the pipeline has already bounded its size) into raw
//! `(name, value)` pairs; file parts of a multipart body are not request DTO members and are
//! left out.

use std::borrow::Cow;

/// Why a form body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormError(pub(crate) String);

/// Decodes an `application/x-www-form-urlencoded` body (`+` is a space, `%xx` a byte; bytes
/// that are not UTF-8 are replaced). Pairs without `=` are dropped: a bare key carries no
/// value (the TypeScript client writes `?field` for a null member).
pub(crate) fn parse_urlencoded(
    body: &[u8],
    max_items: usize,
) -> Result<Vec<(String, String)>, FormError> {
    let mut out = Vec::new();
    for pair in body.split(|&b| b == b'&') {
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        if out.len() >= max_items {
            return Err(FormError(format!(
                "The form holds more than {max_items} fields"
            )));
        }
        out.push((
            decode_component(&pair[..eq]),
            decode_component(&pair[eq + 1..]),
        ));
    }
    Ok(out)
}

fn decode_component(raw: &[u8]) -> String {
    let plus_as_space: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The `boundary` parameter of a `multipart/form-data` content type, unquoted.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        // RFC 2046: 1 to 70 characters.
        (!value.is_empty() && value.len() <= 70).then(|| value.to_string())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let rest = hay.get(from..)?;
    if needle.is_empty() {
        return None;
    }
    rest.windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Parses a `multipart/form-data` body into its non-file fields.
///
/// Lenient where clients differ (a bare `\n` ends lines too, a missing closing delimiter ends
/// the last part at the end of the body), strict where guessing would bind the wrong thing (a
/// part without a `name` is skipped).
pub(crate) fn parse_multipart(
    body: &[u8],
    boundary: &str,
    max_items: usize,
) -> Result<Vec<(String, String)>, FormError> {
    let delimiter = format!("--{boundary}").into_bytes();
    let Some(first) = find(body, &delimiter, 0) else {
        return Err(FormError(
            "The multipart body does not contain its boundary".to_string(),
        ));
    };
    // Every later delimiter starts a line.
    let mut next_delim = b"\n".to_vec();
    next_delim.extend_from_slice(&delimiter);
    let mut pos = first + delimiter.len();
    let mut out = Vec::new();
    let mut parts = 0usize;
    loop {
        // After a delimiter: `--` closes the body, otherwise the rest of the line is padding.
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        let Some(eol) = find(body, b"\n", pos) else {
            break;
        };
        let headers_start = eol + 1;
        let rest = body.get(headers_start..).unwrap_or_default();
        let (headers, content_start) = if rest.starts_with(b"\r\n") {
            (&rest[..0], headers_start + 2)
        } else if rest.starts_with(b"\n") {
            (&rest[..0], headers_start + 1)
        } else {
            // Headers end at the first blank line, CRLF or bare LF, whichever comes first.
            match (
                find(body, b"\r\n\r\n", headers_start),
                find(body, b"\n\n", headers_start),
            ) {
                (Some(i), Some(j)) if i < j => (&body[headers_start..i], i + 4),
                (Some(i), None) => (&body[headers_start..i], i + 4),
                (_, Some(j)) => (&body[headers_start..j], j + 2),
                // Headers that run to the end of the body: nothing to bind.
                (None, None) => break,
            }
        };
        let (content_end, after) = match find(body, &next_delim, content_start) {
            Some(i) => {
                let end = if i > content_start && body.get(i - 1) == Some(&b'\r') {
                    i - 1
                } else {
                    i
                };
                (end, i + next_delim.len())
            }
            None => (body.len(), body.len()),
        };
        parts += 1;
        if parts > max_items {
            return Err(FormError(format!(
                "The form holds more than {max_items} fields"
            )));
        }
        let content = body
            .get(content_start..content_end.max(content_start))
            .unwrap_or_default();
        if let Some(name) = field_name(headers) {
            out.push((name, String::from_utf8_lossy(content).into_owned()));
        }
        if after >= body.len() {
            break;
        }
        pos = after;
    }
    Ok(out)
}

/// The `name` of a `Content-Disposition: form-data` part, or `None` for a file part or a part
/// without a name.
fn field_name(headers: &[u8]) -> Option<String> {
    let headers = String::from_utf8_lossy(headers);
    let line = headers.lines().find(|l| {
        l.split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let (_, value) = line.split_once(':')?;
    let mut name = None;
    for param in split_params(value).into_iter().skip(1) {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.eq_ignore_ascii_case("filename") || k.eq_ignore_ascii_case("filename*") {
            return None;
        }
        if k.eq_ignore_ascii_case("name") {
            name = Some(unquote(v.trim()));
        }
    }
    name.filter(|n| !n.is_empty())
}

/// Splits header parameters on `;` outside double quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut s = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                } else {
                    s.push(c);
                }
            }
            s
        }
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded() {
        let f = parse_urlencoded(b"a=1+2&b=%41%2Cx&flag&=v&c=", 10).unwrap();
        let want: Vec<(String, String)> = [("a", "1 2"), ("b", "A,x"), ("", "v"), ("c", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(f, want);
        assert!(parse_urlencoded(b"a=1&b=2&c=3", 2).is_err());
    }

    #[test]
    fn boundary_param() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("multipart/form-data;BOUNDARY=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn multipart() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"accountId\"\r\n\r\nA\r\n\
--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
--XX\r\ncontent-disposition: form-data; name=notes\r\n\r\nline1\r\nline2\r\n--XX--\r\n";
        let f = parse_multipart(body, "XX", 10).unwrap();
        assert_eq!(
            f,
            vec![
                ("accountId".into(), "A".into()),
                ("notes".into(), "line1\r\nline2".into())
            ]
        );
        assert!(parse_multipart(body, "XX", 1).is_err());
        assert!(parse_multipart(b"garbage", "XX", 10).is_err());
        // Bare LF line ends, no closing delimiter.
        let lf = b"--b\nContent-Disposition: form-data; name=\"x\"\n\n1\n--b\nContent-Disposition: form-data; name=\"y\"\n\n2";
        let f = parse_multipart(lf, "b", 10).unwrap();
        assert_eq!(f, vec![("x".into(), "1".into()), ("y".into(), "2".into())]);
    }

    #[test]
    fn multipart_never_panics_on_junk() {
        let inputs: [&[u8]; 8] = [
            b"--b",
            b"--b\r\n",
            b"--b\r\n\r\n",
            b"--b\r\nX\r\n\r\n--b",
            b"--b--",
            b"x--b\n\n\n--b\n",
            b"--b\n\n",
            b"--b-",
        ];
        for i in inputs {
            let _ = parse_multipart(i, "b", 10);
        }
    }
}
