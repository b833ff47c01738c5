# Weigeringen van de pure crates (quell-advisory, quell-registry) en van de opslag, per
# machinecode (crate::refusals koppelt elke variant aan een van deze berichten).

# De namen van velden die een weigering noemt (`field-<naam>`; genummerde krijgen $i, de index,
# en $n, de plaats vanaf 1).
field-title = de titel
field-summary = de samenvatting
field-consequences = de gevolgen
field-solution = de oplossing
field-revision-note = de versienotitie
field-translation-title = de vertaalde titel
field-translation-summary = de vertaalde samenvatting
field-translation-consequences = de vertaalde gevolgen
field-translation-solution = de vertaalde oplossing
field-products-supplier = de leverancier van product { $n }
field-products-product = de productnaam van product { $n }
field-products-versions = de versies van product { $n }
field-components-range = de versies van component { $n }
field-references = referentie { $n }
field-chance = kans
field-damage = schade
field-the-group-name = de naam van de doelgroep
field-note = de notitie
field-name = de naam
field-phone = het telefoonnummer
field-email = het e-mailadres
field-measure = een maatregel
field-reason = een reden
field-justification = een onderbouwing
field-the-organisation-name = de naam van de organisatie
field-the-e-mail-address = het e-mailadres
field-the-token-name = de naam van het token
field-supplier = de leverancier
field-product = het product
field-purl = de purl
field-cpe = de CPE
field-notes = de notities
field-result = het resultaat
field-decision = het besluit
field-organisation = organisatie
field-target-group = doelgroep
field-user = gebruiker

# De inhoud van een beveiligingsadvies (quell_advisory::Invalid).
invalid-required = { $field } is verplicht
invalid-too-long = { $field } is langer dan { $max } bytes
invalid-control-characters = { $field } bevat stuurtekens
invalid-language = de taal (lang) moet een van { $languages } zijn, niet { $lang }
invalid-translation-language = de taal van de vertaling (translation.lang) moet de andere taal zijn dan { $original }, niet { $lang }
invalid-title-one-line = de titel mag maar één regel zijn
invalid-translated-title-one-line = de vertaalde titel mag maar één regel zijn
invalid-too-many-cves = hoogstens { $max } CVE's
invalid-not-cve = { $cve } is geen CVE-nummer zoals CVE-2021-44228
invalid-cve-twice = { $cve } staat er twee keer in
invalid-too-many-products = hoogstens { $max } producten
invalid-too-many-components = hoogstens { $max } componenten
invalid-component = component { $n }: { $detail }
invalid-component-version-twice = component { $n }: geef de versie in de purl of bij de versies, niet allebei
invalid-too-many-references = hoogstens { $max } referenties
invalid-not-url = referentie { $n } is geen http(s)-URL: { $url }
invalid-override-reason = een handmatig aangepaste { $which } vraagt om een geschreven reden
invalid-override-reason-too-long = de reden voor de aangepaste { $which } is langer dan { $max } bytes
invalid-prefix = het voorvoegsel van adviezen bestaat uit 1 tot { $max } hoofdletters of cijfers en begint met een letter: { $prefix }
invalid-identifier = geen kenmerk van een beveiligingsadvies (PREFIX-JJJJ-NNNN): { $text }
invalid-version = geen versie van een beveiligingsadvies zoals 1.00: { $text }
invalid-csaf = geen geldig CSAF 2.0-document: { $problem }
csaf-no-document = /document ontbreekt
csaf-missing = { $pointer } ontbreekt
csaf-version = /document/csaf_version moet 2.0 zijn
csaf-no-revision-history = /document/tracking/revision_history ontbreekt of is leeg
csaf-needs-vulnerabilities = een csaf_security_advisory heeft /vulnerabilities nodig
csaf-needs-product-tree = een csaf_security_advisory heeft /product_tree nodig
csaf-not-cve = /vulnerabilities/{ $index }/cve is geen CVE-nummer
csaf-undefined-product = /vulnerabilities/{ $index }/product_status noemt product { $product }, dat niet is gedefinieerd

