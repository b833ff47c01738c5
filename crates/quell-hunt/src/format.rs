//! Log formats: which field of a line a payload sits in, the source IP and the time.
//!
//! Recognised: the combined and common access-log formats (Apache, nginx) and JSON lines. Any
//! other line is plain text: the whole line is one field with no name.

/// One field of a log line to examine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name (`uri`, `referer`, `user_agent`, a JSON key path), `None` for plain text.
    pub name: Option<String>,
    /// Byte offset of the field's text within the line (for JSON values: of the value token).
    pub offset: usize,
    /// The field's text (for JSON: the unescaped string value).
    pub text: String,
}

/// What a line's format tells about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineContext {
    /// Source IP of the request, when the format carries one.
    pub source_ip: Option<String>,
    /// Time of the line, RFC 3339 in UTC where it could be converted.
    pub time: Option<String>,
}

/// Splits a line into fields according to its recognised format.
pub fn parse_line(line: &[u8]) -> (LineContext, Vec<Field>) {
    if let Some(r) = parse_json(line) {
        return r;
    }
    let text = String::from_utf8_lossy(line);
    if let Some(r) = parse_access(&text) {
        return r;
    }
    let text = text.into_owned();
    (LineContext::default(), vec![Field { name: None, offset: 0, text }])
}

const IP_KEYS: &[&str] = &[
    "remote_addr",
    "remoteaddr",
    "remote_ip",
    "client_ip",
    "clientip",
    "client",
    "src_ip",
    "source_ip",
    "sourceip",
    "c-ip",
    "ip",
    "x_forwarded_for",
];
const TIME_KEYS: &[&str] = &["@timestamp", "timestamp", "time", "datetime", "date", "ts", "time_local", "eventtime"];

fn parse_json(line: &[u8]) -> Option<(LineContext, Vec<Field>)> {
    let trimmed = line.trim_ascii();
    if !(trimmed.starts_with(b"{") && trimmed.ends_with(b"}")) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(trimmed).ok()?;
    let mut ctx = LineContext::default();
    let mut fields = Vec::new();
    let lead = line.len() - line.trim_ascii_start().len();
    walk_json(&value, &mut String::new(), &mut ctx, &mut fields, lead);
    Some((ctx, fields))
}

fn walk_json(v: &serde_json::Value, path: &mut String, ctx: &mut LineContext, out: &mut Vec<Field>, offset: usize) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if let serde_json::Value::String(s) = child {
                    let key = k.to_ascii_lowercase();
                    if ctx.source_ip.is_none() && IP_KEYS.contains(&key.as_str()) && looks_like_ip(s) {
                        ctx.source_ip = Some(s.clone());
                    }
                    if ctx.time.is_none() && TIME_KEYS.contains(&key.as_str()) {
                        ctx.time = Some(normalise_time(s));
                    }
                }
                walk_json(child, path, ctx, out, offset);
                path.truncate(len);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk_json(child, path, ctx, out, offset);
                path.truncate(len);
            }
        }
        serde_json::Value::String(s) => {
            out.push(Field { name: Some(path.clone()), offset, text: s.clone() });
        }
        _ => {}
    }
}

fn normalise_time(s: &str) -> String {
    parse_clf_time(s).unwrap_or_else(|| s.to_owned())
}

fn looks_like_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// `IP IDENT USER [TIME] "REQUEST" STATUS SIZE ["REFERER" "USER_AGENT"]`.
fn parse_access(s: &str) -> Option<(LineContext, Vec<Field>)> {
    // Cheap rejection: the fourth token opens with `[`.
    if !s.as_bytes().first().is_some_and(|b| b.is_ascii_hexdigit() || *b == b':') || !s.contains(" [") {
        return None;
    }
    let mut p = 0;
    let ip = token(s, &mut p)?;
    let _ident = token(s, &mut p)?;
    let _user = token(s, &mut p)?;
    skip_spaces(s, &mut p);
    if !s[p..].starts_with('[') {
        return None;
    }
    let close = s[p..].find(']')? + p;
    let time = &s[p + 1..close];
    p = close + 1;
    skip_spaces(s, &mut p);
    let (req_off, request) = quoted(s, &mut p)?;
    let mut fields = Vec::new();
    // The request line: METHOD URI PROTOCOL. Attribute the URI when the line splits that way.
    let parts: Vec<&str> = request.splitn(3, ' ').collect();
    if parts.len() == 3 {
        let uri_off = req_off + parts[0].len() + 1;
        fields.push(Field { name: Some("method".into()), offset: req_off, text: parts[0].to_owned() });
        fields.push(Field { name: Some("uri".into()), offset: uri_off, text: parts[1].to_owned() });
        fields.push(Field {
            name: Some("protocol".into()),
            offset: uri_off + parts[1].len() + 1,
            text: parts[2].to_owned(),
        });
    } else {
        fields.push(Field { name: Some("request".into()), offset: req_off, text: request.to_owned() });
    }
    let _status = token(s, &mut p);
    let _size = token(s, &mut p);
    skip_spaces(s, &mut p);
    if let Some((off, referer)) = quoted(s, &mut p) {
        fields.push(Field { name: Some("referer".into()), offset: off, text: referer.to_owned() });
        skip_spaces(s, &mut p);
        if let Some((off, ua)) = quoted(s, &mut p) {
            fields.push(Field { name: Some("user_agent".into()), offset: off, text: ua.to_owned() });
        }
    }
    // Anything after the known fields (extra quoted fields, headers): one more field.
    skip_spaces(s, &mut p);
    if p < s.len() {
        fields.push(Field { name: Some("extra".into()), offset: p, text: s[p..].to_owned() });
    }
    let ctx = LineContext {
        source_ip: looks_like_ip(ip).then(|| ip.to_owned()),
        time: Some(parse_clf_time(time).unwrap_or_else(|| time.to_owned())),
    };
    Some((ctx, fields))
}

