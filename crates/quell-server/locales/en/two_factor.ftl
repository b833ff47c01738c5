# Two-factor login: the code step, enrolment, recovery codes, the coordinators' policy.
nav-two-factor = Two-factor login
two-factor-title = Two-factor login
two-factor-login-intro = Enter the 6-digit code from your authenticator app, or one of your recovery codes.
two-factor-code = Code
two-factor-expired = This login took too long or had too many wrong codes. Log in again.
two-factor-wrong = That code is wrong or was used already.
two-factor-must-enrol = Your organisation's policy requires a second factor for your account: set it up before you continue.
two-factor-scan = Scan this QR code with an authenticator app (for example FreeOTP, Aegis or Google Authenticator).
two-factor-or-type = Or type this key into the app:
two-factor-confirm = Confirm
two-factor-on =
    { $left ->
        [one] Two-factor login is on. You have 1 unused recovery code.
       *[other] Two-factor login is on. You have { $left } unused recovery codes.
    }
two-factor-remove-code = A current code or a recovery code
two-factor-remove = Turn two-factor login off
two-factor-enrolled = Two-factor login is on: from now on every login asks for a code.
two-factor-recovery-intro = Your recovery codes, each usable once when you do not have your authenticator. They are shown only now: print them or keep them in a password manager.
two-factor-continue = Continue
two-factor-required = The two-factor policy requires a second factor for this account: set it up on /account/two-factor first.
two-factor-required-by-policy = The two-factor policy requires a second factor for your account; it cannot be turned off.
two-factor-policy = Two-factor login is required for
two-factor-policy-off = nobody (anyone may turn it on)
two-factor-policy-coordinators = coordinators
two-factor-policy-sensitive = coordinators, and anyone who reads TLP:AMBER+STRICT or TLP:RED
two-factor-policy-set = Save
two-factor-policy-unknown = Unknown policy: use off, coordinators or sensitive.
users-two-factor = Two-factor
users-two-factor-on = on
users-two-factor-remove = Remove second factor
code-two_factor_enabled = second factor set up
code-two_factor_removed = second factor removed
code-two_factor_policy = two-factor policy changed
