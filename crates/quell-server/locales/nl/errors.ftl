# Foutmeldingen op pagina's en in de `message` van de JSON-API.
error-internal = Interne fout (zie het serverlogboek).
api-internal = interne fout (zie het serverlogboek)
error-not-found = Niet gevonden.
error-log-in = Log eerst in.
error-line = regel { $line }: { $message }
error-coordinators-only = Deze pagina is voor coördinatoren.
error-org-page = Coördinatoren zien aantallen per organisatie, op het dashboard.
error-form-token = Het formuliertoken ontbreekt of klopt niet.
error-form-incomplete = Het formulier is niet compleet: { $detail }
error-unknown-scope = Onbekend bereik.
error-unknown-language = Onbekende taal.
api-send-bearer = stuur Authorization: Bearer <token>
api-unknown-token = onbekend of ingetrokken token
api-upload-only = dit token mag alleen rapporten uploaden
api-coordinators-only = alleen voor coördinatoren
api-org-data = dit zijn gegevens van een organisatie zelf: coördinatoren zien aantallen per organisatie, niet haar hosts
api-log-in = log in
api-admins-only = alleen voor beheerders van de organisatie
api-coordinator-upload = een coördinator hoort bij geen organisatie: upload met het token van een organisatie
error-managers-only = Deze pagina is voor beheerders van organisaties en coördinatoren.

# De eigen weigeringen van de server in de `message` van de API (en op pagina's waar ze verschijnen).
api-report-inflates = het rapport wordt uitgepakt groter dan { $max } bytes
api-line-too-long = de regel is langer dan { $max } bytes
api-record-after-summary = er volgt een record op de samenvatting (regel { $at }); de samenvatting moet als laatste komen
api-not-scan-record = geen scanrecord: { $detail }
api-too-many-records = meer dan { $max } records in één rapport
api-no-summary = het rapport heeft geen samenvatting (de laatste regel van een scanrapport)
api-summary-findings = de samenvatting telt { $counted } bevindingen, maar het rapport bevat er { $held }
api-summary-components = de samenvatting telt { $counted } componenten, maar het rapport bevat er { $held }
api-summary-host = de host van de samenvatting, { $summary }, verschilt van ?host={ $query }
api-summary-no-host = de samenvatting noemt geen host: upload met een recente quell of voeg ?host=NAAM toe
api-host-name = de hostnaam moet 1 tot { $max } bytes lang zijn, zonder stuurtekens
api-finished-at = finished_at { $text } is geen RFC 3339-tijd
api-upload-inflates = de upload wordt uitgepakt groter dan { $max } bytes
api-not-gzip = de inhoud is geen geldige gzip: { $detail }
api-not-json = de inhoud is geen JSON: { $detail }
api-version-twice = geef de versie in de purl (@2.14.1) of als range=, niet allebei
api-sbom-system = noem de host of applicatie: ?system=NAAM (de SBOM noemt geen onderwerp)
api-system-name = de naam van het systeem moet 1 tot { $max } bytes lang zijn, zonder stuurtekens
api-indicator-line-too-long = lines[{ $index }]: langer dan { $raw } bytes (raw) of { $file } (file)
api-coordinators-see-counts = coördinatoren zien aantallen per organisatie (/api/v1/orgs), niet hun hosts
api-not-rfc3339 = { $what } { $text } is geen RFC 3339-tijd
api-time-out-of-range = { $what } { $text } ligt vóór 2000 of in de toekomst
api-pack-no-versions = detectiepakket { $pack } noemt geen getroffen versies voor de CVE's van dit advies
api-log-in-progress = log in om de voortgang te zien
api-if-match-disagree = If-Match en base_revision spreken elkaar tegen
api-base-revision-required = de basisrevisie is verplicht (de header If-Match of het veld base_revision)
api-components-purl = geef purl=pkg:maven/GROEP/ARTEFACT (en eventueel range=vers:maven/...)
api-no-pack-keys = deze server neemt geen detectiepakketten aan: start quell serve met --pack-public-key
api-no-pack-named = er is nooit een detectiepakket met de naam { $name } geüpload
api-no-host-sharing = deze organisatie deelt haar hostnamen niet
api-role = de rol moet coordinator, admin of member zijn
api-audit-readers = alleen coördinatoren en beheerders van organisaties lezen het auditlog
api-import-needs-tlp = /document/distribution/tlp/label ontbreekt of is onbekend: een import heeft een TLP-label nodig
api-access-token = het toegangstoken is één regel van hoogstens { $max } bytes
api-forward-tlp = een doorgestuurd advies is TLP:{ $tlp } of strenger
api-name-target-group = noem minstens één doelgroep
