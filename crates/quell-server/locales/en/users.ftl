# Managing accounts, one's own password, password-reset links, the audit log.
nav-users = Accounts
nav-audit = Audit log
nav-password = Change your password
users-title = Accounts
users-pick-org = Choose an organisation:
users-email = E-mail address
users-role = Role
users-state = State
users-active = active
users-disabled = disabled
users-enable = Enable
users-disable = Disable
users-remove = Remove
users-reset = Reset link
users-reset-issued = One-time password-reset link for { $email }, valid until { $expires }, shown only now:
users-reset-emailed = It was e-mailed to its owner.
users-reset-not-emailed = It was not e-mailed: hand it to its owner yourself, by a channel you trust.
password-title = Change your password
password-current = Current password
password-new = New password (at least { $min } characters)
password-repeat = New password again
password-change = Change password
password-mismatch = The two new passwords differ.
password-wrong-current = The current password is wrong.
password-too-short = A password needs at least { $min } characters.
reset-title = Set a new password
reset-for = A new password for { $email }. Every session of the account ends; log in afterwards.
reset-submit = Set password
reset-gone = This reset link is unknown, used or expired. Ask your administrator for a new one.
reset-mail-subject = quell: set a new password
reset-mail-text =
    An administrator issued a link for you to set a new password for quell:

    { $url }

    It works once, until { $expires }. If you did not expect it, tell your administrator.
audit-title = Audit log
audit-all = every action
audit-filter = Show
audit-export-csv = Export as CSV
audit-export-jsonl = Export as JSON lines
audit-at = When
audit-actor = Who
audit-action = Action
audit-target = What
audit-detail = Detail
audit-older = Older events
code-login = logged in
code-login_failed = failed login
code-account_created = account created
code-account_disabled = account disabled
code-account_enabled = account enabled
code-account_removed = account removed
code-password_changed = password changed
code-password_reset_issued = reset link issued
code-password_reset = password reset
code-advisory_read = advisory read
code-advisory_exported = advisory exported
code-advisory_delivered = advisory delivered
code-inventory_read = inventory read
code-inventory_exported = inventory exported