# De regels van het productregister (quell_registry::RuleBroken).
rule-supplier-empty = de leverancier is leeg
rule-product-empty = het product is leeg
rule-no-source-link = minstens één bronlink (een verklaring van de leverancier) is verplicht
rule-link-not-url = link { $link } is geen http(s)-URL
rule-not-cve = { $cve } is geen CVE-nummer (CVE-JJJJ-NNNN)
rule-fix-without-version = { $cve }: de status 'oplossing beschikbaar' vraagt om een uitgebrachte versie met de oplossing (zonder is het een workaround)
rule-purl = purl { $purl } begint niet met pkg:
rule-cpe = CPE { $cpe } begint niet met cpe:
rule-separator = ;{" "}

# De opslag (quell_store::Refusal).
refusal-bad-name = { $what } moet 1 tot { $max } bytes lang zijn, zonder stuurtekens
refusal-password-too-short = een wachtwoord moet minstens { $min } tekens hebben
refusal-email-needs-at = het e-mailadres moet een @ bevatten
refusal-coordinator-without-org = een coördinator hoort bij geen organisatie
refusal-member-needs-org = een beheerder of lid hoort bij een organisatie: kies er een
refusal-org-id-required = org_id is verplicht
refusal-org-exists = er bestaat al een organisatie met de naam { $name }
refusal-user-exists = er bestaat al een gebruiker { $email }
refusal-add-users = alleen beheerders van organisaties en coördinatoren voegen gebruikers toe
refusal-list-users = alleen beheerders van organisaties en coördinatoren zien de gebruikers
refusal-manage-accounts = alleen beheerders van organisaties en coördinatoren beheren accounts
refusal-own-account = u kunt uw eigen account niet uitschakelen of verwijderen
refusal-wrong-password = het huidige wachtwoord klopt niet
refusal-own-password-reset = wijzig uw eigen wachtwoord met uw huidige wachtwoord
refusal-two-factor-policy = alleen coördinatoren stellen het beleid voor tweestapsverificatie in
refusal-second-factor-exists = er is al een tweede factor ingesteld: verwijder die eerst
refusal-no-enrolment = er is geen instelling om te bevestigen (of die code is al gebruikt)
refusal-own-second-factor = zet uw eigen tweede factor uit met een geldige code
refusal-sso-unknown-org = de organisatie { $name } bestaat hier niet
refusal-sso-no-org = de provider noemt geen organisatie voor dit account
refusal-account-disabled = dit account is uitgeschakeld
refusal-sso-other-org = de provider noemt een andere organisatie dan die van dit account: een beheerder moet het account verplaatsen
refusal-too-many-recipients = hoogstens { $max } ontvangers
refusal-no-recipient = ontvangers: { $what } { $id } bestaat niet
refusal-too-many-members = hoogstens { $max } leden
refusal-no-target-group = doelgroep { $id } bestaat niet
refusal-group-cycle = doelgroep { $id } bevat deze doelgroep (direct of via andere): dat zou een kringloop worden
refusal-no-organisation = organisatie { $id } bestaat niet
refusal-group-exists = er bestaat al een doelgroep met de naam { $name }
refusal-group-name-taken = een andere doelgroep heeft die naam al
refusal-version-published = versie { $version } is gepubliceerd en verandert niet meer: maak een nieuwe versie
refusal-still-draft = versie { $version } is nog een concept: bewerk of publiceer die eerst
refusal-concurrent-version = tegelijkertijd is al een andere nieuwe versie begonnen
refusal-nothing-to-publish = er is niets te publiceren: de nieuwste versie is al gepubliceerd
refusal-publish-needs-product = publiceren kan pas met minstens één getroffen product of component
refusal-published-meanwhile = deze versie is intussen gepubliceerd
refusal-not-one-of = { $field } moet een van deze zijn: { $allowed }
refusal-decision-needs = het besluit '{ $decision_name }' vraagt om { $what }
refusal-risk-accepted-expiry = een besluit risk_accepted vraagt om een einddatum (expires_at) in de toekomst
refusal-webhook-url = de webhook-URL moet een http(s)-URL zijn
refusal-contact-one-line = contactgegevens zijn elk één regel
refusal-already-imported = { $tracking_id } versie { $version } van { $publisher } is al geïmporteerd
refusal-subscribed = u bent al geabonneerd op { $url }
refusal-entry-exists = vermelding { $other } heeft al deze leverancier en dit product ({ $supplier } / { $product })
refusal-entry-exists-merge = vermelding { $other } heeft al deze leverancier en dit product ({ $supplier } / { $product }): voeg de twee samen
refusal-entry-just-created = er is zojuist een vermelding voor { $supplier } / { $product } gemaakt
refusal-entry-changed = vermelding { $id } is gewijzigd sinds revisie { $revision } (of samengevoegd): laad haar opnieuw en breng uw wijziging opnieuw aan
refusal-merged-entry-changed = vermelding { $id } is gewijzigd sinds revisie { $revision }
refusal-already-merged = een van de vermeldingen is al samengevoegd
refusal-changed-since-seen = een vermelding is gewijzigd sinds de revisie die u zag
refusal-merge-into-itself = een vermelding kan niet met zichzelf worden samengevoegd
refusal-unknown-status = onbekende status { $status } (verwacht: vulnerable, fix, workaround, not_vulnerable of under_investigation)
refusal-not-cve = { $text } is geen CVE-nummer (CVE-JJJJ-NNNN)
refusal-product-required = leverancier en product zijn verplicht (of een entry_id)
refusal-propose-on-merged = vermelding { $id } is samengevoegd met vermelding { $target }: doe uw voorstel daar
refusal-proposal-state = voorstel { $id } is al { $state_name }
refusal-reason-required = een reden is verplicht
refusal-proposal-decided = over voorstel { $id } is al besloten
refusal-confirmation-answered = verzoek om bevestiging { $id } is al beantwoord

