//! The two context values a caller has to make for a report, made without a clock or a random
//! source of our own: RFC 3339 timestamps from Unix seconds, and version-4 UUID URNs from bits the
//! caller supplies.

/// `1639094400` → `2021-12-10T00:00:00Z` (proleptic Gregorian, UTC): `quell_model::time`'s
/// formatter for the unsigned seconds a report carries.
pub fn rfc3339_utc(unix_secs: u64) -> String {
    quell_model::time::format_rfc3339(i64::try_from(unix_secs).unwrap_or(i64::MAX))
}

/// A `urn:uuid:` version-4 (random) UUID from 128 bits the caller drew; the version and variant bits
/// are set here.
pub fn uuid_v4(bits: u128) -> String {
    let bits = (bits & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!("urn:uuid:{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_639_094_400), "2021-12-10T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400 + 86_399), "2000-02-29T23:59:59Z");
        assert_eq!(rfc3339_utc(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn uuids_are_version_4_rfc_4122() {
        let u = uuid_v4(u128::MAX);
        assert_eq!(u, "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff");
        let u = uuid_v4(0);
        assert_eq!(u, "urn:uuid:00000000-0000-4000-8000-000000000000");
    }
}
