# Inloggen met twee factoren: de code, het instellen, herstelcodes, het beleid van de coördinatoren.
nav-two-factor = Tweestapsverificatie
two-factor-title = Tweestapsverificatie
two-factor-login-intro = Vul de code van 6 cijfers uit uw authenticator-app in, of een van uw herstelcodes.
two-factor-code = Code
two-factor-expired = Deze inlogpoging duurde te lang of had te veel verkeerde codes. Log opnieuw in.
two-factor-wrong = Die code is onjuist of al gebruikt.
two-factor-must-enrol = Het beleid vereist voor uw account een tweede factor: stel die in voordat u verdergaat.
two-factor-scan = Scan deze QR-code met een authenticator-app (bijvoorbeeld FreeOTP, Aegis of Google Authenticator).
two-factor-or-type = Of typ deze sleutel in de app:
two-factor-confirm = Bevestigen
two-factor-on =
    { $left ->
        [one] Tweestapsverificatie staat aan. U hebt nog 1 ongebruikte herstelcode.
       *[other] Tweestapsverificatie staat aan. U hebt nog { $left } ongebruikte herstelcodes.
    }
two-factor-remove-code = Een actuele code of een herstelcode
two-factor-remove = Tweestapsverificatie uitzetten
two-factor-enrolled = Tweestapsverificatie staat aan: voortaan vraagt elke inlog om een code.
two-factor-recovery-intro = Uw herstelcodes, elk eenmaal te gebruiken als u uw authenticator niet bij de hand hebt. Ze worden alleen nu getoond: druk ze af of bewaar ze in een wachtwoordkluis.
two-factor-continue = Verder
two-factor-required = Het beleid voor tweestapsverificatie vereist een tweede factor voor dit account: stel die eerst in op /account/two-factor.
two-factor-required-by-policy = Het beleid vereist een tweede factor voor uw account; die kan niet uit.
two-factor-policy = Tweestapsverificatie is verplicht voor
two-factor-policy-off = niemand (iedereen mag haar aanzetten)
two-factor-policy-coordinators = coördinatoren
two-factor-policy-sensitive = coördinatoren, en iedereen die TLP:AMBER+STRICT of TLP:RED leest
two-factor-policy-set = Opslaan
two-factor-policy-unknown = Onbekend beleid: gebruik off, coordinators of sensitive.
users-two-factor = Tweestaps
users-two-factor-on = aan
users-two-factor-remove = Tweede factor verwijderen
code-two_factor_enabled = tweede factor ingesteld
code-two_factor_removed = tweede factor verwijderd
code-two_factor_policy = beleid tweestapsverificatie gewijzigd
