# Refusals of the pure crates (quell-advisory, quell-registry) and of the store, by machine code
# (crate::refusals maps each variant to one of these). The English text is the crates' own
# English `Display`, word for word.

# The names of fields a refusal names (`field-<name>`; indexed ones get $i, the index, and $n,
# the position counted from 1).
field-title = title
field-summary = summary
field-consequences = consequences
field-solution = solution
field-revision-note = revision_note
field-translation-title = translation.title
field-translation-summary = translation.summary
field-translation-consequences = translation.consequences
field-translation-solution = translation.solution
field-products-supplier = products[{ $i }].supplier
field-products-product = products[{ $i }].product
field-products-versions = products[{ $i }].versions
field-components-range = components[{ $i }].range
field-references = references[{ $i }]
field-chance = chance
field-damage = damage
field-the-group-name = the group name
field-note = note
field-name = name
field-phone = phone
field-email = email
field-measure = measure
field-reason = reason
field-justification = justification
field-the-organisation-name = the organisation name
field-the-e-mail-address = the e-mail address
field-the-token-name = the token name
field-supplier = supplier
field-product = product
field-purl = purl
field-cpe = cpe
field-notes = notes
field-result = result
field-decision = decision
field-organisation = organisation
field-target-group = target group
field-user = user

# An advisory's content (quell_advisory::Invalid).
invalid-required = { $field } is required
invalid-too-long = { $field } is longer than { $max } bytes
invalid-control-characters = { $field } contains control characters
invalid-language = lang must be one of { $languages }, not { $lang }
invalid-translation-language = translation.lang must be the other language than { $original }, not { $lang }
invalid-title-one-line = the title is one line
invalid-translated-title-one-line = the translated title is one line
invalid-too-many-cves = at most { $max } CVEs
invalid-not-cve = cves[{ $index }] is not a CVE id like CVE-2021-44228: { $cve }
invalid-cve-twice = { $cve } is listed twice
invalid-too-many-products = at most { $max } products
invalid-too-many-components = at most { $max } components
invalid-component = components[{ $index }]: { $detail }
invalid-component-version-twice = components[{ $index }]: give the version in the purl or in range, not both
invalid-too-many-references = at most { $max } references
invalid-not-url = references[{ $index }] is not an http(s) URL: { $url }
invalid-override-reason = an override of { $which } needs a written reason
invalid-override-reason-too-long = the { $which } override reason is longer than { $max } bytes
invalid-prefix = an advisory prefix is 1 to { $max } upper-case letters or digits, starting with a letter: { $prefix }
invalid-identifier = not an advisory identifier PREFIX-YYYY-NNNN: { $text }
invalid-version = not an advisory version like 1.00: { $text }
invalid-csaf = not a valid CSAF 2.0 document: { $problem }
csaf-no-document = no /document
csaf-missing = { $pointer } is missing
csaf-version = /document/csaf_version must be 2.0
csaf-no-revision-history = /document/tracking/revision_history is missing or empty
csaf-needs-vulnerabilities = a csaf_security_advisory needs /vulnerabilities
csaf-needs-product-tree = a csaf_security_advisory needs /product_tree
csaf-not-cve = /vulnerabilities/{ $index }/cve is not a CVE id
csaf-undefined-product = /vulnerabilities/{ $index }/product_status uses undefined product { $product }

# The registry's rules (quell_registry::RuleBroken).
rule-supplier-empty = supplier is empty
rule-product-empty = product is empty
rule-no-source-link = at least one source link (vendor statement) is required
rule-link-not-url = link { $link } is not an http(s) URL
rule-not-cve = { $cve } is not a CVE id (CVE-YYYY-NNNN)
rule-fix-without-version = { $cve }: status fix requires a released fixed version (without one it is a workaround)
rule-purl = purl { $purl } does not start with pkg:
rule-cpe = CPE { $cpe } does not start with cpe:
rule-separator = ;{" "}