fn skip_spaces(s: &str, p: &mut usize) {
    while s.as_bytes().get(*p) == Some(&b' ') {
        *p += 1;
    }
}

fn token<'s>(s: &'s str, p: &mut usize) -> Option<&'s str> {
    skip_spaces(s, p);
    let start = *p;
    let end = s[start..].find(' ').map_or(s.len(), |i| i + start);
    if end == start {
        return None;
    }
    *p = end;
    Some(&s[start..end])
}

/// A double-quoted field with `\"` and `\\` escapes (kept as written). Returns its text offset.
fn quoted<'s>(s: &'s str, p: &mut usize) -> Option<(usize, &'s str)> {
    let b = s.as_bytes();
    if b.get(*p) != Some(&b'"') {
        return None;
    }
    let start = *p + 1;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => {
                *p = i + 1;
                return Some((start, &s[start..i]));
            }
            _ => i += 1,
        }
    }
    None
}

/// A civil (proleptic Gregorian, UTC) date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl Civil {
    pub fn from_unix_millis(ms: i64) -> Civil {
        let secs = ms.div_euclid(1000);
        let millis = ms.rem_euclid(1000) as u32;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Civil {
            year: if m <= 2 { y + 1 } else { y },
            month: m,
            day: d,
            hour: (rem / 3600) as u32,
            minute: ((rem % 3600) / 60) as u32,
            second: (rem % 60) as u32,
            millis,
        }
    }

    fn to_unix_seconds(self) -> i64 {
        let y = if self.month <= 2 { self.year - 1 } else { self.year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)
    }

    /// RFC 3339 in UTC, seconds precision.
    pub fn rfc3339(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// One `SimpleDateFormat` field of `count` repetitions of `letter` (the common ones exactly,
    /// the rare ones as numbers).
    pub fn field(&self, letter: char, count: usize) -> String {
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let num = |v: i64| format!("{v:0count$}");
        match letter {
            'y' | 'Y' | 'u' if count == 2 => format!("{:02}", self.year % 100),
            'y' | 'Y' | 'u' => num(self.year),
            'M' | 'L' if count >= 3 => MONTHS[(self.month as usize + 11) % 12].to_owned(),
            'M' | 'L' => num(i64::from(self.month)),
            'd' => num(i64::from(self.day)),
            'H' | 'k' => num(i64::from(self.hour)),
            'h' | 'K' => num(i64::from(if self.hour.is_multiple_of(12) { 12 } else { self.hour % 12 })),
            'm' => num(i64::from(self.minute)),
            's' => num(i64::from(self.second)),
            'S' => num(i64::from(self.millis)),
            'a' => (if self.hour < 12 { "AM" } else { "PM" }).to_owned(),
            'z' => "UTC".to_owned(),
            'Z' => "+0000".to_owned(),
            'X' => "Z".to_owned(),
            'G' => "AD".to_owned(),
            _ => num(0),
        }
    }
}

/// Converts a Common Log Format time (`13/Dec/2021:03:27:46 +0000`) to RFC 3339 UTC.
pub fn parse_clf_time(s: &str) -> Option<String> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let (dt, tz) = s.split_once(' ').unwrap_or((s, "+0000"));
    let mut parts = dt.splitn(4, ':');
    let date = parts.next()?;
    let hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = parts.next()?.parse().ok()?;
    let mut d = date.split('/');
    let day: u32 = d.next()?.parse().ok()?;
    let mon = d.next()?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
    let year: i64 = d.next()?.parse().ok()?;
    let tzb = tz.as_bytes();
    if tzb.len() != 5 || !(tzb[0] == b'+' || tzb[0] == b'-') {
        return None;
    }
    let tzh: i64 = tz[1..3].parse().ok()?;
    let tzm: i64 = tz[3..5].parse().ok()?;
    let sign = if tzb[0] == b'-' { -1 } else { 1 };
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let local = Civil { year, month, day, hour, minute, second, millis: 0 }.to_unix_seconds();
    let utc = local - sign * (tzh * 3600 + tzm * 60);
    Some(Civil::from_unix_millis(utc * 1000).rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_time() {
        assert_eq!(parse_clf_time("13/Dec/2021:03:27:46 +0000").as_deref(), Some("2021-12-13T03:27:46Z"));
        assert_eq!(parse_clf_time("11/Dec/2021:12:00:00 +0200").as_deref(), Some("2021-12-11T10:00:00Z"));
    }

    #[test]
    fn access_fields() {
        let line = br#"45.83.67.63 - - [13/Dec/2021:03:27:46 +0000] "GET /x HTTP/1.1" 404 360 "-" "UA""#;
        let (ctx, fields) = parse_line(line);
        assert_eq!(ctx.source_ip.as_deref(), Some("45.83.67.63"));
        let names: Vec<_> = fields.iter().filter_map(|f| f.name.clone()).collect();
        assert_eq!(names, ["method", "uri", "protocol", "referer", "user_agent"]);
        let ua = fields.iter().find(|f| f.name.as_deref() == Some("user_agent")).expect("ua");
        assert_eq!(&line[ua.offset..ua.offset + 2], b"UA");
    }
}
