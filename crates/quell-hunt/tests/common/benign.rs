//! A generator of benign logs: access-log lines, application lines with harmless `${...}`
//! placeholders, configuration dumps, JSON lines, HTML entities, percent-encoded dollars and
//! non-ASCII text. None of it should make quell alert. Shared by the tests and the benchmark
//! (`examples/benign_log.rs`).
#![allow(dead_code)]

use std::io::{self, Write};

#[path = "rng.rs"]
mod rng;
#[allow(unused_imports)] // Not every user of the generator makes one itself.
pub use rng::Rng;

const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/api/v1/users?id=42&sort=desc",
    "/static/app.3f9a1c.js",
    "/search?q=caf%C3%A9+cr%C3%A8me&page=2",
    "/img/logo.png",
    "/login?next=%2Fadmin%2Fsettings",
    "/wp-login.php",
    "/api/v2/orders/123456/items",
    "/docs/%E6%97%A5%E6%9C%AC%E8%AA%9E.html",
    "/feed.xml?format=rss&lang=de",
];
const UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.93 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:95.0) Gecko/20100101 Firefox/95.0",
    "curl/7.79.1",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.1 Mobile/15E148 Safari/604.1",
];
const REFERERS: &[&str] =
    &["-", "https://www.example.com/", "https://search.example.org/?q=log4j+patch", "android-app://com.example"];
const APP: &[&str] = &[
    "INFO  [main] com.example.config.Loader - Resolved ${app.home}/conf/application.yml",
    "DEBUG [pool-3-thread-7] org.hibernate.SQL - select u.id, u.name from users u where u.id=?",
    "WARN  [http-nio-8080-exec-4] c.e.web.Filter - Unresolved placeholder ${server.port:8080} in template",
    "INFO  [main] o.s.b.StartupInfoLogger - Starting Application v2.4.1 using Java 11.0.13 on host-17 with PID 4242",
    "ERROR [worker-2] c.e.billing.Invoice - Betrag ungültig: 12,50 € für Kunde Müller (Straße 7)",
    "INFO  [main] c.e.i18n.Messages - 日本語のメッセージを読み込みました: ${messages.count} 件",
    "INFO  [sched-1] c.e.jobs.Cleanup - Removed 17 files from ${java.io.tmpdir}",
    "DEBUG [main] c.e.Env - PATH=$PATH:${HOME}/bin:/usr/local/bin",
    "INFO  [mail] c.e.Mail - Template rendered: Dear ${customer.firstName}, your order &#35;123 costs &#36;49.99 &amp; ships today",
    "WARN  [main] c.e.Prices - Price string '$%d.%02d' has unexpected format",
    "INFO  [main] c.e.Shell - Running: echo \"${USER:-nobody}\" > /tmp/out",
    "TRACE [io] c.e.Bytes - payload hex \\x48\\x65\\x6c\\x6c\\x6f and octal \\110\\151 and json \\u00e9t\\u00e9",
    "INFO  [ws] c.e.Chat - Сообщение доставлено пользователю Иван 👍",
];
const CONFIG: &[&str] = &[
    "solutionUser.ownerId = ${solution-user.name}@${vmdir.domain-name}",
    "endpoint0.url = https://${system.urlhostname}:${rhttpproxy.ext.port2}/invsvc",
    "spring.datasource.url = jdbc:mysql://${DB_HOST:localhost}:${DB_PORT:3306}/app?useSSL=false",
    " Prosti fizični nosilci:  ${FREE_PVS}\\n Uporabljeni fizični nosilci:  ${USED_PVS}",
    "logging.pattern.console = %d{yyyy-MM-dd HH:mm:ss} ${LOG_LEVEL_PATTERN:-%5p} %m%n",
    "ldap.url = ldap://${LDAP_HOST}:389/dc=example,dc=com",
    "jndi.datasource = java:comp/env/jdbc/${db.name}",
];