# The store (quell_store::Refusal).
refusal-bad-name = { $what } must be 1 to { $max } bytes without control characters
refusal-password-too-short = a password needs at least { $min } characters
refusal-email-needs-at = the e-mail address needs an @
refusal-coordinator-without-org = a coordinator belongs to no organisation
refusal-member-needs-org = an organisation admin or member needs an organisation
refusal-org-id-required = org_id is required
refusal-org-exists = an organisation named { $name } exists
refusal-user-exists = a user { $email } exists
refusal-add-users = only organisation admins and coordinators add users
refusal-list-users = only organisation admins and coordinators list users
refusal-manage-accounts = only organisation admins and coordinators manage accounts
refusal-own-account = you cannot disable or remove your own account
refusal-wrong-password = the current password is wrong
refusal-own-password-reset = change your own password with your current one instead
refusal-two-factor-policy = only coordinators set the two-factor policy
refusal-second-factor-exists = a second factor is set up already: remove it first
refusal-no-enrolment = no enrolment to confirm (or that code was used)
refusal-own-second-factor = turn off your own second factor with a current code instead
refusal-sso-unknown-org = the organisation { $name } does not exist here
refusal-sso-no-org = the provider named no organisation for this account
refusal-account-disabled = this account is disabled
refusal-sso-other-org = the provider names another organisation than this account's: an admin must move it
refusal-too-many-recipients = at most { $max } recipients
refusal-no-recipient = recipients: no { $what } { $id }
refusal-too-many-members = at most { $max } members
refusal-no-target-group = no target group { $id }
refusal-group-cycle = group { $id } contains this group (directly or through others): that would be a cycle
refusal-no-organisation = no organisation { $id }
refusal-group-exists = a target group named { $name } exists
refusal-group-name-taken = another target group has that name
refusal-version-published = version { $version } is published and cannot change: create a new version
refusal-still-draft = version { $version } is still a draft: edit or publish it
refusal-concurrent-version = another new version was started at the same time
refusal-nothing-to-publish = nothing to publish: the newest version is already published
refusal-publish-needs-product = publishing needs at least one affected product or component
refusal-published-meanwhile = this version was published meanwhile
refusal-not-one-of = { $field } must be one of { $allowed }
refusal-decision-needs = a { $decision } decision needs { $what }
refusal-risk-accepted-expiry = a risk_accepted decision needs expires_at in the future
refusal-webhook-url = the webhook URL must be an http(s) URL
refusal-contact-one-line = contact fields are one line each
refusal-already-imported = { $tracking_id } version { $version } of { $publisher } is already imported
refusal-subscribed = { $url } is subscribed already
refusal-entry-exists = entry { $other } already has this supplier and product ({ $supplier } / { $product })
refusal-entry-exists-merge = entry { $other } already has this supplier and product ({ $supplier } / { $product }): merge the two instead
refusal-entry-just-created = an entry for { $supplier } / { $product } was just created
refusal-entry-changed = entry { $id } changed since revision { $revision } (or was merged): reload it and apply your change again
refusal-merged-entry-changed = entry { $id } changed since revision { $revision }
refusal-already-merged = one of the entries was already merged
refusal-changed-since-seen = an entry changed since the revision you saw
refusal-merge-into-itself = an entry cannot be merged into itself
refusal-unknown-status = unknown status { $status } (expected vulnerable, fix, workaround, not_vulnerable or under_investigation)
refusal-not-cve = { $text } is not a CVE id (CVE-YYYY-NNNN)
refusal-product-required = supplier and product are required (or an entry_id)
refusal-propose-on-merged = entry { $id } was merged into entry { $target }: propose there
refusal-proposal-state = proposal { $id } is already { $state }
refusal-reason-required = a reason is required
refusal-proposal-decided = proposal { $id } was already decided
refusal-confirmation-answered = confirmation request { $id } was already answered

# The API's `message` of refusals, after the kind (as the English `Display` of the error).
api-conflict = conflict: { $message }
api-forbidden = forbidden: { $message }
api-unauthorized = authentication required: { $message }
api-not-found = not found: { $message }
api-too-many = too many requests: { $message }

# Signed detection packs (quell_packs::signed::SignatureError).
pack-unsigned = unsigned: no minisign signature came with the pack
pack-malformed = malformed signature: { $why }
pack-wrong-key = signed by another key: key id { $signed_by }, but the pinned key is { $pinned } (re-sign with the pinned key, or pin the new public key too)
pack-bad-signature = bad signature: the pack or its trusted comment was changed after signing (tampered)
pack-no-expiry = no expiry: the trusted comment { $comment } has no { $key }<RFC 3339 time> (sign with -t "quell-pack expires=2027-03-01T00:00:00Z")
pack-bad-expiry = bad expiry: { $key }{ $value } is not an RFC 3339 time (2027-03-01T00:00:00Z)
pack-expired = expired: the signature was valid until { $expires_at }; re-sign the pack with a later expiry
pack-invalid = signed, but not a valid pack: { $errors }