# De `message` van weigeringen in de API, na de soort.
api-conflict = conflict: { $message }
api-forbidden = geweigerd: { $message }
api-unauthorized = inloggen vereist: { $message }
api-not-found = niet gevonden: { $message }
api-too-many = te veel verzoeken: { $message }

# Ondertekende detectiepakketten (quell_packs::signed::SignatureError).
pack-unsigned = niet ondertekend: er kwam geen minisign-handtekening mee met het detectiepakket
pack-malformed = onleesbare handtekening: { $why }
pack-wrong-key = ondertekend met een andere sleutel: sleutel-id { $signed_by }, maar de vastgepinde sleutel is { $pinned } (onderteken opnieuw met de vastgepinde sleutel, of pin ook de nieuwe publieke sleutel)
pack-bad-signature = ongeldige handtekening: het detectiepakket of het vertrouwde commentaar is na het ondertekenen gewijzigd (gemanipuleerd)
pack-no-expiry = geen vervaldatum: het vertrouwde commentaar { $comment } heeft geen { $key }<RFC 3339-tijd> (onderteken met -t "quell-pack expires=2027-03-01T00:00:00Z")
pack-bad-expiry = ongeldige vervaldatum: { $key }{ $value } is geen RFC 3339-tijd (2027-03-01T00:00:00Z)
pack-expired = verlopen: de handtekening was geldig tot { $expires_at }; onderteken het detectiepakket opnieuw met een latere vervaldatum
pack-invalid = ondertekend, maar geen geldig detectiepakket: { $errors }

# OpenPGP-sleutels voor versleutelde e-mail, en webhook-URL's (de eigen controles van de server).
key-no-encryption-subkey = de sleutel heeft geen subsleutel voor versleuteling (vlaggen: encrypt communications of storage)
key-secret-register-public = dit is een geheime sleutel: registreer alleen de publieke sleutel (gpg --armor --export)
key-not-armored-public = geen ASCII-armored publieke OpenPGP-sleutel: { $detail }
key-self-signatures = de eigen handtekeningen van de sleutel kloppen niet: { $detail }
key-file-too-large = een sleutelbestand is hoogstens { $max } bytes
webhook-start-https = de webhook-URL moet met https:// beginnen
webhook-use-https = de webhook-URL moet https gebruiken (er worden beveiligingsadviezen naartoe gestuurd)
webhook-https-url = de webhook-URL moet een https-URL zijn
webhook-credentials = de webhook-URL mag geen gebruikersnaam of wachtwoord bevatten
webhook-no-host = de webhook-URL noemt geen host
webhook-private = de webhook-URL wijst naar een loopback-, privé- of link-local-adres ({ $ip })