/// The mix of line kinds (per 1000 lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// Placeholder-heavy, to hunt for false positives: 890 access-log lines, 90 application
    /// lines (about half with `${...}`, `$%`, `&#36;` or escapes), 12 JSON lines, 8
    /// configuration-dump lines; about 8% of lines reach the evaluator.
    Dense,
    /// Closer to a web server's log: 970 access-log lines, 20 application lines, 5 JSON lines,
    /// 5 configuration-dump lines; about 2.5% of lines reach the evaluator.
    Typical,
    /// [`Mix::Typical`] where a quarter of the lines end with a harmless placeholder
    /// ([`PLACEHOLDER_TAILS`]: unresolved properties, templates, shell variables), as many
    /// real logs do.
    Placeholders,
}

/// The harmless `${...}` endings of [`Mix::Placeholders`].
pub const PLACEHOLDER_TAILS: &[&str] = &[
    " cfg=${env:HOME:-/home/app}",
    " template=${user.name}",
    " path=${sys:java.io.tmpdir}/upload",
    " port=${PORT:-8080}",
    " msg=\"Hello ${name}, your order ${order.id} shipped\"",
    " db=jdbc:postgresql://${DB_HOST:-localhost}:${DB_PORT:-5432}/app",
    " build=${project.version}-${git.commit.id.abbrev}",
    " home=${HOME}",
];

/// One benign line.
pub fn benign_line(g: &mut Rng, n: u64) -> String {
    benign_line_mix(g, n, Mix::Dense)
}

/// One benign line of the given mix.
pub fn benign_line_mix(g: &mut Rng, n: u64, mix: Mix) -> String {
    if mix == Mix::Placeholders {
        let mut line = benign_line_mix(g, n, Mix::Typical);
        if g.below(4) == 0 {
            let tail = g.pick(PLACEHOLDER_TAILS);
            line.push_str(tail);
        }
        return line;
    }
    let ip = format!("{}.{}.{}.{}", 10 + g.below(200), g.below(256), g.below(256), 1 + g.below(254));
    let sec = n % 60;
    let min = (n / 60) % 60;
    // 1 in 100 access-log lines carries a percent-encoded dollar (`%24`).
    let path = if g.below(100) == 0 { "/cart?price=%2450.00&currency=USD" } else { *g.pick(PATHS) };
    let (access, app, json) = match mix {
        Mix::Dense => (890, 980, 992),
        Mix::Typical | Mix::Placeholders => (970, 990, 995),
    };
    let kind = g.below(1000);
    let kind = if kind < access {
        0
    } else if kind < app {
        890
    } else if kind < json {
        980
    } else {
        999
    };
    match kind {
        0 => format!(
            "{ip} - - [11/Dec/2021:10:{min:02}:{sec:02} +0000] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\"",
            g.pick(&["GET", "GET", "GET", "POST", "HEAD"]),
            path,
            g.pick(&["200", "200", "304", "404", "500"]),
            g.below(50_000),
            g.pick(REFERERS),
            g.pick(UAS)
        ),
        890 => format!("2021-12-11 10:{min:02}:{sec:02},{:03} {}", g.below(1000), g.pick(APP)),
        980 => format!(
            "{{\"time\":\"2021-12-11T10:{min:02}:{sec:02}Z\",\"level\":\"info\",\"remote_addr\":\"{ip}\",\"msg\":\"{}\"}}",
            g.pick(&[
                "user ${user} logged in",
                "cache hit for key ${tenant}/${id}",
                "ok",
                "Grüße aus Köln",
                "price is $5 (or &dollar;5)",
            ])
        ),
        _ => format!("2021-03-12T00:12:{sec:02}.861Z config dump: {}", g.pick(CONFIG)),
    }
}

/// Writes about `target_bytes` of benign log. `plant(line_number)` may replace a line (1-based).
/// Returns the number of lines written.
pub fn write_benign_log<W: Write>(
    w: &mut W,
    target_bytes: u64,
    seed: u64,
    mix: Mix,
    mut plant: impl FnMut(u64) -> Option<String>,
) -> io::Result<u64> {
    let mut g = Rng(seed | 1);
    let mut written = 0u64;
    let mut n = 0u64;
    let mut buf = String::with_capacity(1 << 16);
    while written < target_bytes {
        n += 1;
        let line = plant(n).unwrap_or_else(|| benign_line_mix(&mut g, n, mix));
        buf.push_str(&line);
        buf.push('\n');
        written += line.len() as u64 + 1;
        if buf.len() > 60_000 {
            w.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    w.write_all(buf.as_bytes())?;
    Ok(n)
}