# OpenPGP keys for encrypted e-mail, and webhook URLs (the server's own checks).
key-no-encryption-subkey = the key has no subkey for encryption (flags: encrypt communications or storage)
key-secret-register-public = this is a secret key: register the public key only (gpg --armor --export)
key-not-armored-public = not an ASCII-armored OpenPGP public key: { $detail }
key-self-signatures = the key's self-signatures do not verify: { $detail }
key-file-too-large = a key file is at most { $max } bytes
webhook-start-https = the webhook URL must start with https://
webhook-use-https = the webhook URL must use https (advisories are sent to it)
webhook-https-url = the webhook URL must be an https URL
webhook-credentials = the webhook URL must not carry a user name or password
webhook-no-host = the webhook URL names no host
webhook-private = the webhook URL points at a loopback, private or link-local address ({ $ip })

# What was not found (quell_store::Missing); the English is the store's own text.
missing-thing = { $what } { $id }
missing-advisory-version = advisory { $advisory } version { $version }
missing-not-affected-system = { $system } is not an affected system of this advisory
missing-no-supplier-org = no organisation on this platform speaks for { $supplier }
missing-no-pack = no current pack named { $name }
missing-no-org-named = no organisation named { $name }
missing-no-user-email = no user { $email }
missing-user-or-disabled = user { $id } (or it is disabled)
missing-reset-link = this reset link is unknown, used or expired: ask your administrator for a new one
thing-advisory = advisory
thing-imported-advisory = imported advisory
thing-call-list-entry = call list entry
thing-target-group = target group
thing-subscription = subscription
thing-host = host
thing-report = report
thing-user = user
thing-organisation = organisation
thing-registry-entry = registry entry
thing-confirmation-request = confirmation request
thing-product = product
thing-notification = notification
thing-proposal = proposal
not-found-openpgp-key = OpenPGP key { $file }
not-found-csaf-folder = CSAF folder { $folder }
not-found-csaf-directory = CSAF directory { $dir }
not-found-csaf-unsigned = { $file }.asc: this provider does not sign
not-found-no-published-version = advisory { $id } has no published version
not-found-supplier-entries = no registry entries of supplier { $supplier }
not-found-sso-off = single sign-on is not set up on this server ({ $path })

# Package URLs and version ranges that do not parse (quell_model::purl, quell_model::vers); the
# English is the parsers' own text.
purl-error = not a package URL: { $problem } (write pkg:TYPE/NAMESPACE/NAME[@VERSION], e.g. pkg:maven/org.apache.commons/commons-text)
purl-bad-escape = bad percent escape in { $text }
purl-invalid-utf8 = { $text } decodes to invalid UTF-8
purl-too-long = longer than { $max } bytes
purl-control-characters = it contains control characters
purl-no-scheme = { $text } has no pkg: scheme
purl-no-type = { $text } has no type
purl-not-a-type = type { $kind } is not a purl type
purl-no-name = { $text } has no name
purl-maven-shape = { $text }: a maven purl is pkg:maven/GROUP/ARTIFACT
purl-empty-version = { $text } has an empty version
vers-error = not a version range: { $text }{ $problem } (write vers:maven/>=2.0|<2.17.1, [2.0,2.17.1), 2.0..<2.17.1, one version, or *)
vers-no-scheme = vers: needs a scheme, e.g. vers:maven/>=1.0
vers-scheme-not-purl-type = the vers scheme is not a purl type
vers-too-many-constraints = more than { $max } constraints
vers-empty-constraint = an empty constraint
vers-star-not-alone = * must be the only constraint
vers-no-version = { $part } has no version
vers-twice = version { $version } appears twice
vers-two-lower-bounds = two lower bounds follow each other (bounds must alternate)
vers-two-upper-bounds = two upper bounds follow each other (bounds must alternate)
vers-maven-start = a Maven range starts with [ or (
vers-maven-not-closed = a Maven range is not closed with ] or )
vers-trailing-comma = a trailing comma
vers-maven-separator = Maven ranges are separated by commas
vers-too-many-ranges = more than { $max } ranges
vers-one-version-brackets = one version is written [V]
vers-two-bounds = a range has two bounds
vers-lower-above-upper = the lower bound is above the upper bound
vers-too-long = longer than { $max } bytes
vers-empty = empty
vers-white-space = white space or control characters inside a version
vers-control-characters = control characters
vers-not-pack-range = not a LO..HI range
vers-not-one-version = not one version