# Wat niet gevonden is (quell_store::Missing).
missing-thing = { $what } { $id }
missing-advisory-version = beveiligingsadvies { $advisory } versie { $version }
missing-not-affected-system = { $system } is geen getroffen systeem van dit beveiligingsadvies
missing-no-supplier-org = geen organisatie op dit platform spreekt voor { $supplier }
missing-no-pack = geen geldig detectiepakket met de naam { $name }
missing-no-org-named = geen organisatie met de naam { $name }
missing-no-user-email = geen gebruiker { $email }
missing-user-or-disabled = gebruiker { $id } (of het account is uitgeschakeld)
missing-reset-link = deze herstellink is onbekend, al gebruikt of verlopen: vraag uw beheerder om een nieuwe
thing-advisory = beveiligingsadvies
thing-imported-advisory = overgenomen beveiligingsadvies
thing-call-list-entry = regel van de belronde
thing-target-group = doelgroep
thing-subscription = abonnement
thing-host = host
thing-report = rapport
thing-user = gebruiker
thing-organisation = organisatie
thing-registry-entry = registervermelding
thing-confirmation-request = bevestigingsverzoek
thing-product = product
thing-notification = melding
thing-proposal = voorstel
not-found-openpgp-key = OpenPGP-sleutel { $file }
not-found-csaf-folder = CSAF-map { $folder }
not-found-csaf-directory = CSAF-map { $dir }
not-found-csaf-unsigned = { $file }.asc: deze aanbieder ondertekent niet
not-found-no-published-version = beveiligingsadvies { $id } heeft geen gepubliceerde versie
not-found-supplier-entries = geen registervermeldingen van leverancier { $supplier }
not-found-sso-off = single sign-on is op deze server niet ingesteld ({ $path })

# Package-URL's en versiebereiken die niet te lezen zijn (quell_model::purl, quell_model::vers).
purl-error = geen package-URL: { $problem } (schrijf pkg:TYPE/NAMESPACE/NAAM[@VERSIE], bijvoorbeeld pkg:maven/org.apache.commons/commons-text)
purl-bad-escape = onjuiste procent-codering in { $text }
purl-invalid-utf8 = { $text } decodeert tot ongeldige UTF-8
purl-too-long = langer dan { $max } bytes
purl-control-characters = er staan stuurtekens in
purl-no-scheme = { $text } heeft geen pkg:-schema
purl-no-type = { $text } heeft geen type
purl-not-a-type = type { $kind } is geen purl-type
purl-no-name = { $text } heeft geen naam
purl-maven-shape = { $text }: een Maven-purl is pkg:maven/GROEP/ARTEFACT
purl-empty-version = { $text } heeft een lege versie
vers-error = geen versiebereik: { $text }{ $problem } (schrijf vers:maven/>=2.0|<2.17.1, [2.0,2.17.1), 2.0..<2.17.1, één versie of *)
vers-no-scheme = vers: heeft een schema nodig, bijvoorbeeld vers:maven/>=1.0
vers-scheme-not-purl-type = het vers-schema is geen purl-type
vers-too-many-constraints = meer dan { $max } voorwaarden
vers-empty-constraint = een lege voorwaarde
vers-star-not-alone = * moet de enige voorwaarde zijn
vers-no-version = { $part } heeft geen versie
vers-twice = versie { $version } staat er twee keer in
vers-two-lower-bounds = twee ondergrenzen volgen elkaar op (grenzen moeten afwisselen)
vers-two-upper-bounds = twee bovengrenzen volgen elkaar op (grenzen moeten afwisselen)
vers-maven-start = een Maven-bereik begint met [ of (
vers-maven-not-closed = een Maven-bereik is niet afgesloten met ] of )
vers-trailing-comma = een komma aan het eind
vers-maven-separator = Maven-bereiken worden door komma's gescheiden
vers-too-many-ranges = meer dan { $max } bereiken
vers-one-version-brackets = één versie schrijft u als [V]
vers-two-bounds = een bereik heeft twee grenzen
vers-lower-above-upper = de ondergrens ligt boven de bovengrens
vers-too-long = langer dan { $max } bytes
vers-empty = leeg
vers-white-space = spaties of stuurtekens in een versie
vers-control-characters = stuurtekens
vers-not-pack-range = geen LO..HI-bereik
vers-not-one-version = niet één versie
