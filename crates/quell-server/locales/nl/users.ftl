# Accounts beheren, het eigen wachtwoord, links om een wachtwoord opnieuw in te stellen, het auditlog.
nav-users = Accounts
nav-audit = Auditlog
nav-password = Uw wachtwoord wijzigen
users-title = Accounts
users-pick-org = Kies een organisatie:
users-email = E-mailadres
users-role = Rol
users-state = Status
users-active = actief
users-disabled = geblokkeerd
users-enable = Deblokkeren
users-disable = Blokkeren
users-remove = Verwijderen
users-reset = Herstellink
users-reset-issued = Eenmalige link om het wachtwoord van { $email } opnieuw in te stellen, geldig tot { $expires }, alleen nu getoond:
users-reset-emailed = De link is naar de eigenaar van het account gemaild.
users-reset-not-emailed = De link is niet gemaild: geef hem zelf aan de eigenaar, via een kanaal dat u vertrouwt.
password-title = Uw wachtwoord wijzigen
password-current = Huidig wachtwoord
password-new = Nieuw wachtwoord (minstens { $min } tekens)
password-repeat = Nieuw wachtwoord nogmaals
password-change = Wachtwoord wijzigen
password-mismatch = De twee nieuwe wachtwoorden verschillen.
password-wrong-current = Het huidige wachtwoord klopt niet.
password-too-short = Een wachtwoord moet minstens { $min } tekens hebben.
reset-title = Nieuw wachtwoord instellen
reset-for = Een nieuw wachtwoord voor { $email }. Alle sessies van het account worden beëindigd; log daarna in.
reset-submit = Wachtwoord instellen
reset-gone = Deze herstellink is onbekend, al gebruikt of verlopen. Vraag uw beheerder om een nieuwe.
reset-mail-subject = quell: nieuw wachtwoord instellen
reset-mail-text =
    Een beheerder heeft een link voor u aangemaakt om een nieuw wachtwoord voor quell in te stellen:

    { $url }

    De link werkt één keer, tot { $expires }. Verwachtte u deze niet, meld het dan aan uw beheerder.
audit-title = Auditlog
audit-all = alle acties
audit-filter = Tonen
audit-export-csv = Exporteren als CSV
audit-export-jsonl = Exporteren als JSON-regels
audit-at = Wanneer
audit-actor = Wie
audit-action = Actie
audit-target = Wat
audit-detail = Details
audit-older = Oudere gebeurtenissen
code-login = ingelogd
code-login_failed = mislukte inlogpoging
code-account_created = account aangemaakt
code-account_disabled = account geblokkeerd
code-account_enabled = account gedeblokkeerd
code-account_removed = account verwijderd
code-password_changed = wachtwoord gewijzigd
code-password_reset_issued = herstellink aangemaakt
code-password_reset = wachtwoord opnieuw ingesteld
code-advisory_read = beveiligingsadvies gelezen
code-advisory_exported = beveiligingsadvies geëxporteerd
code-advisory_delivered = beveiligingsadvies afgeleverd
code-inventory_read = inventaris ingezien
code-inventory_exported = inventaris geëxporteerd
