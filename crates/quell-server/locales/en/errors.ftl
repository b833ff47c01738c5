# Error messages on pages and in the API's JSON `message`.
error-internal = Internal error (see the server log).
api-internal = internal error (see the server log)
error-not-found = Not found.
error-log-in = Please log in.
error-line = line { $line }: { $message }
error-coordinators-only = This page is for coordinators.
error-org-page = Coordinators see counts per organisation, on the dashboard.
error-form-token = Missing or wrong form token.
error-form-incomplete = The form is incomplete: { $detail }
error-unknown-scope = Unknown scope.
error-unknown-language = Unknown language.
api-send-bearer = send Authorization: Bearer <token>
api-unknown-token = unknown or revoked token
api-upload-only = this token may only upload reports
api-coordinators-only = coordinators only
api-org-data = this is an organisation's own data: coordinators see counts per organisation, not its hosts
api-log-in = log in
api-admins-only = organisation admins only
api-coordinator-upload = a coordinator belongs to no organisation: upload with an organisation's token
error-managers-only = This page is for organisation admins and coordinators.

# The server's own refusals in the API's `message` (and on pages where they show).
api-report-inflates = the report inflates to more than { $max } bytes
api-line-too-long = the line is longer than { $max } bytes
api-record-after-summary = a record follows the summary (line { $at }); the summary must be last
api-not-scan-record = not a scan record: { $detail }
api-too-many-records = more than { $max } records in one report
api-no-summary = the report has no summary record (the last line of a scan report)
api-summary-findings = the summary counts { $counted } findings but the report holds { $held }
api-summary-components = the summary counts { $counted } components but the report holds { $held }
api-summary-host = the summary's host { $summary } differs from ?host={ $query }
api-summary-no-host = the summary names no host: upload with a current quell or add ?host=NAME
api-host-name = the host name must be 1 to { $max } bytes without control characters
api-finished-at = finished_at { $text } is not an RFC 3339 time
api-upload-inflates = the upload inflates to more than { $max } bytes
api-not-gzip = the body is not valid gzip: { $detail }
api-not-json = the body is not JSON: { $detail }
api-version-twice = give the version either in the purl (@2.14.1) or as range=, not both
api-sbom-system = name the host or application: ?system=NAME (the SBOM names no subject)
api-system-name = the system name must be 1 to { $max } bytes without control characters
api-indicator-line-too-long = lines[{ $index }]: longer than { $raw } bytes (raw) or { $file } (file)
api-coordinators-see-counts = coordinators see counts per organisation (/api/v1/orgs), not their hosts
api-not-rfc3339 = { $what } { $text } is not an RFC 3339 time
api-time-out-of-range = { $what } { $text } is before 2000 or in the future
api-pack-no-versions = detection pack { $pack } names no affected versions for this advisory's CVEs
api-log-in-progress = log in to see progress
api-if-match-disagree = If-Match and base_revision disagree
api-base-revision-required = the base revision is required (If-Match header or base_revision field)
api-components-purl = give purl=pkg:maven/GROUP/ARTIFACT (and range=vers:maven/... if you like)
api-no-pack-keys = this server takes no packs: start quell serve with --pack-public-key
api-no-pack-named = no pack named { $name } was ever uploaded
api-no-host-sharing = this organisation does not share its host names
api-role = role must be coordinator, admin or member
api-audit-readers = only coordinators and organisation admins read the audit log
api-import-needs-tlp = /document/distribution/tlp/label is missing or unknown: an import needs a TLP label
api-access-token = the access token is one line of at most { $max } bytes
api-forward-tlp = a forward is marked TLP:{ $tlp } or stricter
api-name-target-group = name at least one target group
